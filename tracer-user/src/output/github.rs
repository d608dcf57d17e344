//! The verdict as GitHub Actions workflow commands: an `::error` or `::warning` annotation per
//! row not allowed, so a repository without code scanning still sees them on the pull request.
//! An annotation needs a file of the repository: when the crate's sources are in it (a
//! workspace member, a path dependency), the static finding's line or else its manifest; a
//! dependency from elsewhere is annotated at its entry in `Cargo.lock` — the line the update that
//! brought it in changed.

use std::path::Path;

use super::{
    Judgement,
    escape::{workflow_data, workflow_property},
    rows,
};
use crate::{cargo::lockfile::LockLines, model::Level};

/// Where annotations point: paths relative to `repo_root` (`$GITHUB_WORKSPACE` in a job, else
/// the workspace), dependencies at their line of the workspace's lock file.
#[derive(Debug, Clone, Default)]
pub struct Places {
    pub repo_root: String,
    pub lock: LockLines,
}

/// One workflow command per row not allowed, unused rule and reason the trace is incomplete.
pub fn render(j: &Judgement<'_>, places: &Places) -> String {
    let workspace = j.workspace_root();
    let repo = if places.repo_root.is_empty() {
        workspace.as_str()
    } else {
        places.repo_root.as_str()
    };
    let relative = |abs: &str| -> Option<String> {
        Path::new(abs)
            .strip_prefix(repo)
            .ok()
            .map(|p| p.display().to_string())
            .filter(|p| !p.is_empty() && !p.starts_with(".."))
    };
    let lock = format!("{}/Cargo.lock", workspace.trim_end_matches('/'));
    let mut out = String::new();
    for row in rows::not_allowed(j.verdict) {
        let own = row.source().and_then(|(pkg, file, line)| {
            let dir = j.crate_dir(&pkg)?;
            Some((relative(&format!("{dir}/{file}"))?, line))
        });
        let at = own
            .or_else(|| {
                let dir = j.crate_dir(&row.package())?;
                Some((relative(&format!("{dir}/Cargo.toml"))?, 1))
            })
            .or_else(|| {
                let line = places.lock.line(&row.package())?;
                Some((relative(&lock)?, line))
            });
        command(
            &mut out,
            row.level(),
            at,
            row.code().as_str(),
            &row.message(),
        );
    }
    for u in &j.verdict.unused_rules {
        let file = if u.file.starts_with('/') {
            u.file.clone()
        } else {
            format!("{}/{}", workspace.trim_end_matches('/'), u.file)
        };
        command(
            &mut out,
            j.verdict.unused_rule_level,
            relative(&file).map(|f| (f, u.line)),
            "unused-rule",
            &format!(
                "allow entry for {} matched nothing in this build: {}",
                u.krate, u.reason
            ),
        );
    }
    for i in &j.verdict.incomplete {
        command(
            &mut out,
            j.verdict.incomplete_level,
            None,
            "incomplete",
            &rows::incomplete(i, str::to_string),
        );
    }
    out
}

fn command(out: &mut String, level: Level, at: Option<(String, usize)>, code: &str, msg: &str) {
    let kind = match level {
        Level::Deny => "error",
        Level::Warn => "warning",
        Level::Allow => return,
    };
    out.push_str("::");
    out.push_str(kind);
    out.push(' ');
    if let Some((file, line)) = at {
        out.push_str(&format!(
            "file={},line={},",
            workflow_property(&file),
            line.max(1)
        ));
    }
    out.push_str(&format!(
        "title={}::{}\n",
        workflow_property(&format!("cargo-tracer {code}")),
        workflow_data(msg)
    ));
}
