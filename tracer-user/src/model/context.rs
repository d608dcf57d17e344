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
