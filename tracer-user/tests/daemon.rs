//! `cargo tracer daemon`: started once, it traces cargo runs it did not start — two builds at
//! the same time (one of them in a mount namespace of its own) and a test run, started by the
//! test as any CI step would, with plain `cargo` — and `stop` judges each with its own
//! workspace's policy: the right crates, versions and phases, as `cargo tracer build|test`
//! reports them. A stop without a daemon, or from a user who is not root, fails closed.
//! Tracing needs root.

use std::{net::TcpListener, os::unix::process::CommandExt, path::Path, process::Command};

use serde_json::Value;
use tracer_test_support::{DnsStub, Output, Sandbox, run, run_ok, with_private_resolver};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-tracer");

fn tracer(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.arg("tracer")
        .args(args)
        .env_remove("SUDO_UID")
        .env_remove("SUDO_GID")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("RUNNER_TEMP");
    c
}

/// One daemon runs on a machine: the tests that start one take turns.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A daemon for one test; stopped (without judging) if the test ends before it does, so no
/// daemon is left tracing every cargo run of the machine.
struct Daemon {
    socket: String,
    stopped: bool,
    _turn: std::sync::MutexGuard<'static, ()>,
}

impl Daemon {
    fn start(dir: &Path) -> Self {
        Self::start_with(dir, &[])
    }

    fn start_with(dir: &Path, args: &[&str]) -> Self {
        let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        let socket = dir.join("ctl/daemon.sock").display().to_string();
        let traces = dir.join("traces").display().to_string();
        run_ok(tracer(&["daemon", "start", "--dir", &traces, "--socket", &socket]).args(args));
        Self {
            socket,
            stopped: false,
            _turn: turn,
        }
    }

    fn status(&self) -> Value {
        let out = run_ok(&mut tracer(&[
            "daemon",
            "status",
            "--socket",
            &self.socket,
            "--format",
            "json",
        ]));
        serde_json::from_str(&out.stdout).unwrap()
    }

    fn stop(&mut self, args: &[&str]) -> Output {
        let out = run(tracer(&["daemon", "stop", "--socket", &self.socket]).args(args));
        self.stopped = true;
        out
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if !self.stopped {
            let _ = tracer(&[
                "daemon",
                "stop",
                "--socket",
                &self.socket,
                "--no-scan",
                "-q",
            ])
            .output();
        }
    }
}

/// `cargo <args>` in the sandbox, plain: nothing of cargo-tracer's in it.
fn cargo(sb: &Sandbox, args: &[&str], env: &[(&str, String)]) -> Output {
    let mut c = sb.command("cargo");
    c.args(args).envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    run(&mut c)
}

fn crate_of<'a>(r: &'a Value, name: &str, version: &str) -> &'a Value {
    r["crates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name && c["version"] == version)
        .unwrap_or_else(|| panic!("no crate {name}@{version}: {:#}", r["crates"]))
}

/// The verdict's behaviour of `name` with this kind and a target containing `target`.
fn verdict<'a>(r: &'a Value, name: &str, kind: &str, target: &str) -> &'a Value {
    r["verdict"]["behaviors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| {
            b["name"] == name && b["kind"] == kind && b["target"].as_str().unwrap().contains(target)
        })
        .unwrap_or_else(|| {
            panic!(
                "no {kind} {target} of {name}: {:#}",
                r["verdict"]["behaviors"]
            )
        })
}

