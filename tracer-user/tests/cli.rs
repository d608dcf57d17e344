//! `cargo tracer run` end to end: exit codes, the event file, the JSON summary, privilege errors
//! and running the command as the sudo caller. Tests that load probes need root.

use std::{os::unix::process::CommandExt, process::Command};

use serde_json::Value;
use tracer_test_support::run_ok;

const BIN: &str = env!("CARGO_BIN_EXE_cargo-tracer");

/// sudo's variables for a run started by `nobody`.
const SUDO_NOBODY: [(&str, &str); 2] = [("SUDO_UID", "65534"), ("SUDO_GID", "65534")];

fn tracer(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    // Invoked the way cargo invokes a subcommand.
    c.arg("tracer")
        .args(args)
        .env_remove("SUDO_UID")
        .env_remove("SUDO_GID");
    c
}

fn exits_with_the_commands_code_or_128_plus_its_signal() {
    let st = tracer(&["run", "--", "sh", "-c", "exit 7"])
        .output()
        .unwrap();
    assert_eq!(
        st.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let st = tracer(&["run", "--", "sh", "-c", "kill -TERM $$"])
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(128 + 15));
    assert!(String::from_utf8_lossy(&st.stderr).contains("killed by signal 15"));
}

fn a_tracer_told_to_stop_keeps_what_it_traced_and_the_trace_reads_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("ev.jsonl");
    let started = std::time::Instant::now();
    let child = tracer(&[
        "run",
        "--events",
        events.to_str().unwrap(),
        "--",
        "sleep",
        "30",
    ])
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    // Until the trace has begun (the command exec'd), then as a CI runner cancelling a job.
    while !std::fs::read_to_string(&events).is_ok_and(|t| t.contains("\"kind\":\"exec\"")) {
        assert!(started.elapsed().as_secs() < 20, "the trace never began");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("stopped by signal 15"), "{stderr}");
    assert!(
        started.elapsed().as_secs() < 25,
        "the command was stopped too"
    );
    let text = std::fs::read_to_string(&events).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["type"], "start");
    assert!(lines.iter().any(|l| l["kind"] == "exec"));
    assert!(!lines.iter().any(|l| l["type"] == "end"), "no end line");
}

fn writes_json_lines_framed_by_start_and_end_and_a_json_summary() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("ev.jsonl");
    let out = run_ok(&mut tracer(&[
        "run",
        "--format",
        "json",
        "--events",
        events.to_str().unwrap(),
        "--",
        "cat",
        "/etc/hostname",
    ]));
    let stdout = out.stdout;
    // The command's own output comes first, then the summary object.
    let summary_at = stdout.find("{\n").expect("a JSON summary on stdout");
    let summary: Value = serde_json::from_str(&stdout[summary_at..]).unwrap();
    assert_eq!(summary["complete"], true);
    assert_eq!(summary["exit_code"], 0);
    assert!(summary["events"].as_u64().unwrap() > 0);

    let text = std::fs::read_to_string(&events).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.first().unwrap()["type"], "start");
    assert_eq!(
        lines.first().unwrap()["command"],
        serde_json::json!(["cat", "/etc/hostname"])
    );
    assert_eq!(lines.last().unwrap()["type"], "end");
    assert_eq!(lines.last().unwrap()["complete"], true);
    assert!(
        lines
            .iter()
            .all(|l| l["schema_version"] == tracer::trace::SCHEMA_VERSION)
    );
    let events: Vec<&Value> = lines.iter().filter(|l| l["type"] == "event").collect();
    assert_eq!(events.len() as u64, summary["events"].as_u64().unwrap());
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "open" && e["path"]["abs"] == "/etc/hostname" && e["ok"] == true),
        "the command's own read is in the file"
    );
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "sequence numbers are dense"
    );
}

