//! Which processes are recorded: the traced tree, or everything in system-wide mode.

use crate::maps::{TRACED, TRACER_ABI_VERSION, conf};
use aya_ebpf::helpers::bpf_get_current_pid_tgid;

/// True when events of process `tgid` are to be recorded.
#[inline(always)]
pub fn is_traced(tgid: u32) -> bool {
    // SAFETY: a plain read of a static the loader leaves alone.
    let abi = unsafe { core::ptr::read_volatile(&TRACER_ABI_VERSION) };
    if conf!(abi_version) != abi || tgid == conf!(tracer_pid) {
        return false;
    }
    if conf!(system_wide) != 0 {
        return true;
    }
    TRACED.get_ptr(&tgid).is_some()
}

/// The current task's (tgid, tid).
#[inline(always)]
pub fn current_ids() -> (u32, u32) {
    let id = bpf_get_current_pid_tgid();
    ((id >> 32) as u32, id as u32)
}
