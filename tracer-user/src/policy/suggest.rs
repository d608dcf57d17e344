//! Allow entries from observed behaviour: the entry that would allow one behaviour (shown with
//! a violation), and `cargo tracer policy suggest` — entries for everything a run did that is
//! not routine, one per crate and phase, for a team adopting the tool. Also `diff`: behaviours
//! new since a baseline report. Data only; `output/` writes the TOML.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::{
    model::{Kind, PackageKey, Phase, names::named_enum},
    report::{BehaviorOut, Report},
};

/// A list of an allow entry (in the order entries are written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AllowKey {
    Delete,
    Exec,
    Hosts,
    Listen,
    Read,
    Write,
}

named_enum!(AllowKey, "an allow-entry key" {
    Delete => "delete",
    Exec => "exec",
    Hosts => "hosts",
    Listen => "listen",
    Read => "read",
    Write => "write",
});

impl AllowKey {
    /// The list that allows a behaviour of `kind`, and the value for `target` in it (`exec`
    /// takes the program's name). Paths and programs are globs: their metacharacters are
    /// escaped, so the entry allows exactly what was seen.
    pub fn for_behavior(kind: Kind, target: &str) -> (Self, String) {
        let glob = globset::escape;
        match kind {
            Kind::FsRead => (Self::Read, glob(target)),
            Kind::FsWrite => (Self::Write, glob(target)),
            Kind::FsDelete => (Self::Delete, glob(target)),
            Kind::ProcessExec => (
                Self::Exec,
                glob(target.rsplit('/').next().unwrap_or(target)),
            ),
            Kind::NetDns | Kind::NetConnect => (Self::Hosts, target.to_string()),
            Kind::NetListen => (Self::Listen, target.to_string()),
        }
    }
}

/// An allow entry to add, its reason still to be written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowEntry {
    #[serde(rename = "crate")]
    pub krate: String,
    pub phase: Phase,
    /// The lists, each value as observed (a literal path, not a glob).
    pub lists: BTreeMap<AllowKey, Vec<String>>,
}

impl AllowEntry {
    fn new(krate: &str, phase: Phase) -> Self {
        Self {
            krate: krate.to_string(),
            phase,
            lists: BTreeMap::new(),
        }
    }

    fn add(&mut self, b: &BehaviorOut) {
        let (key, value) = AllowKey::for_behavior(b.kind, &b.target);
        let list = self.lists.entry(key).or_default();
        if !list.contains(&value) {
            list.push(value);
        }
    }

    /// The entry that allows one behaviour of crate `krate`.
    pub fn for_behavior(krate: &str, b: &BehaviorOut) -> Self {
        let mut e = Self::new(krate, b.phase);
        e.add(b);
        e
    }
}

/// Entries allowing every notable behaviour of `report`, one per crate and phase.
pub fn suggest(report: &Report) -> Vec<AllowEntry> {
    let mut entries: BTreeMap<(String, &str), AllowEntry> = BTreeMap::new();
    for c in &report.crates {
        for b in &c.behaviors {
            entries
                .entry((c.package.name.clone(), b.phase.as_str()))
                .or_insert_with(|| AllowEntry::new(&c.package.name, b.phase))
                .add(b);
        }
    }
    entries.into_values().collect()
}

/// A behaviour `diff` found new.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NewBehavior {
    #[serde(rename = "crate")]
    pub package: PackageKey,
    pub phase: Phase,
    pub kind: Kind,
    pub target: String,
}

/// Behaviours in `new` that `old` did not have. Compared by crate name, not version: an update
/// that changes what a crate does is what a diff is for.
pub fn diff(old: &Report, new: &Report) -> Vec<NewBehavior> {
    let before: BTreeSet<(&str, Phase, Kind, &str)> = old
        .crates
        .iter()
        .flat_map(|c| {
            c.behaviors
                .iter()
                .map(move |b| (c.package.name.as_str(), b.phase, b.kind, b.target.as_str()))
        })
        .collect();
    let mut out: BTreeMap<(&str, &str, &str, &str), NewBehavior> = BTreeMap::new();
    for c in &new.crates {
        for b in &c.behaviors {
            if before.contains(&(c.package.name.as_str(), b.phase, b.kind, b.target.as_str())) {
                continue;
            }
            // Listed by name, as people read them.
            out.insert(
                (
                    c.package.name.as_str(),
                    b.phase.as_str(),
                    b.kind.as_str(),
                    b.target.as_str(),
                ),
                NewBehavior {
                    package: c.package.key(),
                    phase: b.phase,
                    kind: b.kind,
                    target: b.target.clone(),
                },
            );
        }
    }
    out.into_values().collect()
}
