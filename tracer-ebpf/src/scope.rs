//! Which processes are recorded: the traced tree, or everything in system-wide mode.

use aya_ebpf::helpers::bpf_get_current_pid_tgid;
use tracer_common::ABI_VERSION;

use crate::maps::{TRACED, conf};

/// True when events of process `tgid` are to be recorded.
#[inline(always)]
pub fn is_traced(tgid: u32) -> bool {
    if conf!(abi_version) != ABI_VERSION || tgid == conf!(tracer_pid) {
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
