//! The verdict as SARIF: one result per behaviour or finding that is not allowed, at the static
//! finding's line when one of the crate's own explains it, else at the crate's manifest.

use super::{Log, Reportable, SarifResult, Text, fingerprint, location, log, rules};
use crate::{
    model::{Code, Level, PackageKey},
    output::rows::{self, Row},
    policy::eval::Verdict,
};

impl Reportable for Code {
    fn id(self) -> &'static str {
        self.as_str()
    }
    fn description(self) -> &'static str {
        Code::description(self)
    }
    fn default_level(self) -> Level {
        Code::default_level(self)
    }
    fn doc(self) -> &'static str {
        "POLICY.md"
    }
}

/// Renders the verdict. `crate_dir(key)` gives each package's directory.
pub fn render(
    v: &Verdict,
    workspace: &str,
    crate_dir: impl Fn(&PackageKey) -> Option<String>,
) -> Log {
    let codes = Code::ALL;
    let mut results = Vec::new();
    for row in rows::not_allowed(v) {
        let code = row.code();
        let rule_index = codes.iter().position(|c| *c == code).unwrap_or(0);
        let key = row.package();
        let message = row.message();
        let (file, line, print) = match &row {
            Row::Behavior(b) => {
                let at = b
                    .explained_by
                    .as_ref()
                    .filter(|f| !f.in_dependency)
                    .map(|f| (f.file.clone(), f.line));
                let (file, line) = at.unwrap_or(("Cargo.toml".into(), 1));
                let bh = &b.behavior;
                let print =
                    fingerprint(&[&b.name, bh.phase.as_str(), bh.kind.as_str(), &bh.target]);
                (file, line, print)
            }
            Row::Finding(f) => {
                let fi = &f.finding;
                let print = fingerprint(&[
                    &f.name,
                    fi.phase.as_str(),
                    fi.kind.as_str(),
                    &fi.location.file,
                    &fi.code,
                ]);
                (fi.location.file.clone(), fi.location.line, print)
            }
        };
        let dir = crate_dir(&key);
        results.push(SarifResult {
            rule_id: code.as_str(),
            rule_index,
            level: super::level(row.level()),
            message: Text { text: message },
            locations: vec![super::Location {
                physical_location: location(workspace, dir.as_deref(), &file, line),
            }],
            partial_fingerprints: print,
            properties: None,
        });
    }
    // What is wrong with the policy or the trace rather than with a crate.
    for u in &v.unused_rules {
        let code = Code::UnusedRule;
        results.push(SarifResult {
            rule_id: code.as_str(),
            rule_index: codes.iter().position(|c| *c == code).unwrap_or(0),
            level: super::level(v.unused_rule_level),
            message: Text {
                text: format!(
                    "allow entry for {} matched nothing in this build: {}",
                    u.krate, u.reason
                ),
            },
            locations: vec![super::Location {
                physical_location: location(workspace, None, &u.file, u.line),
            }],
            partial_fingerprints: fingerprint(&[&u.krate, &u.reason, &u.file]),
            properties: None,
        });
    }
    for i in &v.incomplete {
        let code = Code::Incomplete;
        let text = rows::incomplete(i, str::to_string);
        results.push(SarifResult {
            rule_id: code.as_str(),
            rule_index: codes.iter().position(|c| *c == code).unwrap_or(0),
            level: super::level(v.incomplete_level),
            message: Text { text: text.clone() },
            locations: vec![super::Location {
                physical_location: location(workspace, None, "Cargo.toml", 1),
            }],
            partial_fingerprints: fingerprint(&[&text]),
            properties: None,
        });
    }
    log(workspace, rules(codes), results)
}
