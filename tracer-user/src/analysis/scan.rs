//! Scanning a whole graph: every package's targets, module tree by module tree, in parallel,
//! with results cached by package identity (and, for local packages, file times) so a re-scan of
//! an unchanged graph reads the cache instead of parsing.

use std::{
    collections::{BTreeSet, HashSet},
    hash::{Hash, Hasher},
    io::Write,
    path::{Path, PathBuf},
    sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant, UNIX_EPOCH},
};

use super::{binary, source};
use crate::model::findings::Finding;
pub use crate::model::findings::{PackageScan, SCAN_SCHEMA_VERSION, ScanReport, ScanStats};
use crate::{
    cargo::graph::{Crate, Graph},
    model::{FindingKind, Kind, TargetKind},
};

/// Changes whenever the rules change, so cached results of older rules are not reused.
const RULES_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "-rules-1");

fn is_mod_rs(file: &Path, root: bool) -> bool {
    root || matches!(
        file.file_name().and_then(|n| n.to_str()),
        Some("mod.rs" | "lib.rs" | "main.rs")
    )
}

/// The file a `mod` declaration in `parent` refers to.
fn module_file(parent: &Path, root: bool, decl: &source::ModDecl) -> Option<PathBuf> {
    let dir = parent.parent()?;
    if let Some(p) = &decl.path_attr {
        let base = decl
            .inline_parents
            .iter()
            .fold(dir.to_path_buf(), |d, m| d.join(m));
        return Some(base.join(p)).filter(|f| f.is_file());
    }
    let mut base = if is_mod_rs(parent, root) {
        dir.to_path_buf()
    } else {
        dir.join(parent.file_stem()?)
    };
    for m in &decl.inline_parents {
        base = base.join(m);
    }
    [
        base.join(format!("{}.rs", decl.name)),
        base.join(&decl.name).join("mod.rs"),
    ]
    .into_iter()
    .find(|f| f.is_file())
}

/// A missing root file of code that runs (a library, build script, proc macro, binary) is a
/// problem worth a finding; a missing test or bench root is ordinary for a published crate.
fn root_of_lib(phase: TargetKind, root: bool) -> bool {
    root && phase != TargetKind::Test
}

/// Scans one package from its sources.
pub fn scan_package(p: &Crate) -> PackageScan {
    let mut findings = Vec::new();
    let mut done: HashSet<(PathBuf, TargetKind)> = HashSet::new();
    let (mut files, mut lines) = (0, 0);
    let mut missing_files = Vec::new();
    for t in &p.targets {
        let mut todo = vec![(t.src_path.clone(), true, t.kind)];
        while let Some((file, root, phase)) = todo.pop() {
            if !done.insert((file.clone(), phase)) {
                continue;
            }
            let rel = file
                .strip_prefix(&p.manifest_dir)
                .unwrap_or(&file)
                .display()
                .to_string();
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                // Published crates often leave out the files of their tests and benches.
                Err(e)
                    if e.kind() == std::io::ErrorKind::NotFound && !root_of_lib(t.kind, root) =>
                {
                    missing_files.push(rel);
                    continue;
                }
                Err(e) => {
                    findings.push(Finding {
                        kind: FindingKind::Unparsed,
                        phase,
                        location: super::Location {
                            file: rel,
                            line: 1,
                            column: 1,
                        },
                        code: String::new(),
                        target: None,
                        reason: format!("could not read the file: {e}"),
                        obfuscated: false,
                        secret: false,
                    });
                    continue;
                }
            };
            files += 1;
            lines += text.lines().count();
            let scan = source::scan_file(&text, &rel, phase);
            findings.extend(scan.findings);
            for m in &scan.modules {
                if let Some(f) = module_file(&file, root, m) {
                    let phase = if m.test { TargetKind::Test } else { phase };
                    todo.push((f, false, phase));
                }
            }
            for inc in &scan.includes {
                if let Some(dir) = file.parent() {
                    let f = dir.join(inc);
                    if f.is_file() {
                        todo.push((f, root, phase));
                    }
                }
            }
        }
    }
    findings.sort_by(|a, b| (a.kind, a.phase, &a.location).cmp(&(b.kind, b.phase, &b.location)));
    let hosts: BTreeSet<String> = findings
        .iter()
        .filter(|f| {
            matches!(
                f.kind,
                FindingKind::LiteralHost
                    | FindingKind::Does(Kind::NetConnect)
                    | FindingKind::Does(Kind::NetDns)
                    | FindingKind::Does(Kind::NetListen)
            )
        })
        .filter_map(|f| f.target.clone())
        .filter(|t| super::source::literals::network_target(t).is_some())
        .collect();
    PackageScan {
        name: p.name.clone(),
        version: p.version.clone(),
        source: p.source.clone(),
        id: p.id.clone(),
        findings,
        hosts: hosts.into_iter().collect(),
        files,
        lines,
        missing_files,
        cached: false,
    }
}

