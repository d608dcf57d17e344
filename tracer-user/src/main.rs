//! `cargo-tracer`, run as `cargo tracer …`. The CLI edge: parse, run, print, exit code.

mod cli;

use std::{
    fs::File,
    io::{BufReader, BufWriter, Write},
    path::Path,
    process::ExitCode,
    time::Duration,
};

use anyhow::{Context, bail};
use clap::Parser;
use tracer::{
    analysis::{graph::Graph, scan::ScanOptions},
    cargo::{
        invocation::{Invocation, Subcommand},
        trace::{self, Settings},
    },
    loader::LoadOptions,
    policy::{
        self,
        eval::{Level, Levels, evaluate},
    },
    report::{self, Report, TraceInfo, load::Trace},
    session::{self, RunOptions},
    sink::{Discard, JsonLines, Sink},
};

/// Exit code for a failure of the tracer itself (not of the traced command), or an incomplete
/// trace.
const TRACER_FAILURE: u8 = 2;
/// Exit code when the policy is violated.
const VIOLATIONS: u8 = 1;

fn main() -> ExitCode {
    // As a cargo subcommand we are invoked as `cargo-tracer tracer <args>`.
    let mut args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("tracer") {
        args.remove(1);
    }
    let cli = cli::Cli::parse_from(args);
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(TRACER_FAILURE)
        }
    }
}

fn dispatch(cli: cli::Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        cli::Cmd::Run(a) => run(a),
        cli::Cmd::Build(a) => cargo(Subcommand::Build, a),
        cli::Cmd::Test(a) => cargo(Subcommand::Test, a),
        cli::Cmd::Report(a) => report_file(a),
        cli::Cmd::Scan(a) => scan(a),
        cli::Cmd::Policy(cli::PolicyCmd::Suggest { events }) => {
            let (t, report) = load_report(&events, false)?;
            drop(t);
            print!("{}", policy::suggest::suggest(&report));
            Ok(ExitCode::SUCCESS)
        }
        cli::Cmd::Diff(a) => {
            let read = |p: &Path| -> anyhow::Result<serde_json::Value> {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading {}", p.display()))?;
                serde_json::from_str(&text)
                    .with_context(|| format!("{} is not a JSON report", p.display()))
            };
            let new = policy::suggest::diff(&read(&a.old)?, &read(&a.new)?);
            for (krate, phase, kind, target) in &new {
                println!("new: {krate} {phase} {kind} {target}");
            }
            println!("{} new behaviour(s) since {}", new.len(), a.old.display());
            Ok(if new.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(VIOLATIONS)
            })
        }
    }
}

/// The `--events` destination.
fn events_sink(path: Option<&Path>) -> anyhow::Result<Option<Box<dyn Sink>>> {
    Ok(match path {
        Some(p) if p.as_os_str() == "-" => {
            Some(Box::new(JsonLines(BufWriter::new(std::io::stdout()))))
        }
        Some(p) => {
            let f = File::create(p)
                .with_context(|| format!("creating the events file {}", p.display()))?;
            Some(Box::new(JsonLines(BufWriter::with_capacity(1 << 20, f))))
        }
        None => None,
    })
}

/// The exit code that passes the traced command's status on.
fn exit_code(code: Option<i32>, signal: Option<i32>) -> ExitCode {
    let c = match (code, signal) {
        (Some(c), _) => c,
        (_, Some(sig)) => 128 + sig,
        _ => i32::from(TRACER_FAILURE),
    };
    ExitCode::from(c.clamp(0, 255) as u8)
}

fn run(a: cli::RunArgs) -> anyhow::Result<ExitCode> {
    let opts = RunOptions {
        command: a.command.clone(),
        load: LoadOptions {
            system_wide: a.system_wide,
            ring_bytes: a.trace.ring_size,
        },
        as_root: a.trace.as_root,
        linger: Duration::from_millis(a.trace.linger_ms),
        cwd: None,
        cargo_messages: false,
        text_to_stderr: false,
        env: Vec::new(),
        preamble: Vec::new(),
    };
    let mut sink = events_sink(a.trace.events.as_deref())?.unwrap_or_else(|| Box::new(Discard));
    let mut summary = session::run(&opts, sink.as_mut())?;
    drop(sink);
    summary.events_file = a.trace.events.as_ref().map(|p| p.display().to_string());
    match a.format {
        cli::Format::Human => eprint!("{}", summary.human()),
        cli::Format::Json => print_json(&summary)?,
    }
    Ok(exit_code(summary.exit_code, summary.signal))
}

fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)?;
    Ok(())
}

fn print_report(r: &Report, format: cli::Format, verbose: bool) -> anyhow::Result<()> {
    match format {
        cli::Format::Human => {
            let mut out = std::io::stdout().lock();
            write!(out, "{}", report::human::render(r, verbose))?;
            Ok(())
        }
        cli::Format::Json => print_json(r),
    }
}

