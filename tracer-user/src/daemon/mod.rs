//! `cargo tracer daemon`: the probes loaded once for a whole CI job, and every cargo invocation
//! on the machine traced from `start` to `stop` — ones other tools and scripts start too, and
//! whatever they leave running. The probes adopt any process that execs a program named
//! `cargo` (`trace_cargo`); `jobs` gives each invocation a trace of its own, and `stop` has
//! them judged as `report` judges a recorded build.
//!
//! One event loop polls the ring buffer and the control socket (`control`), with SIGTERM,
//! SIGINT and SIGHUP noted as a stop. Only one daemon runs on a machine (a lock in
//! `/run/cargo-tracer`), whatever its socket.
//! What the daemon cannot do that `cargo tracer build` does: it starts none of the processes,
//! so it cannot install the seccomp filter (32-bit system calls and io_uring are not refused:
//! a ring set up still makes the verdict incomplete), nor set `NO_NEW_PRIVS`.

pub mod control;
pub mod jobs;

use std::{
    os::{
        fd::AsRawFd,
        unix::{fs::PermissionsExt, net::UnixListener},
    },
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use control::{Request, Response, Status};
use jobs::Jobs;

use crate::{
    cargo::graph::OwnRuns,
    loader::{LoadError, LoadOptions, Probes},
    session::{self, Macros, ProbeRequests, StopOnSignal, pipeline::Pipeline},
    trace,
};

/// How the daemon runs.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// Where each invocation's trace is written.
    pub dir: PathBuf,
    pub socket: PathBuf,
    pub ring_bytes: u32,
    /// How long an invocation's processes are traced after its cargo exited.
    pub linger: Duration,
    /// A group whose members may use the control socket too (`--group`).
    pub group: Option<(String, u32)>,
}

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(
        "a cargo-tracer daemon is already running on this machine (one traces every cargo run; \
         `cargo tracer daemon status` shows it)"
    )]
    Running,
    #[error("setting up the control socket {path}")]
    Socket {
        path: String,
        source: std::io::Error,
    },
    #[error("creating the directory for the traces, {path}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
    #[error("polling: {0}")]
    Poll(std::io::Error),
    #[error(
        "the control socket's directory {0} is not root's alone (owned by another user, or \
         others may write to it): a build could replace the socket"
    )]
    SocketDir(String),
    #[error(
        "--group needs the control socket in a directory of its own: {0} exists and is not that \
         group's (give --socket in a new directory, or remove {0})"
    )]
    GroupDir(String),
}

/// Holds the lock that makes this the only daemon for its socket.
struct Lock(#[allow(dead_code)] std::fs::File);

/// The lock held by the one daemon of the machine, whatever its socket: two would each trace
/// the other's `cargo metadata` runs as a job's, without end.
const HOST_LOCK: &str = "/run/cargo-tracer/daemon.lock";

/// A root-only directory for `path` to live in (the group may enter it, when there is one):
/// created so, or refused if anyone but root could write to it or to the directory above it
/// (who can write there can swap ours for another).
fn private_dir_for(path: &Path, group: Option<u32>) -> Result<(), DaemonError> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
    let dir = path.parent().unwrap_or(Path::new("/"));
    let err = |source| DaemonError::Socket {
        path: path.display().to_string(),
        source,
    };
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    let root_only = |m: &std::fs::Metadata| m.uid() == me && m.mode() & 0o022 == 0;
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(err)?;
        let pm = std::fs::metadata(parent).map_err(err)?;
        // Root's, or a sticky directory like /tmp, where no one else can rename root's entry.
        if !pm.is_dir() || !(root_only(&pm) || pm.mode() & 0o1000 != 0) {
            return Err(DaemonError::SocketDir(parent.display().to_string()));
        }
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {
            if let Some(g) = group {
                // Given to the group through a descriptor of the directory just made, never
                // by path: a link put in its place would hand root's chown to its target.
                let d = std::fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_NOFOLLOW | libc::O_DIRECTORY)
                    .open(dir)
                    .map_err(err)?;
                let m = d.metadata().map_err(err)?;
                if m.uid() != me || m.mode() & 0o7777 != 0o700 {
                    return Err(DaemonError::SocketDir(dir.display().to_string()));
                }
                std::os::unix::fs::fchown(&d, None, Some(g)).map_err(err)?;
                d.set_permissions(std::fs::Permissions::from_mode(0o750))
                    .map_err(err)?;
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(err(e)),
    }
    let meta = std::fs::symlink_metadata(dir).map_err(err)?;
    if !meta.is_dir() || !root_only(&meta) {
        return Err(DaemonError::SocketDir(dir.display().to_string()));
    }
    // A directory that was there is never changed (`--socket /run/x.sock` must not open /run
    // to a group): for a group it must already be the group's.
    if let Some(g) = group
        && (meta.gid() != g || meta.mode() & 0o050 != 0o050)
    {
        return Err(DaemonError::GroupDir(dir.display().to_string()));
    }
    Ok(())
}

