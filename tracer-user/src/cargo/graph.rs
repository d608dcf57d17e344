//! The resolved dependency graph from `cargo metadata` (run once per command, as the user the
//! build runs as): every package with its targets, each target's kind and root file, and who
//! depends on whom.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    os::unix::process::CommandExt,
    path::PathBuf,
};

use cargo_metadata::{Metadata, MetadataCommand};

pub use crate::model::graph::{Crate, Dependencies, Graph, Target};
use crate::{
    identity::{self, Identity},
    model::{PackageKey, TargetKind},
};

/// A problem getting or reading the graph.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("running `{command}`")]
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

/// Pids of the daemon's own `cargo metadata` runs, with the invocation each is for. The lock
/// is held across each spawn: the daemon sees the exec (and takes the lock to look) before
/// `spawn` returns the pid.
pub type OwnRuns = std::sync::Arc<std::sync::Mutex<HashMap<u32, usize>>>;

/// Where and how `cargo metadata` runs: by default here, with our environment and `$CARGO`.
#[derive(Debug, Clone, Default)]
pub struct Place {
    pub cwd: Option<PathBuf>,
    /// The whole environment (replacing ours).
    pub env: Option<Vec<(std::ffi::OsString, std::ffi::OsString)>>,
    pub cargo: Option<std::ffi::OsString>,
    /// The daemon's record of its own cargo runs (which its probes would trace as a job's),
    /// and the invocation this one is for.
    pub own: Option<(OwnRuns, usize)>,
    /// Kill it after this long.
    pub timeout: Option<std::time::Duration>,
}

impl Graph {
    /// Runs `cargo metadata` with `args` (`--manifest-path`, `--locked`, `--offline`…), as
    /// `who` when given (the sudo caller: cargo must not write root-owned files in their tree).
    pub fn load(args: &[String], who: Option<&Identity>) -> Result<Self, GraphError> {
        Self::load_as(args, who, &Place::default())
    }

