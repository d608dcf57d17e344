//! Paths rewritten with placeholders (`$OUT_DIR/…`, `$HOME/…`) so a report reads the same on
//! every machine and a policy can name them.

/// Ordered prefixes; the longest match wins.
#[derive(Debug, Clone, Default)]
pub struct Placeholders {
    prefixes: Vec<(String, &'static str)>,
}

impl Placeholders {
    /// `(name, directory)` pairs; empty directories are ignored.
    pub fn new<'a>(pairs: impl IntoIterator<Item = (&'static str, &'a str)>) -> Self {
        let mut prefixes: Vec<(String, &'static str)> = pairs
            .into_iter()
            .filter(|(_, d)| !d.is_empty() && *d != "/")
            .map(|(n, d)| (d.trim_end_matches('/').to_string(), n))
            .collect();
        prefixes.sort_by_key(|(d, _)| std::cmp::Reverse(d.len()));
        Self { prefixes }
    }

    /// `path` with its longest known prefix replaced.
    pub fn apply(&self, path: &str) -> String {
        for (dir, name) in &self.prefixes {
            if path == dir {
                return name.to_string();
            }
            if let Some(rest) = path.strip_prefix(dir.as_str())
                && rest.starts_with('/')
            {
                return format!("{name}{rest}");
            }
        }
        path.to_string()
    }

    /// True if `path` is exactly one of the directories named `name`.
    pub fn is_exactly(&self, name: &str, path: &str) -> bool {
        self.prefixes.iter().any(|(d, n)| *n == name && d == path)
    }

    /// True if `path` is `dir` or below it, for the directory named `name`.
    pub fn is_under(&self, name: &str, path: &str) -> bool {
        self.prefixes
            .iter()
            .filter(|(_, n)| *n == name)
            .any(|(d, _)| {
                path == d
                    || path
                        .strip_prefix(d.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins_and_partial_names_do_not_match() {
        let p = Placeholders::new([
            ("$HOME", "/home/u"),
            ("$WORKSPACE", "/home/u/proj"),
            ("$CARGO_MANIFEST_DIR", "/home/u/proj/crates/a"),
            ("$TMPDIR", ""),
        ]);
        assert_eq!(
            p.apply("/home/u/proj/crates/a/build.rs"),
            "$CARGO_MANIFEST_DIR/build.rs"
        );
        assert_eq!(p.apply("/home/u/proj/Cargo.lock"), "$WORKSPACE/Cargo.lock");
        assert_eq!(p.apply("/home/u/.ssh/id_rsa"), "$HOME/.ssh/id_rsa");
        assert_eq!(p.apply("/home/user2/x"), "/home/user2/x");
        assert_eq!(p.apply("/home/u"), "$HOME");
        assert!(p.is_under("$WORKSPACE", "/home/u/proj/x"));
        assert!(!p.is_under("$WORKSPACE", "/home/u/projx"));
    }

    #[test]
    fn on_a_tie_the_first_named_wins() {
        let p = Placeholders::new([("$WORKSPACE", "/r/ws"), ("$REPO_ROOT", "/r/ws")]);
        assert_eq!(p.apply("/r/ws/.git/HEAD"), "$WORKSPACE/.git/HEAD");
        let p = Placeholders::new([("$WORKSPACE", "/r/ws"), ("$REPO_ROOT", "/r")]);
        assert_eq!(p.apply("/r/.git/HEAD"), "$REPO_ROOT/.git/HEAD");
        assert_eq!(p.apply("/r/ws/src"), "$WORKSPACE/src");
    }
}
