//! The job the daemon traces: every cargo invocation it saw start, each written as a trace of
//! its own — the same trace `cargo tracer build --events` writes, so `report` judges it.
//!
//! An invocation starts when a process not traced yet execs a program named `cargo` (the probes
//! put it in the traced set at that exec) and holds every process forked from it. Right then
//! its policy files are copied (`policy::Snapshot`: the build's own code could rewrite them
//! before it is judged). It ends when its root has exited and its other processes have too (or
//! the linger time passed, and those still running are named in its `end` line); then its
//! workspace is read with `cargo metadata` — in its directory, with its environment, as its
//! user — on a worker thread, which also works out the messages cargo would have printed
//! (`cargo::inferred`), and the trace gets its build context, graph, messages and `end` line.
//! Records are numbered per trace, so each reads as whole. A problem with one invocation's
//! trace (its file cannot be written) is that invocation's, never the daemon's end.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    ffi::OsString,
    path::PathBuf,
    thread::JoinHandle,
    time::{Duration, Instant},
};

use cargo_metadata::Message;

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
    identity::{self, Identity},
    loader::LossCounters,
    policy::Snapshot,
    session::ProbeRequests,
    trace::{
        self, CargoMessage, EventRecord, Line, RecordDetail, Sink, jsonl::FileSink,
        stack::StackLine,
    },
};

/// How long the daemon's own `cargo metadata` may take (a planted source could stall it).
const METADATA_TIMEOUT: Duration = Duration::from_secs(180);
/// Programs and compiler command lines kept per invocation for the inference: beyond this the
/// trace is marked incomplete rather than the daemon's memory growing without end.
const OBSERVED_MAX: usize = 200_000;

/// Whose a traced process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Invocation(usize),
    /// The daemon's own cargo, run for that invocation: not recorded, only checked.
    Own(usize),
}

/// The workspace read at the end: its graph, the messages inferred for it, and the programs
/// of its target directory cargo ran that none of them names.
type Finished = Result<(Graph, Vec<Message>, Vec<String>), GraphError>;

/// Where an invocation is in its life.
enum State {
    Running,
    /// Its graph is being read.
    Finishing(JoinHandle<Finished>),
    Done,
}

/// How a cargo run was started, as `/proc` showed it while it ran.
#[derive(Debug, Clone, Default)]
struct Launch {
    cwd: Option<String>,
    env: Option<Vec<(OsString, OsString)>>,
    /// The program, by the name it was run as: a rustup proxy (a link to rustup) is cargo by
    /// that name only.
    exe: Option<String>,
    /// Directories of the programs the root ran (the rustup proxy's, the toolchain's): where,
    /// besides rustup's toolchains, the daemon's own cargo may find cargo and rustc.
    dirs: Vec<String>,
}

