//! A project's policy files as they were before a build ran. A build's own code can rewrite
//! `tracer.toml` or a manifest's `[package.metadata.tracer]`; a verdict reached later (the
//! daemon's `stop`) judges with the copy taken when the build started, never with what the
//! build left.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

use super::{Loaded, PolicyError};

/// The files [`super::load`] reads for a workspace, with their contents then (`None`: absent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub workspace_root: PathBuf,
    pub manifests: Vec<PathBuf>,
    pub files: BTreeMap<PathBuf, Option<String>>,
}

impl Snapshot {
    /// The policy files of the workspace at `root` with these member manifests, read now —
    /// except those in `early`, read earlier still.
    pub fn take(
        root: &Path,
        manifests: &[PathBuf],
        early: &BTreeMap<PathBuf, Option<String>>,
    ) -> Self {
        let mut files = BTreeMap::new();
        let wanted = [root.join("tracer.toml"), root.join("Cargo.toml")];
        for p in wanted.iter().chain(manifests) {
            let text = match early.get(p) {
                Some(t) => t.clone(),
                None => std::fs::read_to_string(p).ok(),
            };
            files.insert(p.clone(), text);
        }
        Self {
            workspace_root: root.to_path_buf(),
            manifests: manifests.to_vec(),
            files,
        }
    }

    /// `tracer.toml` and `Cargo.toml` in `dir` and every directory above it: what can be read
    /// the moment a cargo run is seen, before the workspace's members are known.
    pub fn ancestors_of(dir: &Path) -> BTreeMap<PathBuf, Option<String>> {
        dir.ancestors()
            .flat_map(|d| [d.join("tracer.toml"), d.join("Cargo.toml")])
            .map(|p| {
                let text = std::fs::read_to_string(&p).ok();
                (p, text)
            })
            .collect()
    }

    /// The policy these files give (with the shipped defaults).
    pub fn load(&self) -> Result<Loaded, PolicyError> {
        super::load_from(&self.workspace_root, &self.manifests, None, &|p| {
            Ok(self.files.get(p).cloned().flatten())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_is_the_one_the_files_held_when_taken() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let allow = "[[allow]]\ncrate = \"x\"\nphase = \"build-script\"\nreason = \"r\"\nread = [\"/etc/a\"]\n";
        std::fs::write(root.join("tracer.toml"), allow).unwrap();
        std::fs::write(root.join("Cargo.toml"), "[workspace]\n").unwrap();
        let early = Snapshot::ancestors_of(root);
        let snap = Snapshot::take(root, &[], &early);
        // The build rewrites the policy to allow everything it did.
        std::fs::write(root.join("tracer.toml"), allow.replace("/etc/a", "/**")).unwrap();
        let rules = snap.load().unwrap().rules;
        let own: Vec<_> = rules.iter().filter(|r| !r.origin.is_default()).collect();
        assert_eq!(own.len(), 1);
        assert!(format!("{:?}", own[0]).contains("/etc/a"), "{:?}", own[0]);
        let json = serde_json::to_string(&snap).unwrap();
        assert_eq!(serde_json::from_str::<Snapshot>(&json).unwrap(), snap);
    }
}
