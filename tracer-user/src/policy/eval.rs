//! Verdicts: each observed behaviour against the policy (allowed by a rule, or a violation) and
//! against the static findings (explained by one, or unexpected); each build-time static
//! finding that was not observed is dormant. A verdict refers to what decided it — the rule
//! (where it is written) and the finding (where its code is) — as data.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{config::Rule, levels::Levels, suggest::AllowEntry};
use crate::{
    analysis::{Finding, scan::ScanReport},
    cargo::graph::Dependencies,
    model::{
        BuildContext, Code, FindingKind, FindingRef, Kind, Level, PackageKey, Phase, RuleRef,
        TargetKind, names::named_enum,
    },
    report::{BehaviorOut, Report},
};

/// What happened to one behaviour or finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// Observed and allowed by a rule.
    Allowed,
    /// Observed, not allowed.
    Violation,
    /// Observed, not allowed, and no static finding explains it (raw syscalls, decoded strings,
    /// code hidden by cfg): the most severe.
    Unexpected,
    /// A static finding that the run observed.
    Confirmed,
    /// A static finding of build-time code not observed in this run (gated, or not reached).
    Dormant,
}

named_enum!(Outcome, "an outcome" {
    Allowed => "allowed",
    Violation => "violation",
    Unexpected => "unexpected",
    Confirmed => "confirmed",
    Dormant => "dormant",
});

impl Outcome {
    /// The diagnostic code an outcome is reported under when it is not allowed.
    pub fn code(self) -> Option<Code> {
        match self {
            Self::Violation => Some(Code::Violation),
            Self::Unexpected => Some(Code::Unexpected),
            Self::Dormant => Some(Code::Dormant),
            Self::Allowed | Self::Confirmed => None,
        }
    }
}

/// The verdict on one observed behaviour.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BehaviorVerdict {
    /// The crate (`(unattributed)` when none could be named).
    pub name: String,
    pub version: String,
    #[serde(flatten)]
    pub behavior: BehaviorOut,
    pub outcome: Outcome,
    pub level: Level,
    /// The rule that allows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_by: Option<RuleRef>,
    /// The static finding that explains it, when the graph was scanned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explained_by: Option<FindingRef>,
    /// The allow entry that would permit it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<AllowEntry>,
}

/// The verdict on one static finding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FindingVerdict {
    pub name: String,
    pub version: String,
    pub finding: Finding,
    pub outcome: Outcome,
    pub allowed: bool,
    pub level: Level,
}

/// Why a trace cannot be trusted to be complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Incomplete {
    /// Events were lost, by counter.
    LostEvents {
        lost: u64,
        ringbuf: u64,
        inflight: u64,
        tracking: u64,
        #[serde(default)]
        unmatched: u64,
        #[serde(default)]
        beyond: u64,
        undecodable: u64,
    },
    /// The trace ends before its `end` line (the tracer was stopped).
    NoEnd,
    /// Under `--fresh`, a build script that should have run did not.
    ScriptDidNotRun {
        #[serde(rename = "crate")]
        package: PackageKey,
    },
    /// The trace file shows damage (cut short, events missing).
    Damaged(crate::trace::Damage),
    /// Two of cargo's messages gave one file to two packages: one was forged by a process of
    /// the build writing into cargo's output, so attribution cannot be trusted.
    ForgedMessage {
        file: String,
        first: PackageKey,
        second: PackageKey,
    },
    /// A message gave a package a directory cargo would not (an `OUT_DIR` outside its build
    /// directory, another manifest directory than the graph's): forged, to make behaviour look
    /// routine.
    ImplausibleMessage {
        #[serde(rename = "crate")]
        package: PackageKey,
        what: String,
        value: String,
    },
    /// Cargo's messages name a package the dependency graph does not have (a forged message).
    NotInGraph {
        #[serde(rename = "crate")]
        package: PackageKey,
        id: String,
    },
    /// Cargo says it compiled the crate in this build, but no rustc for it was traced: a rustc
    /// wrapper served it from a cache, or compiled it out of sight (a server started before
    /// tracing) — proc macros and build work may have run unseen.
    CompiledUnseen {
        #[serde(rename = "crate")]
        package: PackageKey,
    },
    /// A traced process was killed by the command's seccomp filter (`SIGSYS`): it made a 32-bit
    /// or x32 system call, which the probes cannot see (`int 0x80`, or a 32-bit program).
    Refused {
        pid: u32,
        /// Its `comm` in its last record.
        process: String,
    },
    /// A traced process was still running when tracing stopped (`--linger-ms` after the
    /// command exited): what it did after that was not traced.
    StillRunning {
        pid: u32,
        /// Its `comm` in its last record.
        process: String,
        /// Who it was attributed to (`name@version`, `cargo`, `(unattributed)`).
        owner: String,
    },
    /// A traced process reached for the tracer or another process: `bpf(2)` (the tracer's maps
    /// and counters), `ptrace`, `process_vm_readv/writev`, `pidfd_getfd`, or a signal to the
    /// tracer or a whole process group; or rewrote a `connect` address while the kernel used it.
    Tamper {
        pid: u32,
        /// Its `comm`, as it set it.
        process: String,
        syscall: String,
        /// The first argument (the `bpf` command, the target pid…).
        arg0: i64,
    },
}

