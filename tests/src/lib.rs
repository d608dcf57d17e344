//! Shared pieces of the real-probe tests: a root check, a traced run collected in memory as the
//! public JSON schema, and a loopback DNS stub.

use std::{
    net::{Ipv4Addr, UdpSocket},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::Duration,
};

use serde_json::Value;
use tracer::{
    loader::LoadOptions,
    session::{self, RunOptions},
    sink::Collect,
    summary::Summary,
};

/// True if the probes can be loaded here. Outside CI a non-root run skips with a reason; in CI
/// (where tests run as root) a missing privilege is a failure, never a silent skip.
pub fn require_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("the real-probe tests must run as root in CI");
    }
    eprintln!("skipped: the real-probe tests need root (or CAP_BPF+CAP_PERFMON)");
    false
}

/// A finished trace: the summary and every event as its JSON line.
pub struct Trace {
    pub summary: Summary,
    pub root_pid: u32,
    pub events: Vec<Value>,
}

impl Trace {
    /// Events of `kind` (the schema's `kind` field).
    pub fn kind(&self, kind: &str) -> Vec<&Value> {
        self.events.iter().filter(|e| e["kind"] == kind).collect()
    }

    /// The one open/unlink/exec event whose `path.abs` is `abs`, panicking with context if none.
    pub fn with_path(&self, kind: &str, abs: &str) -> &Value {
        self.kind(kind)
            .into_iter()
            .find(|e| e["path"]["abs"] == abs)
            .unwrap_or_else(|| {
                panic!(
                    "no {kind} event for {abs}; {kind} events: {:#?}",
                    self.kind(kind)
                )
            })
    }

    /// Every path (`abs`, else `raw`) mentioned by any event.
    pub fn all_paths(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in &self.events {
            for key in ["path", "from", "to"] {
                let p = &e[key];
                if let Some(s) = p["abs"].as_str().or(p["raw"].as_str()) {
                    out.push(s.to_string());
                }
            }
        }
        out
    }
}

/// Options for [`trace_with`].
pub struct TraceOpts {
    pub system_wide: bool,
    pub ring_bytes: u32,
    pub linger: Duration,
}

impl Default for TraceOpts {
    fn default() -> Self {
        Self {
            system_wide: false,
            ring_bytes: tracer::loader::DEFAULT_RING_BYTES,
            linger: Duration::from_secs(3),
        }
    }
}

/// Traces `argv` with the real probes, default options.
pub fn trace(argv: &[&str]) -> Trace {
    trace_with(argv, TraceOpts::default())
}

pub fn trace_with(argv: &[&str], o: TraceOpts) -> Trace {
    let opts = RunOptions {
        command: argv.iter().map(|s| s.to_string()).collect(),
        load: LoadOptions {
            system_wide: o.system_wide,
            ring_bytes: o.ring_bytes,
        },
        as_root: true,
        linger: o.linger,
        cwd: None,
        cargo_messages: false,
        text_to_stderr: false,
        env: Vec::new(),
        preamble: Vec::new(),
    };
    let mut sink = Collect::default();
    let summary =
        session::run(&opts, &mut sink).unwrap_or_else(|e| panic!("tracing {argv:?} failed: {e}"));
    let root_pid = sink.start.as_ref().expect("start record").root_pid;
    let events = sink
        .events
        .iter()
        .map(|r| serde_json::to_value(r).expect("serialisable record"))
        .collect();
    Trace {
        summary,
        root_pid,
        events,
    }
}

/// A DNS server on a loopback address of its own, port 53, answering NXDOMAIN to everything.
pub struct DnsStub {
    pub addr: Ipv4Addr,
    pub queries: Arc<Mutex<Vec<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl DnsStub {
    /// Binds `127.<a>.<b>.53`, picking an address no other test run is using.
    pub fn start() -> Self {
        let mut last_err = None;
        for i in 0..64u32 {
            let n = std::process::id().wrapping_add(i * 7919);
            let addr = Ipv4Addr::new(127, 53, (n >> 8) as u8, (n as u8).max(2));
            match UdpSocket::bind((addr, 53)) {
                Ok(sock) => return Self::serve(addr, sock),
                Err(e) => last_err = Some(e),
            }
        }
        panic!("no loopback address free for a DNS stub on port 53: {last_err:?}");
    }

    fn serve(addr: Ipv4Addr, sock: UdpSocket) -> Self {
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .expect("read timeout");
        let queries = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (q, s) = (queries.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            while !s.load(Ordering::Relaxed) {
                let Ok((n, peer)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                q.lock().unwrap().push(buf[..n].to_vec());
                if n >= 12 {
                    // Same id and question; QR=1, RD+RA, RCODE=3 (NXDOMAIN), no answers.
                    let mut resp = buf[..n].to_vec();
                    resp[2] = 0x81;
                    resp[3] = 0x83;
                    resp[6..12].fill(0);
                    let _ = sock.send_to(&resp, peer);
                }
            }
        });
        Self {
            addr,
            queries,
            stop,
            thread: Some(thread),
        }
    }

    /// A resolv.conf pointing at this stub, written into `dir`.
    pub fn resolv_conf(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let p = dir.join("resolv.conf");
        std::fs::write(
            &p,
            format!("nameserver {}\noptions timeout:1 attempts:1\n", self.addr),
        )
        .expect("write resolv.conf");
        p
    }
}

impl Drop for DnsStub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Copies a fixture workspace (`tests/fixtures/<name>`) into `dst`, without any `target/`.
pub fn copy_fixture(name: &str, dst: &std::path::Path) {
    fn copy(src: &std::path::Path, dst: &std::path::Path) {
        std::fs::create_dir_all(dst).unwrap();
        for e in std::fs::read_dir(src).unwrap() {
            let e = e.unwrap();
            let to = dst.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                if e.file_name() != "target" {
                    copy(&e.path(), &to);
                }
            } else {
                std::fs::copy(e.path(), to).unwrap();
            }
        }
    }
    copy(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name),
        dst,
    );
}

