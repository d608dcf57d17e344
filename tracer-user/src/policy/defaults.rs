//! The default policies shipped in `policies/`, built into the binary so they are always there.

/// Crates that do I/O on behalf of their callers: on a call's stack in a test or binary, the
/// crate that called them is responsible (a payload sending through `reqwest` is the
/// payload's), and they are listed in its chain. A policy adds more with `mechanisms = [...]`.
pub const MECHANISMS: &[&str] = &[
    // Async runtimes and event loops: their worker threads run everyone's futures.
    "tokio",
    "mio",
    "async-std",
    "async-io",
    "smol",
    "polling",
    "futures-executor",
    "rayon",
    "rayon-core",
    // HTTP clients and servers, sockets.
    "hyper",
    "hyper-util",
    "hyper-rustls",
    "hyper-tls",
    "tower",
    "tokio-util",
    "hickory-resolver",
    "trust-dns-resolver",
    "h2",
    "reqwest",
    "ureq",
    "isahc",
    "curl",
    "socket2",
    "tokio-rustls",
    "tokio-native-tls",
    // Files and processes on others' behalf.
    "tempfile",
    "fs-err",
    "walkdir",
    "ignore",
    "memmap2",
    "duct",
    "which",
];

/// `(crate, policy text)`.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("autocfg", include_str!("../../policies/autocfg.toml")),
    ("bindgen", include_str!("../../policies/bindgen.toml")),
    ("built", include_str!("../../policies/built.toml")),
    ("cc", include_str!("../../policies/cc.toml")),
    ("clang-sys", include_str!("../../policies/clang-sys.toml")),
    ("cmake", include_str!("../../policies/cmake.toml")),
    ("cxx-build", include_str!("../../policies/cxx-build.toml")),
    (
        "git-version-macro",
        include_str!("../../policies/git-version-macro.toml"),
    ),
    (
        "libgit2-sys",
        include_str!("../../policies/libgit2-sys.toml"),
    ),
    ("libz-sys", include_str!("../../policies/libz-sys.toml")),
    (
        "openssl-src",
        include_str!("../../policies/openssl-src.toml"),
    ),
    (
        "openssl-sys",
        include_str!("../../policies/openssl-sys.toml"),
    ),
    ("pkg-config", include_str!("../../policies/pkg-config.toml")),
    (
        "prost-build",
        include_str!("../../policies/prost-build.toml"),
    ),
    (
        "protoc-bin-vendored",
        include_str!("../../policies/protoc-bin-vendored.toml"),
    ),
    (
        "pyo3-build-config",
        include_str!("../../policies/pyo3-build-config.toml"),
    ),
    ("ring", include_str!("../../policies/ring.toml")),
    (
        "rust-embed-impl",
        include_str!("../../policies/rust-embed-impl.toml"),
    ),
    (
        "rustversion",
        include_str!("../../policies/rustversion.toml"),
    ),
    ("shadow-rs", include_str!("../../policies/shadow-rs.toml")),
    (
        "sqlx-macros",
        include_str!("../../policies/sqlx-macros.toml"),
    ),
    (
        "tikv-jemalloc-sys",
        include_str!("../../policies/tikv-jemalloc-sys.toml"),
    ),
    (
        "tonic-build",
        include_str!("../../policies/tonic-build.toml"),
    ),
    ("vergen", include_str!("../../policies/vergen.toml")),
    (
        "vergen-gitcl",
        include_str!("../../policies/vergen-gitcl.toml"),
    ),
    (
        "version_check",
        include_str!("../../policies/version_check.toml"),
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_shipped_policy_parses_and_names_its_crate() {
        for (name, text) in super::DEFAULTS {
            let p = crate::policy::config::parse(text, name, &[])
                .unwrap_or_else(|d| {
                    panic!(
                        "{name}: {}",
                        d.iter().map(|x| x.render(name, text)).collect::<String>()
                    )
                })
                .expect("a table");
            assert!(!p.rules.is_empty(), "{name} has no rules");
            assert!(
                p.rules
                    .iter()
                    .all(|r| r.krate == *name && !r.origin.reason.is_empty()),
                "{name}"
            );
        }
    }
}
