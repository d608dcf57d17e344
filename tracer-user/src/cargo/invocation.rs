//! The cargo command lines `cargo tracer build|test` runs: the user's arguments passed through,
//! with JSON messages on, and the flags `cargo metadata` needs to see the same workspace.

/// The cargo to run: `$CARGO` when set (cargo sets it for its subcommands, so `cargo +nightly
/// tracer` uses that nightly's cargo), else `cargo` from `PATH`.
pub fn cargo_program() -> Option<std::ffi::OsString> {
    std::env::var_os("CARGO").filter(|c| !c.is_empty())
}

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

    /// The flags that select the workspace and lock file, for `cargo metadata`.
    pub fn graph_args(&self) -> Vec<String> {
        let mut c = Vec::new();
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

    /// The target directory the user asked for, if any.
    pub fn user_target_dir(&self) -> Option<String> {
        // After `--` the arguments are the program's (`cargo run -- --target-dir x`).
        let mut it = self.args.iter().take_while(|a| *a != "--");
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
            inv.graph_args(),
            args(&["--manifest-path", "a/Cargo.toml", "--locked", "--config=x"])
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
        let inv =
            Invocation::new(Subcommand::Build, args(&["--", "--target-dir", "x"]), None).unwrap();
        assert_eq!(inv.user_target_dir(), None);
    }
}
