//! What a traced run produces, as one type: the `start` line, the build context (for cargo
//! builds), cargo's messages, every event in ring-buffer order, and the `end` line with the loss
//! counters. The live path collects it through a [`Sink`]; a recorded file is read back by the
//! same [`Line`] type that wrote it, so `report` sees exactly what the live run saw.
//! The schema is documented in `docs/EVENTS.md`.

pub mod access;
pub mod jsonl;
pub mod record;
pub mod sink;
pub mod stack;

use serde::{Deserialize, Serialize};

pub use record::{EventRecord, RecordDetail};
pub use sink::{Discard, Sink, Tee};

use crate::{
    loader::LossCounters,
    model::{BuildContext, findings::ScanReport, graph::Graph},
};

/// Version of the JSON Lines schema. Bumped on any incompatible change. 2: paths, argv and
/// `comm` keep their bytes exactly (`events::text`: `\\` for a backslash, `\xNN` for a byte that
/// is not UTF-8); version 1 converted them lossily. 3: successful opens and execs carry the
/// kernel's own path of what they reached (`real`, or `real_unknown`); a version-2 trace is
/// judged on its path strings, as it was then.
pub const SCHEMA_VERSION: u32 = 3;

/// Versions this reader understands (a version-1 trace reads as it was written: lossy).
pub const READS: std::ops::RangeInclusive<u32> = 1..=SCHEMA_VERSION;

/// First line of a trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Start {
    pub schema_version: u32,
    pub tracer_version: String,
    pub command: Vec<String>,
    pub cwd: String,
    pub system_wide: bool,
    pub root_pid: u32,
    /// The tracer's own pid: a traced process writing into its `/proc` files is tampering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracer_pid: Option<u32>,
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
    /// Traced processes still running when tracing stopped (after `--linger-ms`): whatever they
    /// do from then on is not traced, so a verdict is incomplete if one is a crate's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub still_running: Vec<u32>,
}

impl End {
    /// Events lost in the kernel or not decodable.
    pub fn lost_events(&self) -> u64 {
        self.lost.total().saturating_add(self.decode_errors)
    }
}

/// What a trace shows of having been damaged after it was written: it is incomplete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "damage", rename_all = "kebab-case")]
pub enum Damage {
    /// The file ends in the middle of line `line` (the tracer was stopped while writing).
    CutShort { line: usize },
    /// The compressed file ends before its last frame.
    Unfinished { line: usize },
    /// Event numbers jump from `after` to `next`: events are missing.
    Gap { after: u64, next: u64 },
    /// The `end` line counts `recorded` events, the file holds `read`.
    Missing { recorded: u64, read: u64 },
}

/// One of cargo's JSON messages, kept for attribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CargoMessage {
    pub message: cargo_metadata::Message,
}

/// One line of a trace; `type` names it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Line {
    Start(Start),
    BuildContext(BuildContext),
    /// The dependency graph the build was judged with (`build|test`).
    Graph(Graph),
    CargoMessage(CargoMessage),
    /// A call stack, before the first event that names it.
    Stack(stack::StackLine),
    Event(EventRecord),
    End(End),
    /// The static scan the build was judged with: after `end`, since it completes after the
    /// build (it reads the compiled artifacts).
    Scan(Box<ScanReport>),
}

/// A whole trace.
#[derive(Debug, Clone)]
pub struct Trace {
    pub start: Start,
    pub context: Option<BuildContext>,
    pub graph: Option<Graph>,
    pub cargo_messages: Vec<cargo_metadata::Message>,
    pub events: Vec<EventRecord>,
    /// The call stacks events name.
    pub stacks: stack::StackTable,
    /// `None` if the trace ends before its `end` line (the tracer was killed): incomplete.
    pub end: Option<End>,
    pub scan: Option<ScanReport>,
    /// Damage found while reading it.
    pub damage: Vec<Damage>,
}

/// A trace that cannot be put together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    #[error("the trace does not begin with a `start` line")]
    NoStart,
    #[error("a second `start` line")]
    SecondStart,
    #[error("a second `build_context` line")]
    SecondContext,
    #[error("a second `{0}` line")]
    Second(&'static str),
    #[error("a line after the `end` line")]
    AfterEnd,
    #[error(
        "the trace is of schema version {found}; this cargo-tracer reads versions {} to {SCHEMA_VERSION} (written by another version of cargo-tracer?)", READS.start()
    )]
    Schema { found: u32 },
    #[error("event {seq} comes after event {after}: the events are out of order")]
    OutOfOrder { seq: u64, after: u64 },
}

