//! Every stage after the kernel, without root: the golden traces (`tests/golden/<case>/`, real
//! builds of the fixtures recorded with the probes) go through attribution, the report, the
//! recorded scan, the verdict and every renderer, and the outputs are compared with snapshots.

use std::{
    io::BufReader,
    path::{Path, PathBuf},
};

use serde_json::Value;
use tracer::{
    analysis::{graph::Graph, scan::ScanReport},
    policy::{
        self,
        eval::{Levels, evaluate},
    },
    report::{self, Report, TraceInfo, load::Trace},
};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

struct Case {
    name: &'static str,
    /// The workspace in the repository the case was recorded from.
    fixture: PathBuf,
}

fn cases() -> Vec<Case> {
    let f = |n: &str| repo().join("tests/fixtures").join(n);
    vec![
        Case {
            name: "attribution-build",
            fixture: f("attribution"),
        },
        Case {
            name: "attribution-test",
            fixture: f("attribution"),
        },
        Case {
            name: "policy-build",
            fixture: f("policy"),
        },
        Case {
            name: "demo-build",
            fixture: repo().join("demo"),
        },
    ]
}

struct Loaded {
    trace: Trace,
    report: Report,
    graph: Graph,
    scan: ScanReport,
}

fn load(case: &Case, verbose: bool) -> Loaded {
    let dir = repo().join("tests/golden").join(case.name);
    let bytes = std::fs::read(dir.join("trace.jsonl.zst")).unwrap();
    let text = zstd::decode_all(&bytes[..]).unwrap();
    let trace = Trace::read(BufReader::new(&text[..])).unwrap();
    let ctx = trace.context.clone().unwrap();
    let start = trace.start.as_ref().unwrap();
    let end = trace.end.as_ref();
    let info = TraceInfo {
        command: start.command.clone(),
        exit_code: end.and_then(|e| e.exit_code),
        complete: end.is_some_and(|e| e.complete),
        lost_events: end.map(|e| e.lost.total() + e.decode_errors).unwrap_or(0),
        proc_macro_probes: start.proc_macro_probes,
    };
    let report = report::from_trace(
        &trace.events,
        &trace.cargo_messages,
        &ctx,
        start.root_pid,
        &info,
        verbose,
    );
    let meta: Value =
        serde_json::from_slice(&std::fs::read(dir.join("metadata.json")).unwrap()).unwrap();
    let graph = Graph::from_metadata(&meta).unwrap();
    let scan: ScanReport =
        serde_json::from_slice(&std::fs::read(dir.join("scan.json")).unwrap()).unwrap();
    Loaded {
        trace,
        report,
        graph,
        scan,
    }
}

/// Machine-specific paths in outputs (the policy files are read from the repository).
fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(repo().join("tracer-user/tests/snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s
}

/// `text` with the repository's location (it differs between machines) as `[repo]`.
fn portable(text: String) -> String {
    text.replace(&repo().display().to_string(), "[repo]")
}

fn pretty(v: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(v).unwrap()
}

#[test]
fn every_output_of_every_golden_trace_matches_its_snapshot() {
    let settings = settings();
    let _guard = settings.bind_to_scope();
    for case in cases() {
        let l = load(&case, false);
        let n = case.name;
        let r = &l.report;
        insta::assert_snapshot!(
            format!("{n}.report"),
            portable(report::human::render(r, false))
        );
        insta::assert_snapshot!(format!("{n}.report.json"), portable(pretty(r)));
        if n == "demo-build" {
            // The verbose report lists every routine behaviour (hundreds of kilobytes): its head
            // shows the layout.
            let verbose = report::human::render(&load(&case, true).report, true);
            let head: Vec<&str> = verbose.lines().take(400).collect();
            insta::assert_snapshot!(format!("{n}.report-verbose"), portable(head.join("\n")));
        }

        // The policy: the fixture's own files (as in the repository) and the shipped defaults.
        let recorded_ws = l.graph.workspace_root.clone();
        let manifests: Vec<PathBuf> = l
            .graph
            .local_manifests()
            .iter()
            .map(|m| case.fixture.join(m.strip_prefix(&recorded_ws).unwrap()))
            .collect();
        let policy = policy::load(&case.fixture, &manifests, None).unwrap();
        let s = l.trace.end.as_ref().unwrap();
        let mut incomplete = Vec::new();
        if !s.complete {
            incomplete.push(format!("{} events were lost", s.lost.total()));
        }
        let deps = l.graph.dependency_keys();
        let verdict = evaluate(
            r,
            &policy.rules,
            Some(&l.scan),
            &deps,
            &Levels::default(),
            incomplete.clone(),
        );
        insta::assert_snapshot!(
            format!("{n}.verdict"),
            portable(policy::render::human(&verdict))
        );
        insta::assert_snapshot!(
            format!("{n}.verdict.md"),
            portable(policy::render::markdown(&verdict, &r.command))
        );
        let dir = |name: &str, version: &str| {
            l.graph
                .packages
                .iter()
                .find(|p| p.name == name && p.version == version)
                .map(|p| p.manifest_dir.display().to_string())
        };
        insta::assert_snapshot!(
            format!("{n}.verdict.sarif"),
            portable(pretty(&policy::render::sarif(
                &verdict,
                &l.graph.workspace_root.display().to_string(),
                dir
            )))
        );
        let mut build = serde_json::to_value(r).unwrap();
        build["verdict"] = serde_json::to_value(&verdict).unwrap();
        build["policy_sources"] = serde_json::to_value(&policy.sources).unwrap();
        insta::assert_snapshot!(format!("{n}.build.json"), portable(pretty(&build)));

        let unscanned = evaluate(
            r,
            &policy.rules,
            None,
            &deps,
            &Levels::default(),
            incomplete,
        );
        insta::assert_snapshot!(
            format!("{n}.verdict-no-scan"),
            portable(policy::render::human(&unscanned))
        );

        insta::assert_snapshot!(
            format!("{n}.scan"),
            portable(tracer::analysis::human::render(&l.scan, false))
        );
        let by_id = |id: &str| {
            l.graph
                .packages
                .iter()
                .find(|p| p.id == id)
                .map(|p| p.manifest_dir.display().to_string())
                .unwrap_or_default()
        };
        insta::assert_snapshot!(
            format!("{n}.scan.sarif"),
            portable(pretty(&tracer::analysis::sarif::render(&l.scan, by_id)))
        );
        insta::assert_snapshot!(
            format!("{n}.suggest"),
            portable(policy::suggest::suggest(r))
        );
    }

    // What is new in a build compared with a test run of one member.
    let old = serde_json::to_value(load(&cases()[1], false).report).unwrap();
    let new = serde_json::to_value(load(&cases()[0], false).report).unwrap();
    let lines: Vec<String> = policy::suggest::diff(&old, &new)
        .into_iter()
        .map(|(k, p, kind, t)| format!("new: {k} {p} {kind} {t}"))
        .collect();
    insta::assert_snapshot!("diff", portable(lines.join("\n")));
}
