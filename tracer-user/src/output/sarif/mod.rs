//! SARIF 2.1.0 for code scanning: one typed model for the scan's findings and the verdict's
//! results, with the rules table made from the kinds of things reported (each with its id,
//! description and default level), and `partialFingerprints` so code scanning can follow an
//! alert across runs as lines move and versions change.

pub mod scan;
pub mod verdict;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::Level;

/// Where the documentation of the rules is.
const HELP_URI: &str = "https://github.com/cargo-tracer/cargo-tracer/blob/main/docs/";
/// The fingerprint key; bumped if what goes into a fingerprint changes.
const FINGERPRINT: &str = "cargoTracer/v1";

#[derive(Debug, Serialize)]
pub struct Log {
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    pub version: &'static str,
    pub runs: Vec<Run>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub tool: Tool,
    pub original_uri_base_ids: BTreeMap<&'static str, Uri>,
    pub results: Vec<SarifResult>,
    /// What judged the run: the policy files and the events file (a property bag).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<RunProperties>,
}

/// Where a verdict came from.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunProperties {
    pub policy_sources: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events_file: Option<super::EventsFile>,
}

#[derive(Debug, Serialize)]
pub struct Uri {
    pub uri: String,
}

#[derive(Debug, Serialize)]
pub struct Tool {
    pub driver: Driver,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Driver {
    pub name: &'static str,
    pub version: &'static str,
    pub information_uri: &'static str,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub id: &'static str,
    pub short_description: Text,
    pub help_uri: String,
    pub default_configuration: Configuration,
}

#[derive(Debug, Serialize)]
pub struct Configuration {
    pub level: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Text {
    pub text: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifResult {
    pub rule_id: &'static str,
    pub rule_index: usize,
    pub level: &'static str,
    pub message: Text,
    pub locations: Vec<Location>,
    pub partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<Properties>,
}

/// What a result is about, for filtering in code scanning.
#[derive(Debug, Serialize)]
pub struct Properties {
    #[serde(rename = "crate")]
    pub krate: String,
    pub version: String,
    pub phase: &'static str,
    pub obfuscated: bool,
    pub secret: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub physical_location: PhysicalLocation,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalLocation {
    pub artifact_location: ArtifactLocation,
    pub region: Region,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactLocation {
    pub uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri_base_id: Option<&'static str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    pub start_line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<Text>,
}

/// Something a rule can be made of: the things a run reports.
pub trait Reportable: Copy + PartialEq {
    fn id(self) -> &'static str;
    fn description(self) -> &'static str;
    fn default_level(self) -> Level;
    /// The documentation page that explains it.
    fn doc(self) -> &'static str;
}

/// SARIF's name for a level.
pub fn level(l: Level) -> &'static str {
    match l {
        Level::Deny => "error",
        Level::Warn => "warning",
        Level::Allow => "note",
    }
}

/// The rules table of `kinds`, in order; results refer to it by index.
pub fn rules<R: Reportable>(kinds: &[R]) -> Vec<Rule> {
    kinds
        .iter()
        .map(|k| Rule {
            id: k.id(),
            short_description: Text {
                text: k.description().into(),
            },
            help_uri: format!("{HELP_URI}{}", k.doc()),
            default_configuration: Configuration {
                level: level(k.default_level()),
            },
        })
        .collect()
}

/// `path` as the path of a URI: every byte but unreserved characters and `/` percent-encoded
/// (a space, `#` or `?` in a directory name would otherwise end the path).
pub fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A location in a file of a crate (or, with no crate, of the workspace): relative to the
/// workspace (`uriBaseId` WORKSPACE) when inside it, an absolute `file://` URI otherwise.
pub fn location(
    workspace: &str,
    crate_dir: Option<&str>,
    file: &str,
    line: usize,
) -> PhysicalLocation {
    let abs = if file.starts_with('/') {
        file.to_string()
    } else {
        let dir = crate_dir.unwrap_or(workspace);
        format!("{}/{}", dir.trim_end_matches('/'), file)
    };
    let inside = abs.strip_prefix(&format!("{}/", workspace.trim_end_matches('/')));
    let artifact_location = match inside {
        Some(rel) => ArtifactLocation {
            uri: uri_path(rel),
            uri_base_id: Some("WORKSPACE"),
        },
        None => ArtifactLocation {
            uri: format!("file://{}", uri_path(&abs)),
            uri_base_id: None,
        },
    };
    PhysicalLocation {
        artifact_location,
        region: Region {
            start_line: line.max(1),
            start_column: None,
            snippet: None,
        },
    }
}

/// A stable fingerprint of `parts` (FNV-1a, 64 bits: stable across Rust versions and
/// machines, which `std`'s hasher does not promise).
pub fn fingerprint(parts: &[&str]) -> BTreeMap<&'static str, String> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    [(FINGERPRINT, format!("{h:016x}"))].into()
}

/// A log of one run.
pub fn log(workspace: &str, rules: Vec<Rule>, results: Vec<SarifResult>) -> Log {
    Log {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "cargo-tracer",
                    version: env!("CARGO_PKG_VERSION"),
                    information_uri: "https://github.com/cargo-tracer/cargo-tracer",
                    rules,
                },
            },
            original_uri_base_ids: [(
                "WORKSPACE",
                Uri {
                    uri: format!("file://{}/", uri_path(workspace.trim_end_matches('/'))),
                },
            )]
            .into(),
            results,
            properties: None,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable_and_tell_parts_apart() {
        assert_eq!(fingerprint(&["a", "b"]), fingerprint(&["a", "b"]));
        assert_ne!(fingerprint(&["ab", ""]), fingerprint(&["a", "b"]));
        // Pinned: a change here moves every alert in code scanning.
        assert_eq!(fingerprint(&["evil"])[FINGERPRINT], "359888008ed2b805");
        assert_eq!(uri_path("/tmp/my proj#1/ü"), "/tmp/my%20proj%231/%C3%BC");
    }
}
