//! The job the daemon traces: every cargo invocation it saw start, each written as a trace of
//! its own — the same trace `cargo tracer build --events` writes, so `report` judges it.
//!
//! An invocation starts when a process not traced yet execs a program named `cargo` (the probes
//! put it in the traced set at that exec) and holds every process forked from it. It ends when
//! its root has exited and its other processes have too (or the linger time passed, and those
//! still running are named in its `end` line); then its workspace is read with `cargo metadata`
//! — in its directory, with its environment, as its user — on a worker thread, and the trace
//! gets its build context, graph, the messages cargo would have printed (`cargo::inferred`) and
//! its `end` line. Records are numbered per trace, so each reads as whole.

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    ffi::OsString,
    path::PathBuf,
    thread::JoinHandle,
    time::{Duration, Instant},
};

use super::control::InvocationStatus;
use crate::{
    cargo::{
        build,
        graph::{Graph, GraphError, OwnRuns, Place},
        inferred::{self, Observed},
        invocation::{Invocation, Subcommand},
        observer,
    },
    events::text,
    identity,
    loader::LossCounters,
    session::ProbeRequests,
    trace::{
        self, CargoMessage, EventRecord, Line, RecordDetail, Sink, jsonl::FileSink,
        stack::StackLine,
    },
};

/// Whose a traced process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Invocation(usize),
    /// The daemon's own cargo: not recorded.
    Own,
}

/// Where an invocation is in its life.
enum State {
    Running,
    /// Its graph is being read.
    Finishing(JoinHandle<Result<Graph, GraphError>>),
    Done,
}

/// How a cargo run was started, as `/proc` showed it while it ran.
#[derive(Debug, Clone, Default)]
struct Launch {
    cwd: Option<String>,
    env: Option<Vec<(OsString, OsString)>>,
    exe: Option<String>,
}

impl Launch {
    /// Reads what `/proc/<pid>` says now; keeps what it knew where the process is gone.
    fn refresh(&mut self, pid: u32) {
        if let Ok(d) = std::fs::read_link(format!("/proc/{pid}/cwd")) {
            self.cwd = Some(text::from_os(d.as_os_str()));
        }
        if let Ok(e) = std::fs::read_link(format!("/proc/{pid}/exe")) {
            self.exe = Some(text::from_os(e.as_os_str()));
        }
        if let Ok(bytes) = std::fs::read(format!("/proc/{pid}/environ")) {
            use std::os::unix::ffi::OsStrExt;
            self.env = Some(
                bytes
                    .split(|b| *b == 0)
                    .filter_map(|kv| {
                        let i = kv.iter().position(|b| *b == b'=')?;
                        Some((
                            std::ffi::OsStr::from_bytes(&kv[..i]).to_os_string(),
                            std::ffi::OsStr::from_bytes(&kv[i + 1..]).to_os_string(),
                        ))
                    })
                    .collect(),
            );
        }
    }

