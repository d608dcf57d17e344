//! "What did each program do": notable events (execs, writes, deletes, renames, network, DNS)
//! grouped by the program that did them, for the `run` summary. Reads are only counted: a build
//! reads thousands of files. Exact crate attribution comes later in the pipeline; this groups by
//! what the process table knows (exe, argv, and a build-script ancestor if there is one).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{
    proctable::{ProcTable, Process},
    trace::{EventRecord, RecordDetail},
};

/// Targets kept per kind and group before only counting.
const EXAMPLES: usize = 5;

/// One kind of activity of one group.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Activity {
    pub count: u64,
    pub failed: u64,
    /// Up to [`EXAMPLES`] distinct targets, in first-seen order.
    pub targets: Vec<String>,
    /// Distinct targets beyond `targets`.
    pub more: u64,
}

/// Notable activity of one program (all its processes).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Group {
    pub label: String,
    pub pids: Vec<u32>,
    pub reads: u64,
    /// Keyed by `exec`, `write`, `delete`, `rename`, `connect`, `listen`, `dns`.
    pub activity: BTreeMap<String, Activity>,
}

/// All groups, by label.
#[derive(Debug, Default)]
pub struct Digest {
    groups: BTreeMap<String, Group>,
    /// Label of each pid (walking the lineage per event was wasteful); refreshed at its exec.
    labels: std::collections::HashMap<u32, String>,
}

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// `build script <crate>` for cargo's `…/build/<crate>-<hash>/build-script-build`.
fn build_script_crate(p: &Process) -> Option<String> {
    let exe = p.exe.as_deref()?;
    if basename(exe) != "build-script-build" && !basename(exe).starts_with("build_script_build-") {
        return None;
    }
    let dir = exe.rsplit('/').nth(1)?;
    Some(
        dir.rsplit_once('-')
            .map(|(name, _)| name)
            .unwrap_or(dir)
            .to_string(),
    )
}

/// A readable name for what process `pid` is.
pub fn label(table: &ProcTable, pid: u32) -> String {
    let Some(p) = table.get(pid) else {
        return format!("pid {pid}");
    };
    if let Some(krate) = build_script_crate(p) {
        return format!("build script of {krate}");
    }
    let name = p
        .exe
        .as_deref()
        .map(basename)
        .unwrap_or(&p.comm)
        .to_string();
    let own = match p.argv.iter().position(|a| a == "--crate-name") {
        Some(i) if name.starts_with("rustc") => format!(
            "rustc {}",
            p.argv.get(i + 1).map(String::as_str).unwrap_or("?")
        ),
        _ => name,
    };
    let ancestor = table
        .lineage(pid)
        .into_iter()
        .skip(1)
        .find_map(|a| table.get(a).and_then(build_script_crate));
    match ancestor {
        Some(krate) => format!("{own} (spawned by build script of {krate})"),
        None => own,
    }
}

impl Digest {
    /// Adds one event, labelled with what the table says about its process now.
    pub fn observe(&mut self, rec: &EventRecord, table: &ProcTable) {
        if matches!(rec.detail, RecordDetail::Exec { .. }) {
            self.labels.remove(&rec.pid);
        }
        let note: Option<(&str, String)> = match &rec.detail {
            RecordDetail::Exec {
                path,
                argv,
                argv_truncated,
                real,
            } => {
                let exe = real.or(path).to_string();
                let shown = argv
                    .first()
                    .map(|a0| {
                        if basename(a0) == basename(&exe) {
                            exe.clone()
                        } else {
                            format!("{exe} ({a0})")
                        }
                    })
                    .unwrap_or(exe);
                // Arguments past the capture limit are not in the trace: say so where it shows.
                Some((
                    "exec",
                    if *argv_truncated {
                        format!("{shown} [arguments cut at the capture limit]")
                    } else {
                        shown
                    },
                ))
            }
            RecordDetail::Open {
                path, access, real, ..
            } if access.write || access.create => Some(("write", real.or(path).to_string())),
            RecordDetail::Open { .. } => {
                self.group(rec.pid, table).reads += 1;
                None
            }
            RecordDetail::Unlink { path, .. } => Some(("delete", path.best().to_string())),
            RecordDetail::Meta { path, .. } => Some(("meta", path.best().to_string())),
            RecordDetail::Link { link, .. } => Some(("link", link.best().to_string())),
            RecordDetail::Rename { from, to, .. } => {
                Some(("rename", format!("{} -> {}", from.best(), to.best())))
            }
            RecordDetail::Connect { addr, .. } => Some(("connect", addr.display())),
            RecordDetail::Send { addr, .. } => Some(("send", addr.display())),
            RecordDetail::Listen { local, .. } => Some(("listen", local.display())),
            RecordDetail::Dns { query: Some(q), .. } => Some((
                "dns",
                q.questions
                    .iter()
                    .map(|x| format!("{} {}", x.name, x.qtype))
                    .collect::<Vec<_>>()
                    .join(", "),
            )),
            RecordDetail::Dns {
                decode_error: Some(e),
                ..
            } => Some(("dns", format!("(undecodable: {e})"))),
            _ => None,
        };
        let Some((kind, target)) = note else { return };
        let ok = rec.ok;
        let a = self
            .group(rec.pid, table)
            .activity
            .entry(kind.to_string())
            .or_default();
        a.count += 1;
        if !ok {
            a.failed += 1;
        }
        if !a.targets.contains(&target) {
            if a.targets.len() < EXAMPLES {
                a.targets.push(target)
            } else {
                a.more += 1
            }
        }
    }

    fn group(&mut self, pid: u32, table: &ProcTable) -> &mut Group {
        let l = self
            .labels
            .entry(pid)
            .or_insert_with(|| label(table, pid))
            .clone();
        let g = self.groups.entry(l.clone()).or_insert_with(|| Group {
            label: l,
            ..Group::default()
        });
        if !g.pids.contains(&pid) {
            g.pids.push(pid);
        }
        g
    }

    /// Groups with any notable activity, build scripts and their children first.
    pub fn groups(&self) -> Vec<Group> {
        let mut v: Vec<Group> = self
            .groups
            .values()
            .filter(|g| !g.activity.is_empty())
            .cloned()
            .collect();
        v.sort_by_key(|g| (!g.label.contains("build script"), g.label.clone()));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_scripts_are_named_after_their_crate() {
        let p = Process {
            pid: 1,
            parent: None,
            comm: "build-script-bu".into(),
            exe: Some("/t/debug/build/telemetry-sys-0123abcd/build-script-build".into()),
            argv: Vec::new(),
            exit_code: None,
            forks: 0,
            threads: 0,
            execs: 1,
        };
        assert_eq!(build_script_crate(&p).as_deref(), Some("telemetry-sys"));
        let other = Process {
            exe: Some("/usr/bin/sh".into()),
            ..p
        };
        assert_eq!(build_script_crate(&other), None);
    }
}
