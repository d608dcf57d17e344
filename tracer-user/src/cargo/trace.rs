//! `cargo tracer build|test`: run cargo under the probes with JSON messages on, in the build's
//! context (workspace, target dir, home), optionally in a private target dir (`--fresh`).

use std::{os::unix::process::CommandExt, path::Path, process::Command};

use serde_json::Value;

use super::invocation::{BuildContext, Invocation};
use crate::{
    identity::{self, Identity},
    loader::LoadOptions,
    session::{self, RunOptions, SessionError},
    sink::{Collect, Sink, Tee},
    summary::Summary,
};

/// Why a cargo build could not be traced.
#[derive(Debug, thiserror::Error)]
pub enum CargoTraceError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("`{command}` failed ({status}): {stderr}")]
    Metadata {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("running `cargo metadata`: {0}")]
    MetadataSpawn(std::io::Error),
    #[error("`cargo metadata` printed something that is not its JSON: {0}")]
    MetadataJson(String),
    #[error("creating the private target directory for --fresh: {0}")]
    FreshDir(std::io::Error),
    #[error(transparent)]
    Identity(#[from] identity::IdentityError),
}

/// Settings shared with `run`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub load: LoadOptions,
    pub as_root: bool,
    pub linger: std::time::Duration,
    pub fresh: bool,
    /// Cargo's non-JSON stdout (test output) goes to stderr: stdout carries a JSON report.
    pub text_to_stderr: bool,
}

/// A finished traced build, in memory.
pub struct CargoTrace {
    pub collect: Collect,
    pub summary: Summary,
    pub context: BuildContext,
}

impl CargoTrace {
    /// Cargo's JSON messages, in arrival order.
    pub fn messages(&self) -> Vec<Value> {
        self.collect
            .extras_of("cargo_message")
            .filter_map(|v| v.get("message").cloned())
            .collect()
    }
}

fn absolute(p: &str) -> String {
    if p.starts_with('/') {
        return p.to_string();
    }
    std::env::current_dir()
        .map(|d| d.join(p).display().to_string())
        .unwrap_or_else(|_| p.to_string())
}

/// `cargo metadata --no-deps` as the user the build will run as: workspace root and target dir.
fn metadata(inv: &Invocation, who: Option<&Identity>) -> Result<(String, String), CargoTraceError> {
    let argv = inv.metadata_command();
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]);
    if let Some(id) = who {
        let id = id.clone();
        cmd.env("HOME", &id.home);
        // SAFETY: only set*id calls between fork and exec.
        unsafe { cmd.pre_exec(move || identity::switch_to(&id)) };
    }
    let out = cmd.output().map_err(CargoTraceError::MetadataSpawn)?;
    if !out.status.success() {
        return Err(CargoTraceError::Metadata {
            command: argv.join(" "),
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    let v: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| CargoTraceError::MetadataJson(e.to_string()))?;
    let field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    Ok((
        field("workspace_root").unwrap_or_default(),
        field("target_directory").unwrap_or_default(),
    ))
}

/// Traces `inv`. `file` also receives every line (the `--events` file).
pub fn trace(
    inv: &Invocation,
    s: &Settings,
    file: Option<&mut dyn Sink>,
) -> Result<CargoTrace, CargoTraceError> {
    let who = identity::for_command(s.as_root)?;
    let (workspace_root, meta_target) = metadata(inv, who.as_ref())?;
    let fresh_dir = if s.fresh {
        let d = tempfile::Builder::new()
            .prefix("cargo-tracer-fresh.")
            .tempdir()
            .map_err(CargoTraceError::FreshDir)?;
        if let Some(id) = &who {
            std::os::unix::fs::chown(d.path(), Some(id.uid), Some(id.gid))
                .map_err(CargoTraceError::FreshDir)?;
        }
        Some(d)
    } else {
        None
    };
    let inv = Invocation {
        target_dir: fresh_dir.as_ref().map(|d| d.path().display().to_string()),
        ..inv.clone()
    };
    let home = who
        .as_ref()
        .map(|i| i.home.clone())
        .or_else(|| std::env::var("HOME").ok())
        .unwrap_or_default();
    let context = BuildContext {
        repo_root: repo_root(Path::new(&workspace_root)),
        workspace_root,
        target_dir: inv
            .target_dir
            .clone()
            .or_else(|| inv.user_target_dir().map(|d| absolute(&d)))
            .unwrap_or(meta_target),
        cargo_home: std::env::var("CARGO_HOME")
            .unwrap_or_else(|_| Path::new(&home).join(".cargo").display().to_string()),
        tmpdir: std::env::var("TMPDIR").unwrap_or_else(|_| "/tmp".into()),
        rustup_home: std::env::var("RUSTUP_HOME")
            .unwrap_or_else(|_| Path::new(&home).join(".rustup").display().to_string()),
        home,
        cwd: std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default(),
        fresh: s.fresh,
    };
    let opts = RunOptions {
        command: inv.command(),
        load: s.load.clone(),
        as_root: s.as_root,
        linger: s.linger,
        cwd: None,
        cargo_messages: true,
        text_to_stderr: s.text_to_stderr,
        env: Vec::new(),
        preamble: vec![(
            "build_context".into(),
            serde_json::to_value(&context).expect("plain struct"),
        )],
    };
    let mut collect = Collect::default();
    let summary = match file {
        Some(f) => session::run(&opts, &mut Tee(&mut collect, f))?,
        None => session::run(&opts, &mut collect)?,
    };
    drop(fresh_dir);
    Ok(CargoTrace {
        collect,
        summary,
        context,
    })
}

/// The nearest directory at or above `dir` holding `.git` (a directory, or a file for linked
/// work trees and submodules); empty if none.
fn repo_root(dir: &Path) -> String {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(|d| d.display().to_string())
        .unwrap_or_default()
}
