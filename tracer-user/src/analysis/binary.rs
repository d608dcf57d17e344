//! Artifact-level findings: what the compiled build scripts, proc-macro libraries and test
//! binaries import or contain (`connect`, `execve`, `std::net::TcpStream::connect`…) — this sees
//! through macros and `cfg`s that hide code from a source scan.

use std::path::{Path, PathBuf};

use object::{Object, ObjectSymbol};

use super::source::rules;
use crate::{
    cargo::graph::Graph,
    model::{FindingKind, Kind, TargetKind},
};

pub use crate::model::findings::{ArtifactFunction, ArtifactReport, ArtifactScan, MissingArtifact};

/// Rust paths (demangled, hash stripped) whose presence means the capability is linked in.
const RUST_FUNCTIONS: &[(&str, FindingKind)] = &[
    (
        "std::net::tcp::TcpStream::connect",
        FindingKind::Does(Kind::NetConnect),
    ),
    (
        "std::net::udp::UdpSocket::send_to",
        FindingKind::Does(Kind::NetConnect),
    ),
    (
        "std::net::tcp::TcpListener::bind",
        FindingKind::Does(Kind::NetListen),
    ),
    (
        "std::process::Command::spawn",
        FindingKind::Does(Kind::ProcessExec),
    ),
    (
        "std::process::Command::output",
        FindingKind::Does(Kind::ProcessExec),
    ),
    (
        "std::process::Command::status",
        FindingKind::Does(Kind::ProcessExec),
    ),
    ("std::fs::remove_file", FindingKind::Does(Kind::FsDelete)),
    ("std::fs::remove_dir_all", FindingKind::Does(Kind::FsDelete)),
    (
        "std::net::socket_addr::ToSocketAddrs",
        FindingKind::Does(Kind::NetDns),
    ),
    (
        "std::sys::net::connection::socket::lookup_host",
        FindingKind::Does(Kind::NetDns),
    ),
    ("std::env::var", FindingKind::EnvRead),
];

/// libc functions worth listing when imported.
const LIBC: &[&str] = &[
    "connect",
    "bind",
    "listen",
    "sendto",
    "getaddrinfo",
    "gethostbyname",
    "execve",
    "execvp",
    "execvpe",
    "fexecve",
    "posix_spawn",
    "posix_spawnp",
    "system",
    "popen",
    "fork",
    "unlink",
    "unlinkat",
    "rmdir",
    "syscall",
];

/// Lists the dangerous functions of one ELF file.
pub fn functions_of(path: &Path) -> Result<Vec<ArtifactFunction>, String> {
    let data = std::fs::read(path).map_err(|e| e.to_string())?;
    let file = object::File::parse(&*data).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for s in file.dynamic_symbols().chain(file.symbols()) {
        let Ok(name) = s.name() else { continue };
        let base = name.split('@').next().unwrap_or(name);
        if s.is_undefined() && LIBC.contains(&base) {
            let kind = if base == "syscall" {
                Some(FindingKind::RawSyscall)
            } else {
                rules::classify_foreign(base)
            };
            if let Some(kind) = kind {
                out.push(ArtifactFunction {
                    kind,
                    symbol: format!("libc {base}"),
                    from_crate: None,
                });
            }
            continue;
        }
        if s.is_definition() && (name.starts_with("_ZN") || name.starts_with("_R")) {
            let demangled = format!("{:#}", rustc_demangle::demangle(name));
            let found = RUST_FUNCTIONS
                .iter()
                .find(|(p, _)| demangled.starts_with(p));
            let from_crate = demangled
                .trim_start_matches('<')
                .split("::")
                .next()
                .map(str::to_string);
            if let Some((_, kind)) = found {
                out.push(ArtifactFunction {
                    kind: *kind,
                    symbol: demangled.clone(),
                    from_crate: from_crate.clone(),
                });
            } else if let Some(c) = &from_crate
                && let Some(kind) = rules::classify_path(c).filter(|_| c != "std" && c != "core")
            {
                // Code of a network or process crate (reqwest, ureq…) is linked in.
                out.push(ArtifactFunction {
                    kind,
                    symbol: demangled,
                    from_crate,
                });
            }
        }
    }
    out.sort();
    out.dedup_by(|a, b| a.kind == b.kind && a.symbol == b.symbol);
    // One line per crate for crate-level matches: the first symbol stands for the rest.
    let mut seen = std::collections::HashSet::new();
    out.retain(|f| {
        f.from_crate
            .as_deref()
            .is_none_or(|c| c == "std" || seen.insert((f.kind, c.to_string())))
    });
    Ok(out)
}

