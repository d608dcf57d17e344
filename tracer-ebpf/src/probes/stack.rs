//! Runtime stacks (`tracer_common::stack`): the user registers and the top of the user stack of
//! a process running a program cargo built, and where its shared libraries' code is mapped.

use aya_ebpf::{
    helpers::generated::{bpf_get_current_task_btf, bpf_probe_read_user, bpf_task_pt_regs},
    macros::{raw_tracepoint, tracepoint},
    programs::{RawTracePointContext, TracePointContext},
};
use tracer_common::{
    counters,
    event::EventKind,
    limits::STACK_LEN,
    stack::{DirKey, MapEvent, StackEvent, TRACED_PLAIN, TRACED_STACKS},
    syscalls as nr,
};

use crate::{
    emit, kernel,
    maps::{STACK_DIRS, STACKS, TRACED, conf, count},
    probes::syscall,
    scope, user,
};

/// `struct pt_regs` on x86-64 (the uapi `user_regs_struct` order): fixed by the ABI.
const REGS_BP: u32 = 32;
const REGS_IP: u32 = 128;
const REGS_SP: u32 = 152;
/// The stack is copied in chunks of this many bytes.
const CHUNK: u64 = 2048;
const CHUNKS: u64 = STACK_LEN as u64 / CHUNK;

/// `sched_process_exec(task, old_pid, bprm)`, beside the exec record's program: whether the
/// new program is one whose processes get stacks (it is in a directory where cargo puts test
/// and bin executables).
#[raw_tracepoint(tracepoint = "sched_process_exec")]
pub fn sched_process_exec_stacks(ctx: RawTracePointContext) -> i32 {
    let (tgid, _) = scope::current_ids();
    if !scope::is_traced(tgid) {
        return 0;
    }
    let bprm: u64 = ctx.arg(2);
    if let Some(file) = kernel::bprm_file(bprm) {
        mark_exec(tgid, file);
    }
    0
}

#[inline(always)]
fn mark_exec(tgid: u32, file: u64) {
    let Some(r) = kernel::parent_dir_ref(file) else {
        return;
    };
    let key = DirKey {
        dev: r.dev,
        _pad: 0,
        ino: r.ino,
    };
    let want = STACK_DIRS.get_ptr(&key).is_some();
    let Some(v) = TRACED.get_ptr_mut(&tgid) else {
        return;
    };
    // SAFETY: value pointer from a successful lookup; a u32 store is atomic.
    unsafe {
        *v = if want {
            TRACED_PLAIN | TRACED_STACKS
        } else {
            TRACED_PLAIN
        }
    };
}

/// Records the current thread's user registers and stack, for the call `nr` it is making.
#[inline(always)]
pub fn capture(nr: u32) {
    // SAFETY: helpers on the current task; the pointer they give is only read through
    // `bpf_probe_read_kernel`.
    let task = unsafe { bpf_get_current_task_btf() };
    let regs = unsafe { bpf_task_pt_regs(task) } as u64;
    let Some(mut entry) = STACKS.reserve::<StackEvent>(0) else {
        count(counters::LOST_STACKS);
        return;
    };
    // SAFETY: every field is written below before submit.
    let e = unsafe { &mut *entry.as_mut_ptr() };
    emit::header(&mut e.header, EventKind::Stack, nr, 0);
    e.ip = kernel::read(regs, REGS_IP).unwrap_or(0);
    e.sp = kernel::read(regs, REGS_SP).unwrap_or(0);
    e.bp = kernel::read(regs, REGS_BP).unwrap_or(0);
    let mm: u64 = kernel::read(task as u64, conf!(offsets.task_mm)).unwrap_or(0);
    e.code_start = kernel::read(mm, conf!(offsets.mm_start_code)).unwrap_or(0);
    e.code_end = kernel::read(mm, conf!(offsets.mm_end_code)).unwrap_or(0);
    let top: u64 = kernel::read(mm, conf!(offsets.mm_env_end)).unwrap_or(0);
    e._pad = 0;
    e.len = copy(e.sp, top, &mut e.bytes);
    entry.submit(0);
}

/// Copies the stack from `sp` up in chunks, until [`STACK_LEN`], the end of its mapping (a
/// chunk that cannot be read: a thread's stack ends at its TLS and a guard) or, for the main
/// thread, `top` (its environment strings, above which nothing is mapped). One long read
/// would fail whole when it runs past the end. Returns the bytes copied.
#[inline(always)]
fn copy(sp: u64, top: u64, dst: &mut [u8; STACK_LEN]) -> u32 {
    if sp == 0 {
        return 0;
    }
    let room = if top > sp { top - sp } else { u64::MAX };
    let mut done: u64 = 0;
    for i in 0..CHUNKS {
        let off = i * CHUNK;
        if off >= room {
            break;
        }
        let len = user::clamp(room - off, CHUNK);
        let at = user::clamp(off, (STACK_LEN as u64) - CHUNK);
        // SAFETY: at + len <= STACK_LEN, inside the reserved record.
        let rc = unsafe {
            bpf_probe_read_user(
                dst.as_mut_ptr().add(at as usize).cast(),
                len as u32,
                (sp + at) as *const _,
            )
        };
        if rc != 0 {
            break;
        }
        done = at + len;
        if len < CHUNK {
            break;
        }
    }
    done as u32
}

/// Whether `sys_enter` should remember an `mmap` of a process whose stacks are copied: only an
/// executable file mapping.
#[inline(always)]
pub fn mmap_wanted(args: &[u64; 6]) -> bool {
    const PROT_EXEC: u64 = 4;
    args[2] & PROT_EXEC != 0 && (args[4] as i32) >= 0
}

/// Exit of `mmap`: a successful executable file mapping becomes a [`MapEvent`]. Nothing
/// remembered is not a loss here: `sys_enter` skips every other mapping.
#[tracepoint]
pub fn sys_exit_mmap(ctx: TracePointContext) -> u32 {
    // An entry exists only for a traced process's executable mapping.
    if !syscall::remembered() {
        return 0;
    }
    let Some((a, ret)) = syscall::take(&ctx) else {
        return 0;
    };
    if a.nr as u32 != nr::MMAP || (-4095..0).contains(&ret) {
        return 0;
    }
    let Some(mut entry) = emit::reserve::<MapEvent>() else {
        return 0;
    };
    // SAFETY: every field is written below before submit.
    let e = unsafe { &mut *entry.as_mut_ptr() };
    emit::header(&mut e.header, EventKind::Map, nr::MMAP, 0);
    e.addr = ret as u64;
    e.len = a.args[1];
    e.offset = a.args[5];
    let fd = a.args[4] as i32;
    e.file = kernel::fd_ref(fd).unwrap_or_default();
    kernel::fd_path(fd, &mut e.real);
    entry.submit(0);
    0
}
