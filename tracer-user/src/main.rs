//! `cargo-tracer`, run as `cargo tracer …`. The CLI edge: flags → options → use case → print →
//! exit code.

use std::{io::Write, path::Path, process::ExitCode};

use anyhow::{Context, bail};
use clap::Parser;
use tracer::{
    analysis::scan::{self, ScanOptions},
    cargo::graph::Graph,
    check::{self, Checked},
    cli::{self, CheckCommand, Command, Format, ReportFormat, RunCommand, ScanCommand, ScanFormat},
    output::{self, escape::human as h, json},
    policy::suggest,
    report::{self, Report},
    session,
    trace::{self, Discard, Sink, jsonl},
};

/// Exit code for a failure of the tracer itself (not of the traced command), or an incomplete
/// trace.
const TRACER_FAILURE: u8 = 2;
/// Exit code when the policy is violated, or `diff` finds something new.
const VIOLATIONS: u8 = 1;

fn main() -> ExitCode {
    // As a cargo subcommand we are invoked as `cargo-tracer tracer <args>`.
    let mut args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("tracer") {
        args.remove(1);
    }
    let result = cli::resolve(cli::Cli::parse_from(args))
        .map_err(anyhow::Error::from)
        .and_then(dispatch);
    match result {
        Ok(code) => code,
        Err(e) => {
            // Errors can quote what a trace or a manifest holds: each line is escaped for the
            // terminal and the CI log like any other data.
            for (i, line) in format!("{e:#}").lines().enumerate() {
                let line = h(line);
                if i == 0 {
                    eprintln!("error: {line}");
                } else {
                    eprintln!("{line}");
                }
            }
            ExitCode::from(TRACER_FAILURE)
        }
    }
}

fn dispatch(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Run(r) => run(r),
        Command::Check(c) => build(c),
        Command::Report {
            events,
            format,
            verbose,
        } => {
            let (t, r) = load_report(&events, verbose)?;
            let mut out = std::io::stdout().lock();
            match format {
                Format::Human => write!(out, "{}", output::human::report::render(&r, verbose))?,
                Format::Json => json::write(&mut out, &r)?,
            }
            // Fail closed: a report of an incomplete trace may be missing behaviour.
            let incomplete = check::incompleteness(&t, &r, false);
            for i in &incomplete {
                eprintln!(
                    "error: INCOMPLETE: {}",
                    output::rows::incomplete(i, |d| h(d).into_owned())
                );
            }
            Ok(if incomplete.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(TRACER_FAILURE)
            })
        }
        Command::Scan(s) => scan(s),
        Command::Suggest { events } => {
            let (_, r) = load_report(&events, false)?;
            print!("{}", output::toml::suggestion_file(&suggest::suggest(&r)));
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff { old, new } => {
            let (old_report, new_report) = (read_report(&old)?, read_report(&new)?);
            let new_behaviors = suggest::diff(&old_report, &new_report);
            print!(
                "{}",
                output::human::diff::render(&new_behaviors, &old.display().to_string())
            );
            // Fail closed: what an incomplete report does not show cannot be compared.
            if !new_report.complete {
                eprintln!(
                    "error: {} is incomplete ({} events lost): behaviour may be missing from it",
                    new.display(),
                    new_report.lost_events
                );
                return Ok(ExitCode::from(TRACER_FAILURE));
            }
            Ok(if new_behaviors.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(VIOLATIONS)
            })
        }
    }
}

fn run(r: RunCommand) -> anyhow::Result<ExitCode> {
    let mut sink: Box<dyn Sink> = match r.events.as_deref() {
        Some(p) if p.as_os_str() == "-" => {
            Box::new(jsonl::Writer(std::io::BufWriter::new(std::io::stdout())))
        }
        Some(p) => Box::new(
            jsonl::FileSink::create(p)
                .with_context(|| format!("creating the events file {}", p.display()))?,
        ),
        None => Box::new(Discard),
    };
    let mut summary = session::run(&r.run, sink.as_mut(), &mut session::Plain)?;
    drop(sink);
    summary.events_file = r.events.as_ref().map(|p| p.display().to_string());
    match r.format {
        Format::Human => eprint!("{}", output::human::summary::render(&summary)),
        Format::Json => json::write(&mut std::io::stdout().lock(), &summary)?,
    }
    Ok(ExitCode::from(check::command_exit(
        summary.exit_code,
        summary.signal,
    )))
}

