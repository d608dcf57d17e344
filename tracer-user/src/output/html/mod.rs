//! The HTML report: one self-contained page (no network, nothing loaded from anywhere) with the
//! header, the crate × kind matrix with its behaviours, the process tree and a timeline.
//!
//! Nothing from the trace becomes markup. The page is a fixed skeleton, a fixed script and a fixed
//! style sheet (`page.js`, `page.css`, both allowed by hash in a strict Content-Security-Policy)
//! and one JSON data block; the script puts every string into the page as text. In the data
//! block `<`, `>` and `&` are written as JSON escapes, so no string can end the block early.
//! The page embeds the aggregated report and the notable part of the process tree, never raw
//! events, so its size follows the number of distinct behaviours, not of events.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Judgement, escape::human as h, human::verdict::finding, matrix::Shade, rows, text};
use crate::{
    aggregate::processes::ProcessNode,
    model::{FindingKind, Kind, Phase},
    policy::eval::{BehaviorVerdict, Outcome},
};

const CSS: &str = include_str!("page.css");
const JS: &str = include_str!("page.js");

/// Processes and timeline rows kept in the page (a larger build says how many were left out).
const MAX_PROCESSES: usize = 5000;
const MAX_SPANS: usize = 2000;

#[derive(Serialize)]
struct Data {
    header: Header,
    kinds: Vec<&'static str>,
    phases: Vec<&'static str>,
    outcomes: Vec<&'static str>,
    crates: Vec<CrateData>,
    processes: Vec<Proc>,
    processes_left_out: usize,
    timeline: Vec<Span>,
    timeline_left_out: usize,
}

#[derive(Serialize)]
struct Header {
    command: String,
    result: &'static str,
    complete: bool,
    incomplete: Vec<String>,
    events: u64,
    lost: u64,
    exit: u8,
    exit_meaning: String,
    crates: usize,
    policy: Vec<String>,
    /// The events file and its SHA-256, when known.
    events_file: Option<String>,
}

#[derive(Serialize)]
struct CrateData {
    name: String,
    source: String,
    behaviors: Vec<Behaviour>,
}

#[derive(Serialize)]
struct Behaviour {
    kind: &'static str,
    phase: &'static str,
    target: String,
    count: u64,
    ok: u64,
    outcome: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    chain: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    explained_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suggestion: Option<String>,
}

#[derive(Serialize)]
struct Proc {
    id: usize,
    parent: Option<usize>,
    pid: u32,
    name: String,
    #[serde(rename = "crate")]
    owner: String,
    phase: &'static str,
    /// Colour of its crate (an index into the page's palette).
    hue: usize,
    notable: Vec<String>,
    more: u64,
}

#[derive(Serialize)]
struct Span {
    label: String,
    phase: &'static str,
    start: u64,
    end: u64,
    /// Notable behaviours of the process.
    did: u64,
}

fn behaviour(b: &BehaviorVerdict) -> Behaviour {
    Behaviour {
        kind: b.behavior.kind.as_str(),
        phase: b.behavior.phase.as_str(),
        target: h(&b.behavior.target).into_owned(),
        count: b.behavior.count,
        ok: b.behavior.succeeded,
        outcome: match b.outcome {
            Outcome::Confirmed => Outcome::Allowed.as_str(),
            o => o.as_str(),
        },
        chain: text::chain(&b.behavior.example_chain),
        explained_by: b.explained_by.as_ref().map(finding),
        allowed_by: b
            .allowed_by
            .as_ref()
            .map(|r| format!("{}:{} ({})", h(&r.file), r.line, h(&r.reason))),
        suggestion: b.suggestion.as_ref().map(super::toml::allow_entry),
    }
}

