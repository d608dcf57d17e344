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
    /// `build` only: the variants to time besides `plain` (default: all of run, build,
    /// build-cached, strace, cackle).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Which {
    /// Static scan of the benchmark graph (benches/graph): cold (no cache) and warm.
    Scan,
    /// Clean build of benches/graph: plain, under `cargo tracer run`, under `cargo tracer build`
    /// (full report, scan and verdict; scan cache cold or kept), under `strace -f`, and cackle
    /// where installed — interleaved. Needs root.
    Build,
    /// Event throughput: paced writers (opens, refused loopback connects, execs) swept up to
    /// the highest rate without loss, then an unpaced overload. Needs root.
    Throughput,
    /// Attach and detach: `cargo tracer run -- true`, from start to all probes attached, from
    /// the command's exit to the report, and the tracer's whole wall time. Needs root.
    Attach,
    /// One traced clean build of benches/graph recorded with `--events`, then `report` of it
    /// offline in every format: sizes (events file, HTML page, JSON) and times. Needs root.
    Report,
    /// The tests of benches/graph (`tests/work.rs`: HTTP on loopback through tokio, hyper and
    /// reqwest, zstd and serde_json files, threads, child processes), built beforehand: plain
    /// `cargo test` and `cargo tracer test` (every call of the test binaries with its stack
    /// copied, unwound and symbolized; report and verdict; scan cache kept), interleaved.
    /// Needs root.
    Test,
    /// A long CI job under `cargo tracer daemon`: batches of small cargo builds started
    /// independently, the daemon's peak RSS and events after each batch (its memory must not
    /// grow with the job), then the time `stop` takes to judge them all. Needs root.
    Daemon,
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

/// Runs `argv` in `dir`, returning wall seconds and stdout.
fn timed(argv: &[String], dir: &Path) -> anyhow::Result<(f64, String)> {
    timed_env(argv, dir, &[])
}

/// [`timed`] with extra environment variables.
fn timed_env(argv: &[String], dir: &Path, env: &[(&str, &str)]) -> anyhow::Result<(f64, String)> {
    timed_all(argv, dir, env).map(|(wall, out, _)| (wall, out))
}