fn build(c: CheckCommand) -> anyhow::Result<ExitCode> {
    let verbose = c.check.verbose;
    // --verbose: how long each stage took, on stderr (the tool's own cost, stage by stage).
    let checked = check::check(&c.check, &mut |stage, took| {
        if verbose {
            eprintln!("cargo-tracer: {}: {} ms", stage.as_str(), took.as_millis());
        }
    })?;
    for f in &checked.summary.proc_macro_failures {
        eprintln!(
            "warning: proc-macro library not probed (its activity stays with rustc): {}",
            h(f)
        );
    }
    let Checked {
        graph,
        report,
        verdict,
        policy_sources,
        exit,
        ..
    } = &checked;
    let markdown = output::markdown::verdict(verdict, &report.command);
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
    let mut out = std::io::stdout().lock();
    match c.format {
        ReportFormat::Human => {
            write!(out, "{}", output::human::report::render(report, verbose))?;
            write!(out, "{}", output::human::verdict::render(verdict))?;
        }
        ReportFormat::Json => json::write(
            &mut out,
            &json::CheckOutput {
                report,
                verdict,
                policy_sources,
            },
        )?,
        ReportFormat::Markdown => write!(out, "{markdown}")?,
        ReportFormat::Sarif => {
            let dir = |k: &tracer::model::PackageKey| {
                graph.get(k).map(|p| p.manifest_dir.display().to_string())
            };
            json::write(
                &mut out,
                &output::sarif::verdict::render(
                    verdict,
                    &graph.workspace_root.display().to_string(),
                    dir,
                ),
            )?
        }
    }
    Ok(ExitCode::from(exit.code()))
}

fn scan(s: ScanCommand) -> anyhow::Result<ExitCode> {
    let graph = Graph::load(&s.graph_args, None)?;
    let selected = graph.select(&s.packages)?;
    let opts = ScanOptions {
        cache_dir: s
            .cache
            .then(|| graph.target_dir.join("cargo-tracer").join("scan-cache")),
        progress: true,
        jobs: s.jobs,
    };
    let r = scan::scan(&graph, &selected, &opts);
    let mut out = std::io::stdout().lock();
    match s.format {
        ScanFormat::Human => write!(out, "{}", output::human::scan::render(&r, s.verbose))?,
        ScanFormat::Json => json::write(&mut out, &r)?,
        ScanFormat::Sarif => {
            let dir = |id: &str| {
                graph
                    .packages
                    .iter()
                    .find(|p| p.id == id)
                    .map(|p| p.manifest_dir.display().to_string())
                    .unwrap_or_default()
            };
            json::write(&mut out, &output::sarif::scan::render(&r, dir))?
        }
    }
    if s.format != ScanFormat::Human {
        scan::progress_done(&mut std::io::stderr(), &r)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads a report written by `build|test --format json` (this schema version only).
fn read_report(p: &Path) -> anyhow::Result<Report> {
    let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
    #[derive(serde::Deserialize)]
    struct Version {
        schema_version: Option<u32>,
    }
    let v: Version = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a JSON report", p.display()))?;
    match v.schema_version {
        Some(report::REPORT_SCHEMA_VERSION) => {}
        Some(other) => bail!(
            "{} is a report of schema version {other}; this cargo-tracer reads version {}",
            p.display(),
            report::REPORT_SCHEMA_VERSION
        ),
        None => bail!("{} is not a report (no `schema_version`)", p.display()),
    }
    serde_json::from_str(&text).with_context(|| format!("{} is not a JSON report", p.display()))
}

/// Reads a recorded build and builds its report.
fn load_report(events: &Path, verbose: bool) -> anyhow::Result<(trace::Trace, Report)> {
    let t: trace::Trace =
        jsonl::read_file(events).with_context(|| format!("reading {}", events.display()))?;
    let Some(r) = report::from_trace(&t, verbose) else {
        bail!(
            "{} has no build context: it was not written by `cargo tracer build|test --events`",
            events.display()
        );
    };
    Ok((t, r))
}
