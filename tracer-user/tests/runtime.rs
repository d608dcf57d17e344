//! Runtime attribution with the real probes (`tests/fixtures/runtime`): a dependency's payload
//! that runs when the victim's test calls it, a thread it starts, the mechanism crate it sends
//! through and a constructor that runs a memfd program before `main` are each reported under
//! the crate whose code did it — in debug and release test runs — and the victim's package is
//! blamed only for its own code. Traced runs need root.

use std::{net::TcpListener, process::Command};

use serde_json::Value;
use tracer_test_support::{Output, Sandbox, run};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-tracer");

/// A loopback port that accepts and drops connections, for the payload to send to.
fn sink() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for c in l.incoming() {
            drop(c);
        }
    });
    port
}

fn traced_test(sb: &Sandbox, extra: &[&str], port: Option<u16>) -> (i32, Value) {
    let events = sb.dir.join("events.jsonl");
    let mut c: Command = sb.command(BIN);
    c.args(["tracer", "test", "--fresh", "--format", "json", "--events"])
        .arg(&events)
        .args(extra)
        .arg("--offline");
    match port {
        Some(p) => c.env("TRACER_FIXTURE_PORT", p.to_string()),
        None => c.env_remove("TRACER_FIXTURE_PORT"),
    };
    let Output {
        code,
        stdout,
        stderr,
    } = run(&mut c);
    let v: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    // The recorded trace (each stack written once, named by id) judged again offline: the
    // same behaviours, blamed on the same crates.
    let mut r: Command = sb.command(BIN);
    r.args(["tracer", "report", "--format", "json"])
        .arg(&events);
    let again = run(&mut r);
    let w: Value = serde_json::from_str(&again.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", again.stdout, again.stderr));
    assert_eq!(again.code, code, "{}", again.stderr);
    assert_eq!(rows(&w), rows(&v));
    (code, v)
}

/// (crate, version, phase, kind, target, within, chain) of every behaviour in the verdict.
type Row = (String, String, String, String, String, String, Vec<String>);

fn rows(v: &Value) -> Vec<Row> {
    v["verdict"]["behaviors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let s = |k: &str| b[k].as_str().unwrap_or_default().to_string();
            let chain = b["crate_chain"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            (
                s("name"),
                s("version"),
                s("phase"),
                s("kind"),
                s("target"),
                s("within"),
                chain,
            )
        })
        .collect()
}

fn find<'a>(rows: &'a [Row], krate: &str, phase: &str, kind: &str, target: &str) -> &'a Row {
    rows.iter()
        .find(|r| r.0 == krate && r.2 == phase && r.3 == kind && r.4.contains(target))
        .unwrap_or_else(|| panic!("no {krate} {phase} {kind} {target}: {rows:#?}"))
}

fn payloads_are_blamed_on_their_crates(release: bool) {
    let sb = Sandbox::new("runtime");
    sb.home_files(&[".netrc", ".ssh/id_rsa"]);
    let port = sink();
    let extra: &[&str] = if release { &["--release"] } else { &[] };
    let (code, v) = traced_test(&sb, extra, Some(port));
    assert_eq!(code, 1, "the payloads violate the defaults: {v:#}");
    assert!(
        v["verdict"]["incomplete"].as_array().unwrap().is_empty(),
        "{}",
        v["verdict"]["incomplete"]
    );
    let rows = rows(&v);
    let decimals = |r: &Row| r.1 == "1.2.3" && r.5 == "app@0.1.0";
    // The credential read, in the payload crate called from the victim's test.
    let netrc = find(&rows, "rust-decimals", "runtime", "fs.read", "$HOME/.netrc");
    assert!(decimals(netrc), "{netrc:?}");
    assert_eq!(
        netrc.6[..2],
        ["rust-decimals@1.2.3", "app@0.1.0"],
        "{netrc:?}"
    );
    // Sent through the mechanism crate: the payload decided, the helper is in the chain.
    let sent = find(
        &rows,
        "rust-decimals",
        "runtime",
        "net.connect",
        &format!("127.0.0.1:{port}"),
    );
    assert!(decimals(sent), "{sent:?}");
    assert_eq!(
        sent.6[..2],
        ["mini-http@0.1.0", "rust-decimals@1.2.3"],
        "{sent:?}"
    );
    // The shell it started belongs to it, with everything the shell does.
    let sh = find(&rows, "rust-decimals", "runtime", "process.exec", "sh");
    assert!(decimals(sh), "{sh:?}");
    // The constructor's memfd program, in the victim's test binary, before main (and in its
    // own crate's test binary, within nothing).
    let memfd = rows
        .iter()
        .find(|r| {
            r.0 == "ctor-payload"
                && r.2 == "constructor"
                && r.3 == "process.exec"
                && r.4.starts_with("/proc/self/fd/")
                && r.5 == "app@0.1.0"
        })
        .unwrap_or_else(|| panic!("no constructor exec in app's tests: {rows:#?}"));
    assert_eq!(memfd.1, "0.3.1");
    // A thread of the payload's own: in a debug build its closure is a frame of its own; a
    // release build inlines it into std's thread start, where no symbol names the crate —
    // then it stays the test's, and the report says its stack named no crate.
    let key = rows
        .iter()
        .find(|r| r.3 == "fs.read" && r.4 == "$HOME/.ssh/id_rsa")
        .unwrap_or_else(|| panic!("the thread's read is missing: {rows:#?}"));
    if release && key.0 == "app" {
        assert!(key.6.is_empty(), "{key:?}");
    } else {
        assert_eq!(
            (key.0.as_str(), key.2.as_str()),
            ("rust-decimals", "runtime")
        );
    }
    // The victim's own package is blamed for nothing of theirs.
    for r in rows.iter().filter(|r| r.0 == "app") {
        for theirs in [".netrc", "127.0.0.1", "/proc/self/fd"] {
            assert!(!r.4.contains(theirs), "blamed on the victim: {r:?}");
        }
        assert!(r.3 != "process.exec", "blamed on the victim: {r:?}");
    }
}

fn a_dependencys_runtime_payload_is_blamed_on_it_in_a_debug_test_run() {
    payloads_are_blamed_on_their_crates(false);
}

fn a_dependencys_runtime_payload_is_blamed_on_it_in_a_release_test_run() {
    payloads_are_blamed_on_their_crates(true);
}

/// Without the trigger the same tests are honest: they pass, and nothing runs as a runtime
/// or constructor behaviour that is not routine.
fn the_same_tests_without_the_trigger_pass() {
    let sb = Sandbox::new("runtime");
    sb.home_files(&[".netrc", ".ssh/id_rsa"]);
    let (code, v) = traced_test(&sb, &[], None);
    let rows = rows(&v);
    assert_eq!(code, 0, "{rows:#?}");
    assert!(rows.is_empty(), "{rows:#?}");
}

fn main() {
    tracer_test_support::harness::main(tracer_test_support::tests![
        root: a_dependencys_runtime_payload_is_blamed_on_it_in_a_debug_test_run,
        a_dependencys_runtime_payload_is_blamed_on_it_in_a_release_test_run,
        the_same_tests_without_the_trigger_pass
    ]);
}
