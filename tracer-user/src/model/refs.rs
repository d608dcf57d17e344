//! References from a verdict to what decided it: the policy rule that allowed a behaviour
//! (where it is written) and the static finding that explains it (where the code is).

use serde::{Deserialize, Serialize};

use super::{FindingKind, PackageKey};

/// An allow entry of a policy, by where it is written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RuleRef {
    /// The crate the entry is for.
    #[serde(rename = "crate")]
    pub krate: String,
    pub reason: String,
    /// The policy file (`default:policies/<crate>.toml` for a shipped default).
    pub file: String,
    /// 1-based line and column of the entry.
    pub line: usize,
    pub column: usize,
    /// Byte range of the entry in the file.
    pub span: (usize, usize),
}

impl RuleRef {
    /// A shipped default policy, not one of the project's.
    pub fn is_default(&self) -> bool {
        self.file.starts_with("default:")
    }
}

/// A static finding, by where its code is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FindingRef {
    /// The crate whose code it is.
    #[serde(rename = "crate")]
    pub package: PackageKey,
    /// The finding is in a dependency's library, not in the crate that acted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_dependency: bool,
    pub kind: FindingKind,
    /// Relative to that crate's directory.
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// What was matched (`calls std::fs::remove_file`).
    pub reason: String,
}
