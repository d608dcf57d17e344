//! The use case behind `cargo tracer build|test`: read the graph and the policy (mistakes
//! reported before anything is built), trace the build while the sources are scanned, build the
//! per-crate report, finish the scan with the compiled artifacts, and judge — a verdict and the
//! exit code it means. The CLI only turns flags into [`CheckOptions`] and prints what comes back.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use crate::{
    analysis::scan::{self, ScanOptions, ScanReport},
    cargo::{
        build::{self, Settings},
        graph::Graph,
        invocation::Invocation,
    },
    identity,
    model::{Code, Level, Phase},
    policy::{
        self,
        eval::{Incomplete, Verdict, evaluate},
        levels::Levels,
    },
    report::{self, Report},
    session::Summary,
    trace::{Trace, jsonl::FileSink},
};

/// Everything `build|test` was asked to do, validated.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub invocation: Invocation,
    pub settings: Settings,
    /// A policy file instead of the project's own.
    pub policy: Option<PathBuf>,
    pub levels: Levels,
    /// Report verdicts without failing on them.
    pub audit: bool,
    /// `None`: do not scan (`--no-scan`). The cache directory defaults to the target dir's.
    pub scan: Option<ScanSettings>,
    pub verbose: bool,
    /// Also write the trace here.
    pub events: Option<PathBuf>,
}

/// How to scan during the build.
#[derive(Debug, Clone)]
pub struct ScanSettings {
    pub cache_dir: Option<PathBuf>,
    pub jobs: usize,
}

/// The stages, for `--verbose` timings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    GraphAndPolicy,
    TracedBuild,
    Report,
    Scan,
    Verdict,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GraphAndPolicy => "dependency graph and policy",
            Self::TracedBuild => "traced build",
            Self::Report => "per-crate report",
            Self::Scan => "static scan",
            Self::Verdict => "verdict",
        }
    }
}

/// What a check ends in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Nothing denied: the traced command's own status (its code, 128+N for signal N).
    Command(u8),
    /// The policy is violated (exit 1).
    Violations,
    /// The trace may be missing behaviour (exit 2: fail closed).
    Incomplete,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Self::Command(c) => c,
            Self::Violations => 1,
            Self::Incomplete => 2,
        }
    }
}

/// A finished check.
pub struct Checked {
    pub graph: Graph,
    pub policy_sources: Vec<String>,
    pub summary: Summary,
    pub report: Report,
    pub scan: Option<ScanReport>,
    pub verdict: Verdict,
    pub exit: Exit,
}

