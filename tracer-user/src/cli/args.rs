//! The command line as clap parses it: raw flags, validated into options by [`super::resolve`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use crate::output::Format as ReportFormat;

/// Trace what every crate in a Rust build does to the machine — files, network, processes —
/// with eBPF probes in the kernel.
///
/// Needs root, or CAP_BPF+CAP_PERFMON. Started through sudo, the traced command runs as the
/// invoking user (use --as-root to keep root).
#[derive(Debug, Parser)]
#[command(
    name = "cargo tracer",
    bin_name = "cargo tracer",
    version,
    about,
    long_about
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Run `cargo build` under the probes and report what each crate did.
    ///
    /// Every event is attributed to a crate@version and a phase: its build script (and all it
    /// spawned), its proc macro running inside rustc, rustc compiling it, or cargo itself. Cargo
    /// arguments (-p, --features, --release, --manifest-path, --locked, --offline…) pass through.
    /// Exits with cargo's exit code, or 2 if tracing failed.
    #[command(
        after_help = "Examples:\n  cargo tracer build --offline\n  cargo tracer build --fresh --format json -p my-crate > report.json"
    )]
    Build(CargoArgs),
    /// Run `cargo test` under the probes and report what each crate did (tests included).
    #[command(after_help = "Arguments after `--` go to the test binaries, as with cargo test.")]
    Test(CargoArgs),
    /// Run any command and trace its whole process tree.
    ///
    /// Every probe is attached before the command starts. Prints a summary (processes, events by
    /// kind, lost events, notable activity per program) on stderr and exits with the command's
    /// exit code (128+N if it was killed by signal N), or 2 if tracing itself failed. A trace
    /// that lost events is marked INCOMPLETE.
    #[command(
        after_help = "Example:\n  cargo tracer run --events trace.jsonl -- make\n\nThe event schema is documented in docs/EVENTS.md."
    )]
    Run(RunArgs),
    /// Judge a recorded build (`build|test --events FILE`) again, offline and without root:
    /// the same report, verdict and exit code as the live run, with the policy and levels
    /// given now.
    #[command(
        after_help = "Examples:\n  cargo tracer report build.jsonl.zst\n  cargo tracer report build.jsonl.zst --policy new.toml --output sarif=tracer.sarif --output html=tracer.html"
    )]
    Report(ReportArgs),
    /// Find, in every crate of the dependency graph, where its code reads, writes or deletes
    /// files, connects, listens, resolves names, runs programs or reads secrets — and which
    /// hosts and URLs it names. Static: no build, no root.
    ///
    /// Looks at sources (every target: build script, proc macro, library, binaries, tests; `use`
    /// aliases and globs resolved; base64/hex/XOR/concat tricks decoded and flagged obfuscated)
    /// and at compiled build scripts and proc macros already in the target directory.
    #[command(
        after_help = "Examples:\n  cargo tracer scan\n  cargo tracer scan -p my-crate --format sarif > scan.sarif"
    )]
    Scan(ScanArgs),
    /// Policy helpers.
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// List behaviours that are new since a baseline, e.g. after `cargo update`: each side a
    /// report (`build|test --format json`) or a recorded build (`--events`). Exits 1 if there
    /// are any, 2 if the new side is incomplete.
    #[command(
        after_help = "Example:\n  cargo tracer diff before.jsonl.zst after.jsonl.zst --format json"
    )]
    Diff(DiffArgs),
    /// Trace every cargo run on the machine for a whole CI job: `start`, build and test as
    /// usual, `stop` for the verdict.
    #[command(subcommand)]
    Daemon(DaemonCmd),
}

