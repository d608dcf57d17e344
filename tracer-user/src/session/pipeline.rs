//! Raw ring-buffer records → event records: decode, resolve paths, update the process table,
//! count. Shared by live tracing and by anything that replays records.

use std::collections::{BTreeMap, HashMap};

use super::digest::Digest;
use crate::{
    events::{self, Detail},
    proctable::{ProcTable, paths::PathResolver},
    stacks::Stacks,
    trace::{EventRecord, record},
};

/// State carried from one record to the next.
#[derive(Debug, Default)]
pub struct Pipeline {
    pub table: ProcTable,
    pub resolver: PathResolver,
    pub events: u64,
    pub threads: u64,
    pub failed_syscalls: u64,
    /// Keyed by the static kind name: counting allocates nothing per event.
    pub by_kind: BTreeMap<&'static str, u64>,
    pub decode_errors: u64,
    pub last_decode_error: Option<String>,
    pub digest: Digest,
    /// Proc-macro libraries by the id their probes stamp on events.
    pub macros: HashMap<u32, String>,
    /// Call stacks of programs cargo built.
    pub stacks: Stacks,
}

impl Pipeline {
    /// Processes one raw record; `None` if it could not be decoded (counted) or is part of
    /// another record (a copied stack, a mapping: see `stacks`).
    /// `more_stacks` reads what the ring of copied stacks holds now into [`Stacks`].
    pub fn handle(
        &mut self,
        raw: &[u8],
        more_stacks: &mut dyn FnMut(&mut Stacks),
    ) -> Option<EventRecord> {
        let e = match events::decode(raw) {
            Ok(e) => e,
            Err(err) => {
                self.decode_errors += 1;
                self.last_decode_error = Some(err.to_string());
                return None;
            }
        };
        if self.stacks.consume(&e) {
            return None;
        }
        // The stack of this call, if it has one, was written before it: it is in its ring.
        more_stacks(&mut self.stacks);
        let stack = self.stacks.observe(&e);
        let paths = match &e.detail {
            Detail::Exec { filename, .. } | Detail::ExecFailed { filename } => {
                vec![self.resolver.resolve(e.pid, e.tid, filename)]
            }
            Detail::Open { path, .. } | Detail::Unlink { path, .. } | Detail::Meta { path, .. } => {
                vec![self.resolver.resolve(e.pid, e.tid, path)]
            }
            // A symlink's contents are kept as written: they name nothing until followed.
            Detail::Link {
                existing,
                link,
                symbolic,
                ..
            } => {
                let mut v = vec![self.resolver.resolve(e.pid, e.tid, link)];
                if !symbolic {
                    v.push(self.resolver.resolve(e.pid, e.tid, existing));
                }
                v
            }
            Detail::Rename { from, to, .. } => {
                vec![
                    self.resolver.resolve(e.pid, e.tid, from),
                    self.resolver.resolve(e.pid, e.tid, to),
                ]
            }
            _ => Vec::new(),
        };
        match &e.detail {
            // A directory is learned by the name the kernel gives it: the string may run
            // through a link of the process's own (`$OUT_DIR/h` → `$HOME`), and every later
            // path relative to that directory would be misnamed.
            Detail::Open { opened, real, .. } if e.ret >= 0 => {
                if let Some(path) = real.path() {
                    self.resolver.remember(*opened, path);
                }
            }
            Detail::Exec { cwd, .. } => self.resolver.warm_cwd(e.pid, *cwd),
            // From here on the directory's inode may name another directory.
            Detail::Unlink { rmdir: true, .. } | Detail::Rename { .. } if e.ret >= 0 => {
                if let Some(abs) = paths.first().and_then(|p| p.abs.as_deref()) {
                    self.resolver.forget(abs);
                }
            }
            _ => {}
        }
        let exe = match &e.detail {
            Detail::Exec { .. } => paths.first().and_then(|p| p.abs.clone()),
            _ => None,
        };
        self.table.apply(&e, exe.as_deref());
        let ppid = self.table.get(e.pid).and_then(|p| p.parent);
        self.events += 1;
        let mut rec = record::build(self.events, &e, ppid, paths)?;
        rec.stack_id = stack;
        if e.macro_id != 0 {
            rec.proc_macro = Some(
                self.macros
                    .get(&e.macro_id)
                    .cloned()
                    .unwrap_or_else(|| format!("#{}", e.macro_id)),
            );
        }
        if !rec.ok {
            self.failed_syscalls += 1;
        }
        if matches!(e.detail, Detail::Fork { thread: true, .. }) {
            self.threads += 1;
        }
        *self.by_kind.entry(rec.detail.kind()).or_default() += 1;
        self.digest.observe(&rec, &self.table);
        Some(rec)
    }
}
