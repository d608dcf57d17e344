//! Golden traces: real traced builds of the fixture workspaces, recorded once with the probes and
//! committed (`tests/golden/<case>/`), so the stages after the kernel — attribution, report,
//! scan, verdict, every renderer — are tested without root against snapshots.
//!
//! A recording is made in a fixed directory (`/var/tmp/cargo-tracer-golden/<case>`), so the
//! paths in it are the same on every machine and a re-recording differs from the committed one
//! only where the probes or the build changed. `tests/golden.rs` re-records and compares what
//! matters (root); `cargo xtask golden` re-records into the repository.

use std::{
    collections::BTreeSet,
    net::{Ipv4Addr, TcpListener},
    path::{Path, PathBuf},
};

use tracer::{
    analysis::scan::{ScanOptions, ScanReport},
    cargo::{graph::Graph, observer::Text},
    check::incompleteness,
    policy::{
        self, Loaded as Policy,
        eval::{Verdict, evaluate},
        levels::Levels,
    },
    report::Report,
    trace::{Sink, Trace, jsonl},
};
use tracer_test_support::{DnsStub, Sandbox, sandbox::fixture};

/// One recorded build.
pub struct Case {
    pub name: &'static str,
    /// `tests/fixtures/<fixture>`, or `demo`.
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
            "macro-thread.txt",
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
        fixture: "demo",
        sub: "build",
        cargo_args: &[],
        home_files: &[".config/demo-token"],
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
/// The DNS stub's preferred address, for the same reason.
const DNS_STUB: Ipv4Addr = Ipv4Addr::new(127, 53, 0, 53);
/// Where the policy fixture sends its raw DNS query: a loopback address nothing listens on.
const DNS_SINK: &str = "127.53.200.1";

/// Records `case` with the real probes (root) into `out/trace.jsonl.zst`: the trace as
/// `build --events` writes it (zstd-compressed), with the dependency graph (`cargo metadata`
/// of the workspace) and the static scan after the build (artifacts included) in it.
pub fn record(case: &Case, out: &Path) {
    let sb = Sandbox::at(&recording_dir(case), case.fixture);
    sb.home_files(case.home_files);
    let listener = TcpListener::bind(("127.0.0.1", PORT))
        .or_else(|_| TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let stub = case.dns_stub.then(|| DnsStub::start_at(Some(DNS_STUB)));

    let mut env: Vec<(String, String)> = [
        ("TRACER_FIXTURE_PORT", port),
        ("TRACER_FIXTURE_DNS_ADDR", DNS_SINK.into()),
    ]
    .map(|(k, v)| (k.to_string(), v))
    .to_vec();
    let command = crate::cargo_command(&sb, &[], case.sub, case.cargo_args);
    // The stub answers DNS: the build runs in a mount namespace of its own, set up before
    // tracing (a mount in the trace would make its verdict incomplete).
    let (summary, mut trace) = match &stub {
        Some(s) => {
            env.push(("TRACER_FIXTURE_DNS_STUB".into(), "1".into()));
            let conf = s.resolv_conf(&sb.dir);
            let env = &env;
            crate::with_private_resolver(&conf, || {
                crate::trace_cargo(&sb, command, env, Text::Discard)
            })
        }
        None => crate::trace_cargo(&sb, command, &env, Text::Discard),
    };
    assert!(
        summary.complete,
        "{}: {}",
        case.name,
        tracer::output::human::summary::render(&summary)
    );
    assert_eq!(summary.exit_code, Some(0), "{}", case.name);
    drop(listener);
    drop(stub);

    let metadata = sb
        .command("cargo")
        .args(["metadata", "--format-version", "1", "--offline"])
        .args(["--manifest-path", &sb.manifest()])
        .env("CARGO_TARGET_DIR", &sb.target)
        .output()
        .unwrap();
    assert!(metadata.status.success(), "{metadata:?}");
    let graph = Graph::from_json(std::str::from_utf8(&metadata.stdout).unwrap()).unwrap();
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

    trace.graph = Some(graph);
    trace.scan = Some(scan);
    std::fs::create_dir_all(out).unwrap();
    let mut lines = jsonl::Writer(Vec::new());
    for l in trace.lines() {
        lines.write(&l).unwrap();
    }
    let compressed = zstd::encode_all(&lines.0[..], 19).unwrap();
    std::fs::write(out.join("trace.jsonl.zst"), compressed).unwrap();
}

/// A recording read back and judged, as `cargo tracer build` would have.
pub struct Loaded {
    pub trace: Trace,
    pub report: Report,
    pub graph: Graph,
    pub scan: ScanReport,
    pub policy: Policy,
    pub verdict: Verdict,
}

/// Reads the recording of `case` in `dir` and judges it against the fixture's own policy (as
/// it is in the repository) and the shipped defaults.
pub fn load(case: &Case, dir: &Path, verbose: bool) -> Loaded {
    let bytes = std::fs::read(dir.join("trace.jsonl.zst")).unwrap();
    let trace = jsonl::read_bytes(&bytes).unwrap();
    let report = tracer::report::from_trace(&trace, verbose).unwrap();
    let graph = trace
        .graph
        .clone()
        .expect("the graph is recorded in the trace");
    let scan: ScanReport = trace
        .scan
        .clone()
        .expect("the scan is recorded in the trace");
    let workspace = fixture(case.fixture);
    let manifests: Vec<PathBuf> = graph
        .local_manifests()
        .iter()
        .map(|m| workspace.join(m.strip_prefix(&graph.workspace_root).unwrap()))
        .collect();
    let policy = policy::load(&workspace, &manifests, None).unwrap();
    let verdict = evaluate(
        &report,
        &policy.rules,
        Some(&scan),
        &graph.dependencies(),
        &Levels::default(),
        incompleteness(&trace, &report, false),
    );
    Loaded {
        trace,
        report,
        graph,
        scan,
        policy,
        verdict,
    }
}

/// What a re-recording must keep: every notable behaviour of every crate (and of cargo, and
/// anything unattributed) with its verdict, the phases that ran, the findings' outcomes.
/// Counts, pids and timings may change between recordings; these may not.
pub fn essentials(l: &Loaded) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for c in &l.report.crates {
        for p in c.phases.iter().filter(|p| p.ran) {
            out.insert(format!("{} ran {}", c.package.key(), p.phase));
        }
    }
    for b in &l.verdict.behaviors {
        let bh = &b.behavior;
        out.insert(format!(
            "{}@{} {} {} {} {}",
            b.name, b.version, bh.phase, bh.kind, bh.target, b.outcome
        ));
    }
    for b in &l.report.cargo.behaviors {
        out.insert(format!("cargo {} {}", b.kind, b.target));
    }
    for f in &l.verdict.findings {
        out.insert(format!(
            "{}@{} finding {} {}:{} {}",
            f.name,
            f.version,
            f.finding.kind,
            f.finding.location.file,
            f.finding.location.line,
            f.outcome
        ));
    }
    out
}
