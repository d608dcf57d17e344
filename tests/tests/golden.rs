//! The golden traces still describe what the probes record: each case is recorded afresh with
//! the real probes (root) and must keep every behaviour, verdict and phase of the committed
//! recording. With `TRACER_GOLDEN_RECORD=1` (`cargo xtask golden`) the new recordings replace
//! the committed ones instead.

use tracer_test_support::harness;
use tracer_tests::golden::{self, CASES};

fn a_fresh_recording_matches_the_committed_one() {
    let record = std::env::var_os("TRACER_GOLDEN_RECORD").is_some();
    let mut problems = Vec::new();
    for case in CASES {
        if record {
            golden::record(case, &golden::committed_dir(case));
            continue;
        }
        let tmp = tempfile::tempdir().unwrap();
        golden::record(case, tmp.path());
        let fresh = golden::essentials(&golden::load(case, tmp.path(), false));
        let committed =
            golden::essentials(&golden::load(case, &golden::committed_dir(case), false));
        for gone in committed.difference(&fresh) {
            problems.push(format!("{}: no longer recorded: {gone}", case.name));
        }
        for new in fresh.difference(&committed) {
            problems.push(format!("{}: newly recorded: {new}", case.name));
        }
    }
    assert!(
        problems.is_empty(),
        "re-record with `cargo xtask golden` if the change is intended:\n{}",
        problems.join("\n")
    );
}

fn main() {
    // `cargo test` points the dynamic loader at this checkout's build directories; a traced
    // build would probe them, and the recording would depend on where the checkout is.
    // SAFETY: no other thread exists yet.
    unsafe { std::env::remove_var("LD_LIBRARY_PATH") };
    harness::main(tracer_test_support::tests![root: a_fresh_recording_matches_the_committed_one]);
}
