//! Syscalls that reach for the tracer or another process, or change the caller's view of the
//! filesystem (`tracer_common::tamper`).

use aya_ebpf::{macros::tracepoint, programs::TracePointContext};
use tracer_common::{event::EventKind, syscalls as nr, tamper::TamperEvent};

use crate::{
    emit,
    maps::conf,
    probes::syscall::{NR_OFFSET, remembered, take},
};

#[tracepoint]
pub fn sys_exit_tamper(ctx: TracePointContext) -> u32 {
    // The command's own first syscall is the `bpf(2)` that puts it in the traced set: it
    // entered untraced, so nothing was remembered, and that is no loss.
    // SAFETY: fixed layout of syscall tracepoints.
    let exit_nr: i32 = unsafe { ctx.read_at(NR_OFFSET) }.unwrap_or(-1);
    if exit_nr == nr::BPF as i32 && !remembered() {
        return 0;
    }
    // An io_uring_setup the seccomp filter refused never entered (no entry tracepoint), but
    // its exit still fires: nothing was lost.
    if exit_nr == nr::IO_URING_SETUP as i32 && !remembered() {
        return 0;
    }
    let Some((a, ret)) = take(&ctx) else { return 0 };
    let n = a.nr as u32;
    let (arg0, arg1) = (a.args[0] as i64, a.args[1] as i64);
    let tracer = conf!(tracer_pid) as i64;
    let record = match n {
        nr::BPF | nr::PTRACE | nr::PROCESS_VM_READV | nr::PROCESS_VM_WRITEV | nr::PIDFD_GETFD => {
            true
        }
        // A signal to the tracer, or to a whole group (0, -pgid) or every process (-1): the
        // tracer shares the command's process group.
        nr::KILL => arg0 == tracer || arg0 <= 0,
        nr::TKILL | nr::TGKILL => arg0 == tracer,
        // Namespaces and mounts: every one, failed or not (userspace tells them apart).
        nr::MOUNT
        | nr::UMOUNT2
        | nr::PIVOT_ROOT
        | nr::CHROOT
        | nr::UNSHARE
        | nr::SETNS
        | nr::OPEN_TREE
        | nr::MOVE_MOUNT
        | nr::FSOPEN
        | nr::FSCONFIG
        | nr::FSMOUNT
        | nr::FSPICK
        | nr::MOUNT_SETATTR
        | nr::IO_URING_SETUP => true,
        _ => false,
    };
    if !record {
        return 0;
    }
    let Some(mut entry) = emit::reserve::<TamperEvent>() else {
        return 0;
    };
    // SAFETY: every field is written below before submit.
    let e = unsafe { &mut *entry.as_mut_ptr() };
    emit::header(&mut e.header, EventKind::Tamper, n, ret);
    e.arg0 = arg0;
    e.arg1 = arg1;
    entry.submit(0);
    0
}
