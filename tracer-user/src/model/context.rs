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
}
