//! Cargo's JSON messages (parsed by `cargo_metadata`), reduced to what attribution needs: which
//! package each compiled unit, build script run and test binary belongs to.

use cargo_metadata::Message;

use crate::model::{Package, TargetKind};

/// A compiled unit (`compiler-artifact`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub package: Package,
    pub target: TargetKind,
    /// Built with the test profile: a test harness (of a test, bench or the library).
    pub test_profile: bool,
    /// The target's crate name (`-` replaced by `_`, as rustc's `--crate-name`).
    pub crate_name: String,
    /// The crate root source file.
    pub src_path: String,
    /// The package's directory.
    pub manifest_dir: Option<String>,
    pub filenames: Vec<String>,
    pub executable: Option<String>,
    /// Cargo did not rebuild it (up to date from an earlier build).
    pub fresh: bool,
}

/// A build script run (`build-script-executed`, also sent for a script that did not need to
/// run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptRun {
    pub package: Package,
    pub out_dir: String,
}

/// The messages attribution uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Known {
    Unit(Unit),
    ScriptRun(ScriptRun),
}

/// What attribution takes from one message; `None` for messages it does not use.
pub fn known(m: &Message) -> Option<Known> {
    match m {
        Message::CompilerArtifact(a) => {
            let kinds: Vec<String> = a.target.kind.iter().map(|k| k.to_string()).collect();
            let manifest = a.manifest_path.as_str();
            Some(Known::Unit(Unit {
                package: Package::from_id(&a.package_id.repr)?,
                target: TargetKind::from_cargo(&kinds),
                test_profile: a.profile.test,
                crate_name: a.target.name.replace('-', "_"),
                src_path: a.target.src_path.to_string(),
                manifest_dir: (!manifest.is_empty())
                    .then(|| manifest.rsplit_once('/').map_or("", |(d, _)| d).to_string()),
                filenames: a.filenames.iter().map(|f| f.to_string()).collect(),
                executable: a.executable.as_ref().map(|e| e.to_string()),
                fresh: a.fresh,
            }))
        }
        Message::BuildScriptExecuted(b) => Some(Known::ScriptRun(ScriptRun {
            package: Package::from_id(&b.package_id.repr)?,
            out_dir: b.out_dir.to_string(),
        })),
        _ => None,
    }
}

/// Proc-macro libraries an artifact message announces (so their probes go in early).
pub fn proc_macro_libraries(m: &Message) -> impl Iterator<Item = &str> {
    let files = match m {
        Message::CompilerArtifact(a) if a.target.is_proc_macro() => &a.filenames[..],
        _ => &[],
    };
    files
        .iter()
        .map(|f| f.as_str())
        .filter(|f| f.ends_with(".so"))
}

/// Directories where cargo puts the programs it runs as tests or binaries, as an artifact
/// message shows them: `…/deps` of any unit (known long before a test runs from it) and the
/// directory of an executable (`target/debug`, `…/examples`). Processes running a program from
/// one get their stacks copied. A forged message can name another directory; that costs
/// copies, not attribution (which only looks at the stacks of tests and binaries cargo ran).
pub fn executable_dirs(m: &Message) -> Vec<&str> {
    fn parent(f: &str) -> Option<&str> {
        f.rsplit_once('/').map(|(d, _)| d).filter(|d| !d.is_empty())
    }
    let Message::CompilerArtifact(a) = m else {
        return Vec::new();
    };
    let mut dirs: Vec<&str> = a
        .filenames
        .iter()
        .filter_map(|f| parent(f.as_str()))
        .filter(|d| d.ends_with("/deps"))
        .collect();
    dirs.extend(a.executable.as_ref().and_then(|e| parent(e.as_str())));
    dirs.dedup();
    dirs
}

/// The `-<hash>` cargo appends to a unit's file names (`libfoo-0123abcd.rlib` → `0123abcd`).
pub fn unit_hash(file: &str) -> Option<&str> {
    let base = file.rsplit('/').next()?;
    let stem = base.split('.').next()?;
    let (_, hash) = stem.rsplit_once('-')?;
    (!hash.is_empty() && hash.chars().all(|c| c.is_ascii_hexdigit())).then_some(hash)
}

