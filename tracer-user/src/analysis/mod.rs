//! Static findings: what each crate's code *could* do to the machine, found in its sources (with
//! `syn`) and in its compiled artifacts (with `object`), per phase of the code. The seed: the
//! list of harmful operations is small — read, write, delete files; connect, listen, resolve;
//! run programs; read secrets from the environment — so find every use, show where, and show
//! which hosts and URLs each crate names.

pub mod binary;
pub mod graph;
pub mod human;
pub mod sarif;
pub mod scan;
pub mod source;

use serde::{Deserialize, Serialize};

/// Which part of a crate the code belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CodePhase {
    /// `build.rs` and the modules it includes: runs on the build machine.
    BuildScript,
    /// A proc-macro crate: runs inside rustc on the build machine.
    ProcMacro,
    /// The library: runs wherever it is linked.
    Library,
    /// A binary target.
    Binary,
    /// Tests, benches and examples.
    Test,
}

impl CodePhase {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BuildScript => "build-script",
            Self::ProcMacro => "proc-macro",
            Self::Library => "library",
            Self::Binary => "binary",
            Self::Test => "test",
        }
    }

    /// Code that runs while the crate is being built (what a build-time attack uses).
    pub fn runs_at_build_time(self) -> bool {
        matches!(self, Self::BuildScript | Self::ProcMacro)
    }
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FindingKind {
    #[serde(rename = "net.connect")]
    NetConnect,
    #[serde(rename = "net.dns")]
    NetDns,
    #[serde(rename = "net.listen")]
    NetListen,
    #[serde(rename = "process.exec")]
    ProcessExec,
    #[serde(rename = "fs.delete")]
    FsDelete,
    #[serde(rename = "fs.write")]
    FsWrite,
    #[serde(rename = "fs.read")]
    FsRead,
    #[serde(rename = "env.read")]
    EnvRead,
    /// A raw `syscall(…)` or inline `asm!` with `syscall`: whatever it does bypasses the library.
    #[serde(rename = "raw.syscall")]
    RawSyscall,
    /// Code that runs before `main` (`.init_array` constructors).
    #[serde(rename = "code.before-main")]
    BeforeMain,
    /// Files embedded at compile time from outside the crate (`include_bytes!`…).
    #[serde(rename = "compile.include")]
    CompileInclude,
    /// A URL, host or address named in the code, with no call seen using it.
    #[serde(rename = "literal.host")]
    LiteralHost,
    /// A file the scanner could not parse: nothing in it was checked.
    #[serde(rename = "unparsed")]
    Unparsed,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NetConnect => "net.connect",
            Self::NetDns => "net.dns",
            Self::NetListen => "net.listen",
            Self::ProcessExec => "process.exec",
            Self::FsDelete => "fs.delete",
            Self::FsWrite => "fs.write",
            Self::FsRead => "fs.read",
            Self::EnvRead => "env.read",
            Self::RawSyscall => "raw.syscall",
            Self::BeforeMain => "code.before-main",
            Self::CompileInclude => "compile.include",
            Self::LiteralHost => "literal.host",
            Self::Unparsed => "unparsed",
        }
    }
}

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
    pub phase: CodePhase,
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
