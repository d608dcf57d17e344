//! Cargo's `--message-format=json` messages, reduced to what attribution needs.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A package of the graph, as cargo identifies it. Two versions of one crate are two packages.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PackageRef {
    pub name: String,
    pub version: String,
    /// `registry+…`, `path+file://…` or `git+…`.
    pub source: String,
    /// Cargo's package id.
    pub id: String,
}

impl PackageRef {
    /// `name@version`.
    pub fn key(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

/// Parses a package id: `registry+https://…#serde@1.0.219`, `path+file:///dir/foo#0.1.0` (name
/// left out when it equals the last path segment), or the pre-1.77 `serde 1.0.219 (registry+…)`.
pub fn parse_package_id(id: &str) -> Option<PackageRef> {
    if let Some((url, frag)) = id.rsplit_once('#') {
        let (name, version) = match frag.split_once('@') {
            Some((n, v)) => (n.to_string(), v.to_string()),
            None => {
                let path = url.split(['?', '#']).next().unwrap_or(url);
                (
                    path.trim_end_matches('/').rsplit('/').next()?.to_string(),
                    frag.to_string(),
                )
            }
        };
        return Some(PackageRef {
            name,
            version,
            source: url.to_string(),
            id: id.to_string(),
        });
    }
    let mut parts = id.splitn(3, ' ');
    let name = parts.next()?.to_string();
    let version = parts.next()?.to_string();
    let source = parts
        .next()
        .map(|s| s.trim_matches(['(', ')']).to_string())
        .unwrap_or_default();
    Some(PackageRef {
        name,
        version,
        source,
        id: id.to_string(),
    })
}

/// What kind of compilation unit an artifact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitKind {
    Lib,
    ProcMacro,
    BuildScript,
    Bin,
    /// A test, bench or example built for testing (`profile.test`).
    TestBinary,
    Other,
}

/// A `compiler-artifact` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub package: PackageRef,
    pub kind: UnitKind,
    /// The target's crate name (`-` replaced by `_`, as rustc's `--crate-name`).
    pub crate_name: String,
    pub filenames: Vec<String>,
    pub executable: Option<String>,
    /// Cargo did not rebuild it (up to date from an earlier build).
    pub fresh: bool,
}

/// A `build-script-executed` message (also sent for a build script that did not need to run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildScriptOutput {
    pub package: PackageRef,
    pub out_dir: String,
}

/// The messages attribution uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Artifact(Artifact),
    BuildScript(BuildScriptOutput),
}

/// Reads one JSON message; `None` for reasons attribution does not use.
pub fn parse(v: &Value) -> Option<Message> {
    let package = parse_package_id(v.get("package_id")?.as_str()?)?;
    match v.get("reason")?.as_str()? {
        "compiler-artifact" => {
            let target = v.get("target")?;
            let kinds: Vec<&str> = target
                .get("kind")?
                .as_array()?
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let test = v
                .pointer("/profile/test")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let kind = if kinds.contains(&"custom-build") {
                UnitKind::BuildScript
            } else if kinds.contains(&"proc-macro") {
                UnitKind::ProcMacro
            } else if test {
                UnitKind::TestBinary
            } else if kinds.contains(&"bin") {
                UnitKind::Bin
            } else if kinds.iter().any(|k| k.ends_with("lib")) {
                UnitKind::Lib
            } else {
                UnitKind::Other
            };
            let strings = |key: &str| -> Vec<String> {
                v.get(key)
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default()
            };
            Some(Message::Artifact(Artifact {
                package,
                kind,
                crate_name: target.get("name")?.as_str()?.replace('-', "_"),
                filenames: strings("filenames"),
                executable: v
                    .get("executable")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                fresh: v.get("fresh").and_then(Value::as_bool).unwrap_or(false),
            }))
        }
        "build-script-executed" => Some(Message::BuildScript(BuildScriptOutput {
            package,
            out_dir: v.get("out_dir")?.as_str()?.to_string(),
        })),
        _ => None,
    }
}

