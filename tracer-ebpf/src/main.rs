//! cargo-tracer's kernel probes.
//!
//! Thin tracepoint programs: a shared syscall-entry probe remembers the arguments of the calls we
//! care about (by thread), one exit probe per syscall family turns them plus the result into one
//! event, and three scheduler raw tracepoints follow the process tree. Only processes in the
//! traced set (filled at fork time, in the kernel) are recorded unless the loader asks for
//! system-wide capture. Nothing here panics; every failure to record is counted.
#![no_std]
#![no_main]
#![feature(asm_experimental_arch)]

mod emit;
mod kernel;
mod maps;
mod probes;
mod scope;
mod user;

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    // The verifier rejects any reachable panic path, so this is never reached at run time.
    loop {}
}

#[unsafe(link_section = "license")]
#[unsafe(no_mangle)]
static LICENSE: [u8; 4] = *b"GPL\0";