/// A sandbox for a traced cargo build: the workspace copy, a fake HOME, a private CARGO_HOME and
/// target dir, all in one temp dir.
pub struct CargoSandbox {
    pub dir: tempfile::TempDir,
    pub workspace: std::path::PathBuf,
    pub home: std::path::PathBuf,
    pub cargo_home: std::path::PathBuf,
    pub target: std::path::PathBuf,
}

impl CargoSandbox {
    pub fn new(fixture: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let workspace = dir.path().join("ws");
        copy_fixture(fixture, &workspace);
        let home = dir.path().join("home");
        let cargo_home = dir.path().join("cargo-home");
        let target = dir.path().join("target");
        for d in [&home, &cargo_home] {
            std::fs::create_dir_all(d).unwrap();
        }
        Self {
            dir,
            workspace,
            home,
            cargo_home,
            target,
        }
    }

    /// Environment for cargo: the fake homes, the real toolchain.
    pub fn env(&self) -> Vec<(String, String)> {
        let real_home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
        let rustup_home =
            std::env::var("RUSTUP_HOME").unwrap_or_else(|_| format!("{real_home}/.rustup"));
        let path = format!(
            "{real_home}/.cargo/bin:{}",
            std::env::var("PATH").unwrap_or_default()
        );
        vec![
            ("HOME".into(), self.home.display().to_string()),
            ("CARGO_HOME".into(), self.cargo_home.display().to_string()),
            ("RUSTUP_HOME".into(), rustup_home),
            ("PATH".into(), path),
        ]
    }

    /// The build context the report uses.
    pub fn context(&self) -> tracer::cargo::invocation::BuildContext {
        tracer::cargo::invocation::BuildContext {
            workspace_root: self.workspace.display().to_string(),
            // Fixture workspaces are temp dirs outside any git work tree.
            repo_root: String::new(),
            target_dir: self.target.display().to_string(),
            home: self.home.display().to_string(),
            cargo_home: self.cargo_home.display().to_string(),
            tmpdir: "/tmp".into(),
            rustup_home: self.env()[2].1.clone(),
            cwd: std::env::current_dir().unwrap().display().to_string(),
            fresh: false,
        }
    }

    /// Runs `prefix… cargo <sub> --message-format=json-render-diagnostics --offline …` under the
    /// probes and returns the per-crate report as JSON.
    pub fn traced_build(
        &self,
        prefix: &[&str],
        sub: &str,
        extra_env: &[(&str, &str)],
    ) -> (Summary, Value) {
        let mut command: Vec<String> = prefix.iter().map(|s| s.to_string()).collect();
        let manifest = self.workspace.join("Cargo.toml").display().to_string();
        let target = self.target.display().to_string();
        command.extend(
            [
                "cargo",
                sub,
                "--message-format=json-render-diagnostics",
                "--offline",
                "--manifest-path",
                &manifest,
                "--target-dir",
                &target,
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        let mut env = self.env();
        env.extend(
            extra_env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let opts = RunOptions {
            command,
            load: LoadOptions::default(),
            as_root: true,
            linger: Duration::from_secs(5),
            cwd: Some(self.workspace.clone()),
            cargo_messages: true,
            text_to_stderr: false,
            env,
            preamble: Vec::new(),
        };
        let mut sink = Collect::default();
        let summary =
            session::run(&opts, &mut sink).unwrap_or_else(|e| panic!("traced build failed: {e}"));
        let messages: Vec<Value> = sink
            .extras_of("cargo_message")
            .filter_map(|v| v.get("message").cloned())
            .collect();
        let info = tracer::report::TraceInfo {
            command: summary.command.clone(),
            exit_code: summary.exit_code,
            complete: summary.complete,
            lost_events: summary.lost.total(),
            proc_macro_probes: summary.proc_macro_probes,
        };
        let root = sink.start.as_ref().unwrap().root_pid;
        let report = tracer::report::from_trace(
            &sink.events,
            &messages,
            &self.context(),
            root,
            &info,
            false,
        );
        (summary, serde_json::to_value(report).unwrap())
    }
}

/// The report's entry for `name@version`.
pub fn krate<'a>(report: &'a Value, name: &str, version: &str) -> &'a Value {
    report["crates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name && c["version"] == version)
        .unwrap_or_else(|| panic!("no crate {name}@{version} in the report"))
}

/// The behaviour of `krate` with this kind and target, panicking with the crate's list if none.
pub fn behavior<'a>(krate: &'a Value, kind: &str, target: &str) -> &'a Value {
    krate["behaviors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["kind"] == kind && b["target"] == target)
        .unwrap_or_else(|| {
            panic!(
                "{} has no {kind} {target}: {:#}",
                krate["name"], krate["behaviors"]
            )
        })
}

/// The phase entry `phase` of a crate.
pub fn phase<'a>(krate: &'a Value, phase: &str) -> &'a Value {
    krate["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["phase"] == phase)
        .unwrap_or_else(|| {
            panic!(
                "{} has no phase {phase}: {:#}",
                krate["name"], krate["phases"]
            )
        })
}

pub mod golden;
