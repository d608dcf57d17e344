//! The totals of one traced run: processes, events by kind, path resolution, losses, whether
//! the trace is complete, the tracer's own cost, and the notable activity per program.

use std::collections::BTreeMap;

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
    /// How much of that peak the probes' ring buffers are (KiB): the kernel maps each of
    /// their pages twice, so this is twice the memory they hold (`crate::memory`).
    #[serde(default)]
    pub ring_mappings_kib: u64,
    pub tracer_cpu_ms: u64,
    pub duration_ms: u64,
    pub report_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events_file: Option<String>,
    /// Notable activity by program.
    pub activity: Vec<super::digest::Group>,
    /// Proc-macro uprobes could be loaded.
    pub proc_macro_probes: bool,
    /// Proc-macro libraries probed during the run.
    pub proc_macros: Vec<String>,
    /// Libraries that looked like proc macros but could not be probed, with the reason.
    pub proc_macro_failures: Vec<String>,
    /// Directories of test and bin executables whose stacks could not be asked for, with why
    /// (their programs' calls then stay with their package).
    pub stack_failures: Vec<String>,
    /// Runtime attribution's work: stacks copied and unwound, and what it cost.
    pub stacks: crate::stacks::StackStats,
}
