//! What a behaviour does to the machine (the eight kinds, most suspicious first), and what a
//! static finding is about: one of those kinds, or something only the code shows.

use super::names::named_enum;

/// What a behaviour does, most suspicious first (the order ranks crates and findings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    NetConnect,
    NetDns,
    NetListen,
    ProcessExec,
    /// A process of a build script or proc macro still running after that phase ended (the
    /// script exited, rustc finished): a daemon that acts when nobody is looking.
    ProcessPersist,
    FsDelete,
    FsWrite,
    FsRead,
}

named_enum!(Kind, "a behaviour kind" {
    NetConnect => "net.connect",
    NetDns => "net.dns",
    NetListen => "net.listen",
    ProcessExec => "process.exec",
    ProcessPersist => "process.persist",
    FsDelete => "fs.delete",
    FsWrite => "fs.write",
    FsRead => "fs.read",
});

impl Kind {
    pub fn is_network(self) -> bool {
        matches!(self, Self::NetConnect | Self::NetDns | Self::NetListen)
    }

    /// Its target is a path.
    pub fn is_path(self) -> bool {
        !self.is_network()
    }

    /// For people (SARIF rule descriptions).
    pub fn description(self) -> &'static str {
        match self {
            Self::NetConnect => "Connects to a network address",
            Self::NetDns => "Resolves a host name",
            Self::NetListen => "Opens a listening port",
            Self::ProcessExec => "Runs a program",
            Self::ProcessPersist => "Leaves a process running after its phase ended",
            Self::FsDelete => "Deletes files",
            Self::FsWrite => "Writes files",
            Self::FsRead => "Reads files",
        }
    }
}

/// What a static finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingKind {
    /// Code that does one of the behaviour kinds.
    Does(Kind),
    EnvRead,
    /// A raw `syscall(…)` or inline `asm!` with `syscall`: whatever it does bypasses the library.
    RawSyscall,
    /// Code that runs before `main` (`.init_array` constructors).
    BeforeMain,
    /// Files embedded at compile time from outside the crate (`include_bytes!`…).
    CompileInclude,
    /// A URL, host or address named in the code, with no call seen using it.
    LiteralHost,
    /// A file the scanner could not parse: nothing in it was checked.
    Unparsed,
}

/// The kinds that are not behaviours, with their names and descriptions.
const OTHERS: &[(FindingKind, &str, &str)] = &[
    (FindingKind::EnvRead, "env.read", "Reads the environment"),
    (
        FindingKind::RawSyscall,
        "raw.syscall",
        "Makes raw system calls",
    ),
    (
        FindingKind::BeforeMain,
        "code.before-main",
        "Runs code before main",
    ),
    (
        FindingKind::CompileInclude,
        "compile.include",
        "Embeds a file from outside the crate at compile time",
    ),
    (
        FindingKind::LiteralHost,
        "literal.host",
        "Names a host or URL",
    ),
    (
        FindingKind::Unparsed,
        "unparsed",
        "File could not be parsed",
    ),
];

impl FindingKind {
    /// Every finding kind: the behaviour kinds first.
    pub fn all() -> Vec<FindingKind> {
        Kind::ALL
            .iter()
            .map(|k| Self::Does(*k))
            .chain(OTHERS.iter().map(|(k, _, _)| *k))
            .collect()
    }

    /// Its row of [`OTHERS`], for a kind that is not a behaviour.
    fn other(self) -> (usize, &'static str, &'static str) {
        OTHERS
            .iter()
            .enumerate()
            .find(|(_, (k, _, _))| *k == self)
            .map_or((0, "unknown", ""), |(i, (_, n, d))| (i, n, d))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Does(k) => k.as_str(),
            other => other.other().1,
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::Does(k) => k.description(),
            other => other.other().2,
        }
    }

    /// The behaviour it predicts, if it predicts one (mentions and environment reads do not).
    pub fn behaviour(self) -> Option<Kind> {
        match self {
            Self::Does(k) => Some(k),
            _ => None,
        }
    }

    /// Lower is more dangerous: the behaviour kinds in their order, then the rest.
    pub fn rank(self) -> u8 {
        match self {
            Self::Does(k) => k as u8,
            other => (Kind::ALL.len() + other.other().0) as u8,
        }
    }
}

impl std::fmt::Display for FindingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl std::str::FromStr for FindingKind {
    type Err = super::UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::all()
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| super::UnknownName {
                what: "a finding kind",
                given: s.to_string(),
                expected: Self::all().into_iter().map(Self::as_str).collect(),
            })
    }
}

impl serde::Serialize for FindingKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for FindingKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_rank_in_order() {
        for k in FindingKind::all() {
            assert_eq!(k.as_str().parse::<FindingKind>(), Ok(k));
            assert!(!k.description().is_empty(), "{k}");
        }
        let ranks: Vec<u8> = FindingKind::all()
            .into_iter()
            .map(FindingKind::rank)
            .collect();
        assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{ranks:?}");
        assert_eq!(
            "fs.wirte".parse::<Kind>().unwrap_err().suggestion(),
            Some("fs.write")
        );
        assert_eq!(
            serde_json::to_string(&FindingKind::Does(Kind::NetDns)).unwrap(),
            "\"net.dns\""
        );
    }
}