fn cargo(sub: Subcommand, a: cli::CargoArgs) -> anyhow::Result<ExitCode> {
    if a.trace
        .events
        .as_deref()
        .is_some_and(|p| p.as_os_str() == "-")
    {
        bail!("`--events -` would mix events with cargo's output on stdout; give a file name");
    }
    let mut levels = Levels::default();
    for (names, level) in [
        (&a.deny, Level::Deny),
        (&a.warn, Level::Warn),
        (&a.allow, Level::Allow),
    ] {
        for n in names {
            levels.set(n, level).map_err(anyhow::Error::msg)?;
        }
    }
    let inv = Invocation::new(sub, a.cargo_args.clone(), None)?;
    let settings = Settings {
        load: LoadOptions {
            system_wide: false,
            ring_bytes: a.trace.ring_size,
        },
        as_root: a.trace.as_root,
        linger: Duration::from_millis(a.trace.linger_ms),
        fresh: a.fresh,
        text_to_stderr: a.format != cli::ReportFormat::Human,
    };
    // --verbose: how long each stage took, on stderr (the tool's own cost, stage by stage).
    let mut stage_start = std::time::Instant::now();
    let mut stage = |name: &str| {
        if a.verbose {
            eprintln!(
                "cargo-tracer: {name}: {} ms",
                stage_start.elapsed().as_millis()
            );
        }
        stage_start = std::time::Instant::now();
    };
    // The policy is read (and its mistakes reported) before anything is built.
    let graph = Graph::load(&inv.graph_args()).context("reading the dependency graph")?;
    let policy = policy::load(
        &graph.workspace_root,
        &graph.local_manifests(),
        a.policy.as_deref(),
    )?;
    stage("dependency graph and policy");
    // The source scan needs nothing built: it runs while the build does, under SCHED_IDLE so
    // it only takes CPU the build leaves idle.
    let all: Vec<usize> = (0..graph.packages.len()).collect();
    let scan_opts = ScanOptions {
        cache_dir: Some(
            a.scan_cache
                .clone()
                .unwrap_or_else(|| graph.target_dir.join("cargo-tracer").join("scan-cache")),
        ),
        progress: false,
        jobs: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2),
    };
    let source_scan = (!a.no_scan).then(|| {
        let (graph, all, opts) = (graph.clone(), all.clone(), scan_opts);
        std::thread::spawn(move || {
            // SAFETY: a plain syscall on the calling thread with a valid sched_param; the scan
            // workers it starts inherit the policy. Failing only costs the build some CPU.
            unsafe {
                let param = libc::sched_param { sched_priority: 0 };
                libc::sched_setscheduler(0, libc::SCHED_IDLE, &param);
            }
            tracer::analysis::scan::scan_sources(&graph, &all, &opts)
        })
    });
    let mut file = events_sink(a.trace.events.as_deref())?;
    let t = trace::trace(
        &inv,
        &settings,
        file.as_deref_mut().map(|f| f as &mut dyn Sink),
    )?;
    drop(file);
    stage("traced build");
    let s = &t.summary;
    for f in &s.proc_macro_failures {
        eprintln!("warning: proc-macro library not probed (its activity stays with rustc): {f}");
    }
    let info = TraceInfo {
        command: s.command.clone(),
        exit_code: s.exit_code,
        complete: s.complete,
        lost_events: s.lost.total() + s.decode_errors,
        proc_macro_probes: s.proc_macro_probes,
    };
    let root = t.collect.start.as_ref().map(|st| st.root_pid).unwrap_or(0);
    let r = report::from_trace(
        &t.collect.events,
        &t.messages(),
        &t.context,
        root,
        &info,
        a.verbose,
    );
    stage("per-crate report");
    // Artifacts (build scripts, proc macros, test binaries) exist only now.
    let scan = match source_scan {
        Some(h) => {
            // A panic in the scan thread is a bug: report it as one, here.
            let src = h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            Some(tracer::analysis::scan::with_artifacts(src, &graph, &all))
        }
        None => None,
    };
    stage("static scan");
    let mut incomplete = Vec::new();
    if !s.complete {
        incomplete.push(format!(
            "{} events were lost (ring buffer full: {}, syscalls in flight: {}, process \
             tracking: {}, undecodable: {}); behaviour may be missing",
            info.lost_events, s.lost.ringbuf, s.lost.inflight, s.lost.tracking, s.decode_errors
        ));
    }
    if a.fresh {
        for c in &r.crates {
            if c.phases
                .iter()
                .any(|p| p.phase == tracer::attribution::Phase::BuildScript && !p.ran)
            {
                incomplete.push(format!(
                    "the build script of {}@{} did not run under --fresh",
                    c.name, c.version
                ));
            }
        }
    }
    let verdict = evaluate(
        &r,
        &policy.rules,
        scan.as_ref(),
        &graph.dependency_keys(),
        &levels,
        incomplete,
    );
    stage("verdict");
    let markdown = policy::render::markdown(&verdict, &r.command);
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") {
        // CI summary: best effort, the verdict is also on stdout.
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
        {
            let _ = f.write_all(markdown.as_bytes());
        }
    }
    match a.format {
        cli::ReportFormat::Human => {
            let mut out = std::io::stdout().lock();
            write!(out, "{}", report::human::render(&r, a.verbose))?;
            write!(out, "{}", policy::render::human(&verdict))?;
        }
        cli::ReportFormat::Json => {
            let mut v = serde_json::to_value(&r)?;
            v["verdict"] = serde_json::to_value(&verdict)?;
            v["policy_sources"] = serde_json::to_value(&policy.sources)?;
            print_json(&v)?;
        }
        cli::ReportFormat::Markdown => print!("{markdown}"),
        cli::ReportFormat::Sarif => {
            let dir = |name: &str, version: &str| {
                graph
                    .packages
                    .iter()
                    .find(|p| p.name == name && p.version == version)
                    .map(|p| p.manifest_dir.display().to_string())
            };
            print_json(&policy::render::sarif(
                &verdict,
                &graph.workspace_root.display().to_string(),
                dir,
            ))?
        }
    }
    // Fail closed: an incomplete trace is a tool failure, whatever else happened.
    if !verdict.incomplete.is_empty() && levels.get("incomplete") == Level::Deny {
        return Ok(ExitCode::from(TRACER_FAILURE));
    }
    let denied = verdict.behaviors.iter().any(|b| b.level == Level::Deny)
        || verdict.findings.iter().any(|f| f.level == Level::Deny)
        || (!verdict.unused_rules.is_empty() && levels.get("unused-rule") == Level::Deny);
    if denied && !a.audit {
        return Ok(ExitCode::from(VIOLATIONS));
    }
    Ok(exit_code(s.exit_code, s.signal))
}

