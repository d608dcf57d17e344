//! Developer tasks: `cargo xtask <task>`.

mod bench;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "cargo-tracer developer tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Print the kernel struct offsets the probes will use on this kernel (read from its BTF).
    ///
    /// The first thing to look at when the probes misbehave on a new kernel.
    Offsets,
    /// Run the benchmarks and print a table (results are recorded in BENCHMARKS.md).
    Bench(bench::BenchArgs),
    /// Re-record the golden traces (`tests/golden/`) with the real probes (root), then bring
    /// the snapshots of every output (`tests/snapshots/`) up to date: review both with
    /// `git diff` before committing.
    ///
    /// Needed when the probes, the event schema or the fixtures change.
    Golden,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().task {
        Task::Offsets => {
            let btf = tracer::loader::btf::Btf::from_sys_fs().context("reading kernel BTF")?;
            let off = tracer::loader::offsets::kernel_offsets(&btf).context("finding offsets")?;
            println!("{off:#?}");
        }
        Task::Bench(a) => bench::run(&a)?,
        Task::Golden => golden()?,
    }
    Ok(())
}

/// `cargo test` of one test target of the tests crate, with `env`.
fn cargo_test(target: &str, env: &[(&str, &str)]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["test", "--locked", "-p", "tracer-tests", "--test", target])
        .envs(env.iter().copied())
        .status()
        .with_context(|| format!("running the `{target}` tests"))?;
    anyhow::ensure!(status.success(), "the `{target}` tests failed ({status})");
    Ok(())
}

fn golden() -> anyhow::Result<()> {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    anyhow::ensure!(euid == 0, "recording needs root (the real probes)");
    cargo_test("golden", &[("TRACER_GOLDEN_RECORD", "1")])?;
    cargo_test("snapshots", &[("INSTA_UPDATE", "always")])?;
    eprintln!("xtask: golden traces re-recorded and snapshots updated; review `git diff tests/`");
    Ok(())
}
