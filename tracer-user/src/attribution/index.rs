//! An index of the build's units from cargo's messages: which executable, build directory,
//! compiled unit and proc-macro library belongs to which package.
//!
//! Cargo's stdout can be written to by the build (a build script can open `/proc/<cargo>/fd/1`),
//! so a message may be forged. The first message to name a file keeps it (cargo reports a unit
//! before it runs it), and a later message naming it for another package is kept as a
//! [`Conflict`]: the judge treats the trace as untrustworthy.

use std::collections::{BTreeMap, HashMap};

use cargo_metadata::Message;

use crate::{
    cargo::messages::{self, Known},
    model::{Package, Phase, TargetKind},
};

/// Everything attribution looks up, built once from all of a build's messages.
#[derive(Debug, Default)]
pub struct Index {
    pub packages: Vec<Package>,
    by_id: HashMap<String, usize>,
    /// Build-script, test and bin executables.
    exes: HashMap<String, (usize, Phase)>,
    /// `…/build/<pkg>-<hash>` directories of build scripts.
    build_dirs: HashMap<String, usize>,
    /// `(crate name, unit hash)` of every compiled unit.
    units: HashMap<UnitKey, usize>,
    /// Crate name → packages (for rustc command lines cut before `extra-filename`).
    crate_names: HashMap<String, Vec<usize>>,
    /// Proc-macro dylibs.
    pub proc_macros: HashMap<String, usize>,
    /// Packages cargo compiled a proc-macro target of.
    proc_macro_packages: std::collections::HashSet<usize>,
    /// `OUT_DIR`s of each package's build script runs.
    pub out_dirs: BTreeMap<usize, Vec<String>>,
    /// Packages with a build script, and whether cargo reported its compilation fresh.
    pub build_scripts: BTreeMap<usize, bool>,
    /// Packages cargo compiled a unit of in this build (an artifact not reported fresh).
    pub compiled: std::collections::BTreeSet<usize>,
    /// Package manifest directories.
    pub manifest_dirs: BTreeMap<usize, String>,
    /// Crate root source files (`src/lib.rs`…) of every target.
    src_paths: HashMap<String, usize>,
    /// Whose source files are under which directory, built on first use (after the messages).
    source_dirs: std::sync::OnceLock<HashMap<String, Option<usize>>>,
    /// Crates (by package name) that do I/O on behalf of their callers: on a stack, the
    /// caller is responsible (`attribution::runtime`). Set from the policy.
    pub mechanisms: std::collections::HashSet<String>,
    /// Files two messages gave to different packages.
    pub conflicts: Vec<Conflict>,
    /// Directories a message gave a package that cargo's layout rules out (an `OUT_DIR`
    /// outside `…/build/<package>-<hash>/out`, a second manifest directory): forged, since they
    /// decide what is routine.
    pub implausible: Vec<Implausible>,
}

/// A directory no genuine message of cargo's would give the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Implausible {
    pub package: usize,
    /// `out_dir` or `manifest_path`.
    pub what: &'static str,
    pub value: String,
}

/// Whether `dir` is where cargo puts a build script's `OUT_DIR` for package `name`:
/// `…/build/<name>-<hash>/out`.
fn plausible_out_dir(dir: &str, name: &str) -> bool {
    let mut parts = dir.rsplit('/');
    let (Some("out"), Some(unit), Some("build")) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    unit.strip_prefix(name)
        .and_then(|r| r.strip_prefix('-'))
        .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()))
        && !dir.split('/').any(|p| p == "..")
}

/// Two of cargo's messages disagree about whose a file is: one of them was forged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub file: String,
    /// The package the first message named (kept), and the other.
    pub first: usize,
    pub second: usize,
}

/// A value that belongs to a package.
trait Owned: Copy {
    fn package(self) -> usize;
}

impl Owned for usize {
    fn package(self) -> usize {
        self
    }
}

impl Owned for (usize, Phase) {
    fn package(self) -> usize {
        self.0
    }
}

