//! Attributed events → per-crate behaviours: each event becomes zero or more behaviours (kind and
//! target), targets are normalised with placeholders, identical behaviours are counted together
//! with one example process chain, and routine ones are set apart.

pub mod persist;
pub mod placeholders;
pub mod processes;
pub mod routine;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use persist::Persistence;
use placeholders::Placeholders;
use processes::{ProcessNode, Processes};

use crate::{
    attribution::{Actor, Attributor, Index},
    events::{SockAddr, reached::Unknown},
    model::{BuildContext, Kind, Phase, Placeholder, ProcessChain},
    trace::{
        EventRecord, RecordDetail,
        stack::{CallStack, NO_STACKS, StackTable},
    },
};

/// One aggregated behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Behavior {
    pub kind: Kind,
    pub target: String,
    pub phase: Phase,
    /// For a proc macro: the crate being compiled when it ran.
    pub within: Option<usize>,
    pub count: u64,
    pub succeeded: u64,
    pub example_chain: ProcessChain,
    pub routine: bool,
    /// An exec: the installed program's link it was run by, when the kernel ran another file
    /// (`/usr/bin/sh` for `/usr/bin/dash`). Both are installed programs; a link anywhere else
    /// names nothing (a `cc` in OUT_DIR pointing at `curl` is `curl`).
    pub run_as: Option<String>,
    /// The call stack of the first occurrence, in a test or binary (runtime attribution).
    pub example_stack: Option<CallStack>,
}

/// Who a behaviour belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Owner {
    Crate(usize),
    Cargo,
    Unattributed,
}

/// One behaviour: who, in which phase, what kind and target, while compiling which crate, and
/// the facts that change how it is judged but not whose it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    owner: Owner,
    phase: Phase,
    kind: Kind,
    target: String,
    within: Option<usize>,
    judged: Judged,
    run_as: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Judged {
    /// Done by the toolchain's cargo that the crate started: routine as cargo's is.
    by_cargo: bool,
    /// An anonymous pipe or socket reopened (the jobserver's): no file's contents.
    pipe: bool,
    /// The kernel reached a file it could not name: the target is only the string the process
    /// passed, which proves nothing, so never routine.
    unverified: bool,
    /// A file with several names, where a hard link could have put it: never routine.
    linked: bool,
    /// The exec that started the phase, by cargo: routine as cargo's execs are.
    started_by_cargo: bool,
    /// Made by code in no file (written at run time): never routine.
    unknown_code: bool,
}

/// Everything a report is made of.
#[derive(Debug, Default)]
pub struct Aggregate {
    pub behaviors: BTreeMap<Owner, Vec<Behavior>>,
    /// Packages whose phase had a process of its own (build script exec'd, rustc run, test run).
    pub ran: BTreeSet<(usize, Phase)>,
    /// Proc macro → crates it ran while compiling.
    pub expanded_in: BTreeMap<usize, BTreeSet<usize>>,
    /// Processes attributed per owner and phase.
    pub processes: BTreeMap<(Owner, Phase), u64>,
    /// The notable part of the process tree.
    pub tree: Vec<ProcessNode>,
    pub events: u64,
}

/// Builds an [`Aggregate`] from records in trace order.
pub struct Aggregator<'a> {
    index: &'a Index,
    ctx: &'a BuildContext,
    attributor: Attributor<'a>,
    acc: HashMap<Key, Behavior>,
    order: Vec<Key>,
    /// Failed exec attempts per pid, dropped if the same program name then runs (PATH search).
    pending_failed_exec: HashMap<u32, Vec<(String, Actor)>>,
    sysroots: BTreeSet<String>,
    /// The program each process runs, as the kernel named it (only when it did).
    real_exe: HashMap<u32, String>,
    /// Placeholders per owner: rebuilding them per event (sorting, scanning build dirs) was the
    /// aggregation's hot spot.
    places_cache: HashMap<Owner, std::rc::Rc<(Placeholders, Placeholders)>>,
    procs: Processes,
    persistence: Persistence,
    /// Ports traced processes listened on, on loopback or every address: a test's own server,
    /// which its own clients connecting to is routine.
    listening: BTreeSet<u16>,
    /// The trace's call stacks, and the one of the record being pushed.
    stacks: &'a StackTable,
    stack: Option<&'a CallStack>,
    out: Aggregate,
}

fn owner_phase(actor: Actor) -> (Owner, Phase, Option<usize>) {
    match actor {
        Actor::Crate {
            package,
            phase,
            within,
        } => (Owner::Crate(package), phase, within),
        Actor::Cargo => (Owner::Cargo, Phase::Cargo, None),
        Actor::Unattributed => (Owner::Unattributed, Phase::Cargo, None),
    }
}

/// Removes `.` and resolves `..` components of an absolute path, lexically — but not past one
/// of the kernel's magic links, whose `..` is not lexical.
pub fn normalize(path: &str) -> String {
    if !path.starts_with('/') {
        return path.to_string();
    }
    let mut parts: Vec<&str> = Vec::new();
    let mut rest = path.split('/');
    for p in rest.by_ref() {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            _ => parts.push(p),
        }
        // Past a magic link (`/proc/self/cwd`, `/proc/self/fd/9`) `..` is the kernel's to
        // resolve: the rest is kept as written.
        if routine::is_magic_link(&parts) {
            break;
        }
    }
    let mut out = format!("/{}", parts.join("/"));
    for p in rest.filter(|p| !p.is_empty() && *p != ".") {
        out.push('/');
        out.push_str(p);
    }
    out
}

/// The installed program's name an exec was run by (`/usr/bin/sh`), when the kernel ran another
/// installed file (`/usr/bin/dash`). `passed` is the path as the process passed it (a PATH
/// search passes the full path); only a plain one counts: `..` after a link the crate made
/// resolves elsewhere in the kernel than on paper.
fn run_as_name(passed: &str, real: &str, named: bool) -> Option<String> {
    let plain = passed.starts_with('/') && !passed.split('/').any(|c| c == "." || c == "..");
    (named
        && plain
        && passed != real
        && routine::is_installed_program(passed)
        && routine::is_installed_program(real))
    .then(|| passed.to_string())
}

