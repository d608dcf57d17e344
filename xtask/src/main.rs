//! Developer tasks: `cargo xtask <task>`.

mod bench;
#[path = "../../tracer-user/build/probes.rs"]
mod probes;

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
    /// Build the eBPF probes and put the object, with the digests of it and of its sources,
    /// in `tracer-user/prebuilt/`: the release step before `cargo package`, so that
    /// `cargo install cargo-tracer` works with stable Rust alone. Needs the probes' toolchain.
    Probes,
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
        Task::Probes => prebuilt_probes()?,
    }
    Ok(())
}

fn prebuilt_probes() -> anyhow::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("xtask has no parent directory")?;
    let toolchain = probes::pinned_toolchain(&root.join("tracer-ebpf/rust-toolchain.toml"))?;
    anyhow::ensure!(
        probes::toolchain_present(&toolchain),
        "the probes' toolchain ({toolchain} and bpf-linker) is not installed: run scripts/setup.sh"
    );
    let obj = probes::build(root, &toolchain, &root.join("target/ebpf"))?;
    let bytes = std::fs::read(&obj).with_context(|| format!("reading {}", obj.display()))?;
    let dir = root.join("tracer-user").join(probes::PREBUILT_DIR);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(probes::PREBUILT_OBJ), &bytes)?;
    let sources = probes::sources_digest(root)?;
    std::fs::write(
        dir.join(probes::PREBUILT_SUMS),
        probes::sums(&sources, &bytes),
    )?;
    println!(
        "{}: {} bytes, built from sources {sources}",
        dir.join(probes::PREBUILT_OBJ).display(),
        bytes.len()
    );
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
