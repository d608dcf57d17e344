//! `cargo xtask bench`: measurements that are never timed tests. Each prints its raw numbers
//! and a summary; BENCHMARKS.md records them with the machine they ran on.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use anyhow::{Context, bail};

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Which benchmark.
    #[arg(value_enum, default_value_t = Which::Scan)]
    which: Which,
    /// Runs of each measurement (after one warm-up).
    #[arg(long, default_value_t = 5)]
    runs: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Which {
    /// Static scan of the benchmark graph (benches/graph): cold (no cache) and warm.
    Scan,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is in the workspace")
        .to_path_buf()
}

/// One run of `argv` under GNU time: wall seconds and peak RSS in KiB.
fn measure(argv: &[&str], dir: &Path) -> anyhow::Result<(f64, u64)> {
    let t0 = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("maxrss_kib=%M")
        .args(argv)
        .current_dir(dir)
        .output()
        .context("running /usr/bin/time (apt-get install time)")?;
    let wall = t0.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!("{argv:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let rss = err
        .lines()
        .filter_map(|l| l.strip_prefix("maxrss_kib="))
        .next_back()
        .and_then(|v| v.trim().parse().ok())
        .context("no maxrss in /usr/bin/time output")?;
    Ok((wall, rss))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub fn run(a: &BenchArgs) -> anyhow::Result<()> {
    let root = root();
    let st = Command::new("cargo")
        .args(["build", "--release", "--quiet", "-p", "cargo-tracer"])
        .current_dir(&root)
        .status()?;
    if !st.success() {
        bail!("building cargo-tracer failed");
    }
    let bin = root.join("target/release/cargo-tracer");
    let graph = root.join("benches/graph");
    let st = Command::new("cargo")
        .args(["fetch", "--quiet"])
        .current_dir(&graph)
        .status()?;
    if !st.success() {
        bail!("fetching the benchmark graph failed (needs crates.io once)");
    }
    match a.which {
        Which::Scan => {
            let b = bin.to_str().context("path")?;
            let cold = [
                b,
                "tracer",
                "scan",
                "--offline",
                "--no-cache",
                "--format",
                "json",
            ];
            let warm = [b, "tracer", "scan", "--offline", "--format", "json"];
            // Warm-up (also fills the cache for the warm runs).
            measure(&warm, &graph)?;
            let meta = Command::new(b)
                .args(warm.iter().skip(1))
                .current_dir(&graph)
                .output()?;
            let r: serde_json::Value = serde_json::from_slice(&meta.stdout)?;
            let (crates, lines) = (
                r["stats"]["crates"].as_u64().unwrap_or(0),
                r["stats"]["lines"].as_u64().unwrap_or(0),
            );
            let (mut cw, mut cr, mut ww, mut wr) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for _ in 0..a.runs {
                // Interleaved, so drift on a shared machine hits both alike.
                let (w, r) = measure(&cold, &graph)?;
                cw.push(w);
                cr.push(r as f64);
                let (w, r) = measure(&warm, &graph)?;
                ww.push(w);
                wr.push(r as f64);
            }
            println!(
                "static scan of benches/graph: {crates} crates, {lines} lines, {} runs each",
                a.runs
            );
            println!("raw cold s: {cw:.3?}\nraw warm s: {ww:.3?}");
            let (c, w) = (median(&mut cw), median(&mut ww));
            println!("| scan | median wall | min–max | peak RSS | crates/s | lines/s |");
            println!("|---|---|---|---|---|---|");
            let min_max = |v: &[f64]| format!("{:.2}–{:.2} s", v[0], v[v.len() - 1]);
            println!(
                "| cold (no cache) | {c:.2} s | {} | {:.0} MiB | {:.0} | {:.0} |",
                min_max(&cw),
                median(&mut cr) / 1024.0,
                crates as f64 / c,
                lines as f64 / c
            );
            println!(
                "| warm (cached) | {w:.2} s | {} | {:.0} MiB | {:.0} | – |",
                min_max(&ww),
                median(&mut wr) / 1024.0,
                crates as f64 / w
            );
        }
    }
    Ok(())
}
