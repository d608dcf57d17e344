//! The messages cargo would have printed, worked out from what the kernel showed it doing: the
//! daemon traces cargo invocations it did not start, so it never reads their JSON. Attribution
//! then runs on these as on cargo's own (`attribution::Index`).
//!
//! Only what cargo's own processes ran counts (the caller keeps that list): a build script that
//! runs a fake `rustc --crate-name other …` names no unit. What is inferred:
//! - a **compiled unit** from each rustc command line cargo ran: `--crate-name`, the crate root
//!   (relative to the workspace root for members, as cargo passes it), `--crate-type` or
//!   `--test`, `-C extra-filename`, `--out-dir`, matched to the graph's target with that root;
//! - a unit for each **program cargo ran** that no rustc of the job compiled (built before the
//!   daemon started): `build/<package>-<hash>/build-script-build`, `deps/<crate>-<hash>` (a test
//!   harness) or `<profile>/<bin>`, when its name points to exactly one package;
//! - the **`OUT_DIR`s** of each build script that ran: the `build/<package>-<hash>/out`
//!   directories beside its own, as cargo lays them out.

use std::path::Path;

use cargo_metadata::Message;

use super::graph::{Crate, Graph, Target};
use crate::model::TargetKind;

/// What cargo's own processes ran during one invocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// Command lines of the rustc (and rustdoc, clippy-driver) processes cargo started.
    pub rustc: Vec<Vec<String>>,
    /// Every other program cargo ran, by the path the kernel resolved.
    pub programs: Vec<String>,
}

/// A rustc command line, as cargo writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rustc<'a> {
    crate_name: &'a str,
    src: &'a str,
    crate_types: Vec<&'a str>,
    test: bool,
    /// `-<hash>`.
    extra: &'a str,
    /// Empty for rustdoc, which writes nothing cargo names.
    out_dir: &'a str,
    /// `--extern` libraries: `(crate name, path)`.
    externs: Vec<(&'a str, &'a str)>,
}

/// rustc flags that take a value as the next argument (so it is not the crate root).
const VALUE_FLAGS: &[&str] = &[
    "--crate-name",
    "--crate-type",
    "--edition",
    "--error-format",
    "--json",
    "--emit",
    "--out-dir",
    "--target",
    "--cfg",
    "--check-cfg",
    "--cap-lints",
    "--extern",
    "--sysroot",
    "--remap-path-prefix",
    "--diagnostic-width",
    "--explain",
    "-o",
    "-L",
    "-l",
    "-C",
    "-Z",
    "-A",
    "-W",
    "-D",
    "-F",
];

fn parse(argv: &[String]) -> Option<Rustc<'_>> {
    let mut r = Rustc {
        crate_name: "",
        src: "",
        crate_types: Vec::new(),
        test: false,
        extra: "",
        out_dir: "",
        externs: Vec::new(),
    };
    let mut it = argv.iter().skip(1).map(String::as_str);
    while let Some(a) = it.next() {
        match a {
            "--crate-name" => r.crate_name = it.next()?,
            "--crate-type" => r.crate_types.push(it.next()?),
            "--out-dir" => r.out_dir = it.next()?,
            "--test" => r.test = true,
            "-C" => {
                if let Some(v) = it.next()?.strip_prefix("extra-filename=") {
                    r.extra = v;
                }
            }
            "--extern" => {
                // `[opts:]name=path`, options such as `priv,noprelude`.
                let v = it.next()?;
                let v = v.rsplit_once(':').map_or(v, |(_, nv)| nv);
                if let Some((name, path)) = v.split_once('=') {
                    r.externs.push((name, path));
                }
            }
            f if VALUE_FLAGS.contains(&f) => {
                it.next()?;
            }
            f if f.ends_with(".rs") && !f.starts_with('-') && r.src.is_empty() => r.src = f,
            _ => {}
        }
    }
    (!r.crate_name.is_empty() && !r.src.is_empty()).then_some(r)
}

