//! Allow entries written as TOML: the entry shown with a violation, and `policy suggest`'s
//! file. Values go through `toml_writer` as single-line basic strings, so any observed path —
//! quotes, backslashes, newlines, escape sequences — is one valid TOML string on one line (a
//! multi-line string would put the data at the start of a line of our output).

use toml_writer::{ToTomlValue, TomlStringBuilder};

use crate::{
    output::escape,
    policy::suggest::{AllowEntry, Suggestion},
};

/// A single-line basic string; characters that are invisible or turn text around are written
/// as `\u` escapes too (valid TOML, and visible when the entry is shown).
fn string(s: &str) -> String {
    let encoded = TomlStringBuilder::new(s).as_basic().to_toml_value();
    let mut out = String::with_capacity(encoded.len());
    for c in encoded.chars() {
        if escape::is_hidden(c) && (c as u32) > 0xffff {
            out.push_str(&format!("\\U{:08X}", c as u32));
        } else if escape::is_hidden(c) {
            out.push_str(&format!("\\u{:04X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// One `[[allow]]` entry, with a reason to fill in.
pub fn allow_entry(e: &AllowEntry) -> String {
    let mut out = String::from("[[allow]]\n");
    out.push_str(&format!("crate = {}\n", string(&e.krate)));
    out.push_str(&format!("phase = {}\n", string(e.phase.as_str())));
    out.push_str(&format!(
        "reason = {}\n",
        string(&format!("TODO: why {} needs this", e.krate))
    ));
    for (key, values) in &e.lists {
        let items: Vec<String> = values.iter().map(|v| string(v)).collect();
        out.push_str(&format!("{key} = [{}]\n", items.join(", ")));
    }
    out
}

/// A `tracer.toml` allowing what the suggestion names; what no entry can name is listed in
/// comments.
pub fn suggestion_file(s: &Suggestion) -> String {
    let mut out = String::from(
        "# Suggested by `cargo tracer policy suggest` from an observed build. Review every entry:\n\
         # narrow paths to globs where the crate writes many files, and say why in each `reason`.\n",
    );
    for e in &s.entries {
        out.push('\n');
        out.push_str(&allow_entry(e));
    }
    if !s.unrepresentable.is_empty() {
        out.push_str("\n# No entry can allow these (they stay violations):\n");
        for (krate, b) in &s.unrepresentable {
            out.push_str(&format!(
                "# {} {} {} {}\n",
                escape::human(krate),
                b.phase,
                b.kind,
                escape::human(&b.target)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{model::Phase, policy::suggest::AllowKey};

    #[test]
    fn any_observed_value_stays_one_valid_string_on_one_line() {
        let odd = "$OUT_DIR/a\"b\\c\u{1b}[2J\n::error::x'd";
        let e = AllowEntry {
            krate: "x".into(),
            phase: Phase::BuildScript,
            lists: [(AllowKey::Write, vec![odd.to_string()])].into(),
        };
        let text = allow_entry(&e);
        assert_eq!(text.lines().count(), 5, "{text}");
        let mut v = toml_span::parse(&text).unwrap();
        let write = v.pointer_mut("/allow/0/write/0").unwrap();
        assert_eq!(write.as_str(), Some(odd), "{text}");
    }
}
