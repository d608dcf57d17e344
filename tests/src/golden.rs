//! Golden traces: real traced builds of the fixture workspaces, recorded once with the probes and
//! committed (`tests/golden/<case>/`), so the stages after the kernel — attribution, report,
//! scan, verdict, every renderer — are tested without root against snapshots.
//!
//! A recording is made in a fixed directory (`/var/tmp/cargo-tracer-golden/<case>`), so the paths in
//! it are the same on every machine and a re-recording differs from the committed one only where
//! the probes or the build changed. `tests/golden.rs` re-records and compares (root);
//! `cargo xtask golden` re-records into the repository.

use std::{
    io::Write,
    net::TcpListener,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use tracer::{
    analysis::{graph::Graph, scan::ScanOptions},
    cargo::invocation::BuildContext,
    loader::LoadOptions,
    session::{self, RunOptions},
    sink::JsonLines,
};

use crate::{DnsStub, copy_fixture};

/// One recorded build.
pub struct Case {
    pub name: &'static str,
    /// `tests/fixtures/<fixture>` (or the demo, `../demo`).
    pub fixture: &'static str,
    /// `build` or `test`.
    pub sub: &'static str,
    pub cargo_args: &'static [&'static str],
    /// Files created in the fake `$HOME` first (the fixtures read and delete them).
    pub home_files: &'static [&'static str],
    /// Resolve names through a loopback DNS stub (the attribution fixture's build scripts do).
    pub dns_stub: bool,
}

/// Every golden case.
pub const CASES: &[Case] = &[
    Case {
        name: "attribution-build",
        fixture: "attribution",
        sub: "build",
        cargo_args: &[],
        home_files: &[
            ".evil-secret",
            ".inner-secret",
            "evil-delete-me",
            "inner-delete-me",
            "macro-input.txt",
        ],
        dns_stub: true,
    },
    Case {
        name: "attribution-test",
        fixture: "attribution",
        sub: "test",
        cargo_args: &["-p", "fixture-app"],
        home_files: &["test-reads-this"],
        dns_stub: false,
    },
    Case {
        name: "policy-build",
        fixture: "policy",
        sub: "build",
        cargo_args: &[],
        home_files: &["sneaky-victim"],
        dns_stub: false,
    },
    Case {
        name: "demo-build",
        fixture: "../../demo",
        sub: "build",
        cargo_args: &[],
        home_files: &[],
        dns_stub: false,
    },
];

/// Where `case` is recorded: always the same directory, so the recorded paths are stable.
pub fn recording_dir(case: &Case) -> PathBuf {
    Path::new("/var/tmp/cargo-tracer-golden").join(case.name)
}

/// Where the committed recording of `case` lives.
pub fn committed_dir(case: &Case) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("golden")
        .join(case.name)
}

/// The fixed port the fixtures connect to (a listener of the recorder's own). Fixed so a
/// re-recording names the same target; another free port if it is taken.
const PORT: u16 = 47_021;
/// Where the policy fixture sends its raw DNS query: a loopback address nothing listens on.
const DNS_SINK: &str = "127.53.200.1";

