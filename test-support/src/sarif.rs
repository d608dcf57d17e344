//! Validation of SARIF logs against the 2.1.0 schema (fetched by scripts/setup.sh).

use serde_json::Value;

/// The schema's problems with `log`. `None` when the schema is not there outside CI (the caller
/// skips); in CI its absence is a failure.
pub fn errors(log: &Value) -> Option<Vec<String>> {
    let path = crate::repo().join("target/test-assets/sarif-2.1.0-rtm.5.json");
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
    let mut schema: Value = serde_json::from_slice(&bytes).expect("the schema is JSON");
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