/// Inserts `key → v` unless `key` is taken; another package for it is a conflict.
fn claim<K: std::hash::Hash + Eq + std::fmt::Display, V: Owned>(
    map: &mut HashMap<K, V>,
    key: K,
    v: V,
    conflicts: &mut Vec<Conflict>,
) {
    match map.get(&key) {
        None => {
            map.insert(key, v);
        }
        Some(&q) if q.package() == v.package() => {}
        Some(&q) => conflicts.push(Conflict {
            file: key.to_string(),
            first: q.package(),
            second: v.package(),
        }),
    }
}

/// A unit key, shown as `crate-hash`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct UnitKey(String, String);

impl std::fmt::Display for UnitKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.0, self.1)
    }
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

pub fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

impl Index {
    /// Builds the index from cargo's messages, in any order.
    pub fn from_messages<'a>(msgs: impl IntoIterator<Item = &'a Message>) -> Self {
        let mut ix = Self::default();
        for m in msgs {
            match messages::known(m) {
                Some(Known::Unit(u)) => ix.add_unit(u),
                Some(Known::ScriptRun(b)) => {
                    let p = ix.package(&b.package);
                    if !plausible_out_dir(&b.out_dir, &b.package.name) {
                        ix.implausible.push(Implausible {
                            package: p,
                            what: "out_dir",
                            value: b.out_dir,
                        });
                        continue;
                    }
                    let dirs = ix.out_dirs.entry(p).or_default();
                    if !dirs.contains(&b.out_dir) {
                        dirs.push(b.out_dir);
                    }
                }
                None => {}
            }
        }
        ix
    }

    fn add_unit(&mut self, u: messages::Unit) {
        let p = self.package(&u.package);
        if let Some(m) = u.manifest_dir {
            match self.manifest_dirs.get(&p) {
                None => {
                    self.manifest_dirs.insert(p, m);
                }
                Some(known) if *known == m => {}
                Some(_) => self.implausible.push(Implausible {
                    package: p,
                    what: "manifest_path",
                    value: m,
                }),
            }
        }
        claim(&mut self.src_paths, u.src_path, p, &mut self.conflicts);
        if !u.fresh {
            self.compiled.insert(p);
        }
        for f in &u.filenames {
            if let Some(h) = messages::unit_hash(f) {
                let key = UnitKey(u.crate_name.clone(), h.to_string());
                claim(&mut self.units, key, p, &mut self.conflicts);
            }
        }
        let names = self.crate_names.entry(u.crate_name.clone()).or_default();
        if !names.contains(&p) {
            names.push(p);
        }
        match u.target {
            TargetKind::BuildScript => {
                self.build_scripts.insert(p, u.fresh);
                for f in &u.filenames {
                    claim(
                        &mut self.exes,
                        f.clone(),
                        (p, Phase::BuildScript),
                        &mut self.conflicts,
                    );
                    let dir = parent(f);
                    claim(
                        &mut self.build_dirs,
                        dir.to_string(),
                        p,
                        &mut self.conflicts,
                    );
                    // rustc names the build script unit after its directory's hash.
                    if let Some(h) = messages::unit_hash(dir) {
                        let key = UnitKey("build_script_build".into(), h.to_string());
                        claim(&mut self.units, key, p, &mut self.conflicts);
                    }
                }
            }
            TargetKind::ProcMacro => {
                self.proc_macro_packages.insert(p);
                for f in u.filenames.iter().filter(|f| f.ends_with(".so")) {
                    claim(&mut self.proc_macros, f.clone(), p, &mut self.conflicts);
                }
            }
            // A test harness (of a test, a bench, or the library's unit tests).
            _ if u.test_profile => {
                if let Some(e) = u.executable {
                    claim(&mut self.exes, e, (p, Phase::Test), &mut self.conflicts);
                }
            }
            TargetKind::Binary => {
                if let Some(e) = u.executable {
                    claim(&mut self.exes, e, (p, Phase::Run), &mut self.conflicts);
                }
            }
            TargetKind::Library | TargetKind::Test => {}
        }
    }

    fn package(&mut self, p: &Package) -> usize {
        if let Some(&i) = self.by_id.get(&p.id) {
            return i;
        }
        self.packages.push(p.clone());
        self.by_id.insert(p.id.clone(), self.packages.len() - 1);
        self.packages.len() - 1
    }

    /// The package and phase a freshly exec'd program belongs to by itself, if any.
    pub fn classify(&self, exe: &str, argv: &[String]) -> Option<(usize, Phase)> {
        if let Some(&hit) = self.exes.get(exe) {
            return Some(hit);
        }
        let base = basename(exe);
        if base == "build-script-build" || base.starts_with("build_script_build-") {
            return self
                .build_dirs
                .get(parent(exe))
                .map(|&p| (p, Phase::BuildScript));
        }
        let crate_name = flag_value(argv, "--crate-name")?;
        if base.starts_with("rustc") || base.starts_with("clippy-driver") {
            let by_hash = codegen_values(argv)
                .filter_map(|v| v.strip_prefix("extra-filename=-"))
                .find_map(|h| {
                    self.units
                        .get(&UnitKey(crate_name.to_string(), h.to_string()))
                });
            return by_hash
                .copied()
                .or_else(|| self.by_source(argv))
                .or_else(|| self.unique(crate_name))
                .map(|p| (p, Phase::Compile));
        }
        if base.starts_with("rustdoc") {
            return self.unique(crate_name).map(|p| (p, Phase::Test));
        }
        None
    }

    /// Directories of package `p`'s build-script binaries.
    pub fn build_dirs_of(&self, p: usize) -> impl Iterator<Item = &str> {
        self.build_dirs
            .iter()
            .filter(move |(_, q)| **q == p)
            .map(|(d, _)| d.as_str())
    }

    /// The package whose crate root rustc was given (absolute, or relative to the workspace).
    fn by_source(&self, argv: &[String]) -> Option<usize> {
        let src = argv
            .iter()
            .find(|a| a.ends_with(".rs") && !a.starts_with('-'))?;
        if let Some(&p) = self.src_paths.get(src.as_str()) {
            return Some(p);
        }
        let suffix = format!("/{}", src.trim_start_matches("./"));
        let mut hits = self
            .src_paths
            .iter()
            .filter(|(s, _)| s.ends_with(&suffix))
            .map(|(_, p)| *p);
        let first = hits.next()?;
        hits.all(|p| p == first).then_some(first)
    }

    /// The package of a proc-macro library at `path`: cargo's own path for it, or the
    /// `lib<crate>-<hash>.so` name rustc gave it in `deps/` (cargo reports only the uplifted
    /// copy), matched against the units seen.
    pub fn proc_macro_package(
        &self,
        path: &str,
        learned: &HashMap<(String, String), usize>,
    ) -> Option<usize> {
        if let Some(&p) = self.proc_macros.get(path) {
            return Some(p);
        }
        let stem = basename(path).strip_prefix("lib")?.strip_suffix(".so")?;
        let (name, hash) = stem.rsplit_once('-')?;
        let key = (name.to_string(), hash.to_string());
        learned
            .get(&key)
            .or_else(|| self.units.get(&UnitKey(key.0.clone(), key.1.clone())))
            .copied()
            // Only a package with a proc-macro target has proc-macro code to blame.
            .filter(|p| self.proc_macro_packages.contains(p))
    }

    /// The package whose sources `file` is in: the package whose `OUT_DIR` holds it (code a
    /// build script generated), else the deepest manifest directory above it (a path
    /// dependency inside the workspace is not the workspace's). A file elsewhere in a build
    /// directory is nobody's, though the target directory is inside the workspace's.
    pub fn package_of_source(&self, file: &str) -> Option<usize> {
        let dirs = self.source_dirs.get_or_init(|| self.build_source_dirs());
        // Directories above the file, deepest first: one lookup each, not a scan of every
        // package (this runs for each frame of each stack).
        let mut end = file.len();
        while let Some(i) = file[..end].rfind('/') {
            if i == 0 {
                break;
            }
            if let Some(&owner) = dirs.get(&file[..i]) {
                return owner;
            }
            end = i;
        }
        None
    }

    /// Directory → whose files under it are: a package's `OUT_DIR` and manifest directory
    /// are its, a build directory (`…/build`, which holds every `OUT_DIR`) nobody's.
    fn build_source_dirs(&self) -> HashMap<String, Option<usize>> {
        let mut dirs: HashMap<String, Option<usize>> = HashMap::new();
        for (&p, d) in &self.manifest_dirs {
            dirs.insert(d.trim_end_matches('/').to_string(), Some(p));
        }
        for d in self.out_dirs.values().flatten() {
            if let Some((root, _)) = parent(d).rsplit_once('/')
                && !root.is_empty()
            {
                dirs.insert(root.to_string(), None);
            }
        }
        for (&p, ds) in &self.out_dirs {
            for d in ds {
                dirs.insert(d.trim_end_matches('/').to_string(), Some(p));
            }
        }
        dirs
    }

    /// Records that package `p` compiles a crate named `name` (as a unit message would).
    #[cfg(test)]
    pub fn add_crate_name(&mut self, name: &str, p: usize) {
        self.crate_names
            .entry(name.to_string())
            .or_default()
            .push(p);
    }

    /// The only package with crate name `name` (`None` when there are none or several).
    pub fn package_of_crate(&self, name: &str) -> Option<usize> {
        self.unique(name)
    }

    fn unique(&self, crate_name: &str) -> Option<usize> {
        match self.crate_names.get(crate_name).map(Vec::as_slice) {
            Some([only]) => Some(*only),
            _ => None,
        }
    }
}

