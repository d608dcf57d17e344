//! A benign build script: asks rustc its version and writes a file into OUT_DIR.
fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let v = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let out = std::env::var("OUT_DIR").unwrap();
    std::fs::write(
        format!("{out}/built.rs"),
        format!("pub const BUILT_WITH: &str = {v:?};\n"),
    )
    .unwrap();
    println!("cargo:rerun-if-changed=build.rs");
}
