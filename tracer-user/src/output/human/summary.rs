//! What `cargo tracer run` prints at the end: processes, events by kind, path resolution, losses,
//! whether the trace is complete, and the notable activity of each program.

use std::fmt::Write as _;

use crate::{
    output::{escape::human as h, text},
    session::{Summary, digest::Group},
};

/// A few lines for people, on stderr after the command's own output.
pub fn render(this: &Summary) -> String {
    let mut s = String::new();
    let status = match (this.exit_code, this.signal) {
        (Some(c), _) => format!("exit {c}"),
        (_, Some(sig)) => format!("killed by signal {sig}"),
        _ => "unknown exit".into(),
    };
    let _ = writeln!(
        s,
        "cargo-tracer: traced `{}` ({status}) in {:.2}s",
        h(&this.command.join(" ")),
        this.duration_ms as f64 / 1000.0
    );
    let _ = writeln!(
        s,
        "  probes attached in {} ms; report {} ms after exit",
        this.attach_ms, this.report_ms
    );
    let _ = writeln!(
        s,
        "  processes: {}   threads: {}",
        this.processes, this.threads
    );
    let kinds: Vec<String> = this
        .events_by_kind
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    let _ = writeln!(
        s,
        "  events: {} ({})   failed syscalls: {}",
        this.events,
        kinds.join(", "),
        this.failed_syscalls
    );
    let _ = writeln!(
        s,
        "  relative paths: {} resolved, {} unresolved",
        this.paths_resolved, this.paths_unresolved
    );
    if !this.still_running.is_empty() {
        let _ = writeln!(
            s,
            "  INCOMPLETE TRACE: still running when tracing stopped (--linger-ms after the \
             command exited), not traced since: pids {:?}",
            this.still_running
        );
    }
    if this.lost.stacks > 0 {
        let _ = writeln!(
            s,
            "  stacks dropped: {} (their ring was full): those calls stay with their program's package",
            this.lost.stacks
        );
    }
    let lost = this.lost.total().saturating_add(this.decode_errors);
    if this.complete {
        let _ = writeln!(s, "  lost events: 0 — trace complete");
    } else if lost > 0 {
        let per_cpu: Vec<String> = this
            .lost
            .ringbuf_per_cpu
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(cpu, n)| format!("cpu{cpu}: {n}"))
            .collect();
        let _ = writeln!(
            s,
            "  INCOMPLETE TRACE: {} events lost (ring buffer full: {} [{}]; syscall table full: {}; untracked processes: {}; exits without entry: {}; beyond the probes' limits: {}; undecodable: {})",
            lost,
            this.lost.ringbuf,
            per_cpu.join(", "),
            this.lost.inflight,
            this.lost.tracking,
            this.lost.unmatched,
            this.lost.beyond,
            this.decode_errors
        );
    }
    if !this.proc_macros.is_empty() || !this.proc_macro_failures.is_empty() {
        let _ = writeln!(
            s,
            "  proc-macro libraries probed: {}",
            this.proc_macros.len()
        );
        for f in &this.proc_macro_failures {
            let _ = writeln!(s, "  not probed: {}", h(f));
        }
    }
    if !this.activity.is_empty() {
        let _ = writeln!(s, "notable activity (reads counted, not listed):");
        s.push_str(&digest(&this.activity));
    }
    if let Some(f) = &this.events_file {
        let _ = writeln!(s, "  events written to {}", h(f));
    }
    s
}

/// Targets shown per kind in the text digest (the JSON has up to five).
const SHOWN: usize = 3;
/// Longest target shown in the text digest before eliding its middle.
const WIDTH: usize = 96;

fn elide(t: &str) -> String {
    text::elide(t, WIDTH, 28)
}

/// The digest as text, indented under the summary: one target per line.
fn digest(groups: &[Group]) -> String {
    let mut s = String::new();
    for g in groups {
        let pids = if g.pids.len() == 1 {
            format!("pid {}", g.pids[0])
        } else {
            format!("{} processes", g.pids.len())
        };
        s.push_str(&format!(
            "  {} ({pids}, {} file reads)\n",
            h(&g.label),
            g.reads
        ));
        for (kind, a) in &g.activity {
            let failed = if a.failed > 0 {
                format!(" ({} failed)", a.failed)
            } else {
                String::new()
            };
            let head = format!("{kind} {}x{failed}", a.count);
            for (i, t) in a.targets.iter().take(SHOWN).enumerate() {
                let left = if i == 0 { head.as_str() } else { "" };
                s.push_str(&format!("    {left:<22} {}\n", elide(&h(t))));
            }
            let hidden = a.more + a.targets.len().saturating_sub(SHOWN) as u64;
            if hidden > 0 {
                s.push_str(&format!("    {:<22} … and {hidden} more\n", ""));
            }
        }
    }
    s
}
