//! Arbitrary policy files: every mistake a diagnostic (rendered), or rules that judge a report
//! (the demo's) without panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracer::{
    policy::{config, diag, eval::evaluate, levels::Levels},
    report::Report,
};

/// A real report to judge: the demo's, from its golden snapshot (read once).
fn report() -> &'static Report {
    static R: std::sync::OnceLock<Report> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        let snap = include_str!("../../tests/snapshots/demo-build.report.json.snap");
        let json = snap.splitn(3, "---\n").nth(2).unwrap_or("{}");
        serde_json::from_str(json).expect("the demo's report")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match config::parse(text, "fuzz.toml", &[]) {
        Ok(Some(p)) => {
            let _ = evaluate(
                report(),
                &p.rules,
                None,
                &Default::default(),
                &Levels::default(),
                Vec::new(),
            );
        }
        Ok(None) => {}
        Err(mut d) => {
            let _ = diag::render_all("fuzz.toml", text, &mut d);
        }
    }
});
