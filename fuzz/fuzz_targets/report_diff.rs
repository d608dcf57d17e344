//! Arbitrary JSON as a report: refused, or compared with a real one both ways, and suggested
//! from, without panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracer::{output, policy::suggest, report::Report};

fuzz_target!(|data: &[u8]| {
    let Ok(new) = serde_json::from_slice::<Report>(data) else {
        return;
    };
    static OLD: std::sync::OnceLock<Report> = std::sync::OnceLock::new();
    let old = OLD.get_or_init(|| {
        let snap = include_str!("../../tests/snapshots/demo-build.report.json.snap");
        serde_json::from_str(snap.splitn(3, "---\n").nth(2).unwrap_or("{}")).expect("a report")
    });
    let _ = output::human::diff::render(&suggest::diff(old, &new), "old");
    let _ = suggest::diff(&new, old);
    let _ = output::toml::suggestion_file(&suggest::suggest(&new));
    let _ = output::human::report::render(&new, false, &Default::default());
});