fn scan(a: cli::ScanArgs) -> anyhow::Result<ExitCode> {
    let mut args = Vec::new();
    if let Some(m) = &a.manifest_path {
        args.push("--manifest-path".to_string());
        args.push(m.display().to_string());
    }
    if a.locked {
        args.push("--locked".into());
    }
    if a.offline {
        args.push("--offline".into());
    }
    let graph = Graph::load(&args)?;
    let selected = graph.select(&a.packages)?;
    let opts = ScanOptions {
        cache_dir: (!a.no_cache).then(|| graph.target_dir.join("cargo-tracer").join("scan-cache")),
        progress: true,
        jobs: a.jobs.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        }),
    };
    let r = tracer::analysis::scan::scan(&graph, &selected, &opts);
    match a.format {
        cli::ScanFormat::Human => print!("{}", tracer::analysis::human::render(&r, a.verbose)),
        cli::ScanFormat::Json => print_json(&r)?,
        cli::ScanFormat::Sarif => {
            let dir = |id: &str| {
                graph
                    .packages
                    .iter()
                    .find(|p| p.id == id)
                    .map(|p| p.manifest_dir.display().to_string())
                    .unwrap_or_default()
            };
            print_json(&tracer::analysis::sarif::render(&r, dir))?
        }
    }
    if a.format != cli::ScanFormat::Human {
        tracer::analysis::scan::progress_done(&mut std::io::stderr(), &r)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads a recorded build and builds its report.
fn load_report(events: &Path, verbose: bool) -> anyhow::Result<(Trace, Report)> {
    let f = File::open(events).with_context(|| format!("opening {}", events.display()))?;
    let t =
        Trace::read(BufReader::new(f)).with_context(|| format!("reading {}", events.display()))?;
    let Some(ctx) = t.context.clone() else {
        bail!(
            "{} has no build context: it was not written by `cargo tracer build|test --events`",
            events.display()
        );
    };
    let start = t.start.as_ref().context("the trace has no `start` line")?;
    let end = t.end.as_ref();
    let info = TraceInfo {
        command: start.command.clone(),
        exit_code: end.and_then(|e| e.exit_code),
        // A trace cut off before its `end` line is incomplete by definition.
        complete: end.is_some_and(|e| e.complete),
        lost_events: end.map(|e| e.lost.total() + e.decode_errors).unwrap_or(0),
        proc_macro_probes: start.proc_macro_probes,
    };
    let r = report::from_trace(
        &t.events,
        &t.cargo_messages,
        &ctx,
        start.root_pid,
        &info,
        verbose,
    );
    Ok((t, r))
}

fn report_file(a: cli::ReportArgs) -> anyhow::Result<ExitCode> {
    let (_, r) = load_report(&a.events, a.verbose)?;
    print_report(&r, a.format, a.verbose)?;
    Ok(ExitCode::SUCCESS)
}