/// The summary's `ring_mappings_kib` of `run --format json [--ring-size N] -- true` (each run
/// its own process: the figure is of the whole process's mappings).
fn ring_mappings_kib(ring_size: Option<&str>) -> u64 {
    let mut args = vec!["run", "--format", "json"];
    if let Some(n) = ring_size {
        args.extend(["--ring-size", n]);
    }
    args.extend(["--", "true"]);
    let out = run_ok(&mut tracer(&args));
    let summary: Value = serde_json::from_str(&out.stdout).unwrap();
    summary["ring_mappings_kib"].as_u64().unwrap()
}

fn the_summary_says_how_much_of_its_memory_the_ring_buffers_are() {
    let default = ring_mappings_kib(None);
    let small = ring_mappings_kib(Some("4096"));
    // The kernel maps every ring page twice: the smaller event ring is the whole difference,
    // twice over.
    assert_eq!(
        default - small,
        2 * (u64::from(tracer::loader::DEFAULT_RING_BYTES) - 4096) / 1024,
        "{default} KiB and {small} KiB"
    );
    // A plain run copies no stacks: their ring is a page, not 32 MiB (64 MiB of RSS).
    let events_ring_kib = 2 * u64::from(tracer::loader::DEFAULT_RING_BYTES) / 1024;
    assert!(
        default <= events_ring_kib + 64,
        "{default} KiB mapped for a {events_ring_kib} KiB event ring's two mappings"
    );
}

fn under_sudo_the_command_runs_as_the_invoking_user() {
    let script = "echo \"$(id -u) $(id -g) $HOME\"";
    let out = tracer(&["run", "--", "sh", "-c", script])
        .envs(SUDO_NOBODY)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let nobody_home = String::from_utf8_lossy(
        &Command::new("sh")
            .args(["-c", "getent passwd 65534 | cut -d: -f6"])
            .output()
            .unwrap()
            .stdout,
    )
    .trim()
    .to_string();
    assert_eq!(
        stdout.trim(),
        format!("65534 65534 {nobody_home}"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Half of sudo's variables: whom to run as cannot be told, so nothing runs.
    let out = tracer(&["run", "--", "sh", "-c", "echo ran"])
        .env("SUDO_UID", "65534")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("ran"));
    assert_eq!(
        err.matches("SUDO_UID is set without SUDO_GID").count(),
        1,
        "{err}"
    );
    let out = tracer(&["run", "--as-root", "--", "sh", "-c", "id -u"])
        .envs(SUDO_NOBODY)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");
}

/// Started through sudo, the files cargo-tracer creates — the events file, `--output` files —
/// belong to the invoking user, as the build's own do; a file that was there keeps its owner.
fn under_sudo_what_it_writes_belongs_to_the_invoking_user() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("ev.jsonl");
    let out = tracer(&["run", "--events", events.to_str().unwrap(), "--", "true"])
        .envs(SUDO_NOBODY)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let owner = |p: &std::path::Path| {
        let m = std::fs::metadata(p).unwrap();
        (m.uid(), m.gid())
    };
    assert_eq!(owner(&events), (65534, 65534));
    // A judged build's outputs, new and existing.
    let golden = tracer_test_support::repo().join("tests/golden/demo-build/trace.jsonl.zst");
    let policy = dir.path().join("empty.toml");
    std::fs::write(&policy, "").unwrap();
    let kept = dir.path().join("kept.json");
    std::fs::write(&kept, "old").unwrap();
    let new = dir.path().join("report.sarif");
    let out = tracer(&["report", golden.to_str().unwrap(), "--audit", "--quiet"])
        .args(["--policy", policy.to_str().unwrap()])
        .arg(format!("--output=sarif={}", new.display()))
        .arg(format!("--output=json={}", kept.display()))
        .envs(SUDO_NOBODY)
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(owner(&new), (65534, 65534));
    assert_eq!(owner(&kept), (0, 0));
    assert!(std::fs::read_to_string(&kept).unwrap().starts_with('{'));
}