    /// [`Graph::load`] for a cargo run elsewhere (one the daemon saw): in its directory, with
    /// its environment and its cargo.
    pub fn load_as(
        args: &[String],
        who: Option<&Identity>,
        place: &Place,
    ) -> Result<Self, GraphError> {
        let mut m = MetadataCommand::new();
        if let Some(cargo) = place
            .cargo
            .clone()
            .or_else(super::invocation::cargo_program)
        {
            m.cargo_path(cargo);
        }
        m.other_options(args.to_vec());
        if let Some(dir) = &place.cwd {
            m.current_dir(dir);
        }
        let mut cmd = m.cargo_command();
        if let Some(env) = &place.env {
            cmd.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
        }
        // Its errors are quoted in ours: no colour codes in them.
        cmd.env("CARGO_TERM_COLOR", "never");
        let command = format!("cargo metadata --format-version 1 {}", args.join(" "));
        if let Some(id) = who {
            let id = id.clone();
            cmd.env("HOME", crate::events::text::to_os(&id.home));
            // SAFETY: only set*id calls between fork and exec.
            unsafe { cmd.pre_exec(move || identity::switch_to(&id)) };
        }
        let spawn_error = |source| GraphError::Spawn {
            command: command.clone(),
            source,
        };
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let child = match &place.own {
            Some((own, index)) => {
                // Held across the spawn: the daemon looks here when it sees this cargo start.
                let mut own = own.lock().unwrap_or_else(|p| p.into_inner());
                let child = cmd.spawn().map_err(spawn_error)?;
                own.insert(child.id(), *index);
                child
            }
            None => cmd.spawn().map_err(spawn_error)?,
        };
        let out = match place.timeout {
            None => child.wait_with_output().map_err(spawn_error)?,
            Some(t) => {
                let pid = child.id();
                let (tx, rx) = std::sync::mpsc::channel();
                std::thread::spawn(move || tx.send(child.wait_with_output()));
                match rx.recv_timeout(t) {
                    Ok(out) => out.map_err(spawn_error)?,
                    Err(_) => {
                        // SAFETY: signalling the child we started, not yet reaped (its waiter
                        // has not returned).
                        unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
                        return Err(GraphError::Failed {
                            command,
                            stderr: format!("did not finish within {} s", t.as_secs()),
                        });
                    }
                }
            }
        };
        if !out.status.success() {
            return Err(GraphError::Failed {
                command,
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        let text =
            std::str::from_utf8(&out.stdout).map_err(|e| GraphError::Format(e.to_string()))?;
        let line = text.lines().find(|l| l.starts_with('{')).unwrap_or("");
        Self::from_metadata(
            &MetadataCommand::parse(line).map_err(|e| GraphError::Format(e.to_string()))?,
        )
    }

    /// Reads parsed `cargo metadata`: only packages that the resolved graph uses.
    pub fn from_metadata(m: &Metadata) -> Result<Self, GraphError> {
        let used: Option<BTreeSet<&str>> = m
            .resolve
            .as_ref()
            .map(|r| r.nodes.iter().map(|n| n.id.repr.as_str()).collect());
        let mut packages = Vec::new();
        for p in &m.packages {
            if used
                .as_ref()
                .is_some_and(|u| !u.contains(p.id.repr.as_str()))
            {
                continue;
            }
            let manifest_dir = p
                .manifest_path
                .parent()
                .map(|d| d.as_std_path().to_path_buf())
                .unwrap_or_default();
            packages.push(Crate {
                id: p.id.repr.clone(),
                name: p.name.to_string(),
                version: p.version.to_string(),
                source: p
                    .source
                    .as_ref()
                    .map(|s| s.repr.clone())
                    .unwrap_or_else(|| format!("path+file://{}", manifest_dir.display())),
                targets: p
                    .targets
                    .iter()
                    .map(|t| {
                        let kinds: Vec<String> = t.kind.iter().map(|k| k.to_string()).collect();
                        Target {
                            name: t.name.clone(),
                            kind: TargetKind::from_cargo(&kinds),
                            src_path: t.src_path.clone().into(),
                        }
                    })
                    .collect(),
                manifest_dir,
            });
        }
        let deps = m
            .resolve
            .iter()
            .flat_map(|r| &r.nodes)
            .map(|n| {
                (
                    n.id.repr.clone(),
                    n.dependencies.iter().map(|d| d.repr.clone()).collect(),
                )
            })
            .collect();
        Ok(Self {
            workspace_root: m.workspace_root.clone().into(),
            target_dir: m.target_directory.clone().into(),
            packages,
            deps,
        })
    }

    /// Reads `cargo metadata` JSON.
    pub fn from_json(text: &str) -> Result<Self, GraphError> {
        Self::from_metadata(
            &MetadataCommand::parse(text).map_err(|e| GraphError::Format(e.to_string()))?,
        )
    }

    /// Every package's (transitive) dependencies.
    pub fn dependencies(&self) -> Dependencies {
        let key_of: HashMap<&str, PackageKey> = self
            .packages
            .iter()
            .map(|p| (p.id.as_str(), p.key()))
            .collect();
        let mut out = BTreeMap::new();
        for p in &self.packages {
            let keys = self
                .closure(&[p.id.as_str()])
                .into_iter()
                .filter(|id| *id != p.id)
                .filter_map(|id| key_of.get(id).cloned())
                .collect();
            out.insert(p.key(), keys);
        }
        out
    }

    /// `ids` and everything they depend on.
    fn closure<'a>(&'a self, ids: &[&'a str]) -> BTreeSet<&'a str> {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&str> = ids.to_vec();
        while let Some(id) = todo.pop() {
            if seen.insert(id) {
                todo.extend(self.deps.get(id).into_iter().flatten().map(String::as_str));
            }
        }
        seen
    }

    /// Manifests of the local (path) packages: where `[package.metadata.tracer]` may be.
    pub fn local_manifests(&self) -> Vec<PathBuf> {
        self.packages
            .iter()
            .filter(|p| p.is_local())
            .map(|p| p.manifest_dir.join("Cargo.toml"))
            .collect()
    }

    /// The package with this key.
    pub fn get(&self, key: &PackageKey) -> Option<&Crate> {
        self.packages
            .iter()
            .find(|p| p.name == key.name && p.version == key.version)
    }

    /// The packages `names` (`name` or `name@version`) with their dependencies, or all
    /// packages.
    pub fn select(&self, names: &[String]) -> Result<Vec<usize>, GraphError> {
        if names.is_empty() {
            return Ok((0..self.packages.len()).collect());
        }
        let mut roots: Vec<&str> = Vec::new();
        for n in names {
            let (name, version) = n
                .split_once('@')
                .map_or((n.as_str(), None), |(a, b)| (a, Some(b)));
            let hits: Vec<&Crate> = self
                .packages
                .iter()
                .filter(|p| p.name == name && version.is_none_or(|v| p.version == v))
                .collect();
            if hits.is_empty() {
                return Err(GraphError::NoSuchPackage(n.clone()));
            }
            roots.extend(hits.iter().map(|p| p.id.as_str()));
        }
        let index: HashMap<&str, usize> = self
            .packages
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.as_str(), i))
            .collect();
        Ok(self
            .closure(&roots)
            .into_iter()
            .filter_map(|id| index.get(id).copied())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> Graph {
        let v = serde_json::json!({
            "workspace_root": "/w", "target_directory": "/w/target", "version": 1,
            "workspace_members": ["path+file:///w#app@0.1.0"],
            "packages": [
                {"id": "path+file:///w#app@0.1.0", "name": "app", "version": "0.1.0", "source": null,
                 "manifest_path": "/w/Cargo.toml", "dependencies": [], "features": {},
                 "targets": [{"kind": ["bin"], "crate_types": ["bin"], "name": "app", "src_path": "/w/src/main.rs"},
                             {"kind": ["custom-build"], "crate_types": ["bin"], "name": "build-script-build", "src_path": "/w/build.rs"}]},
                {"id": "registry+r#dep@1.0.0", "name": "dep", "version": "1.0.0", "source": "registry+r",
                 "manifest_path": "/c/dep-1.0.0/Cargo.toml", "dependencies": [], "features": {},
                 "targets": [{"kind": ["proc-macro"], "crate_types": ["proc-macro"], "name": "dep", "src_path": "/c/dep-1.0.0/src/lib.rs"},
                             {"kind": ["test"], "crate_types": ["bin"], "name": "t", "src_path": "/c/dep-1.0.0/tests/t.rs"}]},
                {"id": "registry+r#unused@1.0.0", "name": "unused", "version": "1.0.0", "source": "registry+r",
                 "manifest_path": "/c/unused/Cargo.toml", "dependencies": [], "features": {}, "targets": []}
            ],
            "resolve": {"root": null, "nodes": [
                {"id": "path+file:///w#app@0.1.0", "dependencies": ["registry+r#dep@1.0.0"], "deps": [], "features": []},
                {"id": "registry+r#dep@1.0.0", "dependencies": [], "deps": [], "features": []}
            ]}
        });
        Graph::from_json(&v.to_string()).unwrap()
    }

    #[test]
    fn reads_used_packages_targets_and_kinds() {
        let g = meta();
        assert_eq!(g.packages.len(), 2, "the unresolved package is left out");
        let app = &g.packages[0];
        assert_eq!(app.source, "path+file:///w");
        assert!(!app.is_immutable());
        assert_eq!(
            app.targets.iter().map(|t| t.kind).collect::<Vec<_>>(),
            vec![TargetKind::Binary, TargetKind::BuildScript]
        );
        let dep = &g.packages[1];
        assert!(dep.is_immutable());
        assert_eq!(dep.targets[0].kind, TargetKind::ProcMacro);
        assert_eq!(dep.targets[1].kind, TargetKind::Test);
        let deps = g.dependencies();
        assert_eq!(
            deps[&app.key()].iter().collect::<Vec<_>>(),
            vec![&dep.key()]
        );
    }

    #[test]
    fn selects_packages_with_their_dependencies() {
        let g = meta();
        assert_eq!(g.select(&["app".into()]).unwrap().len(), 2);
        assert_eq!(g.select(&["dep@1.0.0".into()]).unwrap(), vec![1]);
        assert!(matches!(
            g.select(&["nope".into()]),
            Err(GraphError::NoSuchPackage(_))
        ));
    }
}
