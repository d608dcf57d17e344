//! Arbitrary datagrams as DNS queries: rejected with a reason, or decoded to names that print.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(q) = tracer::events::dns::decode_any(data) {
        for x in &q.questions {
            assert!(x.name.len() <= 4 * 255, "an escaped name stays bounded");
        }
    }
});
