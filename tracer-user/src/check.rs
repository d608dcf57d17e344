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
    attribution::Index,
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
    trace::{Line, Sink, Trace, jsonl::FileSink},
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
    Scan,
    Verdict,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GraphAndPolicy => "dependency graph and policy",
            Self::TracedBuild => "traced build",
            Self::Scan => "static scan",
            Self::Verdict => "report and verdict",
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

    /// What the exit code means, for people.
    pub fn meaning(self) -> String {
        match self {
            Self::Command(0) => "passed".into(),
            Self::Command(c) if c > 128 => {
                format!("the traced command was killed by signal {}", c - 128)
            }
            Self::Command(_) => "the traced command's own exit status".into(),
            Self::Violations => "the policy is violated".into(),
            Self::Incomplete => {
                "the trace is incomplete: behaviour may be missing, so it fails closed".into()
            }
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
    /// The SHA-256 of the events file written (`--events`).
    pub events_sha256: Option<String>,
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

/// Whether the record's syscall is one of `list` (records name their syscall).
fn one_of(e: &crate::trace::EventRecord, list: &[u32]) -> bool {
    e.syscall.as_deref().is_some_and(|n| {
        list.iter()
            .any(|&nr| crate::trace::record::syscall_name(nr) == n)
    })
}

/// `fsconfig` command that applies new options to a mount already in place (one `fspick`ed).
const FSCONFIG_CMD_RECONFIGURE: i64 = 7;

/// A call that changes which file a path names for the caller.
fn changes_view(e: &crate::trace::EventRecord) -> bool {
    let reconfigures = matches!(
        (&e.detail, e.syscall.as_deref()),
        (crate::trace::RecordDetail::Tamper { arg1, .. }, Some("fsconfig"))
            if *arg1 == FSCONFIG_CMD_RECONFIGURE
    );
    reconfigures || one_of(e, tracer_common::syscalls::CHANGES_VIEW)
}

/// Whether record `e` makes the trace untrustworthy, with the argument to show: a call reaching
/// for the tracer or another process, a connect whose address was rewritten in flight, a
/// successful call that changed which file a path names, an open of one of the tracer's own
/// `/proc` files for writing.
fn tampered(e: &crate::trace::EventRecord, tracer: Option<u32>) -> Option<i64> {
    match &e.detail {
        // Its memory (`mem`), its settings: writing there steers the tracer.
        crate::trace::RecordDetail::Open {
            path, access, real, ..
        } if (access.write || access.create || access.truncate || access.append)
            && tracer.is_some_and(|t| {
                let dir = format!("/proc/{t}/");
                [real.real.as_deref(), Some(path.best())]
                    .into_iter()
                    .flatten()
                    .any(|p| p.starts_with(&dir))
            }) =>
        {
            tracer.map(i64::from)
        }
        // A namespace call that changed nothing (failed, or only made an empty namespace or a
        // detached mount) leaves the build's view of files as it was.
        crate::trace::RecordDetail::Tamper { .. }
            if one_of(e, tracer_common::syscalls::NAMESPACE_CALLS)
                && !(e.ok && changes_view(e)) =>
        {
            None
        }
        // A ring that was set up (under --allow-io-uring): what it does is not traced.
        crate::trace::RecordDetail::Tamper { .. }
            if e.syscall.as_deref() == Some("io_uring_setup") && !e.ok =>
        {
            None
        }
        crate::trace::RecordDetail::Tamper { arg0, .. } => Some(*arg0),
        crate::trace::RecordDetail::Connect {
            fd,
            claimed: Some(_),
            ..
        } => Some(i64::from(*fd)),
        _ => None,
    }
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
            beyond: e.lost.beyond,
            undecodable: e.decode_errors,
        }),
        Some(_) => {}
    }
    for &pid in trace.end.iter().flat_map(|e| &e.still_running) {
        let process = trace
            .events
            .iter()
            .rev()
            .find(|e| e.pid == pid)
            .map(|e| e.comm.clone())
            .unwrap_or_else(|| "?".into());
        let owner = report
            .processes
            .iter()
            .find(|n| n.pid == pid && n.still_running)
            .map(|n| n.owner.clone())
            .unwrap_or_else(|| "(unattributed)".into());
        // Cargo's own (a rustc wrapper's server, like sccache's, lives on by design): nothing a
        // crate does runs there unless handed over, which is no leftover of this build's.
        if owner == "cargo" {
            continue;
        }
        out.push(Incomplete::StillRunning {
            pid,
            process,
            owner,
        });
    }
    for e in &trace.events {
        if let crate::trace::RecordDetail::Exit {
            signal: Some(libc::SIGSYS),
            process_exit: true,
            ..
        } = &e.detail
        {
            out.push(Incomplete::Refused {
                pid: e.pid,
                process: e.comm.clone(),
            });
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for e in &trace.events {
        if let Some(arg0) = tampered(e, trace.start.tracer_pid) {
            let syscall = e.syscall.clone().unwrap_or_else(|| "?".into());
            if seen.insert((e.pid, syscall.clone())) {
                out.push(Incomplete::Tamper {
                    pid: e.pid,
                    process: e.comm.clone(),
                    syscall,
                    arg0,
                });
            }
        }
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

/// Crates cargo says it compiled in this build with no rustc for them in the trace.
fn unseen_compiles(index: &Index, report: &Report) -> Vec<Incomplete> {
    index
        .compiled
        .iter()
        .map(|&p| index.packages[p].key())
        .filter(|key| {
            report.crates.iter().any(|c| {
                c.package.key() == *key
                    && c.phases
                        .iter()
                        .any(|ph| ph.phase == Phase::Compile && !ph.ran)
            })
        })
        .map(|package| Incomplete::CompiledUnseen { package })
        .collect()
}

/// Signs that cargo's messages (indexed in `index`) were written into by the build: a file
/// given to two packages, a directory cargo would not give, a package the graph does not have.
pub fn forgeries(index: &Index, graph: Option<&Graph>) -> Vec<Incomplete> {
    let mut out: Vec<Incomplete> = index
        .conflicts
        .iter()
        .map(|c| Incomplete::ForgedMessage {
            file: c.file.clone(),
            first: index.packages[c.first].key(),
            second: index.packages[c.second].key(),
        })
        .collect();
    out.extend(
        index
            .implausible
            .iter()
            .map(|i| Incomplete::ImplausibleMessage {
                package: index.packages[i.package].key(),
                what: i.what.to_string(),
                value: i.value.clone(),
            }),
    );
    if let Some(g) = graph {
        let ids: std::collections::HashSet<&str> =
            g.packages.iter().map(|p| p.id.as_str()).collect();
        // The graph was read before the build: a manifest directory it does not have is forged.
        for (&p, dir) in &index.manifest_dirs {
            let pkg = &index.packages[p];
            let known = g.packages.iter().find(|c| c.id == pkg.id);
            if known.is_some_and(|c| c.manifest_dir.as_os_str() != dir.as_str()) {
                out.push(Incomplete::ImplausibleMessage {
                    package: pkg.key(),
                    what: "manifest_path".into(),
                    value: dir.clone(),
                });
            }
        }
        out.extend(
            index
                .packages
                .iter()
                .filter(|p| !ids.contains(p.id.as_str()))
                .map(|p| Incomplete::NotInGraph {
                    package: p.key(),
                    id: p.id.clone(),
                }),
        );
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

/// How strictly a verdict is reached.
#[derive(Debug, Clone)]
pub struct Judging<'a> {
    pub rules: &'a [policy::Rule],
    /// Crates that do I/O on their callers' behalf (runtime attribution).
    pub mechanisms: &'a [String],
    pub levels: &'a Levels,
    /// Report verdicts without failing on them.
    pub audit: bool,
    /// The build ran in a private target dir: every build script must have run.
    pub fresh: bool,
    /// The report lists routine behaviour too.
    pub verbose: bool,
}

/// A judged build.
pub struct Judged {
    pub report: Report,
    pub verdict: Verdict,
    pub exit: Exit,
}

/// The report of a traced build and every reason it cannot be trusted to be complete (lost
/// events, damage, a build script that did not run under `--fresh`, forged messages); the
/// report's `complete` says the same. `None` without a build context.
pub fn assess(
    trace: &Trace,
    graph: Option<&Graph>,
    fresh: bool,
    verbose: bool,
    mechanisms: &[String],
) -> Option<(Report, Vec<Incomplete>)> {
    let mut index = Index::from_messages(&trace.cargo_messages);
    index.mechanisms = mechanisms.iter().cloned().collect();
    let mut report = report::from_trace_with(trace, &index, verbose)?;
    let mut incomplete = incompleteness(trace, &report, fresh);
    incomplete.extend(forgeries(&index, graph));
    incomplete.extend(unseen_compiles(&index, &report));
    report.complete = report.complete && incomplete.is_empty();
    Some((report, incomplete))
}

/// Judges a traced build — live or recorded, the same way: its report, its verdict (with the
/// graph's dependencies and the scan's findings when there are), and the exit that means.
pub fn judge(
    trace: &Trace,
    graph: Option<&Graph>,
    scan: Option<&ScanReport>,
    j: &Judging<'_>,
) -> Result<Judged, CheckError> {
    let (report, incomplete) =
        assess(trace, graph, j.fresh, j.verbose, j.mechanisms).ok_or(CheckError::NoContext)?;
    let deps = graph.map(Graph::dependencies).unwrap_or_default();
    let verdict = evaluate(&report, j.rules, scan, &deps, j.levels, incomplete);
    let (code, signal) = trace
        .end
        .as_ref()
        .map_or((None, None), |e| (e.exit_code, e.signal));
    let exit = exit_of(&verdict, j.levels, j.audit, command_exit(code, signal));
    Ok(Judged {
        report,
        verdict,
        exit,
    })
}

/// A recorded build to judge again.
#[derive(Debug, Clone)]
pub struct RecheckOptions {
    pub events: PathBuf,
    /// A policy file instead of the project's own.
    pub policy: Option<PathBuf>,
    /// The workspace whose policy judges (default: the one around the current directory).
    /// Never the directory the trace names: the trace is the judged build's word.
    pub manifest_path: Option<PathBuf>,
    pub levels: Levels,
    pub audit: bool,
    pub verbose: bool,
    /// Scan the graph's sources again instead of using the scan recorded in the trace.
    pub rescan: bool,
    /// The project's policy files as they were before the build ran (the daemon's), used
    /// instead of the workspace's files now unless `policy` is given.
    pub snapshot: Option<policy::Snapshot>,
}

/// A recorded build, judged again.
pub struct Rechecked {
    pub trace: Trace,
    pub policy_sources: Vec<String>,
    pub judged: Judged,
    /// The sha256 of the events file as read (to compare with the one the build printed).
    pub sha256: String,
    /// What the user should know about how it was judged (which policy, from where).
    pub notes: Vec<String>,
}

/// Why a recorded build cannot be judged.
#[derive(Debug, thiserror::Error)]
pub enum RecheckError {
    #[error("reading {path}")]
    Read {
        path: String,
        source: crate::trace::jsonl::ReadError,
    },
    #[error(transparent)]
    Policy(#[from] policy::PolicyError),
    #[error("{0} has no build context: it was not written by `cargo tracer build|test --events`")]
    NoContext(String),
    #[error(
        "--rescan needs the dependency graph, and {0} has none (written by an older cargo-tracer?)"
    )]
    NoGraph(String),
    #[error("reading the workspace whose policy judges the build")]
    Workspace(#[source] crate::cargo::graph::GraphError),
}

/// Judges a recorded build as `build|test` judged it live.
pub fn recheck(o: &RecheckOptions) -> Result<Rechecked, RecheckError> {
    let path = o.events.display().to_string();
    let read = |source| RecheckError::Read {
        path: path.clone(),
        source,
    };
    let bytes = std::fs::read(&o.events).map_err(|e| read(e.into()))?;
    let sha256 = crate::files::sha256_hex(&bytes);
    let trace = crate::trace::jsonl::read_bytes(&bytes).map_err(read)?;
    drop(bytes);
    let mut notes = Vec::new();
    // The policy is the judge's: from the command line or the workspace the judge is in.
    let (root, manifests) = if o.policy.is_some() || o.snapshot.is_some() {
        (PathBuf::new(), Vec::new())
    } else {
        let mut args = vec!["--no-deps".to_string()];
        if let Some(m) = &o.manifest_path {
            args.extend(["--manifest-path".into(), m.display().to_string()]);
        }
        match Graph::load(&args, identity::for_command(false).ok().flatten().as_ref()) {
            Ok(ws) => {
                let recorded = trace.graph.as_ref().map(|g| g.workspace_root.clone());
                if recorded.as_ref().is_some_and(|r| *r != ws.workspace_root) {
                    notes.push(format!(
                        "judging with the policy of the workspace at {} (the trace is of a build at {})",
                        ws.workspace_root.display(),
                        recorded.unwrap_or_default().display()
                    ));
                }
                (ws.workspace_root.clone(), ws.local_manifests())
            }
            Err(e) if o.manifest_path.is_some() => return Err(RecheckError::Workspace(e)),
            Err(_) => {
                notes.push(
                    "not in a cargo workspace: judging with the shipped default policies only \
                     (give --policy FILE, or --manifest-path to the project's Cargo.toml)"
                        .into(),
                );
                (PathBuf::from("/nonexistent"), Vec::new())
            }
        }
    };
    let policy = match (&o.policy, &o.snapshot) {
        (None, Some(snap)) => snap.load()?,
        _ => policy::load(&root, &manifests, o.policy.as_deref())?,
    };
    let rescanned = if o.rescan {
        let g = trace
            .graph
            .as_ref()
            .ok_or_else(|| RecheckError::NoGraph(path.clone()))?;
        let all: Vec<usize> = (0..g.packages.len()).collect();
        Some(scan::scan(
            g,
            &all,
            &ScanOptions {
                // The recorded target dir is the build's: nothing is read from or written to a
                // cache there.
                cache_dir: None,
                progress: false,
                jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
            },
        ))
    } else {
        None
    };
    let judging = Judging {
        rules: &policy.rules,
        mechanisms: &policy.mechanisms,
        levels: &o.levels,
        audit: o.audit,
        fresh: trace.context.as_ref().is_some_and(|c| c.fresh),
        verbose: o.verbose,
    };
    let judged = match judge(
        &trace,
        trace.graph.as_ref(),
        rescanned.as_ref().or(trace.scan.as_ref()),
        &judging,
    ) {
        Ok(j) => j,
        Err(_) => return Err(RecheckError::NoContext(path)),
    };
    Ok(Rechecked {
        policy_sources: policy.sources,
        judged,
        trace,
        sha256,
        notes,
    })
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
    done(Stage::TracedBuild, &mut t);
    // Artifacts (build scripts, proc macros, test binaries) exist only now.
    let scan = source_scan.map(|h| {
        // A panic in the scan thread is a bug: report it as one, here.
        let src = h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        scan::with_artifacts(src, &graph, &all)
    });
    done(Stage::Scan, &mut t);
    // The trace is complete with the scan it was judged with (after its `end` line).
    if let Some(f) = file.as_mut() {
        let events = |source| CheckError::Events {
            path: o
                .events
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            source,
        };
        if let Some(s) = &scan {
            f.write(&Line::Scan(Box::new(s.clone()))).map_err(events)?;
        }
        f.finish().map_err(events)?;
    }
    let events_sha256 = file.as_ref().and_then(|f| f.sha256().map(str::to_string));
    drop(file);
    let judged = judge(
        &built.trace,
        Some(&graph),
        scan.as_ref(),
        &Judging {
            rules: &policy.rules,
            mechanisms: &policy.mechanisms,
            levels: &o.levels,
            audit: o.audit,
            fresh: o.settings.fresh,
            verbose: o.verbose,
        },
    )?;
    done(Stage::Verdict, &mut t);
    Ok(Checked {
        graph,
        policy_sources: policy.sources,
        summary: built.summary,
        report: judged.report,
        scan,
        verdict: judged.verdict,
        exit: judged.exit,
        events_sha256,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{RecordDetail, record::fake::rec};

    fn call(name: &str, ok: bool) -> crate::trace::EventRecord {
        let mut r = rec(20, 10, RecordDetail::Tamper { arg0: 7, arg1: 0 });
        r.syscall = Some(name.into());
        r.ok = ok;
        r
    }

    #[test]
    fn only_a_call_that_changed_the_view_of_files_makes_a_trace_untrustworthy() {
        // A new, empty namespace, a failed mount, a detached tree: nothing changed.
        for (name, ok) in [("unshare", true), ("mount", false), ("open_tree", true)] {
            assert_eq!(tampered(&call(name, ok), None), None, "{name} {ok}");
        }
        for name in [
            "mount",
            "move_mount",
            "chroot",
            "setns",
            "pivot_root",
            "umount2",
        ] {
            assert_eq!(tampered(&call(name, true), None), Some(7), "{name}");
        }
        // Reaching for the tracer counts, whether or not it succeeded.
        assert_eq!(tampered(&call("bpf", false), None), Some(7));
        assert_eq!(tampered(&call("ptrace", false), None), Some(7));
        // Remounting a mount in place (fspick, then fsconfig's reconfigure) changes it; setting
        // up a new one does not until it is attached.
        let mut reconf = call("fsconfig", true);
        reconf.detail = RecordDetail::Tamper { arg0: 3, arg1: 7 };
        assert_eq!(tampered(&reconf, None), Some(3));
        let mut set = call("fsconfig", true);
        set.detail = RecordDetail::Tamper { arg0: 3, arg1: 1 };
        assert_eq!(tampered(&set, None), None);
        // A ring set up is untraced work; a refused one is nothing.
        assert_eq!(tampered(&call("io_uring_setup", true), None), Some(7));
        assert_eq!(tampered(&call("io_uring_setup", false), None), None);
    }

    #[test]
    fn a_crate_cargo_compiled_with_no_rustc_traced_leaves_the_trace_incomplete() {
        use crate::trace::record::fake::{exec, fork};
        let lib = crate::cargo::messages::fake::artifact(
            "registry+https://x#lib@1.0.0",
            "lib",
            "lib",
            false,
            &["/t/debug/deps/liblib-1a1a.rlib"],
            None,
            false,
        );
        let trace = |events: Vec<crate::trace::EventRecord>| Trace {
            start: crate::trace::Start {
                schema_version: crate::trace::SCHEMA_VERSION,
                tracer_version: "t".into(),
                command: vec!["cargo".into()],
                cwd: "/w".into(),
                system_wide: false,
                root_pid: 10,
                tracer_pid: None,
                kernel: "k".into(),
                probes_attached: 1,
                proc_macro_probes: true,
            },
            context: Some(crate::model::BuildContext::default()),
            graph: None,
            cargo_messages: vec![lib.clone()],
            events,
            stacks: Default::default(),
            end: None,
            scan: None,
            damage: Vec::new(),
        };
        let unseen = |t: &Trace| {
            let (_, incomplete) = assess(t, None, false, false, &[]).unwrap();
            incomplete
                .iter()
                .filter(|i| matches!(i, Incomplete::CompiledUnseen { .. }))
                .count()
        };
        // A wrapper's cache (or its untraced server) compiled it: nothing of rustc's was seen.
        assert_eq!(unseen(&trace(Vec::new())), 1);
        let rustc = ["rustc", "--crate-name", "lib", "-C", "extra-filename=-1a1a"];
        assert_eq!(
            unseen(&trace(vec![
                fork(10, 20),
                exec(20, 10, "/r/bin/rustc", &rustc)
            ])),
            0
        );
    }

    #[test]
    fn writing_into_the_tracers_proc_files_is_tampering_and_reading_them_is_not() {
        let open = |path: &str, write: bool| {
            let mut r = crate::trace::record::fake::read(20, path);
            if let RecordDetail::Open { access, .. } = &mut r.detail {
                access.write = write;
            }
            r
        };
        let tracer = Some(900);
        assert_eq!(tampered(&open("/proc/900/mem", true), tracer), Some(900));
        // Through a link of its own: the kernel names the tracer's file.
        let linked = crate::trace::record::fake::really(
            open("/w/out/cache", true),
            Some("/proc/900/task/900/mem"),
        );
        assert_eq!(tampered(&linked, tracer), Some(900));
        // A process listing reads every process's status, the tracer's too.
        assert_eq!(tampered(&open("/proc/900/status", false), tracer), None);
        assert_eq!(tampered(&open("/proc/9001/mem", true), tracer), None);
        assert_eq!(tampered(&open("/proc/900/mem", true), None), None);
    }
}