/// Why a check could not be made (the build's own failure is an exit code, not this).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("reading the dependency graph")]
    Graph(#[from] crate::cargo::graph::GraphError),
    #[error(transparent)]
    Policy(#[from] policy::PolicyError),
    #[error(transparent)]
    Identity(#[from] identity::IdentityError),
    #[error("creating the events file {path}")]
    Events {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Build(#[from] build::BuildError),
    #[error("the trace has no build context")]
    NoContext,
}

/// The exit code of a traced command's status.
pub fn command_exit(code: Option<i32>, signal: Option<i32>) -> u8 {
    let c = match (code, signal) {
        (Some(c), _) => c,
        (_, Some(sig)) => 128 + sig,
        _ => 2,
    };
    c.clamp(0, 255) as u8
}

/// Why `trace` (with its `report`) cannot be trusted to be complete.
pub fn incompleteness(trace: &Trace, report: &Report, fresh: bool) -> Vec<Incomplete> {
    let mut out: Vec<Incomplete> = trace
        .damage
        .iter()
        .cloned()
        .map(Incomplete::Damaged)
        .collect();
    match &trace.end {
        None => out.push(Incomplete::NoEnd),
        Some(e) if !e.complete || e.lost_events() > 0 => out.push(Incomplete::LostEvents {
            lost: e.lost_events(),
            ringbuf: e.lost.ringbuf,
            inflight: e.lost.inflight,
            tracking: e.lost.tracking,
            unmatched: e.lost.unmatched,
            undecodable: e.decode_errors,
        }),
        Some(_) => {}
    }
    if fresh {
        for c in &report.crates {
            if c.phases
                .iter()
                .any(|p| p.phase == Phase::BuildScript && !p.ran)
            {
                out.push(Incomplete::ScriptDidNotRun {
                    package: c.package.key(),
                });
            }
        }
    }
    out
}

/// The exit a verdict means: incomplete fails closed, denied outcomes fail unless `audit`.
pub fn exit_of(v: &Verdict, levels: &Levels, audit: bool, command: u8) -> Exit {
    if !v.incomplete.is_empty() && levels.code(Code::Incomplete) == Level::Deny {
        return Exit::Incomplete;
    }
    let denied =
        v.denied() || (!v.unused_rules.is_empty() && levels.code(Code::UnusedRule) == Level::Deny);
    if denied && !audit {
        Exit::Violations
    } else {
        Exit::Command(command)
    }
}

/// Runs the whole check. `stage` is told how long each stage took.
pub fn check(
    o: &CheckOptions,
    stage: &mut dyn FnMut(Stage, Duration),
) -> Result<Checked, CheckError> {
    let mut t = Instant::now();
    let mut done = |s: Stage, t: &mut Instant| {
        stage(s, t.elapsed());
        *t = Instant::now();
    };
    let who = identity::for_command(o.settings.as_root)?;
    // The policy is read (and its mistakes reported) before anything is built.
    let graph = Graph::load(&o.invocation.graph_args(), who.as_ref())?;
    let policy = policy::load(
        &graph.workspace_root,
        &graph.local_manifests(),
        o.policy.as_deref(),
    )?;
    done(Stage::GraphAndPolicy, &mut t);
    // The source scan needs nothing built: it runs while the build does, under SCHED_IDLE so
    // it only takes CPU the build leaves idle.
    let all: Vec<usize> = (0..graph.packages.len()).collect();
    let source_scan = o.scan.as_ref().map(|s| {
        let opts = ScanOptions {
            cache_dir: Some(
                s.cache_dir
                    .clone()
                    .unwrap_or_else(|| graph.target_dir.join("cargo-tracer").join("scan-cache")),
            ),
            progress: false,
            jobs: s.jobs,
        };
        let (graph, all) = (graph.clone(), all.clone());
        std::thread::spawn(move || {
            // SAFETY: a plain syscall on the calling thread with a valid sched_param; the scan
            // workers it starts inherit the policy. Failing only costs the build some CPU.
            unsafe {
                let param = libc::sched_param { sched_priority: 0 };
                libc::sched_setscheduler(0, libc::SCHED_IDLE, &param);
            }
            scan::scan_sources(&graph, &all, &opts)
        })
    });
    let mut file = match &o.events {
        Some(p) => Some(FileSink::create(p).map_err(|source| CheckError::Events {
            path: p.display().to_string(),
            source,
        })?),
        None => None,
    };
    let built = build::trace(
        &o.invocation,
        &graph,
        who.as_ref(),
        &o.settings,
        file.as_mut().map(|f| f as &mut dyn crate::trace::Sink),
    )?;
    drop(file);
    done(Stage::TracedBuild, &mut t);
    let report = report::from_trace(&built.trace, o.verbose).ok_or(CheckError::NoContext)?;
    done(Stage::Report, &mut t);
    // Artifacts (build scripts, proc macros, test binaries) exist only now.
    let scan = source_scan.map(|h| {
        // A panic in the scan thread is a bug: report it as one, here.
        let src = h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        scan::with_artifacts(src, &graph, &all)
    });
    done(Stage::Scan, &mut t);
    let incomplete = incompleteness(&built.trace, &report, o.settings.fresh);
    let verdict = evaluate(
        &report,
        &policy.rules,
        scan.as_ref(),
        &graph.dependencies(),
        &o.levels,
        incomplete,
    );
    done(Stage::Verdict, &mut t);
    let s = &built.summary;
    let exit = exit_of(
        &verdict,
        &o.levels,
        o.audit,
        command_exit(s.exit_code, s.signal),
    );
    Ok(Checked {
        graph,
        policy_sources: policy.sources,
        summary: built.summary,
        report,
        scan,
        verdict,
        exit,
    })
}
