//! The shared syscall-entry probe: remembers the arguments for the family's exit probe.

use aya_ebpf::{macros::tracepoint, programs::TracePointContext};
use tracer_common::{counters, stack::TRACED_STACKS, syscalls};

use crate::{
    maps::{INFLIGHT, Inflight, conf, count},
    probes::stack,
    scope,
};

/// Offset of `__syscall_nr` in every `syscalls:sys_enter_*`/`sys_exit_*` record.
pub const NR_OFFSET: usize = 8;
/// Offset of the first argument (`sys_enter_*`) or of `ret` (`sys_exit_*`).
pub const ARGS_OFFSET: usize = 16;

/// Attached to the `sys_enter_*` tracepoint of every traced syscall.
#[tracepoint]
pub fn sys_enter(ctx: TracePointContext) -> u32 {
    let (tgid, _) = scope::current_ids();
    let Some(traced) = scope::traced(tgid) else {
        return 0;
    };
    let stacks = traced & TRACED_STACKS != 0;
    // SAFETY: fixed layout of syscall tracepoints (see tracer_common::syscalls).
    let nr: i32 = unsafe { ctx.read_at(NR_OFFSET) }.unwrap_or(-1);
    let mut args = [0u64; 6];
    for (i, a) in args.iter_mut().enumerate() {
        *a = unsafe { ctx.read_at(ARGS_OFFSET + i * 8) }.unwrap_or(0);
    }
    // Mappings matter only where stacks are unwound (see `stack`), and there only executable ones.
    if nr as u32 == syscalls::MMAP && !(stacks && stack::mmap_wanted(&args)) {
        return 0;
    }
    let id = aya_ebpf::helpers::bpf_get_current_pid_tgid();
    let v = Inflight {
        nr: nr as u64,
        args,
    };
    if INFLIGHT.insert(&id, &v, 0).is_err() {
        count(counters::LOST_INFLIGHT);
    }
    if nr as u32 != syscalls::MMAP && stacks {
        stack::capture(nr as u32);
    }
    0
}

/// Whether `sys_enter` remembered anything for this thread (without taking it).
#[inline(always)]
pub fn remembered() -> bool {
    INFLIGHT
        .get_ptr(&aya_ebpf::helpers::bpf_get_current_pid_tgid())
        .is_some()
}

/// Takes back what `sys_enter` remembered for this thread, with the syscall's result. An exit
/// with nothing remembered is a lost event (counted), except in system-wide mode, where
/// syscalls in flight when the probes attached have no entry.
#[inline(always)]
pub fn take(ctx: &TracePointContext) -> Option<(Inflight, i64)> {
    let id = aya_ebpf::helpers::bpf_get_current_pid_tgid();
    let Some(p) = INFLIGHT.get_ptr(&id) else {
        // Every task's exits come here; only a traced one's missing entry is a loss.
        if conf!(system_wide) == 0 && scope::is_traced((id >> 32) as u32) {
            count(counters::LOST_UNMATCHED);
        }
        return None;
    };
    // SAFETY: value pointer from a successful lookup; copied before the delete.
    let v = unsafe { *p };
    let _ = INFLIGHT.remove(&id);
    let ret: i64 = unsafe { ctx.read_at(ARGS_OFFSET) }.unwrap_or(0);
    Some((v, ret))
}
