//! Attributed events → per-crate behaviours: each event becomes zero or more behaviours (kind and
//! target), targets are normalised with placeholders, identical behaviours are counted together
//! with one example process chain, and routine ones are set apart.

pub mod placeholders;
pub mod processes;
pub mod routine;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use placeholders::Placeholders;
use processes::{ProcessNode, Processes};

use crate::{
    attribution::{Actor, Attributor, Index},
    events::SockAddr,
    model::{BuildContext, Kind, Phase, Placeholder, ProcessChain},
    trace::{EventRecord, RecordDetail},
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
}

/// Who a behaviour belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Owner {
    Crate(usize),
    Cargo,
    Unattributed,
}

type Key = (Owner, Phase, Kind, String, Option<usize>);

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
    /// Placeholders per owner: rebuilding them per event (sorting, scanning build dirs) was the
    /// aggregation's hot spot.
    places_cache: HashMap<Owner, std::rc::Rc<(Placeholders, Placeholders)>>,
    procs: Processes,
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

/// Removes `.` and resolves `..` components of an absolute path, lexically.
pub fn normalize(path: &str) -> String {
    if !path.starts_with('/') {
        return path.to_string();
    }
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            _ => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
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

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// The kinds and raw targets one record stands for.
fn behaviours_of(rec: &EventRecord) -> Vec<(Kind, String)> {
    let p =
        |x: &crate::proctable::paths::ResolvedPath| x.abs.clone().unwrap_or_else(|| x.raw.clone());
    match &rec.detail {
        RecordDetail::Open { access, .. } if access.path_only => Vec::new(),
        RecordDetail::Open { path, access, .. }
            if access.write || access.create || access.truncate =>
        {
            vec![(Kind::FsWrite, p(path))]
        }
        RecordDetail::Open { path, .. } => vec![(Kind::FsRead, p(path))],
        RecordDetail::Unlink { path, .. } => vec![(Kind::FsDelete, p(path))],
        RecordDetail::Rename { from, to, .. } => {
            vec![(Kind::FsDelete, p(from)), (Kind::FsWrite, p(to))]
        }
        RecordDetail::Connect { addr, .. } => vec![(Kind::NetConnect, addr.display())],
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
        RecordDetail::Exec { path, .. } => vec![(Kind::ProcessExec, p(path))],
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
            places_cache: HashMap::new(),
            procs: Processes::default(),
            out: Aggregate::default(),
        }
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
        } else {
            for m in self.index.manifest_dirs.values() {
                check.push((Placeholder::Packages, m));
            }
        }
        (render, Placeholders::new(check))
    }

    fn add(&mut self, actor: Actor, kind: Kind, raw: String, ok: bool, pid: u32) {
        let (owner, phase, within) = owner_phase(actor);
        let places = self.cached_places(owner);
        let (render, check) = (&places.0, &places.1);
        // `..` is resolved lexically: `/usr/lib/../../home/u/.ssh/id_rsa` must not pass for a
        // system library read (a symlinked directory can only make this less exact, never hide).
        let raw = if kind.is_path() { normalize(&raw) } else { raw };
        let target = if kind.is_path() {
            collapse_temp_name(&render.apply(&raw))
        } else {
            raw.clone()
        };
        let key = (owner, phase, kind, target.clone(), within);
        if !self.acc.contains_key(&key) {
            // Decided once per behaviour, at its first occurrence.
            let routine = kind.is_path()
                && (routine::is_routine(phase, kind, &raw, check)
                    || (!ok && routine::is_library_search(kind, &raw)));
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
        let actor = self.attributor.attribute(rec);
        let (owner, phase, within) = owner_phase(actor);
        self.track(rec, owner, phase);
        match &rec.detail {
            RecordDetail::Exec { path, .. } => {
                let exe = path.abs.clone().unwrap_or_else(|| path.raw.clone());
                // A toolchain program (rustc, cargo, rustdoc…) names its toolchain's directory.
                if let Some(root) = exe.strip_suffix(&format!("/bin/{}", basename(&exe)))
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
                if let Some(list) = self.pending_failed_exec.get_mut(&rec.pid) {
                    list.retain(|(tried, _)| basename(tried) != basename(&exe));
                }
            }
            RecordDetail::ExecFailed { path } => {
                let exe = path.abs.clone().unwrap_or_else(|| path.raw.clone());
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
            self.add(actor, kind, raw, rec.ok, rec.pid);
        }
    }

    fn flush_failed_exec(&mut self, pid: u32) {
        for (exe, actor) in self.pending_failed_exec.remove(&pid).unwrap_or_default() {
            self.add(actor, Kind::ProcessExec, exe, false, pid);
        }
    }

    /// Finishes: failed execs never followed by a run, grouped per owner in first-seen order.
    pub fn finish(mut self) -> Aggregate {
        let pids: Vec<u32> = self.pending_failed_exec.keys().copied().collect();
        for pid in pids {
            self.flush_failed_exec(pid);
        }
        for key in &self.order {
            let b = self.acc.remove(key).expect("every key is in acc");
            self.out.behaviors.entry(key.0).or_default().push(b);
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
    use super::collapse_temp_name;

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
        assert_eq!(super::normalize("/usr/bin/../lib/x/./y"), "/usr/lib/x/y");
        assert_eq!(
            super::normalize("/usr/lib/../../home/u/.ssh/id_rsa"),
            "/home/u/.ssh/id_rsa"
        );
        assert_eq!(super::normalize("relative/../x"), "relative/../x");
    }
}
