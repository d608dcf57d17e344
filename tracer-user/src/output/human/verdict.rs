//! The verdict for people, after the report: every behaviour and finding that is not allowed
//! with what explains it and the entry that would allow it, unused rules, and the result.

use std::fmt::Write as _;

use crate::{
    output::{
        escape::human as h,
        rows::{self, Row},
        style::{self, paint},
        text, toml,
    },
    policy::eval::{Outcome, Verdict},
};

/// `file:line[ in crate]: reason` of the finding that explains a behaviour.
pub fn finding(f: &crate::model::FindingRef) -> String {
    let via = if f.in_dependency {
        format!(" in {}", f.package)
    } else {
        String::new()
    };
    format!("{}:{}{via}: {}", h(&f.file), f.line, h(&f.reason))
}

/// The verdict as text.
pub fn render(v: &Verdict) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "\nverdict");
    for reason in &v.incomplete {
        let _ = writeln!(
            s,
            "  {}: INCOMPLETE: {}",
            paint(style::ERROR, "error"),
            rows::incomplete(reason, |d| h(d).into_owned())
        );
    }
    for row in rows::not_allowed(v) {
        let level = row.level();
        let mark = |outcome: Outcome| {
            paint(
                style::level(level),
                &format!("{}[{outcome}]", text::mark(level)),
            )
        };
        match row {
            Row::Behavior(b) => {
                let _ = writeln!(
                    s,
                    "  {}: {} {} {} {}",
                    mark(b.outcome),
                    h(&rows::who(&b.name, &b.version)),
                    b.behavior.phase,
                    b.behavior.kind,
                    h(&b.behavior.target)
                );
                let _ = writeln!(s, "      via {}", text::chain(&b.behavior.example_chain));
                if let Some(name) = &b.behavior.run_as {
                    let _ = writeln!(s, "      run as {}", h(name));
                }
                match (&b.explained_by, b.outcome) {
                    (Some(e), _) => {
                        let _ = writeln!(s, "      static finding: {}", finding(e));
                    }
                    (None, Outcome::Unexpected) => {
                        let _ = writeln!(
                            s,
                            "      no static finding explains it (raw syscall, decoded string, code hidden by cfg?)"
                        );
                    }
                    _ => {}
                }
                if let Some(sg) = &b.suggestion {
                    let entry = toml::allow_entry(sg);
                    let _ = writeln!(
                        s,
                        "      to allow it:\n{}",
                        entry
                            .lines()
                            .map(|l| format!("        {l}"))
                            .collect::<Vec<_>>()
                            .join("\n")
                    );
                }
            }
            Row::Finding(f) => {
                let target = f
                    .finding
                    .target
                    .as_deref()
                    .map(|t| format!(" {}", h(t)))
                    .unwrap_or_default();
                let _ = writeln!(
                    s,
                    "  {}: {}@{} {} {}{target} at {}:{} — {}",
                    mark(f.outcome),
                    h(&f.name),
                    h(&f.version),
                    f.finding.phase,
                    f.finding.kind,
                    h(&f.finding.location.file),
                    f.finding.location.line,
                    h(&f.finding.reason)
                );
            }
        }
    }
    for u in &v.unused_rules {
        let _ = writeln!(
            s,
            "  {}: allow entry matched nothing: {} ({}:{}) for {}",
            paint(
                style::level(v.unused_rule_level),
                &format!("{}[unused-rule]", text::mark(v.unused_rule_level))
            ),
            h(&u.reason),
            h(&u.file),
            u.line,
            h(&u.krate)
        );
    }
    let counts: Vec<String> = rows::counts(v)
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    let result = paint(
        match v.worst {
            crate::model::Level::Deny => style::ERROR,
            crate::model::Level::Warn => style::WARN,
            crate::model::Level::Allow => style::GOOD,
        },
        rows::result(v),
    );
    if counts.is_empty() {
        let _ = writeln!(s, "  result: {result} (nothing observed to judge)");
    } else {
        let _ = writeln!(s, "  result: {result} ({})", counts.join(", "));
    }
    s
}
