//! The command line: raw flags ([`args`], clap) validated once into resolved options
//! ([`resolve`]), which the binary hands to the library's use cases. Every flag mistake is
//! found here, before anything runs.

pub mod args;
mod hoist;

use std::{path::PathBuf, time::Duration};

pub use anstream::ColorChoice;
use clap::ValueEnum as _;

pub use args::Cli;

use crate::{
    cargo::{
        build::Settings,
        invocation::{Invocation, InvocationError, Subcommand},
    },
    check::{CheckOptions, RecheckOptions, ScanSettings},
    loader::LoadOptions,
    model::{Level, LevelName, UnknownName},
    output::Detail,
    policy::levels::Levels,
    session::RunOptions,
};

/// A flag that cannot be used as given.
#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    #[error("`--events -` would mix events with cargo's output on stdout; give a file name")]
    EventsToStdout,
    #[error("-{flag} {error}")]
    Level { flag: char, error: UnknownName },
    #[error(transparent)]
    Invocation(#[from] InvocationError),
    #[error(transparent)]
    Identity(#[from] crate::identity::IdentityError),
    #[error(
        "--group {group}: {user}, who ran this through sudo and whose builds the daemon would \
         trace, is a member of it; a build could then stop the daemon or read its status \
         (give a group the build user is not in)"
    )]
    GroupHasBuilder { group: String, user: String },
    #[error("cannot write {path}")]
    Path {
        path: String,
        source: std::io::Error,
    },
}

/// A file to write later, pinned now (before anything runs; see [`crate::files::pin`]).
fn pinned(p: PathBuf) -> Result<PathBuf, OptionsError> {
    if p.as_os_str() == "-" {
        return Ok(p);
    }
    crate::files::pin(&p).map_err(|source| OptionsError::Path {
        path: p.display().to_string(),
        source,
    })
}

/// What to print a report or verdict as.
pub use args::{Format, ReportFormat, ScanFormat};

/// Where a judged build goes: `--format` on stdout, each `--output` into its file.
#[derive(Debug, Clone)]
pub struct Outputs {
    pub stdout: ReportFormat,
    pub files: Vec<(ReportFormat, PathBuf)>,
    pub detail: Detail,
    pub color: ColorChoice,
}

/// `cargo tracer run`, resolved.
#[derive(Debug)]
pub struct RunCommand {
    pub run: RunOptions,
    /// `-` for stdout.
    pub events: Option<PathBuf>,
    pub format: Format,
    pub color: ColorChoice,
}

/// `cargo tracer build|test`, resolved.
#[derive(Debug)]
pub struct CheckCommand {
    pub check: CheckOptions,
    pub outputs: Outputs,
    /// Print each stage's time on stderr.
    pub timings: bool,
}

/// `cargo tracer report`, resolved.
#[derive(Debug)]
pub struct ReportCommand {
    pub recheck: RecheckOptions,
    pub outputs: Outputs,
}

/// `cargo tracer scan`, resolved.
#[derive(Debug)]
pub struct ScanCommand {
    /// Flags for `cargo metadata`.
    pub graph_args: Vec<String>,
    pub packages: Vec<String>,
    pub cache: bool,
    pub jobs: usize,
    pub format: ScanFormat,
    pub verbose: bool,
}

/// `cargo tracer policy check`, resolved.
#[derive(Debug)]
pub struct PolicyCheckCommand {
    pub policy: Option<PathBuf>,
    /// Flags for `cargo metadata`.
    pub graph_args: Vec<String>,
    pub manifest_path: Option<PathBuf>,
    pub deny_warnings: bool,
    pub color: ColorChoice,
}

/// `cargo tracer daemon stop`, resolved.
#[derive(Debug)]
pub struct DaemonStopCommand {
    pub socket: PathBuf,
    /// The judging options of each invocation (its `events` is set per invocation).
    pub policy: Option<PathBuf>,
    pub levels: Levels,
    pub audit: bool,
    pub verbose: bool,
    pub scan: bool,
    pub outputs: Outputs,
}

/// `cargo tracer daemon …`, resolved.
#[derive(Debug)]
pub enum DaemonCommand {
    /// Start in the background (`detach`) or run in the foreground.
    Start {
        options: crate::daemon::DaemonOptions,
        detach: bool,
    },
    Status {
        socket: PathBuf,
        format: Format,
    },
    Stop(DaemonStopCommand),
}

