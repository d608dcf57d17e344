//! The escaping rules as oracles, for any string: nothing hidden and no workflow command for
//! people, a Markdown code span that the data cannot close, and TOML that reads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracer::{
    model::Phase,
    output::{escape, toml},
    policy::suggest::{AllowEntry, AllowKey},
};

fuzz_target!(|s: &str| {
    let h = escape::human(s);
    assert!(!h.chars().any(escape::is_hidden), "{h:?}");
    assert!(!h.trim_start_matches(' ').starts_with("::"), "{h:?}");
    assert!(!h.contains("##["), "{h:?}");
    let code = escape::markdown_code(s, true);
    let fence = code.chars().take_while(|c| *c == '`').count();
    if !code.is_empty() {
        let inner = &code[fence..code.len() - fence];
        assert!(!inner.contains(&"`".repeat(fence)), "{code:?}");
    }
    let e = AllowEntry {
        krate: "x".into(),
        phase: Phase::BuildScript,
        lists: [(AllowKey::Read, vec![s.to_string()])].into(),
    };
    let text = toml::allow_entry(&e);
    assert_eq!(text.lines().count(), 5, "{text}");
    let v = toml_span::parse(&text).expect("valid TOML");
    assert_eq!(
        v.pointer("/allow/0/read/0").and_then(|v| v.as_str()),
        Some(s)
    );
});
