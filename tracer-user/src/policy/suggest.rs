//! `cargo tracer policy suggest`: allow entries for everything a run did that is not routine, for
//! a team adopting the tool. Each entry carries a reason placeholder to fill in.

use std::{collections::BTreeMap, fmt::Write as _};

use crate::{aggregate::Kind, report::Report};

/// The allow-entry key and value that permit a behaviour (`exec` takes the program's name).
pub fn allow_entry(kind: Kind, target: &str) -> (&'static str, String) {
    match kind {
        Kind::FsRead => ("read", target.to_string()),
        Kind::FsWrite => ("write", target.to_string()),
        Kind::FsDelete => ("delete", target.to_string()),
        Kind::ProcessExec => (
            "exec",
            target.rsplit('/').next().unwrap_or(target).to_string(),
        ),
        Kind::NetDns | Kind::NetConnect => ("hosts", target.to_string()),
        Kind::NetListen => ("listen", target.to_string()),
    }
}

/// A `tracer.toml` allowing every notable behaviour of `report`, one entry per crate and phase.
pub fn suggest(report: &Report) -> String {
    // (crate, phase) → key → values
    let mut entries: BTreeMap<(String, String), BTreeMap<&'static str, Vec<String>>> =
        BTreeMap::new();
    for c in &report.crates {
        for b in &c.behaviors {
            let (key, value) = allow_entry(b.kind, &b.target);
            let list = entries
                .entry((c.name.clone(), b.phase.as_str().to_string()))
                .or_default()
                .entry(key)
                .or_default();
            if !list.contains(&value) {
                list.push(value);
            }
        }
    }
    let mut s = String::from(
        "# Suggested by `cargo tracer policy suggest` from an observed build. Review every entry:\n\
         # narrow paths to globs where the crate writes many files, and say why in each `reason`.\n",
    );
    for ((krate, phase), keys) in &entries {
        let _ = writeln!(
            s,
            "\n[[allow]]\ncrate = {krate:?}\nphase = {phase:?}\nreason = \"TODO: why {krate} needs this\""
        );
        for (k, values) in keys {
            let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
            let _ = writeln!(s, "{k} = [{}]", quoted.join(", "));
        }
    }
    s
}

/// A behaviour as `diff` compares them: crate name (not version: an update that changes what a
/// crate does is what a diff is for), phase, kind, target.
type Key = (String, String, String, String);

fn keys(report: &serde_json::Value) -> BTreeMap<Key, String> {
    let mut out = BTreeMap::new();
    for c in report["crates"].as_array().into_iter().flatten() {
        let name = c["name"].as_str().unwrap_or_default().to_string();
        let version = c["version"].as_str().unwrap_or_default().to_string();
        for b in c["behaviors"].as_array().into_iter().flatten() {
            let k = (
                name.clone(),
                b["phase"].as_str().unwrap_or_default().to_string(),
                b["kind"].as_str().unwrap_or_default().to_string(),
                b["target"].as_str().unwrap_or_default().to_string(),
            );
            out.insert(k, version.clone());
        }
    }
    out
}

/// Behaviours in `new` that `old` did not have, as `(crate@version, phase, kind, target)`.
pub fn diff(
    old: &serde_json::Value,
    new: &serde_json::Value,
) -> Vec<(String, String, String, String)> {
    let before = keys(old);
    keys(new)
        .into_iter()
        .filter(|(k, _)| !before.contains_key(k))
        .map(|((name, phase, kind, target), version)| {
            (format!("{name}@{version}"), phase, kind, target)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_lists_only_new_behaviour_across_versions() {
        let old = serde_json::json!({"crates": [{"name": "a", "version": "1.0.0", "behaviors": [
            {"phase": "build-script", "kind": "fs.write", "target": "$OUT_DIR/x"}]}]});
        let new = serde_json::json!({"crates": [{"name": "a", "version": "1.1.0", "behaviors": [
            {"phase": "build-script", "kind": "fs.write", "target": "$OUT_DIR/x"},
            {"phase": "build-script", "kind": "net.dns", "target": "c2.example.com"}]}]});
        assert_eq!(
            diff(&old, &new),
            vec![(
                "a@1.1.0".into(),
                "build-script".into(),
                "net.dns".into(),
                "c2.example.com".into()
            )]
        );
        assert!(diff(&new, &new).is_empty());
    }
}
