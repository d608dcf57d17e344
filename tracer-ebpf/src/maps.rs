//! Maps shared by the probes, and the configuration global the loader writes.

use aya_ebpf::{
    macros::map,
    maps::{HashMap, LruHashMap, PerCpuArray, RingBuf},
};
use tracer_common::{
    ABI_VERSION,
    config::{Config, KernelOffsets},
    counters,
    limits::{
        INFLIGHT_MAX, MACRO_PROCS_MAX, MACRO_SEEN_MAX, MACRO_THREADS_MAX, RING_BYTES,
        STACK_DIRS_MAX, STACK_RING_BYTES, TRACED_MAX,
    },
    stack::DirKey,
};

/// The contract version this object was built against. The loader reads it from the object
/// before loading and refuses an object of another version (it would decode garbage, or — the
/// probes comparing it with the configured one — record nothing). Kept and named for that.
#[unsafe(no_mangle)]
#[used]
pub static TRACER_ABI_VERSION: u32 = ABI_VERSION;

/// Written by the loader before load (`EbpfLoader::set_global`); all zero means "not configured".
#[unsafe(no_mangle)]
pub static CONFIG: Config = Config {
    abi_version: 0,
    system_wide: 0,
    tracer_pid: 0,
    trace_cargo: 0,
    offsets: KernelOffsets {
        task_pid: 0,
        task_tgid: 0,
        task_fs: 0,
        task_files: 0,
        task_mm: 0,
        task_exit_code: 0,
        task_signal: 0,
        signal_live: 0,
        fs_pwd_dentry: 0,
        dentry_inode: 0,
        inode_ino: 0,
        inode_sb: 0,
        inode_mode: 0,
        sb_dev: 0,
        files_fdt: 0,
        fdt_max_fds: 0,
        fdt_fd: 0,
        file_inode: 0,
        file_private_data: 0,
        socket_sk: 0,
        sk_family: 0,
        sk_num: 0,
        sk_dport: 0,
        sk_daddr: 0,
        sk_rcv_saddr: 0,
        sk_v6_daddr: 0,
        sk_v6_rcv_saddr: 0,
        sk_type: 0,
        mm_arg_start: 0,
        mm_arg_end: 0,
        bprm_filename: 0,
        bprm_file: 0,
        file_path_mnt: 0,
        file_path_dentry: 0,
        dentry_parent: 0,
        dentry_name: 0,
        mount_mnt: 0,
        mount_parent: 0,
        mount_mountpoint: 0,
        vfsmount_root: 0,
        fs_root_mnt: 0,
        fs_root_dentry: 0,
        inode_nlink: 0,
        mm_start_code: 0,
        mm_end_code: 0,
        mm_env_end: 0,
    },
};

/// Reads one field of [`CONFIG`]. Volatile so the compiler cannot fold the all-zero initial
/// value into the code: the loader patches the data section after compilation.
macro_rules! conf {
    ($($field:ident).+) => {
        unsafe { core::ptr::read_volatile(&$crate::maps::CONFIG.$($field).+) }
    };
}
pub(crate) use conf;

/// All events, to userspace. Size is set by the loader (`set_max_entries`).
#[map]
pub static EVENTS: RingBuf = RingBuf::with_byte_size(RING_BYTES, 0);

/// Copied stacks (`tracer_common::stack::StackEvent`), apart from the events.
#[map]
pub static STACKS: RingBuf = RingBuf::with_byte_size(STACK_RING_BYTES, 0);

/// The traced processes (tgid -> `stack::TRACED_PLAIN`, or with `TRACED_STACKS` when its
/// stacks are copied). The loader inserts the root; fork inserts children with the parent's
/// value; exec sets or clears the stack bit.
#[map]
pub static TRACED: HashMap<u32, u32> = HashMap::with_max_entries(TRACED_MAX, 0);

/// Directories whose programs' processes have their stacks copied: where cargo puts test and
/// bin executables (`<profile>/deps`, `<profile>`, `<profile>/examples`), written as cargo
/// names them.
#[map]
pub static STACK_DIRS: HashMap<DirKey, u8> = HashMap::with_max_entries(STACK_DIRS_MAX, 0);

/// Arguments of a syscall between its entry and its exit, by pid_tgid. Not an LRU map: an
/// evicted entry would lose its event without a trace, where a full map is a counted loss.
/// A thread's entry is removed when it exits (a thread killed inside a syscall never returns).
#[map]
pub static INFLIGHT: HashMap<u64, Inflight> = HashMap::with_max_entries(INFLIGHT_MAX, 0);

/// Thread → proc macro (uprobe cookie) whose code it is running right now.
#[map]
pub static MACRO_THREAD: HashMap<u32, u32> = HashMap::with_max_entries(MACRO_THREADS_MAX, 0);

/// Process → proc macro that started it (a `git` run by a macro inside rustc).
#[map]
pub static MACRO_PROC: HashMap<u32, u32> = HashMap::with_max_entries(MACRO_PROCS_MAX, 0);

/// (tgid << 32 | macro id) of macros already reported running in a process.
#[map]
pub static MACRO_SEEN: LruHashMap<u64, u8> = LruHashMap::with_max_entries(MACRO_SEEN_MAX, 0);

/// Loss counters (`tracer_common::counters`), per CPU.
#[map]
pub static COUNTERS: PerCpuArray<u64> = PerCpuArray::with_max_entries(counters::COUNT, 0);

/// What the entry probe remembers for the exit probe.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Inflight {
    pub nr: u64,
    pub args: [u64; 6],
}

/// Adds one to a loss counter.
#[inline(always)]
pub fn count(index: u32) {
    if let Some(p) = COUNTERS.get_ptr_mut(index) {
        // SAFETY: per-CPU slot, only this CPU writes it while this program runs.
        unsafe { *p += 1 };
    }
}
