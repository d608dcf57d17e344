//! Arbitrary trace files: read (refused, or read with what damage it shows), attributed,
//! reported, judged against the shipped defaults, and rendered for people without panic; the
//! human output never has a line a CI runner would take for a workflow command (nor an escape
//! sequence of its own), and the HTML page no element the trace chose.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracer::{
    output,
    policy::{self, eval::evaluate, levels::Levels},
    report,
    trace::jsonl,
};

fuzz_target!(|data: &[u8]| {
    let Ok(t) = jsonl::read_bytes(data) else {
        return;
    };
    let Some(r) = report::from_trace(&t, true) else {
        return;
    };
    // The shipped defaults, loaded once.
    static RULES: std::sync::OnceLock<Vec<policy::Rule>> = std::sync::OnceLock::new();
    let rules = RULES.get_or_init(|| {
        policy::load(std::path::Path::new("/nonexistent"), &[], None)
            .map(|l| l.rules)
            .unwrap_or_default()
    });
    let v = evaluate(
        &r,
        rules,
        None,
        &Default::default(),
        &Levels::default(),
        tracer::check::incompleteness(&t, &r, true),
    );
    let j = output::Judgement::new(&r, &v, &[], tracer::check::Exit::Command(0), None);
    let detail = output::Detail {
        verbose: true,
        quiet: false,
    };
    let text = output::style::strip(&output::render(output::Format::Human, &j, detail));
    for line in text.lines() {
        assert!(!line.trim_start().starts_with("::"), "{line:?}");
        assert!(!line.contains('\u{1b}'), "{line:?}");
    }
    let html = output::render(output::Format::Html, &j, detail);
    let data = html.split("id=\"report-data\">").nth(1).unwrap_or("");
    let data = data.split("</script>").next().unwrap_or("");
    assert!(!data.contains('<'), "the data block holds markup");
    assert!(serde_json::from_str::<serde_json::Value>(data).is_ok());
    for f in [output::Format::Json, output::Format::Markdown, output::Format::Sarif] {
        let _ = output::render(f, &j, detail);
    }
    let _ = output::toml::suggestion_file(&policy::suggest::suggest(&r));
});
