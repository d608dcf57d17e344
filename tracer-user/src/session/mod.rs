//! One traced run: load and attach the probes, start the command only once they are attached,
//! stream its events through the pipeline to a sink until it (and, for a grace period, its
//! descendants) has exited, then report losses. Knows nothing of cargo: what a command's
//! output or events mean beyond the trace (cargo's messages, proc-macro libraries) is an
//! [`Observer`]'s business. Used by `cargo tracer run`, by `build|test` through `cargo/`, and by
//! the tests.

pub mod digest;
pub mod pipeline;
pub mod seccomp;
pub mod summary;

use std::{
    os::{fd::AsRawFd, unix::process::CommandExt},
    process::{ChildStdout, Command, ExitStatus},
    time::{Duration, Instant},
};

pub use summary::Summary;

use crate::{
    identity,
    loader::{LoadError, LoadOptions, Probes},
    trace::{self, EventRecord, Line, Sink},
};
use pipeline::Pipeline;

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub command: Vec<String>,
    pub load: LoadOptions,
    /// Keep the command as root even when started through sudo.
    pub as_root: bool,
    /// How long to keep tracing descendants still running after the command exited.
    pub linger: Duration,
    /// Working directory of the command (default: ours).
    pub cwd: Option<std::path::PathBuf>,
    /// Extra environment variables for the command.
    pub env: Vec<(String, String)>,
    /// Lines written right after the `start` line (a build's context and graph).
    pub preamble: Vec<Line>,
    /// Let the command use io_uring (its operations are not traced: a ring set up makes the
    /// verdict incomplete). Refused by default (`seccomp`).
    pub allow_io_uring: bool,
}

/// Libraries to put proc-macro probes on, and directories of programs whose stacks to copy, as
/// an observer finds them.
#[derive(Debug, Default)]
pub struct ProbeRequests {
    libraries: Vec<String>,
    stack_dirs: Vec<String>,
    /// Directories already asked for.
    seen_dirs: std::collections::HashSet<String>,
}

impl ProbeRequests {
    /// Probe a proc-macro library.
    pub fn library(&mut self, path: String) {
        self.libraries.push(path);
    }

    /// Copy the stacks of processes running programs in directory `dir`.
    pub fn stacks_in(&mut self, dir: &str) {
        if self.seen_dirs.insert(dir.to_string()) {
            self.stack_dirs.push(dir.to_string());
        }
    }
}

/// Hooks for what the traced command is: told every record, given its stdout if it wants it,
/// and polled while it runs (to write lines of its own to the trace).
pub trait Observer {
    /// Whether the command's stdout should be piped to [`Observer::stdout`].
    fn pipes_stdout(&self) -> bool {
        false
    }
    fn stdout(&mut self, _out: ChildStdout) {}
    /// Before the command starts: probes it wants from the start.
    fn start(&mut self, _probes: &mut ProbeRequests) {}
    /// Each record, before it reaches the sink.
    fn record(&mut self, _rec: &EventRecord, _probes: &mut ProbeRequests) {}
    /// After each batch of records, and once more (`last`) after the command ended.
    fn poll(
        &mut self,
        _sink: &mut dyn Sink,
        _probes: &mut ProbeRequests,
        _last: bool,
    ) -> std::io::Result<()> {
        Ok(())
    }
}

/// A command that is only traced.
pub struct Plain;

impl Observer for Plain {}

/// What can go wrong around the command (its own failure is just an exit code).
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("no command given")]
    NoCommand,
    #[error("starting `{command}`")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("waiting for the traced command: {0}")]
    Wait(std::io::Error),
    #[error("polling the event ring buffer: {0}")]
    Poll(std::io::Error),
    #[error("determining the user to run the command as")]
    Identity(#[from] identity::IdentityError),
    #[error("writing the event stream: {0}")]
    Sink(std::io::Error),
    #[error(
        "stopped by signal {signal} before the traced command finished: it was sent SIGTERM, \
         and the trace written so far has no `end` line, so it reads as incomplete"
    )]
    Stopped { signal: i32 },
}

