//! The traced cargo's stdout: JSON messages are kept for attribution, everything else (test
//! output, `cargo run` output) is passed through unchanged.

use std::{
    io::{BufRead, BufReader, Write},
    process::ChildStdout,
    sync::mpsc::{self, Receiver, RecvTimeoutError},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::{session::SessionError, sink::Sink};

/// One line of cargo's stdout.
pub enum Line {
    Message(Value),
    Text(String),
}

/// Reads lines on a thread of its own (a reader blocked in `read` must not stall tracing).
pub fn spawn_reader(out: ChildStdout) -> Receiver<Line> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            let msg = if line.starts_with('{') {
                serde_json::from_str::<Value>(&line)
                    .ok()
                    .filter(|v| v.get("reason").is_some())
            } else {
                None
            };
            let item = match msg {
                Some(v) => Line::Message(v),
                None => Line::Text(line),
            };
            if tx.send(item).is_err() {
                break;
            }
        }
    });
    rx
}

/// Proc-macro libraries a `compiler-artifact` message announces.
fn proc_macro_libs(v: &Value) -> Vec<String> {
    let is_pm = v
        .pointer("/target/kind")
        .and_then(Value::as_array)
        .is_some_and(|k| k.iter().any(|x| x == "proc-macro"));
    if v.get("reason").and_then(Value::as_str) != Some("compiler-artifact") || !is_pm {
        return Vec::new();
    }
    v.get("filenames")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|f| f.ends_with(".so"))
        .map(str::to_string)
        .collect()
}

/// Hands what has arrived to the sink / our stdout, waiting up to `wait` for the pipe to close.
/// Appends the proc-macro libraries cargo announced to `proc_macros`.
pub fn forward(
    rx: &Receiver<Line>,
    sink: &mut dyn Sink,
    wait: Duration,
    text_to_stderr: bool,
    proc_macros: &mut Vec<String>,
) -> Result<(), SessionError> {
    let deadline = Instant::now() + wait;
    let mut out: Box<dyn Write> = if text_to_stderr {
        Box::new(std::io::stderr().lock())
    } else {
        Box::new(std::io::stdout().lock())
    };
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Line::Message(v)) => {
                proc_macros.extend(proc_macro_libs(&v));
                sink.extra("cargo_message", &json!({ "message": v }))
                    .map_err(SessionError::Sink)?
            }
            Ok(Line::Text(t)) => {
                let _ = writeln!(out, "{t}");
            }
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    let _ = out.flush();
    Ok(())
}
