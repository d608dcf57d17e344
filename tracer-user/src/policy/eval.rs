//! Verdicts: each observed behaviour against the policy (allowed by a rule, by the routine
//! baseline, or a violation) and against the static findings (explained by one — confirmed —
//! or not — unexpected); each build-time static finding that was not observed is dormant.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{config::Rule, pattern};
use crate::{
    aggregate::Kind,
    analysis::{CodePhase, Finding, FindingKind, scan::ScanReport},
    attribution::Phase,
    report::{BehaviorOut, Report},
};

/// How much an outcome matters (cargo-deny's levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Allow,
    Warn,
    Deny,
}

/// What happened to one behaviour or finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Observed and allowed (by a rule or the routine baseline).
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

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Violation => "violation",
            Self::Unexpected => "unexpected",
            Self::Confirmed => "confirmed",
            Self::Dormant => "dormant",
        }
    }
}

/// Levels per outcome (and per behaviour kind, which wins): `-D`, `-W`, `-A`.
#[derive(Debug, Clone)]
pub struct Levels(BTreeMap<String, Level>);

impl Default for Levels {
    fn default() -> Self {
        let mut m = BTreeMap::new();
        m.insert("violation".into(), Level::Deny);
        m.insert("unexpected".into(), Level::Deny);
        m.insert("dormant".into(), Level::Warn);
        m.insert("allowed".into(), Level::Allow);
        m.insert("confirmed".into(), Level::Allow);
        m.insert("unused-rule".into(), Level::Warn);
        m.insert("incomplete".into(), Level::Deny);
        Self(m)
    }
}

/// Names `-D/-W/-A` accept.
pub const LEVEL_NAMES: &[&str] = &[
    "violation",
    "unexpected",
    "dormant",
    "unused-rule",
    "incomplete",
    "net.connect",
    "net.dns",
    "net.listen",
    "process.exec",
    "fs.delete",
    "fs.write",
    "fs.read",
];

impl Levels {
    pub fn set(&mut self, name: &str, level: Level) -> Result<(), String> {
        if !LEVEL_NAMES.contains(&name) {
            let hint = super::diag::did_you_mean(name, LEVEL_NAMES)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return Err(format!(
                "`{name}` is not an outcome or kind (one of: {}){hint}",
                LEVEL_NAMES.join(", ")
            ));
        }
        self.0.insert(name.to_string(), level);
        Ok(())
    }

    pub fn get(&self, name: &str) -> Level {
        self.0.get(name).copied().unwrap_or(Level::Warn)
    }

    /// A behaviour's level: its kind's if set, else its outcome's (never above for allowed ones).
    fn of(&self, outcome: Outcome, kind: &str) -> Level {
        let by_outcome = self.get(outcome.as_str());
        if matches!(outcome, Outcome::Allowed | Outcome::Confirmed) {
            return by_outcome;
        }
        self.0.get(kind).copied().unwrap_or(by_outcome)
    }
}

/// The verdict on one observed behaviour.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BehaviorVerdict {
    pub name: String,
    pub version: String,
    #[serde(flatten)]
    pub behavior: BehaviorOut,
    pub outcome: Outcome,
    pub level: Level,
    /// The rule that allows it (`reason (file:line)`), or `routine`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_by: Option<String>,
    /// The static finding that explains it (`file:line: reason`), when the graph was scanned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explained_by: Option<String>,
    /// The allow entry that would permit it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
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

/// Everything decided about one build.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Verdict {
    pub behaviors: Vec<BehaviorVerdict>,
    pub findings: Vec<FindingVerdict>,
    /// Rules that matched nothing in this build (`reason (file:line)`).
    pub unused_rules: Vec<String>,
    /// Why the trace cannot be trusted to be complete.
    pub incomplete: Vec<String>,
    /// Outcome → count.
    pub counts: BTreeMap<String, u64>,
    /// `deny` if anything at deny level happened.
    pub worst: Level,
}

