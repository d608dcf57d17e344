//! Verdicts of `cargo tracer build` on the policy fixture: allowed, violation/unexpected,
//! dormant, shipped default policies, malformed policies, incomplete traces, exit codes.
//! Traced builds need root.

use std::{net::TcpListener, process::Command};

use serde_json::Value;
use tracer_test_support::{Output, run};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-tracer");
/// A loopback address nothing listens on: the fixture's DNS query goes there and no further.
const DNS_SINK: &str = "127.53.200.1";

/// The policy fixture in a sandbox, with a loopback listener its build script connects to.
struct Sandbox {
    sb: tracer_test_support::Sandbox,
    port: u16,
    _listener: TcpListener,
}

impl Sandbox {
    fn new() -> Self {
        let sb = tracer_test_support::Sandbox::new("policy");
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        Self {
            sb,
            port,
            _listener: listener,
        }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.sb.dir.join(name)
    }

    /// `cargo tracer build --fresh --offline <args>` in the fixture; (exit code, stdout, stderr).
    fn build(&self, args: &[&str]) -> (i32, String, String) {
        self.sb.home_files(&["sneaky-victim"]);
        let mut c: Command = self.sb.command(BIN);
        c.args(["tracer", "build", "--fresh"])
            .args(args)
            .arg("--offline")
            .env("TRACER_FIXTURE_PORT", self.port.to_string())
            .env("TRACER_FIXTURE_DNS_ADDR", DNS_SINK);
        let Output {
            code,
            stdout,
            stderr,
        } = run(&mut c);
        (code, stdout, stderr)
    }
}

fn behaviour<'a>(v: &'a Value, name: &str, kind: &str, target_contains: &str) -> &'a Value {
    v["verdict"]["behaviors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| {
            b["name"] == name
                && b["kind"] == kind
                && b["target"].as_str().unwrap().contains(target_contains)
        })
        .unwrap_or_else(|| {
            panic!(
                "no {kind} {target_contains} of {name}: {:#}",
                v["verdict"]["behaviors"]
            )
        })
}

/// The formats `--output` writes, with their file names.
const FORMATS: &[(&str, &str)] = &[
    ("human", "out.txt"),
    ("json", "out.json"),
    ("markdown", "out.md"),
    ("sarif", "out.sarif"),
    ("html", "out.html"),
];

fn output_args(dir: &std::path::Path) -> Vec<String> {
    FORMATS
        .iter()
        .flat_map(|(f, name)| {
            [
                "--output".into(),
                format!("{f}={}", dir.join(name).display()),
            ]
        })
        .collect()
}