/// What to do.
#[derive(Debug)]
pub enum Command {
    Daemon(DaemonCommand),
    Run(RunCommand),
    Check(CheckCommand),
    Report(ReportCommand),
    Scan(ScanCommand),
    Suggest {
        events: PathBuf,
    },
    PolicyCheck(PolicyCheckCommand),
    PolicyDefaults {
        krate: Option<String>,
    },
    Diff {
        old: PathBuf,
        new: PathBuf,
        format: Format,
    },
}

fn jobs(n: Option<usize>) -> usize {
    n.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    })
}

fn levels(a: &args::JudgeArgs) -> Result<Levels, OptionsError> {
    let mut levels = Levels::default();
    for (names, level, flag) in [
        (&a.deny, Level::Deny, 'D'),
        (&a.warn, Level::Warn, 'W'),
        (&a.allow, Level::Allow, 'A'),
    ] {
        for n in names {
            let name: LevelName = n
                .parse()
                .map_err(|error| OptionsError::Level { flag, error })?;
            levels.set(name, level);
        }
    }
    Ok(levels)
}

/// `--color`, else cargo's `CARGO_TERM_COLOR`, else auto (a terminal, unless `NO_COLOR`).
fn color(flag: Option<args::Color>) -> ColorChoice {
    let flag = flag.or_else(|| {
        let v = std::env::var("CARGO_TERM_COLOR").ok()?;
        args::Color::from_str(v.trim(), true).ok()
    });
    match flag {
        Some(args::Color::Always) => ColorChoice::Always,
        Some(args::Color::Never) => ColorChoice::Never,
        Some(args::Color::Auto) | None => ColorChoice::Auto,
    }
}

fn outputs(a: &args::JudgeArgs, verbose: bool) -> Result<Outputs, OptionsError> {
    let files = a
        .outputs
        .iter()
        .map(|(f, p)| Ok((*f, pinned(p.clone())?)))
        .collect::<Result<_, OptionsError>>()?;
    Ok(Outputs {
        stdout: a.format,
        files,
        detail: Detail {
            verbose,
            quiet: a.quiet,
        },
        color: color(a.color),
    })
}

fn check(sub: Subcommand, a: args::CargoArgs) -> Result<Command, OptionsError> {
    if a.trace
        .events
        .as_deref()
        .is_some_and(|p| p.as_os_str() == "-")
    {
        return Err(OptionsError::EventsToStdout);
    }
    let levels = levels(&a.judge)?;
    let outputs = outputs(&a.judge, a.verbose)?;
    Ok(Command::Check(CheckCommand {
        check: CheckOptions {
            invocation: Invocation::new(sub, a.cargo_args, None)?,
            settings: Settings {
                load: LoadOptions {
                    system_wide: false,
                    trace_cargo: false,
                    ring_bytes: a.trace.ring_size,
                    // Only tests run what cargo built (cargo build runs none of it).
                    stacks: sub == Subcommand::Test,
                },
                as_root: a.trace.as_root,
                linger: Duration::from_millis(a.trace.linger_ms),
                allow_io_uring: a.trace.allow_io_uring,
                fresh: a.fresh,
                // Cargo's own output would mix with a document on stdout.
                text_to_stderr: a.judge.format != ReportFormat::Human,
            },
            policy: a.judge.policy,
            levels,
            audit: a.judge.audit,
            scan: (!a.no_scan).then(|| ScanSettings {
                cache_dir: a.scan_cache,
                jobs: jobs(None),
            }),
            verbose: a.verbose,
            events: a.trace.events.map(pinned).transpose()?,
        },
        outputs,
        timings: a.timings,
    }))
}

fn graph_args(manifest_path: Option<&std::path::Path>, locked: bool, offline: bool) -> Vec<String> {
    let mut graph_args = Vec::new();
    if let Some(m) = manifest_path {
        graph_args.push("--manifest-path".to_string());
        graph_args.push(m.display().to_string());
    }
    if locked {
        graph_args.push("--locked".into());
    }
    if offline {
        graph_args.push("--offline".into());
    }
    graph_args
}

