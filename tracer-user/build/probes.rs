//! Building the eBPF probes and naming the sources an object was built from: shared by the
//! build script (which builds them, or takes the prebuilt object a packaged crate carries) and
//! `cargo xtask probes` (the release step that makes that object). Included by `#[path]` in
//! both, so the two cannot disagree about what "the same sources" means.

#![allow(dead_code)] // Each includer uses its part.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

/// Where a packaged crate carries the object, and the digests that tie it to its sources.
pub const PREBUILT_DIR: &str = "prebuilt";
pub const PREBUILT_OBJ: &str = "tracer-probes.o";
pub const PREBUILT_SUMS: &str = "tracer-probes.sha256";

/// What the object is built from, relative to the workspace root (the lock file and the
/// workspace manifest too: they pick the versions of aya-ebpf and the build's settings).
const SOURCES: &[&str] = &[
    "tracer-ebpf/src",
    "tracer-ebpf/Cargo.toml",
    "tracer-ebpf/rust-toolchain.toml",
    "tracer-common/src",
    "tracer-common/Cargo.toml",
    "Cargo.toml",
    "Cargo.lock",
];

/// The `channel = "…"` of a rust-toolchain.toml.
pub fn pinned_toolchain(path: &Path) -> anyhow::Result<String> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("channel"))
        .filter_map(|rest| rest.trim().strip_prefix('='))
        .map(|v| v.trim().trim_matches('"').to_string())
        .next()
        .with_context(|| format!("{} has no `channel = \"…\"` line", path.display()))
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if dir.is_file() {
        out.push(dir.to_path_buf());
        return Ok(());
    }
    for e in std::fs::read_dir(dir)? {
        files_under(&e?.path(), out)?;
    }
    Ok(())
}

/// SHA-256 over every source file of the probes (path and contents, in path order).
pub fn sources_digest(root: &Path) -> anyhow::Result<String> {
    let mut files = Vec::new();
    for s in SOURCES {
        files_under(&root.join(s), &mut files)
            .with_context(|| format!("listing {}", root.join(s).display()))?;
    }
    files.sort();
    let mut h = Sha256::new();
    for f in &files {
        let rel = f.strip_prefix(root).unwrap_or(f);
        let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
        h.update(rel.to_string_lossy().as_bytes());
        h.update([0]);
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    Ok(hex(&h.finalize()))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The digests file: `<sources sha256>  sources` and `<object sha256>  tracer-probes.o`.
pub fn sums(sources: &str, object: &[u8]) -> String {
    format!(
        "{sources}  sources\n{}  {PREBUILT_OBJ}\n",
        sha256_hex(object)
    )
}

/// Reads a digests file back: (sources, object).
pub fn parse_sums(text: &str) -> Option<(String, String)> {
    let mut sources = None;
    let mut object = None;
    for line in text.lines() {
        match line.split_once("  ") {
            Some((d, "sources")) => sources = Some(d.to_string()),
            Some((d, PREBUILT_OBJ)) => object = Some(d.to_string()),
            _ => {}
        }
    }
    Some((sources?, object?))
}

/// Whether the probes' toolchain is here: rustup with the pinned nightly, and bpf-linker.
pub fn toolchain_present(toolchain: &str) -> bool {
    let ok = |c: &mut Command| c.output().is_ok_and(|o| o.status.success());
    ok(Command::new("rustup").args(["run", toolchain, "rustc", "--version"]))
        && ok(Command::new("bpf-linker").arg("--version"))
}

/// Builds the probes for `bpfel-unknown-none` with `toolchain` in `target_dir`; the object's
/// path.
pub fn build(root: &Path, toolchain: &str, target_dir: &Path) -> anyhow::Result<PathBuf> {
    let mut cmd = Command::new("rustup");
    cmd.args([
        "run",
        toolchain,
        "cargo",
        "build",
        "--package",
        "tracer-ebpf",
        "--release",
    ])
    .args([
        "--target",
        "bpfel-unknown-none",
        "-Z",
        "build-std=core",
        "--target-dir",
    ])
    .arg(target_dir)
    .current_dir(root);
    // An outer cargo's variables describe the host build; the nested one must not see them.
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        let outer = (k.starts_with("CARGO") && k != "CARGO_HOME" && k != "CARGO_NET_OFFLINE")
            || k.starts_with("RUSTC")
            || k.starts_with("RUSTUP_TOOLCHAIN")
            || k.starts_with("RUSTFLAGS")
            || matches!(
                k.as_ref(),
                "OUT_DIR"
                    | "TARGET"
                    | "HOST"
                    | "PROFILE"
                    | "OPT_LEVEL"
                    | "DEBUG"
                    | "NUM_JOBS"
                    | "RUSTDOC"
            );
        if outer {
            cmd.env_remove(&key);
        }
    }
    let status = cmd.status().with_context(|| {
        format!("running `rustup run {toolchain} cargo build` for the probes (is rustup installed? run scripts/setup.sh)")
    })?;
    if !status.success() {
        bail!(
            "building the eBPF probes with {toolchain} failed ({status}); scripts/setup.sh installs \
             the pinned nightly with rust-src and an LLVM-22 bpf-linker"
        );
    }
    Ok(target_dir.join("bpfel-unknown-none/release/tracer-probes"))
}
