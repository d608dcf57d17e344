//! Process lifecycle: fork (scoping happens here), exec (success and failed attempts), exit.

use aya_ebpf::{
    helpers::generated::{bpf_probe_read_kernel_str, bpf_probe_read_user},
    macros::{raw_tracepoint, tracepoint},
    programs::{RawTracePointContext, TracePointContext},
};
use tracer_common::{
    counters,
    event::{
        EventKind, FLAG_ARGV_TRUNCATED, FLAG_GROUP_DEAD, FLAG_PATH_TRUNCATED, FLAG_THREAD,
        FLAG_USER_FAULT, InodeRef, NO_SYSCALL,
    },
    kpath::{KPATH_FAULT, KPATH_NONE},
    limits::{ARGV_LEN, PATH_LEN},
    process::{ExecEvent, ExitEvent, ForkEvent},
    stack::{TRACED_PLAIN, TRACED_STACKS},
    syscalls as nr,
};

use crate::{
    emit, kernel,
    maps::{INFLIGHT, MACRO_PROC, MACRO_THREAD, TRACED, conf, count},
    probes::{stack, syscall::take},
    scope, user,
};

/// `sched_process_fork(parent, child)`, in the parent's context. A child process of a traced
/// process joins the traced set here, in the kernel, so lineage survives double-fork, setsid and
/// reparenting to init.
#[raw_tracepoint(tracepoint = "sched_process_fork")]
pub fn sched_process_fork(ctx: RawTracePointContext) -> i32 {
    let (tgid, _) = scope::current_ids();
    if !scope::is_traced(tgid) {
        return 0;
    }
    let child: u64 = ctx.arg(1);
    let child_tgid: u32 = kernel::read(child, conf!(offsets.task_tgid)).unwrap_or(0);
    let child_tid: u32 = kernel::read(child, conf!(offsets.task_pid)).unwrap_or(0);
    let thread = child_tgid == tgid;
    // The child runs the parent's program until it execs: it keeps the parent's stack mark.
    let value = TRACED
        .get_ptr(&tgid)
        .map(|v| unsafe { *v })
        .unwrap_or(TRACED_PLAIN);
    if !thread && conf!(system_wide) == 0 && TRACED.insert(&child_tgid, &value, 0).is_err() {
        count(counters::LOST_TRACKING);
    }
    // Whose code started it: the parent's stack at the fork, before the fork's record.
    if value & TRACED_STACKS != 0 {
        stack::capture(NO_SYSCALL);
    }
    // A process started by proc-macro code (e.g. `git` run by a macro) stays the macro's.
    let (_, tid) = scope::current_ids();
    let id = emit::macro_of(tgid, tid);
    if !thread && id != 0 && MACRO_PROC.insert(&child_tgid, &id, 0).is_err() {
        count(counters::LOST_TRACKING);
    }
    // A thread the macro's code started runs the macro's code too (until it exits: its exit
    // takes the tag back), though it never entered `run_client` itself.
    if thread && id != 0 && MACRO_THREAD.insert(&child_tid, &id, 0).is_err() {
        count(counters::LOST_TRACKING);
    }
    let Some(mut entry) = emit::reserve::<ForkEvent>() else {
        return 0;
    };
    // SAFETY: every field is written below before submit.
    let e = unsafe { &mut *entry.as_mut_ptr() };
    emit::header(&mut e.header, EventKind::Fork, NO_SYSCALL, 0);
    if thread {
        e.header.flags = FLAG_THREAD;
    }
    e.child_pid = child_tgid;
    e.child_tid = child_tid;
    entry.submit(0);
    0
}

/// `sched_process_exec(task, old_pid, bprm)`: a successful exec, in the new image's context, so
/// argv is read from the new process's own argument block.
#[raw_tracepoint(tracepoint = "sched_process_exec")]
pub fn sched_process_exec(ctx: RawTracePointContext) -> i32 {
    let (tgid, _) = scope::current_ids();
    if !scope::is_traced(tgid) && !adopt_cargo(tgid) {
        return 0;
    }
    let task: u64 = ctx.arg(0);
    let bprm: u64 = ctx.arg(2);
    let Some(mut entry) = emit::reserve::<ExecEvent>() else {
        return 0;
    };
    // SAFETY: every field is written below before submit.
    let e = unsafe { &mut *entry.as_mut_ptr() };
    emit::header(&mut e.header, EventKind::Exec, NO_SYSCALL, 0);
    let mut f = 0;
    let fname: u64 = kernel::read(bprm, conf!(offsets.bprm_filename)).unwrap_or(0);
    // SAFETY: the helper checks the source; the destination is PATH_LEN bytes we reserved.
    let n = unsafe {
        bpf_probe_read_kernel_str(
            e.filename.as_mut_ptr().cast(),
            PATH_LEN as u32,
            fname as *const _,
        )
    } as i32;
    if n == PATH_LEN as i32
        && kernel::read::<u8>(fname, PATH_LEN as u32 - 1).is_some_and(|b| b != 0)
    {
        f |= FLAG_PATH_TRUNCATED;
    }
    e.filename_len = n;
    let mm: u64 = kernel::read(task, conf!(offsets.task_mm)).unwrap_or(0);
    let start: u64 = kernel::read(mm, conf!(offsets.mm_arg_start)).unwrap_or(0);
    let end: u64 = kernel::read(mm, conf!(offsets.mm_arg_end)).unwrap_or(0);
    let total = end.saturating_sub(start);
    e.argv_total = total;
    if total > ARGV_LEN as u64 {
        f |= FLAG_ARGV_TRUNCATED;
    }
    let want = user::clamp(total, ARGV_LEN as u64);
    e.argv_len = 0;
    if want > 0 {
        // SAFETY: want <= ARGV_LEN, the size of the destination.
        let rc = unsafe {
            bpf_probe_read_user(e.argv.as_mut_ptr().cast(), want as u32, start as *const _)
        };
        if rc == 0 {
            e.argv_len = want as u32;
        } else {
            f |= FLAG_USER_FAULT;
        }
    }
    e.cwd = kernel::cwd_ref().unwrap_or_default();
    match kernel::bprm_file(bprm) {
        Some(file) if file != 0 => kernel::file_path(file, &mut e.real),
        _ => {
            e.real.state = KPATH_FAULT;
            e.real.len = 0;
        }
    }
    e.header.flags = f;
    entry.submit(0);
    0
}

