//! Re-records the golden traces with the real probes (root). With `TRACER_GOLDEN_RECORD=1`
//! (`cargo xtask golden`) the recordings replace the committed ones.

use tracer_tests::{golden, require_root};

const BIN: &str = env!("CARGO_BIN_EXE_tracer-testbin");

#[test]
fn golden_traces_can_be_recorded() {
    if !require_root() {
        return;
    }
    let record = std::env::var_os("TRACER_GOLDEN_RECORD").is_some();
    for case in golden::CASES {
        let tmp = tempfile::tempdir().unwrap();
        let out = if record {
            golden::committed_dir(case)
        } else {
            tmp.path().to_path_buf()
        };
        golden::record(case, BIN, &out);
    }
}