/// Drains every record available in the ring buffer into the pipeline, the observer and the
/// sink.
fn drain(
    probes: &mut Probes,
    pipe: &mut Pipeline,
    observer: &mut dyn Observer,
    requests: &mut ProbeRequests,
    sink: &mut dyn Sink,
) -> Result<(), SessionError> {
    let (ring, stacks) = probes.rings();
    // Stacks first: a call's stack is written before its record, so once the record is read
    // its stack is in the ring (`handle` reads more of it when one is missing).
    let mut more_stacks = |st: &mut crate::stacks::Stacks| {
        while let Some(item) = stacks.next() {
            st.take_raw(&item);
        }
    };
    while let Some(item) = ring.next() {
        if let Some(rec) = pipe.handle(&item, &mut more_stacks) {
            for s in pipe.stacks.take_new() {
                sink.write(&Line::Stack(s)).map_err(SessionError::Sink)?;
            }
            observer.record(&rec, requests);
            sink.write(&Line::Event(rec)).map_err(SessionError::Sink)?;
        }
    }
    Ok(())
}

/// Proc-macro libraries probed, and those that could not be (with why); directories of
/// programs whose stacks could not be asked for.
#[derive(Default)]
pub(crate) struct Macros {
    pub(crate) probed: Vec<String>,
    pub(crate) failed: Vec<String>,
    pub(crate) stack_dirs_failed: Vec<String>,
}

/// Queues the proc-macro probes for libraries not probed yet (the attacher's thread does the
/// slow part) and collects the attachments that finished. A library that cannot be probed (not
/// a proc macro, stripped) is noted, not fatal: its activity stays with the compiler.
pub(crate) fn attach_new(
    probes: &mut Probes,
    pipe: &mut Pipeline,
    requests: &mut ProbeRequests,
    out: &mut Macros,
) {
    for dir in requests.stack_dirs.drain(..) {
        // Not fatal: that directory's programs are then attributed to their package only.
        if let Err(e) = probes.stacks_in(std::path::Path::new(&dir)) {
            out.stack_dirs_failed.push(format!(
                "stacks of programs in {dir}: {}",
                crate::error_chain(&e)
            ));
        }
    }
    let Some(m) = probes.macros.as_mut() else {
        requests.libraries.clear();
        return;
    };
    for lib in requests.libraries.drain(..) {
        // Named before the probes are in: events can carry the id only afterwards.
        let id = m.request(&lib);
        pipe.macros.insert(id, lib);
    }
    for a in m.finished() {
        match a.result {
            Ok(()) => out.probed.push(a.path),
            Err(e) => {
                pipe.macros.remove(&a.id);
                out.failed
                    .push(format!("{}: {}", a.path, crate::error_chain(&e)));
            }
        }
    }
}

pub(crate) fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// How often the trace written so far is made durable during a run.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// The termination signal the tracer was sent (SIGTERM, SIGHUP), 0 while none.
static STOP: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

extern "C" fn on_stop(sig: libc::c_int) {
    STOP.store(sig, std::sync::atomic::Ordering::Relaxed);
}

/// While alive, SIGTERM and SIGHUP are noted instead of killing the tracer, so it can stop
/// cleanly: what was traced is written out, and the trace, which has no `end` line, reads as
/// incomplete. (Handlers do not survive exec: the command gets the default dispositions.)
pub(crate) struct StopOnSignal(Vec<(libc::c_int, libc::sighandler_t)>);

impl StopOnSignal {
    pub(crate) fn new() -> Self {
        STOP.store(0, std::sync::atomic::Ordering::Relaxed);
        let handler = on_stop as extern "C" fn(libc::c_int) as libc::sighandler_t;
        Self(
            [libc::SIGTERM, libc::SIGHUP]
                .into_iter()
                // SAFETY: the handler only stores to an atomic (async-signal-safe).
                .map(|sig| (sig, unsafe { libc::signal(sig, handler) }))
                .collect(),
        )
    }

    pub(crate) fn received() -> Option<i32> {
        match STOP.load(std::sync::atomic::Ordering::Relaxed) {
            0 => None,
            s => Some(s),
        }
    }
}

impl Drop for StopOnSignal {
    fn drop(&mut self) {
        for &(sig, old) in &self.0 {
            // SAFETY: restores the disposition we replaced.
            unsafe { libc::signal(sig, old) };
        }
    }
}

/// Restores a signal disposition when dropped.
struct IgnoreSignal(libc::c_int, libc::sighandler_t);

impl IgnoreSignal {
    fn new(sig: libc::c_int) -> Self {
        // SAFETY: setting a disposition to SIG_IGN is always valid.
        Self(sig, unsafe { libc::signal(sig, libc::SIG_IGN) })
    }
}

