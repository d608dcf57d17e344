//! The resolved dependency graph of a build: every package with where it is and what it
//! builds, and who depends on whom. Read from `cargo metadata` by `cargo::graph`, recorded in a
//! check's trace so it can be judged again elsewhere.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
};

use serde::{Deserialize, Serialize};

use super::{Package, PackageKey, TargetKind};

/// One compilation target of a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub name: String,
    pub kind: TargetKind,
    pub src_path: PathBuf,
}

/// One package of the graph, where it is and what it builds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crate {
    pub id: String,
    pub name: String,
    pub version: String,
    /// `registry+…`, `git+…`, or `path+file://…` for local packages.
    pub source: String,
    pub manifest_dir: PathBuf,
    pub targets: Vec<Target>,
}

impl Crate {
    pub fn key(&self) -> PackageKey {
        PackageKey::new(&self.name, &self.version)
    }

    pub fn package(&self) -> Package {
        Package {
            name: self.name.clone(),
            version: self.version.clone(),
            source: self.source.clone(),
            id: self.id.clone(),
        }
    }

    /// Registry and git sources never change under the same id; path packages do.
    pub fn is_immutable(&self) -> bool {
        self.source.starts_with("registry+")
            || (self.source.starts_with("git+") && self.source.contains('#'))
    }

    pub fn is_local(&self) -> bool {
        self.source.starts_with("path+")
    }

    pub fn has(&self, kind: TargetKind) -> bool {
        self.targets.iter().any(|t| t.kind == kind)
    }
}

/// Each package's dependencies, transitively.
pub type Dependencies = BTreeMap<PackageKey, BTreeSet<PackageKey>>;

/// The graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Graph {
    pub workspace_root: PathBuf,
    pub target_dir: PathBuf,
    /// Packages in the resolved graph, in cargo's order.
    pub packages: Vec<Crate>,
    /// Package id → ids of its direct dependencies (from `resolve`).
    pub deps: BTreeMap<String, Vec<String>>,
}
