//! `cargo install` of the packaged crate with stable Rust alone: the release step puts the
//! probe object in `prebuilt/` (as `cargo xtask probes` does), `cargo package` carries it, and
//! the unpacked package installs offline in a clean `CARGO_HOME` with a `PATH` that has the
//! stable toolchain's cargo and rustc but no rustup, no nightly and no bpf-linker — and the
//! installed binary traces a build. A package whose object is not the one its digests name is
//! refused by its build script. Tracing needs root.

#[path = "../build/probes.rs"]
mod probes;

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use tracer_test_support::{Output, run, run_ok, sandbox::copy_dir};

/// The probe object this crate was built with (from these sources).
const OBJECT: &str = env!("TRACER_PROBES_OBJ");

fn repo() -> PathBuf {
    tracer_test_support::repo()
}

fn real_cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cargo"))
}

/// The stable toolchain's own binaries (no rustup proxy), with the system's: no nightly, no
/// bpf-linker.
fn stable_only_path(dir: &Path) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["cargo", "rustc"] {
        let out = run_ok(Command::new("rustup").args(["which", tool]));
        std::os::unix::fs::symlink(out.stdout.trim(), bin.join(tool)).unwrap();
    }
    format!("{}:/usr/bin:/bin", bin.display())
}

/// A copy of the parts of the workspace `cargo package` reads, with the release step's
/// prebuilt object in it.
fn release_tree(dir: &Path) -> PathBuf {
    let tree = dir.join("src");
    for d in [
        "tracer-common",
        "tracer-user",
        "tracer-ebpf",
        "test-support",
        "policies",
    ] {
        copy_dir(&repo().join(d), &tree.join(d));
    }
    for f in ["Cargo.lock", "rust-toolchain.toml"] {
        std::fs::copy(repo().join(f), tree.join(f)).unwrap();
    }
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let manifest = manifest
        .lines()
        .map(|l| {
            if l.starts_with("members =") {
                r#"members = ["tracer-common", "tracer-user", "tracer-ebpf", "test-support"]"#
            } else if l.starts_with("default-members =") {
                r#"default-members = ["tracer-common", "tracer-user", "test-support"]"#
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(tree.join("Cargo.toml"), manifest).unwrap();
    let prebuilt = tree.join("tracer-user").join(probes::PREBUILT_DIR);
    let _ = std::fs::remove_dir_all(&prebuilt);
    std::fs::create_dir_all(&prebuilt).unwrap();
    let bytes = std::fs::read(OBJECT).unwrap();
    std::fs::write(prebuilt.join(probes::PREBUILT_OBJ), &bytes).unwrap();
    let sources = probes::sources_digest(&tree).unwrap();
    std::fs::write(
        prebuilt.join(probes::PREBUILT_SUMS),
        probes::sums(&sources, &bytes),
    )
    .unwrap();
    tree
}

/// Unpacks a `.crate` into `dir`; the package's directory.
fn unpack(krate: &Path, dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    run_ok(Command::new("tar").arg("xzf").arg(krate).arg("-C").arg(dir));
    let name = krate.file_name().unwrap().to_str().unwrap();
    dir.join(name.strip_suffix(".crate").unwrap())
}

/// A directory source with every registry package the lock file names, from the `.crate`
/// files already downloaded (read only) and the packaged ones.
fn vendor(lock: &Path, packaged: &[PathBuf], dir: &Path) {
    let text = std::fs::read_to_string(lock).unwrap();
    let root = toml_span::parse(&text).unwrap();
    let field = |t: &toml_span::value::Table<'_>, key: &str| {
        t.iter()
            .find(|(k, _)| k.name == key)
            .and_then(|(_, v)| v.as_str().map(str::to_string))
    };
    let cache = real_cargo_home().join("registry/cache");
    let caches: Vec<PathBuf> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let packages = root
        .as_table()
        .and_then(|t| t.iter().find(|(k, _)| k.name == "package"))
        .and_then(|(_, v)| v.as_array())
        .unwrap();
    for p in packages.iter().filter_map(|p| p.as_table()) {
        let (Some(name), Some(version), Some(sum)) =
            (field(p, "name"), field(p, "version"), field(p, "checksum"))
        else {
            continue;
        };
        let file = format!("{name}-{version}.crate");
        let krate = packaged
            .iter()
            .find(|k| k.file_name().is_some_and(|f| f == file.as_str()))
            .cloned()
            .or_else(|| caches.iter().map(|c| c.join(&file)).find(|k| k.is_file()))
            .unwrap_or_else(|| panic!("{file} is not in {}", cache.display()));
        let at = unpack(&krate, dir);
        std::fs::write(
            at.join(".cargo-checksum.json"),
            format!(r#"{{"files":{{}},"package":"{sum}"}}"#),
        )
        .unwrap();
    }
}

/// `cargo <args>` offline, in a clean `CARGO_HOME`, from the vendored sources, with the
/// stable toolchain only.
fn stable_cargo(dir: &Path, vendored: &Path, path: &str) -> Command {
    let mut c = Command::new(dir.join("bin/cargo"));
    c.env_clear()
        .env("PATH", path)
        .env("HOME", dir.join("home"))
        .env("CARGO_HOME", dir.join("cargo-home"))
        .env("TMPDIR", std::env::temp_dir())
        .arg("--config")
        .arg("source.crates-io.replace-with='vendored'")
        .arg("--config")
        .arg(format!(
            "source.vendored.directory='{}'",
            vendored.display()
        ));
    c
}

fn the_packaged_crate_installs_and_traces_without_the_bpf_toolchain() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    std::fs::create_dir_all(dir.join("home")).unwrap();
    let path = stable_only_path(dir);
    // Nothing of the probes' toolchain is reachable.
    for tool in ["rustup", "bpf-linker"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .env("PATH", &path)
            .output()
            .unwrap();
        assert!(!found.status.success(), "{tool} is on the test's PATH");
    }

    let tree = release_tree(dir);
    let pkg = dir.join("pkg");
    run_ok(
        Command::new("cargo")
            .current_dir(&tree)
            .args([
                "package",
                "-p",
                "tracer-common",
                "-p",
                "cargo-tracer",
                "--no-verify",
                "--allow-dirty",
                "--offline",
                "--target-dir",
            ])
            .arg(&pkg),
    );
    let crates: Vec<PathBuf> = ["tracer-common", "cargo-tracer"]
        .iter()
        .map(|n| pkg.join(format!("package/{n}-0.1.0.crate")))
        .collect();
    let unpacked = unpack(&crates[1], &dir.join("unpacked"));
    assert!(unpacked.join("prebuilt/tracer-probes.o").is_file());
    let vendored = dir.join("vendor");
    vendor(&unpacked.join("Cargo.lock"), &crates, &vendored);

    // A package whose object is not the one its digests file names is refused.
    let tampered = dir.join("tampered");
    copy_dir(&unpacked, &tampered);
    let obj = tampered.join("prebuilt/tracer-probes.o");
    let mut bytes = std::fs::read(&obj).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&obj, bytes).unwrap();
    let refused: Output = run(stable_cargo(dir, &vendored, &path)
        .current_dir(&tampered)
        .args(["check", "--offline", "--locked"]));
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("is not the object") && refused.stderr.contains("refusing it"),
        "{}",
        refused.stderr
    );

    // The real package installs with stable Rust alone, from the object it carries.
    let installed = run(stable_cargo(dir, &vendored, &path)
        .args(["install", "--offline", "--locked", "--debug", "--root"])
        .arg(dir.join("inst"))
        .arg("--path")
        .arg(&unpacked));
    assert_eq!(installed.code, 0, "{}", installed.stderr);
    assert!(
        installed.stderr.contains("using the prebuilt eBPF probes"),
        "{}",
        installed.stderr
    );

    // And traces a build: a workspace of one crate, built by the installed cargo-tracer.
    let ws = dir.join("ws");
    std::fs::create_dir_all(ws.join("src")).unwrap();
    std::fs::write(
        ws.join("Cargo.toml"),
        "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(ws.join("src/lib.rs"), "pub fn f() {}\n").unwrap();
    let mut c = stable_cargo(dir, &vendored, &path);
    c.current_dir(&ws)
        .env("PATH", format!("{}:{path}", dir.join("inst/bin").display()))
        .args([
            "tracer",
            "build",
            "--offline",
            "--no-scan",
            "--format",
            "json",
        ]);
    let out = run(&mut c);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["complete"], true, "{}", out.stderr);
    assert!(v["events"].as_u64().unwrap() > 100, "{}", out.stdout);
    assert!(
        v["crates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "tiny"),
        "{}",
        out.stdout
    );
}

fn main() {
    tracer_test_support::harness::main(vec![tracer_test_support::harness::root(
        "the_packaged_crate_installs_and_traces_without_the_bpf_toolchain",
        the_packaged_crate_installs_and_traces_without_the_bpf_toolchain,
    )]);
}
