//! Builds the eBPF probes (`tracer-ebpf`) for `bpfel-unknown-none` with the nightly pinned in
//! `tracer-ebpf/rust-toolchain.toml`, and hands the object to the crate as `TRACER_PROBES_OBJ`.
//! The probes are never compiled for the host. Set `TRACER_PROBES_OBJ` yourself to embed a
//! prebuilt object instead.

use std::{
    env,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, bail};

fn main() -> anyhow::Result<()> {
    println!("cargo:rerun-if-env-changed=TRACER_PROBES_OBJ");
    if let Ok(prebuilt) = env::var("TRACER_PROBES_OBJ") {
        println!("cargo:rustc-env=TRACER_PROBES_OBJ={prebuilt}");
        return Ok(());
    }
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let root = manifest
        .parent()
        .context("tracer-user has no parent directory")?;
    for watched in [
        "tracer-ebpf/src",
        "tracer-ebpf/Cargo.toml",
        "tracer-ebpf/rust-toolchain.toml",
        "tracer-common/src",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let toolchain = pinned_toolchain(&root.join("tracer-ebpf/rust-toolchain.toml"))?;
    let target_dir = root.join("target/ebpf");
    let mut cmd = Command::new("rustup");
    cmd.args([
        "run",
        &toolchain,
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
    .arg(&target_dir)
    .current_dir(root);
    // The outer cargo's variables describe the host build; the nested one must not see them.
    for (key, _) in env::vars_os() {
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
    let obj = target_dir.join("bpfel-unknown-none/release/tracer-probes");
    let out = PathBuf::from(env::var("OUT_DIR")?).join("tracer-probes.o");
    std::fs::copy(&obj, &out).with_context(|| format!("copying {}", obj.display()))?;
    println!("cargo:rustc-env=TRACER_PROBES_OBJ={}", out.display());
    Ok(())
}

/// The `channel = "…"` of a rust-toolchain.toml.
fn pinned_toolchain(path: &Path) -> anyhow::Result<String> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("channel"))
        .filter_map(|rest| rest.trim().strip_prefix('='))
        .map(|v| v.trim().trim_matches('"').to_string())
        .next()
        .with_context(|| format!("{} has no `channel = \"…\"` line", path.display()))
}
