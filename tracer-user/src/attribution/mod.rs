//! Who is responsible for each event: a crate in a phase (its build script and everything that
//! spawned, its proc macro running inside rustc, rustc compiling it, its tests), cargo itself, or
//! nobody we can name (then the process chain is kept).
//!
//! Works on event records in order, so the same code serves a live trace and a recorded file.
//! A process is classified when it execs a program cargo told us about; otherwise it belongs to
//! whoever created it (kept across reparenting, so a double-forked daemon stays with its build
//! script). Only cargo's own processes start another crate's phase: a crate's code that runs a
//! program cargo named for another crate (a copied build script, a fake `rustc --crate-name`,
//! a program called `cargo`) stays that crate's — blame cannot be handed on by exec.

pub mod index;
pub mod runtime;

use std::collections::HashMap;

pub use index::Index;

use crate::{
    model::{ChainLink, Phase, ProcessChain},
    trace::{
        EventRecord, RecordDetail,
        stack::{NO_STACKS, StackTable},
    },
};

/// The party responsible for an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A crate (index into [`Index::packages`]) in a phase. For a proc macro, `within` is the
    /// crate being compiled when it ran.
    Crate {
        package: usize,
        phase: Phase,
        within: Option<usize>,
    },
    Cargo,
    Unattributed,
}

#[derive(Debug, Clone)]
struct Proc {
    parent: Option<u32>,
    /// Its executable's file name once it exec'd, its `comm` before.
    name: String,
    /// The `comm` of its latest record: the name it gave itself.
    comm: String,
    exe: Option<String>,
    argv0: Option<String>,
    actor: Actor,
    /// It exec'd a program that starts its phase (a build script, a test binary, rustc).
    starts_phase: bool,
}

/// Follows processes through a trace and attributes each record.
#[derive(Debug)]
pub struct Attributor<'a> {
    index: &'a Index,
    /// The trace's call stacks, which records name by id.
    stacks: &'a StackTable,
    procs: HashMap<u32, Proc>,
    /// Units whose rustc we saw, by `(crate name, hash)`: names proc-macro libraries in `deps/`.
    units: HashMap<(String, String), usize>,
    /// Whose code each stack is, by stack id: records share stacks (every call of a loop), and
    /// walking one maps each of its frames to a package.
    responsible: HashMap<u32, Option<runtime::Responsible>>,
}

impl<'a> Attributor<'a> {
    /// `root` is the cargo process the tracer started.
    pub fn new(index: &'a Index, root: u32) -> Self {
        let mut procs = HashMap::new();
        procs.insert(
            root,
            Proc {
                parent: None,
                name: "cargo".into(),
                comm: "cargo".into(),
                exe: None,
                argv0: None,
                actor: Actor::Cargo,
                starts_phase: false,
            },
        );
        Self {
            index,
            stacks: &NO_STACKS,
            procs,
            units: HashMap::new(),
            responsible: HashMap::new(),
        }
    }

    /// The trace's call stacks (without them, runtime calls stay with their program).
    pub fn with_stacks(mut self, stacks: &'a StackTable) -> Self {
        self.stacks = stacks;
        self
    }

    /// Who `pid` belongs to now.
    pub fn actor(&self, pid: u32) -> Actor {
        self.actor_of(pid)
    }

    fn actor_of(&self, pid: u32) -> Actor {
        self.procs
            .get(&pid)
            .map(|p| p.actor)
            .unwrap_or(Actor::Unattributed)
    }