impl Trace {
    /// Complete: it has its `end` line, nothing was lost (by the counters, whatever the line
    /// claims) and nothing shows damage.
    pub fn complete(&self) -> bool {
        self.damage.is_empty()
            && self
                .end
                .as_ref()
                .is_some_and(|e| e.complete && e.lost_events() == 0)
    }

    /// Events lost, as the `end` line counts them (0 when there is none).
    pub fn lost_events(&self) -> u64 {
        self.end.as_ref().map_or(0, End::lost_events)
    }

    /// Its lines in order, as [`jsonl`] writes them.
    pub fn lines(&self) -> impl Iterator<Item = Line> + '_ {
        // Each stack goes before the first event that names it.
        let mut first: std::collections::HashMap<u32, u64> = std::collections::HashMap::new();
        for e in &self.events {
            if let Some(id) = e.stack_id {
                first.entry(id).or_insert(e.seq);
            }
        }
        std::iter::once(Line::Start(self.start.clone()))
            .chain(self.context.clone().map(Line::BuildContext))
            .chain(self.graph.clone().map(Line::Graph))
            .chain(
                self.cargo_messages
                    .iter()
                    .map(|m| Line::CargoMessage(CargoMessage { message: m.clone() })),
            )
            .chain(self.events.iter().flat_map(move |e| {
                e.stack_id
                    .filter(|id| first.get(id) == Some(&e.seq))
                    .and_then(|id| self.stacks.get(&id).map(|s| (id, s)))
                    .map(|(id, s)| {
                        Line::Stack(stack::StackLine {
                            id,
                            stack: s.clone(),
                        })
                    })
                    .into_iter()
                    .chain(std::iter::once(Line::Event(e.clone())))
            }))
            .chain(self.end.clone().map(Line::End))
            .chain(self.scan.clone().map(|s| Line::Scan(Box::new(s))))
    }
}

/// Puts a trace together from its lines, live or read back, checking that they fit together:
/// one start of this schema version first, events in order (a gap is damage: events are
/// missing), nothing after the end.
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
            if !READS.contains(&start.schema_version) {
                return Err(TraceError::Schema {
                    found: start.schema_version,
                });
            }
            self.trace = Some(Trace {
                start,
                context: None,
                graph: None,
                scan: None,
                cargo_messages: Vec::new(),
                events: Vec::new(),
                stacks: stack::StackTable::new(),
                end: None,
                damage: Vec::new(),
            });
            return Ok(());
        };
        match line {
            // The one line that may follow `end`.
            Line::Scan(_) if t.scan.is_some() => return Err(TraceError::Second("scan")),
            Line::Scan(scan) => t.scan = Some(*scan),
            _ if t.end.is_some() => return Err(TraceError::AfterEnd),
            Line::Start(_) => return Err(TraceError::SecondStart),
            Line::BuildContext(_) if t.context.is_some() => return Err(TraceError::SecondContext),
            Line::BuildContext(c) => t.context = Some(c),
            Line::Graph(_) if t.graph.is_some() => return Err(TraceError::Second("graph")),
            Line::Graph(g) => t.graph = Some(g),
            Line::CargoMessage(m) => t.cargo_messages.push(m.message),
            Line::Stack(s) if t.stacks.contains_key(&s.id) => {
                return Err(TraceError::Second("stack of that id"));
            }
            Line::Stack(s) => {
                t.stacks.insert(s.id, s.stack);
            }
            Line::Event(e) => {
                if e.schema_version != t.start.schema_version {
                    return Err(TraceError::Schema {
                        found: e.schema_version,
                    });
                }
                let after = t.events.last().map_or(0, |l| l.seq);
                if e.seq <= after {
                    return Err(TraceError::OutOfOrder { seq: e.seq, after });
                }
                if e.seq != after + 1 {
                    t.damage.push(Damage::Gap { after, next: e.seq });
                }
                t.events.push(e);
            }
            Line::End(e) => {
                if e.schema_version != t.start.schema_version {
                    return Err(TraceError::Schema {
                        found: e.schema_version,
                    });
                }
                let read = t.events.len() as u64;
                if e.events != read {
                    t.damage.push(Damage::Missing {
                        recorded: e.events,
                        read,
                    });
                }
                t.end = Some(e);
            }
        }
        Ok(())
    }

    /// Records damage the reader found (the file was cut).
    pub fn damaged(&mut self, d: Damage) {
        if let Some(t) = self.trace.as_mut() {
            t.damage.push(d);
        }
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
