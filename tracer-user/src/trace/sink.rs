//! Where a trace goes as it happens: a file ([`super::jsonl::Writer`]), memory
//! ([`super::Collector`]), both ([`Tee`]), or nowhere ([`Discard`]).

use super::Line;

/// Receives the trace, line by line, as it happens.
pub trait Sink {
    fn write(&mut self, line: &Line) -> std::io::Result<()>;
    /// After the last line (flushes files).
    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
    /// Makes what was written so far durable, now and then during a run: a tracer killed
    /// outright leaves a trace that is cut short, not empty.
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sends everything to two sinks.
pub struct Tee<'a>(pub &'a mut dyn Sink, pub &'a mut dyn Sink);

impl Sink for Tee<'_> {
    fn write(&mut self, line: &Line) -> std::io::Result<()> {
        self.0.write(line)?;
        self.1.write(line)
    }
    fn finish(&mut self) -> std::io::Result<()> {
        self.0.finish()?;
        self.1.finish()
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()?;
        self.1.flush()
    }
}

/// Keeps nothing (`run` without `--events`).
pub struct Discard;

impl Sink for Discard {
    fn write(&mut self, _: &Line) -> std::io::Result<()> {
        Ok(())
    }
}