    fn var(&self, name: &str) -> Option<OsString> {
        self.env
            .as_ref()?
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

/// One cargo invocation and its trace.
struct CargoRun {
    id: usize,
    root: u32,
    command: Vec<String>,
    uid: u32,
    launch: Launch,
    path: PathBuf,
    sink: FileSink,
    /// Why its trace could not be written whole (then it is judged incomplete).
    problem: Option<String>,
    workspace: Option<PathBuf>,
    seq: u64,
    live: BTreeSet<u32>,
    /// Its processes running cargo itself.
    cargo: HashSet<u32>,
    observed: Observed,
    /// Index in `observed.rustc` of each process's rustc command line (a rustup proxy execs
    /// the real rustc with the same line).
    rustc_of: HashMap<u32, usize>,
    /// Something other than cargo ran (else it is not judged: `cargo --version`).
    ran_other: bool,
    exit: Option<(Instant, Option<i32>, Option<i32>)>,
    state: State,
}

/// Every invocation of the job.
pub struct Jobs {
    dir: PathBuf,
    start: trace::Start,
    linger: Duration,
    own: OwnRuns,
    invocations: Vec<CargoRun>,
    owner: HashMap<u32, Owner>,
    /// Records of processes in no invocation.
    pub unrouted: u64,
}

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

impl Jobs {
    /// Traces go to `dir`; `start` is the template of each trace's first line.
    pub fn new(dir: PathBuf, start: trace::Start, linger: Duration, own: OwnRuns) -> Self {
        Self {
            dir,
            start,
            linger,
            own,
            invocations: Vec::new(),
            owner: HashMap::new(),
            unrouted: 0,
        }
    }

    /// Routes one record (with the stacks first copied for it) to its invocation's trace.
    pub fn record(
        &mut self,
        mut rec: EventRecord,
        stacks: Vec<StackLine>,
        probes: &mut ProbeRequests,
    ) -> std::io::Result<()> {
        let owner = match self.owner.get(&rec.pid) {
            Some(o) => *o,
            None if matches!(rec.detail, RecordDetail::Exec { .. }) => self.adopt(&rec)?,
            None => {
                self.unrouted += 1;
                return Ok(());
            }
        };
        let Owner::Invocation(i) = owner else {
            self.follow(&rec, owner);
            return Ok(());
        };
        self.follow(&rec, owner);
        let inv = &mut self.invocations[i];
        if matches!(inv.state, State::Done | State::Finishing(_)) {
            // Past its linger time: named in its `end` line as still running.
            return Ok(());
        }
        inv.observe(&rec, probes);
        for s in stacks {
            inv.sink.write(&Line::Stack(s))?;
        }
        inv.seq += 1;
        rec.seq = inv.seq;
        inv.sink.write(&Line::Event(rec))
    }

    /// A new root: a process the probes adopted as it exec'd cargo.
    fn adopt(&mut self, rec: &EventRecord) -> std::io::Result<Owner> {
        // Waits for a spawn in progress, whose pid this may be.
        let own = self
            .own
            .lock()
            .map(|s| s.contains(&rec.pid))
            .unwrap_or(false);
        if own {
            self.owner.insert(rec.pid, Owner::Own);
            return Ok(Owner::Own);
        }
        let id = self.invocations.len() + 1;
        let path = self
            .dir
            .join(format!("{id:03}-cargo-{}.jsonl.zst", rec.pid));
        let mut sink = FileSink::create(&path)?;
        let RecordDetail::Exec { argv, .. } = &rec.detail else {
            unreachable!("adopt is called for exec records")
        };
        let mut launch = Launch::default();
        launch.refresh(rec.pid);
        sink.write(&Line::Start(trace::Start {
            command: argv.clone(),
            cwd: launch.cwd.clone().unwrap_or_default(),
            root_pid: rec.pid,
            ..self.start.clone()
        }))?;
        self.invocations.push(CargoRun {
            id,
            root: rec.pid,
            command: argv.clone(),
            uid: rec.uid,
            launch,
            path,
            sink,
            problem: None,
            workspace: None,
            seq: 0,
            live: BTreeSet::from([rec.pid]),
            cargo: HashSet::from([rec.pid]),
            observed: Observed::default(),
            rustc_of: HashMap::new(),
            ran_other: false,
            exit: None,
            state: State::Running,
        });
        let o = Owner::Invocation(id - 1);
        self.owner.insert(rec.pid, o);
        Ok(o)
    }

    /// Keeps the process → owner map: children join their parent's, exited processes leave.
    fn follow(&mut self, rec: &EventRecord, owner: Owner) {
        match &rec.detail {
            RecordDetail::Fork {
                child_pid,
                thread: false,
                ..
            } => {
                self.owner.insert(*child_pid, owner);
                if let Owner::Invocation(i) = owner {
                    self.invocations[i].live.insert(*child_pid);
                }
            }
            RecordDetail::Exit {
                process_exit: true,
                exit_code,
                signal,
            } => {
                self.owner.remove(&rec.pid);
                if let Owner::Invocation(i) = owner {
                    let inv = &mut self.invocations[i];
                    inv.live.remove(&rec.pid);
                    if rec.pid == inv.root {
                        inv.exit = Some((Instant::now(), *exit_code, *signal));
                    }
                }
            }
            _ => {}
        }
    }

    /// Finishes the invocations whose processes are done (or `all`, at stop); `lost` and
    /// `decode_errors` are the daemon's so far (not per invocation: any loss is every
    /// invocation's). Returns whether every invocation is done.
    pub fn tick(&mut self, all: bool, lost: &LossCounters, decode_errors: u64) -> bool {
        let mut done = true;
        for inv in &mut self.invocations {
            if let State::Running = inv.state {
                let over = inv
                    .exit
                    .is_some_and(|(t, ..)| inv.live.is_empty() || t.elapsed() >= self.linger);
                if over || all {
                    inv.state = match &inv.launch.cwd {
                        Some(_) => State::Finishing(inv.read_graph(self.own.clone())),
                        // Never the daemon's own directory's workspace instead.
                        None => State::Finishing(std::thread::spawn(|| {
                            Err(GraphError::Failed {
                                command: "cargo metadata".into(),
                                stderr: "the directory cargo ran in is not known (it exited \
                                         before the daemon could read /proc)"
                                    .into(),
                            })
                        })),
                    };
                }
            }
            if let State::Finishing(h) = &inv.state
                && h.is_finished()
            {
                let State::Finishing(h) = std::mem::replace(&mut inv.state, State::Done) else {
                    unreachable!()
                };
                let graph = h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
                if let Err(e) = inv.finish(graph, lost, decode_errors) {
                    inv.problem = Some(format!("writing its trace: {e}"));
                }
                // What only the inference needed; a long job keeps a line per invocation.
                inv.observed = Observed::default();
                inv.rustc_of = HashMap::new();
                inv.cargo = HashSet::new();
            }
            done &= matches!(inv.state, State::Done);
        }
        done
    }

    /// Each invocation's state, for `status` and `stop`.
    pub fn status(&self) -> Vec<InvocationStatus> {
        self.invocations
            .iter()
            .map(|inv| InvocationStatus {
                id: inv.id,
                pid: inv.root,
                command: inv.command.clone(),
                cwd: inv.launch.cwd.clone().unwrap_or_default(),
                workspace: inv.workspace.clone(),
                trace: matches!(inv.state, State::Done).then(|| inv.path.clone()),
                sha256: inv.sink.sha256().map(str::to_string),
                events: inv.seq,
                running: inv.exit.is_none(),
                judged: inv.ran_other,
                problem: inv.problem.clone(),
            })
            .collect()
    }
}

impl CargoRun {
    /// Notes what cargo ran, and what the probes should watch.
    fn observe(&mut self, rec: &EventRecord, probes: &mut ProbeRequests) {
        match &rec.detail {
            RecordDetail::Exec { path, argv, .. } => {
                let exe = path.abs.clone().unwrap_or_else(|| path.raw.clone());
                let by_cargo = rec.ppid.is_some_and(|p| self.cargo.contains(&p));
                if rec.pid == self.root {
                    // The rustup proxy execs the toolchain's cargo: that one's view is wanted.
                    self.launch.refresh(rec.pid);
                    self.command.clone_from(argv);
                } else if by_cargo && basename(&exe) == "cargo" {
                    self.cargo.insert(rec.pid);
                } else if by_cargo {
                    if argv.iter().any(|a| a == "--crate-name") {
                        match self.rustc_of.get(&rec.pid) {
                            Some(&i) => self.observed.rustc[i].clone_from(argv),
                            None => {
                                self.rustc_of.insert(rec.pid, self.observed.rustc.len());
                                self.observed.rustc.push(argv.clone());
                            }
                        }
                        // Tests and binaries run from there: their stacks are wanted.
                        if let Some(dir) = argv
                            .iter()
                            .skip_while(|a| *a != "--out-dir")
                            .nth(1)
                            .filter(|d| d.ends_with("/deps"))
                        {
                            probes.stacks_in(dir);
                            if let Some(profile) = dir.strip_suffix("/deps") {
                                probes.stacks_in(profile);
                            }
                        }
                    } else {
                        self.observed.programs.push(exe.clone());
                    }
                }
                if basename(&exe) != "cargo" {
                    self.ran_other = true;
                }
            }
            RecordDetail::Rename { to, .. } if rec.ok => {
                if let Some(abs) = &to.abs
                    && observer::is_dylib_in_deps(abs)
                {
                    probes.library(abs.clone());
                }
            }
            _ => {}
        }
    }

    /// Reads its workspace's graph on a worker thread, as cargo ran: in its directory, with its
    /// environment and cargo, as its user.
    fn read_graph(&self, own: OwnRuns) -> JoinHandle<Result<Graph, GraphError>> {
        let inv = Invocation {
            sub: Subcommand::Build,
            args: self.command.iter().skip(1).cloned().collect(),
            target_dir: None,
        };
        let args = inv.graph_args();
        let place = Place {
            cwd: self
                .launch
                .cwd
                .as_deref()
                .map(|c| PathBuf::from(text::to_os(c))),
            env: self.launch.env.clone(),
            cargo: self.launch.exe.as_deref().map(text::to_os),
            own: Some(own),
        };
        // SAFETY: geteuid has no preconditions.
        let who = (self.uid != 0 && unsafe { libc::geteuid() } == 0)
            .then(|| identity::of_uid(self.uid).ok())
            .flatten();
        std::thread::spawn(move || Graph::load_as(&args, who.as_ref(), &place))
    }

    /// Writes the rest of its trace: context, graph and inferred messages (when the graph
    /// could be read), and the `end` line.
    fn finish(
        &mut self,
        graph: Result<Graph, GraphError>,
        lost: &LossCounters,
        decode_errors: u64,
    ) -> std::io::Result<()> {
        match graph {
            Ok(g) => {
                self.workspace = Some(g.workspace_root.clone());
                let home = self
                    .launch
                    .var("HOME")
                    .map(PathBuf::from)
                    .unwrap_or_default();
                let target_dir = Invocation {
                    sub: Subcommand::Build,
                    args: self.command.iter().skip(1).cloned().collect(),
                    target_dir: None,
                }
                .user_target_dir()
                .map(|d| match d.starts_with('/') {
                    true => d,
                    false => {
                        let cwd = self.launch.cwd.clone().unwrap_or_default();
                        crate::proctable::paths::join(&cwd, &d)
                    }
                });
                let context = build::context(
                    &g,
                    &home,
                    &|name| self.launch.var(name),
                    target_dir,
                    self.launch.cwd.clone().unwrap_or_default(),
                    false,
                );
                self.sink.write(&Line::BuildContext(context))?;
                for m in inferred::messages(&g, &self.observed) {
                    self.sink
                        .write(&Line::CargoMessage(CargoMessage { message: m }))?;
                }
                self.sink.write(&Line::Graph(g))?;
            }
            // A run that started nothing but cargo is not judged; any other is, and without
            // its workspace the trace has no context: it cannot pass.
            Err(e) if self.ran_other => {
                self.problem = Some(format!(
                    "its workspace could not be read: {}",
                    crate::error_chain(&e)
                ));
            }
            Err(_) => {}
        }
        let (exit_code, signal) = self.exit.map_or((None, None), |(_, c, s)| (c, s));
        self.sink.write(&Line::End(trace::End {
            schema_version: trace::SCHEMA_VERSION,
            exit_code,
            signal,
            events: self.seq,
            lost: lost.clone(),
            decode_errors,
            complete: lost.total() == 0 && decode_errors == 0,
            still_running: self.live.iter().copied().collect(),
        }))?;
        self.sink.finish()
    }
}
