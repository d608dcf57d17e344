//! The daemon's control socket: one JSON line asks, one JSON line answers. The socket lives in
//! a directory only root (and the group given at start, if one is) can enter, the daemon
//! checks each peer's credentials (a traced build
//! runs as an ordinary user and must not be able to stop or question the tracer), and the
//! client checks that root serves the socket (a build must not answer in the daemon's place).

use std::{
    io::{BufRead, BufReader, Write},
    os::unix::net::UnixStream,
    path::{Path, PathBuf},
    time::Duration,
};

use serde::{Deserialize, Serialize};

use crate::loader::LossCounters;

/// Where the daemon listens unless told otherwise.
pub const DEFAULT_SOCKET: &str = "/run/cargo-tracer/daemon.sock";

/// A request to the daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "request")]
pub enum Request {
    Status,
    /// Stop tracing, finish every invocation's trace, and exit.
    Stop,
}

/// One cargo invocation the daemon traced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvocationStatus {
    pub id: usize,
    pub pid: u32,
    pub command: Vec<String>,
    pub cwd: String,
    /// The workspace it built, once read (its policy judges it).
    pub workspace: Option<PathBuf>,
    /// Its trace, once finished (`None` while it runs).
    pub trace: Option<PathBuf>,
    /// The SHA-256 of the trace as the daemon wrote it: the build may be able to write where
    /// the traces are, so `stop` judges a trace only if it is still exactly that.
    pub sha256: Option<String>,
    pub events: u64,
    pub running: bool,
    /// It ran something besides cargo (`cargo --version` did not): it is judged.
    pub judged: bool,
    /// Why its trace is not whole.
    pub problem: Option<String>,
    /// Its project's policy files as they were when it started: what `stop` judges it with.
    pub policy: Option<crate::policy::Snapshot>,
    /// Why they could not be copied.
    pub policy_error: Option<String>,
}

/// What the daemon is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub pid: u32,
    pub version: String,
    /// Where the traces go.
    pub dir: PathBuf,
    pub uptime_ms: u64,
    pub events: u64,
    pub lost: LossCounters,
    pub decode_errors: u64,
    /// Records of processes in no invocation (the trace of the job missed something).
    pub unrouted: u64,
    pub invocations: Vec<InvocationStatus>,
    /// The daemon's own peak memory (KiB).
    pub max_rss_kib: u64,
    /// How much of it the probes' ring buffers are, mapped twice (`crate::memory`).
    #[serde(default)]
    pub ring_mappings_kib: u64,
}

/// The daemon's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "response")]
pub enum Response {
    Status(Status),
    /// Tracing stopped; every invocation's trace is written.
    Stopped(Status),
    Error {
        message: String,
    },
}

/// Why the daemon could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error(
        "no cargo-tracer daemon is listening on {path} (start one with `cargo tracer daemon start`; \
         one that was started and is gone crashed or was killed: its log is DIR/daemon.log, and the \
         traces it finished are beside it)"
    )]
    NotRunning {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is root's: `cargo tracer daemon` needs root (sudo)")]
    NeedsRoot {
        path: String,
        source: std::io::Error,
    },
    #[error("talking to the daemon on {path}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the daemon's answer is not one this version understands: {0}")]
    Answer(String),
    #[error("{path} is served by uid {uid}, not root: not the cargo-tracer daemon")]
    NotRoot { path: String, uid: u32 },
}

/// Sends `req` and waits for the answer (a stop waits for every trace to be finished).
pub fn ask(socket: &Path, req: Request, timeout: Duration) -> Result<Response, ControlError> {
    let path = socket.display().to_string();
    let io = |source| ControlError::Io {
        path: path.clone(),
        source,
    };
    let mut s = UnixStream::connect(socket).map_err(|source| {
        if source.kind() == std::io::ErrorKind::PermissionDenied {
            ControlError::NeedsRoot {
                path: path.clone(),
                source,
            }
        } else {
            ControlError::NotRunning {
                path: path.clone(),
                source,
            }
        }
    })?;
    // The daemon is root's: anything else listening there (a build that replaced the socket)
    // is not asked.
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    match peer(&s).map_err(io)?.uid {
        0 => {}
        uid if uid == me => {}
        uid => return Err(ControlError::NotRoot { path, uid }),
    }
    s.set_read_timeout(Some(timeout)).map_err(io)?;
    let mut line = serde_json::to_string(&req).map_err(|e| ControlError::Answer(e.to_string()))?;
    line.push('\n');
    s.write_all(line.as_bytes()).map_err(io)?;
    let mut answer = String::new();
    BufReader::new(s).read_line(&mut answer).map_err(io)?;
    serde_json::from_str(&answer).map_err(|e| ControlError::Answer(e.to_string()))
}

/// Who is at the other end of `s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    pub pid: u32,
    pub uid: u32,
    pub gid: u32,
}

impl Peer {
    /// Root, or a member of group `gid` (its primary group or one of its others, as the
    /// kernel has them for the process now).
    pub fn may_control(&self, gid: Option<u32>) -> bool {
        if self.uid == 0 {
            return true;
        }
        let Some(g) = gid else { return false };
        if self.gid == g {
            return true;
        }
        std::fs::read_to_string(format!("/proc/{}/status", self.pid)).is_ok_and(|st| {
            st.lines()
                .filter_map(|l| l.strip_prefix("Groups:"))
                .flat_map(str::split_whitespace)
                .any(|x| x.parse() == Ok(g))
        })
    }
}

/// Who is at the other end of `s` (as the kernel recorded at connect).
pub fn peer(s: &UnixStream) -> std::io::Result<Peer> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` is a ucred and `len` its size, as SO_PEERCRED expects.
    let rc = unsafe {
        libc::getsockopt(
            std::os::fd::AsRawFd::as_raw_fd(s),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(Peer {
        pid: cred.pid as u32,
        uid: cred.uid,
        gid: cred.gid,
    })
}

/// Reads one request from a connection (bounded: a peer cannot make the daemon wait or
/// buffer without end).
pub fn read_request(s: &UnixStream) -> Result<Request, String> {
    // A client writes its request as soon as it connects: a silent peer must not keep the
    // daemon from draining the rings for long.
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    BufReader::new(std::io::Read::take(s, 4096))
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    serde_json::from_str(line.trim()).map_err(|e| format!("not a request: {e}"))
}

/// Writes one answer.
pub fn answer(mut s: &UnixStream, r: &Response) -> std::io::Result<()> {
    // Nor one that does not read its answer.
    s.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut line = serde_json::to_string(r).map_err(std::io::Error::other)?;
    line.push('\n');
    s.write_all(line.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_answers_round_trip_as_one_json_line_each() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let server = std::thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            let p = peer(&s).unwrap();
            // SAFETY: geteuid has no preconditions.
            assert_eq!(p.uid, unsafe { libc::geteuid() });
            assert!(p.may_control(Some(p.gid)));
            let req = read_request(&s).unwrap();
            assert_eq!(req, Request::Stop);
            answer(
                &s,
                &Response::Error {
                    message: "no".into(),
                },
            )
            .unwrap();
        });
        let got = ask(&path, Request::Stop, Duration::from_secs(5)).unwrap();
        server.join().unwrap();
        assert_eq!(
            got,
            Response::Error {
                message: "no".into()
            }
        );
        assert!(matches!(
            ask(
                &dir.path().join("none"),
                Request::Status,
                Duration::from_secs(1)
            ),
            Err(ControlError::NotRunning { .. })
        ));
    }
}