impl Drop for IgnoreSignal {
    fn drop(&mut self) {
        // SAFETY: restores the disposition we replaced.
        unsafe { libc::signal(self.0, self.1) };
    }
}

/// Runs `opts.command` under the probes, every line of its trace to `sink` (which the caller
/// finishes: it may add lines after the `end` line). Returns the summary; the command's own
/// exit status is in it.
pub fn run(
    opts: &RunOptions,
    sink: &mut dyn Sink,
    observer: &mut dyn Observer,
) -> Result<Summary, SessionError> {
    let argv = &opts.command;
    let program = argv.first().ok_or(SessionError::NoCommand)?;
    // Whom to run the command as is settled before anything is loaded.
    let who = identity::for_command(opts.as_root)?;
    let t0 = Instant::now();
    let mut probes = Probes::load(&opts.load)?;
    let attach_ms = t0.elapsed().as_millis() as u64;
    // Now, while the rings are mapped: they stay so until the probes are dropped.
    let ring_mappings_kib = crate::memory::ring_mappings_kib();

    let mut cmd = Command::new(program);
    cmd.args(&argv[1..]);
    if let Some(dir) = &opts.cwd {
        cmd.current_dir(dir);
    }
    cmd.envs(opts.env.iter().map(|(k, v)| (k, v)));
    if let Some(id) = &who {
        cmd.env("HOME", crate::events::text::to_os(&id.home))
            .env("USER", &id.name)
            .env("LOGNAME", &id.name);
    }
    let child_id = who.clone();
    let traced_fd = probes.traced_map_fd();
    let filter = seccomp::Filter::new(opts.allow_io_uring);
    // SAFETY: the closure only makes async-signal-safe calls (getpid, bpf, prctl, signal,
    // set*id).
    unsafe {
        cmd.pre_exec(move || {
            // The child puts itself in the traced set before exec: nothing the command does
            // happens before every probe is attached and watching it.
            crate::loader::trace_self(traced_fd)?;
            // Nothing the command runs gains privileges by exec (a setuid program, file
            // capabilities): what the tree can do is what it was started with.
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::signal(libc::SIGQUIT, libc::SIG_DFL);
            if let Some(id) = &child_id {
                identity::switch_to(id)?;
            }
            // Last: what the probes cannot see is refused from here on.
            filter.install()?;
            Ok(())
        });
    }
    // Ctrl-C reaches the whole foreground group: let the command decide, keep tracing it.
    let _sigint = IgnoreSignal::new(libc::SIGINT);
    let _sigquit = IgnoreSignal::new(libc::SIGQUIT);
    let _stop = StopOnSignal::new();
    let cwd = opts
        .cwd
        .clone()
        .or_else(|| std::env::current_dir().ok())
        .map(|p| crate::events::text::from_os(p.as_os_str()))
        .unwrap_or_default();
    let mut pipe = Pipeline::default();
    pipe.resolver.learn(&cwd);
    let mut requests = ProbeRequests::default();
    let mut macros = Macros::default();
    observer.start(&mut requests);
    attach_new(&mut probes, &mut pipe, &mut requests, &mut macros);
    let started = Instant::now();
    if observer.pipes_stdout() {
        cmd.stdout(std::process::Stdio::piped());
    }
    let mut child = cmd.spawn().map_err(|source| SessionError::Spawn {
        command: program.clone(),
        source,
    })?;
    let root = child.id();
    pipe.table.add_root(root, argv);
    let write = |sink: &mut dyn Sink, line: Line| sink.write(&line).map_err(SessionError::Sink);
    write(
        sink,
        Line::Start(trace::Start {
            schema_version: trace::SCHEMA_VERSION,
            tracer_version: env!("CARGO_PKG_VERSION").into(),
            command: argv.clone(),
            cwd,
            system_wide: opts.load.system_wide,
            root_pid: root,
            tracer_pid: Some(std::process::id()),
            kernel: kernel_release(),
            probes_attached: probes.attached,
            proc_macro_probes: probes.uprobes_unavailable.is_none(),
        }),
    )?;
    for line in &opts.preamble {
        write(sink, line.clone())?;
    }
    if let Some(out) = child.stdout.take() {
        observer.stdout(out);
    }
    let ring_fd = probes.ring().as_raw_fd();
    let mut status: Option<ExitStatus> = None;
    let mut exited_at: Option<Instant> = None;
    let mut flushed = Instant::now();
    loop {
        let mut pfd = libc::pollfd {
            fd: ring_fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&mut pfd, 1, 50) };
        if rc < 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(SessionError::Poll(err));
            }
        }
        drain(&mut probes, &mut pipe, observer, &mut requests, sink)?;
        if let Some(signal) = StopOnSignal::received() {
            // Everything traced so far is kept; the command is not left running untraced.
            sink.finish().map_err(SessionError::Sink)?;
            if status.is_none() {
                // SAFETY: signalling our own child, which has not been reaped.
                unsafe { libc::kill(root as libc::pid_t, libc::SIGTERM) };
                let _ = child.wait();
            }
            return Err(SessionError::Stopped { signal });
        }
        if flushed.elapsed() >= FLUSH_EVERY {
            sink.flush().map_err(SessionError::Sink)?;
            flushed = Instant::now();
        }
        observer
            .poll(sink, &mut requests, false)
            .map_err(SessionError::Sink)?;
        attach_new(&mut probes, &mut pipe, &mut requests, &mut macros);
        if status.is_none()
            && let Some(s) = child.try_wait().map_err(SessionError::Wait)?
        {
            status = Some(s);
            exited_at = Some(Instant::now());
        }
        // System-wide, every process of the machine is in the table: none is the command's
        // leftover, so tracing ends with the command.
        if let Some(t) = exited_at
            && (opts.load.system_wide
                || pipe.table.running().next().is_none()
                || t.elapsed() >= opts.linger)
        {
            break;
        }
    }
    drain(&mut probes, &mut pipe, observer, &mut requests, sink)?;
    observer
        .poll(sink, &mut requests, true)
        .map_err(SessionError::Sink)?;
    attach_new(&mut probes, &mut pipe, &mut requests, &mut macros);
    if let Some(m) = &probes.macros {
        for lib in m.pending() {
            macros.failed.push(format!(
                "{lib}: its probes were still being attached when the command ended"
            ));
        }
    }
    let lost = probes.losses()?;
    let status = status.expect("loop exits only after the command exited");
    let (exit_code, signal) = {
        use std::os::unix::process::ExitStatusExt;
        (status.code(), status.signal())
    };
    let mut still_running: Vec<u32> = if opts.load.system_wide {
        Vec::new()
    } else {
        pipe.table.running().map(|p| p.pid).collect()
    };
    still_running.sort_unstable();
    // The trace lost nothing; whether a leftover leaves it incomplete depends on whose it is
    // (the verdict decides), but a plain traced command is judged whole.
    let complete = lost.total() == 0 && pipe.decode_errors == 0;
    write(
        sink,
        Line::End(trace::End {
            schema_version: trace::SCHEMA_VERSION,
            exit_code,
            signal,
            events: pipe.events,
            lost: lost.clone(),
            decode_errors: pipe.decode_errors,
            complete,
            still_running: still_running.clone(),
        }),
    )?;
    let usage = crate::memory::usage();
    Ok(Summary {
        schema_version: trace::SCHEMA_VERSION,
        command: argv.clone(),
        exit_code,
        signal,
        processes: pipe.table.len(),
        threads: pipe.threads,
        events: pipe.events,
        events_by_kind: pipe
            .by_kind
            .iter()
            .map(|(k, n)| (k.to_string(), *n))
            .collect(),
        failed_syscalls: pipe.failed_syscalls,
        paths_resolved: pipe.resolver.resolved,
        paths_unresolved: pipe.resolver.unresolved,
        still_running: still_running.clone(),
        lost,
        decode_errors: pipe.decode_errors,
        complete: complete && still_running.is_empty(),
        attach_ms,
        duration_ms: exited_at
            .map(|t| t.duration_since(started))
            .unwrap_or_default()
            .as_millis() as u64,
        report_ms: exited_at
            .map(|t| t.elapsed().as_millis() as u64)
            .unwrap_or(0),
        events_file: None,
        activity: pipe.digest.groups(),
        tracer_max_rss_kib: usage.max_rss_kib,
        ring_mappings_kib,
        tracer_cpu_ms: usage.cpu_ms,
        proc_macro_probes: probes.uprobes_unavailable.is_none(),
        proc_macros: macros.probed,
        proc_macro_failures: macros.failed,
        stack_failures: macros.stack_dirs_failed,
        stacks: pipe.stacks.stats,
    })
}
