//! Processes that outlive their phase: a process a build script (or a proc macro) started that
//! is still running when the process that started the phase exits. Cargo considers the script
//! done and the build moves on, while the leftover — typically double-forked, detached and
//! renamed — is free to act when nobody looks. Each one is a behaviour of its own
//! (`process.persist`), reported when it exits or when the trace ends.

use std::collections::{BTreeSet, HashMap};

/// Which phase each live process belongs to, and who outlived theirs.
#[derive(Debug, Default)]
pub struct Persistence {
    /// Each live process → the live process that started its phase (itself for that one).
    roots: HashMap<u32, u32>,
    outlived: BTreeSet<u32>,
}

impl Persistence {
    /// `child` belongs to the phase of `parent`, wherever it moves later (reparenting after a
    /// double fork changes nothing).
    pub fn forked(&mut self, parent: u32, child: u32) {
        match self.roots.get(&parent).copied() {
            Some(root) => self.roots.insert(child, root),
            None => self.roots.remove(&child),
        };
    }

    /// `pid` exec'd a program that starts a phase (a build script, rustc, a test).
    pub fn started_phase(&mut self, pid: u32) {
        self.roots.insert(pid, pid);
    }

    /// `pid` exited: the processes of the phase it started that are still running, in pid
    /// order (each is reported once: it no longer belongs to a phase).
    pub fn exited(&mut self, pid: u32) -> Vec<u32> {
        if self.roots.remove(&pid) != Some(pid) {
            return Vec::new();
        }
        let mut left: Vec<u32> = self
            .roots
            .iter()
            .filter(|&(_, &root)| root == pid)
            .map(|(&p, _)| p)
            .collect();
        left.sort_unstable();
        for p in &left {
            self.roots.remove(p);
        }
        left
    }

    /// `pid` is running after its phase ended.
    pub fn outlives(&mut self, pid: u32) {
        self.outlived.insert(pid);
    }

    /// `pid` exited: whether it had outlived its phase.
    pub fn take(&mut self, pid: u32) -> bool {
        !self.outlived.is_empty() && self.outlived.remove(&pid)
    }

    /// Those still running when the trace ends, in pid order.
    pub fn drain(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.outlived).into_iter().collect()
    }
}

/// Whether `comm` is another name than the program's own (`comm` is cut to 15 bytes).
pub fn renamed(comm: &str, program: &str) -> bool {
    !(comm == program || (comm.len() == 15 && program.starts_with(comm)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grandchild_outlives_its_script_though_its_parent_exited_first() {
        let mut p = Persistence::default();
        p.started_phase(10);
        p.forked(10, 11);
        p.forked(11, 12);
        // The middle child exits first (the double fork): it started no phase.
        assert!(p.exited(11).is_empty());
        p.forked(10, 13);
        assert!(p.exited(13).is_empty(), "a child the script waited for");
        assert_eq!(p.exited(10), [12]);
        // Its phase is over: the same pid exiting again names nobody.
        assert!(p.exited(10).is_empty());
        p.outlives(12);
        assert!(p.take(12));
        assert!(!p.take(12), "reported once");
        p.outlives(14);
        assert_eq!(p.drain(), [14]);
    }

    #[test]
    fn a_process_forked_outside_any_phase_belongs_to_none() {
        let mut p = Persistence::default();
        p.forked(1, 2);
        p.started_phase(3);
        // pid 2 is reused by a child of the phase, then by one of nobody's.
        p.forked(3, 2);
        p.forked(1, 2);
        assert!(p.exited(3).is_empty());
    }

    #[test]
    fn a_name_cut_to_fifteen_bytes_is_not_a_new_name() {
        assert!(!renamed("build-script-bu", "build-script-build"));
        assert!(!renamed("sh", "sh"));
        assert!(renamed("kworker/0:1", "build-script-build"));
        assert!(renamed("build-script", "build-script-build"));
    }
}
