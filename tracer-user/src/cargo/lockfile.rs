//! Where each package is in `Cargo.lock`: the line of its `[[package]]` entry. A dependency's
//! annotation on a pull request belongs there — the lock file line the update changed — since
//! its own sources are not in the repository.

use std::{collections::HashMap, path::Path};

use toml_span::Value;

use crate::{model::PackageKey, policy::diag::LineIndex};

/// The line of each package's entry in a lock file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LockLines(HashMap<PackageKey, usize>);

impl LockLines {
    /// The lock file at `path`; empty when it cannot be read or parsed (annotations then fall
    /// back to the manifest).
    pub fn read(path: &Path) -> Self {
        std::fs::read_to_string(path)
            .map(|t| Self::parse(&t))
            .unwrap_or_default()
    }

    /// Cargo.lock's text: `[[package]]` tables with `name` and `version`.
    pub fn parse(text: &str) -> Self {
        let Ok(root) = toml_span::parse(text) else {
            return Self::default();
        };
        let lines = LineIndex::new(text);
        let field = |t: &toml_span::value::Table<'_>, key: &str| {
            t.iter()
                .find(|(k, _)| k.name == key)
                .and_then(|(k, v)| Some((k.span.start, v.as_str()?.to_string())))
        };
        let mut out = HashMap::new();
        let packages = root
            .as_table()
            .and_then(|t| t.iter().find(|(k, _)| k.name == "package"))
            .and_then(|(_, v)| v.as_array());
        for p in packages.into_iter().flatten().filter_map(Value::as_table) {
            if let (Some((at, name)), Some((_, version))) = (field(p, "name"), field(p, "version"))
            {
                out.entry(PackageKey::new(name, version))
                    .or_insert(lines.line_col(at).0);
            }
        }
        Self(out)
    }

    /// The line of `key`'s entry.
    pub fn line(&self, key: &PackageKey) -> Option<usize> {
        self.0.get(key).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_packages_name_line() {
        let text = "# generated\nversion = 4\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n\n[[package]]\nname = \"b\"\nversion = \"0.2.1\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
        let l = LockLines::parse(text);
        assert_eq!(l.line(&PackageKey::new("a", "1.0.0")), Some(5));
        assert_eq!(l.line(&PackageKey::new("b", "0.2.1")), Some(9));
        assert_eq!(l.line(&PackageKey::new("b", "0.2.2")), None);
        assert_eq!(LockLines::parse("[[package"), LockLines::default());
    }
}