fn a_job_of_cargo_runs_it_did_not_start_is_judged_run_by_run() {
    let job = tempfile::tempdir().unwrap();
    let mut daemon = Daemon::start(job.path());

    // Two builds at once, one of them resolving names through a stub in a namespace of its own.
    let policy = Sandbox::new("policy");
    policy.home_files(&["sneaky-victim"]);
    let attribution = Sandbox::new("attribution");
    attribution.home_files(&[
        ".evil-secret",
        ".inner-secret",
        "evil-delete-me",
        "inner-delete-me",
        "macro-input.txt",
        "macro-thread.txt",
    ]);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let stub = DnsStub::start();
    let conf = stub.resolv_conf(&attribution.dir);
    let (a, p) = std::thread::scope(|s| {
        let a = s.spawn(|| {
            with_private_resolver(&conf, || {
                cargo(
                    &attribution,
                    &["build", "--offline"],
                    &[
                        ("TRACER_FIXTURE_PORT", port.clone()),
                        ("TRACER_FIXTURE_DNS_STUB", "1".into()),
                    ],
                )
            })
        });
        let p = cargo(
            &policy,
            &["build", "--offline"],
            &[
                ("TRACER_FIXTURE_PORT", port.clone()),
                ("TRACER_FIXTURE_DNS_ADDR", "127.53.200.1".into()),
            ],
        );
        (a.join().unwrap(), p)
    });
    assert_eq!((a.code, p.code), (0, 0), "{}\n{}", a.stderr, p.stderr);
    // Then a test run whose dependency's payload runs inside the victim's tests.
    let runtime = Sandbox::new("runtime");
    runtime.home_files(&[".netrc", ".ssh/id_rsa"]);
    let t = cargo(
        &runtime,
        &["test", "--offline"],
        &[("TRACER_FIXTURE_PORT", port.clone())],
    );
    assert_eq!(t.code, 0, "{}", t.stderr);
    // A cargo run that runs nothing is seen, and not judged.
    run_ok(policy.command("cargo").arg("--version"));

    let status = daemon.status();
    let invocations = status["invocations"].as_array().unwrap();
    assert_eq!(invocations.len(), 4, "{status:#}");
    assert_eq!(
        invocations.iter().filter(|i| i["judged"] == true).count(),
        3,
        "{status:#}"
    );
    assert_eq!(status["unrouted"], 0);

    // A user who is not root cannot stop it.
    let mut as_nobody = tracer(&["daemon", "stop", "--socket", &daemon.socket]);
    as_nobody.uid(65534).gid(65534);
    let refused = run(&mut as_nobody);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("needs root"), "{}", refused.stderr);
    daemon.status();

    // What a build could do after it ran (or a later step's build): allow itself everything.
    // The verdict is reached with the policy as it was when the build started.
    std::fs::write(
        policy.workspace.join("tracer.toml"),
        "[[allow]]\ncrate = \"sneaky-sys\"\nreason = \"planted\"\n\
         delete = [\"/**\"]\nhosts = [\"0.0.0.0/0:*\"]\nread = [\"/**\"]\nwrite = [\"/**\"]\n",
    )
    .unwrap();
    let report = job.path().join("report.json").display().to_string();
    let out = daemon.stop(&["--output", &format!("json={report}"), "-q"]);
    assert_eq!(
        out.code, 1,
        "the fixtures violate their policies:\n{}",
        out.stderr
    );
    let reports: Vec<Value> = (1..=3)
        .map(|n| {
            let p = job.path().join(format!("report.{n}.json"));
            let text = std::fs::read_to_string(&p)
                .unwrap_or_else(|e| panic!("{}: {e}\n{}", p.display(), out.stderr));
            serde_json::from_str(&text).unwrap()
        })
        .collect();
    let of = |sb: &Sandbox| {
        let ws = sb.workspace.display().to_string();
        reports
            .iter()
            .find(|r| r["context"]["workspace_root"] == ws.as_str())
            .unwrap_or_else(|| panic!("no report of {ws}:\n{}", out.stderr))
    };
    for r in &reports {
        assert_eq!(r["complete"], true, "{:#}", r["verdict"]["incomplete"]);
        assert!(
            r["unattributed"].as_array().unwrap().is_empty(),
            "{:#}",
            r["unattributed"]
        );
    }

    // Judged with the policy of its own workspace: the rule in its Cargo.toml allows one
    // connection; the rest is unexpected; the statically found delete that never ran is
    // dormant (the sources were scanned).
    let p = of(&policy);
    let ok = verdict(
        p,
        "allowed-net",
        "net.connect",
        &format!("127.0.0.1:{port}"),
    );
    assert_eq!(ok["outcome"], "allowed", "{ok:#}");
    let deleted = verdict(p, "sneaky-sys", "fs.delete", "$HOME/sneaky-victim");
    assert_eq!(
        (deleted["outcome"].as_str(), deleted["phase"].as_str()),
        (Some("unexpected"), Some("build-script"))
    );
    // …which the planted file would have allowed, judged with the files as they are now.
    let now = run(tracer(&["report", "--format", "json", "--manifest-path"])
        .arg(policy.workspace.join("Cargo.toml"))
        .arg(p["events_file"]["path"].as_str().unwrap()));
    let now: Value =
        serde_json::from_str(&now.stdout).unwrap_or_else(|e| panic!("{e}: {}", now.stderr));
    let planted = verdict(&now, "sneaky-sys", "fs.delete", "$HOME/sneaky-victim");
    assert_eq!(planted["outcome"], "allowed", "{planted:#}");
    assert!(
        p["verdict"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "gated" && f["outcome"] == "dormant"),
        "{:#}",
        p["verdict"]["findings"]
    );

    // Each crate and version, in its phase, with no cargo message to go by.
    let a = of(&attribution);
    let evil = crate_of(a, "evil", "0.1.0");
    assert!(
        evil["behaviors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["kind"] == "fs.read" && b["target"] == "$HOME/.evil-secret"),
        "{evil:#}"
    );
    for v in ["1.0.0", "2.0.0"] {
        let dup = crate_of(a, "dup", v);
        let targets: Vec<&str> = dup["behaviors"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|b| b["target"].as_str())
            .collect();
        assert_eq!(targets, [format!("$HOME/dup-{v}")], "{dup:#}");
    }
    let m = crate_of(a, "fixture-macro", "0.2.0");
    assert!(
        m["behaviors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["target"] == "$HOME/macro-input.txt"
                && b["phase"] == "proc-macro"
                && b["within"] == "fixture-app@0.1.0"),
        "{m:#}"
    );
    // The double-forked grandchild that acted after its build script exited.
    let d = crate_of(a, "daemon", "0.1.0");
    assert!(
        d["behaviors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["target"] == "$HOME/daemon-was-here" && b["phase"] == "build-script"),
        "{d:#}"
    );

    // The payload that ran inside the victim's test binary is the payload crate's.
    let r = of(&runtime);
    let netrc = verdict(r, "rust-decimals", "fs.read", "$HOME/.netrc");
    assert_eq!(
        (netrc["phase"].as_str(), netrc["within"].as_str()),
        (Some("runtime"), Some("app@0.1.0")),
        "{netrc:#}"
    );
    drop(listener);
}

/// A workspace of one crate with no dependencies: a build in a second.
fn tiny(dir: &Path) -> Command {
    let ws = dir.join("tiny");
    std::fs::create_dir_all(ws.join("src")).unwrap();
    std::fs::write(
        ws.join("Cargo.toml"),
        "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(ws.join("src/lib.rs"), "pub fn f() {}\n").unwrap();
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let real_home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let mut c = Command::new("cargo");
    c.current_dir(&ws)
        .args(["build", "--offline"])
        .env("HOME", &home)
        .env("CARGO_HOME", dir.join("cargo-home"))
        .env(
            "RUSTUP_HOME",
            std::env::var("RUSTUP_HOME").unwrap_or_else(|_| format!("{real_home}/.rustup")),
        )
        .env(
            "PATH",
            format!(
                "{real_home}/.cargo/bin:{}",
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env_remove("CARGO_TARGET_DIR");
    c
}

fn a_trace_changed_after_the_daemon_wrote_it_is_not_judged() {
    let job = tempfile::tempdir().unwrap();
    let mut daemon = Daemon::start(job.path());
    run_ok(&mut tiny(job.path()));
    // Its trace is finished once its workspace has been read.
    let started = std::time::Instant::now();
    let trace = loop {
        let st = daemon.status();
        if let Some(t) = st["invocations"][0]["trace"].as_str() {
            break std::path::PathBuf::from(t);
        }
        assert!(started.elapsed().as_secs() < 60, "never finished: {st:#}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let honest = tracer(&["report", "-q"]).arg(&trace).output().unwrap();
    assert!(
        honest.status.success(),
        "{}",
        String::from_utf8_lossy(&honest.stderr)
    );
    // As a later build could, running as the user the traces' directory belongs to: one event
    // taken out, the rest a well-formed trace.
    let text =
        String::from_utf8(zstd::decode_all(&std::fs::read(&trace).unwrap()[..]).unwrap()).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let last_event = lines
        .iter()
        .rposition(|l| l.contains("\"type\":\"event\""))
        .unwrap();
    lines.remove(last_event);
    let forged = zstd::encode_all((lines.join("\n") + "\n").as_bytes(), 3).unwrap();
    std::fs::write(&trace, forged).unwrap();
    let out = daemon.stop(&["-q", "--no-scan"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("is not the trace the daemon wrote"),
        "{}",
        out.stderr
    );
}

fn each_invocation_gets_its_own_numbered_output_and_one_document_on_stdout_is_refused() {
    let job = tempfile::tempdir().unwrap();
    let mut daemon = Daemon::start(job.path());
    let (a, b) = (job.path().join("a"), job.path().join("b"));
    run_ok(&mut tiny(&a));
    run_ok(&mut tiny(&b));
    // Two verdicts do not fit one JSON document: refused while the daemon still runs.
    let one = run(&mut tracer(&[
        "daemon",
        "stop",
        "--socket",
        &daemon.socket,
        "--format",
        "json",
    ]));
    assert_eq!(one.code, 2, "{}", one.stderr);
    assert!(
        one.stderr.contains("--output json=PATH") && one.stderr.contains("still running"),
        "{}",
        one.stderr
    );
    assert_eq!(daemon.status()["invocations"].as_array().unwrap().len(), 2);
    let report = job.path().join("r.json").display().to_string();
    let out = daemon.stop(&["--no-scan", "-q", "--output", &format!("json={report}")]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for (n, ws) in [(1, &a), (2, &b)] {
        let r: Value = serde_json::from_str(
            &std::fs::read_to_string(job.path().join(format!("r.{n}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(
            r["context"]["workspace_root"],
            ws.join("tiny").display().to_string()
        );
        assert_eq!(r["complete"], true, "{:#}", r["verdict"]["incomplete"]);
    }
}

fn a_group_given_at_start_may_use_the_socket_and_others_may_not() {
    use std::os::unix::fs::PermissionsExt;
    let job = tempfile::tempdir().unwrap();
    std::fs::set_permissions(job.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut daemon = Daemon::start_with(job.path(), &["--group", "nogroup"]);
    let as_user = |uid: u32| {
        let mut c = tracer(&["daemon", "status", "--format", "json", "--socket"]);
        // std drops root's other groups when it sets the uid.
        c.arg(&daemon.socket).uid(uid).gid(uid);
        run(&mut c)
    };
    // nobody's group is nogroup (65534).
    let member = as_user(65534);
    assert_eq!(member.code, 0, "{}", member.stderr);
    assert!(
        member.stdout.contains("\"invocations\""),
        "{}",
        member.stdout
    );
    let stranger = as_user(65533);
    assert_eq!(stranger.code, 2, "{}", stranger.stderr);
    assert!(
        stranger.stderr.contains("needs root"),
        "{}",
        stranger.stderr
    );
    // The lock no member may hold (holding it keeps every later daemon from starting).
    let lock = std::fs::metadata("/run/cargo-tracer/daemon.lock").unwrap();
    assert_eq!(lock.permissions().mode() & 0o777, 0o600);
    // A member's process inside a build is not let in: a program named cargo is traced, and
    // so is what it runs.
    let bin = job.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cargo = bin.join("cargo");
    std::fs::write(
        &cargo,
        format!(
            "#!/bin/sh\nexec {BIN} tracer daemon status --format json --socket {}\n",
            daemon.socket
        ),
    )
    .unwrap();
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut c = Command::new(&cargo);
    c.uid(65534).gid(65534);
    let inside = run(&mut c);
    assert_ne!(
        inside.code, 0,
        "a traced member was answered: {}",
        inside.stdout
    );
    assert!(
        !inside.stdout.contains("\"invocations\""),
        "{}",
        inside.stdout
    );
    // Whatever that fake cargo's run is judged, a job that built nothing is not a pass.
    let out = daemon.stop(&["-q", "--no-scan"]);
    assert_ne!(out.code, 0, "{}", out.stderr);
}

fn a_group_the_build_user_is_in_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("ctl/daemon.sock").display().to_string();
    let mut c = tracer(&["daemon", "start", "--group", "nogroup", "--socket", &socket]);
    // As sudo would start it for nobody, whose group nogroup is.
    c.env("SUDO_UID", "65534").env("SUDO_GID", "65534");
    let out = run(&mut c);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("is a member of it"), "{}", out.stderr);
    assert!(!dir.path().join("ctl").exists(), "nothing was set up");
}

fn a_stop_with_no_daemon_listening_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("none.sock").display().to_string();
    let out = run(&mut tracer(&["daemon", "stop", "--socket", &socket]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("no cargo-tracer daemon is listening"),
        "{}",
        out.stderr
    );
}

fn main() {
    tracer_test_support::harness::main(tracer_test_support::tests![
        root: a_job_of_cargo_runs_it_did_not_start_is_judged_run_by_run,
            a_trace_changed_after_the_daemon_wrote_it_is_not_judged,
            each_invocation_gets_its_own_numbered_output_and_one_document_on_stdout_is_refused,
            a_group_given_at_start_may_use_the_socket_and_others_may_not;
        plain: a_group_the_build_user_is_in_is_refused_at_start,
            a_stop_with_no_daemon_listening_fails_closed
    ]);
}