/// Parses the command line (`cargo-tracer tracer …` as cargo runs it, or `cargo-tracer …`),
/// with cargo tracer's own flags taken from among cargo's arguments ([`hoist`]).
pub fn try_parse(mut args: Vec<String>) -> Result<Cli, clap::Error> {
    use clap::Parser as _;
    if args.get(1).map(String::as_str) == Some("tracer") {
        args.remove(1);
    }
    Cli::try_parse_from(hoist::own_flags_first(args))
}

/// Validates the raw command line.
pub fn resolve(cli: Cli) -> Result<Command, OptionsError> {
    Ok(match cli.command {
        args::Cmd::Run(a) => Command::Run(RunCommand {
            run: RunOptions {
                command: a.command,
                load: LoadOptions {
                    system_wide: a.system_wide,
                    trace_cargo: false,
                    ring_bytes: a.trace.ring_size,
                    // A plain command's stacks are never asked for.
                    stacks: false,
                },
                as_root: a.trace.as_root,
                linger: Duration::from_millis(a.trace.linger_ms),
                cwd: None,
                env: Vec::new(),
                preamble: Vec::new(),
                allow_io_uring: a.trace.allow_io_uring,
            },
            events: a.trace.events.map(pinned).transpose()?,
            format: a.format,
            color: color(None),
        }),
        args::Cmd::Build(a) => check(Subcommand::Build, a)?,
        args::Cmd::Test(a) => check(Subcommand::Test, a)?,
        args::Cmd::Report(a) => Command::Report(ReportCommand {
            recheck: RecheckOptions {
                events: a.events,
                policy: a.judge.policy.clone(),
                manifest_path: a.manifest_path,
                levels: levels(&a.judge)?,
                audit: a.judge.audit,
                verbose: a.verbose,
                rescan: a.rescan,
                snapshot: None,
            },
            outputs: outputs(&a.judge, a.verbose)?,
        }),
        args::Cmd::Scan(a) => Command::Scan(ScanCommand {
            graph_args: graph_args(a.manifest_path.as_deref(), a.locked, a.offline),
            packages: a.packages,
            cache: !a.no_cache,
            jobs: jobs(a.jobs),
            format: a.format,
            verbose: a.verbose,
        }),
        args::Cmd::Policy(args::PolicyCmd::Suggest { events }) => Command::Suggest { events },
        args::Cmd::Policy(args::PolicyCmd::Check {
            policy,
            manifest_path,
            deny_warnings,
        }) => Command::PolicyCheck(PolicyCheckCommand {
            policy,
            graph_args: graph_args(manifest_path.as_deref(), false, false),
            manifest_path,
            deny_warnings,
            color: color(None),
        }),
        args::Cmd::Policy(args::PolicyCmd::Defaults { krate }) => Command::PolicyDefaults { krate },
        args::Cmd::Daemon(d) => Command::Daemon(daemon(d)?),
        args::Cmd::Diff(a) => Command::Diff {
            old: a.old,
            new: a.new,
            format: a.format,
        },
    })
}

/// Where the daemon writes traces when not told.
fn daemon_dir() -> PathBuf {
    match std::env::var_os("RUNNER_TEMP") {
        Some(t) => PathBuf::from(t).join("cargo-tracer").join("daemon"),
        None => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            // Root's: a directory others can write to could be a link planted to steer
            // where root writes.
            PathBuf::from(format!("/var/lib/cargo-tracer/daemon-{now}"))
        }
    }
}