/// Runs `argv` in `dir` with `env`: wall seconds, stdout and stderr.
fn timed_all(
    argv: &[String],
    dir: &Path,
    env: &[(&str, &str)],
) -> anyhow::Result<(f64, String, String)> {
    let t0 = Instant::now();
    let out = Command::new(&argv[0])
        .args(&argv[1..])
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .with_context(|| format!("running {}", argv[0]))?;
    let wall = t0.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!("{argv:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Ok((wall, text(&out.stdout), text(&out.stderr)))
}

fn daemon_bench(bin: &Path, runs: usize) -> anyhow::Result<()> {
    let dir = tempfile_dir("cargo-tracer-bench-daemon")?;
    let ws = dir.join("ws");
    std::fs::create_dir_all(ws.join("src"))?;
    std::fs::write(
        ws.join("Cargo.toml"),
        "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )?;
    let socket = dir.join("ctl/daemon.sock").display().to_string();
    let b = bin.display().to_string();
    let traces = dir.join("traces").display().to_string();
    timed(
        &[
            b.clone(),
            "tracer".into(),
            "daemon".into(),
            "start".into(),
            "--dir".into(),
            traces,
            "--socket".into(),
            socket.clone(),
        ],
        &dir,
    )?;
    let status = || -> anyhow::Result<serde_json::Value> {
        let (_, out) = timed(
            &[
                b.clone(),
                "tracer".into(),
                "daemon".into(),
                "status".into(),
                "--format".into(),
                "json".into(),
                "--socket".into(),
                socket.clone(),
            ],
            &dir,
        )?;
        Ok(serde_json::from_str(&out)?)
    };
    println!("| cargo runs | events | daemon peak RSS | without the ring mappings |");
    println!("|---|---|---|---|");
    let row = |s: &serde_json::Value| {
        let rss = s["max_rss_kib"].as_f64().unwrap_or(0.0);
        let rings = s["ring_mappings_kib"].as_f64().unwrap_or(0.0);
        println!(
            "| {} | {} | {:.0} MiB | {:.0} MiB |",
            s["invocations"].as_array().map_or(0, Vec::len),
            s["events"],
            rss / 1024.0,
            (rss - rings) / 1024.0
        )
    };
    row(&status()?);
    for batch in 0..runs.max(1) {
        for i in 0..10 {
            // A change each time, so every build compiles.
            std::fs::write(
                ws.join("src/lib.rs"),
                format!("pub fn f() -> u32 {{ {batch}{i} }}\n"),
            )?;
            timed(
                &[
                    "cargo".into(),
                    "build".into(),
                    "--offline".into(),
                    "--quiet".into(),
                ],
                &ws,
            )?;
        }
        row(&status()?);
    }
    let (wall, _, _) = timed_all(
        &[
            b,
            "tracer".into(),
            "daemon".into(),
            "stop".into(),
            "--no-scan".into(),
            "-q".into(),
            "--audit".into(),
            "--socket".into(),
            socket,
        ],
        &dir,
        &[],
    )?;
    println!("stop (judging every invocation, no scan): {wall:.2} s");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A fresh directory under the temp dir.
fn tempfile_dir(name: &str) -> anyhow::Result<PathBuf> {
    let d = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d)?;
    Ok(d)
}

fn build_bench(bin: &Path, graph: &Path, runs: usize, only: &[String]) -> anyhow::Result<()> {
    let target = std::env::temp_dir().join("cargo-tracer-bench-target");
    let b = bin.display().to_string();
    let t = target.display().to_string();
    let cargo: Vec<String> = ["cargo", "build", "--offline", "--target-dir", &t]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let prefixed = |prefix: &[&str]| -> Vec<String> {
        prefix
            .iter()
            .map(|s| s.to_string())
            .chain(cargo.iter().cloned())
            .collect()
    };
    let tracer_build = |extra: &[&str]| -> Vec<String> {
        // The tracer's own options first: what follows `--offline` goes to cargo.
        [b.as_str(), "tracer", "build"]
            .iter()
            .chain(extra)
            .chain(&[
                "--audit",
                "--format",
                "json",
                "--offline",
                "--target-dir",
                &t,
            ])
            .map(|s| s.to_string())
            .collect()
    };
    // The scan cache normally lives in the target directory, new in every run here; a CI job
    // can keep it elsewhere (`--scan-cache`), like ~/.cargo.
    let kept_cache = std::env::temp_dir().join("cargo-tracer-bench-scan-cache");
    let kept = kept_cache.display().to_string();
    let variants: Vec<(&str, &str, Vec<String>)> = vec![
        ("plain", "plain", cargo.clone()),
        (
            "run",
            "cargo tracer run",
            prefixed(&[&b, "tracer", "run", "--format", "json", "--"]),
        ),
        (
            "build",
            "cargo tracer build (cold scan cache)",
            tracer_build(&[]),
        ),
        (
            "build-cached",
            "cargo tracer build (scan cache kept)",
            tracer_build(&["--scan-cache", &kept]),
        ),
        (
            "strace",
            "strace -f",
            prefixed(&[
                "strace",
                "-f",
                "-e",
                "trace=file,network,process",
                "-o",
                "/dev/null",
            ]),
        ),
    ];
    if Command::new("strace").arg("-V").output().is_err() {
        bail!("strace is not installed (apt-get install strace)");
    }
    let mut variants = variants;
    let wanted = |key: &str| key == "plain" || only.is_empty() || only.iter().any(|o| o == key);
    variants.retain(|(key, ..)| wanted(key));
    // cackle (cargo-acl) where it is installed: a config that accepts everything this graph
    // does is generated in the warm-up (`--auto-accept-fixes`), so every timed run analyses
    // the whole build and succeeds.
    let cackle_cfg = std::env::temp_dir().join("cargo-tracer-bench-cackle.toml");
    let cackle = Command::new("cargo")
        .args(["acl", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if cackle && wanted("cackle") {
        std::fs::write(
            &cackle_cfg,
            "[common]\nversion = 2\nimport_std = [\"fs\", \"net\", \"process\", \"env\", \"terminate\"]\n\
             # Like the plain build: no tests, no examples.\nbuild_flags = []\n",
        )?;
        let c = cackle_cfg.display().to_string();
        let _ = std::fs::remove_dir_all(&target);
        println!("warm-up: cackle generating its configuration for the graph");
        timed_env(
            &["cargo", "acl", "-n", "--auto-accept-fixes", "-c", &c].map(String::from),
            graph,
            &[("CARGO_TARGET_DIR", &t)],
        )?;
        variants.push((
            "cackle",
            "cackle (cargo acl -n)",
            ["cargo", "acl", "-n", "-c", &c].map(String::from).into(),
        ));
    } else {
        println!("cargo-acl is not installed (cargo install --locked cargo-acl): no cackle column");
    }
    // Warm-up: fills the OS caches (and the kept scan cache).
    let _ = std::fs::remove_dir_all(&target);
    println!("warm-up: cargo tracer build");
    timed(&tracer_build(&["--scan-cache", &kept]), graph)?;
    let mut walls: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    let mut summaries = Vec::new();
    for round in 0..runs {
        for (i, (key, name, argv)) in variants.iter().enumerate() {
            let _ = std::fs::remove_dir_all(&target);
            let (w, out) = timed_env(argv, graph, &[("CARGO_TARGET_DIR", &t)])?;
            eprintln!("round {}/{runs}: {name}: {w:.1} s", round + 1);
            walls[i].push(w);
            if *key == "run" {
                // cargo writes to stderr: stdout is the summary alone.
                summaries.push(serde_json::from_str::<serde_json::Value>(out.trim())?);
            }
        }
    }
    let base = median(&mut walls[0].clone());
    println!("clean build of benches/graph, {runs} interleaved runs each (after a warm-up)");
    println!("| variant | median wall | min–max | ratio to plain |\n|---|---|---|---|");
    for (i, (_, name, _)) in variants.iter().enumerate() {
        let mut v = walls[i].clone();
        let m = median(&mut v);
        println!(
            "| {name} | {m:.1} s | {:.1}–{:.1} s | {:.3}× |",
            v[0],
            v[v.len() - 1],
            m / base
        );
    }
    for (i, (_, name, _)) in variants.iter().enumerate() {
        println!("raw {name}: {:.2?}", walls[i]);
    }
    for s in &summaries {
        println!(
            "traced run: {} events, {} lost, {} processes, attach {} ms, report {} ms after exit, tracer peak RSS {} MiB ({} MiB of it the ring buffers, mapped twice), tracer CPU {:.1} s",
            s["events"],
            lost(s),
            s["processes"],
            s["attach_ms"],
            s["report_ms"],
            s["tracer_max_rss_kib"].as_u64().unwrap_or(0) / 1024,
            s["ring_mappings_kib"].as_u64().unwrap_or(0) / 1024,
            s["tracer_cpu_ms"].as_u64().unwrap_or(0) as f64 / 1000.0
        );
    }
    let _ = std::fs::remove_dir_all(&target);
    Ok(())
}

fn test_bench(bin: &Path, graph: &Path, runs: usize) -> anyhow::Result<()> {
    let target = std::env::temp_dir().join("cargo-tracer-bench-test-target");
    let cache = std::env::temp_dir().join("cargo-tracer-bench-scan-cache");
    let (t, c) = (target.display().to_string(), cache.display().to_string());
    let strings = |v: &[&str]| -> Vec<String> { v.iter().map(|s| s.to_string()).collect() };
    let plain = strings(&["cargo", "test", "--offline", "--target-dir", &t]);
    let b = bin.display().to_string();
    // The tracer's own options first: what follows `--offline` goes to cargo.
    let traced = strings(&[
        &b,
        "tracer",
        "test",
        "--audit",
        "--timings",
        "--scan-cache",
        &c,
        "--format",
        "json",
        "--offline",
        "--target-dir",
        &t,
    ]);
    println!("warm-up: building the tests, one traced run (fills the scan cache)");
    timed(
        &strings(&["cargo", "test", "--offline", "--no-run", "--target-dir", &t]),
        graph,
    )?;
    timed_all(&traced, graph, &[])?;
    let (mut p, mut tr) = (Vec::new(), Vec::new());
    let mut last = (String::new(), String::new());
    for round in 0..runs {
        let (w, ..) = timed_all(&plain, graph, &[])?;
        p.push(w);
        let (w2, out, err) = timed_all(&traced, graph, &[])?;
        tr.push(w2);
        eprintln!(
            "round {}/{runs}: plain {w:.2} s, traced {w2:.2} s",
            round + 1
        );
        last = (out, err);
    }
    let (mp, mt) = (median(&mut p.clone()), median(&mut tr.clone()));
    println!("cargo test of benches/graph's tests (built), {runs} interleaved runs each");
    println!(
        "| variant | median wall | ratio |
|---|---|---|"
    );
    println!("| cargo test | {mp:.2} s | 1.000× |");
    println!("| cargo tracer test | {mt:.2} s | {:.3}× |", mt / mp);
    println!(
        "raw plain: {p:.2?}
raw traced: {tr:.2?}"
    );
    // The stacks line of `--timings` and what the verdict says of the tests' behaviour.
    for l in last
        .1
        .lines()
        .filter(|l| l.starts_with("cargo-tracer: stacks:"))
    {
        println!("{l}");
    }
    let v: serde_json::Value = serde_json::from_str(last.0.trim())?;
    let behaviors = v["verdict"]["behaviors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    println!(
        "verdict: {} behaviours not allowed, {} of them runtime or constructor; incomplete: {}",
        behaviors.len(),
        behaviors
            .iter()
            .filter(|b| b["phase"] == "runtime" || b["phase"] == "constructor")
            .count(),
        v["verdict"]["incomplete"]
    );
    for b in behaviors.iter().take(10) {
        println!(
            "  {}@{} {} {} {}",
            b["name"].as_str().unwrap_or(""),
            b["version"].as_str().unwrap_or(""),
            b["phase"].as_str().unwrap_or(""),
            b["kind"].as_str().unwrap_or(""),
            b["target"].as_str().unwrap_or("")
        );
    }
    Ok(())
}

/// `cargo tracer run --format json -- <command…>`.
fn tracer_run(bin: &Path, command: &[&str]) -> Vec<String> {
    [bin.display().to_string()]
        .into_iter()
        .chain(["tracer", "run", "--format", "json", "--"].map(String::from))
        .chain(command.iter().map(|s| s.to_string()))
        .collect()
}

/// One `cargo tracer run` of `script` (sh -c): the tracer's JSON summary.
fn traced_sh(bin: &Path, root: &Path, script: String) -> anyhow::Result<serde_json::Value> {
    let argv = tracer_run(bin, &["sh", "-c", &script]);
    let (_, out) = timed(&argv, root)?;
    Ok(serde_json::from_str(out.trim_start())?)
}

fn lost(s: &serde_json::Value) -> u64 {
    ["ringbuf", "inflight", "tracking"]
        .iter()
        .map(|k| s["lost"][*k].as_u64().unwrap_or(0))
        .sum()
}

/// Offered load swept upwards: 2 paced writers (one per core) doing a mix of opens, refused
/// loopback connects and execs of `true`, 3 s per step, under the default ring buffer. The
/// highest step with zero loss is the sustained rate; an unpaced overload shows what happens
/// above it.
fn throughput_bench(bin: &Path, root: &Path) -> anyhow::Result<()> {
    let st = Command::new("cargo")
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "tracer-tests",
            "--bin",
            "tracer-testbin",
        ])
        .current_dir(root)
        .status()?;
    if !st.success() {
        bail!("building tracer-testbin failed");
    }
    let testbin = root
        .join("target/release/tracer-testbin")
        .display()
        .to_string();
    let dir = std::env::temp_dir().join("cargo-tracer-throughput");
    std::fs::create_dir_all(&dir)?;
    let d = dir.display().to_string();
    const SECONDS: f64 = 3.0;
    for (mode, writers, what) in [
        (
            "mix",
            2u32,
            "open missing / open+close / refused loopback connect, exec of `true` every 1,000 operations",
        ),
        (
            "open",
            4,
            "opens of a missing file only: the cheapest event",
        ),
    ] {
        println!("\npaced load `{mode}` ({writers} writers, {SECONDS} s per step: {what})");
        println!("| offered target | events | lost | wall | events/s observed | complete |");
        println!("|---|---|---|---|---|---|");
        let mut best = 0.0f64;
        let mut lossy_steps = 0;
        for target in (1..=16).map(|k| k as f64 * 100_000.0) {
            let per = target / writers as f64;
            let script = format!(
                "for i in $(seq {writers}); do {testbin} load {d} {SECONDS} {per} {mode} >/dev/null & done; wait"
            );
            let s = traced_sh(bin, root, script)?;
            let events = s["events"].as_u64().unwrap_or(0);
            let lost = lost(&s);
            let secs = s["duration_ms"].as_u64().unwrap_or(1) as f64 / 1000.0;
            let rate = (events + lost) as f64 / secs;
            println!(
                "| {:.0}k/s | {events} | {lost} | {secs:.2} s | {rate:.0} | {} |",
                target / 1000.0,
                s["complete"]
            );
            if lost == 0 {
                best = best.max(rate);
            } else {
                lossy_steps += 1;
            }
            // The writers saturated (they fall short of the target) or the tracer lost events
            // twice: further steps only repeat that.
            if lossy_steps >= 2 || rate < 0.8 * target {
                break;
            }
        }
        println!("`{mode}`: highest sustained rate with zero loss: {best:.0} events/s");
    }
    // Overload: unpaced writers, more than the cores.
    let script = format!(
        "for i in $(seq 8); do {testbin} load {d} {SECONDS} 1e9 open >/dev/null & done; wait"
    );
    let s = traced_sh(bin, root, script)?;
    let (events, lost) = (s["events"].as_u64().unwrap_or(0), lost(&s));
    let secs = s["duration_ms"].as_u64().unwrap_or(1) as f64 / 1000.0;
    println!(
        "\noverload (8 unpaced `open` writers): {events} events, {lost} lost, {:.0} events/s offered, complete: {} (the tracer stayed up and wrote its summary)",
        (events + lost) as f64 / secs,
        s["complete"]
    );
    Ok(())
}

fn attach_bench(bin: &Path, root: &Path, runs: usize) -> anyhow::Result<()> {
    let argv = tracer_run(bin, &["true"]);
    timed(&argv, root)?;
    let (mut walls, mut attach, mut report, mut rest) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let (w, out) = timed(&argv, root)?;
        let s: serde_json::Value = serde_json::from_str(out.trim_start())?;
        let ms = |k: &str| s[k].as_u64().unwrap_or(0) as f64;
        walls.push(w * 1000.0);
        attach.push(ms("attach_ms"));
        report.push(ms("report_ms"));
        // Loading, BTF and offsets before attaching, and leaving after the report.
        rest.push(w * 1000.0 - ms("attach_ms") - ms("duration_ms") - ms("report_ms"));
    }
    println!("`cargo tracer run -- true`, {runs} runs");
    println!("| phase | median | min–max |\n|---|---|---|");
    for (name, v) in [
        (
            "start → all probes attached (load, verify, attach)",
            &mut attach,
        ),
        ("command exit → report written", &mut report),
        ("everything else (start-up, exit)", &mut rest),
        ("whole run, wall", &mut walls),
    ] {
        let m = median(v);
        println!(
            "| {name} | {m:.0} ms | {:.0}–{:.0} ms |",
            v[0],
            v[v.len() - 1]
        );
    }
    Ok(())
}

/// The recorded benchmark build, judged again offline: what each output weighs and costs.
fn report_bench(bin: &Path, graph: &Path, runs: usize) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join("cargo-tracer-bench-report");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let b = bin.display().to_string();
    let events = dir.join("build.jsonl.zst").display().to_string();
    let target = dir.join("target").display().to_string();
    let html = dir.join("live.html").display().to_string();
    let build: Vec<String> = [
        b.as_str(),
        "tracer",
        "build",
        "--audit",
        "--format",
        "json",
        "--events",
        &events,
        "--output",
        &format!("html={html}"),
        "--offline",
        "--target-dir",
        &target,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (wall, json) = timed(&build, graph)?;
    let v: serde_json::Value = serde_json::from_str(&json)?;
    let size = |p: &str| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    println!(
        "traced clean build of benches/graph: {wall:.1} s, {} events, {} lost, {} crates, {} processes in the notable tree",
        v["events"],
        v["lost_events"],
        v["crates"].as_array().map_or(0, Vec::len),
        v["processes"].as_array().map_or(0, Vec::len)
    );
    let n_events = v["events"].as_u64().unwrap_or(0).max(1);
    println!(
        "| output | size | `report` median wall ({runs} runs) | `report` peak RSS | per event |"
    );
    println!("|---|---|---|---|---|");
    println!(
        "| events file (zstd) | {:.1} MiB | – | – | {:.0} bytes on disk |",
        size(&events) as f64 / 1048576.0,
        size(&events) as f64 / n_events as f64
    );
    for format in ["html", "json", "sarif", "markdown", "human"] {
        let argv: Vec<String> = [
            b.as_str(),
            "tracer",
            "report",
            &events,
            "--audit",
            "--format",
            format,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut walls = Vec::new();
        let mut bytes = 0;
        for _ in 0..runs.max(1) {
            let (w, out) = timed(&argv, &dir)?;
            walls.push(w);
            bytes = out.len();
        }
        // Its memory, once more under GNU time: `report` holds the whole trace (issue 17).
        let args: Vec<&str> = argv.iter().map(String::as_str).collect();
        let (_, rss) = measure(&args, &dir)?;
        println!(
            "| {format} | {:.0} KiB | {:.2} s | {} MiB | {:.0} bytes of RSS |",
            bytes as f64 / 1024.0,
            median(&mut walls),
            rss / 1024,
            (rss * 1024) as f64 / n_events as f64
        );
    }
    Ok(())
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
        Which::Report => report_bench(&bin, &graph, a.runs)?,
        Which::Build => build_bench(&bin, &graph, a.runs, &a.only)?,
        Which::Test => test_bench(&bin, &graph, a.runs)?,
        Which::Throughput => throughput_bench(&bin, &root)?,
        Which::Attach => attach_bench(&bin, &root, a.runs)?,
        Which::Daemon => daemon_bench(&bin, a.runs)?,
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
