//! What `cargo tracer run` prints at the end: processes, events by kind, path resolution, losses,
//! and whether the trace is complete.

use std::{collections::BTreeMap, fmt::Write as _};

use serde::Serialize;

use crate::loader::LossCounters;

/// Totals of one trace.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub schema_version: u32,
    pub command: Vec<String>,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub processes: usize,
    pub threads: u64,
    pub events: u64,
    pub events_by_kind: BTreeMap<String, u64>,
    pub failed_syscalls: u64,
    pub paths_resolved: u64,
    pub paths_unresolved: u64,
    /// Processes of the traced tree still running when tracing stopped.
    pub still_running: Vec<u32>,
    pub lost: LossCounters,
    pub decode_errors: u64,
    pub complete: bool,
    pub attach_ms: u64,
    /// The tracer's own peak resident memory (KiB) and CPU time (user + system, ms).
    pub tracer_max_rss_kib: u64,
    pub tracer_cpu_ms: u64,
    pub duration_ms: u64,
    pub report_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events_file: Option<String>,
    /// Notable activity by program.
    pub activity: Vec<crate::digest::Group>,
    /// Proc-macro uprobes could be loaded.
    pub proc_macro_probes: bool,
    /// Proc-macro libraries probed during the run.
    pub proc_macros: Vec<String>,
    /// Libraries that looked like proc macros but could not be probed, with the reason.
    pub proc_macro_failures: Vec<String>,
}

impl Summary {
    /// A few lines for people, on stderr after the command's own output.
    pub fn human(&self) -> String {
        let mut s = String::new();
        let status = match (self.exit_code, self.signal) {
            (Some(c), _) => format!("exit {c}"),
            (_, Some(sig)) => format!("killed by signal {sig}"),
            _ => "unknown exit".into(),
        };
        let _ = writeln!(
            s,
            "cargo-tracer: traced `{}` ({status}) in {:.2}s",
            self.command.join(" "),
            self.duration_ms as f64 / 1000.0
        );
        let _ = writeln!(
            s,
            "  probes attached in {} ms; report {} ms after exit",
            self.attach_ms, self.report_ms
        );
        let _ = writeln!(
            s,
            "  processes: {}   threads: {}",
            self.processes, self.threads
        );
        let kinds: Vec<String> = self
            .events_by_kind
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let _ = writeln!(
            s,
            "  events: {} ({})   failed syscalls: {}",
            self.events,
            kinds.join(", "),
            self.failed_syscalls
        );
        let _ = writeln!(
            s,
            "  relative paths: {} resolved, {} unresolved",
            self.paths_resolved, self.paths_unresolved
        );
        if !self.still_running.is_empty() {
            let _ = writeln!(
                s,
                "  still running after the command exited: pids {:?}",
                self.still_running
            );
        }
        if self.complete {
            let _ = writeln!(s, "  lost events: 0 — trace complete");
        } else {
            let per_cpu: Vec<String> = self
                .lost
                .ringbuf_per_cpu
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(cpu, n)| format!("cpu{cpu}: {n}"))
                .collect();
            let _ = writeln!(
                s,
                "  INCOMPLETE TRACE: {} events lost (ring buffer full: {} [{}]; syscall table full: {}; untracked processes: {}; undecodable: {})",
                self.lost.total() + self.decode_errors,
                self.lost.ringbuf,
                per_cpu.join(", "),
                self.lost.inflight,
                self.lost.tracking,
                self.decode_errors
            );
        }
        if !self.proc_macros.is_empty() || !self.proc_macro_failures.is_empty() {
            let _ = writeln!(
                s,
                "  proc-macro libraries probed: {}",
                self.proc_macros.len()
            );
            for f in &self.proc_macro_failures {
                let _ = writeln!(s, "  not probed: {f}");
            }
        }
        if !self.activity.is_empty() {
            let _ = writeln!(s, "notable activity (reads counted, not listed):");
            s.push_str(&crate::digest::render(&self.activity));
        }
        if let Some(f) = &self.events_file {
            let _ = writeln!(s, "  events written to {f}");
        }
        s
    }
}
