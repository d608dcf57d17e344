//! Verdicts for people (after the report), and as Markdown for `$GITHUB_STEP_SUMMARY`.

use std::fmt::Write as _;

use super::eval::{Level, Outcome, Verdict};

fn mark(l: Level) -> &'static str {
    match l {
        Level::Deny => "error",
        Level::Warn => "warning",
        Level::Allow => "note",
    }
}

/// The verdict as text: every violation and unexpected behaviour with the rule that would allow
/// it, dormant findings, unused rules, and the overall result.
pub fn human(v: &Verdict) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "\nverdict");
    for reason in &v.incomplete {
        let _ = writeln!(s, "  error: INCOMPLETE: {reason}");
    }
    for b in v.behaviors.iter().filter(|b| b.level != Level::Allow) {
        let _ = writeln!(
            s,
            "  {}[{}]: {}@{} {} {} {}",
            mark(b.level),
            b.outcome.as_str(),
            b.name,
            b.version,
            b.behavior.phase.as_str(),
            b.behavior.kind.as_str(),
            b.behavior.target
        );
        let _ = writeln!(s, "      via {}", b.behavior.example_chain.join(" > "));
        match (&b.explained_by, b.outcome) {
            (Some(e), _) => {
                let _ = writeln!(s, "      static finding: {e}");
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
            let _ = writeln!(
                s,
                "      to allow it:\n{}",
                sg.lines()
                    .map(|l| format!("        {l}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }
    for f in v.findings.iter().filter(|f| f.level != Level::Allow) {
        let target = f
            .finding
            .target
            .as_deref()
            .map(|t| format!(" {t}"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "  {}[{}]: {}@{} {} {}{target} at {}:{} — {}",
            mark(f.level),
            f.outcome.as_str(),
            f.name,
            f.version,
            f.finding.phase.as_str(),
            f.finding.kind.as_str(),
            f.finding.location.file,
            f.finding.location.line,
            f.finding.reason
        );
    }
    for u in &v.unused_rules {
        let _ = writeln!(
            s,
            "  warning[unused-rule]: allow entry matched nothing: {u}"
        );
    }
    let counts: Vec<String> = v.counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let result = match v.worst {
        Level::Deny => "FAILED",
        Level::Warn => "passed with warnings",
        Level::Allow => "passed",
    };
    let _ = writeln!(s, "  result: {result} ({})", counts.join(", "));
    s
}

/// A Markdown summary for CI (`$GITHUB_STEP_SUMMARY`).
pub fn markdown(v: &Verdict, command: &[String]) -> String {
    let mut s = String::new();
    let result = match v.worst {
        Level::Deny => "❌ failed",
        Level::Warn => "⚠️ passed with warnings",
        Level::Allow => "✅ passed",
    };
    let _ = writeln!(s, "## cargo-tracer: {result}\n");
    let _ = writeln!(s, "`{}`\n", command.join(" "));
    for r in &v.incomplete {
        let _ = writeln!(s, "> **Incomplete trace:** {r}\n");
    }
    let rows: Vec<_> = v
        .behaviors
        .iter()
        .filter(|b| b.level != Level::Allow)
        .collect();
    if !rows.is_empty() {
        let _ = writeln!(
            s,
            "| level | outcome | crate | phase | kind | target |\n|---|---|---|---|---|---|"
        );
        for b in rows {
            let _ = writeln!(
                s,
                "| {} | {} | {}@{} | {} | {} | `{}` |",
                mark(b.level),
                b.outcome.as_str(),
                b.name,
                b.version,
                b.behavior.phase.as_str(),
                b.behavior.kind.as_str(),
                b.behavior.target.replace('|', "\\|")
            );
        }
        s.push('\n');
    }
    let dormant = v
        .findings
        .iter()
        .filter(|f| f.level != Level::Allow)
        .count();
    if dormant > 0 {
        let _ = writeln!(
            s,
            "{dormant} static finding(s) in build-time code were not allowed and not observed (dormant).\n"
        );
    }
    let counts: Vec<String> = v.counts.iter().map(|(k, n)| format!("{k}: {n}")).collect();
    let _ = writeln!(s, "{}", counts.join(" · "));
    s
}

/// The verdict as SARIF 2.1.0: one result per behaviour or finding that is not allowed, at the
/// static finding's line when one explains it, else at the crate's manifest.
pub fn sarif(
    v: &Verdict,
    workspace_root: &str,
    manifest_dir: impl Fn(&str, &str) -> Option<String>,
) -> serde_json::Value {
    use serde_json::json;
    let rules: Vec<serde_json::Value> = ["violation", "unexpected", "dormant"]
        .iter()
        .map(|id| {
            let text = match *id {
                "violation" => "Behaviour not allowed by the policy",
                "unexpected" => "Behaviour not allowed and not explained by any static finding",
                _ => "Build-time code that can do something not allowed (not observed in this run)",
            };
            json!({"id": id, "shortDescription": {"text": text}})
        })
        .collect();
    let level = |l: Level| match l {
        Level::Deny => "error",
        Level::Warn => "warning",
        Level::Allow => "note",
    };
    let location = |dir: Option<String>, file: &str, line: usize| {
        let abs = dir
            .map(|d| format!("{}/{file}", d.trim_end_matches('/')))
            .unwrap_or_else(|| file.to_string());
        let uri = match abs.strip_prefix(&format!("{}/", workspace_root.trim_end_matches('/'))) {
            Some(rel) => json!({"uri": rel, "uriBaseId": "WORKSPACE"}),
            None => json!({"uri": format!("file://{abs}")}),
        };
        json!({"physicalLocation": {"artifactLocation": uri, "region": {"startLine": line.max(1)}}})
    };
    let mut results = Vec::new();
    for b in v.behaviors.iter().filter(|b| b.level != Level::Allow) {
        // `file:line…` of the explaining finding, relative to the crate.
        let at = b.explained_by.as_deref().and_then(|e| {
            let (file, rest) = e.split_once(':')?;
            let line: usize = rest
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()?;
            (!e.contains(" in ")).then(|| (file.to_string(), line))
        });
        let (file, line) = at.unwrap_or(("Cargo.toml".into(), 1));
        results.push(json!({
            "ruleId": b.outcome.as_str(),
            "level": level(b.level),
            "message": {"text": format!("{}@{} ({}) {} {} via {}", b.name, b.version, b.behavior.phase.as_str(),
                b.behavior.kind.as_str(), b.behavior.target, b.behavior.example_chain.join(" > "))},
            "locations": [location(manifest_dir(&b.name, &b.version), &file, line)],
        }));
    }
    for f in v.findings.iter().filter(|f| f.level != Level::Allow) {
        results.push(json!({
            "ruleId": "dormant",
            "level": level(f.level),
            "message": {"text": format!("{}@{} ({}) {}: {}", f.name, f.version, f.finding.phase.as_str(), f.finding.kind.as_str(), f.finding.reason)},
            "locations": [location(manifest_dir(&f.name, &f.version), &f.finding.location.file, f.finding.location.line)],
        }));
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "cargo-tracer", "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/cargo-tracer/cargo-tracer", "rules": rules}},
            "originalUriBaseIds": {"WORKSPACE": {"uri": format!("file://{}/", workspace_root.trim_end_matches('/'))}},
            "results": results,
        }],
    })
}
