//! The process tree of a build, for the report's picture of it: each process with who it is
//! attributed to, when it started and ended, and what it did that is not routine. Processes are
//! told apart by generation (a pid is reused in a long build); only the notable part is kept —
//! processes that start a phase (build scripts, tests, binaries), that did something notable,
//! that were still running when tracing stopped, and their ancestors.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::model::{Kind, Phase};

/// Notable behaviours kept per process.
const NOTABLE: usize = 5;

/// Who a process is attributed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessNode {
    /// Its place in the tree (index in the list).
    pub id: usize,
    pub parent: Option<usize>,
    pub pid: u32,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
    /// The crate (`name@version`), `cargo`, or `(unattributed)`.
    pub owner: String,
    pub phase: Phase,
    /// Nanoseconds since boot.
    pub start_ns: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_ns: Option<u64>,
    /// It runs a phase program (build script, test, binary, rustc).
    pub starts_phase: bool,
    /// Its first notable behaviours.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notable: Vec<(Kind, String)>,
    /// Notable behaviours beyond those.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub more: u64,
    /// Proc macros that ran in it (rustc), first run first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub proc_macros: Vec<MacroRun>,
    /// It was still running when tracing stopped.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub still_running: bool,
}

/// A proc macro's first run inside a rustc process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MacroRun {
    /// The proc-macro crate (`name@version`).
    pub owner: String,
    /// Nanoseconds since boot.
    pub start_ns: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Builds the tree in trace order.
#[derive(Debug, Default)]
pub struct Processes {
    nodes: Vec<ProcessNode>,
    /// The live node of each pid.
    live: HashMap<u32, usize>,
}

impl Processes {
    /// The node of `pid`, created (under `parent`) when first seen.
    fn node(&mut self, pid: u32, parent: Option<u32>, ts: u64) -> usize {
        if let Some(&i) = self.live.get(&pid) {
            return i;
        }
        let parent = parent.and_then(|p| self.live.get(&p).copied());
        self.push(pid, parent, ts)
    }

    fn push(&mut self, pid: u32, parent: Option<usize>, ts: u64) -> usize {
        let id = self.nodes.len();
        self.nodes.push(ProcessNode {
            id,
            parent,
            pid,
            name: String::new(),
            exe: None,
            owner: String::new(),
            phase: Phase::Cargo,
            start_ns: ts,
            end_ns: None,
            starts_phase: false,
            notable: Vec::new(),
            more: 0,
            proc_macros: Vec::new(),
            still_running: false,
        });
        self.live.insert(pid, id);
        id
    }

    /// A process seen in a record: who it is now.
    pub fn seen(
        &mut self,
        pid: u32,
        ppid: Option<u32>,
        ts: u64,
        (name, exe): (String, Option<String>),
        owner: String,
        phase: Phase,
    ) {
        let i = self.node(pid, ppid, ts);
        let n = &mut self.nodes[i];
        n.name = name;
        n.exe = exe;
        n.owner = owner;
        n.phase = phase;
    }

    pub fn knows(&self, pid: u32) -> bool {
        self.live.contains_key(&pid)
    }

    /// `parent` started `child` (a new generation of that pid).
    pub fn forked(&mut self, parent: u32, child: u32, ts: u64) {
        let p = self.live.get(&parent).copied();
        self.push(child, p, ts);
    }

    pub fn starts_phase(&mut self, pid: u32) {
        if let Some(&i) = self.live.get(&pid) {
            self.nodes[i].starts_phase = true;
        }
    }

    /// Proc macro `owner` ran in `pid` for the first time.
    pub fn macro_ran(&mut self, pid: u32, owner: String, ts: u64) {
        let Some(&i) = self.live.get(&pid) else {
            return;
        };
        let n = &mut self.nodes[i];
        if !n.proc_macros.iter().any(|m| m.owner == owner) {
            n.proc_macros.push(MacroRun {
                owner,
                start_ns: ts,
            });
        }
    }

    pub fn exited(&mut self, pid: u32, ts: u64) {
        if let Some(i) = self.live.remove(&pid) {
            self.nodes[i].end_ns = Some(ts);
        }
    }

    /// `pid` was still running when tracing stopped: kept in the picture, marked so.
    pub fn still_running(&mut self, pid: u32) {
        if let Some(&i) = self.live.get(&pid) {
            self.nodes[i].still_running = true;
        }
    }

    pub fn notable(&mut self, pid: u32, kind: Kind, target: &str) {
        let Some(&i) = self.live.get(&pid) else {
            return;
        };
        let n = &mut self.nodes[i];
        if n.notable.iter().any(|(k, t)| *k == kind && t == target) {
            return;
        }
        if n.notable.len() < NOTABLE {
            n.notable.push((kind, target.to_string()));
        } else {
            n.more += 1;
        }
    }

    /// The notable part of the tree, renumbered: processes that start a phase or did something
    /// notable, and their ancestors.
    pub fn finish(self) -> Vec<ProcessNode> {
        let mut keep = vec![false; self.nodes.len()];
        for n in &self.nodes {
            if n.starts_phase
                || n.still_running
                || !n.notable.is_empty()
                || !n.proc_macros.is_empty()
            {
                let mut cur = Some(n.id);
                while let Some(i) = cur {
                    if keep[i] {
                        break;
                    }
                    keep[i] = true;
                    cur = self.nodes[i].parent;
                }
            }
        }
        let mut renumber = vec![None; self.nodes.len()];
        let mut out = Vec::new();
        for (i, mut n) in self.nodes.into_iter().enumerate() {
            if !keep[i] {
                continue;
            }
            renumber[i] = Some(out.len());
            n.id = out.len();
            n.parent = n.parent.and_then(|p| renumber[p]);
            out.push(n);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_notable_part_is_kept_and_pids_are_told_apart_by_generation() {
        let mut p = Processes::default();
        let names = |n: &str| (n.to_string(), None);
        p.seen(10, None, 0, names("cargo"), "cargo".into(), Phase::Cargo);
        p.forked(10, 11, 1);
        p.seen(
            11,
            Some(10),
            2,
            names("rustc"),
            "a@1".into(),
            Phase::Compile,
        );
        p.exited(11, 3);
        p.forked(10, 11, 4);
        p.seen(
            11,
            Some(10),
            5,
            names("build-script-build"),
            "b@1".into(),
            Phase::BuildScript,
        );
        p.starts_phase(11);
        p.forked(11, 12, 6);
        p.seen(
            12,
            Some(11),
            6,
            names("sh"),
            "b@1".into(),
            Phase::BuildScript,
        );
        p.notable(12, Kind::ProcessExec, "/usr/bin/sh");
        let t = p.finish();
        let names: Vec<&str> = t.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(
            names,
            ["cargo", "build-script-build", "sh"],
            "the quiet rustc is left out"
        );
        assert_eq!(t[2].parent, Some(1));
        assert_eq!(t[1].parent, Some(0));
    }
}