/// Records `case` with the real probes (root) into `out`: `trace.jsonl.zst` (the trace, as
/// `--events` writes it, zstd-compressed), `metadata.json` (`cargo metadata` of the workspace)
/// and `scan.json` (the static scan after the build, artifacts included).
pub fn record(case: &Case, testbin: &str, out: &Path) {
    let dir = recording_dir(case);
    let _ = std::fs::remove_dir_all(&dir);
    let ws = dir.join("ws");
    copy_fixture(case.fixture, &ws);
    let (home, cargo_home, target) = (dir.join("home"), dir.join("cargo-home"), dir.join("target"));
    for d in [&home, &cargo_home] {
        std::fs::create_dir_all(d).unwrap();
    }
    for f in case.home_files {
        std::fs::write(home.join(f), "x").unwrap();
    }
    let home_config = home.join(".config");
    std::fs::create_dir_all(&home_config).unwrap();
    std::fs::write(home_config.join("demo-token"), "demo-secret-token\n").unwrap();
    let listener = TcpListener::bind(("127.0.0.1", PORT))
        .or_else(|_| TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let stub = case.dns_stub.then(DnsStub::start);

    let real_home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let rustup_home =
        std::env::var("RUSTUP_HOME").unwrap_or_else(|_| format!("{real_home}/.rustup"));
    let path = format!(
        "{real_home}/.cargo/bin:{}",
        std::env::var("PATH").unwrap_or_default()
    );
    let mut env: Vec<(String, String)> = vec![
        ("HOME".into(), home.display().to_string()),
        ("CARGO_HOME".into(), cargo_home.display().to_string()),
        ("CARGO_TARGET_DIR".into(), target.display().to_string()),
        ("RUSTUP_HOME".into(), rustup_home.clone()),
        ("PATH".into(), path),
        ("TRACER_FIXTURE_PORT".into(), port),
        ("TRACER_FIXTURE_DNS_ADDR".into(), DNS_SINK.into()),
    ];
    if stub.is_some() {
        env.push(("TRACER_FIXTURE_DNS_STUB".into(), "1".into()));
    }
    let manifest = ws.join("Cargo.toml").display().to_string();
    let mut command: Vec<String> = Vec::new();
    let conf;
    if let Some(s) = &stub {
        conf = s.resolv_conf(&dir);
        command.extend([testbin.to_string(), "with-resolv".into()]);
        command.push(conf.display().to_string());
    }
    command.extend(
        [
            "cargo",
            case.sub,
            "--message-format=json-render-diagnostics",
            "--offline",
            "--manifest-path",
            &manifest,
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    command.extend(case.cargo_args.iter().map(|s| s.to_string()));
    let context = BuildContext {
        workspace_root: ws.display().to_string(),
        repo_root: String::new(),
        target_dir: target.display().to_string(),
        home: home.display().to_string(),
        cargo_home: cargo_home.display().to_string(),
        tmpdir: "/tmp".into(),
        rustup_home,
        cwd: ws.display().to_string(),
        fresh: false,
    };
    let opts = RunOptions {
        command,
        load: LoadOptions::default(),
        as_root: true,
        linger: Duration::from_secs(5),
        cwd: Some(ws.clone()),
        cargo_messages: true,
        text_to_stderr: true,
        env: env.clone(),
        preamble: vec![(
            "build_context".into(),
            serde_json::to_value(&context).unwrap(),
        )],
    };
    let mut lines = JsonLines(Vec::new());
    let summary = session::run(&opts, &mut lines)
        .unwrap_or_else(|e| panic!("{}: traced build failed: {e}", case.name));
    assert!(summary.complete, "{}: {}", case.name, summary.human());
    assert_eq!(summary.exit_code, Some(0), "{}", summary.human());
    drop(listener);
    drop(stub);

    let metadata = Command::new("cargo")
        .args(["metadata", "--format-version", "1", "--offline"])
        .args(["--manifest-path", &manifest])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    assert!(metadata.status.success(), "{metadata:?}");
    let graph = Graph::from_metadata(&serde_json::from_slice(&metadata.stdout).unwrap()).unwrap();
    let all: Vec<usize> = (0..graph.packages.len()).collect();
    let scan = tracer::analysis::scan::scan(
        &graph,
        &all,
        &ScanOptions {
            cache_dir: None,
            progress: false,
            jobs: 2,
        },
    );

    std::fs::create_dir_all(out).unwrap();
    let trace = zstd::encode_all(&lines.0[..], 19).unwrap();
    std::fs::write(out.join("trace.jsonl.zst"), trace).unwrap();
    std::fs::write(out.join("metadata.json"), &metadata.stdout).unwrap();
    let mut scan_json = serde_json::to_vec_pretty(&scan).unwrap();
    scan_json.write_all(b"\n").unwrap();
    std::fs::write(out.join("scan.json"), scan_json).unwrap();
}
