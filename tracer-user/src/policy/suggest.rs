//! Allow entries from observed behaviour: the entry that would allow one behaviour (shown with
//! a violation), and `cargo tracer policy suggest` — entries for everything a run did that is
//! not routine, one per crate and phase, for a team adopting the tool. Also `diff`: behaviours
//! new since a baseline report. Data only; `output/` writes the TOML.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    model::{Kind, Phase, names::named_enum},
    report::{BehaviorOut, Report},
};

/// A list of an allow entry (in the order entries are written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AllowKey {
    Delete,
    Exec,
    Hosts,
    Listen,
    Persist,
    Read,
    Write,
}

named_enum!(AllowKey, "an allow-entry key" {
    Delete => "delete",
    Exec => "exec",
    Hosts => "hosts",
    Listen => "listen",
    Persist => "persist",
    Read => "read",
    Write => "write",
});

/// `s` as a glob that matches exactly `s` (the policy compiles globs with backslash escapes).
pub fn glob_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '*' | '?' | '[' | ']' | '{' | '}') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `$TARGET_DIR/debug/build/foo-1a2b/build-script-build` as
/// `$TARGET_DIR/*/build/foo-*/build-script-build` (the build directory cargo gives crate `foo`
/// in any profile); any other path exactly.
fn build_dir_glob(target: &str) -> String {
    let parts: Vec<&str> = target.split('/').collect();
    match parts.as_slice() {
        ["$TARGET_DIR", _profile, "build", dir, file]
            if dir.rsplit_once('-').is_some_and(|(name, hash)| {
                !name.is_empty() && !hash.is_empty() && hash.bytes().all(|b| b.is_ascii_hexdigit())
            }) =>
        {
            let name = dir.rsplit_once('-').map_or(*dir, |(n, _)| n);
            format!(
                "$TARGET_DIR/*/build/{}-*/{}",
                glob_literal(name),
                glob_literal(file)
            )
        }
        _ => glob_literal(target),
    }
}

