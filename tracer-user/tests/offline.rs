//! What needs no probes, on a recorded trace (the demo's golden trace): `report` and `diff` fail
//! closed on damaged, incomplete or foreign input, `policy suggest` writes entries that allow
//! exactly what was seen, and policy mistakes are reported once each, at their place.

use std::{path::PathBuf, process::Command};

use serde_json::Value;
use tracer_test_support::{Output, repo, run, run_ok};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-tracer");

fn tracer(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.arg("tracer").args(args);
    c
}

fn golden() -> PathBuf {
    repo().join("tests/golden/demo-build/trace.jsonl.zst")
}

/// The demo's trace, decompressed, as lines.
fn golden_lines() -> Vec<String> {
    let bytes = std::fs::read(golden()).unwrap();
    let text = zstd::decode_all(&bytes[..]).unwrap();
    String::from_utf8(text)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn a_trace_cut_short_is_reported_as_incomplete_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let whole = golden_lines().join("\n") + "\n";
    let ok = run_ok(&mut tracer(&["report", &golden().display().to_string()]));
    assert!(ok.stdout.contains("trace complete"), "{}", ok.stdout);
    // A tracer killed while writing: the last line is cut, no `end` line.
    let cut = write(&dir, "cut.jsonl", &whole[..whole.len() * 2 / 3]);
    let Output {
        code,
        stdout,
        stderr,
    } = run(&mut tracer(&["report", &cut]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.contains("INCOMPLETE TRACE"), "{stdout}");
    assert!(stderr.contains("error: INCOMPLETE:"), "{stderr}");
    assert!(
        stdout.contains("telemetry-sys"),
        "what was read is reported"
    );
    // A trace of another schema version is refused, not re-read as this one.
    let newer = whole.replacen("\"schema_version\":1", "\"schema_version\":99", 1);
    let newer = write(&dir, "newer.jsonl", &newer);
    let out = run(&mut tracer(&["report", &newer]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("schema version 99"), "{}", out.stderr);
    assert_eq!(
        out.stderr.matches("schema version 99").count(),
        1,
        "each message once: {}",
        out.stderr
    );
}

#[test]
fn diff_fails_closed_on_what_it_cannot_compare() {
    let dir = tempfile::tempdir().unwrap();
    let base = run_ok(&mut tracer(&[
        "report",
        "--format",
        "json",
        &golden().display().to_string(),
    ]))
    .stdout;
    let old = write(&dir, "old.json", &base);
    let same = run(&mut tracer(&["diff", &old, &old]));
    assert_eq!(same.code, 0, "{}", same.stdout);

    let mut v: Value = serde_json::from_str(&base).unwrap();
    // Something new that no crate can be named for is new all the same.
    v["unattributed"] = serde_json::json!([{"kind": "net.connect", "target": "203.0.113.7:443",
        "phase": "cargo", "count": 1, "succeeded": 1, "example_chain": []}]);
    let new = write(&dir, "new.json", &v.to_string());
    let out = run(&mut tracer(&["diff", &old, &new]));
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("new: (unattributed) cargo net.connect 203.0.113.7:443"),
        "{}",
        out.stdout
    );

    let mut v: Value = serde_json::from_str(&base).unwrap();
    v["complete"] = false.into();
    v["lost_events"] = 12.into();
    let incomplete = write(&dir, "incomplete.json", &v.to_string());
    let out = run(&mut tracer(&["diff", &old, &incomplete]));
    assert_eq!(out.code, 2, "an incomplete report cannot show what is new");

    let mut v: Value = serde_json::from_str(&base).unwrap();
    v["schema_version"] = 99.into();
    let newer = write(&dir, "newer.json", &v.to_string());
    assert_eq!(run(&mut tracer(&["diff", &old, &newer])).code, 2);
    let empty = write(&dir, "empty.json", "{}");
    let out = run(&mut tracer(&["diff", &old, &empty]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("not a report"), "{}", out.stderr);
}

#[test]
fn suggested_entries_read_back_and_name_what_no_entry_can_allow() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = golden_lines();
    // An event whose names the traced code chose: quotes, a backslash, glob characters,
    // an escape sequence and a forged workflow command.
    let odd = r#"$HOME/a\"b\\c*[x]{y}?\u001b[2J\n::error::forged"#;
    let at = lines
        .iter()
        .position(|l| l.contains("\"kind\":\"open\"") && l.contains("demo-token"))
        .expect("the demo reads its token");
    let home = lines
        .iter()
        .find(|l| l.contains("\"type\":\"build_context\""))
        .and_then(|l| serde_json::from_str::<Value>(l).ok())
        .and_then(|v| v["home"].as_str().map(str::to_string))
        .unwrap();
    lines[at] = lines[at].replace(
        &format!("{home}/.config/demo-token"),
        &odd.replace("$HOME", &home),
    );
    let trace = write(&dir, "odd.jsonl", &(lines.join("\n") + "\n"));
    let suggested = run_ok(&mut tracer(&["policy", "suggest", &trace])).stdout;
    assert!(
        !suggested.lines().any(|l| l.trim_start().starts_with("::")),
        "{suggested}"
    );
    let policy = write(&dir, "suggested.toml", &suggested);
    // The file is a valid policy (a malformed one is refused before anything is built).
    let check = run(&mut tracer(&[
        "build",
        "--policy",
        &policy,
        "--offline",
        "--manifest-path",
        "/nonexistent/Cargo.toml",
    ]));
    assert!(
        !check.stderr.contains("problem(s) in the policy"),
        "{}",
        check.stderr
    );
    // And the report shows the odd name as data.
    let report = run_ok(&mut tracer(&["report", &trace])).stdout;
    assert!(!report.contains('\u{1b}'), "{report}");
    assert!(
        !report.lines().any(|l| l.trim_start().starts_with("::")),
        "{report}"
    );
}

#[test]
fn policy_mistakes_are_reported_once_each_at_their_place() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(
        &dir,
        "p.toml",
        "disable-defaults = [\"ccc\"]\n\n[[allow]]\ncrate = \"x\"\nreason = \"r\"\nhosts = [\"crates.io:443\", \"300.1.1.1:443\"]\nread = [\"~/.ssh/x\", \"$OUTDIR/**\", \"/a/[b\"]\nwrite = [\"$HOME/.config/\"]\nexec = [\"bin/sh\"]\n",
    );
    let out = run(&mut tracer(&[
        "build",
        "--policy",
        &policy,
        "--offline",
        "--manifest-path",
        &repo().join("demo/Cargo.toml").display().to_string(),
    ]));
    assert_eq!(out.code, 2);
    let e = &out.stderr;
    for (at, code) in [
        ("p.toml:1:22", "unknown-default"),
        ("p.toml:6:11", "bad-host"),
        ("p.toml:6:28", "bad-host"),
        ("p.toml:7:10", "dead-pattern"),
        ("p.toml:7:22", "unknown-placeholder"),
        ("p.toml:7:36", "bad-glob"),
        ("p.toml:8:11", "dead-pattern"),
        ("p.toml:9:10", "dead-pattern"),
    ] {
        assert!(e.contains(at), "{at} ({code}) missing:\n{e}");
        assert!(e.contains(&format!("error[{code}]")), "{code}:\n{e}");
    }
    assert!(e.contains("8 problem(s)"), "{e}");
    assert!(e.contains("did you mean `cc`?"), "{e}");
    assert!(!e.contains("Compiling"), "nothing was built");
}
