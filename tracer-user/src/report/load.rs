//! A recorded trace (`--events FILE`) read back, so `cargo tracer report` can re-render it
//! offline, without root.

use std::io::BufRead;

use serde_json::Value;

use crate::{
    cargo::invocation::BuildContext,
    record::{End, EventRecord, Start},
};

/// Everything a trace file holds.
#[derive(Debug, Default)]
pub struct Trace {
    pub start: Option<Start>,
    pub events: Vec<EventRecord>,
    pub cargo_messages: Vec<Value>,
    pub context: Option<BuildContext>,
    pub end: Option<End>,
}

/// A line of the file that is not what its `type` says.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("reading the trace: {0}")]
    Io(#[from] std::io::Error),
    #[error("line {line}: {reason}")]
    Line { line: usize, reason: String },
}

impl Trace {
    /// Reads JSON Lines as `cargo tracer run|build|test --events` writes them.
    pub fn read(r: impl BufRead) -> Result<Self, LoadError> {
        let mut t = Self::default();
        for (i, line) in r.lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let bad = |reason: String| LoadError::Line {
                line: i + 1,
                reason,
            };
            let v: Value = serde_json::from_str(&line).map_err(|e| bad(e.to_string()))?;
            let kind = v
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            match kind.as_str() {
                "start" => {
                    t.start = Some(serde_json::from_value(v).map_err(|e| bad(e.to_string()))?)
                }
                "event" => t
                    .events
                    .push(serde_json::from_value(v).map_err(|e| bad(e.to_string()))?),
                "end" => t.end = Some(serde_json::from_value(v).map_err(|e| bad(e.to_string()))?),
                "build_context" => {
                    t.context = Some(serde_json::from_value(v).map_err(|e| bad(e.to_string()))?)
                }
                "cargo_message" => t.cargo_messages.push(
                    v.get("message")
                        .cloned()
                        .ok_or_else(|| bad("no `message`".into()))?,
                ),
                other => return Err(bad(format!("unknown line type `{other}`"))),
            }
        }
        Ok(t)
    }
}
