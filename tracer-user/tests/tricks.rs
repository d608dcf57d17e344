//! A build script that uses nothing but std and hides each access behind a name that looks
//! routine (`tests/fixtures/tricks`): every access is judged by what the kernel reached and
//! reported under the crate, with the real target. Traced builds need root.

use std::process::Command;

use serde_json::Value;
use tracer_test_support::{Output, Sandbox, run};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-tracer");

fn every_trick_is_caught_with_its_real_target() {
    let sb = Sandbox::new("tricks");
    sb.home_files(&[
        ".ssh/id_rsa",
        ".ssh/id_ed25519",
        ".bashrc",
        ".aws/credentials",
        ".netrc",
        ".gitconfig",
    ]);
    let mut c: Command = sb.command(BIN);
    c.args([
        "tracer",
        "build",
        "--fresh",
        "--format",
        "json",
        "--offline",
    ]);
    let Output {
        code,
        stdout,
        stderr,
    } = run(&mut c);
    assert_eq!(code, 1, "the build violates the defaults: {stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let behaviours = flagged_of(&v);
    let flagged: Vec<(String, String, String)> = behaviours
        .iter()
        .map(|b| {
            let s = |k: &str| b[k].as_str().unwrap_or_default().to_string();
            (s("kind"), s("target"), s("outcome"))
        })
        .collect();
    let sh = std::fs::canonicalize("/bin/sh").unwrap();
    for (kind, target) in [
        // A symlink in OUT_DIR to the key, read through the link.
        ("fs.read", "$HOME/.ssh/id_rsa"),
        // /proc/self/root/<home>/.ssh/id_ed25519.
        ("fs.read", "$HOME/.ssh/id_ed25519"),
        // An O_PATH descriptor of ~/.bashrc reopened through /proc/self/fd/N to append.
        ("fs.write", "$HOME/.bashrc"),
        // /bin/sh through a symlink named like a compiler probe in OUT_DIR.
        ("process.exec", sh.to_str().unwrap()),
        // $CARGO_HOME/config.toml written through a symlink named gen.rs.
        ("fs.write", "$CARGO_HOME/config.toml"),
        // A program it wrote into OUT_DIR, run from there.
        ("process.exec", "$OUT_DIR/helper"),
        // ~/.aws/credentials hard-linked into OUT_DIR and read there: a file with two names.
        ("fs.read", "$OUT_DIR/creds"),
        // Read by the daemon it left behind, after cargo exited.
        ("fs.read", "$HOME/.netrc"),
        // One datagram to an address, without connect.
        ("net.connect", "127.0.0.1:9"),
        // A link to the home directory, through which a file is renamed into OUT_DIR: the
        // link is judged by where it points.
        ("fs.read", "$HOME"),
    ] {
        let hit = flagged
            .iter()
            .find(|(k, t, _)| k == kind && t == target)
            .unwrap_or_else(|| panic!("{kind} {target} not flagged: {flagged:#?}"));
        assert!(
            hit.2 == "violation" || hit.2 == "unexpected",
            "{kind} {target}: {}",
            hit.2
        );
    }
    // The names it chose appear nowhere as targets: they are not what it touched.
    for (_, target, _) in &flagged {
        for disguise in [
            "cache.bin",
            "rustc-probe",
            "gen.rs",
            "/proc/self/root",
            "/proc/self/fd",
        ] {
            assert!(!target.contains(disguise), "{target}");
        }
    }
    // The daemon: a behaviour of the crate, by the program it runs and the name it took.
    let daemon = behaviours
        .iter()
        .find(|b| b["kind"] == "process.persist")
        .unwrap_or_else(|| panic!("no process.persist: {flagged:#?}"));
    assert!(
        daemon["target"]
            .as_str()
            .is_some_and(|t| t.starts_with("$TARGET_DIR/") && t.ends_with("/build-script-build")),
        "{daemon}"
    );
    assert_eq!(daemon["run_as"], "kworker/0:1", "{daemon}");
    assert_eq!(daemon["level"], "deny", "{daemon}");
    assert!(
        v["verdict"]["incomplete"].as_array().unwrap().is_empty(),
        "it was followed until it exited: {}",
        v["verdict"]["incomplete"]
    );
    // Its honest work stays routine.
    assert!(
        !flagged.iter().any(|(_, t, _)| t == "$OUT_DIR/real.rs"),
        "{flagged:#?}"
    );
}

/// The crate's behaviours in a JSON verdict.
fn flagged_of(v: &Value) -> Vec<Value> {
    v["verdict"]["behaviors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["name"] == "tricky-sys")
        .cloned()
        .collect()
}

/// A daemon that sleeps past `--linger-ms` is not let off: the trace is incomplete (exit 2)
/// and names it, and it is still a behaviour of its crate. The script also reaches for the
/// tracer through its /proc files, and makes a 32-bit system call.
fn a_daemon_outwaiting_the_tracer_makes_the_trace_incomplete() {
    let sb = Sandbox::new("tricks");
    sb.home_files(&[
        ".ssh/id_rsa",
        ".ssh/id_ed25519",
        ".bashrc",
        ".aws/credentials",
    ]);
    let mut c: Command = sb.command(BIN);
    c.args([
        "tracer",
        "build",
        "--fresh",
        "--linger-ms",
        "300",
        "--format",
        "json",
        "--offline",
    ])
    .env("TRICKY_LINGER_MS", "5000")
    .env("TRICKY_TAMPER", "1");
    let Output {
        code,
        stdout,
        stderr,
    } = run(&mut c);
    assert_eq!(code, 2, "incomplete: {stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let left: Vec<&Value> = v["verdict"]["incomplete"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["reason"] == "still-running")
        .collect();
    assert_eq!(left.len(), 1, "{}", v["verdict"]["incomplete"]);
    assert_eq!(left[0]["process"], "kworker/0:1");
    assert!(
        left[0]["owner"]
            .as_str()
            .is_some_and(|o| o.starts_with("tricky-sys@")),
        "{}",
        left[0]
    );
    assert!(
        flagged_of(&v)
            .iter()
            .any(|b| b["kind"] == "process.persist" && b["run_as"] == "kworker/0:1"),
        "{stdout}"
    );
    // Its 32-bit system call stopped it.
    assert!(
        v["verdict"]["incomplete"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["reason"] == "refused" && i["process"] == "build-script-bu"),
        "{}",
        v["verdict"]["incomplete"]
    );
    // It also opened the tracer's /proc/<pid>/comm for writing.
    assert!(
        v["verdict"]["incomplete"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["reason"] == "tamper" && i["syscall"] == "openat"),
        "{}",
        v["verdict"]["incomplete"]
    );
}

fn main() {
    tracer_test_support::harness::main(tracer_test_support::tests![
        root: every_trick_is_caught_with_its_real_target,
        a_daemon_outwaiting_the_tracer_makes_the_trace_incomplete
    ]);
}
