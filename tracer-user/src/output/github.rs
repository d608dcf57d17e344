//! The verdict as GitHub Actions workflow commands: an `::error` or `::warning` annotation per
//! row not allowed, so a repository without code scanning still sees them on the pull request.
//! An annotation needs a file of the repository: when the crate's sources are in it (a
//! workspace member, a path dependency), the static finding's line or else its manifest; a
//! dependency from elsewhere is annotated at its entry in `Cargo.lock` — the line the update that
//! brought it in changed.

use std::path::{Component, Path};

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

/// GitHub shows at most this many annotations of each level per step; the last one shown says
/// how many more there are.
const SHOWN_PER_LEVEL: usize = 10;

/// One workflow command per row not allowed, unused rule and reason the trace is incomplete —
/// at most [`SHOWN_PER_LEVEL`] of each level, the last saying how many more the summary and
/// SARIF hold.
pub fn render(j: &Judgement<'_>, places: &Places) -> String {
    let workspace = j.workspace_root();
    let repo = if places.repo_root.is_empty() {
        workspace.as_str()
    } else {
        places.repo_root.as_str()
    };
    let relative = |abs: &str| repo_path(abs, repo);
    let lock = format!("{}/Cargo.lock", workspace.trim_end_matches('/'));
    let mut out: Vec<Note> = Vec::new();
    let mut command = |level, at, code: &str, message: String| {
        let kind = match level {
            Level::Deny => "error",
            Level::Warn => "warning",
            Level::Allow => return,
        };
        out.push(Note {
            kind,
            at,
            code: code.to_string(),
            message,
        });
    };
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
        command(row.level(), at, row.code().as_str(), row.message());
    }
    for u in &j.verdict.unused_rules {
        let file = if u.file.starts_with('/') {
            u.file.clone()
        } else {
            format!("{}/{}", workspace.trim_end_matches('/'), u.file)
        };
        command(
            j.verdict.unused_rule_level,
            relative(&file).map(|f| (f, u.line)),
            "unused-rule",
            format!(
                "allow entry for {} matched nothing in this build: {}",
                u.krate, u.reason
            ),
        );
    }
    for i in &j.verdict.incomplete {
        command(
            j.verdict.incomplete_level,
            None,
            "incomplete",
            rows::incomplete(i, str::to_string),
        );
    }
    let mut text = String::new();
    for kind in ["error", "warning"] {
        let of_kind: Vec<&Note> = out.iter().filter(|n| n.kind == kind).collect();
        let more = of_kind.len().saturating_sub(SHOWN_PER_LEVEL - 1);
        for (i, n) in of_kind.iter().enumerate() {
            if more > 1 && i == SHOWN_PER_LEVEL - 1 {
                let rest = Note {
                    kind,
                    at: None,
                    code: "more".into(),
                    message: format!(
                        "{more} more like these: the job summary and the SARIF list them all"
                    ),
                };
                text.push_str(&rest.line());
                break;
            }
            text.push_str(&n.line());
        }
    }
    text
}

/// `abs` relative to `repo`, when it is a plain path below it. A file named with `..` (a
/// finding's file is the scanned crate's to choose) could otherwise point an annotation at any
/// file of the repository.
fn repo_path(abs: &str, repo: &str) -> Option<String> {
    let rel = Path::new(abs).strip_prefix(repo).ok()?;
    let plain = rel
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    Some(rel.display().to_string()).filter(|p| plain && !p.is_empty())
}

/// One annotation: `::error` or `::warning`.
struct Note {
    kind: &'static str,
    at: Option<(String, usize)>,
    code: String,
    message: String,
}

impl Note {
    fn line(&self) -> String {
        let mut s = format!("::{} ", self.kind);
        if let Some((file, line)) = &self.at {
            s.push_str(&format!(
                "file={},line={},",
                workflow_property(file),
                (*line).max(1)
            ));
        }
        s.push_str(&format!(
            "title={}::{}\n",
            workflow_property(&format!("cargo-tracer {}", self.code)),
            workflow_data(&self.message)
        ));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_point_only_at_plain_paths_in_the_repository() {
        assert_eq!(
            repo_path("/r/ws/gated/build.rs", "/r").as_deref(),
            Some("ws/gated/build.rs")
        );
        assert_eq!(repo_path("/r/gated/../../README.md", "/r"), None);
        assert_eq!(repo_path("/r/gated/../app/src/lib.rs", "/r"), None);
        assert_eq!(repo_path("/elsewhere/x.rs", "/r"), None);
        assert_eq!(repo_path("/r", "/r"), None);
    }
}
