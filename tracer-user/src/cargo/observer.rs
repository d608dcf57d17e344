//! What the session needs to know about cargo while it traces it: cargo's stdout carries its
//! JSON messages (kept in the trace for attribution) and everything else the user should see
//! (test output, `cargo run` output, passed through unchanged); and proc-macro libraries appear
//! during the build (announced by cargo, or renamed onto `…/deps/lib*.so` by rustc), which the
//! session should put probes on before dependent crates expand them.

use std::{
    io::{BufRead, BufReader, Write},
    process::ChildStdout,
    sync::mpsc::{self, Receiver, RecvTimeoutError},
    time::{Duration, Instant},
};

use cargo_metadata::Message;

use super::messages;
use crate::{
    session::{Observer, ProbeRequests},
    trace::{CargoMessage, EventRecord, Line, RecordDetail, Sink},
};

/// One line of cargo's stdout.
enum StdoutLine {
    Message(Box<Message>),
    Text(String),
}

/// How long the last poll waits for cargo's final messages after it exited.
const LAST_MESSAGES: Duration = Duration::from_millis(200);

/// Where cargo's stdout lines that are not its messages (test output…) go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    Stdout,
    /// Our stdout carries a report (JSON, SARIF…).
    Stderr,
    /// Nowhere (recordings).
    Discard,
}

/// Observes a traced cargo.
pub struct CargoObserver {
    text: Text,
    lines: Option<Receiver<StdoutLine>>,
    target_dir: Option<std::path::PathBuf>,
}

impl CargoObserver {
    pub fn new(text: Text) -> Self {
        Self {
            text,
            lines: None,
            target_dir: None,
        }
    }

    /// The build's target directory: where its test and bin executables already are.
    pub fn with_target_dir(mut self, dir: &std::path::Path) -> Self {
        self.target_dir = Some(dir.to_path_buf());
        self
    }
}

/// The directories of a target directory where cargo puts executables that exist already
/// (`<profile>/deps`, `<profile>`, `<profile>/examples`, also under `<triple>/`): a build with
/// nothing to compile runs its tests right after cargo names them.
fn existing_executable_dirs(target: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let subdirs = |d: &std::path::Path| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(d)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.path())
                    .collect()
            })
            .unwrap_or_default()
    };
    for p in subdirs(target) {
        for profile in std::iter::once(p.clone()).chain(subdirs(&p)) {
            if profile.join("deps").is_dir() {
                out.push(profile.join("deps"));
                out.push(profile.join("examples"));
                out.push(profile);
            }
        }
    }
    out.retain(|d| d.is_dir());
    out
}

/// Reads lines on a thread of its own (a reader blocked in `read` must not stall tracing).
fn spawn_reader(out: ChildStdout) -> Receiver<StdoutLine> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            let item = if line.starts_with('{') {
                match serde_json::from_str::<Message>(&line) {
                    Ok(m) => Some(StdoutLine::Message(Box::new(m))),
                    // A message of a kind this version does not know is cargo's, not the
                    // user's: not printed, and nothing attribution uses.
                    Err(_) if is_cargo_message(&line) => None,
                    Err(_) => Some(StdoutLine::Text(line)),
                }
            } else {
                Some(StdoutLine::Text(line))
            };
            if let Some(item) = item
                && tx.send(item).is_err()
            {
                break;
            }
        }
    });
    rx
}

fn is_cargo_message(line: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(line).is_ok_and(|v| v.get("reason").is_some())
}

/// `…/deps/lib<name>-<hash>.so`: where rustc writes proc-macro libraries.
pub(crate) fn is_dylib_in_deps(path: &str) -> bool {
    let (dir, base) = path.rsplit_once('/').unwrap_or(("", path));
    dir.ends_with("/deps") && base.starts_with("lib") && base.ends_with(".so")
}

impl Observer for CargoObserver {
    fn pipes_stdout(&self) -> bool {
        true
    }

    fn stdout(&mut self, out: ChildStdout) {
        self.lines = Some(spawn_reader(out));
    }

    fn start(&mut self, probes: &mut ProbeRequests) {
        if let Some(t) = &self.target_dir {
            for d in existing_executable_dirs(t) {
                probes.stacks_in(&crate::events::text::from_os(d.as_os_str()));
            }
        }
    }

    fn record(&mut self, rec: &EventRecord, probes: &mut ProbeRequests) {
        if let RecordDetail::Rename { to, .. } = &rec.detail
            && rec.ok
            && let Some(abs) = &to.abs
            && is_dylib_in_deps(abs)
        {
            probes.library(abs.clone());
        }
    }

    /// Hands what cargo printed to the sink and to our stdout (or stderr); the last poll waits
    /// a little for the pipe to close.
    fn poll(
        &mut self,
        sink: &mut dyn Sink,
        probes: &mut ProbeRequests,
        last: bool,
    ) -> std::io::Result<()> {
        let Some(rx) = &self.lines else {
            return Ok(());
        };
        let deadline = Instant::now() + if last { LAST_MESSAGES } else { Duration::ZERO };
        let mut out: Box<dyn Write> = match self.text {
            Text::Stdout => Box::new(std::io::stdout().lock()),
            Text::Stderr => Box::new(std::io::stderr().lock()),
            Text::Discard => Box::new(std::io::sink()),
        };
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(StdoutLine::Message(m)) => {
                    for lib in messages::proc_macro_libraries(&m) {
                        probes.library(lib.to_string());
                    }
                    for dir in messages::executable_dirs(&m) {
                        probes.stacks_in(dir);
                    }
                    sink.write(&Line::CargoMessage(CargoMessage { message: *m }))?;
                }
                Ok(StdoutLine::Text(t)) => {
                    let _ = writeln!(out, "{t}");
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        let _ = out.flush();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executables_of_an_existing_target_dir_are_known_before_cargo_runs_them() {
        let t = tempfile::tempdir().unwrap();
        for d in [
            "debug/deps",
            "debug/examples",
            "debug/build/x-1/out",
            "x86_64-unknown-linux-gnu/release/deps",
            "tmp",
        ] {
            std::fs::create_dir_all(t.path().join(d)).unwrap();
        }
        let mut got: Vec<String> = existing_executable_dirs(t.path())
            .iter()
            .map(|d| d.strip_prefix(t.path()).unwrap().display().to_string())
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                "debug",
                "debug/deps",
                "debug/examples",
                "x86_64-unknown-linux-gnu/release",
                "x86_64-unknown-linux-gnu/release/deps",
            ]
        );
    }
}