fn finding_kind(k: Kind) -> FindingKind {
    match k {
        Kind::NetConnect => FindingKind::NetConnect,
        Kind::NetDns => FindingKind::NetDns,
        Kind::NetListen => FindingKind::NetListen,
        Kind::ProcessExec => FindingKind::ProcessExec,
        Kind::FsDelete => FindingKind::FsDelete,
        Kind::FsWrite => FindingKind::FsWrite,
        Kind::FsRead => FindingKind::FsRead,
    }
}

/// Whether the acting process is a program the phase started rather than the phase's own code
/// (the build script binary, or rustc running a proc macro).
fn spawned_program(b: &BehaviorOut) -> bool {
    let Some(actor) = b.example_chain.last() else {
        return false;
    };
    let name = actor.split('[').next().unwrap_or("");
    match b.phase {
        Phase::BuildScript => {
            !name.starts_with("build-script-build") && !name.starts_with("build_script_build")
        }
        Phase::ProcMacro => !name.starts_with("rustc"),
        _ => false,
    }
}

/// Code phases whose findings can explain behaviour in an observed phase.
fn explaining_phases(p: Phase) -> &'static [CodePhase] {
    match p {
        Phase::BuildScript => &[CodePhase::BuildScript, CodePhase::Library],
        Phase::ProcMacro => &[CodePhase::ProcMacro, CodePhase::Library],
        Phase::Compile => &[CodePhase::Library],
        Phase::Test => &[CodePhase::Test, CodePhase::Library, CodePhase::Binary],
        Phase::Run => &[CodePhase::Binary, CodePhase::Library],
        Phase::Cargo => &[],
    }
}

/// The observed phase a code phase runs in (for evaluating findings against rules).
fn run_phase(p: CodePhase) -> Phase {
    match p {
        CodePhase::BuildScript => Phase::BuildScript,
        CodePhase::ProcMacro => Phase::ProcMacro,
        CodePhase::Test => Phase::Test,
        CodePhase::Library | CodePhase::Binary => Phase::Run,
    }
}

fn rule_label(r: &Rule) -> String {
    format!("{} ({}:{})", r.reason, r.origin.file, r.origin.line)
}

/// Whether rule `r` covers crate `name@version` in `phase`: its own crate (and version), or, for
/// a `dependents` rule, the build script of a crate that depends on the rule's crate.
fn applies(
    r: &Rule,
    name: &str,
    version: &str,
    phase: Phase,
    deps: &BTreeMap<String, Vec<String>>,
) -> bool {
    let version_ok = |v: &str| {
        r.version
            .as_ref()
            .is_none_or(|req| semver::Version::parse(v).is_ok_and(|v| req.matches(&v)))
    };
    let phase_ok = r.phases.is_empty() || r.phases.contains(&phase);
    if r.krate == name {
        return phase_ok && version_ok(version);
    }
    r.dependents
        && phase_ok
        && matches!(phase, Phase::BuildScript | Phase::Compile)
        && deps
            .get(&format!("{name}@{version}"))
            .into_iter()
            .flatten()
            .any(|d| {
                d.rsplit_once('@')
                    .is_some_and(|(n, v)| n == r.krate && version_ok(v))
            })
}

/// Whether `r` allows `kind` on `target` (with placeholders, as the report writes it).
fn allows(r: &Rule, kind: Kind, target: &str) -> bool {
    let any = |globs: &[String]| globs.iter().any(|g| pattern::glob_match(g, target));
    match kind {
        Kind::FsRead => any(&r.read) || any(&r.write),
        Kind::FsWrite => any(&r.write),
        Kind::FsDelete => any(&r.delete),
        Kind::ProcessExec => r.exec.iter().any(|e| pattern::exec_match(e, target)),
        Kind::NetDns => r.hosts.iter().any(|h| h.allows_dns(target)),
        Kind::NetConnect => r.hosts.iter().any(|h| h.allows_addr(target)),
        Kind::NetListen => r.listen.iter().any(|h| h.allows_addr(target)),
    }
}