/// Cargo's name for a target kind, as its messages write it.
fn cargo_kind(k: TargetKind) -> &'static str {
    match k {
        TargetKind::BuildScript => "custom-build",
        TargetKind::ProcMacro => "proc-macro",
        TargetKind::Library => "lib",
        TargetKind::Binary => "bin",
        TargetKind::Test => "test",
    }
}

/// A `compiler-artifact` message for target `t` of `c`.
fn artifact(
    c: &Crate,
    t: &Target,
    test: bool,
    filenames: &[String],
    executable: Option<&str>,
    fresh: bool,
) -> Option<Message> {
    let kind = cargo_kind(t.kind);
    serde_json::from_value(serde_json::json!({
        "reason": "compiler-artifact",
        "package_id": c.id,
        "manifest_path": c.manifest_dir.join("Cargo.toml"),
        "target": {"kind": [kind], "crate_types": [kind], "name": t.name,
                   "src_path": t.src_path, "edition": "2021"},
        "profile": {"opt_level": "0", "debuginfo": 0, "debug_assertions": false,
                    "overflow_checks": false, "test": test},
        "features": [], "filenames": filenames, "executable": executable, "fresh": fresh,
    }))
    .ok()
}

fn crate_name(t: &Target) -> String {
    match t.kind {
        TargetKind::BuildScript => "build_script_build".into(),
        _ => t.name.replace('-', "_"),
    }
}

/// The unit one rustc command line compiled, as cargo's artifact message would give it.
fn unit(graph: &Graph, r: &Rustc<'_>) -> Option<Message> {
    let src = if r.src.starts_with('/') {
        Path::new(r.src).to_path_buf()
    } else {
        graph.workspace_root.join(r.src.trim_start_matches("./"))
    };
    let (c, t) = graph
        .packages
        .iter()
        .flat_map(|c| c.targets.iter().map(move |t| (c, t)))
        .find(|(_, t)| t.src_path == src && crate_name(t) == r.crate_name)?;
    let (name, out, extra) = (r.crate_name, r.out_dir, r.extra);
    let hash = extra.strip_prefix('-').unwrap_or("");
    let hex = !hash.is_empty() && hash.bytes().all(|b| b.is_ascii_hexdigit());
    // Where cargo would have written it, and nowhere else: a command line that names another
    // package's build directory is not cargo's.
    let plausible = match t.kind {
        TargetKind::BuildScript => {
            hex && out.rsplit_once('/').is_some_and(|(parent, unit)| {
                parent.ends_with("/build") && unit == format!("{}-{hash}", c.name)
            })
        }
        _ if out.is_empty() => true,
        _ => hex && (out.ends_with("/deps") || out.ends_with("/examples")),
    };
    if !plausible {
        return None;
    }
    if out.is_empty() {
        // rustdoc (doctests): the crate's name is what attribution needs; nothing compiled.
        return artifact(c, t, r.test, &[], None, true);
    }
    let (files, exe) = match t.kind {
        TargetKind::BuildScript => (
            vec![
                format!("{out}/build-script-build"),
                format!("{out}/{name}{extra}"),
            ],
            None,
        ),
        _ if r.test || r.crate_types.contains(&"bin") => {
            let file = format!("{out}/{name}{extra}");
            // Cargo runs a binary from the copy it puts beside `deps/`, named as the target.
            let exe = match out.strip_suffix("/deps") {
                Some(profile) if !r.test => format!("{profile}/{}", t.name),
                _ => file.clone(),
            };
            (vec![file], Some(exe))
        }
        TargetKind::ProcMacro => (vec![format!("{out}/lib{name}{extra}.so")], None),
        _ => (
            vec![
                format!("{out}/lib{name}{extra}.rlib"),
                format!("{out}/lib{name}{extra}.rmeta"),
            ],
            None,
        ),
    };
    artifact(c, t, r.test, &files, exe.as_deref(), false)
}

