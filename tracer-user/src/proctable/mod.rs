//! The traced process tree as the events describe it: who forked whom (the real creator, which
//! survives reparenting to init), what each process exec'ed, and how it ended.

pub mod paths;

use std::collections::HashMap;

use serde::Serialize;

use crate::events::{Detail, Event};

/// One process (thread group) seen in the trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Process {
    pub pid: u32,
    /// The process that forked it (not the reparented ppid); `None` for the traced root or a
    /// process that existed before tracing started (system-wide).
    pub parent: Option<u32>,
    pub comm: String,
    /// The last successfully exec'ed file (absolute when resolvable), inherited from the parent
    /// until the process execs.
    pub exe: Option<String>,
    pub argv: Vec<String>,
    /// Exit status as `wait(2)` encodes it, once the whole process has exited.
    pub exit_code: Option<i32>,
    pub forks: u32,
    pub threads: u32,
    pub execs: u32,
}

/// All processes, by pid.
#[derive(Debug, Default)]
pub struct ProcTable {
    procs: HashMap<u32, Process>,
}

impl ProcTable {
    /// Registers the process the tracer started itself.
    pub fn add_root(&mut self, pid: u32, argv: &[String]) {
        self.procs.insert(
            pid,
            Process::new(
                pid,
                None,
                argv.first().cloned().unwrap_or_default(),
                None,
                argv.to_vec(),
            ),
        );
    }

    /// Updates the table with one event; `exe` is the resolved path of an exec's file.
    pub fn apply(&mut self, e: &Event, exe: Option<&str>) {
        self.procs
            .entry(e.pid)
            .or_insert_with(|| Process::new(e.pid, None, e.comm.clone(), None, Vec::new()));
        match &e.detail {
            Detail::Fork {
                child_pid,
                thread: true,
                ..
            } => {
                let _ = child_pid;
                if let Some(p) = self.procs.get_mut(&e.pid) {
                    p.threads += 1;
                }
            }
            Detail::Fork { child_pid, .. } => {
                let (exe, argv) = match self.procs.get_mut(&e.pid) {
                    Some(p) => {
                        p.forks += 1;
                        (p.exe.clone(), p.argv.clone())
                    }
                    None => (None, Vec::new()),
                };
                // A reused pid starts a new process record.
                self.procs.insert(
                    *child_pid,
                    Process::new(*child_pid, Some(e.pid), e.comm.clone(), exe, argv),
                );
            }
            Detail::Exec { argv, filename, .. } => {
                if let Some(p) = self.procs.get_mut(&e.pid) {
                    p.execs += 1;
                    p.comm = e.comm.clone();
                    p.exe = Some(
                        exe.map(str::to_string)
                            .unwrap_or_else(|| filename.raw.text.clone()),
                    );
                    p.argv = argv.clone();
                }
            }
            Detail::Exit {
                exit_code,
                group_dead: true,
            } => {
                if let Some(p) = self.procs.get_mut(&e.pid) {
                    p.exit_code = Some(*exit_code);
                }
            }
            _ => {}
        }
    }

    pub fn get(&self, pid: u32) -> Option<&Process> {
        self.procs.get(&pid)
    }

    /// `pid`, its creator, its creator's creator, … up to the first unknown one (bounded, in
    /// case of a cycle through pid reuse).
    pub fn lineage(&self, pid: u32) -> Vec<u32> {
        let mut out = vec![pid];
        let mut cur = pid;
        while let Some(parent) = self.procs.get(&cur).and_then(|p| p.parent) {
            if out.contains(&parent) || out.len() >= 64 {
                break;
            }
            out.push(parent);
            cur = parent;
        }
        out
    }

    /// Processes seen that have not exited.
    pub fn running(&self) -> impl Iterator<Item = &Process> {
        self.procs.values().filter(|p| p.exit_code.is_none())
    }

    pub fn len(&self) -> usize {
        self.procs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.procs.is_empty()
    }

    pub fn processes(&self) -> impl Iterator<Item = &Process> {
        self.procs.values()
    }
}

impl Process {
    fn new(
        pid: u32,
        parent: Option<u32>,
        comm: String,
        exe: Option<String>,
        argv: Vec<String>,
    ) -> Self {
        Self {
            pid,
            parent,
            comm,
            exe,
            argv,
            exit_code: None,
            forks: 0,
            threads: 0,
            execs: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use tracer_common::event::EventKind;

    use super::*;
    use crate::events::{Base, PathArg, RawPath};

    fn ev(pid: u32, detail: Detail) -> Event {
        Event {
            kind: EventKind::Fork,
            flags: 0,
            ktime_ns: 0,
            pid,
            tid: pid,
            uid: 0,
            syscall_nr: None,
            ret: 0,
            comm: "x".into(),
            macro_id: 0,
            detail,
        }
    }

    fn fork(parent: u32, child: u32) -> Event {
        ev(
            parent,
            Detail::Fork {
                child_pid: child,
                child_tid: child,
                thread: false,
            },
        )
    }

    #[test]
    fn lineage_follows_the_creator_through_double_fork() {
        let mut t = ProcTable::default();
        t.add_root(100, &["sh".into()]);
        t.apply(&fork(100, 200), None);
        t.apply(&fork(200, 300), None);
        // 200 exits: 300 is reparented to init in the kernel, but its creator stays 200.
        t.apply(
            &ev(
                200,
                Detail::Exit {
                    exit_code: 0,
                    group_dead: true,
                },
            ),
            None,
        );
        assert_eq!(t.lineage(300), vec![300, 200, 100]);
        assert_eq!(t.running().count(), 2);
    }

    #[test]
    fn threads_do_not_create_processes_and_exec_updates_exe() {
        let mut t = ProcTable::default();
        t.add_root(1, &["cargo".into()]);
        t.apply(
            &ev(
                1,
                Detail::Fork {
                    child_pid: 1,
                    child_tid: 5,
                    thread: true,
                },
            ),
            None,
        );
        assert_eq!(t.len(), 1);
        assert_eq!(t.get(1).unwrap().threads, 1);
        let filename = PathArg {
            raw: RawPath {
                text: "rustc".into(),
                truncated: false,
                fault: false,
            },
            base: Base::None,
        };
        t.apply(
            &ev(
                1,
                Detail::Exec {
                    filename,
                    argv: vec!["rustc".into(), "-vV".into()],
                    argv_truncated: false,
                    cwd: Default::default(),
                    real: crate::events::Reached::None,
                },
            ),
            Some("/usr/bin/rustc"),
        );
        let p = t.get(1).unwrap();
        assert_eq!(p.exe.as_deref(), Some("/usr/bin/rustc"));
        assert_eq!(p.argv, vec!["rustc", "-vV"]);
    }
}