/// A toml entry that would allow a behaviour.
fn suggestion(name: &str, b: &BehaviorOut) -> String {
    let (key, value) = super::suggest::allow_entry(b.kind, &b.target);
    format!(
        "[[allow]]\ncrate = {name:?}\nphase = {:?}\nreason = \"TODO: why {name} needs this\"\n{key} = [{value:?}]",
        b.phase.as_str()
    )
}

/// Decides everything. `scan` (static findings of the same graph) enables reconciliation;
/// `deps` gives each crate's dependencies (`name@version` → keys).
pub fn evaluate(
    report: &Report,
    rules: &[Rule],
    scan: Option<&ScanReport>,
    deps: &BTreeMap<String, Vec<String>>,
    levels: &Levels,
    incomplete: Vec<String>,
) -> Verdict {
    let findings_of: BTreeMap<String, &Vec<Finding>> = scan
        .map(|s| {
            s.packages
                .iter()
                .map(|p| (format!("{}@{}", p.name, p.version), &p.findings))
                .collect()
        })
        .unwrap_or_default();
    let mut used: BTreeSet<usize> = BTreeSet::new();
    let mut behaviors = Vec::new();
    // (crate, kind, phase) observed, for confirming findings.
    let mut observed: BTreeSet<(String, FindingKind, Phase)> = BTreeSet::new();
    let explain = |key: &str, b: &BehaviorOut| -> Option<String> {
        // What a program the crate started did (`sh`, `git` run by a build script) is explained
        // by the crate starting programs, not by its own file or network code.
        let want = if spawned_program(b) {
            FindingKind::ProcessExec
        } else {
            finding_kind(b.kind)
        };
        let phases = explaining_phases(b.phase);
        let own = findings_of
            .get(key)
            .into_iter()
            .flat_map(|v| v.iter())
            .filter(|f| phases.contains(&f.phase));
        let from_deps = deps
            .get(key)
            .into_iter()
            .flatten()
            .filter_map(|d| findings_of.get(d).map(|v| (d, v)))
            .flat_map(|(d, v)| {
                v.iter()
                    .filter(|f| f.phase == CodePhase::Library)
                    .map(move |f| (Some(d), f))
            });
        own.map(|f| (None, f))
            .chain(from_deps)
            .find(|(_, f)| f.kind == want)
            .map(|(dep, f)| {
                let via = dep.map(|d| format!(" in {d}")).unwrap_or_default();
                format!("{}:{}{via}: {}", f.location.file, f.location.line, f.reason)
            })
    };
    // Routine behaviour confirms a finding too (a build script writing its OUT_DIR).
    let routine_kinds: BTreeSet<(String, String)> = report
        .crates
        .iter()
        .flat_map(|c| {
            c.routine
                .keys()
                .map(move |k| (format!("{}@{}", c.name, c.version), k.clone()))
        })
        .collect();
    for c in &report.crates {
        let key = format!("{}@{}", c.name, c.version);
        for b in &c.behaviors {
            observed.insert((key.clone(), finding_kind(b.kind), b.phase));
            let rule = rules.iter().position(|r| {
                applies(r, &c.name, &c.version, b.phase, deps) && allows(r, b.kind, &b.target)
            });
            if let Some(i) = rule {
                used.insert(i);
            }
            let explained_by = scan.and(explain(&key, b));
            let outcome = match (rule, scan.is_some(), &explained_by) {
                (Some(_), ..) => Outcome::Allowed,
                (None, true, None) => Outcome::Unexpected,
                (None, ..) => Outcome::Violation,
            };
            behaviors.push(BehaviorVerdict {
                name: c.name.clone(),
                version: c.version.clone(),
                behavior: b.clone(),
                outcome,
                level: levels.of(outcome, b.kind.as_str()),
                allowed_by: rule.map(|i| rule_label(&rules[i])),
                explained_by,
                suggestion: (outcome != Outcome::Allowed).then(|| suggestion(&c.name, b)),
            });
        }
    }
    for b in &report.unattributed {
        let outcome = Outcome::Violation;
        behaviors.push(BehaviorVerdict {
            name: "(unattributed)".into(),
            version: String::new(),
            behavior: b.clone(),
            outcome,
            level: levels.of(outcome, b.kind.as_str()),
            allowed_by: None,
            explained_by: None,
            suggestion: None,
        });
    }
    let mut findings = Vec::new();
    if let Some(scan) = scan {
        let in_build: BTreeSet<String> = report
            .crates
            .iter()
            .map(|c| format!("{}@{}", c.name, c.version))
            .collect();
        for p in &scan.packages {
            let key = format!("{}@{}", p.name, p.version);
            if !in_build.contains(&key) {
                continue;
            }
            for f in p.findings.iter().filter(|f| f.phase.runs_at_build_time()) {
                let Some(kind) = behaviour_kind(f.kind) else {
                    continue;
                };
                let phase = run_phase(f.phase);
                let seen = observed.contains(&(key.clone(), f.kind, phase))
                    || routine_kinds
                        .contains(&(key.clone(), format!("{} {}", phase.as_str(), kind.as_str())));
                let allowed = rules.iter().enumerate().any(|(i, r)| {
                    let ok = applies(r, &p.name, &p.version, phase, deps)
                        && match &f.target {
                            Some(t) => allows(r, kind, t),
                            None => rule_covers(r, kind),
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
                let level = if allowed {
                    Level::Allow
                } else {
                    levels.get(outcome.as_str())
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
    let unused_rules: Vec<String> = rules
        .iter()
        .enumerate()
        .filter(|(i, r)| !used.contains(i) && !r.origin.file.starts_with("default:"))
        .map(|(_, r)| format!("{} for {}", rule_label(r), r.krate))
        .collect();
    let mut counts = BTreeMap::new();
    for b in &behaviors {
        *counts.entry(b.outcome.as_str().to_string()).or_default() += 1;
    }
    for f in &findings {
        *counts.entry(f.outcome.as_str().to_string()).or_default() += 1;
    }
    let unused_level = levels.get("unused-rule");
    let incomplete_level = levels.get("incomplete");
    let worst = behaviors
        .iter()
        .map(|b| b.level)
        .chain(findings.iter().map(|f| f.level))
        .chain((!unused_rules.is_empty()).then_some(unused_level))
        .chain((!incomplete.is_empty()).then_some(incomplete_level))
        .max()
        .unwrap_or(Level::Allow);
    Verdict {
        behaviors,
        findings,
        unused_rules,
        incomplete,
        counts,
        worst,
    }
}

/// A rule that names any pattern of this kind (for findings without a literal target).
fn rule_covers(r: &Rule, kind: Kind) -> bool {
    match kind {
        Kind::FsRead => !r.read.is_empty() || !r.write.is_empty(),
        Kind::FsWrite => !r.write.is_empty(),
        Kind::FsDelete => !r.delete.is_empty(),
        Kind::ProcessExec => !r.exec.is_empty(),
        Kind::NetDns | Kind::NetConnect => !r.hosts.is_empty(),
        Kind::NetListen => !r.listen.is_empty(),
    }
}

/// The behaviour kind a finding predicts (none for mentions and environment reads).
fn behaviour_kind(k: FindingKind) -> Option<Kind> {
    Some(match k {
        FindingKind::NetConnect => Kind::NetConnect,
        FindingKind::NetDns => Kind::NetDns,
        FindingKind::NetListen => Kind::NetListen,
        FindingKind::ProcessExec => Kind::ProcessExec,
        FindingKind::FsDelete => Kind::FsDelete,
        FindingKind::FsWrite => Kind::FsWrite,
        FindingKind::FsRead => Kind::FsRead,
        _ => return None,
    })
}
