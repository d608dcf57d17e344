//! Turns relative and dirfd-relative paths into absolute ones, without guessing.
//!
//! The kernel records the identity (device, inode) of the base directory at the moment of the
//! syscall. Here we find a path for that directory — from a cache of directories already
//! identified, or from `/proc/<pid>/cwd` / `/proc/<pid>/fd/<n>` while the process lives — and
//! accept it only if `stat` shows the same identity. Anything else is reported unresolved.
//! The cache follows the event stream: a directory removed or renamed is forgotten, because
//! filesystems reuse inode numbers at once (a configure script's `conftest.dir` gets the inode of
//! the temp dir removed a moment earlier).

use std::{collections::HashMap, os::unix::fs::MetadataExt};

use serde::{Deserialize, Serialize};
use tracer_common::event::InodeRef;

use crate::events::{Base, PathArg, text};

/// A path argument as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedPath {
    /// As the process passed it.
    pub raw: String,
    /// Absolute path, when known for certain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abs: Option<String>,
    /// What `raw` was taken relative to.
    pub base: PathBase,
    /// The raw path was cut at the capture limit.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// Why `abs` is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unresolved: Option<String>,
}

/// What a path argument was taken relative to (`base` in the trace). An enum, not text: every
/// file event has one, and a string each would be an allocation each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathBase {
    Absolute,
    Cwd,
    Dirfd,
    Unresolved,
}

impl ResolvedPath {
    /// The absolute path when known, else the path as passed.
    pub fn best(&self) -> &str {
        self.abs.as_deref().unwrap_or(&self.raw)
    }
}

/// Kernel `dev_t` encoding (major << 20 | minor) of a userspace `st_dev`.
pub fn kernel_dev(st_dev: u64) -> u32 {
    let major = libc::major(st_dev);
    let minor = libc::minor(st_dev);
    (major << 20) | minor
}

/// Identity of a directory path (as trace text) as `stat` sees it.
fn identity(path: &str) -> Option<InodeRef> {
    let m = std::fs::metadata(text::to_os(path)).ok()?;
    Some(InodeRef {
        ino: m.ino(),
        dev: kernel_dev(m.dev()),
        mode: m.mode(),
    })
}

/// Joins a directory and a relative path, dropping `.` components (never `..`: with symlinks,
/// removing it lexically could name another file).
pub fn join(dir: &str, rel: &str) -> String {
    let mut out = dir.trim_end_matches('/').to_string();
    for part in rel.split('/') {
        if part.is_empty() || part == "." {
            continue;
        }
        out.push('/');
        out.push_str(part);
    }
    if out.is_empty() { "/".into() } else { out }
}

/// How many recently opened files are remembered for calls on their descriptors.
const RECENT_FILES: usize = 4096;

/// Resolves base directories, remembering every directory identity it has verified.
#[derive(Debug, Default)]
pub struct PathResolver {
    dirs: HashMap<(u32, u64), String>,
    /// The reverse of `dirs`, to forget a path without a scan.
    by_path: HashMap<String, (u32, u64)>,
    /// The latest files opened, by identity: a call on a descriptor with no path
    /// (`futimens`, `AT_EMPTY_PATH`) names its file by them. Bounded: only recent opens.
    files: HashMap<(u32, u64), String>,
    file_order: std::collections::VecDeque<(u32, u64)>,
    /// Paths resolved through the cache or /proc, and paths left unresolved (for the summary).
    pub resolved: u64,
    pub unresolved: u64,
}

impl PathResolver {
    /// Records the identity of directory `path` as `stat` sees it now (the root's cwd at start).
    pub fn learn(&mut self, path: &str) {
        if let Some(id) = identity(path) {
            self.insert(id, path.to_string());
        }
    }

    fn insert(&mut self, id: InodeRef, path: String) {
        let key = (id.dev, id.ino);
        if let Some(old) = self.dirs.insert(key, path.clone()) {
            self.by_path.remove(&old);
        }
        if let Some(old_key) = self.by_path.insert(path, key)
            && old_key != key
        {
            self.dirs.remove(&old_key);
        }
    }

