//! Static findings: what each crate's code *could* do to the machine, found in its sources (with
//! `syn`) and in its compiled artifacts (with `object`), per phase of the code. The seed: the
//! list of harmful operations is small — read, write, delete files; connect, listen, resolve;
//! run programs; read secrets from the environment — so find every use, show where, and show
//! which hosts and URLs each crate names.

pub mod binary;
pub mod scan;
pub mod source;

use serde::{Deserialize, Serialize};

use crate::model::{FindingKind, TargetKind};

/// Where in a file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    /// Path relative to the crate's root (its manifest directory).
    pub file: String,
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// One static finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// Which part of the crate the code is in (the JSON calls it `phase`).
    pub phase: TargetKind,
    pub location: Location,
    /// The source line, trimmed.
    pub code: String,
    /// The literal target (path, host, URL, program, variable), when constant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// What was matched (`std::fs::remove_file`, `libc::connect`, `include_bytes!`…).
    pub reason: String,
    /// Seen only after decoding (base64, hex, XOR, joined fragments).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub obfuscated: bool,
    /// An environment variable name that looks like a secret (`*TOKEN*`, `AWS_*`…).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
}
