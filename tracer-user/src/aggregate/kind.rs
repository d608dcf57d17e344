//! The behaviour kinds of the per-crate report, most suspicious first.

use serde::{Deserialize, Serialize};

/// What a behaviour does to the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Kind {
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
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NetConnect => "net.connect",
            Self::NetDns => "net.dns",
            Self::NetListen => "net.listen",
            Self::ProcessExec => "process.exec",
            Self::FsDelete => "fs.delete",
            Self::FsWrite => "fs.write",
            Self::FsRead => "fs.read",
        }
    }

    pub fn is_network(self) -> bool {
        matches!(self, Self::NetConnect | Self::NetDns | Self::NetListen)
    }

    pub fn is_path(self) -> bool {
        matches!(
            self,
            Self::ProcessExec | Self::FsDelete | Self::FsWrite | Self::FsRead
        )
    }
}