    /// Directory `path` was removed or renamed away: its identity no longer names it (and, for
    /// a rename, nothing below it keeps its path).
    pub fn forget(&mut self, path: &str) {
        let path = path.trim_end_matches('/');
        let Some(key) = self.by_path.remove(path) else {
            return;
        };
        self.dirs.remove(&key);
        let prefix = format!("{path}/");
        let below: Vec<String> = self
            .by_path
            .keys()
            .filter(|p| p.starts_with(&prefix))
            .cloned()
            .collect();
        for p in below {
            if let Some(k) = self.by_path.remove(&p) {
                self.dirs.remove(&k);
            }
        }
    }

    /// Records that the kernel saw directory `id` opened as `path`: later paths relative to a
    /// descriptor of it resolve without racing the process to /proc.
    pub fn remember(&mut self, id: InodeRef, path: &str) {
        if id.ino != 0 && id.is_dir() {
            self.insert(id, path.to_string());
        } else if id.ino != 0 {
            let key = (id.dev, id.ino);
            if self.files.insert(key, path.to_string()).is_none() {
                self.file_order.push_back(key);
                if self.file_order.len() > RECENT_FILES
                    && let Some(old) = self.file_order.pop_front()
                {
                    self.files.remove(&old);
                }
            }
        }
    }

    /// Verifies and caches process `pid`'s cwd while the process is alive (called at exec, so
    /// its relative paths resolve even once it is gone).
    pub fn warm_cwd(&mut self, pid: u32, cwd: InodeRef) {
        let _ = self.dir_for(cwd, &[format!("/proc/{pid}/cwd")]);
    }

    fn dir_for(&mut self, id: InodeRef, candidates: &[String]) -> Option<String> {
        if id.ino == 0 {
            return None;
        }
        if let Some(p) = self.dirs.get(&(id.dev, id.ino)) {
            return Some(p.clone());
        }
        for link in candidates {
            let Ok(target) = std::fs::read_link(link) else {
                continue;
            };
            let target = text::from_os(target.as_os_str());
            if identity(&target).is_some_and(|t| t.same_file(&id)) {
                self.insert(id, target.clone());
                return Some(target);
            }
        }
        None
    }

