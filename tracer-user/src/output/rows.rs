//! The rows of a verdict that are not allowed, as every renderer of a verdict shows them: one
//! model, so the terminal, the job summary and code scanning list the same things.

use crate::{
    model::{Code, Level},
    policy::eval::{BehaviorVerdict, FindingVerdict, Incomplete, Verdict},
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

/// For people: why a trace is incomplete.
pub fn incomplete(i: &Incomplete) -> String {
    match i {
        Incomplete::LostEvents {
            lost,
            ringbuf,
            inflight,
            tracking,
            undecodable,
        } => format!(
            "{lost} events were lost (ring buffer full: {ringbuf}, syscalls in flight: \
             {inflight}, process tracking: {tracking}, undecodable: {undecodable}); behaviour \
             may be missing"
        ),
        Incomplete::NoEnd => "the trace ends before its `end` line (the tracer stopped before \
                              the command did); behaviour may be missing"
            .into(),
        Incomplete::ScriptDidNotRun { package } => {
            format!("the build script of {package} did not run under --fresh")
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