#[derive(Debug, Subcommand)]
pub enum DaemonCmd {
    /// Start the daemon in the background: from now on every process on this machine that
    /// runs a program named `cargo` — started by any step, script or tool — is traced, with
    /// all it starts, until `stop`. Returns once the probes are attached. A cargo already
    /// running is not traced.
    #[command(
        after_help = "Example (a CI job; -E keeps $RUNNER_TEMP and $GITHUB_STEP_SUMMARY):\n  sudo install -o root -g root -m 755 \"$(command -v cargo-tracer)\" /usr/local/sbin/cargo-tracer\n  sudo -E /usr/local/sbin/cargo-tracer tracer daemon start --dir \"$RUNNER_TEMP/tracer\"\n  cargo build --locked && cargo test --locked\n  sudo -E /usr/local/sbin/cargo-tracer tracer daemon stop --output sarif=tracer.sarif\n\nThe builds run as your user and can replace what that user owns (~/.cargo/bin/cargo-tracer):\nstop with a root-owned copy, by its full path. Run the stop step even when a build failed\n(GitHub Actions: `if: always()`): until it runs, the daemon traces every cargo run of the\nmachine. Traces: DIR/NNN-cargo-PID.jsonl.zst, one per cargo invocation; the daemon's log:\nDIR/daemon.log."
    )]
    Start(DaemonArgs),
    /// Run the daemon in the foreground (under systemd, or to watch it); Ctrl-C finishes every
    /// trace and exits, without a verdict: judge each trace it leaves with `cargo tracer
    /// report DIR/NNN-cargo-PID.jsonl.zst`.
    Run(DaemonArgs),
    /// Show what the daemon has traced so far: each cargo invocation, events, losses.
    Status {
        #[command(flatten)]
        socket: SocketArg,
        /// What to print: a line per cargo invocation for people, or the daemon's status as JSON.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Stop tracing, finish every invocation's trace and judge each with its workspace's
    /// policy as it was when that invocation started, as `cargo tracer report` would. Exits 1
    /// if the policy is violated; 2 if any trace is incomplete (events lost, a process still
    /// running, a trace changed after the daemon wrote it, a workspace it could not read), if
    /// no cargo run that built anything was traced, or if the daemon is gone; else 0. A cargo
    /// run that failed is its own step's failure, not this one's.
    #[command(
        after_help = "Each --output file is written once per judged invocation, numbered by the #N the\ninvocation has in `status`: --output sarif=tracer.sarif writes tracer.1.sarif,\ntracer.2.sarif, … (upload them with a glob, each with its own SARIF category).\nThe verdicts go to stdout (human, markdown or github), and the Markdown summary of each to\n$GITHUB_STEP_SUMMARY when it is set."
    )]
    Stop(DaemonStopArgs),
}

/// The control socket.
#[derive(Debug, Args)]
pub struct SocketArg {
    /// The daemon's control socket.
    #[arg(long, value_name = "PATH", default_value = crate::daemon::control::DEFAULT_SOCKET)]
    pub socket: PathBuf,
}

#[derive(Debug, Args)]
pub struct DaemonArgs {
    #[command(flatten)]
    pub socket: SocketArg,

    /// Where each invocation's trace is written [default: $RUNNER_TEMP/cargo-tracer/daemon in
    /// GitHub Actions, else /var/lib/cargo-tracer/daemon-<time>].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Ring buffer size in bytes (a power of two, at least 4096): raise it if `status` shows
    /// events lost while several builds run at once.
    #[arg(long, value_name = "BYTES", default_value_t = crate::loader::DEFAULT_RING_BYTES)]
    pub ring_size: u32,

    /// After an invocation's cargo exits, keep tracing what it left running this long (ms);
    /// a crate's process still running then makes its verdict incomplete.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    pub linger_ms: u64,

    /// Let the members of this group use the control socket too (`status`, `stop`) besides
    /// root. The builds must not run as a member: they could stop the daemon early (which
    /// fails the job closed) or read what it traced.
    #[arg(long, value_name = "NAME")]
    pub group: Option<String>,
}

#[derive(Debug, Args)]
pub struct DaemonStopArgs {
    #[command(flatten)]
    pub socket: SocketArg,

    /// (`--policy FILE` judges every invocation with that one file, read now, instead of each
    /// workspace's policy as it was when the invocation started.)
    #[command(flatten)]
    pub judge: JudgeArgs,

    /// Judge without the static scan of the graph's sources.
    #[arg(long)]
    pub no_scan: bool,