/// The kernel names `/proc/self/…` by the process's number: `/proc/<pid>/…` of the process
/// itself is `/proc/self/…` again (and its own thread's `/proc/thread-self/…`), so it reads as
/// self-inspection; another process's stays as it is.
fn self_proc(path: String, pid: u32, tid: u32) -> String {
    let Some(rest) = path.strip_prefix("/proc/") else {
        return path;
    };
    let (id, after) = rest.split_once('/').unwrap_or((rest, ""));
    if id != pid.to_string() {
        return path;
    }
    let own_task = format!("task/{tid}");
    match after.strip_prefix(&own_task) {
        Some(t) if t.is_empty() || t.starts_with('/') => format!("/proc/thread-self{t}"),
        _ if after.is_empty() => "/proc/self".to_string(),
        _ => format!("/proc/self/{after}"),
    }
}

/// `$TMPDIR/ccAbC123.s` → `$TMPDIR/cc*.s`: compilers' random temporary names would otherwise
/// make one behaviour per file.
pub fn collapse_temp_name(target: &str) -> String {
    let Some(rest) = target.strip_prefix("$TMPDIR/") else {
        return target.to_string();
    };
    let (first, tail) = rest
        .split_once('/')
        .map_or((rest, None), |(a, b)| (a, Some(b)));
    let (stem, ext) = first
        .split_once('.')
        .map_or((first, None), |(a, b)| (a, Some(b)));
    for prefix in ["cc", "rustc", "tmp", ".tmp"] {
        if let Some(random) = stem.strip_prefix(prefix)
            && random.len() >= 6
            && random.chars().all(|c| c.is_ascii_alphanumeric())
        {
            let ext = ext.map(|e| format!(".{e}")).unwrap_or_default();
            let tail = tail.map(|t| format!("/{t}")).unwrap_or_default();
            return format!("$TMPDIR/{prefix}*{ext}{tail}");
        }
    }
    target.to_string()
}

/// `dir` and each of its parents (where cargo looks for `.cargo/config.toml` and `.git`).
fn ancestors(dir: &str) -> impl Iterator<Item = &str> {
    let mut cur = (!dir.is_empty()).then_some(dir);
    std::iter::from_fn(move || {
        let d = cur?;
        cur = d.rsplit_once('/').map(|(p, _)| p).filter(|p| !p.is_empty());
        Some(d)
    })
}

/// Where a symlink at `link` with contents `target` points: relative contents are relative to
/// the link's directory (resolved lexically later, like every path).
fn symlink_target(link: &str, target: &str) -> String {
    if target.starts_with('/') {
        return target.to_string();
    }
    let dir = link.rsplit_once('/').map_or("", |(d, _)| d);
    format!("{dir}/{target}")
}

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// What the syscall behind a behaviour reached.
#[derive(Clone, Copy, Default)]
struct Reached {
    ok: bool,
    /// It opened a pipe or a socket.
    channel: bool,
    /// The kernel reached a file but did not name it.
    unnamed: bool,
    /// The target is the kernel's own path.
    named: bool,
    /// The kernel reached a file outside the process's tree of names: a pipe, a socket.
    detached: bool,
    /// A trace from before kernel paths (schema < 3).
    legacy: bool,
    /// It opened a regular file with more than one name: a hard link may have brought a file
    /// from anywhere on the filesystem into a directory that looks routine.
    linked: bool,
    /// An exec by which cargo started a phase (a test binary, rustdoc, a build script): cargo
    /// running the build's own programs, judged as cargo's.
    starts_phase: bool,
    /// A listen on loopback, or a connect to a loopback port a traced process listens on: a
    /// test's own server and its clients.
    own_server: bool,
}

impl Reached {
    fn of(rec: &EventRecord) -> Self {
        let (real, file_type, links) = match &rec.detail {
            RecordDetail::Open {
                real,
                file_type,
                links,
                ..
            } => (Some(real), *file_type, *links),
            RecordDetail::Exec { real, .. } => (Some(real), None, None),
            _ => (None, None, None),
        };
        // Traces before schema 3 have no kernel paths: judged on their strings, as then.
        let kernel_paths = rec.schema_version >= 3 && rec.ok;
        let named = real.is_some_and(|r| r.real.is_some());
        Self {
            ok: rec.ok,
            channel: file_type.is_some_and(|t| t.is_channel()),
            unnamed: kernel_paths && real.is_some() && !named,
            named,
            detached: real.is_some_and(|r| r.real_unknown == Some(Unknown::Detached)),
            legacy: rec.schema_version < 3,
            linked: links.is_some_and(|n| n > 1),
            ..Reached::default()
        }
    }
}

/// The kinds and raw targets one record stands for. A successful open or exec is named by the
/// path the kernel reached; everything else by the string the process passed.
fn behaviours_of(rec: &EventRecord) -> Vec<(Kind, String)> {
    let p = |x: &crate::proctable::paths::ResolvedPath| x.best().to_string();
    match &rec.detail {
        RecordDetail::Open { access, .. } if access.path_only => Vec::new(),
        // A name that was there already (`mkdir -p` walking down existing directories): nothing
        // was made or changed.
        RecordDetail::Meta { .. } | RecordDetail::Link { .. }
            if rec.errno.as_deref() == Some("EEXIST") =>
        {
            Vec::new()
        }
        RecordDetail::Open {
            path, access, real, ..
        } if access.write || access.create || access.truncate => {
            vec![(Kind::FsWrite, real.or(path).to_string())]
        }
        RecordDetail::Open { path, real, .. } => vec![(Kind::FsRead, real.or(path).to_string())],
        RecordDetail::Unlink { path, .. } => vec![(Kind::FsDelete, p(path))],
        // Its mode, owner, times or length, or a new directory or node: a write of that name.
        // On a descriptor no recent open named: said to be unnamed (and so never routine).
        RecordDetail::Meta { path, .. } if path.raw.is_empty() && path.abs.is_none() => vec![(
            Kind::FsWrite,
            "(an open file the kernel could not name)".into(),
        )],
        RecordDetail::Meta { path, .. } => vec![(Kind::FsWrite, p(path))],
        // A new name is written; a link also lays what it names open under that name, as
        // reading it would: a hard link's file, and a symlink's target — judged where it points
        // (unlinks, renames and metadata calls are named by their strings, and a directory link
        // of the crate's own would make `$OUT_DIR/l/.ssh/id_rsa` read as its own business).
        RecordDetail::Link {
            link,
            existing,
            target,
        } => {
            let mut v = vec![(Kind::FsWrite, p(link))];
            v.extend(existing.iter().map(|x| (Kind::FsRead, p(x))));
            v.extend(
                target
                    .iter()
                    .filter(|_| rec.ok)
                    .map(|t| (Kind::FsRead, symlink_target(link.best(), t))),
            );
            v
        }
        RecordDetail::Rename { from, to, .. } => {
            vec![(Kind::FsDelete, p(from)), (Kind::FsWrite, p(to))]
        }
        // A datagram to an address reaches it as a connect does.
        RecordDetail::Connect { addr, .. } | RecordDetail::Send { addr, .. } => {
            vec![(Kind::NetConnect, addr.display())]
        }
        RecordDetail::Listen { local, .. } => vec![(Kind::NetListen, local.display())],
        RecordDetail::Bind {
            addr: addr @ SockAddr::Inet { port, .. },
            ..
        } if *port != 0 => {
            vec![(Kind::NetListen, addr.display())]
        }
        RecordDetail::Dns { query: Some(q), .. } => q
            .questions
            .iter()
            .map(|x| (Kind::NetDns, x.name.clone()))
            .collect(),
        RecordDetail::Dns {
            decode_error: Some(_),
            server,
            ..
        } => {
            vec![(
                Kind::NetDns,
                format!("(undecodable query to {})", server.display()),
            )]
        }
        RecordDetail::Exec { path, real, .. } => {
            vec![(Kind::ProcessExec, real.or(path).to_string())]
        }
        _ => Vec::new(),
    }
}