fn verdicts_allowed_unexpected_dormant_defaults_and_exit_codes() {
    let sb = Sandbox::new();
    let live = sb.path("live");
    let events = sb.path("build.jsonl.zst");
    std::fs::create_dir_all(&live).unwrap();
    let mut args: Vec<String> = ["--format", "json", "--events", events.to_str().unwrap()]
        .map(String::from)
        .to_vec();
    args.extend(output_args(&live));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = sb.build(&args);
    assert_eq!(code, 1, "violations fail the build\n{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    // `--format` is stdout, and the same document as `--output json=…`.
    assert_eq!(std::fs::read_to_string(live.join("out.json")).unwrap(), out);

    // Judged again offline, without root, from the recorded trace: the same verdict, in every
    // format, and the same exit code.
    let offline = sb.path("offline");
    std::fs::create_dir_all(&offline).unwrap();
    let mut report = Command::new(BIN);
    // The project's policy: the workspace's, named as the judge names it (not as the trace does).
    report
        .args(["tracer", "report"])
        .arg(&events)
        .arg("--manifest-path")
        .arg(sb.sb.manifest())
        .args(output_args(&offline));
    let again = run(&mut report);
    assert_eq!(again.code, 1, "{}", again.stderr);
    for (format, name) in FORMATS {
        let (a, b) = (
            std::fs::read_to_string(live.join(name)).unwrap(),
            std::fs::read_to_string(offline.join(name)).unwrap(),
        );
        if a != b {
            let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
            let at = la
                .iter()
                .zip(&lb)
                .position(|(x, y)| x != y)
                .unwrap_or(la.len().min(lb.len()));
            panic!(
                "{format}: the live and the offline verdict differ at line {}:\nlive:    {:?}\noffline: {:?}\n{}",
                at + 1,
                la.get(at),
                lb.get(at),
                again.stderr
            );
        }
    }

    // Allowed by the project's policy in Cargo.toml, with the rule named.
    let ok = behaviour(
        &v,
        "allowed-net",
        "net.connect",
        &format!("127.0.0.1:{}", sb.port),
    );
    assert_eq!(ok["outcome"], "allowed");
    // The rule is referred to by where it is written.
    let rule = &ok["allowed_by"];
    assert_eq!(
        rule["reason"], "fetches test vectors from the local mirror",
        "{rule}"
    );
    assert!(
        rule["file"].as_str().unwrap().ends_with("/ws/Cargo.toml"),
        "{rule}"
    );
    assert!(rule["line"].as_u64().unwrap() > 1, "{rule}");

    // What no static finding explains is unexpected, at deny level, with the rule to allow it.
    for (kind, target) in [
        ("fs.delete", "$HOME/sneaky-victim"),
        ("net.dns", "beacon.fixture.invalid"),
    ] {
        let b = behaviour(&v, "sneaky-sys", kind, target);
        assert_eq!(
            (
                b["outcome"].as_str(),
                b["level"].as_str(),
                b["phase"].as_str()
            ),
            (Some("unexpected"), Some("deny"), Some("build-script"))
        );
        assert_eq!(b["suggestion"]["crate"], "sneaky-sys", "{b}");
    }

    // The gated delete was never run: a dormant static finding.
    let dormant = v["verdict"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "gated")
        .expect("gated finding");
    assert_eq!(
        (dormant["outcome"].as_str(), dormant["level"].as_str()),
        (Some("dormant"), Some("warn"))
    );
    assert_eq!(dormant["finding"]["location"]["file"], "build.rs");

    // The -sys crate compiling C through `cc` passes on the shipped default policy alone.
    let cc: Vec<&Value> = v["verdict"]["behaviors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["name"] == "mini-sys")
        .collect();
    assert!(!cc.is_empty(), "mini-sys ran the compiler");
    assert!(cc.iter().all(|b| b["outcome"] == "allowed"), "{cc:#?}");
    assert!(
        cc.iter()
            .any(|b| b["allowed_by"]["file"] == "default:policies/cc.toml")
    );

    // --audit reports the same verdicts without failing; -A lowers levels like cargo-deny.
    let (code, out, _) = sb.build(&["--audit"]);
    assert_eq!(code, 0);
    assert!(
        out.contains(
            "error[unexpected]: sneaky-sys@0.2.0 build-script fs.delete $HOME/sneaky-victim"
        ),
        "{out}"
    );
    assert!(out.contains("result: FAILED"));
    let (code, out, _) = sb.build(&["-A", "unexpected", "--format", "markdown"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("## cargo-tracer: ⚠️ passed with warnings"),
        "{out}"
    );
}

fn an_incomplete_trace_exits_2_even_without_violations() {
    let sb = Sandbox::new();
    let (code, out, err) = sb.build(&["--ring-size", "4096", "-p", "mini-sys"]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(out.contains("INCOMPLETE"), "{out}");
    // Which counter lost them, so the user knows what to change (`--ring-size`).
    assert!(out.contains("ring buffer full: "), "{out}");
}

fn the_scan_cache_can_be_kept_outside_the_target_dir_and_timings_are_printed() {
    let sb = Sandbox::new();
    let cache = sb.path("kept-scan-cache");
    let c = cache.to_str().unwrap();
    // cargo tracer's own options before and among cargo's (`--scan-cache` after `-p`).
    let args = [
        "--audit",
        "--timings",
        "--format",
        "json",
        "-p",
        "mini-sys",
        "--scan-cache",
        c,
    ];
    let (code, out, err) = sb.build(&args);
    assert_eq!(code, 0, "{out}\n{err}");
    let cached = std::fs::read_dir(&cache).map(|d| d.count()).unwrap_or(0);
    assert!(cached > 0, "no scan results kept in {c}\n{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    // The scan was used: behaviours are explained by static findings (cc running compilers).
    assert!(
        v["verdict"]["behaviors"]
            .as_array()
            .is_some_and(|b| b.iter().any(|b| b["explained_by"].is_object())),
        "{out}"
    );
    for stage in ["traced build", "static scan", "report and verdict"] {
        assert!(
            err.contains(&format!("cargo-tracer: {stage}: ")),
            "{stage}: {err}"
        );
    }
}

fn a_malformed_policy_is_reported_with_file_line_and_exits_2_before_building() {
    let sb = Sandbox::new();
    let bad = sb.path("bad.toml");
    std::fs::write(
        &bad,
        "[[allow]]\ncrate = \"cc\"\nreason = \"x\"\nexce = [\"cc\"]\nphase = \"build\"\n",
    )
    .unwrap();
    let (code, _, err) = sb.build(&["--policy", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bad.toml:4:1"), "{err}");
    assert!(err.contains("did you mean `exec`?"), "{err}");
    assert!(
        err.contains("bad.toml:5:10") && err.contains("unknown phase `build`"),
        "{err}"
    );
    assert!(!err.contains("Compiling"), "nothing was built");
}

fn a_rule_that_matches_nothing_is_reported() {
    let sb = Sandbox::new();
    let p = sb.path("policy.toml");
    std::fs::write(&p, "[[allow]]\ncrate = \"mini-sys\"\nreason = \"once fetched headers\"\nhosts = [\"*.example.org\"]\n").unwrap();
    let policy = ["--policy", p.to_str().unwrap()];
    let (code, out, err) = sb.build(&[&policy[..], &["-p", "mini-sys"]].concat());
    assert!(
        out.contains("warning[unused-rule]: allow entry matched nothing: once fetched headers"),
        "{out}"
    );
    assert_eq!(code, 0, "a warning alone passes: {err}");
    let (code, out, _) =
        sb.build(&[&policy[..], &["-D", "unused-rule", "-p", "mini-sys"]].concat());
    assert!(
        out.contains("error[unused-rule]: allow entry matched nothing: once fetched headers"),
        "{out}"
    );
    assert!(!out.contains("the traced command failed"), "{out}");
    assert_eq!(code, 1, "-D unused-rule makes it fail");
}

fn suggested_policy_makes_the_same_build_pass_and_sarif_is_valid() {
    let sb = Sandbox::new();
    let events = sb.path("ev.jsonl");
    let (code, sarif, err) = sb.build(&["--format", "sarif", "--events", events.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    if let Some(errors) = tracer_test_support::sarif::errors(&sarif) {
        assert!(errors.is_empty(), "{errors:#?}");
    }
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| {
        r["ruleId"] == "unexpected"
            && r["message"]["text"]
                .as_str()
                .unwrap()
                .contains("sneaky-sys")
    }));
    let dormant = results
        .iter()
        .find(|r| r["ruleId"] == "dormant")
        .expect("the gated finding");
    assert_eq!(
        dormant["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "gated/build.rs"
    );

    // Adopting: the suggested entries allow everything that run did (offline, no root needed
    // for the suggestion itself).
    let out = Command::new(BIN)
        .args(["tracer", "policy", "suggest"])
        .arg(&events)
        .output()
        .unwrap();
    assert!(out.status.success());
    let suggested = String::from_utf8(out.stdout).unwrap();
    assert!(
        suggested.contains("crate = \"sneaky-sys\"") && suggested.contains("reason = \"TODO"),
        "{suggested}"
    );
    let policy = sb.path("suggested.toml");
    std::fs::write(&policy, &suggested).unwrap();
    let (code, out, err) = sb.build(&["--policy", policy.to_str().unwrap(), "-A", "dormant"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("result: passed"), "{out}");
}

fn main() {
    tracer_test_support::harness::main(tracer_test_support::tests![
        root: verdicts_allowed_unexpected_dormant_defaults_and_exit_codes, an_incomplete_trace_exits_2_even_without_violations, the_scan_cache_can_be_kept_outside_the_target_dir_and_timings_are_printed, a_rule_that_matches_nothing_is_reported, suggested_policy_makes_the_same_build_pass_and_sarif_is_valid;
        plain: a_malformed_policy_is_reported_with_file_line_and_exits_2_before_building
    ]);
}