/// The one target of the graph `matches` picks, if exactly one package has it.
fn only(graph: &Graph, matches: impl Fn(&Crate, &Target) -> bool) -> Option<(&Crate, &Target)> {
    let mut hits = graph
        .packages
        .iter()
        .filter_map(|c| c.targets.iter().find(|t| matches(c, t)).map(|t| (c, t)));
    let first = hits.next()?;
    hits.next().is_none().then_some(first)
}

/// `<name>-<hex hash>` → `name`.
fn hashed(base: &str) -> Option<&str> {
    let (name, hash) = base.rsplit_once('-')?;
    (!hash.is_empty() && hash.bytes().all(|b| b.is_ascii_hexdigit())).then_some(name)
}

/// The unit of a program cargo ran that no rustc of this job compiled.
fn program_unit(graph: &Graph, exe: &str) -> Option<Message> {
    let (dir, base) = exe.rsplit_once('/')?;
    let (parent, dir_name) = dir.rsplit_once('/')?;
    if base == "build-script-build" && parent.ends_with("/build") {
        let pkg = hashed(dir_name)?;
        let (c, t) = only(graph, |c, t| {
            c.name == pkg && t.kind == TargetKind::BuildScript
        })?;
        return artifact(c, t, false, &[exe.to_string()], None, true);
    }
    if dir_name == "deps" {
        let krate = hashed(base)?;
        let (c, t) = only(graph, |_, t| {
            t.kind != TargetKind::BuildScript
                && t.kind != TargetKind::ProcMacro
                && crate_name(t) == krate
        })?;
        return artifact(c, t, true, &[exe.to_string()], Some(exe), true);
    }
    let (c, t) = only(graph, |_, t| t.kind == TargetKind::Binary && t.name == base)?;
    artifact(c, t, false, &[exe.to_string()], Some(exe), true)
}

/// The `build/<name>-<hash>/out` directories beside a build script's own directory.
fn out_dirs(build_dir: &Path, name: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(build_dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            let n = e.file_name();
            n.to_str().and_then(hashed) == Some(name)
        })
        .map(|e| e.path().join("out"))
        .filter(|p| p.is_dir())
        .map(|p| crate::events::text::from_os(p.as_os_str()))
        .collect();
    dirs.sort();
    dirs
}

/// Programs cargo ran from a target directory (`dirs`) that none of `messages` names: code of
/// some crate of the build, which attribution could only give to cargo.
pub fn unnamed(seen: &Observed, messages: &[Message], dirs: &[&Path]) -> Vec<String> {
    seen.programs
        .iter()
        .filter(|p| dirs.iter().any(|d| Path::new(p).starts_with(d)))
        .filter(|p| {
            !messages.iter().any(|m| match m {
                Message::CompilerArtifact(a) => {
                    a.filenames.iter().any(|f| f.as_str() == p.as_str())
                        || a.executable
                            .as_ref()
                            .is_some_and(|e| e.as_str() == p.as_str())
                }
                _ => false,
            })
        })
        .cloned()
        .collect()
}