impl<'a> Aggregator<'a> {
    pub fn new(index: &'a Index, ctx: &'a BuildContext, root_pid: u32) -> Self {
        Self {
            index,
            ctx,
            attributor: Attributor::new(index, root_pid),
            acc: HashMap::new(),
            order: Vec::new(),
            pending_failed_exec: HashMap::new(),
            sysroots: BTreeSet::new(),
            real_exe: HashMap::new(),
            places_cache: HashMap::new(),
            procs: Processes::default(),
            persistence: Persistence::default(),
            listening: BTreeSet::new(),
            stacks: &NO_STACKS,
            stack: None,
            out: Aggregate::default(),
        }
    }

    /// The trace's call stacks, which records name by id.
    pub fn with_stacks(mut self, stacks: &'a StackTable) -> Self {
        self.stacks = stacks;
        self.attributor = self.attributor.with_stacks(stacks);
        self
    }

    /// [`Self::places`], built once per owner (and again when a new toolchain is seen).
    fn cached_places(&mut self, owner: Owner) -> std::rc::Rc<(Placeholders, Placeholders)> {
        if let Some(p) = self.places_cache.get(&owner) {
            return p.clone();
        }
        let p = std::rc::Rc::new(self.places(owner));
        self.places_cache.insert(owner, p.clone());
        p
    }

    /// Placeholders for rendering (`render`) and for routine checks (`check`, with more names).
    fn places(&self, owner: Owner) -> (Placeholders, Placeholders) {
        let c = self.ctx;
        let mut common: Vec<(Placeholder, &str)> = c.common_dirs().to_vec();
        let ancestors = ancestors(&c.workspace_root).chain(ancestors(&c.cwd));
        if let Owner::Crate(p) = owner {
            if let Some(m) = self.index.manifest_dirs.get(&p) {
                common.push((Placeholder::CargoManifestDir, m));
            }
            for o in self.index.out_dirs.get(&p).into_iter().flatten() {
                common.push((Placeholder::OutDir, o));
            }
        }
        let render = Placeholders::new(common.iter().copied());
        let mut check = common;
        for s in &self.sysroots {
            check.push((Placeholder::Sysroot, s));
        }
        check.push((Placeholder::Sysroot, &c.rustup_home));
        for a in ancestors {
            check.push((Placeholder::ConfigDir, a));
        }
        if let Owner::Crate(p) = owner {
            // The script's own directories: where its binary is and where its OUT_DIR lives.
            for d in self.index.build_dirs_of(p) {
                check.push((Placeholder::BuildDir, d));
            }
            for o in self.index.out_dirs.get(&p).into_iter().flatten() {
                if let Some(d) = o.strip_suffix("/out") {
                    check.push((Placeholder::BuildDir, d));
                }
            }
        }
        // Every package's sources: cargo reads them all, and rustc those of the crates whose
        // macros it expands.
        for m in self.index.manifest_dirs.values() {
            check.push((Placeholder::Packages, m));
        }
        (render, Placeholders::new(check))
    }

    fn add(
        &mut self,
        actor: Actor,
        kind: Kind,
        raw: String,
        rec: Reached,
        pid: u32,
        run_as: Option<String>,
    ) {
        let ok = rec.ok;
        let (owner, phase, within) = owner_phase(actor);
        // A dependency's code in a test or binary works among that program's files (snapshots
        // beside its tests, its `.env`): named and judged in the program's package's places.
        let places = match (phase, within) {
            (Phase::Runtime | Phase::Constructor, Some(program)) => {
                self.cached_places(Owner::Crate(program))
            }
            _ => self.cached_places(owner),
        };
        let (render, check) = (&places.0, &places.1);
        // `..` is resolved lexically: `/usr/lib/../../home/u/.ssh/id_rsa` must not pass for a
        // system library read (a symlinked directory can only make this less exact, never hide).
        let raw = if kind.is_path() { normalize(&raw) } else { raw };
        let target = if kind.is_path() {
            collapse_temp_name(&render.apply(&raw))
        } else {
            raw.clone()
        };
        // The jobserver's pipe reopened by `/dev/fd/N` (what the jobserver crate does): the
        // same pipe, no file's contents. Any other file reopened that way is not routine.
        let pipe =
            rec.channel && (rec.detached || (rec.legacy && routine::reopens_descriptor(&raw)));
        let judged = Judged {
            by_cargo: matches!(owner, Owner::Crate(_)) && self.is_toolchain_cargo(pid),
            pipe,
            unverified: rec.unnamed && !pipe,
            linked: rec.linked && !routine::linked_may_be_routine(phase, &raw, check),
            started_by_cargo: rec.starts_phase && kind == Kind::ProcessExec,
            unknown_code: self.stack.as_ref().is_some_and(|s| s.from_unknown_code()),
        };
        let key = Key {
            owner,
            phase,
            kind,
            target: target.clone(),
            within,
            judged,
            run_as,
        };
        if !self.acc.contains_key(&key) {
            // Decided once per behaviour, at its first occurrence.
            let routine_phase = if judged.by_cargo || judged.started_by_cargo {
                Phase::Cargo
            } else {
                phase
            };
            // A test's own server in a test or program; a call from code no file backs is
            // never routine.
            let routine = !judged.unverified
                && !judged.linked
                && !judged.unknown_code
                && ((kind.is_path()
                    && (pipe
                        || routine::is_routine(routine_phase, kind, &raw, check)
                        || (!ok && routine::is_library_search(kind, &raw))))
                    || (rec.own_server && routine::runs_programs(phase)));
            let example_chain = self.attributor.chain(pid);
            self.acc.insert(
                key.clone(),
                Behavior {
                    kind,
                    target,
                    phase,
                    within,
                    count: 0,
                    succeeded: 0,
                    example_chain,
                    routine,
                    run_as: key.run_as.clone(),
                    example_stack: self.stack.cloned(),
                },
            );
            self.order.push(key.clone());
        }
        let b = self.acc.get_mut(&key).expect("inserted above");
        b.count += 1;
        if ok {
            b.succeeded += 1;
        }
        if !b.routine {
            self.procs.notable(pid, kind, &b.target);
        }
    }

