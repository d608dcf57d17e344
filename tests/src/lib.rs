//! What the real-probe tests share beyond the sandbox (`tracer-test-support`): a traced run
//! collected in memory as the public JSON schema, a traced cargo build with its report, and
//! lookups in a report's JSON. The golden traces are recorded here too ([`golden`]).

pub mod golden;

use std::time::Duration;

use serde_json::Value;
use tracer::{
    cargo::observer::{CargoObserver, Text},
    loader::LoadOptions,
    model::BuildContext,
    session::{self, RunOptions, Summary},
    trace::{self, Collector},
};
pub use tracer_test_support::{self as support, DnsStub, Sandbox, with_private_resolver};

/// A finished trace: the summary and every event as its JSON line.
pub struct Traced {
    pub summary: Summary,
    pub root_pid: u32,
    pub events: Vec<Value>,
}

impl Traced {
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
    pub allow_io_uring: bool,
}

impl Default for TraceOpts {
    fn default() -> Self {
        Self {
            system_wide: false,
            ring_bytes: tracer::loader::DEFAULT_RING_BYTES,
            linger: Duration::from_secs(3),
            allow_io_uring: false,
        }
    }
}

/// Traces `argv` with the real probes, default options.
pub fn trace(argv: &[&str]) -> Traced {
    trace_with(argv, TraceOpts::default())
}

pub fn trace_with(argv: &[&str], o: TraceOpts) -> Traced {
    let opts = RunOptions {
        command: argv.iter().map(|s| s.to_string()).collect(),
        load: LoadOptions {
            system_wide: o.system_wide,
            trace_cargo: false,
            ring_bytes: o.ring_bytes,
            stacks: false,
        },
        as_root: true,
        linger: o.linger,
        cwd: None,
        env: Vec::new(),
        preamble: Vec::new(),
        allow_io_uring: o.allow_io_uring,
    };
    let mut sink = Collector::default();
    let summary = session::run(&opts, &mut sink, &mut session::Plain)
        .unwrap_or_else(|e| panic!("tracing {argv:?} failed: {}", tracer::error_chain(&e)));
    let t = sink.finish().expect("a trace");
    let root_pid = t.start.root_pid;
    let events = t
        .events
        .iter()
        .map(|r| serde_json::to_value(r).expect("serialisable record"))
        .collect();
    Traced {
        summary,
        root_pid,
        events,
    }
}

/// The build context of a sandbox's build (`cargo tracer build` records its own).
pub fn context(sb: &Sandbox) -> BuildContext {
    let mut c = BuildContext {
        workspace_root: sb.workspace.display().to_string(),
        // Fixture workspaces are temp dirs outside any git work tree.
        repo_root: String::new(),
        target_dir: sb.target.display().to_string(),
        home: sb.home.display().to_string(),
        cargo_home: sb.cargo_home.display().to_string(),
        tmpdir: "/tmp".into(),
        rustup_home: sb.rustup_home(),
        cwd: sb.workspace.display().to_string(),
        fresh: false,
        aliases: Vec::new(),
    };
    c.learn_aliases(tracer::cargo::build::real_path);
    c
}

/// `prefix… cargo <sub> --message-format=json-render-diagnostics --offline --manifest-path …
/// --target-dir … <args…>` for the sandbox's workspace, as `cargo tracer build|test` runs it.
pub fn cargo_command(sb: &Sandbox, prefix: &[String], sub: &str, args: &[&str]) -> Vec<String> {
    let mut command: Vec<String> = prefix.to_vec();
    command.extend(
        [
            "cargo",
            sub,
            "--message-format=json-render-diagnostics",
            "--offline",
            "--manifest-path",
            &sb.manifest(),
            "--target-dir",
            &sb.target.display().to_string(),
        ]
        .iter()
        .chain(args)
        .map(|s| s.to_string()),
    );
    command
}

/// Runs a cargo `command` in the sandbox under the probes as `cargo tracer build` does (cargo's
/// messages kept, the build context recorded), with the sandbox's environment and `extra_env`.
pub fn trace_cargo(
    sb: &Sandbox,
    command: Vec<String>,
    extra_env: &[(String, String)],
    text: Text,
) -> (Summary, trace::Trace) {
    let mut env = sb.env();
    env.extend(extra_env.iter().cloned());
    let opts = RunOptions {
        command,
        load: LoadOptions::default(),
        as_root: true,
        linger: Duration::from_secs(5),
        cwd: Some(sb.workspace.clone()),
        env,
        preamble: vec![trace::Line::BuildContext(context(sb))],
        allow_io_uring: false,
    };
    let mut sink = Collector::default();
    let summary = session::run(&opts, &mut sink, &mut CargoObserver::new(text))
        .unwrap_or_else(|e| panic!("traced build failed: {e}"));
    (summary, sink.finish().expect("a trace"))
}

/// Traces `prefix… cargo <sub>` in the sandbox and returns the summary and the per-crate report
/// as JSON.
pub fn traced_build(
    sb: &Sandbox,
    prefix: &[&str],
    sub: &str,
    extra_env: &[(&str, &str)],
) -> (Summary, Value) {
    let prefix: Vec<String> = prefix.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = extra_env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let (summary, t) = trace_cargo(sb, cargo_command(sb, &prefix, sub, &[]), &env, Text::Stderr);
    let report = tracer::report::from_trace(&t, false).expect("a build context");
    (summary, serde_json::to_value(report).unwrap())
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
