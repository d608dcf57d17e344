//! The verdict as Markdown, for `$GITHUB_STEP_SUMMARY` and pull-request comments.

use std::fmt::Write as _;

use crate::{
    model::Level,
    output::{
        escape::markdown_code as code,
        rows::{self, Row},
        text,
    },
    policy::eval::Verdict,
};

/// A Markdown summary of the verdict.
pub fn verdict(v: &Verdict, command: &[String]) -> String {
    let mut s = String::new();
    let result = match v.worst {
        Level::Deny => "❌ failed",
        Level::Warn => "⚠️ passed with warnings",
        Level::Allow => "✅ passed",
    };
    let _ = writeln!(s, "## cargo-tracer: {result}\n");
    let _ = writeln!(s, "{}\n", code(&command.join(" "), false));
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
                    // Crate names and versions are cargo's (letters, digits, `-`, `_`, `.`, `+`).
                    "| {} | {} | {}@{} | {} | {} | {} |",
                    text::mark(b.level),
                    b.outcome,
                    b.name,
                    b.version,
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
