//! The per-crate behaviour report: what each crate@version of the graph did, by phase and kind,
//! with the routine noise summarised. Data only (schema in `docs/REPORT.md`); `output/` renders
//! it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    aggregate::{Aggregate, Aggregator, Behavior, Owner},
    attribution::{Index, runtime},
    model::{BuildContext, Kind, Package, PackageKey, Phase, ProcessChain},
    trace::{Trace, stack::CallStack},
};

/// Version of the report JSON. Bumped on any incompatible change.
pub const REPORT_SCHEMA_VERSION: u32 = 2;

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
    /// The notable part of the process tree: processes that start a phase or did something not
    /// routine, and their ancestors.
    #[serde(default)]
    pub processes: Vec<crate::aggregate::processes::ProcessNode>,
}

/// One crate@version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CrateReport {
    #[serde(flatten)]
    pub package: Package,
    pub phases: Vec<PhaseOut>,
    /// Notable behaviours, most suspicious kinds first.
    pub behaviors: Vec<BehaviorOut>,
    /// Routine behaviours (own sources, OUT_DIR, toolchain…), counted per phase and kind.
    pub routine: Vec<RoutineCount>,
    /// The routine behaviours themselves (with `--verbose`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routine_behaviors: Vec<BehaviorOut>,
}

/// How many routine behaviours of one kind a phase had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutineCount {
    pub phase: Phase,
    pub kind: Kind,
    pub count: u64,
}

/// Notable and routine behaviour of cargo itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Activity {
    pub behaviors: Vec<BehaviorOut>,
    pub routine: Vec<RoutineCount>,
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
    pub expanded_in: Vec<PackageKey>,
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
    /// The processes, outermost first, of the first occurrence.
    pub example_chain: ProcessChain,
    /// Proc macros: the crate being compiled when it ran. Runtime and constructor
    /// behaviours: the package whose test or binary it ran in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<PackageKey>,
    /// An exec of an installed program by another installed name (`/usr/bin/sh` for
    /// `/usr/bin/dash`): a rule may name either.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as: Option<String>,
    /// In a test or binary: the packages whose code was on the call's stack, innermost first
    /// (who decided, and who carried it out), from the first occurrence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crate_chain: Vec<PackageKey>,
    /// That occurrence's call stack, symbolized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example_stack: Option<CallStack>,
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

impl TraceInfo {
    pub fn of(t: &Trace) -> Self {
        Self {
            command: t.start.command.clone(),
            exit_code: t.end.as_ref().and_then(|e| e.exit_code),
            // A trace cut off before its `end` line is incomplete by definition.
            complete: t.complete(),
            lost_events: t.lost_events(),
            proc_macro_probes: t.start.proc_macro_probes,
        }
    }
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
        run_as: b.run_as.clone(),
        crate_chain: b
            .example_stack
            .as_ref()
            .and_then(|s| runtime::responsible(index, s))
            .map(|r| r.chain.iter().map(|&p| index.packages[p].key()).collect())
            .unwrap_or_default(),
        example_stack: b.example_stack.clone(),
    }
}

fn split(
    list: &[Behavior],
    index: &Index,
    verbose: bool,
) -> (Vec<BehaviorOut>, Vec<RoutineCount>, Vec<BehaviorOut>) {
    let mut notable = Vec::new();
    let mut routine: BTreeMap<(&str, &str), RoutineCount> = BTreeMap::new();
    let mut routine_list = Vec::new();
    for b in list {
        if b.routine {
            // Listed by name (phase, then kind), as people read them.
            routine
                .entry((b.phase.as_str(), b.kind.as_str()))
                .or_insert(RoutineCount {
                    phase: b.phase,
                    kind: b.kind,
                    count: 0,
                })
                .count += b.count;
            if verbose {
                routine_list.push(out(b, index));
            }
        } else {
            notable.push(out(b, index));
        }
    }
    (notable, routine.into_values().collect(), routine_list)
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
                    package: pkg.clone(),
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
            (rank(a), &a.package.name, &a.package.version).cmp(&(
                rank(b),
                &b.package.name,
                &b.package.version,
            ))
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
            processes: agg.tree.clone(),
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
        let within: Vec<PackageKey> = agg
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
                    within
                        .iter()
                        .map(PackageKey::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
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
        } else if index.compiled.contains(&p) {
            "compiled out of sight: cargo rebuilt it, but no rustc for it was traced (a rustc \
             wrapper's cache or server?)"
                .into()
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

/// Builds the report of a trace (its events attributed with its cargo messages, in order).
/// `None` for a trace that has no build context (not written by `cargo tracer build|test`).
pub fn from_trace(t: &Trace, verbose: bool) -> Option<Report> {
    let mut index = Index::from_messages(&t.cargo_messages);
    index.mechanisms = crate::policy::defaults::MECHANISMS
        .iter()
        .map(|m| m.to_string())
        .collect();
    from_trace_with(t, &index, verbose)
}

/// [`from_trace`] with the index of its messages already built.
pub fn from_trace_with(t: &Trace, index: &Index, verbose: bool) -> Option<Report> {
    let ctx = t.context.as_ref()?;
    let mut agg = Aggregator::new(index, ctx, t.start.root_pid).with_stacks(&t.stacks);
    for e in &t.events {
        agg.push(e);
    }
    if let Some(end) = &t.end {
        agg.still_running(&end.still_running);
    }
    Some(Report::build(
        &agg.finish(),
        index,
        ctx,
        &TraceInfo::of(t),
        verbose,
    ))
}
