//! Command-line interface: raw flags as clap parses them.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

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
    /// Run a command and trace its whole process tree.
    ///
    /// Every probe is attached before the command starts. Prints a summary (processes, events by
    /// kind, lost events) on stderr and exits with the command's exit code (128+N if it was
    /// killed by signal N), or 2 if tracing itself failed. A trace that lost events is marked
    /// INCOMPLETE.
    #[command(
        after_help = "Example:\n  cargo tracer run --events trace.jsonl -- cargo build --offline\n\nThe event schema is documented in docs/EVENTS.md."
    )]
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Write every event as JSON Lines to FILE ("-" for stdout).
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,

    /// Summary format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Record every process on the machine, not only the command's tree.
    #[arg(long)]
    pub system_wide: bool,

    /// Under sudo, run the command as root instead of the invoking user.
    #[arg(long)]
    pub as_root: bool,

    /// Ring buffer size in bytes (a power of two, at least 4096).
    #[arg(long, value_name = "BYTES", default_value_t = crate_ring_default())]
    pub ring_size: u32,

    /// After the command exits, keep tracing its still-running descendants this long (ms).
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub linger_ms: u64,

    /// The command to trace, after `--`.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<String>,
}

const fn crate_ring_default() -> u32 {
    tracer::loader::DEFAULT_RING_BYTES
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}