/// `name` is `<stem>-<hex hash><ext>` (cargo's unit naming), exactly.
fn hashed(name: &str, stem: &str, ext: &str) -> bool {
    name.strip_prefix(stem)
        .and_then(|r| r.strip_prefix('-'))
        .and_then(|r| r.strip_suffix(ext))
        .is_some_and(|h| h.len() >= 8 && h.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn profile_dirs(target: &Path) -> Vec<PathBuf> {
    ["debug", "release"]
        .iter()
        .map(|p| target.join(p))
        .filter(|d| d.is_dir())
        .collect()
}

/// Finds and reads the build-script executables, proc-macro libraries and test binaries of the
/// selected packages under the graph's target directory.
pub fn scan_artifacts(graph: &Graph, selected: &[usize]) -> ArtifactReport {
    let mut r = ArtifactReport::default();
    let profiles = profile_dirs(&graph.target_dir);
    for &i in selected {
        let p = &graph.packages[i];
        let crate_name = p.name.replace('-', "_");
        // Test binaries are built only by `cargo test`: looked for, never reported missing.
        let local = p.is_local();
        let test_names: Vec<String> = p
            .targets
            .iter()
            .filter(|t| {
                local && t.kind != TargetKind::BuildScript && t.kind != TargetKind::ProcMacro
            })
            .map(|t| t.name.replace('-', "_"))
            .collect();
        for (artifact, wanted) in [
            ("build-script", p.has(TargetKind::BuildScript)),
            ("proc-macro", p.has(TargetKind::ProcMacro)),
            ("test", !test_names.is_empty()),
        ] {
            if !wanted {
                continue;
            }
            let mut found = Vec::new();
            for prof in &profiles {
                let dir = if artifact == "build-script" {
                    prof.join("build")
                } else {
                    prof.join("deps")
                };
                let Ok(rd) = std::fs::read_dir(dir) else {
                    continue;
                };
                for e in rd.flatten() {
                    let n = e.file_name().to_string_lossy().to_string();
                    let path = match artifact {
                        "build-script" if hashed(&n, &p.name, "") => {
                            e.path().join("build-script-build")
                        }
                        "proc-macro" if hashed(&n, &format!("lib{crate_name}"), ".so") => e.path(),
                        "test"
                            if test_names.iter().any(|t| hashed(&n, t, ""))
                                && is_executable(&e.path()) =>
                        {
                            e.path()
                        }
                        _ => continue,
                    };
                    if path.is_file() {
                        found.push(path);
                    }
                }
            }
            if found.is_empty() && artifact != "test" {
                r.missing.push(MissingArtifact {
                    package: p.name.clone(),
                    version: p.version.clone(),
                    artifact: artifact.into(),
                    reason: format!("not built yet under {}", graph.target_dir.display()),
                });
            }
            for path in found {
                match functions_of(&path) {
                    Ok(functions) => r.scanned.push(ArtifactScan {
                        package: p.name.clone(),
                        version: p.version.clone(),
                        artifact: artifact.into(),
                        path: path.display().to_string(),
                        functions,
                    }),
                    Err(e) => r.missing.push(MissingArtifact {
                        package: p.name.clone(),
                        version: p.version.clone(),
                        artifact: artifact.into(),
                        reason: format!("{}: unreadable: {e}", path.display()),
                    }),
                }
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_names_match_exactly() {
        assert!(hashed("foo-0123456789abcdef", "foo", ""));
        assert!(
            !hashed("foo-bar-0123456789abcdef", "foo", ""),
            "another package's directory"
        );
        assert!(hashed(
            "libfoo_bar-0123456789abcdef.so",
            "libfoo_bar",
            ".so"
        ));
        assert!(!hashed("libfoo-0123456789abcdef.rlib", "libfoo", ".so"));
    }

    #[test]
    fn imported_libc_functions_are_listed() {
        // coreutils' env execs its argument and rm unlinks: both are on every Debian system.
        let env = functions_of(Path::new("/usr/bin/env")).unwrap();
        assert!(
            env.iter().any(
                |f| f.kind == FindingKind::Does(Kind::ProcessExec) && f.symbol == "libc execvp"
            ),
            "{env:?}"
        );
        let rm = functions_of(Path::new("/usr/bin/rm")).unwrap();
        assert!(
            rm.iter()
                .any(|f| f.kind == FindingKind::Does(Kind::FsDelete) && f.symbol == "libc unlinkat"),
            "{rm:?}"
        );
        assert!(
            !rm.iter()
                .any(|f| f.kind == FindingKind::Does(Kind::NetConnect))
        );
        assert!(functions_of(Path::new("/nonexistent")).is_err());
    }
}