/// Everything decided about one build.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Verdict {
    pub behaviors: Vec<BehaviorVerdict>,
    pub findings: Vec<FindingVerdict>,
    /// The project's rules that matched nothing in this build.
    pub unused_rules: Vec<RuleRef>,
    pub incomplete: Vec<Incomplete>,
    /// Outcome → count.
    pub counts: BTreeMap<Outcome, u64>,
    /// The levels of unused rules and of incompleteness, as `-D/-W/-A` left them.
    pub unused_rule_level: Level,
    pub incomplete_level: Level,
    /// `deny` if anything at deny level happened.
    pub worst: Level,
}

impl Verdict {
    /// Anything at deny level besides incompleteness (what fails a build unless `--audit`).
    pub fn denied(&self) -> bool {
        self.behaviors.iter().any(|b| b.level == Level::Deny)
            || self.findings.iter().any(|f| f.level == Level::Deny)
    }
}

/// Whether the acting process is a program the phase started rather than the phase's own code
/// (the build script binary, or rustc running a proc macro).
fn spawned_program(b: &BehaviorOut) -> bool {
    let Some(actor) = b.example_chain.actor() else {
        return false;
    };
    let name = actor.name.as_str();
    match b.phase {
        Phase::BuildScript => {
            !name.starts_with("build-script-build") && !name.starts_with("build_script_build")
        }
        Phase::ProcMacro => !name.starts_with("rustc"),
        _ => false,
    }
}

/// Whether rule `r` covers crate `key` in `phase`: its own crate (and version), or, for a
/// `dependents` rule, the build script of a crate that depends on the rule's crate.
fn applies(r: &Rule, key: &PackageKey, phase: Phase, deps: &Dependencies) -> bool {
    let version_ok = |v: &str| {
        r.version
            .as_ref()
            .is_none_or(|req| semver::Version::parse(v).is_ok_and(|v| req.matches(&v)))
    };
    let phase_ok = r.phases.is_empty() || r.phases.contains(&phase);
    if r.krate == key.name {
        return phase_ok && version_ok(&key.version);
    }
    r.dependents
        && phase_ok
        && matches!(phase, Phase::BuildScript | Phase::Compile)
        && deps
            .get(key)
            .into_iter()
            .flatten()
            .any(|d| d.name == r.krate && version_ok(&d.version))
}

/// Whether `r` allows `kind` on `target` (with placeholders, as the report writes it).
pub fn rule_allows(r: &Rule, kind: Kind, target: &str) -> bool {
    match kind {
        Kind::FsRead => r.read.matches(target) || r.write.matches(target),
        Kind::FsWrite => r.write.matches(target),
        Kind::FsDelete => r.delete.matches(target),
        Kind::ProcessExec => r.exec.matches(target),
        Kind::ProcessPersist => r.persist.matches(target),
        Kind::NetDns => r.hosts.iter().any(|h| h.allows_dns(target)),
        Kind::NetConnect => r.hosts.iter().any(|h| h.allows_addr(target)),
        Kind::NetListen => r.listen.iter().any(|h| h.allows_addr(target)),
    }
}

/// `target` with a leading placeholder of one of the build's common directories written out
/// (`$TMPDIR/x` → `/tmp/x`), so a rule written with the absolute path matches too: the report
/// names the directory by placeholder, a user may well not.
fn written_out(target: &str, ctx: &BuildContext) -> Option<String> {
    ctx.common_dirs().into_iter().find_map(|(p, dir)| {
        let rest = target.strip_prefix(p.as_str())?;
        (!dir.is_empty() && (rest.is_empty() || rest.starts_with('/')))
            .then(|| format!("{}{rest}", dir.trim_end_matches('/')))
    })
}

