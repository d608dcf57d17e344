//! Allowlist policies and CI verdicts: what each crate is expected to do (hosts, file paths per
//! access mode, programs, listening ports), read from the project's files and the shipped
//! defaults, then each observed behaviour and static finding judged against them.

pub mod config;
pub mod defaults;
pub mod diag;
pub mod eval;
pub mod levels;
pub mod pattern;
pub mod suggest;

use std::path::{Path, PathBuf};

pub use config::{Policy, Rule};

/// A policy file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("reading {path}: {source}")]
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
    let mut parts: Vec<(String, Policy)> = Vec::new();
    let mut rendered = String::new();
    let mut count = 0;
    let mut take =
        |label: String, text: &str, table: &[&str]| match config::parse(text, &label, table) {
            Ok(Some(p)) => parts.push((label, p)),
            Ok(None) => {}
            Err(mut diags) => {
                count += diags.len();
                rendered.push_str(&diag::render_all(&label, text, &mut diags));
            }
        };
    match explicit {
        Some(p) => {
            let text = read(p)?.ok_or_else(|| PolicyError::Read {
                path: p.display().to_string(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            })?;
            take(p.display().to_string(), &text, &[]);
        }
        None => {
            let tracer_toml = workspace_root.join("tracer.toml");
            if let Some(text) = read(&tracer_toml)? {
                take(tracer_toml.display().to_string(), &text, &[]);
            }
            let root_manifest = workspace_root.join("Cargo.toml");
            if let Some(text) = read(&root_manifest)? {
                take(
                    root_manifest.display().to_string(),
                    &text,
                    &["workspace", "metadata", "tracer"],
                );
            }
            let mut manifests: Vec<&PathBuf> = member_manifests.iter().collect();
            manifests.sort();
            manifests.dedup();
            for m in manifests {
                if let Some(text) = read(m)? {
                    take(
                        m.display().to_string(),
                        &text,
                        &["package", "metadata", "tracer"],
                    );
                }
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
    }
    if use_defaults {
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