    /// List routine behaviour too, and full targets.
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCmd {
    /// Write allow entries (with reason placeholders) for everything a recorded build did that is
    /// not routine: a starting point for a team adopting cargo-tracer.
    #[command(
        after_help = "Example:\n  sudo -E env \"PATH=$PATH\" cargo tracer build --fresh --events build.jsonl\n  cargo tracer policy suggest build.jsonl > tracer.toml"
    )]
    Suggest {
        /// A trace written by `cargo tracer build|test --events FILE`.
        #[arg(value_name = "EVENTS.jsonl")]
        events: PathBuf,
    },
    /// Check the policy without building anything: tracer.toml and `[*.metadata.tracer]` in the
    /// workspace's manifests, with the shipped defaults. Reports every mistake with its place,
    /// and warns about `TODO` reasons and entries that can never match. Exits 1 on errors.
    #[command(after_help = "Example:\n  cargo tracer policy check --manifest-path app/Cargo.toml")]
    Check {
        /// Check this policy file instead of the project's own.
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        /// Path to the workspace's Cargo.toml.
        #[arg(long, value_name = "PATH")]
        manifest_path: Option<PathBuf>,
        /// Treat warnings as errors.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// List the default policies shipped with cargo-tracer, or print the one for CRATE.
    #[command(
        after_help = "Examples:\n  cargo tracer policy defaults\n  cargo tracer policy defaults cc"
    )]
    Defaults {
        /// The crate whose default policy to print.
        #[arg(value_name = "CRATE")]
        krate: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The baseline: a report (`build|test --format json`) or a recorded build (`--events`).
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The new report or recorded build.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Path to Cargo.toml.
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,

    /// Only these packages (name or name@version) and their dependencies.
    #[arg(short = 'p', long = "package", value_name = "SPEC")]
    pub packages: Vec<String>,

    /// Require Cargo.lock to be up to date.
    #[arg(long)]
    pub locked: bool,

    /// Do not access the network (the graph must be resolvable from what is cached).
    #[arg(long)]
    pub offline: bool,

    #[arg(long, value_enum, default_value_t = ScanFormat::Human)]
    pub format: ScanFormat,

    /// List every finding (the default shows ten per crate).
    #[arg(long, short = 'v')]
    pub verbose: bool,

    /// Parse everything again instead of reusing results of unchanged crates.
    #[arg(long)]
    pub no_cache: bool,

    /// Parallel workers (default: the number of CPUs).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    Human,
    Json,
    Sarif,
}

/// Flags of every traced run.
#[derive(Debug, Args)]
pub struct TraceArgs {
    /// Write every event as JSON Lines to FILE ("-" for stdout).
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,

    /// Under sudo, run the command as root instead of the invoking user.
    #[arg(long)]
    pub as_root: bool,

    /// Let the traced command use io_uring. Its operations are not traced, so a ring set up
    /// makes the verdict incomplete; by default io_uring fails with ENOSYS (as under Docker)
    /// and libraries fall back to plain system calls.
    #[arg(long)]
    pub allow_io_uring: bool,

    /// Ring buffer size in bytes (a power of two, at least 4096).
    #[arg(long, value_name = "BYTES", default_value_t = crate::loader::DEFAULT_RING_BYTES)]
    pub ring_size: u32,

    /// After the command exits, keep tracing its still-running descendants this long (ms).
    /// Tracing stops early once none is left; any still running then make the trace
    /// incomplete (a daemon that sleeps past this is not let off: it is named, exit 2).
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    pub linger_ms: u64,
}

/// How a build is judged and where the verdict goes: shared by `build`, `test` and `report`.
#[derive(Debug, Args)]
pub struct JudgeArgs {
    /// What to print on stdout: the report and verdict for people, JSON, the Markdown job
    /// summary, SARIF for code scanning, a self-contained HTML page, or GitHub Actions
    /// annotations (`::error file=…,line=…`).
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,

    /// Also write FORMAT to PATH (human, json, markdown, sarif, html, github). Repeatable:
    /// `--output sarif=tracer.sarif --output html=tracer.html`.
    #[arg(long = "output", value_name = "FORMAT=PATH", value_parser = parse_output)]
    pub outputs: Vec<(ReportFormat, PathBuf)>,

