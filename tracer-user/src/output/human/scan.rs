//! The scan as text for people: crates with findings first, each with the hosts and URLs it
//! names, then what its compiled artifacts can do.

use std::fmt::Write as _;

use crate::{analysis::scan::ScanReport, output::escape::human as h};

/// Renders the scan. `verbose` lists every finding; otherwise ten per crate.
pub fn render(r: &ScanReport, verbose: bool) -> String {
    let mut s = String::new();
    let with: Vec<_> = r
        .packages
        .iter()
        .filter(|p| !p.findings.is_empty())
        .collect();
    let _ = writeln!(
        s,
        "cargo-tracer scan: {} crates, {} with findings ({} files, {} lines, {} from cache, {} ms)",
        r.stats.crates,
        with.len(),
        r.stats.files,
        r.stats.lines,
        r.stats.cached,
        r.stats.millis
    );
    for p in &with {
        let _ = writeln!(s, "\n{} {}  ({})", h(&p.name), h(&p.version), h(&p.source));
        if !p.hosts.is_empty() {
            let hosts: Vec<_> = p.hosts.iter().map(|x| h(x)).collect();
            let _ = writeln!(s, "  hosts/URLs named: {}", hosts.join(", "));
        }
        let limit = if verbose { usize::MAX } else { 10 };
        for f in p.findings.iter().take(limit) {
            let loc = format!(
                "{}:{}:{}",
                h(&f.location.file),
                f.location.line,
                f.location.column
            );
            let target = f
                .target
                .as_deref()
                .map(|t| format!("{} — ", h(t)))
                .unwrap_or_default();
            let mut flags = String::new();
            if f.obfuscated {
                flags.push_str(" [obfuscated]");
            }
            if f.secret {
                flags.push_str(" [secret]");
            }
            let _ = writeln!(
                s,
                "  {:<13} {:<17} {loc}{flags}",
                f.phase.as_str(),
                f.kind.as_str()
            );
            let _ = writeln!(s, "  {:<31} {target}{}", "", h(&f.reason));
        }
        if p.findings.len() > limit {
            let _ = writeln!(
                s,
                "  … and {} more (--verbose lists them)",
                p.findings.len() - limit
            );
        }
        for a in
            r.artifacts.scanned.iter().filter(|a| {
                a.package == p.name && a.version == p.version && !a.functions.is_empty()
            })
        {
            let fns: Vec<String> = a
                .functions
                .iter()
                .map(|f| format!("{} ({})", h(&f.symbol), f.kind.as_str()))
                .collect();
            let _ = writeln!(s, "  compiled {}: {}", a.artifact, fns.join(", "));
        }
    }
    let clean: Vec<String> = r
        .packages
        .iter()
        .filter(|p| p.findings.is_empty())
        .map(|p| format!("{}@{}", h(&p.name), h(&p.version)))
        .collect();
    if !clean.is_empty() {
        let _ = writeln!(
            s,
            "\nno findings in {} crates: {}",
            clean.len(),
            clean.join(", ")
        );
    }
    if !r.artifacts.missing.is_empty() {
        let _ = writeln!(s, "\nartifacts not checked (build first to include them):");
        for m in &r.artifacts.missing {
            let _ = writeln!(
                s,
                "  {}@{} {}: {}",
                h(&m.package),
                h(&m.version),
                m.artifact,
                h(&m.reason)
            );
        }
    }
    s
}
