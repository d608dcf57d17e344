//! Traces as JSON Lines files: one [`Line`] per line, written and read by the same serde
//! definitions. A file whose name ends in `.zst` is zstd-compressed (a build's trace is ~470
//! bytes an event uncompressed); reading recognises compressed input by its magic number.

use std::{
    fs::File,
    io::{BufRead, BufReader, BufWriter, Write},
    path::{Path, PathBuf},
};

use crate::files::Hashing;

use super::{Collector, Damage, Line, Sink, Trace, TraceError};

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
    Plain(BufWriter<Hashing<File>>),
    Zstd(zstd::Encoder<'static, BufWriter<Hashing<File>>>),
}

/// Writes the trace file at a path: zstd-compressed when the name ends in `.zst`. The file is
/// created without following a symbolic link, and at the end it must still be at its path (a
/// build that moves it away and puts another there is caught); [`FileSink::sha256`] is the
/// digest of what was written.
pub struct FileSink {
    out: Option<TraceFile>,
    path: PathBuf,
    /// Created by this sink (given to the sudo caller when finished), not one that was there.
    new: bool,
    sha256: Option<String>,
}

impl FileSink {
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let created = crate::files::create(path)?;
        let new = created.new;
        let buffered = BufWriter::with_capacity(1 << 20, Hashing::new(created.file));
        Ok(Self {
            out: Some(if path.extension().is_some_and(|e| e == "zst") {
                // Level 3, zstd's default: fast enough to keep up with the probes.
                TraceFile::Zstd(zstd::Encoder::new(buffered, 3)?)
            } else {
                TraceFile::Plain(buffered)
            }),
            path: path.to_path_buf(),
            sha256: None,
            new,
        })
    }

    /// The SHA-256 (hex) of the finished file.
    pub fn sha256(&self) -> Option<&str> {
        self.sha256.as_deref()
    }
}

impl Sink for FileSink {
    fn write(&mut self, line: &Line) -> std::io::Result<()> {
        let out: &mut dyn Write = match &mut self.out {
            Some(TraceFile::Plain(w)) => w,
            Some(TraceFile::Zstd(w)) => w,
            None => return Err(std::io::Error::other("the trace file is already finished")),
        };
        serde_json::to_writer(&mut *out, line).map_err(std::io::Error::other)?;
        out.write_all(b"\n")
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.out {
            // A zstd flush ends the current block: the stream so far decodes.
            Some(TraceFile::Plain(w)) => w.flush(),
            Some(TraceFile::Zstd(w)) => w.flush(),
            None => Ok(()),
        }
    }
    fn finish(&mut self) -> std::io::Result<()> {
        let buffered = match self.out.take() {
            Some(TraceFile::Plain(w)) => w,
            Some(TraceFile::Zstd(w)) => w.finish()?,
            None => return Ok(()),
        };
        let hashing = buffered.into_inner().map_err(|e| e.into_error())?;
        let (file, digest) = hashing.finish();
        file.sync_all()?;
        if !crate::files::still_at(&file, &self.path).unwrap_or(false) {
            return Err(std::io::Error::other(format!(
                "{} was moved or replaced while the traced command ran: the file there now is \
                 not the trace (a process of the build?)",
                self.path.display()
            )));
        }
        // Only now the invoking user's: while the build ran it could have rewritten it.
        if self.new {
            crate::files::hand_over(&file)?;
        }
        self.sha256 = Some(digest);
        Ok(())
    }
}

/// How a zstd frame begins.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Why a trace file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("reading the trace")]
    Io(#[from] std::io::Error),
    #[error("line {line}: {reason}")]
    Line { line: usize, reason: String },
    #[error("line {line}: {error}")]
    Order { line: usize, error: TraceError },
    #[error("{0}")]
    Empty(TraceError),
}

