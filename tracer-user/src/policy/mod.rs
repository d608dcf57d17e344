//! Allowlist policies and CI verdicts: what each crate is expected to do (hosts, file paths per
//! access mode, programs, listening ports), read from the project's files and the shipped
//! defaults, then each observed behaviour and static finding judged against them.

pub mod config;
pub mod defaults;
pub mod diag;
pub mod eval;
pub mod levels;
pub mod lint;
pub mod pattern;
pub mod snapshot;
pub mod suggest;

use std::path::{Path, PathBuf};

pub use config::{Policy, Rule};
pub use snapshot::Snapshot;

/// A policy file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("reading {path}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{count} problem(s) in the policy:\n{rendered}")]
    Invalid { count: usize, rendered: String },
}

/// The rules in force, and where they came from.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// Project rules first, then the shipped defaults that are switched on.
    pub rules: Vec<Rule>,
    pub sources: Vec<String>,
    /// Crates that do I/O on their callers' behalf: the project's and the shipped ones.
    pub mechanisms: Vec<String>,
}

fn read(path: &Path) -> Result<Option<String>, PolicyError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PolicyError::Read {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Loads the project's policy — `explicit`, or `tracer.toml` at the workspace root plus
/// `[workspace.metadata.tracer]` and each member's `[package.metadata.tracer]` — and the shipped
/// defaults. Every problem in every file is reported together.
pub fn load(
    workspace_root: &Path,
    member_manifests: &[PathBuf],
    explicit: Option<&Path>,
) -> Result<Loaded, PolicyError> {
    load_from(workspace_root, member_manifests, explicit, &read)
}

/// [`load`], with the files' contents from `read` (a [`Snapshot`] taken before a build ran).
pub fn load_from(
    workspace_root: &Path,
    member_manifests: &[PathBuf],
    explicit: Option<&Path>,
    read: &dyn Fn(&Path) -> Result<Option<String>, PolicyError>,
) -> Result<Loaded, PolicyError> {
    const WORKSPACE: &[&str] = &["workspace", "metadata", "tracer"];
    const PACKAGE: &[&str] = &["package", "metadata", "tracer"];
    // Each file once, with the tables it may hold (the root manifest can be a member too).
    let mut files: Vec<(PathBuf, Vec<&[&str]>, bool)> = Vec::new();
    match explicit {
        Some(p) => {
            if read(p)?.is_none() {
                return Err(PolicyError::Read {
                    path: p.display().to_string(),
                    source: std::io::Error::from(std::io::ErrorKind::NotFound),
                });
            }
            files.push((p.to_path_buf(), vec![&[]], false));
        }
        None => {
            files.push((workspace_root.join("tracer.toml"), vec![&[]], false));
            files.push((workspace_root.join("Cargo.toml"), vec![WORKSPACE], true));
            let mut manifests: Vec<&PathBuf> = member_manifests.iter().collect();
            manifests.sort();
            manifests.dedup();
            for m in manifests {
                match files.iter_mut().find(|(f, _, _)| f == m) {
                    Some((_, tables, _)) => tables.push(PACKAGE),
                    None => files.push((m.clone(), vec![PACKAGE], true)),
                }
            }
        }
    }
    let mut parts: Vec<(String, Policy)> = Vec::new();
    let mut rendered = String::new();
    let mut count = 0;
    for (path, tables, manifest) in files {
        let Some(text) = read(&path)? else { continue };
        let label = path.display().to_string();
        match config::parse_tables(&text, &label, &tables) {
            Ok(policies) => {
                parts.extend(policies.into_iter().flatten().map(|p| (label.clone(), p)))
            }
            // Cargo reads its manifests (and accepts TOML this parser may not): one without a
            // tracer table is none of the policy's business.
            Err(_) if manifest && !text.contains("tracer") => {}
            Err(mut diags) => {
                count += diags.len();
                rendered.push_str(&diag::render_all(&label, &text, &mut diags));
            }
        }
    }
    if count > 0 {
        return Err(PolicyError::Invalid { count, rendered });
    }
    let use_defaults = parts.iter().all(|(_, p)| p.use_defaults != Some(false));
    let disabled: Vec<String> = parts
        .iter()
        .flat_map(|(_, p)| p.disable_defaults.clone())
        .collect();
    let mut loaded = Loaded::default();
    for (label, p) in parts {
        loaded.sources.push(label);
        loaded.rules.extend(p.rules);
        loaded.mechanisms.extend(p.mechanisms);
    }
    if use_defaults {
        loaded
            .mechanisms
            .extend(defaults::MECHANISMS.iter().map(|m| m.to_string()));
        for (name, text) in defaults::DEFAULTS {
            if disabled.iter().any(|d| d == name) {
                continue;
            }
            let label = format!("default:policies/{name}.toml");
            match config::parse(text, &label, &[]) {
                Ok(Some(p)) => loaded.rules.extend(p.rules),
                Ok(None) => {}
                // The shipped defaults are tested; a broken one is a bug, not the user's problem.
                Err(mut d) => {
                    return Err(PolicyError::Invalid {
                        count: d.len(),
                        rendered: diag::render_all(&label, text, &mut d),
                    });
                }
            }
        }
        loaded.sources.push(format!(
            "{} shipped default policies",
            defaults::DEFAULTS.len()
        ));
    }
    Ok(loaded)
}
