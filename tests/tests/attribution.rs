//! A traced cargo build of the attribution fixture: every behaviour lands on the right
//! crate@version and phase. Real probes, real cargo, offline; needs root.

use std::net::TcpListener;

use serde_json::Value;
use tracer_tests::{DnsStub, Sandbox, behavior, krate, phase, traced_build, with_private_resolver};

fn targets(k: &Value) -> Vec<String> {
    k["behaviors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            format!(
                "{} {}",
                b["kind"].as_str().unwrap(),
                b["target"].as_str().unwrap()
            )
        })
        .collect()
}

fn every_behaviour_is_attributed_to_its_crate_and_phase_and_a_cached_build_says_so() {
    let sb = Sandbox::new("attribution");
    sb.home_files(&[
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
    let conf = stub.resolv_conf(&sb.dir);
    let env = [
        ("TRACER_FIXTURE_PORT", port.as_str()),
        ("TRACER_FIXTURE_DNS_STUB", "1"),
    ];
    // The stub answers: the build runs in a mount namespace of its own, set up before tracing.
    let build = || with_private_resolver(&conf, || traced_build(&sb, &[], "build", &env));
    let (summary, r) = build();
    assert_eq!(
        summary.exit_code,
        Some(0),
        "{}",
        tracer::output::human::summary::render(&summary)
    );
    assert_eq!(r["complete"], true);

    // The build script of `evil`, and the same behaviour one level down in `evil-inner`.
    for (name, tag) in [("evil", "evil"), ("evil-inner", "inner")] {
        let k = krate(&r, name, "0.1.0");
        assert_eq!(phase(k, "build-script")["ran"], true);
        let read = behavior(k, "fs.read", &format!("$HOME/.{tag}-secret"));
        assert_eq!(
            (read["phase"].as_str(), read["succeeded"].as_u64()),
            (Some("build-script"), Some(1))
        );
        behavior(k, "fs.write", &format!("$HOME/{tag}-wrote.txt"));
        behavior(k, "fs.delete", &format!("$HOME/{tag}-delete-me"));
        // `sh` is whatever program the kernel ran for it (`dash` here), run as `sh`.
        let sh = k["behaviors"].as_array().unwrap().iter().find(|b| {
            b["kind"] == "process.exec"
                && [&b["target"], &b["run_as"]]
                    .iter()
                    .any(|t| t.as_str().is_some_and(|t| t.ends_with("/sh")))
        });
        let sh = sh.unwrap_or_else(|| panic!("{name}: no sh exec: {:?}", targets(k)));
        assert!(
            sh["example_chain"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["name"] == "build-script-build")
        );
        let c = behavior(k, "net.connect", &format!("127.0.0.1:{port}"));
        assert_eq!(c["succeeded"], 1);
        behavior(k, "net.dns", &format!("{tag}-fixture.invalid"));
        // Nothing of one crate is reported under the other.
        let other = if tag == "evil" { "inner" } else { "evil" };
        assert!(
            targets(k).iter().all(|t| !t.contains(&format!("{other}-"))),
            "{name}: {:?}",
            targets(k)
        );
    }

    // The proc macro, running inside rustc while `fixture-app` compiles.
    let m = krate(&r, "fixture-macro", "0.2.0");
    let pm = phase(m, "proc-macro");
    assert_eq!(
        pm["expanded_in"],
        serde_json::json!(["fixture-app@0.1.0"]),
        "{pm:#}"
    );
    let read = behavior(m, "fs.read", "$HOME/macro-input.txt");
    assert_eq!(
        (read["phase"].as_str(), read["within"].as_str()),
        (Some("proc-macro"), Some("fixture-app@0.1.0"))
    );
    // From a thread the macro started: still the macro's.
    let threaded = behavior(m, "fs.read", "$HOME/macro-thread.txt");
    assert_eq!(threaded["phase"], "proc-macro", "{threaded:#}");
    let git =
        m["behaviors"].as_array().unwrap().iter().find(|b| {
            b["kind"] == "process.exec" && b["target"].as_str().unwrap().ends_with("/git")
        });
    assert!(git.is_some(), "the macro ran git: {:?}", targets(m));
    let app = krate(&r, "fixture-app", "0.1.0");
    assert!(
        app["behaviors"].as_array().unwrap().is_empty(),
        "the macro's actions are not the app's: {:?}",
        targets(app)
    );

    // The double-forked grandchild acted after its build script exited, and is still `daemon`'s.
    let d = krate(&r, "daemon", "0.1.0");
    let w = behavior(d, "fs.write", "$HOME/daemon-was-here");
    assert_eq!(w["phase"], "build-script");
    assert!(w["example_chain"].as_array().unwrap().len() >= 3, "{w:#}");

    // Two versions of one crate stay distinct.
    behavior(krate(&r, "dup", "1.0.0"), "fs.write", "$HOME/dup-1.0.0");
    behavior(krate(&r, "dup", "2.0.0"), "fs.write", "$HOME/dup-2.0.0");
    assert!(
        targets(krate(&r, "dup", "1.0.0"))
            .iter()
            .all(|t| !t.contains("dup-2"))
    );

    // The benign build script ran and did nothing notable.
    let b = krate(&r, "benign", "0.1.0");
    assert_eq!(phase(b, "build-script")["ran"], true);
    assert!(
        b["behaviors"].as_array().unwrap().is_empty(),
        "benign: {:?}",
        targets(b)
    );
    assert!(
        b["routine"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["phase"] == "build-script"
                && r["kind"] == "fs.write"
                && r["count"].as_u64() >= Some(1)),
        "its OUT_DIR write is routine"
    );
    assert!(
        r["unattributed"].as_array().unwrap().is_empty(),
        "{:#}",
        r["unattributed"]
    );

    // A second build is cached: the build scripts did not run, and the report says so.
    let (_, r2) = build();
    for (name, version) in [("evil", "0.1.0"), ("benign", "0.1.0"), ("dup", "1.0.0")] {
        let k = krate(&r2, name, version);
        let bs = phase(k, "build-script");
        assert_eq!(bs["ran"], false);
        assert!(bs["status"].as_str().unwrap().contains("did not run"));
        assert!(
            k["behaviors"].as_array().unwrap().is_empty(),
            "{name}: {:?}",
            targets(k)
        );
    }
    drop(listener);
}

fn main() {
    tracer_test_support::harness::main(
        tracer_test_support::tests![root: every_behaviour_is_attributed_to_its_crate_and_phase_and_a_cached_build_says_so],
    );
}
