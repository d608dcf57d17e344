//! Builds the eBPF probes (`tracer-ebpf`) for `bpfel-unknown-none` with the nightly pinned in
//! `tracer-ebpf/rust-toolchain.toml`, and hands the object to the crate as `TRACER_PROBES_OBJ`.
//! The probes are never compiled for the host.
//!
//! Without that toolchain (a user's `cargo install cargo-tracer` with stable Rust only), the
//! object the packaged crate carries (`prebuilt/`, made by `cargo xtask probes`) is used
//! instead — if it is the object its digests file names, and, in a checkout where the probe
//! sources are, only if it was built from exactly these sources: a stale object is refused.
//! Set `TRACER_PROBES_OBJ` yourself to embed another prebuilt object.

#[path = "build/probes.rs"]
mod probes;

use std::{env, path::PathBuf};

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
    let prebuilt = manifest.join(probes::PREBUILT_DIR);
    println!("cargo:rerun-if-changed={}", prebuilt.display());
    let sources_here = root.join("tracer-ebpf/Cargo.toml").is_file();
    let out = PathBuf::from(env::var("OUT_DIR")?).join("tracer-probes.o");
    if sources_here {
        for watched in [
            "tracer-ebpf/src",
            "tracer-ebpf/Cargo.toml",
            "tracer-ebpf/rust-toolchain.toml",
            "tracer-common/src",
            "tracer-common/Cargo.toml",
        ] {
            println!("cargo:rerun-if-changed={}", root.join(watched).display());
        }
        let toolchain = probes::pinned_toolchain(&root.join("tracer-ebpf/rust-toolchain.toml"))?;
        if probes::toolchain_present(&toolchain) || !prebuilt.join(probes::PREBUILT_OBJ).is_file() {
            let obj = probes::build(root, &toolchain, &root.join("target/ebpf"))?;
            std::fs::copy(&obj, &out).with_context(|| format!("copying {}", obj.display()))?;
            println!("cargo:rustc-env=TRACER_PROBES_OBJ={}", out.display());
            return Ok(());
        }
    }
    let (sources, object) = read_prebuilt(&prebuilt)?;
    if sources_here {
        let now = probes::sources_digest(root)?;
        if now != sources {
            bail!(
                "{} was built from other probe sources than these (sources sha256 {sources}, \
                 these {now}): build the probes from source (scripts/setup.sh installs their \
                 toolchain) or run `cargo xtask probes` where it is installed",
                prebuilt.join(probes::PREBUILT_OBJ).display()
            );
        }
    }
    std::fs::write(&out, &object).with_context(|| format!("writing {}", out.display()))?;
    println!("cargo:rustc-env=TRACER_PROBES_OBJ={}", out.display());
    println!(
        "cargo:warning=using the prebuilt eBPF probes ({}): the BPF toolchain is not installed",
        prebuilt.join(probes::PREBUILT_OBJ).display()
    );
    Ok(())
}

/// The prebuilt object, checked against its digests file: (sources digest, object bytes).
fn read_prebuilt(dir: &std::path::Path) -> anyhow::Result<(String, Vec<u8>)> {
    let obj_path = dir.join(probes::PREBUILT_OBJ);
    let sums_path = dir.join(probes::PREBUILT_SUMS);
    let object = std::fs::read(&obj_path).with_context(|| {
        format!(
            "reading {}: without the BPF toolchain (bpf-linker and the pinned nightly), the \
             probes come from the object a packaged cargo-tracer carries; install the \
             toolchain (scripts/setup.sh) to build them from source",
            obj_path.display()
        )
    })?;
    let text = std::fs::read_to_string(&sums_path)
        .with_context(|| format!("reading {}", sums_path.display()))?;
    let (sources, digest) = probes::parse_sums(&text)
        .with_context(|| format!("{} is not a digests file", sums_path.display()))?;
    if probes::sha256_hex(&object) != digest {
        bail!(
            "{} is not the object {} names (sha256 differs): refusing it",
            obj_path.display(),
            sums_path.display()
        );
    }
    Ok((sources, object))
}
