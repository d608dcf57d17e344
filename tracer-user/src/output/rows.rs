//! The rows of a verdict that are not allowed, as every renderer of a verdict shows them: one
//! model, so the terminal, the job summary and code scanning list the same things.

use crate::{
    model::{Code, Level, PackageKey},
    output::text,
    policy::eval::{BehaviorVerdict, FindingVerdict, Incomplete, Verdict},
    trace::Damage,
};

/// One thing not allowed.
pub enum Row<'a> {
    Behavior(&'a BehaviorVerdict),
    Finding(&'a FindingVerdict),
}

impl Row<'_> {
    pub fn level(&self) -> Level {
        match self {
            Self::Behavior(b) => b.level,
            Self::Finding(f) => f.level,
        }
    }

    /// The diagnostic code it is reported under.
    pub fn code(&self) -> Code {
        let outcome = match self {
            Self::Behavior(b) => b.outcome,
            Self::Finding(f) => f.outcome,
        };
        outcome.code().unwrap_or(Code::Violation)
    }

    /// The crate it is about.
    pub fn package(&self) -> PackageKey {
        match self {
            Self::Behavior(b) => PackageKey::new(&b.name, &b.version),
            Self::Finding(f) => PackageKey::new(&f.name, &f.version),
        }
    }

    /// What happened, in one line of unescaped data (each output escapes it its own way).
    pub fn message(&self) -> String {
        match self {
            Self::Behavior(b) => {
                let bh = &b.behavior;
                format!(
                    "{}@{} ({}) {} {} via {}",
                    b.name,
                    b.version,
                    bh.phase,
                    bh.kind,
                    bh.target,
                    text::chain(&bh.example_chain)
                )
            }
            Self::Finding(f) => {
                let fi = &f.finding;
                format!(
                    "{}@{} ({}) {}: {}",
                    f.name, f.version, fi.phase, fi.kind, fi.reason
                )
            }
        }
    }

    /// The source line that explains it — a static finding's file (relative to the directory
    /// of the crate it is in) and line — when there is one.
    pub fn source(&self) -> Option<(PackageKey, &str, usize)> {
        match self {
            Self::Behavior(b) => b
                .explained_by
                .as_ref()
                .map(|f| (f.package.clone(), f.file.as_str(), f.line)),
            Self::Finding(f) => Some((
                self.package(),
                f.finding.location.file.as_str(),
                f.finding.location.line,
            )),
        }
    }
}

/// `name@version`, or the name alone (`(unattributed)` has no version).
pub fn who(name: &str, version: &str) -> String {
    if version.is_empty() {
        name.to_string()
    } else {
        format!("{name}@{version}")
    }
}

/// Behaviours first, then findings, each in verdict order.
pub fn not_allowed(v: &Verdict) -> impl Iterator<Item = Row<'_>> {
    v.behaviors
        .iter()
        .filter(|b| b.level != Level::Allow)
        .map(Row::Behavior)
        .chain(
            v.findings
                .iter()
                .filter(|f| f.level != Level::Allow)
                .map(Row::Finding),
        )
}

