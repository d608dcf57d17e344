//! The static scan as SARIF: each finding at its source line, so code scanning shows it there.

use super::{
    Log, Properties, Region, Reportable, SarifResult, Text, fingerprint, location, log, rules,
};
use crate::{
    analysis::{Finding, scan::ScanReport},
    model::{FindingKind, Level},
};

impl Reportable for FindingKind {
    fn id(self) -> &'static str {
        self.as_str()
    }
    fn description(self) -> &'static str {
        FindingKind::description(self)
    }
    fn default_level(self) -> Level {
        match self {
            Self::LiteralHost | Self::Unparsed | Self::EnvRead => Level::Allow,
            _ => Level::Warn,
        }
    }
    fn doc(self) -> &'static str {
        "SCAN.md"
    }
}

/// `error` for build-time code and hidden payloads, `note` for mere mentions, else `warning`.
fn level(f: &Finding) -> Level {
    match f.kind {
        FindingKind::LiteralHost | FindingKind::Unparsed if !f.obfuscated => Level::Allow,
        FindingKind::EnvRead if !f.secret => Level::Allow,
        _ if f.obfuscated || f.secret || f.phase.runs_at_build_time() => Level::Deny,
        _ => Level::Warn,
    }
}

/// Renders the scan. `crate_dir(id)` gives each package's directory.
pub fn render(r: &ScanReport, crate_dir: impl Fn(&str) -> String) -> Log {
    let kinds = FindingKind::all();
    let mut results = Vec::new();
    for p in &r.packages {
        let dir = crate_dir(&p.id);
        for f in &p.findings {
            let target = f
                .target
                .as_deref()
                .map(|t| format!(": {t}"))
                .unwrap_or_default();
            let mut at = location(
                &r.workspace_root,
                Some(&dir),
                &f.location.file,
                f.location.line,
            );
            at.region = Region {
                start_line: f.location.line.max(1),
                start_column: Some(f.location.column.max(1)),
                snippet: Some(Text {
                    text: f.code.clone(),
                }),
            };
            results.push(SarifResult {
                rule_id: f.kind.as_str(),
                rule_index: kinds.iter().position(|k| *k == f.kind).unwrap_or(0),
                level: super::level(level(f)),
                message: Text {
                    text: format!(
                        "{}@{} ({}) {}{target}",
                        p.name, p.version, f.phase, f.reason
                    ),
                },
                locations: vec![super::Location {
                    physical_location: at,
                }],
                // Not the line: an alert stays the same alert when code above it moves.
                partial_fingerprints: fingerprint(&[
                    &p.name,
                    &p.version,
                    f.kind.as_str(),
                    f.phase.as_str(),
                    &f.location.file,
                    &f.code,
                ]),
                properties: Some(Properties {
                    krate: p.name.clone(),
                    version: p.version.clone(),
                    phase: f.phase.as_str(),
                    obfuscated: f.obfuscated,
                    secret: f.secret,
                }),
            });
        }
    }
    log(&r.workspace_root, rules(&kinds), results)
}
