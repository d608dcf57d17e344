//! Every stage after the kernel, without root: the golden traces (`tests/golden/<case>/`, real
//! builds of the fixtures recorded with the probes) go through attribution, the report, the
//! recorded scan, the verdict and every renderer, and each output is compared with its
//! snapshot (`tests/snapshots/`).

use tracer::{
    model::PackageKey,
    output::{self, json::CheckOutput},
    policy::{eval::evaluate, levels::Levels, suggest},
};
use tracer_test_support::repo;
use tracer_tests::golden::{self, CASES, Loaded};

/// `text` with the repository's location (it differs between machines) as `[repo]`.
fn portable(text: String) -> String {
    text.replace(&repo().display().to_string(), "[repo]")
}

fn pretty(v: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(v).unwrap()
}

fn load(name: &str, verbose: bool) -> Loaded {
    let case = CASES.iter().find(|c| c.name == name).unwrap();
    golden::load(case, &golden::committed_dir(case), verbose)
}

#[test]
fn every_output_of_every_golden_trace_matches_its_snapshot() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(repo().join("tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    let _guard = settings.bind_to_scope();
    for case in CASES {
        let n = case.name;
        let l = load(n, false);
        let r = &l.report;
        let m = output::matrix::Matrix::of(r, &l.verdict);
        let snap = |what: &str, text: String| {
            insta::assert_snapshot!(format!("{n}.{what}"), portable(text));
        };
        // As a pipe or a file shows it: without the styles.
        let plain = output::style::strip;
        snap(
            "report",
            plain(&output::human::report::render(r, false, &m)),
        );
        snap("report.json", pretty(r));
        if n == "demo-build" {
            // The verbose report lists every routine behaviour (hundreds of kilobytes): its
            // head shows the layout.
            let verbose = plain(&output::human::report::render(
                &load(n, true).report,
                true,
                &m,
            ));
            let head: Vec<&str> = verbose.lines().take(400).collect();
            snap("report-verbose", head.join("\n"));
        }
        let v = &l.verdict;
        snap("verdict", plain(&output::human::verdict::render(v)));
        snap(
            "verdict.md",
            output::markdown::verdict(v, &r.command, Some(&m)),
        );
        let dir = |k: &PackageKey| l.graph.get(k).map(|p| p.manifest_dir.display().to_string());
        let workspace = l.graph.workspace_root.display().to_string();
        snap(
            "verdict.sarif",
            pretty(&output::sarif::verdict::render(v, &workspace, dir)),
        );
        snap(
            "build.json",
            pretty(&CheckOutput {
                report: r,
                verdict: v,
                policy_sources: &l.policy.sources,
                events_file: None,
            }),
        );
        let unscanned = evaluate(
            r,
            &l.policy.rules,
            None,
            &l.graph.dependencies(),
            &Levels::default(),
            v.incomplete.clone(),
        );
        snap(
            "verdict-no-scan",
            plain(&output::human::verdict::render(&unscanned)),
        );
        snap("scan", output::human::scan::render(&l.scan, false));
        let by_id = |id: &str| {
            l.graph
                .packages
                .iter()
                .find(|p| p.id == id)
                .map(|p| p.manifest_dir.display().to_string())
                .unwrap_or_default()
        };
        snap(
            "scan.sarif",
            pretty(&output::sarif::scan::render(&l.scan, by_id)),
        );
        snap(
            "suggest",
            output::toml::suggestion_file(&suggest::suggest(r)),
        );
    }

    // What is new in a build compared with a test run of one member.
    let old = load("attribution-test", false).report;
    let new = load("attribution-build", false).report;
    let text = output::human::diff::render(&suggest::diff(&old, &new), "attribution-test");
    insta::assert_snapshot!("diff", portable(text));
}
