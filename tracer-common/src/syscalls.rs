//! The syscalls the probes attach to: tracepoint names and x86-64 numbers.
//!
//! The entry probe remembers the arguments by thread; the exit probe of each family reads them
//! back with the result and emits one event. Numbers are x86-64 (the only supported arch).

pub const OPEN: u32 = 2;
pub const CREAT: u32 = 85;
pub const OPENAT: u32 = 257;
pub const OPENAT2: u32 = 437;
pub const UNLINK: u32 = 87;
pub const RMDIR: u32 = 84;
pub const UNLINKAT: u32 = 263;
pub const RENAME: u32 = 82;
pub const RENAMEAT: u32 = 264;
pub const RENAMEAT2: u32 = 316;
pub const TRUNCATE: u32 = 76;
pub const FTRUNCATE: u32 = 77;
pub const FALLOCATE: u32 = 285;
pub const FCHMOD: u32 = 91;
pub const FCHOWN: u32 = 93;
pub const CHMOD: u32 = 90;
pub const FCHMODAT: u32 = 268;
pub const FCHMODAT2: u32 = 452;
pub const CHOWN: u32 = 92;
pub const LCHOWN: u32 = 94;
pub const FCHOWNAT: u32 = 260;
pub const MKDIR: u32 = 83;
pub const MKDIRAT: u32 = 258;
pub const MKNOD: u32 = 133;
pub const MKNODAT: u32 = 259;
pub const UTIME: u32 = 132;
pub const UTIMES: u32 = 235;
pub const FUTIMESAT: u32 = 261;
pub const UTIMENSAT: u32 = 280;
pub const LINK: u32 = 86;
pub const LINKAT: u32 = 265;
pub const SYMLINK: u32 = 88;
pub const SYMLINKAT: u32 = 266;
pub const CONNECT: u32 = 42;
pub const BIND: u32 = 49;
pub const LISTEN: u32 = 50;
pub const SENDTO: u32 = 44;
pub const SENDMSG: u32 = 46;
pub const SENDMMSG: u32 = 307;
pub const MMAP: u32 = 9;
pub const EXECVE: u32 = 59;
pub const EXECVEAT: u32 = 322;
pub const BPF: u32 = 321;
pub const PTRACE: u32 = 101;
pub const PROCESS_VM_READV: u32 = 310;
pub const PROCESS_VM_WRITEV: u32 = 311;
pub const PIDFD_GETFD: u32 = 438;
pub const KILL: u32 = 62;
pub const TKILL: u32 = 200;
pub const TGKILL: u32 = 234;
// What the process sees as the filesystem: after one of these the kernel's names of files are
// names in another view than the build's.
pub const MOUNT: u32 = 165;
pub const UMOUNT2: u32 = 166;
pub const PIVOT_ROOT: u32 = 155;
pub const CHROOT: u32 = 161;
pub const UNSHARE: u32 = 272;
pub const SETNS: u32 = 308;
pub const OPEN_TREE: u32 = 428;
pub const MOVE_MOUNT: u32 = 429;
pub const FSOPEN: u32 = 430;
pub const FSCONFIG: u32 = 431;
pub const FSMOUNT: u32 = 432;
pub const FSPICK: u32 = 433;
pub const MOUNT_SETATTR: u32 = 442;
/// Refused by the command's seccomp filter unless allowed: its operations are not traced.
pub const IO_URING_SETUP: u32 = 425;

/// Calls that change which file a path names for the caller (a bind mount of `~/.ssh` onto
/// `OUT_DIR/x` in a private mount namespace, a new root): once one succeeded, the kernel's
/// names of what it reached are not the build's, so its trace cannot be judged by path.
pub const CHANGES_VIEW: &[u32] = &[
    MOUNT,
    UMOUNT2,
    PIVOT_ROOT,
    CHROOT,
    SETNS,
    MOVE_MOUNT,
    MOUNT_SETATTR,
];

/// Every mount and namespace call the probes record: those of [`CHANGES_VIEW`], and the ones
/// that change nothing the process sees until one of those follows.
pub const NAMESPACE_CALLS: &[u32] = &[
    MOUNT,
    UMOUNT2,
    PIVOT_ROOT,
    CHROOT,
    SETNS,
    MOVE_MOUNT,
    MOUNT_SETATTR,
    UNSHARE,
    OPEN_TREE,
    FSOPEN,
    FSCONFIG,
    FSMOUNT,
    FSPICK,
];

/// A family of syscalls handled by one exit probe (`sys_exit_<family>` in the object).
#[derive(Clone, Copy, Debug)]
pub struct Family {
    /// Name of the exit program in the eBPF object.
    pub exit_program: &'static str,
    /// `syscalls:sys_enter_<name>` / `sys_exit_<name>` tracepoints it covers.
    pub syscalls: &'static [&'static str],
}

/// Every family, in attach order. The loader attaches the shared entry probe to each
/// `sys_enter_*` and the family's exit probe to each `sys_exit_*`.
pub const FAMILIES: &[Family] = &[
    Family {
        exit_program: "sys_exit_open",
        syscalls: &["open", "creat", "openat", "openat2"],
    },
    Family {
        exit_program: "sys_exit_unlink",
        syscalls: &["unlink", "rmdir", "unlinkat"],
    },
    Family {
        exit_program: "sys_exit_rename",
        syscalls: &["rename", "renameat", "renameat2"],
    },
    Family {
        exit_program: "sys_exit_meta",
        syscalls: &[
            "truncate",
            "ftruncate",
            "fallocate",
            "fchmod",
            "fchown",
            "chmod",
            "fchmodat",
            "fchmodat2",
            "chown",
            "lchown",
            "fchownat",
            "mkdir",
            "mkdirat",
            "mknod",
            "mknodat",
            "utime",
            "utimes",
            "futimesat",
            "utimensat",
        ],
    },
    Family {
        exit_program: "sys_exit_link",
        syscalls: &["link", "linkat", "symlink", "symlinkat"],
    },
    Family {
        exit_program: "sys_exit_sock",
        syscalls: &["connect", "bind", "listen"],
    },
    Family {
        exit_program: "sys_exit_send",
        syscalls: &["sendto", "sendmsg", "sendmmsg"],
    },
    // Only in processes whose stacks are copied (`stack::TRACED_STACKS`): where their code is.
    Family {
        exit_program: "sys_exit_mmap",
        syscalls: &["mmap"],
    },
    Family {
        exit_program: "sys_exit_exec",
        syscalls: &["execve", "execveat"],
    },
    Family {
        exit_program: "sys_exit_tamper",
        syscalls: &[
            "bpf",
            "ptrace",
            "process_vm_readv",
            "process_vm_writev",
            "pidfd_getfd",
            "kill",
            "tkill",
            "tgkill",
            "mount",
            "umount",
            "pivot_root",
            "chroot",
            "unshare",
            "setns",
            "open_tree",
            "move_mount",
            "fsopen",
            "fsconfig",
            "fsmount",
            "fspick",
            "mount_setattr",
            "io_uring_setup",
        ],
    },
];