fn lock(socket: &Path, group: Option<u32>) -> Result<Lock, DaemonError> {
    use std::os::unix::fs::OpenOptionsExt;
    let err = |source| DaemonError::Socket {
        path: socket.display().to_string(),
        source,
    };
    // The socket's first: by default it is the lock's directory too, made the group's then.
    private_dir_for(socket, group)?;
    let path = Path::new(HOST_LOCK);
    private_dir_for(path, None)?;
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(err)?;
    // Root's alone (one made by an older version may be 0644): who can open it can hold the
    // lock and keep every daemon from starting.
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(err)?;
    // A daemon that has just answered a stop may still be letting go of its probes.
    let t0 = Instant::now();
    // SAFETY: flock on a descriptor we own.
    while unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        if t0.elapsed() > Duration::from_secs(10) {
            return Err(DaemonError::Running);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(Lock(f))
}

/// A control connection waiting for the traces to be finished.
type Waiting = Vec<std::os::unix::net::UnixStream>;

/// Runs the daemon until it is asked to stop (or signalled); `ready` is called once the probes
/// are attached and the socket listens. Returns the final status.
pub fn run(o: &DaemonOptions, ready: &mut dyn FnMut(&Status)) -> Result<Status, DaemonError> {
    let gid = o.group.as_ref().map(|(_, g)| *g);
    let _lock = lock(&o.socket, gid)?;
    let t0 = Instant::now();
    let mut probes = Probes::load(&LoadOptions {
        system_wide: false,
        trace_cargo: true,
        ring_bytes: o.ring_bytes,
        // The job's `cargo test` runs are attributed by their stacks.
        stacks: true,
    })?;
    let ring_mappings_kib = crate::memory::ring_mappings_kib();
    crate::files::create_dir_all(&o.dir).map_err(|source| DaemonError::Dir {
        path: o.dir.display().to_string(),
        source,
    })?;
    let sock_err = |source| DaemonError::Socket {
        path: o.socket.display().to_string(),
        source,
    };
    // The lock is ours: a socket file left there is a dead daemon's.
    let _ = std::fs::remove_file(&o.socket);
    let listener = UnixListener::bind(&o.socket).map_err(sock_err)?;
    match gid {
        None => std::fs::set_permissions(&o.socket, std::fs::Permissions::from_mode(0o600)),
        Some(g) => std::os::unix::fs::chown(&o.socket, None, Some(g)).and_then(|()| {
            std::fs::set_permissions(&o.socket, std::fs::Permissions::from_mode(0o660))
        }),
    }
    .map_err(sock_err)?;
    listener.set_nonblocking(true).map_err(sock_err)?;
    let _stop = StopOnSignal::new();
    let _int = IntAsStop::new();
    let start = trace::Start {
        schema_version: trace::SCHEMA_VERSION,
        tracer_version: env!("CARGO_PKG_VERSION").into(),
        command: Vec::new(),
        cwd: String::new(),
        system_wide: false,
        root_pid: 0,
        tracer_pid: Some(std::process::id()),
        kernel: session::kernel_release(),
        probes_attached: probes.attached,
        proc_macro_probes: probes.uprobes_unavailable.is_none(),
    };
    let own = OwnRuns::default();
    let mut jobs = Jobs::new(o.dir.clone(), start, o.linger, own);
    let mut pipe = Pipeline::default();
    let mut requests = ProbeRequests::default();
    let mut macros = Macros::default();
    let status = |jobs: &Jobs, pipe: &Pipeline, probes: &Probes| Status {
        pid: std::process::id(),
        version: env!("CARGO_PKG_VERSION").into(),
        dir: o.dir.clone(),
        uptime_ms: t0.elapsed().as_millis() as u64,
        events: pipe.events,
        lost: probes.losses().unwrap_or_default(),
        decode_errors: pipe.decode_errors,
        unrouted: jobs.unrouted,
        invocations: jobs.status(),
        max_rss_kib: crate::memory::usage().max_rss_kib,
        ring_mappings_kib,
    };
    ready(&status(&jobs, &pipe, &probes));
    let ring_fd = probes.ring().as_raw_fd();
    let mut waiting: Waiting = Vec::new();
    let mut stopping = false;
    loop {
        let mut fds = [
            libc::pollfd {
                fd: ring_fd,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: listener.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two valid pollfds.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), 2, 100) };
        if rc < 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(DaemonError::Poll(err));
            }
        }
        drain(&mut probes, &mut pipe, &mut jobs, &mut requests);
        session::attach_new(&mut probes, &mut pipe, &mut requests, &mut macros);
        while let Ok((conn, _)) = listener.accept() {
            match control::peer(&conn) {
                // A member of the group only from outside the builds: one of their processes
                // (the build user may be a member by mistake) must not stop or question it.
                Ok(p) if p.may_control(gid) && (p.uid == 0 || !probes.is_traced(p.pid)) => {}
                // Not root (nor of the group): a traced build must not stop or question the
                // tracer.
                _ => continue,
            }
            match control::read_request(&conn) {
                Ok(Request::Status) => {
                    let _ =
                        control::answer(&conn, &Response::Status(status(&jobs, &pipe, &probes)));
                }
                Ok(Request::Stop) => {
                    stopping = true;
                    waiting.push(conn);
                }
                Err(message) => {
                    let _ = control::answer(&conn, &Response::Error { message });
                }
            }
        }
        if StopOnSignal::received().is_some() {
            stopping = true;
        }
        let lost = probes.losses()?;
        if jobs.tick(stopping, &lost, pipe.decode_errors) && stopping {
            break;
        }
    }
    let last = status(&jobs, &pipe, &probes);
    for conn in waiting {
        let _ = control::answer(&conn, &Response::Stopped(last.clone()));
    }
    let _ = std::fs::remove_file(&o.socket);
    Ok(last)
}

