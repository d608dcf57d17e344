//! Arbitrary `sockaddr` bytes: decoded within the bytes given, and displayed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let a = tracer::events::SockAddr::decode(data);
    let _ = a.display();
});
