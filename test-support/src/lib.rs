//! What cargo-tracer's tests share. Nothing here knows cargo-tracer's types: it sets up the
//! world a test traces (a fixture workspace in a temp dir with a fake `HOME` and a private
//! `CARGO_HOME`, never the real ones), runs commands, and reports tests that need root as
//! skipped — not passed — where they cannot run.

pub mod actions;
pub mod dns;
pub mod harness;
pub mod sandbox;
pub mod sarif;

pub use dns::{DnsStub, with_private_resolver};
pub use sandbox::{Output, Sandbox, run, run_ok};

/// The repository's root directory.
pub fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("test-support lives in the repository")
        .to_path_buf()
}

/// Whether this process may load the probes (root). In CI, where the tests run as root, not
/// being root is a failure, never a silent skip.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    assert!(
        root || std::env::var_os("CI").is_none(),
        "the real-probe tests must run as root in CI"
    );
    root
}
