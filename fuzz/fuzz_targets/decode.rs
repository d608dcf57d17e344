//! Arbitrary ring-buffer bytes: the decoder checks lengths before it reads, and whatever it
//! accepts becomes a record or a part of one (DNS payloads decoded, flags and paths interpreted) without panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracer::{events, trace::record};

fuzz_target!(|data: &[u8]| {
    if let Ok(e) = events::decode(data) {
        // Copied stacks and mappings are parts of other records, not records of their own.
        if let Some(rec) = record::build(1, &e, None, Vec::new()) {
            let _ = serde_json::to_string(&rec).unwrap();
        }
    }
});
