//! A fixture workspace copied into a directory of its own, with a fake `HOME`, a private
//! `CARGO_HOME` and target dir beside it, and the environment that makes cargo use them (and
//! the real toolchain).

use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// Where a test's build happens.
pub struct Sandbox {
    /// Removed when the sandbox is dropped, unless it is a fixed directory ([`Sandbox::at`]).
    _temp: Option<tempfile::TempDir>,
    pub dir: PathBuf,
    pub workspace: PathBuf,
    pub home: PathBuf,
    pub cargo_home: PathBuf,
    pub target: PathBuf,
}

/// Copies a directory tree, without any `target/`; symbolic links stay links.
pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap_or_else(|e| panic!("creating {}: {e}", dst.display()));
    let entries =
        std::fs::read_dir(src).unwrap_or_else(|e| panic!("reading {}: {e}", src.display()));
    for e in entries {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        let kind = e.file_type().unwrap();
        if kind.is_symlink() {
            // Kept a link (`tracer-user/policies` → `../policies`), as git keeps it.
            std::os::unix::fs::symlink(std::fs::read_link(e.path()).unwrap(), &to).unwrap();
        } else if kind.is_dir() {
            if e.file_name() != "target" {
                copy_dir(&e.path(), &to);
            }
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
}

/// `tests/fixtures/<name>`, or the demo workspace for `demo`.
pub fn fixture(name: &str) -> PathBuf {
    if name == "demo" {
        return crate::repo().join("demo");
    }
    crate::repo().join("tests/fixtures").join(name)
}

impl Sandbox {
    /// A sandbox in a new temp dir, with a copy of fixture `name`.
    pub fn new(name: &str) -> Self {
        let temp = tempfile::tempdir().expect("a temp dir");
        let mut s = Self::at(temp.path(), name);
        s._temp = Some(temp);
        s
    }

    /// A sandbox in `dir` (emptied first): recordings use a fixed directory so the paths in
    /// them are the same on every machine.
    pub fn at(dir: &Path, name: &str) -> Self {
        let _ = std::fs::remove_dir_all(dir);
        let workspace = dir.join("ws");
        copy_dir(&fixture(name), &workspace);
        let (home, cargo_home, target) =
            (dir.join("home"), dir.join("cargo-home"), dir.join("target"));
        // The target dir exists already: cargo would otherwise create it under a random temp
        // name beside it and rename it, a different path in every recording.
        for d in [&home, &cargo_home, &target] {
            std::fs::create_dir_all(d).unwrap();
        }
        Self {
            _temp: None,
            dir: dir.to_path_buf(),
            workspace,
            home,
            cargo_home,
            target,
        }
    }

    /// Creates files (with a line of content) in the fake `HOME`.
    pub fn home_files(&self, names: &[&str]) -> &Self {
        for n in names {
            let p = self.home.join(n);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x\n").unwrap();
        }
        self
    }

    /// The environment for cargo: the fake homes, the real toolchain.
    pub fn env(&self) -> Vec<(String, String)> {
        let real_home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
        let rustup_home =
            std::env::var("RUSTUP_HOME").unwrap_or_else(|_| format!("{real_home}/.rustup"));
        let path = format!(
            "{real_home}/.cargo/bin:{}",
            std::env::var("PATH").unwrap_or_default()
        );
        vec![
            ("HOME".into(), self.home.display().to_string()),
            ("CARGO_HOME".into(), self.cargo_home.display().to_string()),
            ("RUSTUP_HOME".into(), rustup_home),
            ("PATH".into(), path),
        ]
    }

    pub fn rustup_home(&self) -> String {
        self.env()[2].1.clone()
    }

    /// `program` in the workspace with [`Sandbox::env`], and without what would change how the
    /// tool behaves outside a test (sudo's variables, the CI step summary).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.current_dir(&self.workspace)
            .envs(self.env())
            .env_remove("SUDO_UID")
            .env_remove("SUDO_GID")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env_remove("CARGO_TARGET_DIR");
        c
    }

    pub fn manifest(&self) -> String {
        self.workspace.join("Cargo.toml").display().to_string()
    }
}

/// A finished command.
#[derive(Debug)]
pub struct Output {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` to the end.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: s(&out.stdout),
        stderr: s(&out.stderr),
    }
}

/// Runs `cmd` to the end and checks it succeeded (its stderr in the failure message).
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = run(cmd);
    assert_eq!(out.code, 0, "{cmd:?} failed:\n{}", out.stderr);
    out
}