/// The value after `flag` (`--crate-name foo`) or in `flag=value` form.
fn flag_value<'a>(argv: &'a [String], flag: &str) -> Option<&'a str> {
    let mut it = argv.iter();
    while let Some(a) = it.next() {
        if a == flag {
            return it.next().map(String::as_str);
        }
        if let Some(v) = a.strip_prefix(flag).and_then(|r| r.strip_prefix('=')) {
            return Some(v);
        }
    }
    None
}

/// `(crate name, extra-filename hash)` of a rustc command line.
pub fn unit_of(argv: &[String]) -> Option<(String, String)> {
    let name = flag_value(argv, "--crate-name")?;
    let hash = codegen_values(argv).find_map(|v| v.strip_prefix("extra-filename=-"))?;
    Some((name.to_string(), hash.to_string()))
}

/// Every `-C` value (`-C x=y` and `-Cx=y`).
fn codegen_values(argv: &[String]) -> impl Iterator<Item = &str> {
    argv.windows(2)
        .filter(|w| w[0] == "-C")
        .map(|w| w[1].as_str())
        .chain(
            argv.iter()
                .filter_map(|a| a.strip_prefix("-C").filter(|r| !r.is_empty())),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_index() -> Index {
        use crate::cargo::messages::fake::{artifact, build_script, script_run};
        let msgs = [
            build_script(
                "path+file:///w/t#0.3.1",
                "/tg/debug/build/t-24eb/build-script-build",
            ),
            script_run("path+file:///w/t#0.3.1", "/tg/debug/build/t-f415/out"),
            artifact(
                "path+file:///w/t#0.3.1",
                "lib",
                "t",
                false,
                &["/tg/debug/deps/libt-1908.rmeta"],
                None,
                false,
            ),
            artifact(
                "registry+https://x#dup@1.0.0",
                "lib",
                "dup",
                false,
                &["/tg/debug/deps/libdup-aaaa.rmeta"],
                None,
                false,
            ),
            artifact(
                "registry+https://x#dup@2.0.0",
                "lib",
                "dup",
                false,
                &["/tg/debug/deps/libdup-bbbb.rmeta"],
                None,
                false,
            ),
            artifact(
                "path+file:///w/m#1.0.2",
                "proc-macro",
                "m",
                false,
                &["/tg/debug/deps/libm-2f3f.so"],
                None,
                true,
            ),
        ];
        Index::from_messages(msgs.iter())
    }

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn build_scripts_and_their_compilation() {
        let ix = demo_index();
        let (p, ph) = ix
            .classify("/tg/debug/build/t-24eb/build-script-build", &[])
            .unwrap();
        assert_eq!(
            (ix.packages[p].key().to_string(), ph),
            ("t@0.3.1".to_string(), Phase::BuildScript)
        );
        assert_eq!(
            ix.out_dirs[&p],
            vec!["/tg/debug/build/t-f415/out".to_string()]
        );
        let rustc = argv(&[
            "rustc",
            "--crate-name",
            "build_script_build",
            "-C",
            "extra-filename=-24eb",
        ]);
        assert_eq!(
            ix.classify("/tc/bin/rustc", &rustc),
            Some((p, Phase::Compile))
        );
        assert_eq!(ix.manifest_dirs[&p], "/w/t");
    }

    #[test]
    fn two_versions_are_told_apart_by_unit_hash() {
        let ix = demo_index();
        let v1 = ix
            .classify(
                "/tc/bin/rustc",
                &argv(&["rustc", "--crate-name", "dup", "-Cextra-filename=-aaaa"]),
            )
            .unwrap()
            .0;
        let v2 = ix
            .classify(
                "/tc/bin/rustc",
                &argv(&["rustc", "--crate-name", "dup", "-C", "extra-filename=-bbbb"]),
            )
            .unwrap()
            .0;
        assert_eq!(ix.packages[v1].key().to_string(), "dup@1.0.0");
        assert_eq!(ix.packages[v2].key().to_string(), "dup@2.0.0");
        // Without the hash (argv cut short) an ambiguous name is not guessed.
        assert_eq!(
            ix.classify("/tc/bin/rustc", &argv(&["rustc", "--crate-name", "dup"])),
            None
        );
        let t = ix
            .classify("/tc/bin/rustc", &argv(&["rustc", "--crate-name", "t"]))
            .unwrap()
            .0;
        assert_eq!(ix.packages[t].key().to_string(), "t@0.3.1");
    }

    #[test]
    fn a_forged_message_cannot_take_a_file_from_its_package() {
        use crate::cargo::messages::fake::build_script;
        let script = "/tg/debug/build/t-24eb/build-script-build";
        let msgs = [
            build_script("path+file:///w/t#0.3.1", script),
            // Written into cargo's stdout by the build script itself, claiming a trusted crate.
            build_script("registry+https://x#vergen-gitcl@1.0.0", script),
        ];
        let ix = Index::from_messages(msgs.iter());
        let (p, _) = ix.classify(script, &[]).unwrap();
        assert_eq!(ix.packages[p].name, "t");
        assert!(!ix.conflicts.is_empty());
        assert!(
            ix.conflicts
                .iter()
                .all(|c| ix.packages[c.second].name == "vergen-gitcl"
                    && ix.packages[c.first].name == "t"),
            "{:?}",
            ix.conflicts
        );
        // A report of the same file again by its own package (a fresh unit) is no conflict.
        let again = [msgs[0].clone(), msgs[0].clone()];
        assert!(Index::from_messages(again.iter()).conflicts.is_empty());
    }

    #[test]
    fn directories_that_decide_what_is_routine_must_be_cargos() {
        use crate::cargo::messages::fake::{artifact, script_run};
        let id = "registry+https://x#t@1.0.0";
        let ok = "/tg/debug/build/t-f415aa/out";
        let msgs = [
            script_run(id, ok),
            script_run(id, "/home/u"),
            script_run(id, "/tg/debug/build/other-f415/out"),
            script_run(id, "/tg/debug/build/t-f415/../../../../home/u/out"),
            artifact(
                id,
                "lib",
                "t",
                false,
                &["/tg/debug/deps/libt-1.rmeta"],
                None,
                false,
            ),
        ];
        let ix = Index::from_messages(msgs.iter());
        assert_eq!(ix.out_dirs[&0], vec![ok.to_string()]);
        assert_eq!(ix.implausible.len(), 3, "{:?}", ix.implausible);
    }

    #[test]
    fn other_programs_are_not_classified() {
        let ix = demo_index();
        assert_eq!(ix.classify("/usr/bin/sh", &argv(&["sh", "-c", "x"])), None);
        assert_eq!(
            ix.packages[ix.proc_macros["/tg/debug/deps/libm-2f3f.so"]]
                .key()
                .to_string(),
            "m@1.0.2"
        );
    }
}
