//! `cargo tracer scan` on the scan fixture: every category, alias and glob imports, every
//! obfuscation trick, a file that does not parse, two versions of one crate, the cache, and
//! SARIF valid against the 2.1.0 schema. No root needed.

use std::{path::Path, process::Command};

use serde_json::Value;
use tracer_test_support::run_ok;

const BIN: &str = env!("CARGO_BIN_EXE_cargo-tracer");

/// A private copy of the fixture (its scan cache lands in the copy's target dir).
fn fixture() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    tracer_test_support::sandbox::copy_dir(
        &tracer_test_support::sandbox::fixture("scan"),
        d.path(),
    );
    d
}

fn scan(dir: &Path, format: &str) -> Value {
    let out = run_ok(
        Command::new(BIN)
            .args([
                "tracer",
                "scan",
                "--offline",
                "--format",
                format,
                "--manifest-path",
            ])
            .arg(dir.join("Cargo.toml")),
    );
    serde_json::from_str(&out.stdout).unwrap()
}

fn package<'a>(r: &'a Value, name: &str, version: &str) -> &'a Value {
    r["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name && p["version"] == version)
        .unwrap()
}

fn finding<'a>(p: &'a Value, kind: &str, pred: impl Fn(&Value) -> bool) -> &'a Value {
    p["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == kind && pred(f))
        .unwrap_or_else(|| panic!("{} has no such {kind}: {:#}", p["name"], p["findings"]))
}