    /// A listen on loopback, or a connect to a loopback port a traced process listens on
    /// (learned from every successful listen on loopback or the wildcard). A connect to a
    /// loopback port no traced process listened on (a local service) is not.
    fn own_server(&mut self, detail: &RecordDetail, ok: bool) -> bool {
        match detail {
            RecordDetail::Listen { local, .. } => local.inet().is_some_and(|(ip, port)| {
                if ok && (ip.is_loopback() || ip.is_unspecified()) {
                    self.listening.insert(port);
                }
                ip.is_loopback()
            }),
            RecordDetail::Connect { addr, .. } => addr
                .inet()
                .is_some_and(|(ip, port)| ip.is_loopback() && self.listening.contains(&port)),
            _ => false,
        }
    }

    /// Whether `pid` runs the toolchain's own cargo (a build script asking `cargo metadata`):
    /// its reads of the registry and its configuration are routine as cargo's are. A program
    /// the crate merely named `cargo` is not: it would have to be written into the toolchain
    /// first, which is itself notable.
    fn is_toolchain_cargo(&self, pid: u32) -> bool {
        // The program the kernel ran, exactly the `cargo` of a toolchain cargo itself used (or
        // `$CARGO_HOME/bin/cargo`): not a name, not anything else under rustup's home.
        let Some(exe) = self.real_exe.get(&pid) else {
            return false;
        };
        self.sysroots
            .iter()
            .any(|s| exe.strip_prefix(s.as_str()) == Some("/bin/cargo"))
            || (!self.ctx.cargo_home.is_empty()
                && exe.strip_prefix(self.ctx.cargo_home.as_str()) == Some("/bin/cargo"))
    }

    /// Who owns an actor's behaviour, in words (for the process tree).
    fn owner_name(&self, owner: Owner) -> String {
        match owner {
            Owner::Crate(p) => self.index.packages[p].key().to_string(),
            Owner::Cargo => "cargo".into(),
            Owner::Unattributed => "(unattributed)".into(),
        }
    }

    /// Keeps the process tree up to date: who a process is changes at fork and exec only, so
    /// other records cost one lookup.
    fn track(&mut self, rec: &EventRecord, owner: Owner, phase: Phase) {
        let describe = |a: &mut Self, pid: u32, owner: Owner, phase: Phase| {
            let names = a.attributor.names(pid);
            let who = a.owner_name(owner);
            a.procs.seen(pid, rec.ppid, rec.ts_ns, names, who, phase);
        };
        match &rec.detail {
            RecordDetail::Fork {
                child_pid,
                thread: false,
                ..
            } => {
                if !self.procs.knows(rec.pid) {
                    describe(self, rec.pid, owner, phase);
                }
                self.procs.forked(rec.pid, *child_pid, rec.ts_ns);
                let (o, ph, _) = owner_phase(self.attributor.actor(*child_pid));
                let names = self.attributor.names(*child_pid);
                let who = self.owner_name(o);
                self.procs
                    .seen(*child_pid, Some(rec.pid), rec.ts_ns, names, who, ph);
            }
            RecordDetail::Exec { .. } => {
                describe(self, rec.pid, owner, phase);
                if self.attributor.starts_phase(rec.pid) {
                    self.procs.starts_phase(rec.pid);
                }
            }
            RecordDetail::Exit {
                process_exit: true, ..
            } => self.procs.exited(rec.pid, rec.ts_ns),
            RecordDetail::ProcMacro {} if phase == Phase::ProcMacro => {
                if !self.procs.knows(rec.pid) {
                    describe(self, rec.pid, owner, phase);
                }
                let who = self.owner_name(owner);
                self.procs.macro_ran(rec.pid, who, rec.ts_ns);
            }
            _ if !self.procs.knows(rec.pid) => describe(self, rec.pid, owner, phase),
            _ => {}
        }
    }