/// Whether `r` allows a behaviour: on its target as the report writes it, or (for paths) with
/// its directory written out; an exec also by the installed name it was run as.
fn allows_behaviour(r: &Rule, b: &BehaviorOut, ctx: &BuildContext) -> bool {
    let (kind, target) = (b.kind, b.target.as_str());
    rule_allows(r, kind, target)
        || (kind.is_path() && written_out(target, ctx).is_some_and(|t| rule_allows(r, kind, &t)))
        || (kind == Kind::ProcessExec && b.run_as.as_deref().is_some_and(|n| r.exec.matches(n)))
}

/// A finding that only a notable observation confirms: hidden by encoding, naming a secret
/// (a credential file, a secret variable), a shell, or a file that runs code later.
fn sensitive(f: &crate::model::findings::Finding) -> bool {
    const SHELLS: &[&str] = &["sh", "bash", "dash", "zsh", "fish", "ksh"];
    const PERSISTENCE: &[&str] = &[
        ".bashrc",
        ".bash_profile",
        ".profile",
        ".zshrc",
        ".zprofile",
        "crontab",
        "/cron",
        ".config/autostart",
        ".config/systemd",
        ".cargo/config",
        ".gitconfig",
        ".git/hooks",
        "ld.so.preload",
    ];
    let target = f.target.as_deref().unwrap_or_default();
    let program = target.rsplit('/').next().unwrap_or(target);
    f.obfuscated
        || f.secret
        || crate::analysis::source::literals::credential_file(target)
        || SHELLS.contains(&program)
        || PERSISTENCE.iter().any(|p| target.contains(p))
}

/// A rule that names any pattern of this kind (for findings without a literal target).
fn covers(r: &Rule, kind: Kind) -> bool {
    match kind {
        Kind::FsRead => !r.read.is_empty() || !r.write.is_empty(),
        Kind::FsWrite => !r.write.is_empty(),
        Kind::FsDelete => !r.delete.is_empty(),
        Kind::ProcessExec => !r.exec.is_empty(),
        Kind::ProcessPersist => !r.persist.is_empty(),
        Kind::NetDns | Kind::NetConnect => !r.hosts.is_empty(),
        Kind::NetListen => !r.listen.is_empty(),
    }
}

/// The static findings of each package, by key.
struct Findings<'a>(BTreeMap<PackageKey, &'a [Finding]>);

impl<'a> Findings<'a> {
    fn of(scan: &'a ScanReport) -> Self {
        Self(
            scan.packages
                .iter()
                .map(|p| (PackageKey::new(&p.name, &p.version), &p.findings[..]))
                .collect(),
        )
    }

    /// The finding that explains behaviour `b` of `key`: the crate's own code of a kind that
    /// runs in that phase, or a dependency's library.
    fn explaining(
        &self,
        key: &PackageKey,
        b: &BehaviorOut,
        deps: &Dependencies,
    ) -> Option<FindingRef> {
        // What a program the crate started did (`sh`, `git` run by a build script) is explained
        // by the crate starting programs, not by its own file or network code.
        // A process left running is explained by code that detaches one, whoever runs it.
        let want = if b.kind == Kind::ProcessPersist {
            FindingKind::Does(Kind::ProcessPersist)
        } else if spawned_program(b) {
            FindingKind::Does(Kind::ProcessExec)
        } else {
            FindingKind::Does(b.kind)
        };
        let phases = b.phase.explained_by();
        let own = self
            .0
            .get(key)
            .into_iter()
            .flat_map(|v| v.iter())
            .filter(|f| phases.contains(&f.phase))
            .map(|f| (key, false, f));
        let from_deps = deps
            .get(key)
            .into_iter()
            .flatten()
            .filter_map(|d| self.0.get(d).map(|v| (d, v)))
            .flat_map(|(d, v)| {
                v.iter()
                    .filter(|f| f.phase == TargetKind::Library)
                    .map(move |f| (d, true, f))
            });
        own.chain(from_deps)
            .find(|(_, _, f)| f.kind == want)
            .map(|(k, in_dependency, f)| FindingRef {
                package: k.clone(),
                in_dependency,
                kind: f.kind,
                file: f.location.file.clone(),
                line: f.location.line,
                column: f.location.column,
                reason: f.reason.clone(),
            })
    }
}

