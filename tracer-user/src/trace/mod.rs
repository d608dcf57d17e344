//! What a traced run produces, as one type: the `start` line, the build context (for cargo
//! builds), cargo's messages, every event in ring-buffer order, and the `end` line with the loss
//! counters. The live path collects it through a [`Sink`]; a recorded file is read back by the
//! same [`Line`] type that wrote it, so `report` sees exactly what the live run saw.
//! The schema is documented in `docs/EVENTS.md`.

pub mod access;
pub mod jsonl;
pub mod record;
pub mod sink;

use serde::{Deserialize, Serialize};

pub use record::{EventRecord, RecordDetail};
pub use sink::{Discard, Sink, Tee};

use crate::{loader::LossCounters, model::BuildContext};

/// Version of the JSON Lines schema. Bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// First line of a trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Start {
    pub schema_version: u32,
    pub tracer_version: String,
    pub command: Vec<String>,
    pub cwd: String,
    pub system_wide: bool,
    pub root_pid: u32,
    pub kernel: String,
    pub probes_attached: usize,
    /// Proc-macro uprobes are available: macros' own activity is told apart from rustc's.
    #[serde(default)]
    pub proc_macro_probes: bool,
}

/// Last line of a trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct End {
    pub schema_version: u32,
    /// `wait(2)` status of the traced command, decoded.
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub events: u64,
    pub lost: LossCounters,
    pub decode_errors: u64,
    /// False when anything was lost: the trace may miss behaviour.
    pub complete: bool,
}

impl End {
    /// Events lost in the kernel or not decodable.
    pub fn lost_events(&self) -> u64 {
        self.lost.total() + self.decode_errors
    }
}

/// One of cargo's JSON messages, kept for attribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CargoMessage {
    pub message: cargo_metadata::Message,
}

/// One line of a trace; `type` names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Line {
    Start(Start),
    BuildContext(BuildContext),
    CargoMessage(CargoMessage),
    Event(EventRecord),
    End(End),
}

/// A whole trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    pub start: Start,
    pub context: Option<BuildContext>,
    pub cargo_messages: Vec<cargo_metadata::Message>,
    pub events: Vec<EventRecord>,
    /// `None` if the trace ends before its `end` line (the tracer was killed): incomplete.
    pub end: Option<End>,
}

/// A trace that cannot be put together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    #[error("the trace does not begin with a `start` line")]
    NoStart,
    #[error("a second `start` line")]
    SecondStart,
    #[error("a line after the `end` line")]
    AfterEnd,
}

impl Trace {
    /// Complete: it has its `end` line and nothing was lost.
    pub fn complete(&self) -> bool {
        self.end.as_ref().is_some_and(|e| e.complete)
    }

    /// Events lost, as the `end` line counts them (0 when there is none).
    pub fn lost_events(&self) -> u64 {
        self.end.as_ref().map_or(0, End::lost_events)
    }

    /// Its lines in order, as [`jsonl`] writes them.
    pub fn lines(&self) -> impl Iterator<Item = Line> + '_ {
        std::iter::once(Line::Start(self.start.clone()))
            .chain(self.context.clone().map(Line::BuildContext))
            .chain(
                self.cargo_messages
                    .iter()
                    .map(|m| Line::CargoMessage(CargoMessage { message: m.clone() })),
            )
            .chain(self.events.iter().cloned().map(Line::Event))
            .chain(self.end.clone().map(Line::End))
    }
}

/// Puts a trace together from its lines, live or read back.
#[derive(Debug, Default)]
pub struct Collector {
    trace: Option<Trace>,
}

impl Collector {
    pub fn push(&mut self, line: Line) -> Result<(), TraceError> {
        let Some(t) = self.trace.as_mut() else {
            let Line::Start(start) = line else {
                return Err(TraceError::NoStart);
            };
            self.trace = Some(Trace {
                start,
                context: None,
                cargo_messages: Vec::new(),
                events: Vec::new(),
                end: None,
            });
            return Ok(());
        };
        if t.end.is_some() {
            return Err(TraceError::AfterEnd);
        }
        match line {
            Line::Start(_) => return Err(TraceError::SecondStart),
            Line::BuildContext(c) => t.context = Some(c),
            Line::CargoMessage(m) => t.cargo_messages.push(m.message),
            Line::Event(e) => t.events.push(e),
            Line::End(e) => t.end = Some(e),
        }
        Ok(())
    }

    pub fn finish(self) -> Result<Trace, TraceError> {
        self.trace.ok_or(TraceError::NoStart)
    }
}

impl Sink for Collector {
    fn write(&mut self, line: &Line) -> std::io::Result<()> {
        self.push(line.clone()).map_err(std::io::Error::other)
    }
}
