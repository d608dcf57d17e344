//! The escaping rules, for any input (property tests): a string from a trace can never write a
//! line of its own, control the terminal or start a CI workflow command in the output for
//! people; renders as literal text in Markdown; and is the same string after a TOML round trip.

use proptest::prelude::*;
use pulldown_cmark::{Event, Options, Parser, Tag};
use tracer::{
    model::{Kind, Phase},
    output::{escape, toml},
    policy::suggest::{AllowEntry, AllowKey},
};

/// Strings that lean towards what is hard: controls, bidi marks, backticks, pipes, colons,
/// backslashes, markup, next to plain text.
fn nasty() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\n".to_string()),
        Just("\r".to_string()),
        Just("\x1b[2J".to_string()),
        Just("\u{202e}".to_string()),
        Just("\u{2028}".to_string()),
        Just("::error::".to_string()),
        Just("##[error]".to_string()),
        Just("`".to_string()),
        Just("``".to_string()),
        Just("|".to_string()),
        Just("\\".to_string()),
        Just("<img src=x onerror=alert(1)>".to_string()),
        Just("[a](http://x)".to_string()),
        Just("*_~".to_string()),
        Just(" ".to_string()),
        Just("\u{a0}".to_string()),
        "[a-z/.]{0,6}",
        any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec(piece, 0..8).prop_map(|v| v.concat())
}

fn hidden(c: char) -> bool {
    escape::is_hidden(c)
}

/// The text of a Markdown table cell (its code span), or why it is not just that.
fn cell_text(cell: &str) -> Result<String, String> {
    let doc = format!("| a |\n|---|\n| {cell} |\n");
    let mut text = String::new();
    let (mut in_cell, mut in_head) = (false, false);
    for e in Parser::new_ext(&doc, Options::ENABLE_TABLES) {
        match e {
            Event::Start(Tag::TableHead) => in_head = true,
            Event::End(pulldown_cmark::TagEnd::TableHead) => in_head = false,
            _ if in_head => {}
            Event::Start(Tag::TableCell) => in_cell = true,
            Event::End(pulldown_cmark::TagEnd::TableCell) => in_cell = false,
            Event::Code(c) if in_cell => text.push_str(&c),
            Event::Text(t) if !in_cell || t.trim().is_empty() => {}
            Event::Start(Tag::Table(_) | Tag::TableRow)
            | Event::End(pulldown_cmark::TagEnd::Table)
            | Event::End(pulldown_cmark::TagEnd::TableRow) => {}
            other => return Err(format!("{other:?} in {doc:?}")),
        }
    }
    Ok(text)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn for_people_nothing_hidden_and_no_workflow_command(s in nasty()) {
        let e = escape::human(&s);
        prop_assert!(!e.chars().any(hidden), "{e:?}");
        prop_assert!(!e.contains('\n') && !e.contains('\r'));
        prop_assert!(!e.trim_start_matches(' ').starts_with("::"), "{e:?}");
        prop_assert!(!e.contains("##["), "{e:?}");
        // However it is placed in a line of output.
        let line = format!("    {e}");
        prop_assert!(!line.trim_start().starts_with("::"));
    }

    #[test]
    fn in_markdown_the_data_is_the_literal_text_of_its_cell(s in nasty()) {
        let cell = escape::markdown_code(&s, true);
        let shown = cell_text(&cell).map_err(TestCaseError::fail)?;
        // What the cell shows is the data as the terminal shows it (hidden characters escaped).
        let want = escape::human(&s).to_string();
        let want = if want.trim().is_empty() { String::new() } else { want };
        prop_assert_eq!(shown.trim(), want.trim(), "cell {}", cell);
    }

    #[test]
    fn toml_values_read_back_unchanged_on_one_line(s in nasty()) {
        let e = AllowEntry {
            krate: s.clone(),
            phase: Phase::BuildScript,
            lists: [(AllowKey::Write, vec![s.clone()])].into(),
        };
        let text = toml::allow_entry(&e);
        prop_assert_eq!(text.lines().count(), 5, "{}", text);
        prop_assert!(!text.chars().any(|c| hidden(c) && c != '\n'), "{text:?}");
        let v = toml_span::parse(&text).map_err(|e| TestCaseError::fail(format!("{e:?}: {text}")))?;
        prop_assert_eq!(v.pointer("/allow/0/write/0").and_then(|v| v.as_str()), Some(s.as_str()));
        prop_assert_eq!(v.pointer("/allow/0/crate").and_then(|v| v.as_str()), Some(s.as_str()));
    }
}

#[test]
fn kinds_are_not_data() {
    // The renderers print kinds and phases unescaped: they are ours.
    for k in Kind::ALL {
        assert_eq!(escape::human(k.as_str()), k.as_str());
    }
}