/// Reads a trace as `run|build|test --events` writes it. A file cut short — in the middle of
/// its last line, or of its compressed stream — is what a stopped tracer leaves: what was read
/// is kept and the trace is incomplete. A line that is not a trace line anywhere else is an
/// error.
pub fn read(mut r: impl BufRead) -> Result<Trace, ReadError> {
    let mut c = Collector::default();
    let mut buf = Vec::new();
    let mut line_no = 0;
    loop {
        buf.clear();
        match r.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            // A compressed stream that ends before its frame does.
            Err(e)
                if e.kind() == std::io::ErrorKind::UnexpectedEof
                    && (line_no > 0 || !buf.is_empty()) =>
            {
                c.damaged(Damage::Unfinished { line: line_no + 1 });
                break;
            }
            Err(e) => return Err(ReadError::Io(e)),
        }
        line_no += 1;
        let complete_line = buf.ends_with(b"\n");
        let text = String::from_utf8_lossy(&buf);
        if text.trim().is_empty() {
            continue;
        }
        let line: Line = match serde_json::from_str(&text) {
            Ok(l) => l,
            Err(_) if !complete_line && line_no > 1 => {
                c.damaged(Damage::CutShort { line: line_no });
                break;
            }
            Err(e) => {
                return Err(ReadError::Line {
                    line: line_no,
                    reason: e.to_string(),
                });
            }
        };
        c.push(line).map_err(|error| ReadError::Order {
            line: line_no,
            error,
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
        read(BufReader::new(zstd::Decoder::new(bytes)?))
    } else {
        read(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{End, Start};

    fn start() -> Line {
        Line::Start(Start {
            schema_version: super::super::SCHEMA_VERSION,
            tracer_version: "t".into(),
            command: vec!["true".into()],
            cwd: "/".into(),
            system_wide: false,
            root_pid: 1,
            tracer_pid: None,
            kernel: "k".into(),
            probes_attached: 1,
            proc_macro_probes: true,
        })
    }

    fn end(events: u64) -> Line {
        Line::End(End {
            schema_version: super::super::SCHEMA_VERSION,
            exit_code: Some(0),
            signal: None,
            events,
            lost: Default::default(),
            decode_errors: 0,
            complete: true,
            still_running: Vec::new(),
        })
    }

    fn text(lines: &[Line]) -> Vec<u8> {
        let mut w = Writer(Vec::new());
        for l in lines {
            w.write(l).unwrap();
        }
        w.0
    }

    #[test]
    fn a_trace_cut_anywhere_is_read_as_incomplete() {
        let whole = text(&[start(), end(0)]);
        assert!(read(&whole[..]).unwrap().complete());
        // Cut inside the last line, and before it.
        for cut in [whole.len() - 5, whole.len() - 30] {
            let t = read(&whole[..cut]).unwrap();
            assert!(!t.complete(), "cut at {cut}");
        }
        // Compressed, cut inside the frame (long enough for blocks before the cut to decode).
        let mut long = text(&[start()]);
        for i in 0..20_000 {
            long.extend(
                format!("{{\"type\":\"cargo_message\",\"message\":{{\"reason\":\"build-finished\",\"success\":{}}}}}\n", i % 3 == 0)
                    .bytes(),
            );
        }
        long.extend(text(&[end(0)]));
        let z = zstd::encode_all(&long[..], 3).unwrap();
        let t = read_bytes(&z).unwrap();
        assert!(t.complete() && t.cargo_messages.len() == 20_000);
        let t = read_bytes(&z[..z.len() - 4]).unwrap();
        assert!(!t.complete() && !t.cargo_messages.is_empty());
        // A broken line that is not the last is an error.
        let mut bad = b"{}\n".to_vec();
        bad.extend(&whole);
        assert!(read(&bad[..]).is_err());
    }

    #[test]
    fn an_end_line_cannot_claim_what_its_counters_deny() {
        let mut e = end(0);
        if let Line::End(x) = &mut e {
            x.lost.ringbuf = u64::MAX;
            x.lost.inflight = 1;
            x.decode_errors = u64::MAX;
        }
        let t = read(&text(&[start(), e])[..]).unwrap();
        assert_eq!(t.lost_events(), u64::MAX);
        assert!(
            !t.complete(),
            "`complete: true` with losses is not complete"
        );
        // An end line counting events the file does not hold.
        let t = read(&text(&[start(), end(3)])[..]).unwrap();
        assert!(!t.complete());
    }

    #[test]
    fn other_schema_versions_are_refused() {
        let mut s = start();
        if let Line::Start(x) = &mut s {
            x.schema_version = 99;
        }
        let e = read(&text(&[s, end(0)])[..]).unwrap_err();
        assert!(e.to_string().contains("schema version 99"), "{e}");
    }
}
