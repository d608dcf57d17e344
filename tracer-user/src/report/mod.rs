//! The per-crate behaviour report: what each crate@version of the graph did, by phase and kind,
//! with the routine noise summarised. Rendered for people ([`human`]) or as versioned JSON
//! (schema in `docs/REPORT.md`).

pub mod human;
pub mod load;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    aggregate::{Aggregate, Behavior, Kind, Owner},
    attribution::{Index, Phase},
    cargo::invocation::BuildContext,
};

/// Version of the report JSON. Bumped on any incompatible change.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// A report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    /// False if any event was lost: behaviour may be missing.
    pub complete: bool,
    pub lost_events: u64,
    /// Events attributed.
    pub events: u64,
    pub command: Vec<String>,
    pub exit_code: Option<i32>,
    pub context: BuildContext,
    /// Every package cargo reported, those with notable behaviour first.
    pub crates: Vec<CrateReport>,
    /// What cargo itself did (outside any crate's phase).
    pub cargo: Activity,
    /// Behaviour of processes no crate or cargo could be named for, with their chains.
    pub unattributed: Vec<BehaviorOut>,
}

/// One crate@version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CrateReport {
    pub name: String,
    pub version: String,
    pub source: String,
    pub id: String,
    pub phases: Vec<PhaseOut>,
    /// Notable behaviours, most suspicious kinds first.
    pub behaviors: Vec<BehaviorOut>,
    /// Routine behaviours (own sources, OUT_DIR, toolchain…), counted per `"<phase> <kind>"`.
    pub routine: BTreeMap<String, u64>,
    /// The routine behaviours themselves (with `--verbose`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routine_behaviors: Vec<BehaviorOut>,
}

/// Notable and routine behaviour of cargo itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Activity {
    pub behaviors: Vec<BehaviorOut>,
    pub routine: BTreeMap<String, u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routine_behaviors: Vec<BehaviorOut>,
}

/// Whether a phase ran in this build.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseOut {
    pub phase: Phase,
    pub ran: bool,
    /// For people: what happened, or why it did not run.
    pub status: String,
    /// Processes started in this phase.
    pub processes: u64,
    /// Proc macros: the crates being compiled when it ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expanded_in: Vec<String>,
}

/// One behaviour.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BehaviorOut {
    pub kind: Kind,
    pub target: String,
    pub phase: Phase,
    pub count: u64,
    /// How many of the `count` attempts succeeded.
    pub succeeded: u64,
    /// The processes, outermost first, of the first occurrence (`name[pid]`).
    pub example_chain: Vec<String>,
    /// Proc macros: the crate being compiled when it ran (`name@version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<String>,
}

/// How a trace went, for the report header.
#[derive(Debug, Clone, Default)]
pub struct TraceInfo {
    pub command: Vec<String>,
    pub exit_code: Option<i32>,
    pub complete: bool,
    pub lost_events: u64,
    /// Proc-macro probes were attached (uprobes available).
    pub proc_macro_probes: bool,
}

fn out(b: &Behavior, index: &Index) -> BehaviorOut {
    BehaviorOut {
        kind: b.kind,
        target: b.target.clone(),
        phase: b.phase,
        count: b.count,
        succeeded: b.succeeded,
        example_chain: b.example_chain.clone(),
        within: b.within.map(|w| index.packages[w].key()),
    }
}

fn split(
    list: &[Behavior],
    index: &Index,
    verbose: bool,
) -> (Vec<BehaviorOut>, BTreeMap<String, u64>, Vec<BehaviorOut>) {
    let mut notable = Vec::new();
    let mut routine = BTreeMap::new();
    let mut routine_list = Vec::new();
    for b in list {
        if b.routine {
            *routine
                .entry(format!("{} {}", b.phase.as_str(), b.kind.as_str()))
                .or_default() += b.count;
            if verbose {
                routine_list.push(out(b, index));
            }
        } else {
            notable.push(out(b, index));
        }
    }
    (notable, routine, routine_list)
}