fn without_privileges_it_says_what_to_do_and_exits_2() {
    let mut c = tracer(&["run", "--", "true"]);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // std drops supplementary groups when a root parent sets the uid.
        c.uid(65534).gid(65534);
    }
    let out = c.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("run as root") && err.contains("CAP_BPF+CAP_PERFMON"),
        "{err}"
    );
}

fn a_missing_command_is_a_usage_error() {
    let out = tracer(&["run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("COMMAND"));
}

fn cargo_tracer_test_reports_per_crate_json_and_report_re_renders_it_offline() {
    let sb = tracer_test_support::Sandbox::new("attribution");
    sb.home_files(&["test-reads-this"]);
    let ws = &sb.workspace;
    let events = sb.dir.join("ev.jsonl.zst");
    let manifest = sb.manifest();
    // No TRACER_FIXTURE_* variables: the fixture's build scripts stay off the network.
    let out = sb
        .command(BIN)
        .args([
            "tracer",
            "test",
            "--fresh",
            // Verdicts are for the policy tests; this one checks the report.
            "--audit",
            "--format",
            "json",
            "--events",
            events.to_str().unwrap(),
            "--offline",
            "--manifest-path",
            &manifest,
            "-p",
            "fixture-app",
        ])
        .current_dir(&sb.dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("test result: ok"),
        "the test harness output goes to stderr with --format json"
    );
    let live: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON report");
    assert_eq!(live["schema_version"], 2);
    assert_eq!(live["complete"], true);
    assert!(
        live["context"]["fresh"] == true
            && !live["context"]["target_dir"]
                .as_str()
                .unwrap()
                .starts_with(ws.to_str().unwrap())
    );

    let app = live["crates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "fixture-app")
        .unwrap();
    let test_read = app["behaviors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["target"] == "$HOME/test-reads-this")
        .expect("the unit test's read");
    assert_eq!(
        (test_read["kind"].as_str(), test_read["phase"].as_str()),
        (Some("fs.read"), Some("test"))
    );
    assert!(
        app["phases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["phase"] == "test" && p["ran"] == true)
    );
    let evil = live["crates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "evil")
        .unwrap();
    assert!(
        evil["behaviors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["kind"] == "fs.write" && b["target"] == "$HOME/evil-wrote.txt")
    );
    assert!(
        evil["behaviors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["kind"] != "net.dns"),
        "no DNS without the stub"
    );

    // Offline, without the probes: the same report from the recorded events.
    let out = run_ok(&mut tracer(&[
        "report",
        "--audit",
        "--format",
        "json",
        events.to_str().unwrap(),
    ]));
    let offline: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(offline["crates"], live["crates"]);
    assert_eq!(offline["complete"], live["complete"]);

    // And for people.
    let out = tracer(&["report", events.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("evil 0.1.0")
            && text.contains("$HOME/evil-wrote.txt")
            && text.contains("build-script: ran"),
        "{text}"
    );
}

fn report_rejects_a_file_that_is_not_a_trace_with_its_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.jsonl");
    std::fs::write(&f, "{\"type\":\"start\",\"schema_version\":1}\nnot json\n").unwrap();
    let out = tracer(&["report", f.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 1") || err.contains("line 2"), "{err}");
}

fn main() {
    tracer_test_support::harness::main(tracer_test_support::tests![
        root: exits_with_the_commands_code_or_128_plus_its_signal, a_tracer_told_to_stop_keeps_what_it_traced_and_the_trace_reads_incomplete, writes_json_lines_framed_by_start_and_end_and_a_json_summary, the_summary_says_how_much_of_its_memory_the_ring_buffers_are, under_sudo_the_command_runs_as_the_invoking_user, under_sudo_what_it_writes_belongs_to_the_invoking_user, cargo_tracer_test_reports_per_crate_json_and_report_re_renders_it_offline;
        plain: without_privileges_it_says_what_to_do_and_exits_2, a_missing_command_is_a_usage_error, report_rejects_a_file_that_is_not_a_trace_with_its_line_number
    ]);
}