/// Test helpers: cargo's messages as cargo writes them, from the few fields a test cares about.
#[cfg(test)]
pub mod fake {
    use cargo_metadata::Message;

    /// A `compiler-artifact` message.
    pub fn artifact(
        id: &str,
        kind: &str,
        name: &str,
        test: bool,
        files: &[&str],
        executable: Option<&str>,
        fresh: bool,
    ) -> Message {
        let manifest = id
            .strip_prefix("path+file://")
            .and_then(|r| r.split('#').next())
            .map(|d| format!("{d}/Cargo.toml"))
            .unwrap_or_default();
        serde_json::from_value(serde_json::json!({
            "reason": "compiler-artifact", "package_id": id, "manifest_path": manifest,
            "target": {"kind": [kind], "crate_types": [kind], "name": name,
                       "src_path": format!("/src/{name}.rs"), "edition": "2024"},
            "profile": {"opt_level": "0", "debuginfo": 2, "debug_assertions": true,
                        "overflow_checks": true, "test": test},
            "features": [], "filenames": files, "executable": executable, "fresh": fresh,
        }))
        .unwrap()
    }

    /// The `compiler-artifact` of package `id`'s build script, compiled to `exe`.
    pub fn build_script(id: &str, exe: &str) -> Message {
        artifact(
            id,
            "custom-build",
            "build-script-build",
            false,
            &[exe],
            None,
            false,
        )
    }

    /// A `build-script-executed` message.
    pub fn script_run(id: &str, out_dir: &str) -> Message {
        serde_json::from_value(serde_json::json!({
            "reason": "build-script-executed", "package_id": id, "linked_libs": [],
            "linked_paths": [], "cfgs": [], "env": [], "out_dir": out_dir,
        }))
        .unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifacts_and_build_script_runs() {
        let m = fake::artifact(
            "path+file:///w/t#0.3.1",
            "custom-build",
            "build-script-build",
            false,
            &["/t/debug/build/t-24ebe067e63c0c71/build-script-build"],
            None,
            true,
        );
        let Some(Known::Unit(u)) = known(&m) else {
            panic!()
        };
        assert_eq!(u.target, TargetKind::BuildScript);
        assert_eq!(u.crate_name, "build_script_build");
        assert_eq!(u.manifest_dir.as_deref(), Some("/w/t"));
        assert!(u.fresh);
        let m = fake::artifact(
            "path+file:///w/app#demo-app@0.1.0",
            "bin",
            "demo-app",
            true,
            &["/t/debug/deps/demo_app-e152aafa70704885"],
            Some("/t/debug/deps/demo_app-e152aafa70704885"),
            false,
        );
        let Some(Known::Unit(u)) = known(&m) else {
            panic!()
        };
        assert_eq!(
            (u.target, u.test_profile, u.crate_name.as_str()),
            (TargetKind::Binary, true, "demo_app")
        );
        let m = fake::script_run("path+file:///w/t#0.3.1", "/t/debug/build/t-f415/out");
        assert!(
            matches!(known(&m), Some(Known::ScriptRun(b)) if b.out_dir == "/t/debug/build/t-f415/out")
        );
        let m: Message =
            serde_json::from_str(r#"{"reason":"build-finished","success":true}"#).unwrap();
        assert_eq!(known(&m), None);
    }

    #[test]
    fn unit_hashes() {
        assert_eq!(
            unit_hash("/t/deps/libquick_derive-2f3f781a0710025e.so"),
            Some("2f3f781a0710025e")
        );
        assert_eq!(
            unit_hash("/t/deps/libplain_util-aa38266d2f546a46.rmeta"),
            Some("aa38266d2f546a46")
        );
        assert_eq!(unit_hash("/t/debug/libplain_util.rlib"), None);
        assert_eq!(
            unit_hash("/t/deps/demo_app-e152aafa70704885"),
            Some("e152aafa70704885")
        );
    }
}