impl Report {
    pub fn build(
        agg: &Aggregate,
        index: &Index,
        ctx: &BuildContext,
        info: &TraceInfo,
        verbose: bool,
    ) -> Self {
        let empty = Vec::new();
        let mut crates: Vec<CrateReport> = (0..index.packages.len())
            .map(|p| {
                let pkg = &index.packages[p];
                let (behaviors, routine, routine_behaviors) = split(
                    agg.behaviors.get(&Owner::Crate(p)).unwrap_or(&empty),
                    index,
                    verbose,
                );
                CrateReport {
                    name: pkg.name.clone(),
                    version: pkg.version.clone(),
                    source: pkg.source.clone(),
                    id: pkg.id.clone(),
                    phases: phases(p, agg, index, info),
                    behaviors,
                    routine,
                    routine_behaviors,
                }
            })
            .collect();
        // Crates with the most suspicious notable behaviour first, then by name and version.
        crates.sort_by(|a, b| {
            let worst = |c: &CrateReport| c.behaviors.iter().map(|x| x.kind).min();
            let rank = |c: &CrateReport| worst(c).map(|k| k as u8).unwrap_or(u8::MAX);
            (rank(a), &a.name, &a.version).cmp(&(rank(b), &b.name, &b.version))
        });
        let (behaviors, routine, routine_behaviors) = split(
            agg.behaviors.get(&Owner::Cargo).unwrap_or(&empty),
            index,
            verbose,
        );
        let unattributed = agg
            .behaviors
            .get(&Owner::Unattributed)
            .unwrap_or(&empty)
            .iter()
            .map(|b| out(b, index))
            .collect();
        Self {
            schema_version: REPORT_SCHEMA_VERSION,
            complete: info.complete,
            lost_events: info.lost_events,
            events: agg.events,
            command: info.command.clone(),
            exit_code: info.exit_code,
            context: ctx.clone(),
            crates,
            cargo: Activity {
                behaviors,
                routine,
                routine_behaviors,
            },
            unattributed,
        }
    }
}

fn phases(p: usize, agg: &Aggregate, index: &Index, info: &TraceInfo) -> Vec<PhaseOut> {
    let procs = |ph: Phase| {
        agg.processes
            .get(&(Owner::Crate(p), ph))
            .copied()
            .unwrap_or(0)
    };
    let ran = |ph: Phase| agg.ran.contains(&(p, ph));
    let mut v = Vec::new();
    if index.build_scripts.contains_key(&p) {
        v.push(PhaseOut {
            phase: Phase::BuildScript,
            ran: ran(Phase::BuildScript),
            status: if ran(Phase::BuildScript) {
                "ran".into()
            } else {
                "did not run: cargo reused its output from an earlier build (fresh), so its behaviour \
                 was not observed; trace with --fresh to run it"
                    .into()
            },
            processes: procs(Phase::BuildScript),
            expanded_in: Vec::new(),
        });
    }
    if index.proc_macros.values().any(|&q| q == p) || agg.ran.contains(&(p, Phase::ProcMacro)) {
        let within: Vec<String> = agg
            .expanded_in
            .get(&p)
            .into_iter()
            .flatten()
            .map(|w| index.packages[*w].key())
            .collect();
        let status = if ran(Phase::ProcMacro) {
            format!(
                "expanded while compiling {}",
                if within.is_empty() {
                    "(unknown)".into()
                } else {
                    within.join(", ")
                }
            )
        } else if info.proc_macro_probes {
            "not seen running (no dependent crate was compiled in this build)".into()
        } else {
            "not observed: proc-macro probes (uprobes) were not attached; its activity is counted under \
             the compiling crate"
                .into()
        };
        v.push(PhaseOut {
            phase: Phase::ProcMacro,
            ran: ran(Phase::ProcMacro),
            status,
            processes: 0,
            expanded_in: within,
        });
    }
    v.push(PhaseOut {
        phase: Phase::Compile,
        ran: ran(Phase::Compile),
        status: if ran(Phase::Compile) {
            "compiled".into()
        } else {
            "not recompiled (fresh)".into()
        },
        processes: procs(Phase::Compile),
        expanded_in: Vec::new(),
    });
    for ph in [Phase::Test, Phase::Run] {
        if ran(ph) {
            v.push(PhaseOut {
                phase: ph,
                ran: true,
                status: "ran".into(),
                processes: procs(ph),
                expanded_in: Vec::new(),
            });
        }
    }
    v
}

/// Builds a report from a trace's records and cargo's messages, in trace order.
pub fn from_trace(
    events: &[crate::record::EventRecord],
    cargo_messages: &[serde_json::Value],
    ctx: &BuildContext,
    root_pid: u32,
    info: &TraceInfo,
    verbose: bool,
) -> Report {
    let index = Index::from_messages(cargo_messages);
    let mut agg = crate::aggregate::Aggregator::new(&index, ctx, root_pid);
    for e in events {
        agg.push(e);
    }
    Report::build(&agg.finish(), &index, ctx, info, verbose)
}
