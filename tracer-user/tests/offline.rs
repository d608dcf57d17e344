//! What needs no probes, on a recorded trace (the demo's golden trace): `report` judges it with
//! the policy given now, in every format at once; `report` and `diff` fail closed on damaged,
//! incomplete or foreign input; `policy suggest` writes entries that allow exactly what was seen;
//! `policy check` and `policy defaults`; colour follows the terminal conventions.

use std::{path::PathBuf, process::Command};

use serde_json::Value;
use tracer_test_support::{Output, repo, run, run_ok};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-tracer");

fn tracer(args: &[&str]) -> Command {
    // Outside any cargo workspace: `report` judges with the policy of the workspace it runs in.
    static CWD: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let cwd = CWD.get_or_init(|| tempfile::tempdir().unwrap());
    let mut c = Command::new(BIN);
    c.arg("tracer").args(args).current_dir(cwd.path());
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
    let ok = run(&mut tracer(&["report", &golden().display().to_string()]));
    assert_eq!(
        ok.code, 1,
        "the demo violates the default policy: {}",
        ok.stderr
    );
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
    assert!(stdout.contains("error: INCOMPLETE:"), "{stdout}");
    // A document on stdout: the reason on stderr too.
    let json = run(&mut tracer(&["report", &cut, "--format", "json"]));
    assert_eq!(json.code, 2);
    assert!(
        json.stderr.contains("error: INCOMPLETE:"),
        "{}",
        json.stderr
    );
    assert!(
        stdout.contains("telemetry-sys"),
        "what was read is reported"
    );
    // A trace of another schema version is refused, not re-read as this one.
    let mut lines = golden_lines();
    let mut start: Value = serde_json::from_str(&lines[0]).unwrap();
    start["schema_version"] = 99.into();
    lines[0] = start.to_string();
    let newer = write(&dir, "newer.jsonl", &(lines.join("\n") + "\n"));
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
    let base = run(&mut tracer(&[
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
    // The file is a valid policy whose reasons are still to be written.
    let check = run(&mut tracer(&[
        "policy",
        "check",
        "--policy",
        &policy,
        "--manifest-path",
        "/nonexistent/Cargo.toml",
    ]));
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert!(
        check.stderr.contains("warning[todo-reason]"),
        "{}",
        check.stderr
    );
    // It allows everything the trace shows: judged with it, the build passes.
    let judged = run(&mut tracer(&["report", &trace, "--policy", &policy, "-q"]));
    assert_eq!(judged.code, 0, "{}", judged.stdout);
    assert!(
        judged.stdout.contains("result: passed"),
        "{}",
        judged.stdout
    );
    // And the report shows the odd name as data.
    let report = run(&mut tracer(&["report", &trace])).stdout;
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
    // `policy check` finds the same, without building or root.
    let checked = run(&mut tracer(&["policy", "check", "--policy", &policy]));
    assert_eq!(checked.code, 1);
    for at in ["p.toml:1:22", "p.toml:6:28", "p.toml:9:10"] {
        assert!(checked.stderr.contains(at), "{at}:\n{}", checked.stderr);
    }
    assert!(
        checked.stderr.contains("8 problem(s)"),
        "{}",
        checked.stderr
    );
}

/// Every `--output` file and the same format on stdout, for `report` of `trace` with `args`.
fn outputs(dir: &tempfile::TempDir, trace: &str, args: &[&str]) -> Vec<(&'static str, String)> {
    let formats = ["human", "json", "markdown", "sarif", "html"];
    let mut c = tracer(&["report", trace]);
    c.args(args);
    for f in formats {
        c.arg("--output")
            .arg(format!("{f}={}", dir.path().join(f).display()));
    }
    let out = run(&mut c);
    assert!(out.code <= 1, "{}", out.stderr);
    formats
        .into_iter()
        .map(|f| (f, std::fs::read_to_string(dir.path().join(f)).unwrap()))
        .collect()
}

#[test]
fn report_judges_a_recorded_build_in_every_format_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let trace = golden().display().to_string();
    let files = outputs(&dir, &trace, &[]);
    for (format, file) in &files {
        // `--format X` on stdout prints what `--output X=…` wrote.
        let stdout = run(&mut tracer(&["report", &trace, "--format", format])).stdout;
        assert!(&stdout == file, "{format}: stdout and --output differ");
    }
    let text = |f: &str| &files.iter().find(|(n, _)| *n == f).unwrap().1;
    let json: Value = serde_json::from_str(text("json")).unwrap();
    let denied = json["verdict"]["behaviors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["level"] == "deny")
        .count();
    assert!(
        denied > 0,
        "the demo's build script is not allowed by the defaults"
    );
    assert!(text("human").contains("result: FAILED"));
    assert!(!text("human").contains('\u{1b}'), "files get no colour");
    assert!(text("markdown").contains("### Crates with behaviour not allowed"));
    assert!(text("markdown").contains("| `telemetry-sys@0.3.1` |"));
    let sarif: Value = serde_json::from_str(text("sarif")).unwrap();
    if let Some(errors) = tracer_test_support::sarif::errors(&sarif) {
        assert!(errors.is_empty(), "{errors:#?}");
    }
    assert_eq!(
        sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["level"] == "error")
            .count(),
        denied
    );
    assert!(text("html").starts_with("<!doctype html>"));
    // Every machine format says what judged it: the policy, the trace and its digest.
    assert_eq!(
        json["events_file"]["sha256"].as_str().map(str::len),
        Some(64)
    );
    let props = &sarif["runs"][0]["properties"];
    assert_eq!(props["eventsFile"], json["events_file"]);
    assert_eq!(props["policySources"], json["policy_sources"]);

    // The policy and levels given now decide: --audit passes, -A violation and -A unexpected
    // too, an incomplete trace still fails closed.
    assert_eq!(run(&mut tracer(&["report", &trace, "--audit"])).code, 0);
    let lowered = run(&mut tracer(&[
        "report",
        &trace,
        "-A",
        "violation",
        "-A",
        "unexpected",
    ]));
    assert_eq!(lowered.code, 0, "{}", lowered.stdout);
}

#[test]
fn a_forged_cargo_message_makes_the_trace_untrustworthy() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = golden_lines();
    // The demo's build script, claimed for a crate the defaults trust, in a line a build
    // script wrote into cargo's stdout (`/proc/<cargo>/fd/1`) while it ran.
    let at = lines
        .iter()
        .position(|l| {
            l.contains("\"cargo_message\"")
                && l.contains("telemetry-sys")
                && l.contains("custom-build")
        })
        .unwrap();
    let mut forged: Value = serde_json::from_str(&lines[at]).unwrap();
    forged["message"]["package_id"] =
        "registry+https://github.com/rust-lang/crates.io-index#vergen-gitcl@1.0.0".into();
    lines.insert(at + 1, forged.to_string());
    let trace = write(&dir, "forged.jsonl", &(lines.join("\n") + "\n"));
    let out = run(&mut tracer(&["report", &trace, "--format", "json"]));
    assert_eq!(out.code, 2, "fails closed: {}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let reasons: Vec<&str> = v["verdict"]["incomplete"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["reason"].as_str().unwrap())
        .collect();
    assert!(reasons.contains(&"forged-message"), "{reasons:?}");
    assert!(reasons.contains(&"not-in-graph"), "{reasons:?}");
    assert_eq!(v["complete"], false, "the report agrees with its verdict");
    // The build script's behaviour stays with its crate: the first message wins.
    assert!(
        v["verdict"]["behaviors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["name"] != "vergen-gitcl")
    );
    // And `diff` will not compare against it.
    assert_eq!(
        run(&mut tracer(&[
            "diff",
            &golden().display().to_string(),
            &trace
        ]))
        .code,
        2
    );
}

#[test]
fn report_says_which_policy_judged_and_never_takes_it_from_the_trace() {
    let dir = tempfile::tempdir().unwrap();
    // A trace naming a workspace with a permissive policy in it.
    let evil = dir.path().join("evil-ws");
    std::fs::create_dir_all(&evil).unwrap();
    std::fs::write(
        evil.join("tracer.toml"),
        "[[allow]]\ncrate = \"telemetry-sys\"\nreason = \"x\"\nhosts = [\"*\"]\nread = [\"/**\"]\nwrite = [\"/**\"]\ndelete = [\"/**\"]\nexec = [\"*\"]\n",
    )
    .unwrap();
    let recorded = "/var/tmp/cargo-tracer-golden/demo-build/ws";
    let lines: Vec<String> = golden_lines()
        .into_iter()
        .map(|l| {
            if l.contains("\"type\":\"graph\"") || l.contains("\"type\":\"build_context\"") {
                l.replace(
                    &format!("\"{recorded}\""),
                    &format!("\"{}\"", evil.display()),
                )
            } else {
                l
            }
        })
        .collect();
    let trace = write(&dir, "pointing.jsonl", &(lines.join("\n") + "\n"));
    let out = run(&mut tracer(&["report", &trace, "-q"]));
    assert_eq!(
        out.code, 1,
        "the trace's policy is not used: {}",
        out.stdout
    );
    assert!(
        out.stderr.contains("note: not in a cargo workspace"),
        "{}",
        out.stderr
    );
    let policy_line = out
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("policy: "))
        .unwrap();
    assert!(
        policy_line.contains("shipped default policies"),
        "{policy_line}"
    );
    assert!(!policy_line.contains("evil-ws"), "{policy_line}");
    let sha = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(std::fs::read(&trace).unwrap());
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    assert!(
        out.stdout.contains(&format!("(sha256 {sha})")),
        "{}",
        out.stdout
    );
}

#[test]
fn rescan_scans_where_the_graph_says_without_a_cache_in_the_builds_target_dir() {
    let dir = tempfile::tempdir().unwrap();
    let recorded = "/var/tmp/cargo-tracer-golden/demo-build/ws";
    let demo = repo().join("demo").display().to_string();
    let target = dir.path().join("target");
    // The recorded graph, its sources moved to the repository's copy of the demo (ids kept: they
    // are what cargo's messages name).
    let lines: Vec<String> = golden_lines()
        .into_iter()
        .map(|l| {
            let moved = |v: &Value| v.as_str().map(|s| s.replace(recorded, &demo));
            if l.contains("\"type\":\"cargo_message\"") {
                // Cargo's messages say where the manifests are too; they must agree.
                let mut m: Value = serde_json::from_str(&l).unwrap();
                let msg = &mut m["message"];
                if let Some(v) = moved(&msg["manifest_path"]) {
                    msg["manifest_path"] = v.into();
                }
                if let Some(v) = moved(&msg["target"]["src_path"]) {
                    msg["target"]["src_path"] = v.into();
                }
                return m.to_string();
            }
            if !l.contains("\"type\":\"graph\"") {
                return l;
            }
            let mut g: Value = serde_json::from_str(&l).unwrap();
            g["target_dir"] = target.display().to_string().into();
            for p in g["packages"].as_array_mut().unwrap() {
                p["manifest_dir"] = moved(&p["manifest_dir"]).unwrap().into();
                for t in p["targets"].as_array_mut().unwrap() {
                    t["src_path"] = moved(&t["src_path"]).unwrap().into();
                }
            }
            g.to_string()
        })
        .collect();
    let trace = write(&dir, "moved.jsonl", &(lines.join("\n") + "\n"));
    let judged = |extra: &[&str]| -> Value {
        let mut c = tracer(&["report", &trace, "--format", "json"]);
        c.args(extra);
        let out = run(&mut c);
        assert_eq!(out.code, 1, "{}", out.stderr);
        serde_json::from_str(&out.stdout).unwrap()
    };
    let (recorded_scan, rescanned) = (judged(&[]), judged(&["--rescan"]));
    let explained = |v: &Value| -> Vec<String> {
        v["verdict"]["behaviors"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|b| b["explained_by"]["file"].as_str().map(str::to_string))
            .collect()
    };
    assert!(
        !explained(&rescanned).is_empty(),
        "the sources were scanned again"
    );
    // The same sources explain the same behaviours (the compiled artifacts are not there now).
    for f in explained(&rescanned) {
        assert!(explained(&recorded_scan).contains(&f), "{f}");
    }
    assert!(
        !target.exists(),
        "nothing is written into the build's target dir"
    );
}

#[test]
fn the_job_summary_gets_the_matrix_and_never_goes_through_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let trace = golden().display().to_string();
    let summary = dir.path().join("step_summary");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let mut c = tracer(&["report", &trace, "-q"]);
    c.env("GITHUB_STEP_SUMMARY", &summary);
    assert_eq!(run(&mut c).code, 1);
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(
        text.starts_with("earlier step\n## cargo-tracer: ❌ failed"),
        "{text}"
    );
    assert!(text.contains("| `telemetry-sys@0.3.1` |"), "{text}");

    // A link planted where the summary goes: not followed (the tracer may be root).
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    let link = dir.path().join("planted");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let mut c = tracer(&["report", &trace, "-q"]);
    c.env("GITHUB_STEP_SUMMARY", &link);
    let out = run(&mut c);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("not writing the job summary"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
}

/// The demo's trace as lines, with the index and the event of its build script reading the
/// token.
fn token_read() -> (Vec<String>, usize, Value) {
    let lines = golden_lines();
    let at = lines
        .iter()
        .position(|l| l.contains("\"kind\":\"open\"") && l.contains("demo-token"))
        .unwrap();
    let ev = serde_json::from_str(&lines[at]).unwrap();
    (lines, at, ev)
}

#[test]
fn a_build_that_reached_for_the_tracer_is_incomplete_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let (mut lines, at, mut ev) = token_read();
    // The build script, as root, asks bpf(2) for the tracer's maps instead of that open.
    let o = ev.as_object_mut().unwrap();
    for k in [
        "path",
        "access",
        "flags",
        "mode",
        "file_type",
        "real",
        "links",
    ] {
        o.remove(k);
    }
    o.insert("kind".into(), "tamper".into());
    o.insert("syscall".into(), "bpf".into());
    o.insert("arg0".into(), 12.into());
    o.insert("arg1".into(), 0.into());
    lines[at] = ev.to_string();
    let trace = write(&dir, "tamper.jsonl", &(lines.join("\n") + "\n"));
    let out = run(&mut tracer(&["report", &trace]));
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(
        out.stdout.contains(
            "(build-script-bu) called bpf(12, …), which could find and rewrite the tracer's maps"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn a_secret_read_through_a_proc_magic_link_is_never_routine() {
    let dir = tempfile::tempdir().unwrap();
    let (mut lines, at, mut ev) = token_read();
    // The build script, its directory changed to $HOME/.cache (chdir is not traced), reads the
    // token by a path that lexically looks like process self-inspection.
    // Without the kernel's own path (a probe that could not name the file): only the string.
    ev.as_object_mut().unwrap().remove("real");
    let sneaky = "/proc/self/cwd/../.config/demo-token";
    ev["path"]["raw"] = sneaky.into();
    ev["path"]["abs"] = sneaky.into();
    lines[at] = ev.to_string();
    // And reopens an O_PATH handle (which records nothing) by its link.
    let mut again = ev.clone();
    again["path"]["raw"] = "/proc/self/fd/9".into();
    again["path"]["abs"] = "/proc/self/fd/9".into();
    lines[at + 1] = {
        // Replaces the next event with the reopen, keeping its sequence number.
        let next: Value = serde_json::from_str(&lines[at + 1]).unwrap();
        again["seq"] = next["seq"].clone();
        again.to_string()
    };
    let trace = write(&dir, "magic.jsonl", &(lines.join("\n") + "\n"));
    let out = run(&mut tracer(&["report", &trace, "--format", "json"]));
    let v: Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stderr));
    let reads: Vec<&str> = v["verdict"]["behaviors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["kind"] == "fs.read" && b["name"] == "telemetry-sys")
        .map(|b| b["target"].as_str().unwrap())
        .collect();
    assert!(reads.contains(&sneaky), "{reads:?}");
    assert!(reads.contains(&"/proc/self/fd/9"), "{reads:?}");
}

#[test]
fn colour_follows_the_terminal_conventions_and_quiet_prints_the_verdict_only() {
    let trace = golden().display().to_string();
    let esc = |c: &mut Command| run(c).stdout.contains('\u{1b}');
    // Piped: none, unless asked for.
    assert!(!esc(&mut tracer(&["report", &trace])));
    assert!(esc(&mut tracer(&["report", &trace, "--color", "always"])));
    let mut cargo_says = tracer(&["report", &trace]);
    cargo_says.env("CARGO_TERM_COLOR", "always");
    assert!(esc(&mut cargo_says), "CARGO_TERM_COLOR is honoured");
    let mut flag_wins = tracer(&["report", &trace, "--color", "never"]);
    flag_wins.env("CARGO_TERM_COLOR", "always");
    assert!(!esc(&mut flag_wins), "--color wins over CARGO_TERM_COLOR");
    let mut forced = tracer(&["report", &trace]);
    forced.env("CLICOLOR_FORCE", "1").env("NO_COLOR", "1");
    assert!(!esc(&mut forced), "NO_COLOR wins over auto detection");

    let full = run(&mut tracer(&["report", &trace])).stdout;
    let quiet = run(&mut tracer(&["report", &trace, "-q"])).stdout;
    // The compact matrix heads the full report: one line per crate with notable behaviour.
    assert!(
        full.contains("\ncrate ") && full.contains("\ntelemetry-sys@0.3.1 "),
        "{full}"
    );
    assert!(full.ends_with(&quiet), "the verdict ends the full report");
    assert!(!quiet.contains("telemetry-sys 0.3.1  (path+"), "{quiet}");
    assert!(quiet.contains("result: FAILED"), "{quiet}");
}

#[test]
fn diff_takes_recorded_builds_and_prints_json() {
    let dir = tempfile::tempdir().unwrap();
    let trace = golden().display().to_string();
    let same = run(&mut tracer(&["diff", &trace, &trace, "--format", "json"]));
    assert_eq!(same.code, 0, "{}", same.stderr);
    let v: Value = serde_json::from_str(&same.stdout).unwrap();
    assert_eq!(v["new_behaviors"], serde_json::json!([]));
    assert_eq!(v["complete"], true);

    // The same build reading one more secret: new, in a report or a trace alike.
    let mut lines = golden_lines();
    let at = lines
        .iter()
        .position(|l| l.contains("\"kind\":\"open\"") && l.contains("demo-token"))
        .unwrap();
    lines[at] = lines[at].replace("demo-token", "other-token");
    let newer = write(&dir, "newer.jsonl", &(lines.join("\n") + "\n"));
    let out = run(&mut tracer(&["diff", &trace, &newer, "--format", "json"]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let new = v["new_behaviors"].as_array().unwrap();
    assert_eq!(new.len(), 1, "{new:#?}");
    assert_eq!(new[0]["who"], "telemetry-sys@0.3.1");
    assert_eq!(new[0]["target"], "$HOME/.config/other-token");
    let report = write(
        &dir,
        "old.json",
        &run(&mut tracer(&["report", &trace, "--format", "json"])).stdout,
    );
    let mixed = run(&mut tracer(&["diff", &report, &newer]));
    assert_eq!(mixed.code, 1);
    assert!(
        mixed
            .stdout
            .contains("new: telemetry-sys@0.3.1 build-script fs.read $HOME/.config/other-token"),
        "{}",
        mixed.stdout
    );

    // A damaged trace cannot show what is new.
    let whole = golden_lines().join("\n") + "\n";
    let cut = write(&dir, "cut.jsonl", &whole[..whole.len() / 2]);
    assert_eq!(run(&mut tracer(&["diff", &trace, &cut])).code, 2);
}

#[test]
fn policy_defaults_lists_and_prints_the_shipped_policies() {
    let list = run_ok(&mut tracer(&["policy", "defaults"])).stdout;
    let shipped: Vec<String> = std::fs::read_dir(repo().join("policies"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".toml").map(str::to_string)
        })
        .collect();
    assert!(shipped.len() > 10);
    for name in &shipped {
        assert!(
            list.lines()
                .any(|l| l.split_whitespace().next() == Some(name)),
            "{name} missing:\n{list}"
        );
    }
    let cc = run_ok(&mut tracer(&["policy", "defaults", "cc"])).stdout;
    assert_eq!(
        cc,
        std::fs::read_to_string(repo().join("policies/cc.toml")).unwrap()
    );
    let typo = run(&mut tracer(&["policy", "defaults", "cx"]));
    assert_eq!(typo.code, 2);
    assert!(
        typo.stderr.contains("did you mean `cc`?"),
        "{}",
        typo.stderr
    );
}

#[test]
fn policy_check_warns_about_todo_reasons_and_entries_that_cannot_match() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    std::fs::create_dir_all(ws.join("src")).unwrap();
    std::fs::write(
        ws.join("Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(ws.join("src/lib.rs"), "").unwrap();
    std::fs::write(
        ws.join("tracer.toml"),
        "[[allow]]\ncrate = \"app\"\nreason = \"TODO: why app needs this\"\nread = [\"/etc/hosts\"]\n\n         [[allow]]\ncrate = \"ap\"\nreason = \"a typo\"\nread = [\"/etc/hosts\"]\n",
    )
    .unwrap();
    let check = |extra: &[&str]| {
        let mut c = tracer(&["policy", "check", "--manifest-path"]);
        c.arg(ws.join("Cargo.toml"))
            .args(extra)
            .env("CARGO_HOME", dir.path().join("cargo-home"));
        run(&mut c)
    };
    let out = check(&[]);
    assert_eq!(out.code, 0, "warnings do not fail: {}", out.stderr);
    let e = &out.stderr;
    assert!(
        e.contains("warning[todo-reason]") && e.contains("tracer.toml:1:1"),
        "{e}"
    );
    assert!(
        e.contains("warning[no-such-crate]") && e.contains("tracer.toml:6:1"),
        "{e}"
    );
    assert!(e.contains("did you mean `app`?"), "{e}");
    assert!(
        e.contains("2 allow entries") && e.contains("2 warning(s)"),
        "{e}"
    );
    assert_eq!(check(&["--deny-warnings"]).code, 1);
}
