//! `cargo tracer build|test`: run cargo under the probes with JSON messages on, in the build's
//! context (workspace, target dir, homes), optionally in a private target dir (`--fresh`).

use std::path::{Path, PathBuf};

use super::{
    graph::Graph,
    invocation::Invocation,
    observer::{CargoObserver, Text},
};
use crate::{
    events::text,
    identity::Identity,
    loader::LoadOptions,
    model::BuildContext,
    session::{self, RunOptions, SessionError, Summary},
    trace::{Collector, Line, Sink, Tee, Trace},
};

/// Why a cargo build could not be traced.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("creating the private target directory for --fresh: {0}")]
    FreshDir(std::io::Error),
    #[error("the traced build left no trace")]
    Trace(#[from] crate::trace::TraceError),
}

/// How to trace.
#[derive(Debug, Clone)]
pub struct Settings {
    pub load: LoadOptions,
    pub as_root: bool,
    pub linger: std::time::Duration,
    pub allow_io_uring: bool,
    pub fresh: bool,
    /// Cargo's non-JSON stdout (test output) goes to stderr: stdout carries a JSON report.
    pub text_to_stderr: bool,
}

/// A finished traced build, in memory.
pub struct TracedBuild {
    pub trace: Trace,
    pub summary: Summary,
}

fn absolute(p: &str) -> String {
    if p.starts_with('/') {
        return p.to_string();
    }
    std::env::current_dir()
        .map(|d| text::from_os(d.join(p).as_os_str()))
        .unwrap_or_else(|_| p.to_string())
}

/// Traces `inv` of the workspace `graph` describes, as `who` (the sudo caller) when given.
/// `file` also receives every line (the `--events` file).
pub fn trace(
    inv: &Invocation,
    graph: &Graph,
    who: Option<&Identity>,
    s: &Settings,
    file: Option<&mut dyn Sink>,
) -> Result<TracedBuild, BuildError> {
    let fresh_dir = if s.fresh {
        let d = tempfile::Builder::new()
            .prefix("cargo-tracer-fresh.")
            .tempdir()
            .map_err(BuildError::FreshDir)?;
        if let Some(id) = who {
            std::os::unix::fs::chown(d.path(), Some(id.uid), Some(id.gid))
                .map_err(BuildError::FreshDir)?;
        }
        Some(d)
    } else {
        None
    };
    let inv = Invocation {
        target_dir: fresh_dir.as_ref().map(|d| d.path().display().to_string()),
        ..inv.clone()
    };
    // Paths as trace text (`events::text`), so they compare with the trace's paths.
    let path = |p: &Path| text::from_os(p.as_os_str());
    let home: PathBuf = who
        .map(|i| PathBuf::from(text::to_os(&i.home)))
        .or_else(|| std::env::var_os("HOME").map(PathBuf::from))
        .unwrap_or_default();
    let context = context(
        graph,
        &home,
        &|name| std::env::var_os(name),
        inv.target_dir
            .clone()
            .or_else(|| inv.user_target_dir().map(|d| absolute(&d))),
        std::env::current_dir()
            .map(|d| path(&d))
            .unwrap_or_default(),
        s.fresh,
    );
    let target_dir = PathBuf::from(text::to_os(&context.target_dir));
    let mut command = inv.command();
    // The same cargo `cargo metadata` ran.
    if let Some(cargo) = super::invocation::cargo_program().and_then(|c| c.into_string().ok()) {
        command[0] = cargo;
    }
    let opts = RunOptions {
        command,
        load: s.load.clone(),
        as_root: s.as_root,
        linger: s.linger,
        cwd: None,
        env: Vec::new(),
        preamble: vec![Line::BuildContext(context), Line::Graph(graph.clone())],
        allow_io_uring: s.allow_io_uring,
    };
    let mut collect = Collector::default();
    let mut observer = CargoObserver::new(if s.text_to_stderr {
        Text::Stderr
    } else {
        Text::Stdout
    })
    .with_target_dir(&target_dir);
    let summary = match file {
        Some(f) => session::run(&opts, &mut Tee(&mut collect, f), &mut observer)?,
        None => session::run(&opts, &mut collect, &mut observer)?,
    };
    drop(fresh_dir);
    Ok(TracedBuild {
        trace: collect.finish()?,
        summary,
    })
}

/// The directories of a build of `graph` that become placeholders: `var` reads the environment
/// cargo ran with, `target_dir` is the one asked for on the command line (absolute).
pub fn context(
    graph: &Graph,
    home: &Path,
    var: &dyn Fn(&str) -> Option<std::ffi::OsString>,
    target_dir: Option<String>,
    cwd: String,
    fresh: bool,
) -> BuildContext {
    // Paths as trace text (`events::text`), so they compare with the trace's paths.
    let path = |p: &Path| text::from_os(p.as_os_str());
    let var_or = |name: &str, default: PathBuf| var(name).map(PathBuf::from).unwrap_or(default);
    let mut context = BuildContext {
        repo_root: repo_root(&graph.workspace_root),
        workspace_root: path(&graph.workspace_root),
        target_dir: target_dir.unwrap_or_else(|| path(&graph.target_dir)),
        cargo_home: path(&var_or("CARGO_HOME", home.join(".cargo"))),
        tmpdir: path(&var_or("TMPDIR", "/tmp".into())),
        rustup_home: path(&var_or("RUSTUP_HOME", home.join(".rustup"))),
        home: path(home),
        cwd,
        fresh,
        aliases: Vec::new(),
    };
    context.learn_aliases(real_path);
    context
}

/// The nearest directory at or above `dir` holding `.git` (a directory, or a file for linked
/// work trees and submodules); empty if none.
fn repo_root(dir: &Path) -> String {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(|d| text::from_os(d.as_os_str()))
        .unwrap_or_default()
}

/// The real path of a directory of the build (trace text in, trace text out).
pub fn real_path(p: &str) -> Option<String> {
    let real = std::fs::canonicalize(text::to_os(p)).ok()?;
    Some(text::from_os(real.as_os_str()))
}