/// The messages cargo would have printed for what `seen` shows it ran.
pub fn messages(graph: &Graph, seen: &Observed) -> Vec<Message> {
    let lines: Vec<Rustc<'_>> = seen.rustc.iter().filter_map(|argv| parse(argv)).collect();
    let mut out: Vec<Message> = lines.iter().filter_map(|r| unit(graph, r)).collect();
    let named = |m: &Message, exe: &str| match m {
        Message::CompilerArtifact(a) => {
            a.filenames.iter().any(|f| f.as_str() == exe)
                || a.executable.as_ref().is_some_and(|e| e.as_str() == exe)
        }
        _ => false,
    };
    // Proc macros a compiler loaded that no rustc of this job built (a cached target dir).
    for (krate, lib) in lines.iter().flat_map(|r| r.externs.iter()) {
        if lib.ends_with(".so")
            && lib.contains("/deps/")
            && !out.iter().any(|m| named(m, lib))
            && let Some((c, t)) = only(graph, |_, t| {
                t.kind == TargetKind::ProcMacro && crate_name(t) == *krate
            })
            && let Some(m) = artifact(c, t, false, &[lib.to_string()], None, true)
        {
            out.push(m);
        }
    }
    let mut ran_scripts: Vec<(String, String)> = Vec::new();
    for exe in &seen.programs {
        if !out.iter().any(|m| named(m, exe))
            && let Some(m) = program_unit(graph, exe)
        {
            out.push(m);
        }
        let Some(Message::CompilerArtifact(a)) = out.iter().find(|m| named(m, exe)) else {
            continue;
        };
        if a.target.is_custom_build() {
            let build = Path::new(exe).parent().and_then(Path::parent);
            let Some(pkg) = graph.packages.iter().find(|c| c.id == a.package_id.repr) else {
                continue;
            };
            for dir in build.map(|b| out_dirs(b, &pkg.name)).unwrap_or_default() {
                let run = (pkg.id.clone(), dir);
                if !ran_scripts.contains(&run) {
                    ran_scripts.push(run);
                }
            }
        }
    }
    for (id, out_dir) in ran_scripts {
        if let Ok(m) = serde_json::from_value(serde_json::json!({
            "reason": "build-script-executed", "package_id": id, "linked_libs": [],
            "linked_paths": [], "cfgs": [], "env": [], "out_dir": out_dir,
        })) {
            out.push(m);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cargo::messages::{Known, known};

    fn graph(root: &Path) -> Graph {
        let krate = |name: &str, dir: &Path, id: &str, targets: Vec<Target>| Crate {
            id: id.into(),
            name: name.into(),
            version: "1.0.0".into(),
            source: "registry+https://github.com/rust-lang/crates.io-index".into(),
            manifest_dir: dir.into(),
            targets,
        };
        let t = |name: &str, kind, src: PathBuf| Target {
            name: name.into(),
            kind,
            src_path: src,
        };
        use std::path::PathBuf;
        let app = root.join("app");
        let reg = PathBuf::from("/reg/sys-1.0.0");
        Graph {
            workspace_root: root.into(),
            target_dir: root.join("target"),
            packages: vec![
                krate(
                    "my-app",
                    &app,
                    &format!("path+file://{}#my-app@1.0.0", app.display()),
                    vec![
                        t("my-app", TargetKind::Binary, app.join("src/main.rs")),
                        t("my-app", TargetKind::Library, app.join("src/lib.rs")),
                    ],
                ),
                krate(
                    "sys",
                    &reg,
                    "registry+https://github.com/rust-lang/crates.io-index#sys@1.0.0",
                    vec![
                        t("sys", TargetKind::Library, reg.join("src/lib.rs")),
                        t(
                            "build-script-build",
                            TargetKind::BuildScript,
                            reg.join("build.rs"),
                        ),
                    ],
                ),
            ],
            deps: Default::default(),
        }
    }

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    /// (package, target kind, test profile, files, executable) of each unit.
    type UnitRow = (String, TargetKind, bool, Vec<String>, Option<String>);

    fn units(ms: &[Message]) -> Vec<UnitRow> {
        ms.iter()
            .filter_map(|m| match known(m) {
                Some(Known::Unit(u)) => Some((
                    u.package.name,
                    u.target,
                    u.test_profile,
                    u.filenames,
                    u.executable,
                )),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn rustc_command_lines_become_the_units_cargo_would_have_reported() {
        let ws = tempfile::tempdir().unwrap();
        let g = graph(ws.path());
        let t = format!("{}/target/debug", ws.path().display());
        let seen = Observed {
            rustc: vec![
                // A workspace member: its root relative to the workspace, as cargo passes it.
                argv(&format!(
                    "rustc --crate-name my_app --edition=2021 app/src/main.rs --error-format=json \
                     --crate-type bin -C metadata=aa -C extra-filename=-0a1b --out-dir {t}/deps \
                     -L dependency={t}/deps --extern sys={t}/deps/libsys-99.rlib"
                )),
                argv(&format!(
                    "rustc --crate-name my_app --edition=2021 app/src/lib.rs --test \
                     -C extra-filename=-2c3d --out-dir {t}/deps"
                )),
                argv(&format!(
                    "rustc --crate-name build_script_build --edition=2018 /reg/sys-1.0.0/build.rs \
                     --crate-type bin -C extra-filename=-4e5f --out-dir {t}/build/sys-4e5f"
                )),
                // Target probing, and a crate root no target of the graph has.
                argv("rustc - --crate-name ___ --print=file-names --crate-type bin"),
                argv(&format!(
                    "rustc --crate-name evil /tmp/evil.rs --crate-type lib --out-dir {t}/deps"
                )),
                // `sys`'s build script, said to be built where `my-app`'s would be.
                argv(&format!(
                    "rustc --crate-name build_script_build /reg/sys-1.0.0/build.rs --crate-type \
                     bin -C extra-filename=-4e5f --out-dir {t}/build/my-app-4e5f"
                )),
                // Doctests: rustdoc names the crate, and writes nothing cargo names.
                argv(
                    "rustdoc --edition=2021 --crate-type lib --color auto --crate-name my_app \
                     --test app/src/lib.rs -L dependency=/t/deps",
                ),
            ],
            programs: Vec::new(),
        };
        let got = units(&messages(&g, &seen));
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(
            (got[3].0.as_str(), got[3].1, got[3].3.len()),
            ("my-app", TargetKind::Library, 0)
        );
        assert_eq!(
            got[0],
            (
                "my-app".into(),
                TargetKind::Binary,
                false,
                vec![format!("{t}/deps/my_app-0a1b")],
                Some(format!("{t}/my-app"))
            )
        );
        assert_eq!(
            (got[1].1, got[1].2, got[1].4.clone()),
            (
                TargetKind::Library,
                true,
                Some(format!("{t}/deps/my_app-2c3d"))
            )
        );
        assert_eq!(got[2].0, "sys");
        assert_eq!(got[2].1, TargetKind::BuildScript);
        assert!(
            got[2]
                .3
                .contains(&format!("{t}/build/sys-4e5f/build-script-build"))
        );
    }

    #[test]
    fn programs_built_before_the_job_are_named_and_build_scripts_get_their_out_dirs() {
        let ws = tempfile::tempdir().unwrap();
        let g = graph(ws.path());
        let t = ws.path().join("target/debug");
        for d in [
            "build/sys-4e5f",
            "build/sys-77aa/out",
            "build/sysx-1234/out",
        ] {
            std::fs::create_dir_all(t.join(d)).unwrap();
        }
        let t = t.display().to_string();
        let seen = Observed {
            rustc: Vec::new(),
            programs: vec![
                format!("{t}/build/sys-4e5f/build-script-build"),
                format!("{t}/deps/my_app-2c3d"),
                format!("{t}/my-app"),
                // Nothing of the graph's.
                "/usr/bin/cc".into(),
                format!("{t}/deps/other-1234"),
            ],
        };
        let ms = messages(&g, &seen);
        let got = units(&ms);
        assert_eq!(
            got.iter().map(|u| (u.1, u.2)).collect::<Vec<_>>(),
            [
                (TargetKind::BuildScript, false),
                // A test harness of the package (which of its targets' does not matter).
                (TargetKind::Binary, true),
                (TargetKind::Binary, false)
            ]
        );
        // What no unit names, of the target directory: `other` (cc is not the build's).
        assert_eq!(
            unnamed(&seen, &ms, &[ws.path().join("target").as_path()]),
            [format!("{t}/deps/other-1234")]
        );
        let runs: Vec<String> = ms
            .iter()
            .filter_map(|m| match known(m) {
                Some(Known::ScriptRun(r)) => Some(format!("{}:{}", r.package.name, r.out_dir)),
                _ => None,
            })
            .collect();
        assert_eq!(runs, [format!("sys:{t}/build/sys-77aa/out")]);
    }
}