/// Decides everything. `scan` (static findings of the same graph) enables reconciliation;
/// `deps` gives each crate's dependencies.
pub fn evaluate(
    report: &Report,
    rules: &[Rule],
    scan: Option<&ScanReport>,
    deps: &Dependencies,
    levels: &Levels,
    incomplete: Vec<Incomplete>,
) -> Verdict {
    let findings_of = scan.map(Findings::of);
    let mut used: BTreeSet<usize> = BTreeSet::new();
    let mut behaviors = Vec::new();
    // (crate, kind, phase) observed, for confirming findings: notable and routine apart.
    let mut observed: BTreeSet<(PackageKey, Kind, Phase)> = BTreeSet::new();
    let mut routine: BTreeSet<(PackageKey, Kind, Phase)> = BTreeSet::new();
    for c in &report.crates {
        let key = c.package.key();
        for r in &c.routine {
            routine.insert((key.clone(), r.kind, r.phase));
        }
        for b in &c.behaviors {
            observed.insert((key.clone(), b.kind, b.phase));
            let rule = rules.iter().position(|r| {
                applies(r, &key, b.phase, deps) && allows_behaviour(r, b, &report.context)
            });
            if let Some(i) = rule {
                used.insert(i);
            }
            let explained_by = findings_of
                .as_ref()
                .and_then(|f| f.explaining(&key, b, deps));
            let outcome = match (rule, scan.is_some(), &explained_by) {
                (Some(_), ..) => Outcome::Allowed,
                (None, true, None) => Outcome::Unexpected,
                (None, ..) => Outcome::Violation,
            };
            behaviors.push(BehaviorVerdict {
                name: key.name.clone(),
                version: key.version.clone(),
                behavior: b.clone(),
                outcome,
                level: outcome
                    .code()
                    .map_or(Level::Allow, |c| levels.of(c, Some(b.kind))),
                allowed_by: rule.map(|i| rules[i].origin.clone()),
                explained_by,
                suggestion: (outcome != Outcome::Allowed)
                    .then(|| AllowEntry::for_behavior(&key.name, b))
                    .flatten(),
            });
        }
    }
    for b in &report.unattributed {
        behaviors.push(BehaviorVerdict {
            name: "(unattributed)".into(),
            version: String::new(),
            behavior: b.clone(),
            outcome: Outcome::Violation,
            level: levels.of(Code::Violation, Some(b.kind)),
            allowed_by: None,
            explained_by: None,
            suggestion: None,
        });
    }
    let mut findings = Vec::new();
    if let Some(scan) = scan {
        let in_build: BTreeSet<PackageKey> =
            report.crates.iter().map(|c| c.package.key()).collect();
        for p in &scan.packages {
            let key = PackageKey::new(&p.name, &p.version);
            if !in_build.contains(&key) {
                continue;
            }
            for f in p.findings.iter().filter(|f| f.phase.runs_at_build_time()) {
                let Some(kind) = f.kind.behaviour() else {
                    continue;
                };
                let phase = f.phase.run_phase();
                let at = (key.clone(), kind, phase);
                // Routine behaviour explains an ordinary finding (a build script writing its
                // OUT_DIR), never one that names a secret, a shell or a place to persist.
                let seen = observed.contains(&at) || (!sensitive(f) && routine.contains(&at));
                let allowed = rules.iter().enumerate().any(|(i, r)| {
                    let ok = applies(r, &key, phase, deps)
                        && match &f.target {
                            Some(t) => rule_allows(r, kind, t),
                            None => covers(r, kind),
                        };
                    if ok {
                        used.insert(i);
                    }
                    ok
                });
                let outcome = if seen {
                    Outcome::Confirmed
                } else {
                    Outcome::Dormant
                };
                let level = match outcome.code() {
                    Some(c) if !allowed => levels.code(c),
                    _ => Level::Allow,
                };
                findings.push(FindingVerdict {
                    name: p.name.clone(),
                    version: p.version.clone(),
                    finding: f.clone(),
                    outcome,
                    allowed,
                    level,
                });
            }
        }
    }
    let unused_rules: Vec<RuleRef> = rules
        .iter()
        .enumerate()
        .filter(|(i, r)| !used.contains(i) && !r.origin.is_default())
        .map(|(_, r)| r.origin.clone())
        .collect();
    let mut counts = BTreeMap::new();
    for o in behaviors
        .iter()
        .map(|b| b.outcome)
        .chain(findings.iter().map(|f| f.outcome))
    {
        *counts.entry(o).or_default() += 1;
    }
    let worst = behaviors
        .iter()
        .map(|b| b.level)
        .chain(findings.iter().map(|f| f.level))
        .chain((!unused_rules.is_empty()).then(|| levels.code(Code::UnusedRule)))
        .chain((!incomplete.is_empty()).then(|| levels.code(Code::Incomplete)))
        .max()
        .unwrap_or(Level::Allow);
    Verdict {
        behaviors,
        findings,
        unused_rules,
        incomplete,
        counts,
        unused_rule_level: levels.code(Code::UnusedRule),
        incomplete_level: levels.code(Code::Incomplete),
        worst,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ordinary_findings_are_explained_by_routine_behaviour() {
        use crate::model::{
            FindingKind, TargetKind,
            findings::{Finding, Location},
        };
        let finding = |kind: Kind, target: Option<&str>| Finding {
            kind: FindingKind::Does(kind),
            phase: TargetKind::BuildScript,
            location: Location {
                file: "build.rs".into(),
                line: 1,
                column: 1,
            },
            code: String::new(),
            target: target.map(str::to_string),
            reason: String::new(),
            obfuscated: false,
            secret: false,
        };
        // Writing generated code, reading its sources: its OUT_DIR writes explain them.
        assert!(!sensitive(&finding(Kind::FsWrite, None)));
        assert!(!sensitive(&finding(Kind::FsRead, Some("src/table.txt"))));
        for (kind, t) in [
            (Kind::FsRead, "~/.ssh/id_rsa"),
            (Kind::FsRead, ".aws/credentials"),
            (Kind::ProcessExec, "/bin/sh"),
            (Kind::ProcessExec, "bash"),
            (Kind::FsWrite, "/home/u/.bashrc"),
            (Kind::FsWrite, ".cargo/config.toml"),
        ] {
            assert!(sensitive(&finding(kind, Some(t))), "{t}");
        }
        let hidden = Finding {
            obfuscated: true,
            ..finding(Kind::FsRead, Some("x"))
        };
        assert!(sensitive(&hidden));
    }

    #[test]
    fn an_exec_is_allowed_by_the_program_it_ran_or_the_installed_name_it_was_run_as() {
        let policy = super::super::config::parse(
            "[[allow]]\ncrate = \"x\"\nreason = \"r\"\nexec = [\"sh\"]\n",
            "p.toml",
            &[],
        )
        .unwrap()
        .unwrap();
        let r = &policy.rules[0];
        let ctx = BuildContext::default();
        let exec = |target: &str, run_as: Option<&str>| BehaviorOut {
            kind: Kind::ProcessExec,
            target: target.into(),
            phase: Phase::BuildScript,
            count: 1,
            succeeded: 1,
            example_chain: Default::default(),
            within: None,
            run_as: run_as.map(str::to_string),
            crate_chain: Vec::new(),
            example_stack: None,
        };
        assert!(allows_behaviour(r, &exec("/usr/bin/sh", None), &ctx));
        assert!(allows_behaviour(
            r,
            &exec("/usr/bin/dash", Some("/usr/bin/sh")),
            &ctx
        ));
        // `dash` run by a link the crate made (`$OUT_DIR/sh`): no installed name, not `sh`.
        assert!(!allows_behaviour(r, &exec("/usr/bin/dash", None), &ctx));
        assert!(!allows_behaviour(
            r,
            &exec("/usr/bin/curl", Some("/usr/bin/wget")),
            &ctx
        ));
    }

    #[test]
    fn a_common_directory_is_written_out_for_absolute_rules() {
        let ctx = BuildContext {
            tmpdir: "/tmp".into(),
            home: "/home/u".into(),
            cargo_home: "/home/u/.cargo".into(),
            ..BuildContext::default()
        };
        assert_eq!(
            written_out("$TMPDIR/cc1.s", &ctx).as_deref(),
            Some("/tmp/cc1.s")
        );
        assert_eq!(
            written_out("$CARGO_HOME/x", &ctx).as_deref(),
            Some("/home/u/.cargo/x")
        );
        assert_eq!(written_out("$HOME", &ctx).as_deref(), Some("/home/u"));
        assert_eq!(written_out("$HOMEX/y", &ctx), None);
        assert_eq!(
            written_out("$OUT_DIR/y", &ctx),
            None,
            "one per crate: never guessed"
        );
        assert_eq!(written_out("$WORKSPACE/y", &ctx), None, "not known");
    }
}