/// Drains the rings into the pipeline and each record into its invocation's trace.
fn drain(probes: &mut Probes, pipe: &mut Pipeline, jobs: &mut Jobs, requests: &mut ProbeRequests) {
    let (ring, stacks) = probes.rings();
    let mut more_stacks = |st: &mut crate::stacks::Stacks| {
        while let Some(item) = stacks.next() {
            st.take_raw(&item);
        }
    };
    while let Some(item) = ring.next() {
        if let Some(rec) = pipe.handle(&item, &mut more_stacks) {
            let new = pipe.stacks.take_new().collect();
            jobs.record(rec, new, requests);
        }
    }
}

/// Ctrl-C on a daemon run in the foreground stops it like SIGTERM: the traces are finished.
struct IntAsStop(libc::sighandler_t);

impl IntAsStop {
    fn new() -> Self {
        // SAFETY: reads SIGTERM's handler (StopOnSignal's) and installs it for SIGINT too.
        unsafe {
            let term = libc::signal(libc::SIGTERM, libc::SIG_IGN);
            libc::signal(libc::SIGTERM, term);
            Self(libc::signal(libc::SIGINT, term))
        }
    }
}

impl Drop for IntAsStop {
    fn drop(&mut self) {
        // SAFETY: restores the disposition we replaced.
        unsafe { libc::signal(libc::SIGINT, self.0) };
    }
}