    /// Resolves one path argument of thread `tid` of process `pid`.
    pub fn resolve(&mut self, pid: u32, tid: u32, arg: &PathArg) -> ResolvedPath {
        let raw = arg.raw.text.clone();
        let mut out = ResolvedPath {
            raw,
            abs: None,
            base: PathBase::Unresolved,
            truncated: arg.raw.truncated,
            unresolved: None,
        };
        if arg.raw.fault {
            out.unresolved = Some("the path argument could not be read from the process".into());
            self.unresolved += 1;
            return out;
        }
        if arg.raw.truncated {
            // A cut path names no particular file: report the prefix, never a guess.
            out.base = if arg.base == Base::None {
                PathBase::Absolute
            } else {
                PathBase::Unresolved
            };
            out.unresolved = Some("the path is longer than the capture limit and was cut".into());
            self.unresolved += 1;
            return out;
        }
        // No path at all: the call was on the descriptor's own file (`futimens`).
        if arg.raw.text.is_empty()
            && let Base::Dirfd(_, id) = arg.base
            && let Some(f) = self.files.get(&(id.dev, id.ino))
        {
            out.base = PathBase::Dirfd;
            out.abs = Some(f.clone());
            self.resolved += 1;
            return out;
        }
        let (base, dir) = match arg.base {
            Base::None => {
                out.base = PathBase::Absolute;
                out.abs = Some(out.raw.clone());
                return out;
            }
            Base::Unknown => {
                out.unresolved = Some("the kernel could not identify the base directory".into());
                self.unresolved += 1;
                return out;
            }
            Base::Cwd(id) => (
                PathBase::Cwd,
                self.dir_for(
                    id,
                    &[format!("/proc/{tid}/cwd"), format!("/proc/{pid}/cwd")],
                ),
            ),
            Base::Dirfd(fd, id) => (
                PathBase::Dirfd,
                self.dir_for(id, &[format!("/proc/{pid}/fd/{fd}")]),
            ),
        };
        match dir {
            Some(d) => {
                out.base = base;
                out.abs = Some(join(&d, &out.raw));
                self.resolved += 1;
            }
            None => {
                out.unresolved = Some(if base == PathBase::Cwd {
                    "the process's cwd was gone or had changed before it could be verified".into()
                } else {
                    "the directory fd was closed or reused before it could be verified".into()
                });
                self.unresolved += 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::RawPath;

    fn arg(text: &str, base: Base) -> PathArg {
        PathArg {
            raw: RawPath {
                text: text.into(),
                truncated: false,
                fault: false,
            },
            base,
        }
    }

    #[test]
    fn joins_without_guessing_dotdot() {
        assert_eq!(join("/a/b", "c"), "/a/b/c");
        assert_eq!(join("/a/b/", "./c//d"), "/a/b/c/d");
        assert_eq!(join("/", "x"), "/x");
        assert_eq!(join("/a", "../x"), "/a/../x");
        assert_eq!(join("/", ""), "/");
    }

    #[test]
    fn resolves_dirfd_relative_only_when_the_inode_matches() {
        use std::os::fd::AsRawFd;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap().to_string();
        let handle = std::fs::File::open(&d).unwrap();
        let fd = handle.as_raw_fd();
        let id = identity(&d).unwrap();
        let me = std::process::id();
        // A different identity must not be resolved to whatever the fd names now.
        let other = InodeRef {
            ino: id.ino + 1,
            ..id
        };
        let got = PathResolver::default().resolve(me, me, &arg("f.txt", Base::Dirfd(fd, other)));
        assert_eq!(got.abs, None);
        assert!(got.unresolved.is_some());
        let mut r = PathResolver::default();
        let got = r.resolve(me, me, &arg("f.txt", Base::Dirfd(fd, id)));
        assert_eq!(got.abs.as_deref(), Some(format!("{d}/f.txt").as_str()));
        assert_eq!(got.base, PathBase::Dirfd);
        // Once learned, the identity resolves a cwd-relative path of a process that is gone.
        drop(handle);
        let got = r.resolve(u32::MAX - 1, u32::MAX - 1, &arg("g", Base::Cwd(id)));
        assert_eq!(got.abs.as_deref(), Some(format!("{d}/g").as_str()));
    }

    #[test]
    fn a_removed_directory_does_not_name_its_reused_inode() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap().to_string();
        let sub = format!("{d}/sub");
        std::fs::create_dir(&sub).unwrap();
        let id = identity(&d).unwrap();
        let sub_id = identity(&sub).unwrap();
        let mut r = PathResolver::default();
        r.remember(id, &d);
        r.remember(sub_id, &sub);
        let gone = u32::MAX - 1;
        let cwd_rel =
            |r: &mut PathResolver, id| r.resolve(gone, gone, &arg("f", Base::Cwd(id))).abs;
        assert_eq!(cwd_rel(&mut r, sub_id), Some(format!("{sub}/f")));
        // Renaming the parent away takes everything below it along.
        r.forget(&format!("{d}/"));
        assert_eq!(cwd_rel(&mut r, id), None);
        assert_eq!(cwd_rel(&mut r, sub_id), None);
        // Relearned under a new path, the same identity resolves there.
        r.remember(sub_id, "/elsewhere");
        assert_eq!(cwd_rel(&mut r, sub_id).as_deref(), Some("/elsewhere/f"));
        r.forget("/elsewhere");
        assert_eq!(cwd_rel(&mut r, sub_id), None);
        r.forget("/never/seen");
    }

    #[test]
    fn truncated_paths_are_never_given_an_absolute_form() {
        let mut a = arg("/very/long/prefix", Base::None);
        a.raw.truncated = true;
        let got = PathResolver::default().resolve(1, 1, &a);
        assert_eq!(got.abs, None);
        assert!(got.truncated);
        assert!(got.unresolved.is_some());
    }

    #[test]
    fn absolute_unknown_and_faulted_paths() {
        let mut r = PathResolver::default();
        assert_eq!(
            r.resolve(1, 1, &arg("/etc/hosts", Base::None))
                .abs
                .as_deref(),
            Some("/etc/hosts")
        );
        assert_eq!(r.resolve(1, 1, &arg("x", Base::Unknown)).abs, None);
        let mut a = arg("", Base::None);
        a.raw.fault = true;
        assert!(r.resolve(1, 1, &a).unresolved.is_some());
        assert_eq!(r.unresolved, 2);
    }
}
