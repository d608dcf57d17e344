//! Proc-macro attribution: uprobes on the proc_macro bridge's `run_client` in each proc-macro
//! library mark the rustc thread as running that macro (the attach cookie is the macro's id)
//! until the function returns; every event the thread causes meanwhile carries the id.
//! Each program exists twice: for per-point perf links and for multi-uprobe links (one link,
//! one registration batch for all of a library's `run_client` instances; chosen at start-up
//! when the kernel has them).

use aya_ebpf::{
    EbpfContext,
    helpers::generated::bpf_get_attach_cookie,
    macros::{uprobe, uretprobe},
    programs::{ProbeContext, RetProbeContext},
};
use tracer_common::{
    counters,
    event::{EventKind, NO_SYSCALL},
    process::MacroEvent,
};

use crate::{
    emit,
    maps::{MACRO_SEEN, MACRO_THREAD, count},
    scope,
};

#[uprobe]
pub fn proc_macro_enter(ctx: ProbeContext) -> u32 {
    enter(&ctx)
}

#[uprobe(multi)]
pub fn proc_macro_enter_multi(ctx: ProbeContext) -> u32 {
    enter(&ctx)
}

#[uretprobe]
pub fn proc_macro_exit(_ctx: RetProbeContext) -> u32 {
    exit()
}

#[uretprobe(multi)]
pub fn proc_macro_exit_multi(_ctx: RetProbeContext) -> u32 {
    exit()
}

#[inline(always)]
fn enter(ctx: &ProbeContext) -> u32 {
    let (tgid, tid) = scope::current_ids();
    if !scope::is_traced(tgid) {
        return 0;
    }
    // SAFETY: the context pointer is the program's own.
    let id = unsafe { bpf_get_attach_cookie(ctx.as_ptr()) } as u32;
    if id != 0 && MACRO_THREAD.insert(&tid, &id, 0).is_err() {
        count(counters::LOST_TRACKING);
    }
    // Say once per process that this macro ran (it may make no syscall at all).
    let key = (u64::from(tgid) << 32) | u64::from(id);
    if id != 0 && MACRO_SEEN.get_ptr(&key).is_none() {
        let _ = MACRO_SEEN.insert(&key, &1, 0);
        if let Some(mut entry) = emit::reserve::<MacroEvent>() {
            // SAFETY: the header is the whole record and is written before submit.
            let e = unsafe { &mut *entry.as_mut_ptr() };
            emit::header(&mut e.header, EventKind::MacroRun, NO_SYSCALL, 0);
            entry.submit(0);
        }
    }
    0
}

#[inline(always)]
fn exit() -> u32 {
    let (_, tid) = scope::current_ids();
    let _ = MACRO_THREAD.remove(&tid);
    0
}