impl Launch {
    /// Reads what `/proc/<pid>` says now (its directory and environment); keeps what it knew
    /// where the process is gone.
    fn refresh(&mut self, pid: u32) {
        if let Ok(d) = std::fs::read_link(format!("/proc/{pid}/cwd")) {
            self.cwd = Some(text::from_os(d.as_os_str()));
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

    /// The environment for the daemon's own `cargo metadata`: the run's, without the
    /// wrappers cargo would start around rustc (programs of the user's choosing, which would
    /// run untraced).
    fn metadata_env(&self) -> Option<Vec<(OsString, OsString)>> {
        let mut env = self.env.clone()?;
        env.retain(|(k, _)| k != "RUSTC_WRAPPER" && k != "RUSTC_WORKSPACE_WRAPPER");
        env.push(("RUSTC_WRAPPER".into(), "".into()));
        env.push(("RUSTC_WORKSPACE_WRAPPER".into(), "".into()));
        Some(env)
    }
}

/// What a process of an invocation runs, as far as it matters to who started it.
#[derive(Debug, Clone, Default)]
struct Program {
    /// The file name of its first exec.
    first: Option<String>,
    /// Cargo started it, and it still runs what cargo started (the same name: a rustup
    /// proxy execs the toolchain's program of that name).
    cargos: bool,
}

/// The policy of an invocation, copied as it started.
enum PolicyCopy {
    Reading(JoinHandle<Result<Snapshot, String>>),
    Taken(Result<Snapshot, String>),
}

/// One cargo invocation and its trace.
struct CargoRun {
    id: usize,
    root: u32,
    command: Vec<String>,
    uid: u32,
    launch: Launch,
    path: PathBuf,
    /// `None` once finished or broken (then `problem` says why).
    sink: Option<FileSink>,
    sha256: Option<String>,
    /// Why its trace is not whole (then it is judged incomplete).
    problem: Option<String>,
    workspace: Option<PathBuf>,
    policy: PolicyCopy,
    seq: u64,
    live: BTreeSet<u32>,
    /// Its processes running cargo itself (or a cargo subcommand: clippy, nextest…).
    cargo: HashSet<u32>,
    programs: HashMap<u32, Program>,
    observed: Observed,
    /// Index in `observed.rustc` of each process's compiler command line.
    rustc_of: HashMap<u32, usize>,
    seen_programs: HashSet<String>,
    /// `deps/` directories whose proc-macro libraries were asked to be probed.
    deps_dirs: HashSet<String>,
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

/// A compiler cargo runs (or its wrapper's first program, when it names one).
fn is_compiler(base: &str) -> bool {
    base.starts_with("rustc") || base.starts_with("rustdoc") || base.starts_with("clippy-driver")
}

fn is_cargo(base: &str) -> bool {
    base == "cargo" || base.starts_with("cargo-")
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
    ) {
        let owner = match self.owner.get(&rec.pid) {
            Some(o) => *o,
            None if matches!(rec.detail, RecordDetail::Exec { .. }) => self.adopt(&rec),
            None => {
                self.unrouted += 1;
                return;
            }
        };
        self.follow(&rec, owner);
        let i = match owner {
            Owner::Invocation(i) => i,
            Owner::Own(i) => {
                self.check_own(i, &rec);
                return;
            }
        };
        let inv = &mut self.invocations[i];
        if !matches!(inv.state, State::Running) {
            // Past its linger time: named in its `end` line as still running.
            return;
        }
        inv.observe(&rec, probes);
        inv.seq += 1;
        rec.seq = inv.seq;
        let write = || -> std::io::Result<()> {
            let Some(sink) = inv.sink.as_mut() else {
                return Ok(());
            };
            for s in stacks {
                sink.write(&Line::Stack(s))?;
            }
            sink.write(&Line::Event(rec))
        };
        if let Err(e) = write() {
            inv.broken(format!("writing its trace {}: {e}", inv.path.display()));
        }
    }

    /// A new root: a process the probes adopted as it exec'd cargo.
    fn adopt(&mut self, rec: &EventRecord) -> Owner {
        // Waits for a spawn in progress, whose pid this may be.
        let own = self
            .own
            .lock()
            .map(|s| s.get(&rec.pid).copied())
            .unwrap_or(None);
        if let Some(i) = own {
            self.owner.insert(rec.pid, Owner::Own(i));
            return Owner::Own(i);
        }
        let id = self.invocations.len() + 1;
        let RecordDetail::Exec { argv, path, .. } = &rec.detail else {
            unreachable!("adopt is called for exec records")
        };
        let mut launch = Launch::default();
        launch.refresh(rec.pid);
        launch.exe.clone_from(&path.abs);
        launch.dirs.extend(path.abs.as_deref().map(dir_of));
        // Read now, before any of the build's code has run: its policy.
        let early = launch
            .cwd
            .as_deref()
            .map(|c| Snapshot::ancestors_of(&PathBuf::from(text::to_os(c))))
            .unwrap_or_default();
        let path = self
            .dir
            .join(format!("{id:03}-cargo-{}.jsonl.zst", rec.pid));
        let mut problem = None;
        let sink = match FileSink::create(&path) {
            Ok(mut s) => match s.write(&Line::Start(trace::Start {
                command: argv.clone(),
                cwd: launch.cwd.clone().unwrap_or_default(),
                root_pid: rec.pid,
                ..self.start.clone()
            })) {
                Ok(()) => Some(s),
                Err(e) => {
                    problem = Some(format!("writing its trace {}: {e}", path.display()));
                    None
                }
            },
            Err(e) => {
                problem = Some(format!("creating its trace {}: {e}", path.display()));
                None
            }
        };
        let mut run = CargoRun {
            id,
            root: rec.pid,
            command: argv.clone(),
            uid: rec.uid,
            launch,
            path,
            sink,
            sha256: None,
            problem,
            workspace: None,
            policy: PolicyCopy::Taken(Err(String::new())),
            seq: 0,
            live: BTreeSet::from([rec.pid]),
            cargo: HashSet::from([rec.pid]),
            programs: HashMap::new(),
            observed: Observed::default(),
            rustc_of: HashMap::new(),
            seen_programs: HashSet::new(),
            deps_dirs: HashSet::new(),
            ran_other: false,
            exit: None,
            state: State::Running,
        };
        run.policy = PolicyCopy::Reading(run.copy_policy(self.own.clone(), id - 1, early));
        self.invocations.push(run);
        let o = Owner::Invocation(id - 1);
        self.owner.insert(rec.pid, o);
        o
    }

    /// The daemon's own cargo may run cargo and rustc from where the invocation's came from,
    /// nothing else: anything more (a `rustc-wrapper` in the user's configuration) ran
    /// untraced, and makes that invocation's trace incomplete.
    fn check_own(&mut self, i: usize, rec: &EventRecord) {
        match &rec.detail {
            RecordDetail::Exec { path, .. } => {
                let exe = path.abs.clone().unwrap_or_else(|| path.raw.clone());
                let inv = &mut self.invocations[i];
                let base = basename(&exe);
                let toolchains = inv
                    .launch
                    .var("RUSTUP_HOME")
                    .map(PathBuf::from)
                    .or_else(|| {
                        inv.launch
                            .var("HOME")
                            .map(|h| PathBuf::from(h).join(".rustup"))
                    })
                    .map(|r| text::from_os(r.join("toolchains").as_os_str()) + "/");
                let known = inv.launch.dirs.iter().any(|d| *d == dir_of(&exe))
                    || toolchains.is_some_and(|t| exe.starts_with(&t) && !exe.contains("/../"));
                if !(known && (base == "cargo" || base == "rustc")) {
                    inv.problem.get_or_insert(format!(
                        "the cargo metadata cargo-tracer ran for it ran `{exe}` (a wrapper or \
                         rustc from the configuration?), untraced"
                    ));
                }
            }
            RecordDetail::Exit {
                process_exit: true, ..
            } => {
                if let Ok(mut own) = self.own.lock() {
                    own.remove(&rec.pid);
                }
            }
            _ => {}
        }
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
                    inv.programs.remove(&rec.pid);
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
            if let PolicyCopy::Reading(h) = &inv.policy
                && h.is_finished()
            {
                let PolicyCopy::Reading(h) =
                    std::mem::replace(&mut inv.policy, PolicyCopy::Taken(Err(String::new())))
                else {
                    unreachable!()
                };
                inv.policy =
                    PolicyCopy::Taken(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            }
            if let State::Running = inv.state {
                let over = inv
                    .exit
                    .is_some_and(|(t, ..)| inv.live.is_empty() || t.elapsed() >= self.linger);
                if over || all {
                    inv.state = State::Finishing(inv.read_graph(self.own.clone()));
                }
            }
            if let State::Finishing(h) = &inv.state
                && h.is_finished()
                && matches!(inv.policy, PolicyCopy::Taken(_))
            {
                let State::Finishing(h) = std::mem::replace(&mut inv.state, State::Done) else {
                    unreachable!()
                };
                let finished = h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
                inv.finish(finished, lost, decode_errors);
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
                sha256: inv.sha256.clone(),
                events: inv.seq,
                running: inv.exit.is_none(),
                judged: inv.ran_other,
                problem: inv.problem.clone(),
                policy: match &inv.policy {
                    PolicyCopy::Taken(Ok(s)) => Some(s.clone()),
                    _ => None,
                },
                policy_error: match &inv.policy {
                    PolicyCopy::Taken(Err(e)) if !e.is_empty() => Some(e.clone()),
                    _ => None,
                },
            })
            .collect()
    }
}

fn dir_of(p: &str) -> String {
    p.rsplit_once('/').map_or("", |(d, _)| d).to_string()
}

impl CargoRun {
    fn broken(&mut self, why: String) {
        self.problem.get_or_insert(why);
        self.sink = None;
    }

    /// Notes what cargo ran, and what the probes should watch.
    fn observe(&mut self, rec: &EventRecord, probes: &mut ProbeRequests) {
        match &rec.detail {
            RecordDetail::Exec { path, argv, .. } => {
                let exe = path.abs.clone().unwrap_or_else(|| path.raw.clone());
                let base = basename(&exe).to_string();
                if base != "cargo" {
                    self.ran_other = true;
                }
                if rec.pid == self.root {
                    // The rustup proxy execs the toolchain's cargo: that one's view is wanted.
                    self.launch.refresh(rec.pid);
                    self.launch.dirs.push(dir_of(&exe));
                    self.launch.exe = Some(exe);
                    self.command.clone_from(argv);
                    return;
                }
                let parent_cargo = rec.ppid.is_some_and(|p| self.cargo.contains(&p));
                let p = self.programs.entry(rec.pid).or_default();
                // A program cargo started stays cargo's only while it runs that program: a
                // build script that execs `rustc --crate-name …` or a `cargo` of its own
                // is still the build script.
                let first = p.first.is_none();
                p.cargos = match &p.first {
                    None => parent_cargo,
                    Some(f) => p.cargos && *f == base,
                };
                p.first.get_or_insert_with(|| base.clone());
                if !p.cargos {
                    self.cargo.remove(&rec.pid);
                    return;
                }
                if is_cargo(&base) {
                    self.cargo.insert(rec.pid);
                } else if argv.iter().any(|a| a == "--crate-name") && (first || is_compiler(&base))
                {
                    self.compiler(rec.pid, argv, probes);
                } else if self.seen_programs.insert(exe.clone()) {
                    self.observed.programs.push(exe);
                }
                if self.observed.programs.len() + self.observed.rustc.len() > OBSERVED_MAX {
                    self.problem.get_or_insert(format!(
                        "cargo ran more than {OBSERVED_MAX} programs: the rest are not told apart"
                    ));
                    self.observed.programs.pop();
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

    /// A compiler command line cargo ran: kept, and its `deps/` directories watched (stacks
    /// of the tests and binaries run from there, probes on the proc macros already built).
    fn compiler(&mut self, pid: u32, argv: &[String], probes: &mut ProbeRequests) {
        match self.rustc_of.get(&pid) {
            Some(&i) => self.observed.rustc[i].clone_from(&argv.to_vec()),
            None => {
                self.rustc_of.insert(pid, self.observed.rustc.len());
                self.observed.rustc.push(argv.to_vec());
            }
        }
        let dirs = argv.windows(2).filter_map(|w| match w[0].as_str() {
            "--out-dir" => Some(w[1].as_str()),
            "-L" => w[1].strip_prefix("dependency="),
            _ => None,
        });
        for dir in dirs.filter(|d| d.ends_with("/deps")) {
            if !self.deps_dirs.insert(dir.to_string()) {
                continue;
            }
            probes.stacks_in(dir);
            if let Some(profile) = dir.strip_suffix("/deps") {
                probes.stacks_in(profile);
            }
            // Built before this run (a cached target directory): cargo announces none of them.
            for lib in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = text::from_os(lib.path().as_os_str());
                if observer::is_dylib_in_deps(&p) {
                    probes.library(p);
                }
            }
        }
    }

    /// Whom the daemon's own cargo runs as: the invocation's user (one the passwd file does
    /// not know, as in a container, with its uid as group and its `HOME`), never root for
    /// someone else.
    fn who(&self) -> Option<Identity> {
        // SAFETY: geteuid has no preconditions.
        if self.uid == 0 || unsafe { libc::geteuid() } != 0 {
            return None;
        }
        Some(identity::of_uid(self.uid).unwrap_or_else(|_| {
            Identity {
                uid: self.uid,
                gid: self.uid,
                groups: vec![self.uid],
                name: self.uid.to_string(),
                home: self
                    .launch
                    .var("HOME")
                    .map(|h| text::from_os(&h))
                    .unwrap_or_else(|| "/".into()),
            }
        }))
    }

    fn place(&self, own: OwnRuns, index: usize) -> Option<Place> {
        Some(Place {
            cwd: Some(PathBuf::from(text::to_os(self.launch.cwd.as_deref()?))),
            env: self.launch.metadata_env(),
            cargo: self.launch.exe.as_deref().map(text::to_os),
            own: Some((own, index)),
            timeout: Some(METADATA_TIMEOUT),
        })
    }

    /// The `--target-dir` it was given, absolute.
    fn user_target_dir(&self) -> Option<String> {
        let cwd = self.launch.cwd.clone().unwrap_or_default();
        Invocation {
            sub: Subcommand::Build,
            args: self.command.iter().skip(1).cloned().collect(),
            target_dir: None,
        }
        .user_target_dir()
        .map(|d| match d.starts_with('/') {
            true => d,
            false => crate::proctable::paths::join(&cwd, &d),
        })
    }

    fn graph_args(&self) -> Vec<String> {
        Invocation {
            sub: Subcommand::Build,
            args: self.command.iter().skip(1).cloned().collect(),
            target_dir: None,
        }
        .graph_args()
    }

    /// Copies its policy files on a worker thread: the workspace's members from `cargo
    /// metadata --no-deps`, the files around its directory already read (`early`).
    fn copy_policy(
        &self,
        own: OwnRuns,
        index: usize,
        early: BTreeMap<PathBuf, Option<String>>,
    ) -> JoinHandle<Result<Snapshot, String>> {
        let place = self.place(own, index);
        let mut args = self.graph_args();
        args.push("--no-deps".into());
        let who = self.who();
        std::thread::spawn(move || {
            let place = place.ok_or("the directory cargo ran in is not known")?;
            let ws =
                Graph::load_as(&args, who.as_ref(), &place).map_err(|e| crate::error_chain(&e))?;
            Ok(Snapshot::take(
                &ws.workspace_root,
                &ws.local_manifests(),
                &early,
            ))
        })
    }

    /// Reads its workspace's graph and infers cargo's messages, on a worker thread.
    fn read_graph(&mut self, own: OwnRuns) -> JoinHandle<Finished> {
        let place = self.place(own, self.id - 1);
        let args = self.graph_args();
        let who = self.who();
        let observed = std::mem::take(&mut self.observed);
        let target_dir = self.user_target_dir();
        self.rustc_of = HashMap::new();
        self.seen_programs = HashSet::new();
        std::thread::spawn(move || {
            // Never the daemon's own directory's workspace instead.
            let place = place.ok_or_else(|| GraphError::Failed {
                command: "cargo metadata".into(),
                stderr: "the directory cargo ran in is not known (it exited before the daemon \
                         could read /proc)"
                    .into(),
            })?;
            let g = Graph::load_as(&args, who.as_ref(), &place)?;
            let messages = inferred::messages(&g, &observed);
            let mut dirs = vec![g.target_dir.clone()];
            dirs.extend(target_dir.map(|d| PathBuf::from(text::to_os(&d))));
            let dirs: Vec<&std::path::Path> = dirs.iter().map(PathBuf::as_path).collect();
            let unnamed = inferred::unnamed(&observed, &messages, &dirs);
            Ok((g, messages, unnamed))
        })
    }

    /// Writes the rest of its trace: context, graph and inferred messages (when the graph
    /// could be read), and the `end` line.
    fn finish(&mut self, finished: Finished, lost: &LossCounters, decode_errors: u64) {
        let lines = self.closing_lines(finished, lost, decode_errors);
        let Some(mut sink) = self.sink.take() else {
            return;
        };
        let written = lines
            .iter()
            .try_for_each(|l| sink.write(l))
            .and_then(|()| sink.finish());
        match written {
            Ok(()) => self.sha256 = sink.sha256().map(str::to_string),
            Err(e) => self.broken(format!("writing its trace {}: {e}", self.path.display())),
        }
        self.cargo = HashSet::new();
        self.programs = HashMap::new();
        self.deps_dirs = HashSet::new();
    }

    fn closing_lines(
        &mut self,
        finished: Finished,
        lost: &LossCounters,
        decode_errors: u64,
    ) -> Vec<Line> {
        let mut lines = Vec::new();
        match finished {
            Ok((g, messages, unnamed)) => {
                if let Some(first) = unnamed.first() {
                    // Crate code attribution could only give to cargo: fail closed.
                    self.problem.get_or_insert(format!(
                        "cargo ran {} program(s) of the target directory that no package could                          be named for (`{first}`…)",
                        unnamed.len()
                    ));
                }
                self.workspace = Some(g.workspace_root.clone());
                let home = self
                    .launch
                    .var("HOME")
                    .map(PathBuf::from)
                    .unwrap_or_default();
                let cwd = self.launch.cwd.clone().unwrap_or_default();
                lines.push(Line::BuildContext(build::context(
                    &g,
                    &home,
                    &|name| self.launch.var(name),
                    self.user_target_dir(),
                    cwd,
                    false,
                )));
                lines.extend(
                    messages
                        .into_iter()
                        .map(|m| Line::CargoMessage(CargoMessage { message: m })),
                );
                lines.push(Line::Graph(g));
            }
            // A run that started nothing but cargo is not judged; any other is, and without
            // its workspace the trace has no context: it cannot pass.
            Err(e) if self.ran_other => {
                self.problem.get_or_insert(format!(
                    "its workspace could not be read: {}",
                    crate::error_chain(&e)
                ));
            }
            Err(_) => {}
        }
        let (exit_code, signal) = self.exit.map_or((None, None), |(_, c, s)| (c, s));
        lines.push(Line::End(trace::End {
            schema_version: trace::SCHEMA_VERSION,
            exit_code,
            signal,
            events: self.seq,
            lost: lost.clone(),
            decode_errors,
            complete: lost.total() == 0 && decode_errors == 0,
            still_running: self.live.iter().copied().collect(),
        }));
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::record::fake::{exec, exit, fork};

    fn jobs(dir: &std::path::Path) -> Jobs {
        let start = trace::Start {
            schema_version: trace::SCHEMA_VERSION,
            tracer_version: "t".into(),
            command: Vec::new(),
            cwd: String::new(),
            system_wide: false,
            root_pid: 0,
            tracer_pid: None,
            kernel: String::new(),
            probes_attached: 0,
            proc_macro_probes: false,
        };
        Jobs::new(dir.into(), start, Duration::ZERO, OwnRuns::default())
    }

    #[test]
    fn only_what_cargo_itself_ran_is_cargos() {
        let d = tempfile::tempdir().unwrap();
        let mut j = jobs(d.path());
        let mut probes = ProbeRequests::default();
        // Pids no process has here: /proc tells nothing, and the policy copy fails at once.
        let (root, script, rustc, clippy, inner, lint) = (4_000_001, 2, 3, 4, 5, 6);
        let mut feed = |j: &mut Jobs, r| j.record(r, Vec::new(), &mut probes);
        feed(&mut j, exec(root, 1, "/bin/cargo", &["cargo", "build"]));
        // A build script, which then execs a compiler command line and a cargo of its own.
        feed(&mut j, fork(root, script));
        feed(
            &mut j,
            exec(script, root, "/t/build/a-1/build-script-build", &["bsb"]),
        );
        feed(
            &mut j,
            exec(
                script,
                root,
                "/x/rustc",
                &["rustc", "--crate-name", "b", "b.rs"],
            ),
        );
        feed(&mut j, exec(script, root, "/x/cargo", &["cargo", "build"]));
        // rustc through the rustup proxy: two execs of one name, one command line.
        feed(&mut j, fork(root, rustc));
        feed(
            &mut j,
            exec(
                rustc,
                root,
                "/h/.cargo/bin/rustc",
                &["rustc", "--crate-name", "c", "c.rs"],
            ),
        );
        feed(
            &mut j,
            exec(
                rustc,
                root,
                "/tc/bin/rustc",
                &["rustc", "--crate-name", "c", "c.rs"],
            ),
        );
        // cargo clippy: cargo → cargo-clippy → cargo → clippy-driver.
        feed(&mut j, fork(root, clippy));
        feed(
            &mut j,
            exec(
                clippy,
                root,
                "/tc/bin/cargo-clippy",
                &["cargo-clippy", "clippy"],
            ),
        );
        feed(&mut j, fork(clippy, inner));
        feed(
            &mut j,
            exec(inner, clippy, "/tc/bin/cargo", &["cargo", "check"]),
        );
        feed(&mut j, fork(inner, lint));
        feed(
            &mut j,
            exec(
                lint,
                inner,
                "/tc/bin/clippy-driver",
                &["clippy-driver", "rustc", "--crate-name", "d", "d.rs"],
            ),
        );
        let run = &j.invocations[0];
        let names: Vec<&str> = run
            .observed
            .rustc
            .iter()
            .map(|a| a[a.iter().position(|x| x == "--crate-name").unwrap() + 1].as_str())
            .collect();
        assert_eq!(names, ["c", "d"]);
        assert_eq!(run.observed.programs, ["/t/build/a-1/build-script-build"]);
        assert!(run.cargo.contains(&inner) && !run.cargo.contains(&script));
        assert_eq!(j.invocations.len(), 1);
        // The root's end, after the others: the invocation is finished at the next tick.
        for p in [lint, inner, clippy, rustc, script, root] {
            feed(&mut j, exit(p, root));
        }
        assert_eq!(j.unrouted, 0);
        assert!(j.invocations[0].live.is_empty());
    }
}