/// In daemon mode (`trace_cargo`), a process not traced yet that has just exec'd a program
/// named `cargo` joins the traced set here, before it runs an instruction of cargo: it starts a
/// tree of its own, which the fork probe then follows like any other. `comm` is already the new
/// program's file name at this tracepoint.
#[inline(always)]
fn adopt_cargo(tgid: u32) -> bool {
    // SAFETY: a plain read of a static the loader leaves alone.
    let abi = unsafe { core::ptr::read_volatile(&crate::maps::TRACER_ABI_VERSION) };
    if conf!(trace_cargo) == 0 || conf!(abi_version) != abi || tgid == conf!(tracer_pid) {
        return false;
    }
    let Ok(comm) = aya_ebpf::helpers::bpf_get_current_comm() else {
        return false;
    };
    if comm[..6] != *b"cargo\0" {
        return false;
    }
    if TRACED.insert(&tgid, &TRACED_PLAIN, 0).is_err() {
        count(counters::LOST_TRACKING);
        return false;
    }
    // The exec's own syscall exit follows, and its entry was not remembered (the process was
    // not traced then): remember one, so that exit is not counted as an unmatched one.
    let id = aya_ebpf::helpers::bpf_get_current_pid_tgid();
    let v = crate::maps::Inflight {
        nr: nr::EXECVE as u64,
        args: [0; 6],
    };
    if INFLIGHT.insert(&id, &v, 0).is_err() {
        count(counters::LOST_INFLIGHT);
    }
    true
}

/// Exit of execve/execveat: only failures are recorded here (a success was recorded by
/// `sched_process_exec`), so PATH-search misses are told apart from what actually ran.
#[tracepoint]
pub fn sys_exit_exec(ctx: TracePointContext) -> u32 {
    let Some((a, ret)) = take(&ctx) else { return 0 };
    if ret >= 0 {
        return 0;
    }
    let n = a.nr as u32;
    let path = match n {
        nr::EXECVE => a.args[0],
        nr::EXECVEAT => a.args[1],
        _ => return 0,
    };
    let Some(mut entry) = emit::reserve::<ExecEvent>() else {
        return 0;
    };
    // SAFETY: every field is written below before submit.
    let e = unsafe { &mut *entry.as_mut_ptr() };
    emit::header(&mut e.header, EventKind::ExecFailed, n, ret);
    let (len, cut) = user::read_path(path, &mut e.filename);
    let mut f = if cut { FLAG_PATH_TRUNCATED } else { 0 };
    if len <= 0 {
        f |= FLAG_USER_FAULT;
    }
    e.filename_len = len;
    e.argv_len = 0;
    e.argv_total = 0;
    e.real.state = KPATH_NONE;
    e.real.len = 0;
    e.cwd = if e.filename[0] == b'/' {
        InodeRef::default()
    } else {
        kernel::cwd_ref().unwrap_or_default()
    };
    e.header.flags = f;
    entry.submit(0);
    0
}

/// `sched_process_exit(task)`: a thread exits; the last one ends the process, which then leaves
/// the traced set.
#[raw_tracepoint(tracepoint = "sched_process_exit")]
pub fn sched_process_exit(ctx: RawTracePointContext) -> i32 {
    let (tgid, _) = scope::current_ids();
    if !scope::is_traced(tgid) {
        return 0;
    }
    let task: u64 = ctx.arg(0);
    let signal: u64 = kernel::read(task, conf!(offsets.task_signal)).unwrap_or(0);
    // do_exit() has already counted this thread out of `live`.
    let group_dead =
        kernel::read::<i32>(signal, conf!(offsets.signal_live)).is_some_and(|live| live == 0);
    if group_dead && conf!(system_wide) == 0 {
        let _ = TRACED.remove(&tgid);
    }
    let (_, tid) = scope::current_ids();
    let _ = MACRO_THREAD.remove(&tid);
    // A thread that dies inside a syscall never reaches its exit probe.
    let _ = INFLIGHT.remove(&aya_ebpf::helpers::bpf_get_current_pid_tgid());
    if group_dead {
        let _ = MACRO_PROC.remove(&tgid);
    }
    let Some(mut entry) = emit::reserve::<ExitEvent>() else {
        return 0;
    };
    // SAFETY: every field is written below before submit.
    let e = unsafe { &mut *entry.as_mut_ptr() };
    emit::header(&mut e.header, EventKind::Exit, NO_SYSCALL, 0);
    e.exit_code = kernel::read(task, conf!(offsets.task_exit_code)).unwrap_or(0);
    e._pad = 0;
    if group_dead {
        e.header.flags = FLAG_GROUP_DEAD;
    }
    entry.submit(0);
    0
}
