//! Allow entries written as TOML (`toml_edit`): the entry shown with a violation, and `policy
//! suggest`'s file. A serializer, not string formatting, so a path with quotes, backslashes or
//! control characters is still one valid TOML string.

use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, value};

use crate::policy::suggest::AllowEntry;

/// One `[[allow]]` entry, with a reason to fill in.
pub fn allow_entry(e: &AllowEntry) -> String {
    let mut t = Table::new();
    t.insert("crate", value(&e.krate));
    t.insert("phase", value(e.phase.as_str()));
    t.insert("reason", value(format!("TODO: why {} needs this", e.krate)));
    for (key, values) in &e.lists {
        let mut a = Array::new();
        for v in values {
            a.push(v.as_str());
        }
        t.insert(key.as_str(), value(a));
    }
    let mut entries = ArrayOfTables::new();
    entries.push(t);
    let mut doc = DocumentMut::new();
    doc.insert("allow", Item::ArrayOfTables(entries));
    doc.to_string()
}

/// A `tracer.toml` allowing what `entries` name.
pub fn suggestion_file(entries: &[AllowEntry]) -> String {
    let mut s = String::from(
        "# Suggested by `cargo tracer policy suggest` from an observed build. Review every entry:\n\
         # narrow paths to globs where the crate writes many files, and say why in each `reason`.\n",
    );
    for e in entries {
        s.push('\n');
        s.push_str(&allow_entry(e));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{model::Phase, policy::suggest::AllowKey};

    #[test]
    fn any_observed_value_stays_one_valid_string() {
        let odd = "$OUT_DIR/a\"b\\c\u{1b}[2J\nd";
        let e = AllowEntry {
            krate: "x".into(),
            phase: Phase::BuildScript,
            lists: [(AllowKey::Write, vec![odd.to_string()])].into(),
        };
        let text = allow_entry(&e);
        let parsed: toml_edit::DocumentMut = text.parse().unwrap();
        assert_eq!(parsed["allow"][0]["write"][0].as_str(), Some(odd), "{text}");
    }
}
