//! Paths rewritten with placeholders (`$OUT_DIR/…`, `$HOME/…`) so a report reads the same on
//! every machine and a policy can name them.

use crate::model::Placeholder;

/// Ordered prefixes; the longest match wins.
#[derive(Debug, Clone, Default)]
pub struct Placeholders {
    prefixes: Vec<(String, Placeholder)>,
}

impl Placeholders {
    /// `(name, directory)` pairs; empty directories are ignored, the others normalised as the
    /// targets are (`/tmp//x/` names `/tmp/x`).
    pub fn new<'a>(pairs: impl IntoIterator<Item = (Placeholder, &'a str)>) -> Self {
        let mut prefixes: Vec<(String, Placeholder)> = pairs
            .into_iter()
            .filter(|(_, d)| !d.is_empty())
            .map(|(n, d)| (super::normalize(d), n))
            .filter(|(d, _)| d != "/")
            .collect();
        prefixes.sort_by_key(|(d, _)| std::cmp::Reverse(d.len()));
        Self { prefixes }
    }

    /// `path` with its longest known prefix replaced.
    pub fn apply(&self, path: &str) -> String {
        for (dir, name) in &self.prefixes {
            if path == dir {
                return name.as_str().to_string();
            }
            if let Some(rest) = path.strip_prefix(dir.as_str())
                && rest.starts_with('/')
            {
                return format!("{}{rest}", name.as_str());
            }
        }
        path.to_string()
    }

    /// The name of the longest known directory `path` is in (the one [`Self::apply`] writes).
    pub fn nearest(&self, path: &str) -> Option<Placeholder> {
        self.prefixes
            .iter()
            .find(|(d, _)| {
                path == d
                    || path
                        .strip_prefix(d.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            })
            .map(|(_, n)| *n)
    }

    /// True if `path` is exactly one of the directories named `name`.
    pub fn is_exactly(&self, name: Placeholder, path: &str) -> bool {
        self.prefixes.iter().any(|(d, n)| *n == name && d == path)
    }

    /// True if `path` is `dir` or below it, for the directory named `name`.
    pub fn is_under(&self, name: Placeholder, path: &str) -> bool {
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
    use crate::model::Placeholder::*;

    #[test]
    fn longest_prefix_wins_and_partial_names_do_not_match() {
        let p = Placeholders::new([
            (Home, "/home/u"),
            (Workspace, "/home/u/proj"),
            (CargoManifestDir, "/home/u/proj/crates/a"),
            (TmpDir, ""),
        ]);
        assert_eq!(
            p.apply("/home/u/proj/crates/a/build.rs"),
            "$CARGO_MANIFEST_DIR/build.rs"
        );
        assert_eq!(p.apply("/home/u/proj/Cargo.lock"), "$WORKSPACE/Cargo.lock");
        assert_eq!(p.apply("/home/u/.ssh/id_rsa"), "$HOME/.ssh/id_rsa");
        assert_eq!(p.apply("/home/user2/x"), "/home/user2/x");
        assert_eq!(p.apply("/home/u"), "$HOME");
        let odd = Placeholders::new([(Home, "/tmp//a/./b/")]);
        assert_eq!(odd.apply("/tmp/a/b/x"), "$HOME/x");
        assert!(p.is_under(Workspace, "/home/u/proj/x"));
        assert!(!p.is_under(Workspace, "/home/u/projx"));
    }

    #[test]
    fn on_a_tie_the_first_named_wins() {
        let p = Placeholders::new([(Workspace, "/r/ws"), (RepoRoot, "/r/ws")]);
        assert_eq!(p.apply("/r/ws/.git/HEAD"), "$WORKSPACE/.git/HEAD");
        let p = Placeholders::new([(Workspace, "/r/ws"), (RepoRoot, "/r")]);
        assert_eq!(p.apply("/r/.git/HEAD"), "$REPO_ROOT/.git/HEAD");
        assert_eq!(p.apply("/r/ws/src"), "$WORKSPACE/src");
    }
}
