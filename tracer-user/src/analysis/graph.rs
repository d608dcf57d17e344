//! The resolved dependency graph from `cargo metadata`: every package with its targets, each
//! target's phase and root file.

use std::{
    collections::{BTreeSet, HashMap},
    path::{Path, PathBuf},
};

use serde_json::Value;

use super::CodePhase;

/// A problem getting or reading the graph.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("running `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("`{command}` failed: {stderr}")]
    Failed { command: String, stderr: String },
    #[error("`cargo metadata` output is not what this version of cargo-tracer expects: {0}")]
    Format(String),
    #[error("no package named `{0}` in the graph")]
    NoSuchPackage(String),
}

/// One compilation target of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub phase: CodePhase,
    pub src_path: PathBuf,
}

/// One package of the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub id: String,
    pub name: String,
    pub version: String,
    /// `registry+…`, `git+…`, or `path+file://…` for local packages.
    pub source: String,
    pub manifest_dir: PathBuf,
    pub targets: Vec<Target>,
    /// Checksum of a registry package (from the lock file), when known.
    pub checksum: Option<String>,
}

impl Package {
    /// Registry and git sources never change under the same id; path packages do.
    pub fn is_immutable(&self) -> bool {
        self.source.starts_with("registry+")
            || (self.source.starts_with("git+") && self.source.contains('#'))
    }
}

/// The graph.
#[derive(Debug, Clone)]
pub struct Graph {
    pub workspace_root: PathBuf,
    pub target_dir: PathBuf,
    /// Packages in the resolved graph, in cargo's order.
    pub packages: Vec<Package>,
    /// Package id → ids of its dependencies (from `resolve`).
    deps: HashMap<String, Vec<String>>,
}

/// The phase of a target from its cargo `kind`s.
pub fn phase_of(kinds: &[&str]) -> CodePhase {
    if kinds.contains(&"custom-build") {
        CodePhase::BuildScript
    } else if kinds.contains(&"proc-macro") {
        CodePhase::ProcMacro
    } else if kinds.contains(&"bin") {
        CodePhase::Binary
    } else if kinds
        .iter()
        .any(|k| matches!(*k, "test" | "bench" | "example"))
    {
        CodePhase::Test
    } else {
        CodePhase::Library
    }
}

fn str_field<'a>(v: &'a Value, k: &str) -> Result<&'a str, GraphError> {
    v.get(k)
        .and_then(Value::as_str)
        .ok_or_else(|| GraphError::Format(format!("missing `{k}`")))
}

impl Graph {
    /// Runs `cargo metadata` with `args` (`--manifest-path`, `--locked`, `--offline`…).
    pub fn load(args: &[String]) -> Result<Self, GraphError> {
        let mut cmd = std::process::Command::new("cargo");
        cmd.args(["metadata", "--format-version", "1"]).args(args);
        let command = format!("cargo metadata --format-version 1 {}", args.join(" "));
        let out = cmd.output().map_err(|source| GraphError::Spawn {
            command: command.clone(),
            source,
        })?;
        if !out.status.success() {
            return Err(GraphError::Failed {
                command,
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        let v: Value =
            serde_json::from_slice(&out.stdout).map_err(|e| GraphError::Format(e.to_string()))?;
        Self::from_metadata(&v)
    }

    /// Reads `cargo metadata` JSON: only packages that the resolved graph uses.
    pub fn from_metadata(v: &Value) -> Result<Self, GraphError> {
        let used: Option<BTreeSet<&str>> = v
            .pointer("/resolve/nodes")
            .and_then(Value::as_array)
            .map(|nodes| {
                nodes
                    .iter()
                    .filter_map(|n| n.get("id").and_then(Value::as_str))
                    .collect()
            });
        let mut packages = Vec::new();
        for p in v
            .get("packages")
            .and_then(Value::as_array)
            .ok_or_else(|| GraphError::Format("no `packages`".into()))?
        {
            let id = str_field(p, "id")?;
            if used.as_ref().is_some_and(|u| !u.contains(id)) {
                continue;
            }
            let manifest = PathBuf::from(str_field(p, "manifest_path")?);
            let targets = p
                .get("targets")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|t| {
                    let kinds: Vec<&str> = t
                        .get("kind")?
                        .as_array()?
                        .iter()
                        .filter_map(Value::as_str)
                        .collect();
                    Some(Target {
                        name: t.get("name")?.as_str()?.to_string(),
                        phase: phase_of(&kinds),
                        src_path: PathBuf::from(t.get("src_path")?.as_str()?),
                    })
                })
                .collect();
            packages.push(Package {
                id: id.to_string(),
                name: str_field(p, "name")?.to_string(),
                version: str_field(p, "version")?.to_string(),
                source: p
                    .get("source")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| {
                        format!(
                            "path+file://{}",
                            manifest.parent().unwrap_or(Path::new("")).display()
                        )
                    }),
                manifest_dir: manifest.parent().unwrap_or(Path::new("")).to_path_buf(),
                targets,
                checksum: None,
            });
        }
        let deps = v
            .pointer("/resolve/nodes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|n| {
                let id = n.get("id")?.as_str()?.to_string();
                let d = n
                    .get("dependencies")?
                    .as_array()?
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect();
                Some((id, d))
            })
            .collect();
        Ok(Self {
            workspace_root: PathBuf::from(str_field(v, "workspace_root")?),
            target_dir: PathBuf::from(str_field(v, "target_directory")?),
            packages,
            deps,
        })
    }

