//! Which processes are recorded: the traced tree, or everything in system-wide mode.

use tracer_common::stack::TRACED_PLAIN;

use crate::maps::{TRACED, TRACER_ABI_VERSION, conf};
use aya_ebpf::helpers::bpf_get_current_pid_tgid;

/// True when events of process `tgid` are to be recorded.
#[inline(always)]
pub fn is_traced(tgid: u32) -> bool {
    traced(tgid).is_some()
}

/// What the traced set says of process `tgid` (`TRACED_PLAIN`, with `TRACED_STACKS` when its
/// stacks are copied), `None` when its events are not recorded: one lookup for both questions
/// on the syscall-entry path.
#[inline(always)]
pub fn traced(tgid: u32) -> Option<u32> {
    // SAFETY: a plain read of a static the loader leaves alone.
    let abi = unsafe { core::ptr::read_volatile(&TRACER_ABI_VERSION) };
    if conf!(abi_version) != abi || tgid == conf!(tracer_pid) {
        return None;
    }
    match TRACED.get_ptr(&tgid) {
        // SAFETY: value pointer from a successful lookup; a u32 load.
        Some(v) => Some(unsafe { *v }),
        None if conf!(system_wide) != 0 => Some(TRACED_PLAIN),
        None => None,
    }
}

/// The current task's (tgid, tid).
#[inline(always)]
pub fn current_ids() -> (u32, u32) {
    let id = bpf_get_current_pid_tgid();
    ((id >> 32) as u32, id as u32)
}