    /// Updates the process state with `rec` and says who is responsible for it.
    pub fn attribute(&mut self, rec: &EventRecord) -> Actor {
        match self.procs.get_mut(&rec.pid) {
            // A process may rename itself at any time (a daemon disguising itself).
            Some(p) if p.comm != rec.comm => p.comm.clone_from(&rec.comm),
            Some(_) => {}
            None => {
                // First seen mid-trace (e.g. its fork was before tracing): inherit from its
                // creator.
                let actor = rec
                    .ppid
                    .map(|pp| self.actor_of(pp))
                    .unwrap_or(Actor::Unattributed);
                self.procs.insert(
                    rec.pid,
                    Proc {
                        parent: rec.ppid,
                        name: rec.comm.clone(),
                        comm: rec.comm.clone(),
                        exe: None,
                        argv0: None,
                        actor,
                        starts_phase: false,
                    },
                );
            }
        }
        let own = self.actor_of(rec.pid);
        // Code of a proc macro was running on this thread. Only rustc (and rustdoc) run proc
        // macros: in any other process the tag says only that some library with that name was
        // loaded — a build script could load one to pass its behaviour off as the macro's.
        let effective = match rec.proc_macro.as_deref() {
            Some(so) if self.runs_macros(rec.pid, own, so) => self.macro_actor(so, own),
            _ => own,
        };
        let effective = self.runtime_actor(effective, rec);
        match &rec.detail {
            RecordDetail::Fork {
                child_pid,
                thread: false,
                ..
            } => {
                let proc_ = Proc {
                    parent: Some(rec.pid),
                    name: rec.comm.clone(),
                    comm: rec.comm.clone(),
                    exe: None,
                    argv0: None,
                    actor: effective,
                    starts_phase: false,
                };
                self.procs.insert(*child_pid, proc_);
                effective
            }
            RecordDetail::Exec { path, argv, .. } => {
                let exe = path.best();
                let classified = self.index.classify(exe, argv).filter(|&(package, phase)| {
                    match own {
                        Actor::Cargo | Actor::Unattributed => true,
                        // A crate's test or program may start its own programs in another
                        // phase (a test running the crate's binary), never another crate's —
                        // and never enter its compilation or its build script: a program it
                        // names `rustc` (a link to `sh`) must not be judged by rustc's rules.
                        // Nothing a build script, proc macro or compilation runs changes phase
                        // (a copy of itself named `rustdoc` is no doctest).
                        Actor::Crate {
                            package: mine,
                            phase: current,
                            ..
                        } => {
                            mine == package
                                && matches!(phase, Phase::Test | Phase::Run)
                                && matches!(current, Phase::Test | Phase::Run)
                        }
                    }
                });
                let direct = match classified {
                    Some((package, phase)) => {
                        if phase == Phase::Compile
                            && let Some(unit) = index::unit_of(argv)
                        {
                            self.units.insert(unit, package);
                        }
                        Some(Actor::Crate {
                            package,
                            phase,
                            within: None,
                        })
                    }
                    // Cargo's own processes only: a crate's program named `cargo` is the crate's.
                    None if is_cargo(exe) && own == Actor::Cargo => Some(Actor::Cargo),
                    None => None,
                };
                let p = self.procs.get_mut(&rec.pid).expect("inserted above");
                p.name = index::basename(exe).to_string();
                p.exe = Some(exe.to_string());
                // Kept when the program was started under another name (a symlink, a shim).
                p.argv0 = argv
                    .first()
                    .filter(|a0| index::basename(a0) != p.name)
                    .cloned();
                p.starts_phase = matches!(direct, Some(Actor::Crate { .. }));
                p.actor = direct.unwrap_or(effective);
                p.actor
            }
            _ => effective,
        }
    }

    /// Inside a test or binary, the crate whose code made the call (its stack), in phase
    /// `runtime` (or `constructor`) "within" the program's package; the program's own code
    /// keeps its phase. A call whose stack names no package stays the program's.
    fn runtime_actor(&mut self, actor: Actor, rec: &EventRecord) -> Actor {
        let Actor::Crate {
            package: program,
            phase: phase @ (Phase::Test | Phase::Run),
            ..
        } = actor
        else {
            return actor;
        };
        let Some(id) = rec.stack_id else {
            return actor;
        };
        let (index, stacks) = (self.index, self.stacks);
        let Some(r) = self
            .responsible
            .entry(id)
            .or_insert_with(|| stacks.get(&id).and_then(|s| runtime::responsible(index, s)))
        else {
            return actor;
        };
        let package = r.package.unwrap_or(program);
        let phase = if r.constructor {
            Phase::Constructor
        } else if package == program {
            phase
        } else {
            Phase::Runtime
        };
        Actor::Crate {
            package,
            phase,
            within: (package != program).then_some(program),
        }
    }

