//! The cargo command lines `cargo tracer build|test` runs, and the build's context (directories
//! the report names by placeholder).

use serde::{Deserialize, Serialize};

/// The cargo subcommand being traced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subcommand {
    Build,
    Test,
}

impl Subcommand {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Build => "build",
            Self::Test => "test",
        }
    }
}

/// A problem with the arguments given for cargo.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvocationError {
    #[error(
        "cargo tracer sets `--message-format` itself (it reads cargo's JSON messages); remove `{0}`"
    )]
    MessageFormat(String),
    #[error("`--fresh` builds in a private target directory; remove `--target-dir`")]
    FreshWithTargetDir,
}

/// How cargo is run.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub sub: Subcommand,
    /// The user's cargo arguments, passed through.
    pub args: Vec<String>,
    /// Set by `--fresh`: a private target directory.
    pub target_dir: Option<String>,
}

/// Flags that change which workspace or lock file cargo uses, with whether they take a value.
const METADATA_FLAGS: &[(&str, bool)] = &[
    ("--manifest-path", true),
    ("--locked", false),
    ("--offline", false),
    ("--frozen", false),
    ("--config", true),
    ("-Z", true),
];

impl Invocation {
    pub fn new(
        sub: Subcommand,
        args: Vec<String>,
        target_dir: Option<String>,
    ) -> Result<Self, InvocationError> {
        if let Some(a) = args.iter().find(|a| a.starts_with("--message-format")) {
            return Err(InvocationError::MessageFormat(a.clone()));
        }
        if target_dir.is_some()
            && args
                .iter()
                .any(|a| a == "--target-dir" || a.starts_with("--target-dir="))
        {
            return Err(InvocationError::FreshWithTargetDir);
        }
        Ok(Self {
            sub,
            args,
            target_dir,
        })
    }

    /// `cargo <sub> --message-format=json-render-diagnostics <args…> [--target-dir DIR]`.
    pub fn command(&self) -> Vec<String> {
        let mut c = vec!["cargo".to_string(), self.sub.as_str().to_string()];
        c.push("--message-format=json-render-diagnostics".into());
        // Options must come before a `--` that hands the rest to test binaries.
        let split = self
            .args
            .iter()
            .position(|a| a == "--")
            .unwrap_or(self.args.len());
        c.extend(self.args[..split].iter().cloned());
        if let Some(d) = &self.target_dir {
            c.push("--target-dir".into());
            c.push(d.clone());
        }
        c.extend(self.args[split..].iter().cloned());
        c
    }

    /// `cargo metadata --no-deps` with the flags that select the same workspace.
    pub fn metadata_command(&self) -> Vec<String> {
        let mut c: Vec<String> = ["cargo", "metadata", "--no-deps", "--format-version", "1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut it = self.args.iter().take_while(|a| *a != "--");
        while let Some(a) = it.next() {
            for (flag, takes_value) in METADATA_FLAGS {
                if a == flag {
                    c.push(a.clone());
                    if *takes_value && let Some(v) = it.next() {
                        c.push(v.clone());
                    }
                } else if a.starts_with(&format!("{flag}=")) {
                    c.push(a.clone());
                }
            }
        }
        c
    }

    /// The flags that select the workspace and lock file, for `cargo metadata` with dependencies.
    pub fn graph_args(&self) -> Vec<String> {
        self.metadata_command().into_iter().skip(5).collect()
    }

    /// The target directory the user asked for, if any.
    pub fn user_target_dir(&self) -> Option<String> {
        let mut it = self.args.iter();
        while let Some(a) = it.next() {
            if a == "--target-dir" {
                return it.next().cloned();
            }
            if let Some(v) = a.strip_prefix("--target-dir=") {
                return Some(v.to_string());
            }
        }
        None
    }
}

/// Directories the report replaces by placeholders, recorded with the trace so `report` can
/// re-render it later.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildContext {
    pub workspace_root: String,
    /// The git work tree containing the workspace, when there is one and it lies above it
    /// (tools like shadow-rs run `git status`, which reads the whole work tree).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub repo_root: String,
    pub target_dir: String,
    pub home: String,
    pub cargo_home: String,
    pub tmpdir: String,
    /// Rustup's home (toolchains are read from it by every phase).
    #[serde(default)]
    pub rustup_home: String,
    /// Where cargo was started.
    #[serde(default)]
    pub cwd: String,
    /// Built in a private target directory (`--fresh`).
    pub fresh: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn command_lines() {
        let inv = Invocation::new(
            Subcommand::Test,
            args(&["-p", "x", "--offline", "--", "--nocapture"]),
            Some("/tmp/t".into()),
        )
        .unwrap();
        assert_eq!(
            inv.command(),
            args(&[
                "cargo",
                "test",
                "--message-format=json-render-diagnostics",
                "-p",
                "x",
                "--offline",
                "--target-dir",
                "/tmp/t",
                "--",
                "--nocapture"
            ])
        );
        let inv = Invocation::new(
            Subcommand::Build,
            args(&[
                "--manifest-path",
                "a/Cargo.toml",
                "--release",
                "--locked",
                "--config=x",
            ]),
            None,
        )
        .unwrap();
        assert_eq!(
            inv.metadata_command(),
            args(&[
                "cargo",
                "metadata",
                "--no-deps",
                "--format-version",
                "1",
                "--manifest-path",
                "a/Cargo.toml",
                "--locked",
                "--config=x"
            ])
        );
    }

    #[test]
    fn conflicting_flags_are_refused() {
        assert!(matches!(
            Invocation::new(Subcommand::Build, args(&["--message-format=short"]), None),
            Err(InvocationError::MessageFormat(_))
        ));
        assert_eq!(
            Invocation::new(
                Subcommand::Build,
                args(&["--target-dir", "x"]),
                Some("/tmp/y".into())
            )
            .unwrap_err(),
            InvocationError::FreshWithTargetDir
        );
        let inv = Invocation::new(Subcommand::Build, args(&["--target-dir=x"]), None).unwrap();
        assert_eq!(inv.user_target_dir().as_deref(), Some("x"));
    }
}
