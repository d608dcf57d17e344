//! `cargo-tracer`, run as `cargo tracer …`. The CLI edge: parse, run, print, exit code.

mod cli;

use std::{
    fs::File,
    io::{BufWriter, Write},
    process::ExitCode,
    time::Duration,
};

use anyhow::Context;
use clap::Parser;
use tracer::{
    loader::LoadOptions,
    session::{self, JsonLines, RunOptions, Sink},
};

/// Exit code for a failure of the tracer itself (not of the traced command).
const TRACER_FAILURE: u8 = 2;

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
    }
}

fn run(a: cli::RunArgs) -> anyhow::Result<ExitCode> {
    let opts = RunOptions {
        command: a.command.clone(),
        load: LoadOptions {
            system_wide: a.system_wide,
            ring_bytes: a.ring_size,
        },
        as_root: a.as_root,
        linger: Duration::from_millis(a.linger_ms),
        cwd: None,
    };
    let mut sink: Box<dyn Sink> = match &a.events {
        Some(p) if p.as_os_str() == "-" => Box::new(JsonLines(BufWriter::new(std::io::stdout()))),
        Some(p) => {
            let f = File::create(p)
                .with_context(|| format!("creating the events file {}", p.display()))?;
            Box::new(JsonLines(BufWriter::with_capacity(1 << 20, f)))
        }
        None => Box::new(Discard),
    };
    let mut summary = session::run(&opts, sink.as_mut())?;
    drop(sink);
    summary.events_file = a.events.as_ref().map(|p| p.display().to_string());
    match a.format {
        cli::Format::Human => eprint!("{}", summary.human()),
        cli::Format::Json => {
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &summary)?;
            writeln!(out)?;
        }
    }
    let code = match (summary.exit_code, summary.signal) {
        (Some(c), _) => c,
        (_, Some(sig)) => 128 + sig,
        _ => i32::from(TRACER_FAILURE),
    };
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}

/// A sink that keeps nothing (no `--events`).
struct Discard;

impl Sink for Discard {
    fn start(&mut self, _: &tracer::record::Start) -> std::io::Result<()> {
        Ok(())
    }
    fn event(&mut self, _: &tracer::record::EventRecord) -> std::io::Result<()> {
        Ok(())
    }
    fn end(&mut self, _: &tracer::record::End) -> std::io::Result<()> {
        Ok(())
    }
}