fn crates(j: &Judgement<'_>) -> Vec<CrateData> {
    let mut by_crate: BTreeMap<(String, String), Vec<Behaviour>> = BTreeMap::new();
    for b in &j.verdict.behaviors {
        by_crate
            .entry((b.name.clone(), b.version.clone()))
            .or_default()
            .push(behaviour(b));
    }
    for f in &j.verdict.findings {
        let (Outcome::Dormant, FindingKind::Does(kind)) = (f.outcome, f.finding.kind) else {
            continue;
        };
        by_crate
            .entry((f.name.clone(), f.version.clone()))
            .or_default()
            .push(Behaviour {
                kind: kind.as_str(),
                phase: f.finding.phase.as_str(),
                target: h(f.finding.target.as_deref().unwrap_or(&f.finding.reason)).into_owned(),
                count: 0,
                ok: 0,
                outcome: Outcome::Dormant.as_str(),
                chain: String::new(),
                explained_by: Some(format!(
                    "{}:{}: {} (not observed in this run)",
                    h(&f.finding.location.file),
                    f.finding.location.line,
                    h(&f.finding.reason)
                )),
                allowed_by: None,
                suggestion: None,
            });
    }
    let mut out = Vec::new();
    for c in &j.report.crates {
        let key = (c.package.name.clone(), c.package.version.clone());
        let mut behaviors = by_crate.remove(&key).unwrap_or_default();
        for r in &c.routine {
            behaviors.push(Behaviour {
                kind: r.kind.as_str(),
                phase: r.phase.as_str(),
                target: "(own sources, OUT_DIR, toolchain)".into(),
                count: r.count,
                ok: r.count,
                outcome: Shade::Routine.as_str(),
                chain: String::new(),
                explained_by: None,
                allowed_by: None,
                suggestion: None,
            });
        }
        out.push(CrateData {
            name: format!("{}@{}", h(&c.package.name), h(&c.package.version)),
            source: h(&c.package.source).into_owned(),
            behaviors,
        });
    }
    // What no crate of the report holds: unattributed behaviour.
    for ((name, version), behaviors) in by_crate {
        out.push(CrateData {
            name: if version.is_empty() {
                h(&name).into_owned()
            } else {
                format!("{}@{}", h(&name), h(&version))
            },
            source: String::new(),
            behaviors,
        });
    }
    // Most suspicious first, as the matrix ranks them.
    let order: BTreeMap<&str, usize> = j
        .matrix
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.krate.as_str(), i))
        .collect();
    out.sort_by_key(|c| {
        (
            order.get(c.name.as_str()).copied().unwrap_or(usize::MAX),
            c.name.clone(),
        )
    });
    out
}

fn processes(nodes: &[ProcessNode]) -> (Vec<Proc>, usize) {
    let mut hues: BTreeMap<&str, usize> = BTreeMap::new();
    let kept: Vec<Proc> = nodes
        .iter()
        .take(MAX_PROCESSES)
        .map(|n| {
            let next = hues.len();
            let hue = *hues.entry(n.owner.as_str()).or_insert(next) % 10;
            let mut notable: Vec<String> = n
                .notable
                .iter()
                .map(|(k, t)| format!("{k} {}", h(t)))
                .collect();
            notable.extend(
                n.proc_macros
                    .iter()
                    .map(|m| format!("ran proc macro {}", h(&m.owner))),
            );
            Proc {
                id: n.id,
                // Parents come first in the list: a kept node's parent is kept.
                parent: n.parent,
                pid: n.pid,
                name: h(&n.name).into_owned(),
                owner: h(&n.owner).into_owned(),
                phase: n.phase.as_str(),
                hue,
                notable,
                more: n.more,
            }
        })
        .collect();
    (kept, nodes.len().saturating_sub(MAX_PROCESSES))
}

fn timeline(nodes: &[ProcessNode]) -> (Vec<Span>, usize) {
    let last = nodes
        .iter()
        .map(|n| n.end_ns.unwrap_or(n.start_ns))
        .max()
        .unwrap_or(0);
    let mut spans = Vec::new();
    for n in nodes {
        let end = n.end_ns.unwrap_or(last);
        let did = n.notable.len() as u64 + n.more;
        if n.starts_phase
            && matches!(
                n.phase,
                Phase::BuildScript | Phase::Test | Phase::Run | Phase::Compile
            )
        {
            spans.push(Span {
                label: format!("{} {} ({})", h(&n.owner), n.phase, h(&n.name)),
                phase: n.phase.as_str(),
                start: n.start_ns,
                end,
                did,
            });
        }
        for m in &n.proc_macros {
            spans.push(Span {
                label: format!("{} in {}", h(&m.owner), h(&n.owner)),
                phase: Phase::ProcMacro.as_str(),
                start: m.start_ns,
                end,
                did: 0,
            });
        }
    }
    spans.sort_by_key(|s| (s.start, s.end));
    let left_out = spans.len().saturating_sub(MAX_SPANS);
    spans.truncate(MAX_SPANS);
    (spans, left_out)
}