    /// Use this policy file instead of tracer.toml / `[*.metadata.tracer]` in Cargo.toml.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Report verdicts but do not fail on them (exit 0 unless tracing itself failed or the
    /// trace is incomplete).
    #[arg(long)]
    pub audit: bool,

    /// Make an outcome or kind an error (violation, unexpected, dormant, unused-rule,
    /// incomplete, net.connect, fs.write, …). Repeatable.
    #[arg(short = 'D', long = "deny", value_name = "NAME")]
    pub deny: Vec<String>,

    /// Make an outcome or kind a warning. Repeatable.
    #[arg(short = 'W', long = "warn", value_name = "NAME")]
    pub warn: Vec<String>,

    /// Ignore an outcome or kind. Repeatable.
    #[arg(short = 'A', long = "allow", value_name = "NAME")]
    pub allow: Vec<String>,

    /// Only the verdict (no per-crate report) in human output.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Colour in human output [default: auto: on a terminal, unless NO_COLOR is set;
    /// CARGO_TERM_COLOR is honoured].
    #[arg(long, value_enum, value_name = "WHEN")]
    pub color: Option<Color>,
}

/// When to colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

fn parse_output(s: &str) -> Result<(ReportFormat, PathBuf), String> {
    let (format, path) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not FORMAT=PATH (e.g. sarif=tracer.sarif)"))?;
    let format = ReportFormat::from_str(format, true).map_err(|_| {
        format!("`{format}` is not a format (human, json, markdown, sarif, html, github)")
    })?;
    if path.is_empty() {
        return Err(format!("`{s}` names no file"));
    }
    Ok((format, PathBuf::from(path)))
}

#[derive(Debug, Args)]
pub struct CargoArgs {
    #[command(flatten)]
    pub trace: TraceArgs,

    #[command(flatten)]
    pub judge: JudgeArgs,

    /// Do not scan the graph's sources: behaviours are then violations or allowed, never
    /// "unexpected", and dormant findings are not reported.
    #[arg(long)]
    pub no_scan: bool,

    /// Where the static scan caches its results [default: <target-dir>/cargo-tracer/scan-cache].
    /// In CI, a directory kept between jobs (like ~/.cargo) makes the scan of unchanged
    /// dependencies free even when the target directory is new.
    #[arg(long, value_name = "DIR")]
    pub scan_cache: Option<std::path::PathBuf>,

    /// Build in a private, empty target directory so every build script and proc macro runs
    /// (a cached build would hide their behaviour).
    #[arg(long)]
    pub fresh: bool,

    /// List routine behaviour too (own sources, OUT_DIR, toolchain), and full targets.
    #[arg(long, short = 'v')]
    pub verbose: bool,

    /// Print how long each stage took, on stderr.
    #[arg(long)]
    pub timings: bool,

    /// Arguments for cargo. cargo tracer's own flags may come before or among them (up to
    /// `--`); -v, -q, --color and --timings, which cargo has too, are cargo tracer's before the
    /// first cargo argument and cargo's after it.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CARGO_ARGS"
    )]
    pub cargo_args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub trace: TraceArgs,

    /// Summary format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Record every process on the machine, not only the command's tree.
    #[arg(long)]
    pub system_wide: bool,

    /// The command to trace, after `--`.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A trace written by `cargo tracer build|test --events FILE` (`.zst` or not).
    #[arg(value_name = "EVENTS.jsonl")]
    pub events: PathBuf,

    #[command(flatten)]
    pub judge: JudgeArgs,

    /// List routine behaviour too, and full targets.
    #[arg(long, short = 'v')]
    pub verbose: bool,

    /// Scan the sources again (where the trace says they are) instead of using the scan it
    /// recorded.
    #[arg(long)]
    pub rescan: bool,

    /// The project whose policy judges the build (tracer.toml, `[*.metadata.tracer]`)
    /// [default: the workspace around the current directory; never the one the trace names].
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}