#[test]
fn finds_every_category_and_trick_with_file_line_and_phase() {
    let d = fixture();
    let r = scan(d.path(), "json");
    assert_eq!(r["schema_version"], 1);
    let s = package(&r, "sneaky", "0.3.0");
    fn t(v: &str) -> impl Fn(&Value) -> bool + '_ {
        move |f| f["target"] == v
    }
    // Through aliases (`use std::fs as f`), globs (`use std::net::*`) and renames.
    let del = finding(s, "fs.delete", t("/tmp/evidence"));
    assert_eq!(
        (
            del["location"]["file"].as_str(),
            del["location"]["line"].as_u64()
        ),
        (Some("build.rs"), Some(12))
    );
    assert_eq!(del["phase"], "build-script");
    assert_eq!(del["code"], "let _ = f::remove_dir_all(\"/tmp/evidence\");");
    finding(s, "net.connect", t("10.13.37.1:4444"));
    finding(s, "process.exec", t("sh"));
    finding(s, "net.connect", t("http://c2.example.net/collect"));
    let secret = finding(s, "env.read", t("AWS_SECRET_ACCESS_KEY"));
    assert_eq!(secret["secret"], true);
    finding(s, "process.exec", |f| {
        f["reason"].as_str().unwrap().contains("SYS_execve")
    });
    // A module of build.rs is build-script code too.
    let listen = finding(s, "net.listen", t("0.0.0.0:5353"));
    assert_eq!(
        (
            listen["location"]["file"].as_str(),
            listen["phase"].as_str()
        ),
        (Some("helpers.rs"), Some("build-script"))
    );
    // Compile-time capture and code before main, in the library.
    let inc = finding(s, "compile.include", t("/etc/ssh/ssh_host_ed25519_key"));
    assert_eq!(inc["phase"], "library");
    finding(s, "code.before-main", |_| true);
    finding(s, "env.read", |f| {
        f["target"] == "HOME" && f["reason"].as_str().unwrap().contains("compile time")
    });
    // Each decoding trick, flagged obfuscated.
    for (host, how) in [
        ("https://exfil.example.com/up", "base64"),
        ("exfil2.example.org", "hex"),
        ("evil.example.com", "XOR"),
        ("drop.example.io", "joined"),
    ] {
        let f = finding(s, "literal.host", t(host));
        assert_eq!(f["obfuscated"], true, "{host}");
        assert!(
            f["reason"].as_str().unwrap().contains(how),
            "{host}: {}",
            f["reason"]
        );
    }
    let hosts: Vec<&str> = s["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert!(
        hosts.contains(&"http://c2.example.net/collect") && hosts.contains(&"evil.example.com"),
        "{hosts:?}"
    );

    // The file that does not parse is a finding; the crate without dangerous code has none.
    let b = package(&r, "broken", "0.1.0");
    assert_eq!(b["findings"].as_array().unwrap().len(), 1);
    finding(b, "unparsed", |f| f["location"]["file"] == "src/lib.rs");
    assert!(
        package(&r, "quiet", "1.0.0")["findings"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Two versions of one crate keep their own findings.
    finding(package(&r, "twin", "1.0.0"), "fs.write", t("/tmp/twin-one"));
    finding(package(&r, "twin", "2.0.0"), "process.exec", t("twin-two"));
    assert_eq!(
        package(&r, "twin", "1.0.0")["findings"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Not built: the artifacts are listed as missing, not silently skipped.
    let missing = r["artifacts"]["missing"].as_array().unwrap();
    assert!(
        missing
            .iter()
            .any(|m| m["package"] == "sneaky" && m["artifact"] == "build-script")
    );

    // Scanning again reuses every unchanged crate's result.
    let again = scan(d.path(), "json");
    assert_eq!(again["stats"]["cached"], again["stats"]["crates"]);
    assert_eq!(again["packages"], {
        let mut p = r["packages"].clone();
        for x in p.as_array_mut().unwrap() {
            x["cached"] = true.into();
        }
        p
    });
    // A changed file is scanned again.
    std::fs::write(
        d.path().join("quiet/src/lib.rs"),
        "pub fn f() { let _ = std::fs::remove_file(\"q\"); }",
    )
    .unwrap();
    let third = scan(d.path(), "json");
    assert_eq!(
        third["stats"]["cached"].as_u64().unwrap(),
        third["stats"]["crates"].as_u64().unwrap() - 1
    );
    finding(package(&third, "quiet", "1.0.0"), "fs.delete", t("q"));
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0_with_source_locations() {
    let d = fixture();
    let sarif = scan(d.path(), "sarif");
    let Some(errors) = tracer_test_support::sarif::errors(&sarif) else {
        return;
    };
    assert!(errors.is_empty(), "{errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let del = results
        .iter()
        .find(|r| {
            r["ruleId"] == "fs.delete" && r["message"]["text"].as_str().unwrap().contains("sneaky")
        })
        .unwrap();
    let loc = &del["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "sneaky/build.rs");
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "WORKSPACE");
    assert_eq!(loc["region"]["startLine"], 12);
    assert_eq!(del["level"], "error", "build-time code");
}

#[test]
fn compiled_build_scripts_and_proc_macros_are_read_and_attributed() {
    // Build the attribution fixture (offline, fake HOME: its build scripts write there), then
    // scan: the artifacts are found and what they can do is listed.
    let sb = tracer_test_support::Sandbox::new("attribution");
    run_ok(
        sb.command("cargo")
            .args(["test", "--no-run", "--offline", "--manifest-path"])
            .arg(sb.manifest())
            .env_remove("TRACER_FIXTURE_PORT")
            .env_remove("TRACER_FIXTURE_DNS_STUB"),
    );
    let r = scan(&sb.workspace, "json");
    let arts = r["artifacts"]["scanned"].as_array().unwrap();
    let of = |pkg: &str, artifact: &str| {
        arts.iter()
            .find(|a| a["package"] == pkg && a["artifact"] == artifact)
            .unwrap_or_else(|| panic!("no {artifact} of {pkg}: {:#}", r["artifacts"]))
    };
    let evil = of("evil", "build-script");
    let kinds: Vec<&str> = evil["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"net.connect")
            && kinds.contains(&"process.exec")
            && kinds.contains(&"fs.delete"),
        "{kinds:?}"
    );
    let benign = of("benign", "build-script");
    assert!(
        !benign["functions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "net.connect")
    );
    of("fixture-macro", "proc-macro");
    of("fixture-app", "test");
    assert!(
        r["artifacts"]["missing"].as_array().unwrap().is_empty(),
        "{:#}",
        r["artifacts"]["missing"]
    );
}