/// A JSON text that can sit inside a `<script type="application/json">` element: no `<`
/// (so no `</script>` or `<!--`), `>` or `&` left as such.
fn embeddable_json(v: &impl Serialize) -> String {
    // Serialising plain data (strings, numbers, lists) cannot fail.
    let json = serde_json::to_string(v).unwrap_or_else(|_| "{}".into());
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            // Line separators are valid in JSON strings; escaped too, to be safe in any parser.
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

fn sha256(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
}

/// The Content-Security-Policy of the page: nothing may load; only our script and style run.
pub fn content_security_policy() -> String {
    format!(
        "default-src 'none'; script-src 'sha256-{}'; style-src 'sha256-{}'; img-src 'none'; \
         base-uri 'none'; form-action 'none'",
        sha256(JS),
        sha256(CSS)
    )
}

/// The page.
pub fn render(j: &Judgement<'_>) -> String {
    let r = j.report;
    let (processes, processes_left_out) = processes(&r.processes);
    let (timeline, timeline_left_out) = timeline(&r.processes);
    let data = Data {
        header: Header {
            command: h(&r.command.join(" ")).into_owned(),
            result: rows::result(j.verdict),
            complete: j.verdict.incomplete.is_empty(),
            incomplete: j
                .verdict
                .incomplete
                .iter()
                .map(|i| rows::incomplete(i, |d| h(d).into_owned()))
                .collect(),
            events: r.events,
            lost: r.lost_events,
            exit: j.exit.code(),
            exit_meaning: j.exit.meaning(),
            crates: r.crates.len(),
            policy: j.policy_sources.iter().map(|p| h(p).into_owned()).collect(),
            events_file: j
                .events
                .as_ref()
                .map(|e| format!("{} (sha256 {})", h(&e.path), e.sha256)),
        },
        kinds: j.matrix.kinds.iter().map(|k| Kind::as_str(*k)).collect(),
        phases: Phase::ALL.iter().map(|p| p.as_str()).collect(),
        outcomes: Shade::ALL.iter().map(|s| s.as_str()).collect(),
        crates: crates(j),
        processes,
        processes_left_out,
        timeline,
        timeline_left_out,
    };
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>cargo-tracer report</title>\n<style>{CSS}</style>\n</head>\n<body>\n\
         <header id=\"header\"></header>\n<main>\n\
         <noscript><p>This report is drawn by its script; allow JavaScript for this file.</p></noscript>\n\
         <section><h2>Crates × behaviour</h2><div class=\"filters\" id=\"filters\"></div>\
         <div id=\"matrix-box\"></div><div id=\"details\" class=\"details hidden\"></div></section>\n\
         <section><h2>Process tree</h2><div class=\"tree\" id=\"tree\"></div></section>\n\
         <section><h2>Timeline</h2><div class=\"timeline\" id=\"timeline\"></div></section>\n\
         </main>\n<script type=\"application/json\" id=\"report-data\">{data}</script>\n\
         <script>{JS}</script>\n</body>\n</html>\n",
        csp = content_security_policy(),
        data = embeddable_json(&data),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_cannot_close_its_script_element() {
        let hostile = vec![
            "</script><script>alert(1)</script>",
            "<!--",
            "a&b>c",
            "\u{2028}",
        ];
        let json = embeddable_json(&hostile);
        assert!(!json.contains('<') && !json.contains('>') && !json.contains('&'));
        let back: Vec<String> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, hostile);
    }

    #[test]
    fn the_policy_allows_exactly_the_page_script_and_style() {
        let csp = content_security_policy();
        assert!(csp.starts_with("default-src 'none';"));
        assert!(csp.contains(&format!("'sha256-{}'", sha256(JS))));
        assert!(!csp.contains("unsafe"));
        // sha256 of "abc", base64 (FIPS 180-2 test vector).
        assert_eq!(
            sha256("abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }
}