fn daemon(d: args::DaemonCmd) -> Result<DaemonCommand, OptionsError> {
    let options = |a: args::DaemonArgs| -> Result<_, OptionsError> {
        let dir = a.dir.unwrap_or_else(daemon_dir);
        // Relative to where `start` ran, not to where the detached daemon runs.
        let dir = std::path::absolute(&dir).map_err(|source| OptionsError::Path {
            path: dir.display().to_string(),
            source,
        })?;
        let group = match a.group {
            Some(name) => {
                let gid = crate::identity::group_id(&name)?;
                // Under sudo the caller is who runs the builds: one of their processes could
                // then stop the daemon early or read what it traced.
                if let Some(id) = crate::identity::for_command(false)?
                    && (id.gid == gid || id.groups.contains(&gid))
                {
                    return Err(OptionsError::GroupHasBuilder {
                        group: name,
                        user: id.name,
                    });
                }
                Some((name, gid))
            }
            None => None,
        };
        Ok(crate::daemon::DaemonOptions {
            dir,
            socket: std::path::absolute(&a.socket.socket).unwrap_or(a.socket.socket),
            ring_bytes: a.ring_size,
            linger: Duration::from_millis(a.linger_ms),
            group,
        })
    };
    Ok(match d {
        args::DaemonCmd::Start(a) => DaemonCommand::Start {
            options: options(a)?,
            detach: true,
        },
        args::DaemonCmd::Run(a) => DaemonCommand::Start {
            options: options(a)?,
            detach: false,
        },
        args::DaemonCmd::Status { socket, format } => DaemonCommand::Status {
            socket: socket.socket,
            format,
        },
        args::DaemonCmd::Stop(a) => DaemonCommand::Stop(DaemonStopCommand {
            socket: a.socket.socket,
            policy: a.judge.policy.clone(),
            levels: levels(&a.judge)?,
            audit: a.judge.audit,
            verbose: a.verbose,
            scan: !a.no_scan,
            outputs: outputs(&a.judge, a.verbose)?,
        }),
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn resolved(args: &[&str]) -> Result<Command, OptionsError> {
        resolve(Cli::try_parse_from(args).unwrap())
    }

    #[test]
    fn level_names_are_checked_with_a_suggestion() {
        let e = resolved(&["cargo tracer", "build", "-D", "fs.wirte"]).unwrap_err();
        assert!(e.to_string().contains("did you mean `fs.write`?"), "{e}");
        let Command::Check(c) = resolved(&["cargo tracer", "build", "-A", "unexpected"]).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            c.check.levels.code(crate::model::Code::Unexpected),
            Level::Allow
        );
    }

    #[test]
    fn our_options_work_before_and_among_cargo_arguments() {
        let check = |args: &[&str]| {
            let args = args.iter().map(|s| s.to_string()).collect();
            let Command::Check(c) = resolve(try_parse(args).unwrap()).unwrap() else {
                panic!("not a build")
            };
            c
        };
        let first = check(&[
            "cargo-tracer",
            "tracer",
            "test",
            "--fresh",
            "--format",
            "sarif",
            "--scan-cache",
            "D",
            "--locked",
            "-p",
            "x",
            "--",
            "--nocapture",
        ]);
        let among = check(&[
            "cargo-tracer",
            "tracer",
            "test",
            "--locked",
            "--fresh",
            "-p",
            "x",
            "--scan-cache",
            "D",
            "--format=sarif",
            "--",
            "--nocapture",
        ]);
        for c in [&first, &among] {
            assert!(c.check.settings.fresh);
            assert_eq!(c.outputs.stdout, ReportFormat::Sarif);
            assert_eq!(
                c.check.scan.as_ref().and_then(|s| s.cache_dir.as_deref()),
                Some(std::path::Path::new("D"))
            );
            assert_eq!(
                c.check.invocation.args,
                ["--locked", "-p", "x", "--", "--nocapture"]
            );
        }
        // What the test binaries get after `--` is theirs, and flags cargo has too are cargo's
        // among cargo's arguments.
        let c = check(&[
            "cargo-tracer",
            "test",
            "--offline",
            "-q",
            "--",
            "--format",
            "json",
        ]);
        assert_eq!(c.outputs.stdout, ReportFormat::Human);
        assert!(!c.outputs.detail.quiet);
        assert_eq!(
            c.check.invocation.args,
            ["--offline", "-q", "--", "--format", "json"]
        );
        assert!(
            check(&["cargo-tracer", "build", "-q", "--offline"])
                .outputs
                .detail
                .quiet
        );
    }

    #[test]
    fn events_on_stdout_are_refused_for_builds() {
        assert!(matches!(
            resolved(&["cargo tracer", "test", "--events", "-"]),
            Err(OptionsError::EventsToStdout)
        ));
        assert!(resolved(&["cargo tracer", "run", "--events", "-", "--", "true"]).is_ok());
    }
}
