//! The call stack of an event in a program cargo built, as the trace records it: unwound and
//! symbolized when the event happened (the binaries may be gone when the trace is judged).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The stacks of a trace by id: an event names its stack by id (`stack_id`), and each stack is
/// written once, in a `stack` line before the first event that names it — a loop's calls share
/// one stack.
pub type StackTable = BTreeMap<u32, CallStack>;

/// No stacks (a build's trace, a test's own).
pub static NO_STACKS: StackTable = BTreeMap::new();

/// A `stack` line: a stack and its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackLine {
    pub id: u32,
    #[serde(flatten)]
    pub stack: CallStack,
}

/// Frames innermost first, and how the walk ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallStack {
    pub frames: Vec<Frame>,
    pub end: StackEnd,
}

/// Why the walk stopped: only `root` means every caller is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StackEnd {
    /// The outermost frame (`_start`, a thread's start routine) was reached.
    Root,
    /// The copied part of the stack ended first (callers beyond it are not known).
    Truncated,
    /// An address in no known mapping, or without unwind information for it.
    NoUnwindInfo,
    /// The call was made from executable memory no file backs (an anonymous page, a memfd):
    /// code written at run time, which no crate's sources show. Never routine.
    UnknownCode,
    /// The kernel could not copy the stack: only the instruction pointer's frame is known.
    Unavailable,
    /// More frames than are kept.
    TooDeep,
}

impl CallStack {
    /// The call was made by code in no file (see [`StackEnd::UnknownCode`]).
    pub fn from_unknown_code(&self) -> bool {
        self.end == StackEnd::UnknownCode
    }
}

/// One function on the stack; an inlined call is a frame of its own, marked `inlined`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    /// The binary or library the code is in, as the kernel named it.
    pub module: String,
    /// Address in the module (its ELF virtual address).
    pub addr: u64,
    /// Demangled name without the hash, when a symbol or DWARF names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Source file and line, from DWARF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inlined: bool,
}
