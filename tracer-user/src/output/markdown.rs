//! The verdict as Markdown, for `$GITHUB_STEP_SUMMARY` and pull-request comments: the result,
//! the crate × kind matrix of crates with anything not allowed, then each row not allowed.

use std::fmt::Write as _;

use crate::{
    model::Level,
    output::{
        escape::markdown_code as code,
        matrix::{Matrix, Shade},
        rows::{self, Row},
        text,
    },
    policy::eval::Verdict,
};

/// The matrix rows of crates with anything not allowed (empty when there are none).
pub fn matrix(m: &Matrix) -> String {
    let rows: Vec<_> = m.not_allowed().collect();
    if rows.is_empty() {
        return String::new();
    }
    let kinds: Vec<_> = m
        .kinds
        .iter()
        .filter(|k| rows.iter().any(|r| r.cells.contains_key(k)))
        .collect();
    let mut s = String::from("| crate |");
    for k in &kinds {
        let _ = write!(s, " {k} |");
    }
    s.push_str("\n|---|");
    s.push_str(&"---|".repeat(kinds.len()));
    s.push('\n');
    for r in rows {
        let _ = write!(s, "| {} |", code(&r.krate, true));
        for k in &kinds {
            let cell = r.cells.get(*k).and_then(|c| Some((c.worst()?, c)));
            match cell {
                Some((worst, c)) => {
                    let _ = write!(
                        s,
                        " {} {} {} |",
                        icon(worst),
                        c.counts[&worst],
                        worst.as_str()
                    );
                }
                None => s.push_str(" · |"),
            }
        }
        s.push('\n');
    }
    s.push('\n');
    s
}

fn icon(s: Shade) -> &'static str {
    match s {
        Shade::Unexpected => "🟣",
        Shade::Violation => "🔴",
        Shade::Dormant => "🟠",
        Shade::Allowed => "🟢",
        Shade::Routine => "⚪",
    }
}

/// The job summary: the verdict, with the matrix of crates with anything not allowed.
pub fn verdict(v: &Verdict, command: &[String], m: Option<&Matrix>) -> String {
    let mut s = String::new();
    let result = match v.worst {
        Level::Deny => "❌ failed",
        Level::Warn => "⚠️ passed with warnings",
        Level::Allow => "✅ passed",
    };
    let _ = writeln!(s, "## cargo-tracer: {result}\n");
    let _ = writeln!(s, "{}\n", code(&command.join(" "), false));
    if let Some(table) = m.map(matrix).filter(|t| !t.is_empty()) {
        let _ = write!(s, "### Crates with behaviour not allowed\n\n{table}");
    }
    for r in &v.incomplete {
        let _ = writeln!(
            s,
            "> **Incomplete trace:** {}\n",
            rows::incomplete(r, |d| code(d, false))
        );
    }
    let mut findings = 0;
    let mut table = String::new();
    for row in rows::not_allowed(v) {
        match row {
            Row::Behavior(b) => {
                let _ = writeln!(
                    table,
                    // Names come from cargo's messages, which a build can write into: data.
                    "| {} | {} | {} | {} | {} | {} |",
                    text::mark(b.level),
                    b.outcome,
                    code(&rows::who(&b.name, &b.version), true),
                    b.behavior.phase,
                    b.behavior.kind,
                    code(&b.behavior.target, true)
                );
            }
            Row::Finding(_) => findings += 1,
        }
    }
    if !table.is_empty() {
        let _ = writeln!(
            s,
            "| level | outcome | crate | phase | kind | target |\n|---|---|---|---|---|---|"
        );
        s.push_str(&table);
        s.push('\n');
    }
    for u in &v.unused_rules {
        let _ = writeln!(
            s,
            "- allow entry for {} matched nothing: {} ({})\n",
            code(&u.krate, false),
            code(&u.reason, false),
            code(&format!("{}:{}", u.file, u.line), false)
        );
    }
    if findings > 0 {
        let _ = writeln!(
            s,
            "{findings} static finding(s) in build-time code were not allowed and not observed (dormant).\n"
        );
    }
    let counts: Vec<String> = rows::counts(v)
        .iter()
        .map(|(k, n)| format!("{k}: {n}"))
        .collect();
    let _ = writeln!(s, "{}", counts.join(" · "));
    s
}
