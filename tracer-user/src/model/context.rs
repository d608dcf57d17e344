//! The directories of a build that reports name by placeholder, recorded with its trace so the
//! trace can be judged again later, elsewhere.

use serde::{Deserialize, Serialize};

/// Where things were, for one traced build.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildContext {
    pub workspace_root: String,
    /// The git work tree containing the workspace, when there is one and it lies above it
    /// (tools like shadow-rs run `git status`, which reads the whole work tree).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub repo_root: String,
    pub target_dir: String,
    pub home: String,
    pub cargo_home: String,
    pub tmpdir: String,
    /// Rustup's home (toolchains are read from it by every phase).
    #[serde(default)]
    pub rustup_home: String,
    /// Where cargo was started.
    #[serde(default)]
    pub cwd: String,
    /// Built in a private target directory (`--fresh`).
    pub fresh: bool,
    /// The directories above whose real path (symbolic links resolved, before the build ran)
    /// is not the path they are named by: the kernel names files by the real one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<Alias>,
}

/// A directory of the build as named, and as it really is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alias {
    pub named: String,
    pub real: String,
}

impl BuildContext {
    /// The build's common directories with the placeholder each is named by, in the order
    /// placeholders are tried (`$WORKSPACE` before `$REPO_ROOT`: it wins a tie). Empty ones are
    /// included; users of the list skip them.
    pub fn common_dirs(&self) -> [(super::Placeholder, &str); 6] {
        use super::Placeholder::*;
        [
            (TargetDir, &self.target_dir),
            (Workspace, &self.workspace_root),
            (RepoRoot, &self.repo_root),
            (CargoHome, &self.cargo_home),
            (Home, &self.home),
            (TmpDir, &self.tmpdir),
        ]
    }

    /// Learns the real path of each directory (run before the build, while nothing the build
    /// did can have moved them). `real_path` is `std::fs::canonicalize` outside tests.
    pub fn learn_aliases(&mut self, real_path: impl Fn(&str) -> Option<String>) {
        let mut named: Vec<String> = self
            .common_dirs()
            .iter()
            .map(|(_, d)| d.to_string())
            .chain([self.rustup_home.clone(), self.cwd.clone()])
            .filter(|d| d.starts_with('/'))
            .collect();
        named.sort();
        named.dedup();
        self.aliases = named
            .into_iter()
            .filter_map(|n| {
                let real = real_path(&n)?;
                (real != n).then_some(Alias { named: n, real })
            })
            .collect();
        // Longest real path first: the most specific directory names a path.
        self.aliases
            .sort_by(|a, b| b.real.len().cmp(&a.real.len()).then(a.real.cmp(&b.real)));
    }

    /// A path the kernel gave, in the names the build uses for its directories.
    pub fn named<'a>(&self, real: &'a str) -> std::borrow::Cow<'a, str> {
        for a in &self.aliases {
            if let Some(rest) = real.strip_prefix(a.real.as_str())
                && (rest.is_empty() || rest.starts_with('/'))
            {
                return format!("{}{rest}", a.named).into();
            }
        }
        real.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernels_real_paths_read_in_the_builds_names() {
        let mut c = BuildContext {
            workspace_root: "/home/u/w".into(),
            target_dir: "/home/u/w/target".into(),
            home: "/home/u".into(),
            tmpdir: "/tmp".into(),
            ..Default::default()
        };
        // /home is a link to /var/home, and the target dir a link to a faster disk.
        c.learn_aliases(|p| {
            Some(match p {
                "/home/u/w/target" => "/fast/t".into(),
                p if p.starts_with("/home/") => format!("/var{p}"),
                p => p.into(),
            })
        });
        assert_eq!(c.named("/var/home/u/w/src/lib.rs"), "/home/u/w/src/lib.rs");
        assert_eq!(c.named("/fast/t/debug/x"), "/home/u/w/target/debug/x");
        assert_eq!(c.named("/var/home/u/.ssh/id_rsa"), "/home/u/.ssh/id_rsa");
        // Only whole names: `/fast/tmp` is not under `/fast/t`.
        assert_eq!(c.named("/fast/tmp/x"), "/fast/tmp/x");
        assert_eq!(c.named("/etc/passwd"), "/etc/passwd");
    }
}