    /// Feeds one record (in trace order).
    pub fn push(&mut self, rec: &EventRecord) {
        self.out.events += 1;
        self.stack = rec.stack_id.and_then(|id| self.stacks.get(&id));
        let actor = self.attributor.attribute(rec);
        let (owner, phase, within) = owner_phase(actor);
        if let RecordDetail::Exit {
            process_exit: true, ..
        } = &rec.detail
            && self.persistence.take(rec.pid)
        {
            // Before the tree marks it ended, so its node shows what it was.
            self.persisted(rec.pid);
        }
        self.track(rec, owner, phase);
        self.follow_phases(rec);
        let mut reached = Reached::of(rec);
        reached.starts_phase = matches!(rec.detail, RecordDetail::Exec { .. })
            && self.attributor.starts_phase(rec.pid);
        reached.own_server = self.own_server(&rec.detail, rec.ok);
        let mut run_as = None;
        match &rec.detail {
            RecordDetail::Exec { path, real, .. } => {
                let exe = self.ctx.named(real.or(path)).into_owned();
                match &real.real {
                    Some(_) => self.real_exe.insert(rec.pid, exe.clone()),
                    None => self.real_exe.remove(&rec.pid),
                };
                run_as = run_as_name(&path.raw, &exe, reached.named);
                // A toolchain program (rustc, cargo, rustdoc…) that cargo runs names its
                // toolchain's directory; one a crate runs proves nothing about where it is.
                if owner == Owner::Cargo
                    && let Some(root) = exe.strip_suffix(&format!("/bin/{}", basename(&exe)))
                    && ["rustc", "cargo", "rustdoc", "clippy-driver"]
                        .iter()
                        .any(|t| basename(&exe).starts_with(t))
                    && self.sysroots.insert(root.to_string())
                {
                    // Routine checks know a new toolchain directory from now on.
                    self.places_cache.clear();
                }
                *self.out.processes.entry((owner, phase)).or_default() += 1;
                if let Owner::Crate(p) = owner {
                    self.out.ran.insert((p, phase));
                }
                // A PATH search tries names; what ran may really be another file (`sh` is
                // `dash`), so the misses are matched by the name it was run as.
                if let Some(list) = self.pending_failed_exec.get_mut(&rec.pid) {
                    list.retain(|(tried, _)| basename(tried) != basename(path.best()));
                }
            }
            // A child runs its parent's program until it execs its own.
            RecordDetail::Fork {
                child_pid,
                thread: false,
                ..
            } => {
                if let Some(e) = self.real_exe.get(&rec.pid).cloned() {
                    self.real_exe.insert(*child_pid, e);
                } else {
                    self.real_exe.remove(child_pid);
                }
            }
            RecordDetail::ExecFailed { path } => {
                let exe = path.best().to_string();
                self.pending_failed_exec
                    .entry(rec.pid)
                    .or_default()
                    .push((exe, actor));
                return;
            }
            RecordDetail::Exit {
                process_exit: true, ..
            } => self.flush_failed_exec(rec.pid),
            _ => {}
        }
        if let (Phase::ProcMacro, Owner::Crate(m)) = (phase, owner) {
            self.out.ran.insert((m, Phase::ProcMacro));
            if let Some(w) = within {
                self.out.expanded_in.entry(m).or_default().insert(w);
            }
        }
        for (kind, raw) in behaviours_of(rec) {
            // In the build's names: the kernel's paths, and paths resolved against directories
            // the kernel named, use the real ones (a symlinked target directory).
            let raw = if kind.is_path() {
                self.ctx.named(&raw).into_owned()
            } else {
                raw
            };
            let raw = if reached.named {
                self_proc(raw, rec.pid, rec.tid)
            } else {
                raw
            };
            self.add(actor, kind, raw, reached, rec.pid, run_as.clone());
        }
    }

    /// Keeps track of which phase each process belongs to; when the process that started a
    /// build script's or proc macro's phase exits, those of its processes still running have
    /// outlived it.
    fn follow_phases(&mut self, rec: &EventRecord) {
        match &rec.detail {
            RecordDetail::Fork {
                child_pid,
                thread: false,
                ..
            } => self.persistence.forked(rec.pid, *child_pid),
            RecordDetail::Exec { .. } if self.attributor.starts_phase(rec.pid) => {
                self.persistence.started_phase(rec.pid);
            }
            RecordDetail::Exit {
                process_exit: true, ..
            } => {
                for pid in self.persistence.exited(rec.pid) {
                    let (_, phase, _) = owner_phase(self.attributor.actor(pid));
                    // A test's or a program's leftover is traced on like any process (and
                    // one still running when tracing stops makes the trace incomplete).
                    if matches!(phase, Phase::BuildScript | Phase::ProcMacro) {
                        self.persistence.outlives(pid);
                    }
                }
            }
            _ => {}
        }
    }

    /// `pid` outlived its phase: a behaviour of the crate, naming the program it runs and, when
    /// it renamed itself, the name it took.
    fn persisted(&mut self, pid: u32) {
        let actor = self.attributor.actor(pid);
        let named = self.real_exe.contains_key(&pid);
        let comm = self.attributor.comm(pid).unwrap_or("?").to_string();
        let exe = match self.real_exe.get(&pid) {
            Some(e) => e.clone(),
            None => self.attributor.exe(pid).unwrap_or(&comm).to_string(),
        };
        let run_as = persist::renamed(&comm, basename(&exe)).then_some(comm);
        let reached = Reached {
            ok: true,
            named,
            ..Reached::default()
        };
        let exe = self.ctx.named(&exe).into_owned();
        self.add(actor, Kind::ProcessPersist, exe, reached, pid, run_as);
    }

    fn flush_failed_exec(&mut self, pid: u32) {
        for (exe, actor) in self.pending_failed_exec.remove(&pid).unwrap_or_default() {
            let failed = Reached::default();
            self.add(actor, Kind::ProcessExec, exe, failed, pid, None);
        }
    }

    /// The processes still running when tracing stopped (from the `end` line), before
    /// [`Self::finish`].
    pub fn still_running(&mut self, pids: &[u32]) {
        for &pid in pids {
            self.procs.still_running(pid);
        }
    }

    /// Finishes: failed execs never followed by a run, grouped per owner in first-seen order.
    pub fn finish(mut self) -> Aggregate {
        for pid in self.persistence.drain() {
            self.persisted(pid);
        }
        let pids: Vec<u32> = self.pending_failed_exec.keys().copied().collect();
        for pid in pids {
            self.flush_failed_exec(pid);
        }
        for key in &self.order {
            let b = self.acc.remove(key).expect("every key is in acc");
            self.out.behaviors.entry(key.owner).or_default().push(b);
        }
        for list in self.out.behaviors.values_mut() {
            list.sort_by_key(|b| (b.kind, b.phase));
        }
        self.out.tree = self.procs.finish();
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        cargo::messages::fake::build_script,
        trace::record::{
            FileType,
            fake::{exec, exit, fork, read, really, rec},
        },
    };