    /// Whether a proc-macro tag (library `so`) on `pid`, which belongs to `own`, is believed.
    fn runs_macros(&self, pid: u32, own: Actor, so: &str) -> bool {
        match own {
            Actor::Crate {
                phase: Phase::Compile,
                ..
            } => true,
            Actor::Crate {
                phase: Phase::Test, ..
            } => self
                .procs
                .get(&pid)
                .is_some_and(|p| p.name.starts_with("rustdoc")),
            // A process the macro started, still running its code.
            Actor::Crate {
                phase: Phase::ProcMacro,
                package,
                ..
            } => self.index.proc_macro_package(so, &self.units) == Some(package),
            _ => false,
        }
    }

    /// The proc macro whose library is `so`, running inside `outer` (rustc compiling a crate).
    fn macro_actor(&self, so: &str, outer: Actor) -> Actor {
        let Some(package) = self.index.proc_macro_package(so, &self.units) else {
            return outer;
        };
        let within = match outer {
            Actor::Crate {
                package: c,
                phase: Phase::Compile,
                ..
            } => Some(c),
            Actor::Crate {
                within,
                phase: Phase::ProcMacro,
                ..
            } => within,
            _ => None,
        };
        Actor::Crate {
            package,
            phase: Phase::ProcMacro,
            within,
        }
    }

    /// Whether `pid` exec'd a program that starts a crate's phase (its build script, a test).
    pub fn starts_phase(&self, pid: u32) -> bool {
        self.procs.get(&pid).is_some_and(|p| p.starts_phase)
    }

    /// The executable `pid` runs, once it exec'd.
    pub fn exe(&self, pid: u32) -> Option<&str> {
        self.procs.get(&pid).and_then(|p| p.exe.as_deref())
    }

    /// The name `pid` last gave itself (`comm`), as its latest record says.
    pub fn comm(&self, pid: u32) -> Option<&str> {
        self.procs.get(&pid).map(|p| p.comm.as_str())
    }

    /// `pid`'s name and executable, as the chain shows them.
    pub fn names(&self, pid: u32) -> (String, Option<String>) {
        self.procs
            .get(&pid)
            .map(|p| (p.name.clone(), p.exe.clone()))
            .unwrap_or_else(|| ("?".into(), None))
    }

    /// `pid` and its creators, outermost first (at most 32).
    pub fn chain(&self, pid: u32) -> ProcessChain {
        let mut out = Vec::new();
        let mut cur = Some(pid);
        while let Some(p) = cur {
            let Some(proc_) = self.procs.get(&p) else {
                out.push(ChainLink {
                    pid: p,
                    name: "?".into(),
                    exe: None,
                    argv0: None,
                });
                break;
            };
            out.push(ChainLink {
                pid: p,
                name: proc_.name.clone(),
                exe: proc_.exe.clone(),
                argv0: proc_.argv0.clone(),
            });
            if out.len() >= 32 {
                break;
            }
            cur = proc_.parent;
        }
        out.reverse();
        ProcessChain(out)
    }
}

