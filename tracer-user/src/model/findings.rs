//! What the static scan finds, as every stage after it reads it: findings with their place in
//! the code, per package, and what the compiled artifacts can do. (The scan itself is
//! `analysis`; the verdict, the outputs and the trace — which records a check's scan — read
//! these types.)

use serde::{Deserialize, Serialize};

use super::{FindingKind, TargetKind};

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

/// Version of the scan JSON. Bumped on any incompatible change.
pub const SCAN_SCHEMA_VERSION: u32 = 1;

/// One package's findings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PackageScan {
    pub name: String,
    pub version: String,
    pub source: String,
    pub id: String,
    pub findings: Vec<Finding>,
    /// Every host, address and URL the package names (in calls or literals).
    pub hosts: Vec<String>,
    pub files: usize,
    pub lines: usize,
    /// Target files cargo lists that are not in the package (tests and benches left out of a
    /// published crate): nothing to scan there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_files: Vec<String>,
    /// Taken from the cache, not parsed this time.
    #[serde(default)]
    pub cached: bool,
}

/// Numbers about a scan.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ScanStats {
    pub crates: usize,
    pub cached: usize,
    pub files: usize,
    pub lines: usize,
    pub millis: u64,
}

/// A whole scan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScanReport {
    pub schema_version: u32,
    pub workspace_root: String,
    /// Packages with findings first (most dangerous first), then the rest.
    pub packages: Vec<PackageScan>,
    pub artifacts: ArtifactReport,
    pub stats: ScanStats,
}

/// One artifact and what it can do.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArtifactScan {
    pub package: String,
    pub version: String,
    /// `build-script`, `proc-macro` or `test`.
    pub artifact: String,
    pub path: String,
    /// Dangerous functions: imported from libc, or Rust std/crate functions linked in.
    pub functions: Vec<ArtifactFunction>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ArtifactFunction {
    pub kind: FindingKind,
    /// `libc connect`, or a demangled path (`std::net::tcp::TcpStream::connect`).
    pub symbol: String,
    /// The crate the symbol's code comes from (first path segment), for Rust symbols.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_crate: Option<String>,
}

/// An artifact that should exist but was not found (not built yet).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MissingArtifact {
    pub package: String,
    pub version: String,
    pub artifact: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ArtifactReport {
    pub scanned: Vec<ArtifactScan>,
    pub missing: Vec<MissingArtifact>,
}
