//! Arbitrary ring-buffer bytes: the decoder checks lengths before it reads, and whatever it
//! accepts becomes a record (DNS payloads decoded, flags and paths interpreted) without panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracer::{events, trace::record};

fuzz_target!(|data: &[u8]| {
    if let Ok(e) = events::decode(data) {
        let rec = record::build(1, &e, None, Vec::new());
        let _ = serde_json::to_string(&rec).unwrap();
    }
});
