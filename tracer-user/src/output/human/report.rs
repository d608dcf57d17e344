//! The report as tables for people: one block per crate, notable behaviour first.

use std::fmt::Write as _;

use crate::{
    model::Phase,
    output::{escape::human as h, matrix::Matrix, text},
    report::{BehaviorOut, CrateReport, Report, RoutineCount},
    trace::stack::CallStack,
};

/// Longest target shown before eliding its middle.
const TARGET_WIDTH: usize = 72;

fn elide(t: &str, width: usize) -> String {
    text::elide(t, width, width / 3)
}

fn table(s: &mut String, rows: &[BehaviorOut], verbose: bool) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "    {:<15} {:<13} {:>5} {:>5}  TARGET",
        "KIND", "PHASE", "COUNT", "OK"
    );
    for b in rows {
        let target = if verbose {
            h(&b.target).into_owned()
        } else {
            elide(&h(&b.target), TARGET_WIDTH)
        };
        let _ = writeln!(
            s,
            "    {:<15} {:<13} {:>5} {:>5}  {target}",
            b.kind.as_str(),
            b.phase.as_str(),
            b.count,
            b.succeeded
        );
        let mut via = format!("via {}", text::chain(&b.example_chain));
        match (&b.within, b.phase) {
            (Some(w), Phase::Runtime | Phase::Constructor) => {
                via = format!("in a program of {w}, {via}");
            }
            (Some(w), _) => via = format!("while compiling {w}, {via}"),
            _ => {}
        }
        if b.crate_chain.len() > 1 {
            let chain: Vec<String> = b.crate_chain.iter().map(|k| k.to_string()).collect();
            via = format!("through {}, {via}", chain.join(" → "));
        } else if b.crate_chain.is_empty() && b.example_stack.is_some() {
            // Blamed on the program's package for want of better: said, not guessed.
            via = format!("its stack names no crate (no debug info?), {via}");
        }
        if let Some(name) = &b.run_as {
            via = format!("run as {}, {via}", h(name));
        }
        let _ = writeln!(s, "    {:<40}  {}", "", elide(&via, TARGET_WIDTH + 20));
        if verbose && let Some(stack) = &b.example_stack {
            stack_lines(s, stack);
        }
    }
}

/// The frames of a call's stack that have a source file outside the standard library, as
/// `at function (file:line)`: the code that decided, not the machinery under it.
fn stack_lines(s: &mut String, stack: &CallStack) {
    const SHOWN: usize = 8;
    let own = stack
        .frames
        .iter()
        .filter(|f| f.file.as_deref().is_some_and(|p| !p.starts_with("/rustc/")));
    for f in own.take(SHOWN) {
        let function = f.function.as_deref().unwrap_or("?");
        let file = f.file.as_deref().unwrap_or("?");
        let line = f.line.map(|l| format!(":{l}")).unwrap_or_default();
        let _ = writeln!(s, "{:<46}at {} ({}{line})", "", h(function), h(file));
    }
}

fn routine_line(routine: &[RoutineCount]) -> String {
    if routine.is_empty() {
        return "none".into();
    }
    routine
        .iter()
        .map(|r| format!("{} {} {}", r.phase, r.kind, r.count))
        .collect::<Vec<_>>()
        .join(", ")
}

fn krate(s: &mut String, c: &CrateReport, verbose: bool) {
    let phases: Vec<String> = c
        .phases
        .iter()
        .map(|p| format!("{}: {}", p.phase.as_str(), p.status))
        .collect();
    let p = &c.package;
    let _ = writeln!(s, "\n{} {}  ({})", h(&p.name), h(&p.version), h(&p.source));
    for p in phases {
        let _ = writeln!(s, "  {p}");
    }
    if c.behaviors.is_empty() {
        let _ = writeln!(
            s,
            "  no notable behaviour; routine: {}",
            routine_line(&c.routine)
        );
    } else {
        table(s, &c.behaviors, verbose);
        let _ = writeln!(
            s,
            "  routine (summarised{}): {}",
            if verbose { "" } else { "; --verbose lists it" },
            routine_line(&c.routine)
        );
    }
    if verbose && !c.routine_behaviors.is_empty() {
        let _ = writeln!(s, "  routine behaviour:");
        table(s, &c.routine_behaviors, verbose);
    }
}

/// The whole report as text, the compact matrix at its top.
pub fn render(r: &Report, verbose: bool, matrix: &Matrix) -> String {
    let mut s = String::new();
    let status = match r.exit_code {
        Some(c) => format!("exit {c}"),
        None => "no exit status".into(),
    };
    let notable = r.crates.iter().filter(|c| !c.behaviors.is_empty()).count();
    let _ = writeln!(
        s,
        "cargo-tracer report: `{}` ({status})",
        h(&r.command.join(" "))
    );
    let trace = if r.complete {
        format!("trace complete: {} events, none lost", r.events)
    } else if r.lost_events > 0 {
        format!(
            "INCOMPLETE TRACE: {} events lost, behaviour may be missing from this report",
            r.lost_events
        )
    } else {
        "INCOMPLETE TRACE: the trace ends early or events are missing from it, behaviour may be missing from this report".into()
    };
    let _ = writeln!(
        s,
        "{} crates, {notable} with notable behaviour; {trace}",
        r.crates.len()
    );
    let m = super::matrix::render(matrix);
    if !m.is_empty() {
        let _ = write!(s, "\n{m}");
    }
    for c in &r.crates {
        krate(&mut s, c, verbose);
    }
    let _ = writeln!(s, "\ncargo");
    if r.cargo.behaviors.is_empty() {
        let _ = writeln!(
            s,
            "  no notable behaviour; routine: {}",
            routine_line(&r.cargo.routine)
        );
    } else {
        table(&mut s, &r.cargo.behaviors, verbose);
        let _ = writeln!(s, "  routine: {}", routine_line(&r.cargo.routine));
    }
    if !r.unattributed.is_empty() {
        let _ = writeln!(
            s,
            "\nunattributed (no crate or cargo could be named; see the chains)"
        );
        table(&mut s, &r.unattributed, verbose);
    }
    s
}