/// What identifies a package's sources for the cache: its id, and for local packages the size
/// and modification time of every file under it.
fn cache_key(p: &Crate) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (RULES_VERSION, &p.id).hash(&mut h);
    // A rebuilt scanner may have other rules: its binary's size and time are part of the key.
    if let Some(m) = std::env::current_exe()
        .ok()
        .and_then(|e| std::fs::metadata(e).ok())
    {
        (m.len(), m.modified().ok()).hash(&mut h);
    }
    if !p.is_immutable() {
        let mut stack = vec![p.manifest_dir.clone()];
        let mut entries = Vec::new();
        while let Some(d) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.flatten() {
                let name = e.file_name();
                let name = name.to_string_lossy();
                if name.starts_with('.') || name == "target" {
                    continue;
                }
                let Ok(m) = e.metadata() else { continue };
                if m.is_dir() {
                    stack.push(e.path());
                } else if name.ends_with(".rs") {
                    let mtime = m
                        .modified()
                        .ok()
                        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                        .unwrap_or(Duration::ZERO);
                    entries.push((e.path(), m.len(), mtime.as_nanos()));
                }
            }
        }
        entries.sort();
        entries.hash(&mut h);
    }
    format!("{:016x}", h.finish())
}

/// Options of a scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Where cached results live (`None`: no cache).
    pub cache_dir: Option<PathBuf>,
    /// Show progress on stderr (only when it is a terminal).
    pub progress: bool,
    pub jobs: usize,
}

/// Scans `selected` packages of `graph`, in parallel, using and filling the cache.
pub fn scan(graph: &Graph, selected: &[usize], opts: &ScanOptions) -> ScanReport {
    with_artifacts(scan_sources(graph, selected, opts), graph, selected)
}

/// The source half of a scan: needs nothing built, so it can run while the build does.
#[derive(Debug, Clone)]
pub struct SourceScan {
    pub packages: Vec<PackageScan>,
    pub stats: ScanStats,
}

/// Completes a source scan with the compiled artifacts as they are now.
pub fn with_artifacts(src: SourceScan, graph: &Graph, selected: &[usize]) -> ScanReport {
    ScanReport {
        schema_version: SCAN_SCHEMA_VERSION,
        workspace_root: graph.workspace_root.display().to_string(),
        packages: src.packages,
        artifacts: binary::scan_artifacts(graph, selected),
        stats: src.stats,
    }
}

/// Scans the sources of `selected` packages, in parallel, using and filling the cache.
pub fn scan_sources(graph: &Graph, selected: &[usize], opts: &ScanOptions) -> SourceScan {
    let t0 = Instant::now();
    let results: Mutex<Vec<Option<PackageScan>>> = Mutex::new(vec![None; selected.len()]);
    let next = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    // SAFETY: isatty has no preconditions.
    let tty = opts.progress && unsafe { libc::isatty(2) } == 1;
    std::thread::scope(|s| {
        for _ in 0..opts.jobs.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&pi) = selected.get(i) else { break };
                    let p = &graph.packages[pi];
                    let cache_file = opts
                        .cache_dir
                        .as_ref()
                        .map(|d| d.join(format!("{}.json", cache_key(p))));
                    let cached = cache_file
                        .as_ref()
                        .and_then(|f| std::fs::read(f).ok())
                        .and_then(|b| serde_json::from_slice::<PackageScan>(&b).ok())
                        .filter(|c| c.id == p.id)
                        .map(|c| PackageScan { cached: true, ..c });
                    let r = cached.unwrap_or_else(|| {
                        let r = scan_package(p);
                        if let (Some(f), Ok(bytes)) = (&cache_file, serde_json::to_vec(&r)) {
                            // A cache that cannot be written only makes the next scan slower.
                            // Through no symbolic link: the cache can be in the target dir a
                            // build writes to.
                            let _ =
                                crate::files::create_dir_all(f.parent().unwrap_or(Path::new(".")));
                            let _ = crate::files::write(f, &bytes);
                        }
                        r
                    });
                    results.lock().expect("no worker panics while holding it")[i] = Some(r);
                    let n = finished.fetch_add(1, Ordering::Relaxed) + 1;
                    if tty {
                        eprint!("\r  scanning crates: {n}/{}", selected.len());
                    }
                }
            });
        }
    });
    if tty {
        eprintln!();
    }
    let mut packages: Vec<PackageScan> = results
        .into_inner()
        .expect("workers done")
        .into_iter()
        .flatten()
        .collect();
    packages.sort_by(|a, b| {
        let rank = |p: &PackageScan| p.findings.iter().map(danger).min().unwrap_or(u8::MAX);
        (rank(a), &a.name, &a.version).cmp(&(rank(b), &b.name, &b.version))
    });
    let stats = ScanStats {
        crates: packages.len(),
        cached: packages.iter().filter(|p| p.cached).count(),
        files: packages.iter().map(|p| p.files).sum(),
        lines: packages.iter().map(|p| p.lines).sum(),
        millis: t0.elapsed().as_millis() as u64,
    };
    SourceScan { packages, stats }
}

/// Lower is more dangerous: build-time code first, then by kind.
pub fn danger(f: &Finding) -> u8 {
    let phase = if f.phase.runs_at_build_time() { 0 } else { 50 };
    phase + f.kind.rank() + if f.obfuscated { 0 } else { 1 }
}

/// Writes a finished line for people (used by the CLI).
pub fn progress_done(out: &mut impl Write, r: &ScanReport) -> std::io::Result<()> {
    writeln!(
        out,
        "scanned {} crates ({} from cache), {} files, {} lines in {} ms",
        r.stats.crates, r.stats.cached, r.stats.files, r.stats.lines, r.stats.millis
    )
}