/// The `-<hash>` cargo appends to a unit's file names (`libfoo-0123abcd.rlib` → `0123abcd`).
pub fn unit_hash(file: &str) -> Option<&str> {
    let base = file.rsplit('/').next()?;
    let stem = base.split('.').next()?;
    let (_, hash) = stem.rsplit_once('-')?;
    (!hash.is_empty() && hash.chars().all(|c| c.is_ascii_hexdigit())).then_some(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_ids_in_every_form() {
        let p =
            parse_package_id("registry+https://github.com/rust-lang/crates.io-index#serde@1.0.219")
                .unwrap();
        assert_eq!((p.name.as_str(), p.version.as_str()), ("serde", "1.0.219"));
        assert_eq!(
            p.source,
            "registry+https://github.com/rust-lang/crates.io-index"
        );
        let p = parse_package_id("path+file:///w/demo/crates/plain-util#2.0.0").unwrap();
        assert_eq!(
            (p.name.as_str(), p.version.as_str()),
            ("plain-util", "2.0.0")
        );
        let p = parse_package_id("path+file:///w/demo/app#demo-app@0.1.0").unwrap();
        assert_eq!(p.key(), "demo-app@0.1.0");
        let p = parse_package_id("git+https://h/x.git?branch=main#abc@0.3.0").unwrap();
        assert_eq!(p.key(), "abc@0.3.0");
        let p = parse_package_id(
            "serde 1.0.219 (registry+https://github.com/rust-lang/crates.io-index)",
        )
        .unwrap();
        assert_eq!(p.key(), "serde@1.0.219");
        assert!(p.source.starts_with("registry+"));
    }

    #[test]
    fn artifacts_and_build_script_outputs() {
        let v: Value = serde_json::from_str(r#"{"reason":"compiler-artifact","package_id":"path+file:///w/t#0.3.1","target":{"kind":["custom-build"],"name":"build-script-build"},"profile":{"test":false},"filenames":["/t/debug/build/t-24ebe067e63c0c71/build-script-build"],"executable":null,"fresh":true}"#).unwrap();
        let Some(Message::Artifact(a)) = parse(&v) else {
            panic!()
        };
        assert_eq!(a.kind, UnitKind::BuildScript);
        assert_eq!(a.crate_name, "build_script_build");
        assert!(a.fresh);
        let v: Value = serde_json::from_str(r#"{"reason":"compiler-artifact","package_id":"path+file:///w/app#demo-app@0.1.0","target":{"kind":["bin"],"name":"demo-app"},"profile":{"test":true},"filenames":["/t/debug/deps/demo_app-e152aafa70704885"],"executable":"/t/debug/deps/demo_app-e152aafa70704885","fresh":false}"#).unwrap();
        let Some(Message::Artifact(a)) = parse(&v) else {
            panic!()
        };
        assert_eq!(
            (a.kind, a.crate_name.as_str()),
            (UnitKind::TestBinary, "demo_app")
        );
        let v: Value = serde_json::from_str(r#"{"reason":"build-script-executed","package_id":"path+file:///w/t#0.3.1","out_dir":"/t/debug/build/t-f415/out"}"#).unwrap();
        assert!(
            matches!(parse(&v), Some(Message::BuildScript(b)) if b.out_dir == "/t/debug/build/t-f415/out")
        );
        let v: Value =
            serde_json::from_str(r#"{"reason":"build-finished","success":true}"#).unwrap();
        assert_eq!(parse(&v), None);
    }

    #[test]
    fn unit_hashes() {
        assert_eq!(
            unit_hash("/t/deps/libquick_derive-2f3f781a0710025e.so"),
            Some("2f3f781a0710025e")
        );
        assert_eq!(
            unit_hash("/t/deps/libplain_util-aa38266d2f546a46.rmeta"),
            Some("aa38266d2f546a46")
        );
        assert_eq!(unit_hash("/t/debug/libplain_util.rlib"), None);
        assert_eq!(
            unit_hash("/t/deps/demo_app-e152aafa70704885"),
            Some("e152aafa70704885")
        );
    }
}