impl AllowKey {
    /// The list that allows a behaviour of `kind`, and the value for `target` in it; `None` when
    /// no entry can name it exactly (an undecodable query, an address that is not IP or unix).
    /// Paths and programs are globs: their metacharacters are escaped, so the entry allows
    /// exactly what was seen. A program is named by its file name when it is a system one, and
    /// by its whole path when it lies in the build's own directories (a program a build script
    /// wrote into `$OUT_DIR` must not allow every program of that name).
    pub fn for_behavior(kind: Kind, target: &str) -> Option<(Self, String)> {
        let checked = |key: Self, v: String| -> Option<(Self, String)> {
            let ok = match key {
                Self::Hosts | Self::Listen => {
                    super::pattern::HostPattern::parse(&v).is_ok_and(|h| match kind {
                        Kind::NetDns => h.allows_dns(target),
                        _ => h.allows_addr(target),
                    })
                }
                _ => true,
            };
            ok.then_some((key, v))
        };
        match kind {
            Kind::FsRead => Some((Self::Read, glob_literal(target))),
            Kind::FsWrite => Some((Self::Write, glob_literal(target))),
            Kind::FsDelete => Some((Self::Delete, glob_literal(target))),
            Kind::ProcessExec if target.starts_with('$') || !target.contains('/') => {
                Some((Self::Exec, glob_literal(target)))
            }
            Kind::ProcessExec => Some((
                Self::Exec,
                glob_literal(target.rsplit('/').next().unwrap_or(target)),
            )),
            // The whole path: a daemon is allowed by what exactly it runs — in a build
            // directory, whatever the profile and the hash cargo gives it.
            Kind::ProcessPersist => Some((Self::Persist, build_dir_glob(target))),
            Kind::NetDns if target.starts_with("*.") => None,
            Kind::NetDns | Kind::NetConnect => match target.strip_prefix("unix:") {
                Some(path) => checked(Self::Hosts, format!("unix:{}", glob_literal(path))),
                None => checked(Self::Hosts, target.to_string()),
            },
            Kind::NetListen => match target.strip_prefix("unix:") {
                Some(path) => checked(Self::Listen, format!("unix:{}", glob_literal(path))),
                None => checked(Self::Listen, target.to_string()),
            },
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

    /// Adds what allows `b`; false if no entry can name it.
    fn add(&mut self, b: &BehaviorOut) -> bool {
        // An installed program run by another installed name (`sh`, really `dash`): the name
        // it was run by is what the same build on another distribution runs too.
        let target = match (b.kind, &b.run_as) {
            (Kind::ProcessExec, Some(name)) => name,
            _ => &b.target,
        };
        let Some((key, value)) = AllowKey::for_behavior(b.kind, target) else {
            return false;
        };
        let list = self.lists.entry(key).or_default();
        if !list.contains(&value) {
            list.push(value);
        }
        true
    }

    /// The entry that allows one behaviour of crate `krate`, if one can.
    pub fn for_behavior(krate: &str, b: &BehaviorOut) -> Option<Self> {
        let mut e = Self::new(krate, b.phase);
        e.add(b).then_some(e)
    }
}

/// What `policy suggest` proposes.
#[derive(Debug, Clone, Default)]
pub struct Suggestion {
    /// One entry per crate and phase.
    pub entries: Vec<AllowEntry>,
    /// Behaviours no entry can name (`crate`, behaviour): they stay violations.
    pub unrepresentable: Vec<(String, BehaviorOut)>,
}

/// Entries allowing every notable behaviour of `report`, one per crate and phase.
pub fn suggest(report: &Report) -> Suggestion {
    let mut entries: BTreeMap<(String, &str), AllowEntry> = BTreeMap::new();
    let mut unrepresentable = Vec::new();
    for c in &report.crates {
        for b in &c.behaviors {
            let added = entries
                .entry((c.package.name.clone(), b.phase.as_str()))
                .or_insert_with(|| AllowEntry::new(&c.package.name, b.phase))
                .add(b);
            if !added {
                unrepresentable.push((c.package.name.clone(), b.clone()));
            }
        }
    }
    Suggestion {
        entries: entries
            .into_values()
            .filter(|e| !e.lists.is_empty())
            .collect(),
        unrepresentable,
    }
}

/// A behaviour `diff` found new.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NewBehavior {
    /// The crate (`name@version`), `cargo`, or `(unattributed)`.
    pub who: String,
    pub phase: Phase,
    pub kind: Kind,
    pub target: String,
    /// It was there before, but never succeeded (a connect that failed then and works now).
    pub now_succeeds: bool,
}

/// Every notable behaviour of a report with who did it (by name: versions change in an update)
/// and whether it succeeded.
fn behaviours(r: &Report) -> Vec<(String, String, &BehaviorOut)> {
    let crates = r.crates.iter().flat_map(|c| {
        c.behaviors
            .iter()
            .map(move |b| (c.package.name.clone(), c.package.key().to_string(), b))
    });
    let cargo = r
        .cargo
        .behaviors
        .iter()
        .map(|b| ("cargo".to_string(), "cargo".to_string(), b));
    let unattributed = r.unattributed.iter().map(|b| {
        (
            "(unattributed)".to_string(),
            "(unattributed)".to_string(),
            b,
        )
    });
    crates.chain(cargo).chain(unattributed).collect()
}

/// Behaviours in `new` that `old` did not have, or that only now succeed. Compared by crate
/// name, not version: an update that changes what a crate does is what a diff is for.
pub fn diff(old: &Report, new: &Report) -> Vec<NewBehavior> {
    let mut before: BTreeMap<(String, Phase, Kind, &str), bool> = BTreeMap::new();
    for (name, _, b) in behaviours(old) {
        *before
            .entry((name, b.phase, b.kind, b.target.as_str()))
            .or_default() |= b.succeeded > 0;
    }
    let mut out: BTreeMap<(String, &str, &str, &str), NewBehavior> = BTreeMap::new();
    for (name, who, b) in behaviours(new) {
        let now_succeeds = match before.get(&(name.clone(), b.phase, b.kind, b.target.as_str())) {
            None => false,
            Some(true) => continue,
            Some(false) if b.succeeded == 0 => continue,
            Some(false) => true,
        };
        // Listed by name, as people read them.
        out.insert(
            (name, b.phase.as_str(), b.kind.as_str(), b.target.as_str()),
            NewBehavior {
                who,
                phase: b.phase,
                kind: b.kind,
                target: b.target.clone(),
                now_succeeds,
            },
        );
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{ChainLink, ProcessChain},
        policy::{config, eval},
        report::BehaviorOut,
    };

    fn behavior(kind: Kind, target: &str) -> BehaviorOut {
        BehaviorOut {
            kind,
            target: target.into(),
            phase: Phase::BuildScript,
            count: 1,
            succeeded: 1,
            example_chain: ProcessChain(vec![ChainLink {
                pid: 1,
                name: "build-script-build".into(),
                exe: None,
                argv0: None,
            }]),
            within: None,
            run_as: None,
            crate_chain: Vec::new(),
            example_stack: None,
        }
    }

    /// The suggested entry, read back as a policy, allows the behaviour and not its neighbour.
    fn allows(kind: Kind, target: &str, neighbour: &str) {
        let e = AllowEntry::for_behavior("x", &behavior(kind, target))
            .unwrap_or_else(|| panic!("no entry for {target}"));
        let text = crate::output::toml::allow_entry(&e);
        let p = config::parse(&text, "suggested.toml", &[])
            .unwrap_or_else(|d| panic!("{text}\n{d:?}"))
            .unwrap();
        let ok = |t: &str| eval::rule_allows(&p.rules[0], kind, t);
        assert!(ok(target), "{text} does not allow {target}");
        assert!(!ok(neighbour), "{text} also allows {neighbour}");
    }

    #[test]
    fn a_suggested_entry_allows_exactly_what_was_seen() {
        allows(Kind::FsRead, "$HOME/a\\*b/x", "$HOME/a\\zzb/x");
        allows(Kind::FsWrite, "/x/[ab]{c,d}?*", "/x/a");
        allows(Kind::FsRead, "$TMPDIR/cc*.s", "$TMPDIR/ccXYZ.s");
        allows(Kind::FsDelete, "$OUT_DIR/trailing\\", "$OUT_DIR/trailing");
        allows(
            Kind::NetConnect,
            "unix:/run/do[c]ker*.sock",
            "unix:/run/docker.sock",
        );
        allows(Kind::NetDns, "_dmarc.example.com", "example.com");
        allows(Kind::ProcessExec, "$OUT_DIR/payload", "/usr/bin/payload");
        allows(Kind::ProcessExec, "/usr/bin/cc", "/usr/bin/c++");
        allows(
            Kind::ProcessPersist,
            "$TARGET_DIR/release/build/daemon-9f9f/build-script-build",
            "$OUT_DIR/build-script-build",
        );
        assert_eq!(
            AllowKey::for_behavior(
                Kind::ProcessPersist,
                "$TARGET_DIR/debug/build/daemon-86a2/build-script-build"
            ),
            Some((
                AllowKey::Persist,
                "$TARGET_DIR/*/build/daemon-*/build-script-build".into()
            ))
        );
        assert_eq!(
            AllowKey::for_behavior(Kind::ProcessPersist, "$OUT_DIR/x[1]").map(|(_, v)| v),
            Some("$OUT_DIR/x\\[1\\]".into())
        );
        allows(Kind::NetConnect, "[::1]:53", "[::1]:54");
    }

    #[test]
    fn what_no_entry_can_name_is_not_suggested() {
        for (kind, target) in [
            (Kind::NetDns, "(undecodable query to 127.0.0.1:53)"),
            (Kind::NetConnect, "af16"),
            (Kind::NetConnect, "unspec"),
            (Kind::NetDns, "*.evil.com"),
        ] {
            assert!(
                AllowEntry::for_behavior("x", &behavior(kind, target)).is_none(),
                "{target}"
            );
        }
    }
}
