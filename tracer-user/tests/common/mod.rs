//! Helpers shared by the CLI tests.
#![allow(dead_code, reason = "each test file uses a different subset")]

use std::path::Path;

use serde_json::Value;

/// True if the probes can be loaded; in CI a missing privilege is a failure, elsewhere a skip.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run these tests as root"
        );
        eprintln!("skipped: needs root to load the probes");
    }
    root
}

/// Copies a directory tree (without `target/`).
pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            if e.file_name() != "target" {
                copy_dir(&e.path(), &dst.join(e.file_name()));
            }
        } else {
            std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
    }
}

/// Copies `tests/fixtures/<name>` of the workspace into `dst`.
pub fn copy_fixture(name: &str, dst: &Path) {
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures")
            .join(name),
        dst,
    );
}

/// Validates `log` against the SARIF 2.1.0 schema (fetched by scripts/setup.sh). `None` when the
/// schema is not there outside CI (the caller skips); in CI its absence is a failure.
pub fn sarif_errors(log: &Value) -> Option<Vec<String>> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-assets/sarif-2.1.0-rtm.5.json");
    let Ok(bytes) = std::fs::read(&path) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "scripts/setup.sh puts the SARIF schema at {}",
            path.display()
        );
        eprintln!(
            "skipped: no SARIF schema at {} (run scripts/setup.sh)",
            path.display()
        );
        return None;
    };
    let mut schema: Value = serde_json::from_slice(&bytes).unwrap();
    // Erratum of the published rtm.5 schema: a stray `]` in the `language` patterns, which a
    // strict regex engine refuses. The intended pattern (as in later schema revisions):
    for def in ["run", "toolComponent"] {
        schema["definitions"][def]["properties"]["language"]["pattern"] =
            "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$".into();
    }
    let validator = jsonschema::draft4::new(&schema).expect("the SARIF schema compiles");
    // The validator does reject a malformed log, so an empty list means something.
    assert!(!validator.is_valid(&serde_json::json!({"version": "2.1.0", "runs": [{"tool": {}}]})));
    Some(
        validator
            .iter_errors(log)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect(),
    )
}