/// Why a trace is incomplete, in words; `data` escapes what came from the trace for the output.
pub fn incomplete(i: &Incomplete, data: impl Fn(&str) -> String) -> String {
    match i {
        Incomplete::LostEvents {
            lost,
            ringbuf,
            inflight,
            tracking,
            unmatched,
            beyond,
            undecodable,
        } => format!(
            "{lost} events were lost (ring buffer full: {ringbuf}, syscalls in flight: \
             {inflight}, process tracking: {tracking}, exits without entry: {unmatched}, \
             beyond the probes' limits: {beyond}, undecodable: {undecodable}); behaviour may be \
             missing"
        ),
        Incomplete::CompiledUnseen { package } => format!(
            "cargo compiled {} in this build, but no rustc compiling it was traced: a rustc \
             wrapper (sccache…) served it from a cache or compiled it out of the trace's sight, \
             so what ran while compiling it (proc macros, the linker) was not seen; trace with \
             RUSTC_WRAPPER unset",
            data(&package.to_string())
        ),
        Incomplete::Refused { pid, process } => format!(
            "process {pid} ({}) was stopped (SIGSYS) for making a 32-bit system call, which the \
             probes cannot see: whatever it meant to do was not done, and the trace cannot \
             vouch for it (a 32-bit program, or `int 0x80` in a 64-bit one)",
            data(process)
        ),
        Incomplete::StillRunning {
            pid,
            process,
            owner,
        } => format!(
            "process {pid} ({}) of {} was still running when tracing stopped (raise \
             `--linger-ms` to follow it longer); what it did after that was not traced",
            data(process),
            data(owner)
        ),
        Incomplete::NoEnd => "the trace ends before its `end` line (the tracer stopped before \
                              the command did); behaviour may be missing"
            .into(),
        Incomplete::Damaged(d) => match d {
            Damage::CutShort { line } => {
                format!(
                    "the trace file ends in the middle of line {line} (the tracer was stopped?)"
                )
            }
            Damage::Unfinished { line } => {
                format!("the compressed trace file ends before its last frame (after line {line})")
            }
            Damage::Gap { after, next } => {
                format!(
                    "events {} to {} are missing from the trace file",
                    after + 1,
                    next - 1
                )
            }
            Damage::Missing { recorded, read } => {
                format!("the trace recorded {recorded} events but the file holds {read}")
            }
        },
        Incomplete::ForgedMessage {
            file,
            first,
            second,
        } => format!(
            "cargo's messages give {} to {} and then to {}: a process of the build wrote into \
             cargo's output, so what ran cannot be attributed with confidence",
            data(file),
            data(&first.to_string()),
            data(&second.to_string())
        ),
        Incomplete::ImplausibleMessage {
            package,
            what,
            value,
        } => format!(
            "a message of cargo's gives {} the {} {}, which is not where cargo puts it: a \
             process of the build wrote into cargo's output",
            data(&package.to_string()),
            data(what),
            data(value)
        ),
        Incomplete::NotInGraph { package, id } => format!(
            "cargo's messages name {} ({}), which is not in the dependency graph: a process of \
             the build wrote into cargo's output",
            data(&package.to_string()),
            data(id)
        ),
        Incomplete::Tamper {
            pid,
            process,
            syscall,
            arg0,
        } if matches!(syscall.as_str(), "open" | "openat" | "openat2" | "creat") => format!(
            "process {pid} ({}) opened a /proc file of the tracer (pid {arg0}) for writing (its \
             memory, its settings): the trace cannot be trusted to be complete",
            data(process)
        ),
        Incomplete::Tamper {
            pid,
            process,
            syscall,
            arg0,
        } => {
            let what = match syscall.as_str() {
                "bpf" => "could find and rewrite the tracer's maps and loss counters",
                "kill" | "tkill" | "tgkill" => {
                    "signalled the tracer or a whole process group it is in"
                }
                "connect" => {
                    "rewrote its address while the kernel connected (the report names the \
                     address the socket really has)"
                }
                "io_uring_setup" => {
                    "set up an io_uring (allowed by --allow-io-uring), whose operations the \
                     probes do not see"
                }
                "mount" | "umount2" | "move_mount" | "mount_setattr" | "pivot_root" | "chroot"
                | "setns" => {
                    "changed which file a path names for it (a mount, a new root or \
                     namespace), so the paths of what it reached are not the build's"
                }
                _ => "reached into another process",
            };
            format!(
                "process {pid} ({}) called {}({arg0}, …), which {what}: the trace cannot be \
                 trusted to be complete",
                data(process),
                data(syscall)
            )
        }
        Incomplete::ScriptDidNotRun { package } => {
            format!(
                "the build script of {} did not run under --fresh",
                data(&package.to_string())
            )
        }
    }
}

/// For people: the overall result.
pub fn result(v: &Verdict) -> &'static str {
    match v.worst {
        Level::Deny => "FAILED",
        Level::Warn => "passed with warnings",
        Level::Allow => "passed",
    }
}

/// `(outcome, count)` by the outcome's name.
pub fn counts(v: &Verdict) -> Vec<(&'static str, u64)> {
    let mut c: Vec<(&'static str, u64)> = v.counts.iter().map(|(o, n)| (o.as_str(), *n)).collect();
    c.sort();
    c
}
