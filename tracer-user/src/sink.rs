//! Where a trace goes as it happens: JSON Lines to a file, memory, both, or nowhere.

use std::io::Write;

use serde_json::Value;

use crate::record::{self, EventRecord};

/// Receives the trace as it happens.
pub trait Sink {
    fn start(&mut self, start: &record::Start) -> std::io::Result<()>;
    fn event(&mut self, rec: &EventRecord) -> std::io::Result<()>;
    /// Anything else the trace file keeps (`cargo_message`, `build_context`): `v` is an object.
    fn extra(&mut self, kind: &str, v: &Value) -> std::io::Result<()>;
    fn end(&mut self, end: &record::End) -> std::io::Result<()>;
}

/// Writes JSON Lines: each object gets a `type` field naming the line.
pub struct JsonLines<W: Write>(pub W);

impl<W: Write> JsonLines<W> {
    fn line<T: serde::Serialize>(&mut self, kind: &str, v: &T) -> std::io::Result<()> {
        let mut obj = serde_json::to_value(v).map_err(std::io::Error::other)?;
        if let Some(map) = obj.as_object_mut() {
            map.insert("type".into(), kind.into());
        }
        serde_json::to_writer(&mut self.0, &obj).map_err(std::io::Error::other)?;
        self.0.write_all(b"\n")
    }
}

impl<W: Write> Sink for JsonLines<W> {
    fn start(&mut self, s: &record::Start) -> std::io::Result<()> {
        self.line("start", s)
    }
    fn event(&mut self, r: &EventRecord) -> std::io::Result<()> {
        self.line("event", r)
    }
    fn extra(&mut self, kind: &str, v: &Value) -> std::io::Result<()> {
        self.line(kind, v)
    }
    fn end(&mut self, e: &record::End) -> std::io::Result<()> {
        self.line("end", e)?;
        self.0.flush()
    }
}

/// Keeps everything in memory (tests, and the per-crate report).
#[derive(Debug, Default)]
pub struct Collect {
    pub start: Option<record::Start>,
    pub events: Vec<EventRecord>,
    pub extras: Vec<(String, Value)>,
    pub end: Option<record::End>,
}

impl Collect {
    /// The extra lines of one kind.
    pub fn extras_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> {
        self.extras
            .iter()
            .filter(move |(k, _)| k == kind)
            .map(|(_, v)| v)
    }
}

impl Sink for Collect {
    fn start(&mut self, s: &record::Start) -> std::io::Result<()> {
        self.start = Some(s.clone());
        Ok(())
    }
    fn event(&mut self, r: &EventRecord) -> std::io::Result<()> {
        self.events.push(r.clone());
        Ok(())
    }
    fn extra(&mut self, kind: &str, v: &Value) -> std::io::Result<()> {
        self.extras.push((kind.to_string(), v.clone()));
        Ok(())
    }
    fn end(&mut self, e: &record::End) -> std::io::Result<()> {
        self.end = Some(e.clone());
        Ok(())
    }
}

/// Sends everything to two sinks.
pub struct Tee<'a>(pub &'a mut dyn Sink, pub &'a mut dyn Sink);

impl Sink for Tee<'_> {
    fn start(&mut self, s: &record::Start) -> std::io::Result<()> {
        self.0.start(s)?;
        self.1.start(s)
    }
    fn event(&mut self, r: &EventRecord) -> std::io::Result<()> {
        self.0.event(r)?;
        self.1.event(r)
    }
    fn extra(&mut self, kind: &str, v: &Value) -> std::io::Result<()> {
        self.0.extra(kind, v)?;
        self.1.extra(kind, v)
    }
    fn end(&mut self, e: &record::End) -> std::io::Result<()> {
        self.0.end(e)?;
        self.1.end(e)
    }
}

/// Keeps nothing (`run` without `--events`).
pub struct Discard;

impl Sink for Discard {
    fn start(&mut self, _: &record::Start) -> std::io::Result<()> {
        Ok(())
    }
    fn event(&mut self, _: &EventRecord) -> std::io::Result<()> {
        Ok(())
    }
    fn extra(&mut self, _: &str, _: &Value) -> std::io::Result<()> {
        Ok(())
    }
    fn end(&mut self, _: &record::End) -> std::io::Result<()> {
        Ok(())
    }
}
