//! Arbitrary lines as cargo's JSON messages: parsed by cargo_metadata, reduced to units, indexed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracer::{attribution::Index, cargo::messages};

fuzz_target!(|data: &[u8]| {
    let msgs: Vec<cargo_metadata::Message> = data
        .split(|&b| b == b'\n')
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect();
    for m in &msgs {
        let _ = messages::known(m);
        let _ = messages::proc_macro_libraries(m).count();
    }
    let ix = Index::from_messages(&msgs);
    let _ = ix.classify("/t/debug/build/x-1/build-script-build", &[]);
});
