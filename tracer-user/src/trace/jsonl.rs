//! Traces as JSON Lines files: one [`Line`] per line, written and read by the same serde
//! definitions. A file whose name ends in `.zst` is zstd-compressed (a build's trace is ~470
//! bytes an event uncompressed); reading recognises compressed input by its magic number.

use std::{
    fs::File,
    io::{BufRead, BufReader, BufWriter, Read, Write},
    path::Path,
};

use super::{Collector, Line, Sink, Trace, TraceError};

/// Writes lines to `W`.
pub struct Writer<W: Write>(pub W);

impl<W: Write> Sink for Writer<W> {
    fn write(&mut self, line: &Line) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.0, line).map_err(std::io::Error::other)?;
        self.0.write_all(b"\n")
    }
    fn finish(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// A trace file being written.
enum TraceFile {
    Plain(BufWriter<File>),
    Zstd(zstd::Encoder<'static, BufWriter<File>>),
}

/// Writes the trace file at a path: zstd-compressed when the name ends in `.zst`.
pub struct FileSink(Option<TraceFile>);

impl FileSink {
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let buffered = BufWriter::with_capacity(1 << 20, File::create(path)?);
        Ok(Self(Some(
            if path.extension().is_some_and(|e| e == "zst") {
                // Level 3, zstd's default: fast enough to keep up with the probes.
                TraceFile::Zstd(zstd::Encoder::new(buffered, 3)?)
            } else {
                TraceFile::Plain(buffered)
            },
        )))
    }
}

impl Sink for FileSink {
    fn write(&mut self, line: &Line) -> std::io::Result<()> {
        let out: &mut dyn Write = match &mut self.0 {
            Some(TraceFile::Plain(w)) => w,
            Some(TraceFile::Zstd(w)) => w,
            None => return Err(std::io::Error::other("the trace file is already finished")),
        };
        serde_json::to_writer(&mut *out, line).map_err(std::io::Error::other)?;
        out.write_all(b"\n")
    }
    fn finish(&mut self) -> std::io::Result<()> {
        match self.0.take() {
            Some(TraceFile::Plain(mut w)) => w.flush(),
            Some(TraceFile::Zstd(w)) => w.finish()?.flush(),
            None => Ok(()),
        }
    }
}

/// How a zstd frame begins.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Why a trace file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("reading the trace: {0}")]
    Io(#[from] std::io::Error),
    #[error("line {line}: {reason}")]
    Line { line: usize, reason: String },
    #[error("line {line}: {source}")]
    Order { line: usize, source: TraceError },
    #[error("{0}")]
    Empty(TraceError),
}

/// Reads a trace as `run|build|test --events` writes it.
pub fn read(r: impl BufRead) -> Result<Trace, ReadError> {
    let mut c = Collector::default();
    for (i, text) in r.lines().enumerate() {
        let text = text?;
        if text.trim().is_empty() {
            continue;
        }
        let line: Line = serde_json::from_str(&text).map_err(|e| ReadError::Line {
            line: i + 1,
            reason: e.to_string(),
        })?;
        c.push(line).map_err(|source| ReadError::Order {
            line: i + 1,
            source,
        })?;
    }
    c.finish().map_err(ReadError::Empty)
}

/// Reads the trace file at `path`, compressed or not.
pub fn read_file(path: &Path) -> Result<Trace, ReadError> {
    let mut f = BufReader::with_capacity(1 << 20, File::open(path)?);
    if f.fill_buf()?.starts_with(&ZSTD_MAGIC) {
        read(BufReader::new(zstd::Decoder::with_buffer(f)?))
    } else {
        read(f)
    }
}

/// Reads a trace from bytes, compressed or not (tests, golden traces).
pub fn read_bytes(bytes: &[u8]) -> Result<Trace, ReadError> {
    if bytes.starts_with(&ZSTD_MAGIC) {
        let mut text = Vec::new();
        zstd::Decoder::new(bytes)?.read_to_end(&mut text)?;
        read(&text[..])
    } else {
        read(bytes)
    }
}
