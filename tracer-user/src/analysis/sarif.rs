//! The scan as SARIF 2.1.0, so GitHub code scanning shows findings at the source line.

use serde_json::{Value, json};

use super::{Finding, FindingKind, scan::ScanReport};

const KINDS: &[(FindingKind, &str)] = &[
    (FindingKind::NetConnect, "Connects to a network address"),
    (FindingKind::NetDns, "Resolves a host name"),
    (FindingKind::NetListen, "Opens a listening port"),
    (FindingKind::ProcessExec, "Runs a program"),
    (FindingKind::FsDelete, "Deletes files"),
    (FindingKind::FsWrite, "Writes files"),
    (FindingKind::FsRead, "Reads files"),
    (FindingKind::EnvRead, "Reads the environment"),
    (FindingKind::RawSyscall, "Makes raw system calls"),
    (FindingKind::BeforeMain, "Runs code before main"),
    (
        FindingKind::CompileInclude,
        "Embeds a file from outside the crate at compile time",
    ),
    (FindingKind::LiteralHost, "Names a host or URL"),
    (FindingKind::Unparsed, "File could not be parsed"),
];

/// `error` for build-time code and hidden payloads, `note` for mere mentions, else `warning`.
fn level(f: &Finding) -> &'static str {
    match f.kind {
        FindingKind::LiteralHost | FindingKind::Unparsed if !f.obfuscated => "note",
        FindingKind::EnvRead if !f.secret => "note",
        _ if f.obfuscated || f.secret || f.phase.runs_at_build_time() => "error",
        _ => "warning",
    }
}

/// A file URI for a crate file: relative to the workspace when inside it.
fn location(workspace: &str, manifest_dir: &str, file: &str) -> Value {
    let abs = format!("{}/{}", manifest_dir.trim_end_matches('/'), file);
    match abs.strip_prefix(&format!("{}/", workspace.trim_end_matches('/'))) {
        Some(rel) => json!({"uri": rel, "uriBaseId": "WORKSPACE"}),
        None => json!({"uri": format!("file://{abs}")}),
    }
}

/// Renders the report. `manifest_dir(id)` gives each package's directory.
pub fn render(r: &ScanReport, manifest_dir: impl Fn(&str) -> String) -> Value {
    let rules: Vec<Value> = KINDS
        .iter()
        .map(|(k, text)| {
            json!({
                "id": k.as_str(),
                "shortDescription": {"text": text},
                "helpUri": "https://github.com/cargo-tracer/cargo-tracer/blob/main/docs/SCAN.md",
            })
        })
        .collect();
    let mut results = Vec::new();
    for p in &r.packages {
        let dir = manifest_dir(&p.id);
        for f in &p.findings {
            let rule_index = KINDS.iter().position(|(k, _)| *k == f.kind).unwrap_or(0);
            let target = f
                .target
                .as_deref()
                .map(|t| format!(": {t}"))
                .unwrap_or_default();
            results.push(json!({
                "ruleId": f.kind.as_str(),
                "ruleIndex": rule_index,
                "level": level(f),
                "message": {"text": format!("{}@{} ({}) {}{target}", p.name, p.version, f.phase.as_str(), f.reason)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": location(&r.workspace_root, &dir, &f.location.file),
                        "region": {
                            "startLine": f.location.line.max(1),
                            "startColumn": f.location.column.max(1),
                            "snippet": {"text": f.code},
                        },
                    },
                }],
                "properties": {
                    "crate": p.name, "version": p.version, "phase": f.phase.as_str(),
                    "obfuscated": f.obfuscated, "secret": f.secret,
                },
            }));
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "cargo-tracer",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/cargo-tracer/cargo-tracer",
                "rules": rules,
            }},
            "originalUriBaseIds": {"WORKSPACE": {"uri": format!("file://{}/", r.workspace_root.trim_end_matches('/'))}},
            "results": results,
        }],
    })
}
