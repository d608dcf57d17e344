//! Warnings about a policy that loads but will not do what its author meant: entries whose
//! reason is still the `TODO` that `policy suggest` wrote, and entries that can never match in
//! this workspace (a crate not in the graph, a version requirement no version meets, a phase the
//! crate does not have). Errors stop loading (`config`); these only warn.

use super::config::Rule;
use crate::{
    cargo::graph::Graph,
    model::{Phase, RuleRef, TargetKind},
};

/// Something to fix in an entry that loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Kebab-case (`todo-reason`, `no-such-crate`…).
    pub code: &'static str,
    pub message: String,
    /// The entry.
    pub rule: RuleRef,
    pub help: Option<String>,
}

impl Warning {
    /// For people, like a policy error but as a warning, at the entry.
    pub fn diagnostic(&self) -> super::diag::Diagnostic {
        super::diag::Diagnostic::new(self.code, self.rule.span, self.message.clone())
            .label("this entry")
            .help(self.help.clone())
            .warning()
    }
}

fn warning(code: &'static str, r: &Rule, message: String, help: Option<String>) -> Warning {
    Warning {
        code,
        message,
        rule: r.origin.clone(),
        help,
    }
}

/// The warnings of the project's rules (shipped defaults are not the project's to fix). Without
/// a graph only the reasons are checked.
pub fn lint(rules: &[Rule], graph: Option<&Graph>) -> Vec<Warning> {
    let mut out = Vec::new();
    for r in rules.iter().filter(|r| !r.origin.is_default()) {
        let reason = r.origin.reason.trim_start();
        if reason.len() >= 4 && reason[..4].eq_ignore_ascii_case("todo") {
            out.push(warning(
                "todo-reason",
                r,
                format!("the reason of this entry for `{}` is still a TODO", r.krate),
                Some("say why the crate needs this: reviewers read it when it changes".into()),
            ));
        }
        let Some(g) = graph else { continue };
        let named: Vec<_> = g.packages.iter().filter(|p| p.name == r.krate).collect();
        if named.is_empty() {
            out.push(warning(
                "no-such-crate",
                r,
                format!(
                    "no package named `{}` is in the dependency graph: this entry matches nothing",
                    r.krate
                ),
                crate::model::names::did_you_mean(
                    &r.krate,
                    &g.packages
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>(),
                )
                .map(|s| format!("did you mean `{s}`?")),
            ));
            continue;
        }
        if let Some(req) = &r.version {
            let versions: Vec<&str> = named.iter().map(|p| p.version.as_str()).collect();
            let any = versions
                .iter()
                .any(|v| semver::Version::parse(v).is_ok_and(|v| req.matches(&v)));
            if !any {
                out.push(warning(
                    "version-matches-nothing",
                    r,
                    format!(
                        "`{}` is at {} in the graph; version `{req}` matches none of them",
                        r.krate,
                        versions.join(", ")
                    ),
                    None,
                ));
            }
        }
        // A `dependents` rule covers other crates' build scripts: its crate needs none.
        if r.dependents {
            continue;
        }
        for (phase, target) in [
            (Phase::BuildScript, TargetKind::BuildScript),
            (Phase::ProcMacro, TargetKind::ProcMacro),
        ] {
            if r.phases.contains(&phase) && !named.iter().any(|p| p.has(target)) {
                out.push(warning(
                    "phase-never-runs",
                    r,
                    format!(
                        "`{}` has no {phase} target, so the `{phase}` phase of this entry never runs",
                        r.krate
                    ),
                    None,
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::{collections::BTreeMap, path::PathBuf};

    use super::*;
    use crate::{
        model::graph::{Crate, Target},
        policy::config,
    };

    fn graph() -> Graph {
        let krate = |name: &str, kinds: &[TargetKind]| Crate {
            id: format!("{name} 1.2.0"),
            name: name.into(),
            version: "1.2.0".into(),
            source: "registry+https://github.com/rust-lang/crates.io-index".into(),
            manifest_dir: PathBuf::from("/src").join(name),
            targets: kinds
                .iter()
                .map(|&kind| Target {
                    name: name.into(),
                    kind,
                    src_path: PathBuf::from("/src/lib.rs"),
                })
                .collect(),
        };
        Graph {
            workspace_root: PathBuf::from("/w"),
            target_dir: PathBuf::from("/w/target"),
            packages: vec![
                krate("serde", &[TargetKind::Library, TargetKind::BuildScript]),
                krate("libc", &[TargetKind::Library]),
            ],
            deps: BTreeMap::new(),
        }
    }

    fn codes(policy: &str, g: Option<&Graph>) -> Vec<&'static str> {
        let p = config::parse(policy, "tracer.toml", &[]).unwrap().unwrap();
        lint(&p.rules, g).into_iter().map(|w| w.code).collect()
    }

    #[test]
    fn todo_reasons_and_entries_that_cannot_match_are_warned_about() {
        let g = graph();
        let policy = r#"
[[allow]]
crate = "serde"
reason = "TODO: why serde needs this"
read = ["/etc/hosts"]

[[allow]]
crate = "sered"
reason = "typo"
read = ["/etc/hosts"]

[[allow]]
crate = "serde"
version = "^2"
reason = "old entry"
read = ["/etc/hosts"]

[[allow]]
crate = "libc"
phase = ["build-script"]
reason = "libc has no build script here"
read = ["/etc/hosts"]

[[allow]]
crate = "serde"
phase = ["build-script"]
reason = "fine"
read = ["/etc/hosts"]
"#;
        assert_eq!(
            codes(policy, Some(&g)),
            [
                "todo-reason",
                "no-such-crate",
                "version-matches-nothing",
                "phase-never-runs"
            ]
        );
        // Without a graph, only what the file itself says.
        assert_eq!(codes(policy, None), ["todo-reason"]);
        let p = config::parse(policy, "tracer.toml", &[]).unwrap().unwrap();
        let w = &lint(&p.rules, Some(&g))[1];
        assert_eq!(w.help.as_deref(), Some("did you mean `serde`?"));
    }
}
