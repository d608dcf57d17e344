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
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().task {
        Task::Offsets => {
            let btf = tracer::loader::btf::Btf::from_sys_fs().context("reading kernel BTF")?;
            let off = tracer::loader::offsets::kernel_offsets(&btf).context("finding offsets")?;
            println!("{off:#?}");
        }
        Task::Bench(a) => bench::run(&a)?,
    }
    Ok(())
}
