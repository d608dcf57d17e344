// cargo-tracer's HTML report. Everything shown comes from the JSON in #report-data and goes
// into the page as text nodes (textContent, never innerHTML): the strings were chosen by the
// code being judged. The page loads nothing else (the Content-Security-Policy forbids it).
"use strict";

const data = JSON.parse(document.getElementById("report-data").textContent);
// Most severe first, as the matrix colours a cell by the worst outcome in it.
const OUTCOMES = data.outcomes;
const NOT_ALLOWED = ["unexpected", "violation", "dormant"];
const state = { hide: new Set(), crate: "", kind: "", phase: "", q: "", sel: "" };

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k === "on") for (const [ev, f] of Object.entries(v)) e.addEventListener(ev, f);
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
  return e;
}

function readHash() {
  const p = new URLSearchParams(location.hash.replace(/^#/, ""));
  state.hide = new Set((p.get("hide") || "").split(",").filter((x) => OUTCOMES.includes(x)));
  state.crate = p.get("crate") || "";
  state.kind = p.get("kind") || "";
  state.phase = p.get("phase") || "";
  state.q = p.get("q") || "";
  // The open cell, `crate|kind`: a link can point at one behaviour list.
  state.sel = p.get("sel") || "";
}

function writeHash() {
  const p = new URLSearchParams();
  if (state.hide.size) p.set("hide", [...state.hide].join(","));
  for (const k of ["crate", "kind", "phase", "q", "sel"]) if (state[k]) p.set(k, state[k]);
  history.replaceState(null, "", "#" + p.toString());
}

// Whether behaviour `b` of crate `c` passes the filters.
function visible(c, b) {
  if (state.hide.has(b.outcome)) return false;
  if (state.kind && b.kind !== state.kind) return false;
  if (state.phase && b.phase !== state.phase) return false;
  if (state.crate && !c.name.toLowerCase().includes(state.crate.toLowerCase())) return false;
  if (state.q) {
    const q = state.q.toLowerCase();
    if (!(b.target.toLowerCase().includes(q) || c.name.toLowerCase().includes(q) || (b.chain || "").toLowerCase().includes(q))) return false;
  }
  return true;
}

function header() {
  const h = data.header;
  const status = !h.complete ? "incomplete" : h.result === "FAILED" ? "failed" : "passed";
  const box = document.getElementById("header");
  box.replaceChildren(
    el("h1", {}, "cargo-tracer report"),
    el("div", { class: "status " + status, id: "result" },
      h.complete ? "result: " + h.result : "INCOMPLETE TRACE — result: " + h.result),
    el("div", { class: "meta mono" }, h.command),
    el("div", { class: "meta" },
      `${h.events} events, ${h.lost} lost; exit ${h.exit} (${h.exit_meaning}); ${h.crates} crates`),
    ...h.incomplete.map((r) => el("div", { class: "meta" }, "incomplete: " + r)),
    el("div", { class: "meta" }, "policy: " + (h.policy.length ? h.policy.join(", ") : "none")),
    h.events_file ? el("div", { class: "meta mono" }, "events: " + h.events_file) : null,
  );
}

function filters() {
  const box = document.getElementById("filters");
  const check = (o) => {
    const input = el("input", { type: "checkbox", id: "show-" + o, "data-outcome": o });
    input.checked = !state.hide.has(o);
    input.addEventListener("change", () => {
      if (input.checked) state.hide.delete(o); else state.hide.add(o);
      update();
    });
    return el("label", {}, input, " " + o);
  };
  const select = (id, values, key) => {
    const s = el("select", { id }, el("option", { value: "" }, "all " + key + "s"),
      values.map((v) => el("option", { value: v }, v)));
    s.value = state[key];
    s.addEventListener("change", () => { state[key] = s.value; update(); });
    return s;
  };
  const text = (id, key, placeholder) => {
    const i = el("input", { type: "search", id, placeholder });
    i.value = state[key];
    i.addEventListener("input", () => { state[key] = i.value; update(); });
    return i;
  };
  box.replaceChildren(
    ...OUTCOMES.map(check),
    select("kind-filter", data.kinds, "kind"),
    select("phase-filter", data.phases, "phase"),
    text("crate-filter", "crate", "crate"),
    text("search", "q", "search targets, crates, processes"),
  );
}

function matrix() {
  const table = el("table", { class: "matrix", id: "matrix" },
    el("thead", {}, el("tr", {}, el("th", { class: "crate" }, "crate"), data.kinds.map((k) => el("th", {}, k)))));
  const body = el("tbody");
  for (const c of data.crates) {
    const shown = c.behaviors.filter((b) => visible(c, b));
    const row = el("tr", { "data-crate": c.name });
    if (!shown.length) row.classList.add("hidden");
    row.appendChild(el("td", { class: "crate" }, c.name));
    for (const k of data.kinds) {
      const inKind = shown.filter((b) => b.kind === k);
      // Behaviours per outcome; routine counts accesses (it is summarised per phase).
      const counts = {};
      for (const b of inKind) counts[b.outcome] = (counts[b.outcome] || 0) + (b.outcome === "routine" ? b.count : 1);
      const worst = OUTCOMES.find((o) => counts[o]);
      if (!worst) { row.appendChild(el("td", { class: "cell empty" }, "·")); continue; }
      const label = OUTCOMES.filter((o) => counts[o]).map((o) => `${counts[o]} ${o}`).join(", ");
      const more = OUTCOMES.filter((o) => counts[o]).length > 1 ? "+" : "";
      const open = () => { state.sel = c.name + "|" + k; writeHash(); details(c, k); matrixRows(); };
      row.appendChild(el("td", {
        class: "cell c-" + worst, title: label, "data-kind": k, tabindex: "0",
        on: { click: open, keydown: (e) => { if (e.key === "Enter") open(); } },
      }, String(counts[worst]) + more));
    }
    body.appendChild(row);
  }
  table.appendChild(body);
  // Filters come from the link too: say what they hide that is not allowed.
  let hidden = 0;
  for (const c of data.crates) {
    for (const b of c.behaviors) {
      if (NOT_ALLOWED.includes(b.outcome) && !visible(c, b)) hidden += 1;
    }
  }
  const banner = hidden
    ? el("div", { class: "banner", id: "hidden-banner" },
      `${hidden} behaviours not allowed are hidden by the filters`)
    : null;
  document.getElementById("matrix-box").replaceChildren(...[banner, table].filter((x) => x));
}

function matrixRows() {
  const crate = state.sel.split("|")[0];
  for (const r of document.querySelectorAll("#matrix tbody tr")) {
    r.classList.toggle("selected", r.getAttribute("data-crate") === crate);
  }
}

// Opens the cell the hash names, if it is there.
function openSelected() {
  const [crate, kind] = state.sel.split("|");
  const c = data.crates.find((x) => x.name === crate);
  if (c && data.kinds.includes(kind)) { details(c, kind); matrixRows(); }
}

function details(c, kind) {
  const rows = c.behaviors.filter((b) => b.kind === kind && visible(c, b));
  const box = document.getElementById("details");
  box.classList.remove("hidden");
  box.replaceChildren(
    el("h2", { id: "details-title" }, `${c.name} — ${kind}`),
    el("div", { class: "muted mono" }, c.source),
    el("table", {},
      el("tr", {}, ["outcome", "phase", "target", "count", "ok", "process chain", "why"].map((t) => el("th", {}, t))),
      rows.map((b) => el("tr", { class: "behavior" },
        el("td", {}, el("span", { class: "badge b-" + b.outcome }, b.outcome)),
        el("td", {}, b.phase),
        el("td", { class: "mono target" }, b.target),
        el("td", {}, String(b.count)),
        el("td", {}, String(b.ok)),
        el("td", { class: "mono" }, b.chain || ""),
        el("td", { class: "mono" },
          b.allowed_by ? "allowed by " + b.allowed_by : "",
          b.explained_by ? el("div", {}, "static finding: " + b.explained_by) : null,
          b.suggestion ? el("pre", {}, b.suggestion) : null),
      )),
    ),
  );
}

function tree() {
  const byParent = new Map();
  for (const p of data.processes) {
    const parent = p.parent === null || p.parent === undefined ? -1 : p.parent;
    if (!byParent.has(parent)) byParent.set(parent, []);
    byParent.get(parent).push(p);
  }
  const node = (p) => {
    const kids = byParent.get(p.id) || [];
    const summary = el("summary", { class: "proc k" + p.hue, "data-pid": String(p.pid) },
      el("span", { class: "mono name" }, `${p.name}[${p.pid}]`),
      el("span", { class: "who" }, p.crate),
      el("span", { class: "phase ph-" + p.phase }, p.phase));
    const notable = p.notable.length
      ? el("ul", {}, p.notable.map((n) => el("li", { class: "mono" }, n)),
        p.more ? el("li", { class: "muted" }, `and ${p.more} more`) : null)
      : null;
    // Open down to the build scripts and tests; their helpers stay folded.
    const attrs = p.phase === "cargo" || p.phase === "compile" || kids.length < 8 ? { open: "" } : {};
    return el("details", attrs, summary, notable, kids.map(node));
  };
  const roots = byParent.get(-1) || [];
  const box = document.getElementById("tree");
  box.replaceChildren(...roots.map(node));
  if (data.processes_left_out) box.appendChild(el("div", { class: "muted" }, `${data.processes_left_out} more processes left out`));
}

function timeline() {
  const rows = data.timeline;
  const box = document.getElementById("timeline");
  if (!rows.length) { box.replaceChildren(el("div", { class: "muted" }, "nothing to show")); return; }
  const t0 = Math.min(...rows.map((r) => r.start));
  const t1 = Math.max(...rows.map((r) => r.end));
  const span = Math.max(1, t1 - t0);
  box.replaceChildren(...rows.map((r) => {
    const ms = ((r.end - r.start) / 1e6).toFixed(1);
    const bar = el("div", { class: "bar " + r.phase, title: `${r.phase}, ${ms} ms, ${r.did} notable behaviours` });
    // Through the CSSOM: the Content-Security-Policy allows no inline style attributes.
    bar.style.left = `${(100 * (r.start - t0)) / span}%`;
    bar.style.width = `${Math.max(0.2, (100 * (r.end - r.start)) / span)}%`;
    return el("div", { class: "row" }, el("div", { class: "label", title: r.label }, r.label),
      el("div", { class: "track" }, bar));
  }));
  if (data.timeline_left_out) box.appendChild(el("div", { class: "muted" }, `${data.timeline_left_out} more left out`));
}

function update() {
  state.sel = "";
  writeHash();
  matrix();
  document.getElementById("details").classList.add("hidden");
}

readHash();
header();
filters();
matrix();
openSelected();
tree();
timeline();