    fn context() -> BuildContext {
        BuildContext {
            workspace_root: "/w".into(),
            target_dir: "/w/target".into(),
            home: "/h".into(),
            cargo_home: "/h/.cargo".into(),
            tmpdir: "/tmp".into(),
            rustup_home: "/h/.rustup".into(),
            cwd: "/w".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_pipe_reopened_by_its_descriptor_is_routine_and_a_file_is_not() {
        let script = "/w/target/debug/build/jobs-1a1a/build-script-build";
        let msgs = [build_script("registry+https://x#jobs@0.1.0", script)];
        let index = Index::from_messages(msgs.iter());
        let ctx = context();
        let mut agg = Aggregator::new(&index, &ctx, 10);
        // A pipe has no name the kernel can give (detached); a file the probe could not name
        // stands for any reopened file here.
        let reopen = |fd: &str, t: FileType| {
            let mut r = read(20, fd);
            if let RecordDetail::Open {
                file_type, real, ..
            } = &mut r.detail
            {
                *file_type = Some(t);
                *real = crate::trace::record::Real {
                    real: None,
                    real_unknown: Some(match t {
                        FileType::Fifo => Unknown::Detached,
                        _ => Unknown::Fault,
                    }),
                };
            }
            r
        };
        for r in [
            fork(10, 20),
            exec(20, 10, script, &[]),
            // The jobserver's pipe, as the jobserver crate reopens it.
            reopen("/dev/fd/3", FileType::Fifo),
            reopen("/proc/self/fd/5", FileType::Fifo),
            // The same descriptor number later naming a file: whatever it is, it is notable,
            // though the pipe came first.
            reopen("/dev/fd/3", FileType::Regular),
            reopen("/proc/self/fd/9", FileType::Regular),
        ] {
            agg.push(&r);
        }
        let out = agg.finish();
        let verdicts: Vec<(&str, bool)> = out.behaviors[&Owner::Crate(0)]
            .iter()
            .filter(|b| b.kind == Kind::FsRead)
            .map(|b| (b.target.as_str(), b.routine))
            .collect();
        assert_eq!(
            verdicts,
            [
                ("/dev/fd/3", true),
                ("/proc/self/fd/5", true),
                ("/dev/fd/3", false),
                ("/proc/self/fd/9", false),
            ]
        );
    }

    #[test]
    fn a_process_left_running_by_a_build_script_is_a_behaviour_of_its_crate() {
        let script = "/w/target/debug/build/sleeper-1a1a/build-script-build";
        let msgs = [build_script("registry+https://x#sleeper@0.1.0", script)];
        let index = Index::from_messages(msgs.iter());
        let ctx = context();
        let mut agg = Aggregator::new(&index, &ctx, 10);
        let renamed = |mut r: EventRecord| {
            r.comm = "kworker/0:1".into();
            r
        };
        for r in [
            fork(10, 20),
            exec(20, 10, script, &[]),
            // A child it waits for, and a double fork: the middle process exits at once.
            fork(20, 21),
            exec(21, 20, "/usr/bin/cc", &["cc"]),
            exit(21, 20),
            fork(20, 22),
            fork(22, 23),
            exit(22, 20),
            // It renames itself while the script still runs.
            renamed(read(23, "/proc/self/status")),
            // Another that runs a shell and is still running at the end.
            fork(20, 24),
            EventRecord {
                comm: "sh".into(),
                ..exec(24, 20, "/usr/bin/sh", &["sh"])
            },
            exit(20, 10),
            // After the script ended, it acts, then exits.
            renamed(read(23, "/h/.netrc")),
            renamed(exit(23, 1)),
        ] {
            agg.push(&r);
        }
        let out = agg.finish();
        let persisted: Vec<(&str, Option<&str>, bool)> = out.behaviors[&Owner::Crate(0)]
            .iter()
            .filter(|b| b.kind == Kind::ProcessPersist)
            .map(|b| (b.target.as_str(), b.run_as.as_deref(), b.routine))
            .collect();
        assert_eq!(
            persisted,
            [
                (
                    "$TARGET_DIR/debug/build/sleeper-1a1a/build-script-build",
                    Some("kworker/0:1"),
                    false
                ),
                ("/usr/bin/sh", None, false),
            ]
        );
        let read = out.behaviors[&Owner::Crate(0)]
            .iter()
            .find(|b| b.target == "$HOME/.netrc")
            .expect("what it did afterwards is its crate's");
        assert_eq!(read.phase, Phase::BuildScript);
    }

    #[test]
    fn a_tests_own_loopback_server_and_its_clients_are_routine_and_other_ports_are_not() {
        use crate::{events::sockaddr::SockAddr, trace::record::SocketMeta};
        let exe = "/w/target/debug/deps/app-1a1a";
        let msgs = [crate::cargo::messages::fake::artifact(
            "path+file:///w/app#app@0.1.0",
            "lib",
            "app",
            true,
            &[exe],
            Some(exe),
            false,
        )];
        let index = Index::from_messages(msgs.iter());
        let ctx = context();
        let mut agg = Aggregator::new(&index, &ctx, 10);
        let inet = |ip: &str, port| SockAddr::Inet {
            ip: ip.into(),
            port,
        };
        let socket = SocketMeta {
            sock_type: "stream".into(),
        };
        let listen = |ip, port| {
            rec(
                20,
                10,
                RecordDetail::Listen {
                    fd: 3,
                    backlog: 128,
                    local: inet(ip, port),
                    socket: socket.clone(),
                },
            )
        };
        let connect = |ip, port| {
            rec(
                20,
                10,
                RecordDetail::Connect {
                    fd: 4,
                    addr: inet(ip, port),
                    claimed: None,
                    socket: socket.clone(),
                },
            )
        };
        for r in [
            fork(10, 20),
            exec(20, 10, exe, &[]),
            listen("127.0.0.1", 4000),
            connect("127.0.0.1", 4000),
            // Open to the network: not routine, though its clients on loopback are its own.
            listen("0.0.0.0", 4001),
            connect("127.0.0.1", 4001),
            // A local service nothing traced listens on.
            connect("127.0.0.1", 5432),
            connect("10.0.0.1", 4000),
        ] {
            agg.push(&r);
        }
        let out = agg.finish();
        let net: Vec<(&str, bool)> = out.behaviors[&Owner::Crate(0)]
            .iter()
            .filter(|b| b.kind.is_network())
            .map(|b| (b.target.as_str(), b.routine))
            .collect();
        for (target, routine) in [
            ("127.0.0.1:4000", true),
            ("0.0.0.0:4001", false),
            ("127.0.0.1:4001", true),
            ("127.0.0.1:5432", false),
            ("10.0.0.1:4000", false),
        ] {
            assert!(net.contains(&(target, routine)), "{target}: {net:?}");
        }
    }

    #[test]
    fn cargo_starting_a_test_binary_is_routine_and_what_the_test_runs_is_not() {
        let exe = "/w/target/debug/deps/app-1a1a";
        let msgs = [crate::cargo::messages::fake::artifact(
            "path+file:///w/app#app@0.1.0",
            "lib",
            "app",
            true,
            &[exe],
            Some(exe),
            false,
        )];
        let index = Index::from_messages(msgs.iter());
        let ctx = context();
        let mut agg = Aggregator::new(&index, &ctx, 10);
        for r in [
            fork(10, 20),
            exec(20, 10, exe, &[]),
            fork(20, 21),
            exec(21, 20, "/usr/bin/sh", &["sh"]),
        ] {
            agg.push(&r);
        }
        let out = agg.finish();
        let execs: Vec<(&str, Phase, bool)> = out.behaviors[&Owner::Crate(0)]
            .iter()
            .filter(|b| b.kind == Kind::ProcessExec)
            .map(|b| (b.target.as_str(), b.phase, b.routine))
            .collect();
        assert_eq!(
            execs,
            [
                ("$TARGET_DIR/debug/deps/app-1a1a", Phase::Test, true),
                ("/usr/bin/sh", Phase::Test, false),
            ]
        );
    }

    #[test]
    fn a_symlink_a_build_script_makes_is_judged_where_it_points() {
        let script = "/w/target/debug/build/linky-1a1a/build-script-build";
        let out_dir = "/w/target/debug/build/linky-2b2b/out";
        let msgs = [
            build_script("registry+https://x#linky@0.1.0", script),
            crate::cargo::messages::fake::script_run("registry+https://x#linky@0.1.0", out_dir),
        ];
        let index = Index::from_messages(msgs.iter());
        let ctx = context();
        let mut agg = Aggregator::new(&index, &ctx, 10);
        let link = |name: &str, target: &str| {
            rec(
                20,
                10,
                RecordDetail::Link {
                    link: crate::trace::record::fake::path(&format!("{out_dir}/{name}")),
                    existing: None,
                    target: Some(target.into()),
                },
            )
        };
        for r in [
            fork(10, 20),
            exec(20, 10, script, &[]),
            // A way into the home directory for a later rename or unlink by string.
            link("h", "/h/.ssh"),
            // Relative, climbing out of OUT_DIR.
            link("up", "../../../../../../h/.aws"),
            // Honest: a library name for a file next to it.
            link("libz.so", "libz.so.1"),
        ] {
            agg.push(&r);
        }
        let out = agg.finish();
        let reads: Vec<(&str, bool)> = out.behaviors[&Owner::Crate(0)]
            .iter()
            .filter(|b| b.kind == Kind::FsRead)
            .map(|b| (b.target.as_str(), b.routine))
            .collect();
        assert_eq!(
            reads,
            [
                ("$HOME/.ssh", false),
                ("$HOME/.aws", false),
                ("$OUT_DIR/libz.so.1", true)
            ]
        );
    }

    /// `r`, an open, as having reached a file with two names.
    fn linked(mut r: EventRecord) -> EventRecord {
        if let RecordDetail::Open { links, .. } = &mut r.detail {
            *links = Some(2);
        }
        r
    }

    /// `r`, an open, as having reached a FIFO.
    fn fifo(mut r: EventRecord) -> EventRecord {
        if let RecordDetail::Open { file_type, .. } = &mut r.detail {
            *file_type = Some(FileType::Fifo);
        }
        r
    }

    #[test]
    fn a_build_script_is_judged_on_what_the_kernel_reached_not_on_its_strings() {
        let script = "/w/target/debug/build/tricky-1a1a/build-script-build";
        let out_dir = "/w/target/debug/build/tricky-2b2b/out";
        let msgs = [
            build_script("registry+https://x#tricky@0.1.0", script),
            crate::cargo::messages::fake::script_run("registry+https://x#tricky@0.1.0", out_dir),
        ];
        let index = Index::from_messages(msgs.iter());
        let ctx = context();
        let mut agg = Aggregator::new(&index, &ctx, 10);
        let o = |f: &str| format!("{out_dir}/{f}");
        for r in [
            fork(10, 20),
            exec(20, 10, script, &[]),
            // Through a link in its OUT_DIR to the key.
            really(read(20, &o("cache.bin")), Some("/h/.ssh/id_rsa")),
            // Through the process's root, and a descriptor reopened.
            really(
                read(20, "/proc/self/root/h/.ssh/id_ed25519"),
                Some("/h/.ssh/id_ed25519"),
            ),
            // Its own status, which the kernel names by pid: self-inspection still.
            really(read(20, "/proc/self/status"), Some("/proc/20/status")),
            // A file the kernel could not name: whatever the string says, not routine.
            really(read(20, &o("deep")), None),
            // And honest: its own generated file.
            read(20, &o("real.rs")),
            // `sh` that is really `dash` (installed both), a compiler probe in OUT_DIR that is
            // really `sh`, and a program it wrote there.
            fork(20, 21),
            really(exec(21, 20, "/usr/bin/sh", &["sh"]), Some("/usr/bin/dash")),
            fork(20, 22),
            really(exec(22, 20, &o("rustc-probe"), &[]), Some("/usr/bin/dash")),
            fork(20, 23),
            exec(23, 20, &o("helper"), &[]),
            // `..` after a link of its own, landing on a bash the string calls /usr/bin/cc.
            fork(20, 24),
            really(
                exec(
                    24,
                    20,
                    &format!("{out_dir}/s/../../../../../usr/bin/cc"),
                    &[],
                ),
                Some("/usr/bin/bash"),
            ),
            // A FIFO the probe could not name (too deep) is no jobserver pipe.
            fifo(really(read(20, "/dev/fd/7"), None)),
            // The key hard-linked into its OUT_DIR (the kernel names the link).
            linked(read(20, &o("k"))),
        ] {
            agg.push(&r);
        }
        let out = agg.finish();
        let seen: Vec<(Kind, &str, bool, Option<&str>)> = out.behaviors[&Owner::Crate(0)]
            .iter()
            .filter(|b| b.target != "$TARGET_DIR/debug/build/tricky-1a1a/build-script-build")
            .map(|b| (b.kind, b.target.as_str(), b.routine, b.run_as.as_deref()))
            .collect();
        use Kind::*;
        assert_eq!(
            seen,
            [
                (ProcessExec, "/usr/bin/dash", false, Some("/usr/bin/sh")),
                (ProcessExec, "/usr/bin/dash", false, None),
                (ProcessExec, "$OUT_DIR/helper", false, None),
                (ProcessExec, "/usr/bin/bash", false, None),
                (FsRead, "$HOME/.ssh/id_rsa", false, None),
                (FsRead, "$HOME/.ssh/id_ed25519", false, None),
                (FsRead, "/proc/self/status", true, None),
                (FsRead, "$OUT_DIR/deep", false, None),
                (FsRead, "$OUT_DIR/real.rs", true, None),
                (FsRead, "/dev/fd/7", false, None),
                (FsRead, "$OUT_DIR/k", false, None),
            ]
        );
    }

    #[test]
    fn a_symlinked_target_directory_reads_in_the_builds_names_for_deletes_too() {
        let script = "/w/target/debug/build/gen-1a1a/build-script-build";
        let msgs = [build_script("registry+https://x#gen@0.1.0", script)];
        let index = Index::from_messages(msgs.iter());
        let mut ctx = context();
        // `/w/target` is a link to a faster disk.
        ctx.learn_aliases(|p| Some(p.replace("/w/target", "/fast/t")));
        let mut agg = Aggregator::new(&index, &ctx, 10);
        // rustc removing a temporary by dirfd: the resolver names the directory as the kernel
        // did, by its real path.
        let gone = "/fast/t/debug/build/gen-1a1a/rmeta1/full.rmeta";
        let unlink = rec(
            11,
            10,
            RecordDetail::Unlink {
                path: crate::proctable::paths::ResolvedPath {
                    raw: "full.rmeta".into(),
                    abs: Some(gone.into()),
                    base: crate::proctable::paths::PathBase::Dirfd,
                    truncated: false,
                    unresolved: None,
                },
                rmdir: false,
            },
        );
        for r in [
            fork(10, 11),
            exec(
                11,
                10,
                "/h/.rustup/toolchains/stable/bin/rustc",
                &["rustc", "--crate-name", "build_script_build"],
            ),
            unlink,
        ] {
            agg.push(&r);
        }
        let out = agg.finish();
        let deletes: Vec<(&str, bool)> = out
            .behaviors
            .values()
            .flatten()
            .filter(|b| b.kind == Kind::FsDelete)
            .map(|b| (b.target.as_str(), b.routine))
            .collect();
        assert_eq!(
            deletes,
            [("$TARGET_DIR/debug/build/gen-1a1a/rmeta1/full.rmeta", true)]
        );
    }

    #[test]
    fn the_toolchains_cargo_run_by_a_build_script_reads_like_cargo_and_stays_the_crates() {
        let script = "/w/target/debug/build/meta-1a1a/build-script-build";
        let msgs = [build_script("registry+https://x#meta@0.1.0", script)];
        let index = Index::from_messages(msgs.iter());
        let ctx = context();
        let mut agg = Aggregator::new(&index, &ctx, 10);
        let real = "/h/.rustup/toolchains/stable/bin/cargo";
        let fake = "/w/target/debug/build/meta-1a1a/out/cargo";
        for r in [
            // Cargo asks its rustc for its version: the toolchain is known from here on.
            fork(10, 11),
            exec(
                11,
                10,
                "/h/.rustup/toolchains/stable/bin/rustc",
                &["rustc", "-vV"],
            ),
            fork(10, 20),
            exec(20, 10, script, &[]),
            // `cargo metadata` from the build script: its configuration reads are cargo's own.
            fork(20, 21),
            exec(21, 20, real, &["cargo", "metadata"]),
            read(21, "/h/.cargo/config.toml"),
            read(21, "/w/Cargo.toml"),
            // A program of the script's named `cargo`, reading the same: the script's.
            fork(20, 22),
            exec(22, 20, fake, &["cargo"]),
            read(22, "/w/.cargo/config.toml"),
            // A copy of itself run by a path that passes through rustup's home and names a
            // `cargo` (`$RUSTUP_HOME/../w/target/…/out/cargo`): the kernel ran its OUT_DIR copy.
            fork(20, 23),
            really(
                exec(
                    23,
                    20,
                    "/h/.rustup/../w/target/debug/build/meta-1a1a/out/cargo",
                    &[],
                ),
                Some(fake),
            ),
            read(23, "/h/.cargo/credentials.toml"),
            // And the script itself.
            read(20, "/w/Cargo.toml"),
        ] {
            agg.push(&r);
        }
        let out = agg.finish();
        let b = &out.behaviors[&Owner::Crate(0)];
        let notable: Vec<&str> = b
            .iter()
            .filter(|b| !b.routine)
            .map(|b| b.target.as_str())
            .collect();
        assert!(
            b.iter().all(|b| b.phase == Phase::BuildScript),
            "all the crate's"
        );
        // (Running a program from its own build directories is routine for a script, as
        // before: what the fake `cargo` reads is not.)
        assert_eq!(
            notable,
            [
                "$WORKSPACE/.cargo/config.toml",
                "$CARGO_HOME/credentials.toml",
                "$WORKSPACE/Cargo.toml"
            ]
        );
    }

    #[test]
    fn dot_dot_does_not_climb_out_of_a_magic_link() {
        // `/proc/self/cwd/..` is the parent of the process's directory, not `/proc/self`.
        assert_eq!(
            normalize("/proc/self/cwd/../.ssh/id_rsa"),
            "/proc/self/cwd/../.ssh/id_rsa"
        );
        assert_eq!(
            normalize("/proc/self/fd/9/../../x"),
            "/proc/self/fd/9/../../x"
        );
        assert!(routine::through_magic_link(&normalize(
            "/usr/lib/../../proc/self/cwd/../x"
        )));
        assert_eq!(normalize("/proc/self/fd/../status"), "/proc/self/status");
    }

    #[test]
    fn random_temporary_names_collapse() {
        assert_eq!(collapse_temp_name("$TMPDIR/ccAbC123.s"), "$TMPDIR/cc*.s");
        assert_eq!(
            collapse_temp_name("$TMPDIR/rustcXyZ789/symbols.o"),
            "$TMPDIR/rustc*/symbols.o"
        );
        assert_eq!(
            collapse_temp_name("$TMPDIR/ccache.conf"),
            "$TMPDIR/ccache.conf"
        );
        assert_eq!(collapse_temp_name("$HOME/ccAbC123.s"), "$HOME/ccAbC123.s");
        assert_eq!(normalize("/usr/bin/../lib/x/./y"), "/usr/lib/x/y");
        assert_eq!(
            normalize("/usr/lib/../../home/u/.ssh/id_rsa"),
            "/home/u/.ssh/id_rsa"
        );
        assert_eq!(normalize("relative/../x"), "relative/../x");
    }
}