    /// The packages `names` (with their dependencies, from `resolve`), or all packages.
    /// `name@version` → every (transitive) dependency's `name@version`.
    pub fn dependency_keys(&self) -> std::collections::BTreeMap<String, Vec<String>> {
        let key_of: HashMap<&str, String> = self
            .packages
            .iter()
            .map(|p| (p.id.as_str(), format!("{}@{}", p.name, p.version)))
            .collect();
        let mut out = std::collections::BTreeMap::new();
        for p in &self.packages {
            let mut seen = BTreeSet::new();
            let mut todo: Vec<&str> = self
                .deps
                .get(&p.id)
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect();
            while let Some(id) = todo.pop() {
                if seen.insert(id) {
                    todo.extend(self.deps.get(id).into_iter().flatten().map(String::as_str));
                }
            }
            let keys = seen
                .iter()
                .filter_map(|id| key_of.get(id).cloned())
                .collect();
            out.insert(format!("{}@{}", p.name, p.version), keys);
        }
        out
    }

    /// Manifests of the local (path) packages: where `[package.metadata.tracer]` may be.
    pub fn local_manifests(&self) -> Vec<std::path::PathBuf> {
        self.packages
            .iter()
            .filter(|p| p.source.starts_with("path+"))
            .map(|p| p.manifest_dir.join("Cargo.toml"))
            .collect()
    }

    pub fn select(&self, names: &[String]) -> Result<Vec<usize>, GraphError> {
        if names.is_empty() {
            return Ok((0..self.packages.len()).collect());
        }
        let by_id: HashMap<&str, usize> = self
            .packages
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.as_str(), i))
            .collect();
        let mut todo: Vec<&str> = Vec::new();
        for n in names {
            let (name, version) = n
                .split_once('@')
                .map_or((n.as_str(), None), |(a, b)| (a, Some(b)));
            let hits: Vec<&Package> = self
                .packages
                .iter()
                .filter(|p| p.name == name && version.is_none_or(|v| p.version == v))
                .collect();
            if hits.is_empty() {
                return Err(GraphError::NoSuchPackage(n.clone()));
            }
            todo.extend(hits.iter().map(|p| p.id.as_str()));
        }
        let mut seen = BTreeSet::new();
        while let Some(id) = todo.pop() {
            if seen.insert(id) {
                todo.extend(self.deps.get(id).into_iter().flatten().map(String::as_str));
            }
        }
        Ok(seen
            .iter()
            .filter_map(|id| by_id.get(id).copied())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> Value {
        serde_json::json!({
            "workspace_root": "/w", "target_directory": "/w/target",
            "packages": [
                {"id": "path+file:///w#app@0.1.0", "name": "app", "version": "0.1.0", "source": null,
                 "manifest_path": "/w/Cargo.toml",
                 "targets": [{"kind": ["bin"], "name": "app", "src_path": "/w/src/main.rs"},
                             {"kind": ["custom-build"], "name": "build-script-build", "src_path": "/w/build.rs"}]},
                {"id": "registry+r#dep@1.0.0", "name": "dep", "version": "1.0.0", "source": "registry+r",
                 "manifest_path": "/c/dep-1.0.0/Cargo.toml",
                 "targets": [{"kind": ["proc-macro"], "name": "dep", "src_path": "/c/dep-1.0.0/src/lib.rs"},
                             {"kind": ["test"], "name": "t", "src_path": "/c/dep-1.0.0/tests/t.rs"}]},
                {"id": "registry+r#unused@1.0.0", "name": "unused", "version": "1.0.0", "source": "registry+r",
                 "manifest_path": "/c/unused/Cargo.toml", "targets": []}
            ],
            "resolve": {"nodes": [
                {"id": "path+file:///w#app@0.1.0", "dependencies": ["registry+r#dep@1.0.0"]},
                {"id": "registry+r#dep@1.0.0", "dependencies": []}
            ]}
        })
    }

    #[test]
    fn reads_used_packages_targets_and_phases() {
        let g = Graph::from_metadata(&meta()).unwrap();
        assert_eq!(g.packages.len(), 2, "the unresolved package is left out");
        let app = &g.packages[0];
        assert_eq!(app.source, "path+file:///w");
        assert!(!app.is_immutable());
        assert_eq!(
            app.targets.iter().map(|t| t.phase).collect::<Vec<_>>(),
            vec![CodePhase::Binary, CodePhase::BuildScript]
        );
        let dep = &g.packages[1];
        assert!(dep.is_immutable());
        assert_eq!(dep.targets[0].phase, CodePhase::ProcMacro);
        assert_eq!(dep.targets[1].phase, CodePhase::Test);
    }

    #[test]
    fn selects_packages_with_their_dependencies() {
        let g = Graph::from_metadata(&meta()).unwrap();
        assert_eq!(g.select(&["app".into()]).unwrap().len(), 2);
        assert_eq!(g.select(&["dep@1.0.0".into()]).unwrap(), vec![1]);
        assert!(matches!(
            g.select(&["nope".into()]),
            Err(GraphError::NoSuchPackage(_))
        ));
    }
}
