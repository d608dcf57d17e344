//! The processes that led to a behaviour: who started whom, outermost first, as data.

use serde::{Deserialize, Serialize};

/// One process of a chain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChainLink {
    pub pid: u32,
    /// What it is called: its executable's file name, or the kernel's `comm` before it exec'd
    /// (`?` when the trace never saw it).
    pub name: String,
    /// Its executable, when the trace saw it exec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
    /// The `argv[0]` it was started with, when that differs from the executable's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argv0: Option<String>,
}

/// Processes, outermost first; the last one did it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProcessChain(pub Vec<ChainLink>);

impl ProcessChain {
    /// The process that acted.
    pub fn actor(&self) -> Option<&ChainLink> {
        self.0.last()
    }

    pub fn links(&self) -> &[ChainLink] {
        &self.0
    }
}