fn is_cargo(exe: &str) -> bool {
    let b = index::basename(exe);
    b == "cargo" || b.starts_with("cargo-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        cargo::messages::fake::{artifact, build_script},
        trace::record::fake::{exec, fork, rec},
    };

    const SCRIPT: &str = "/tg/debug/build/trusted-9a9a/build-script-build";

    fn index() -> Index {
        let msgs = [
            build_script("registry+https://x#trusted@1.0.0", SCRIPT),
            build_script(
                "registry+https://x#evil@0.1.0",
                "/tg/debug/build/evil-1b1b/build-script-build",
            ),
        ];
        Index::from_messages(msgs.iter())
    }

    fn name(ix: &Index, a: Actor) -> String {
        match a {
            Actor::Crate { package, phase, .. } => {
                format!("{} {phase}", ix.packages[package].name)
            }
            Actor::Cargo => "cargo".into(),
            Actor::Unattributed => "?".into(),
        }
    }

    #[test]
    fn only_cargo_starts_another_crates_phase() {
        let ix = index();
        let mut a = Attributor::new(&ix, 10);
        // Cargo runs the evil build script: it is evil's.
        a.attribute(&fork(10, 20));
        let evil = a.attribute(&exec(
            20,
            10,
            "/tg/debug/build/evil-1b1b/build-script-build",
            &[],
        ));
        assert_eq!(name(&ix, evil), "evil build-script");
        // Which runs the trusted crate's build script, a fake rustc for it, a `cargo` and a
        // `rustc` for itself: all stay evil's build script, whatever the programs claim to be.
        for (pid, exe, argv) in [
            (21, SCRIPT, vec![]),
            (
                22,
                "/tg/debug/build/evil-1b1b/out/rustc",
                vec![
                    "rustc",
                    "--crate-name",
                    "build_script_build",
                    "-C",
                    "extra-filename=-9a9a",
                ],
            ),
            (23, "/tg/debug/build/evil-1b1b/out/cargo", vec!["cargo"]),
            // Nor does a "rustc" (a link to `sh`) compiling evil itself enter evil's
            // compilation, which rustc's rules judge.
            (
                24,
                "/tg/debug/build/evil-1b1b/out/rustc",
                vec!["rustc", "--crate-name", "evil"],
            ),
            // Nor a copy of itself named `rustdoc` documenting evil: no doctest of evil's
            // (where nothing would be a leftover of the build script).
            (
                25,
                "/tg/debug/build/evil-1b1b/out/rustdoc",
                vec!["rustdoc", "--crate-name", "evil"],
            ),
        ] {
            a.attribute(&fork(20, pid));
            let who = a.attribute(&exec(pid, 20, exe, &argv));
            assert_eq!(name(&ix, who), "evil build-script", "{exe}");
            assert!(!a.starts_phase(pid));
        }
        // Cargo itself running the trusted script: the trusted crate's.
        a.attribute(&fork(10, 30));
        let trusted = a.attribute(&exec(30, 10, SCRIPT, &[]));
        assert_eq!(name(&ix, trusted), "trusted build-script");
    }

    #[test]
    fn only_rustc_runs_proc_macros() {
        let so = "/tg/debug/deps/libmac-5e5e.so";
        let msgs = [
            artifact(
                "registry+https://x#mac@1.0.0",
                "proc-macro",
                "mac",
                false,
                &[so],
                None,
                true,
            ),
            build_script(
                "registry+https://x#evil@0.1.0",
                "/tg/debug/build/evil-1b1b/build-script-build",
            ),
            artifact(
                "registry+https://x#app@0.1.0",
                "lib",
                "app",
                false,
                &["/tg/debug/deps/libapp-7c7c.rmeta"],
                None,
                false,
            ),
        ];
        let ix = Index::from_messages(msgs.iter());
        let mut a = Attributor::new(&ix, 10);
        let tagged = |pid: u32, lib: &str| {
            let mut r = rec(pid, 10, RecordDetail::ProcMacro {});
            r.proc_macro = Some(lib.to_string());
            r
        };
        // rustc compiling app, running the macro: the macro's, within app.
        a.attribute(&fork(10, 20));
        a.attribute(&exec(
            20,
            10,
            "/tc/bin/rustc",
            &["rustc", "--crate-name", "app", "-C", "extra-filename=-7c7c"],
        ));
        assert_eq!(name(&ix, a.attribute(&tagged(20, so))), "mac proc-macro");
        // A build script that loaded a library of that name: still the build script's.
        a.attribute(&fork(10, 30));
        a.attribute(&exec(
            30,
            10,
            "/tg/debug/build/evil-1b1b/build-script-build",
            &[],
        ));
        assert_eq!(name(&ix, a.attribute(&tagged(30, so))), "evil build-script");
        // A library named after a crate that is no proc macro blames no one else.
        let fake = "/tg/debug/build/evil-1b1b/out/deps/libapp-7c7c.so";
        assert_eq!(name(&ix, a.attribute(&tagged(20, fake))), "app compile");
    }
}
