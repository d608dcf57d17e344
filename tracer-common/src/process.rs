//! Process lifecycle records: fork/clone, exec (and failed attempts), exit.

use crate::{
    event::{EventHeader, InodeRef},
    kpath::KernelPath,
    limits::{ARGV_LEN, PATH_LEN},
};

/// A fork/clone, emitted in the parent's context. `FLAG_THREAD` in the header tells a new
/// thread from a new process.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ForkEvent {
    pub header: EventHeader,
    /// Thread group id of the child (== parent pid for a thread).
    pub child_pid: u32,
    /// Thread id of the child.
    pub child_tid: u32,
}

/// A successful exec (kind `Exec`, from `sched_process_exec`, argv read from the new image) or a
/// failed attempt (kind `ExecFailed`, from the syscall exit, `argv_len == 0`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ExecEvent {
    pub header: EventHeader,
    /// Bytes of `filename` used including NUL; <= 0 if it could not be read.
    pub filename_len: i32,
    /// Bytes of `argv` captured.
    pub argv_len: u32,
    /// Size of the full argument block in the new image (`arg_end - arg_start`).
    pub argv_total: u64,
    /// The process's cwd when it exec'ed (for resolving a relative `filename`).
    pub cwd: InodeRef,
    /// Path as passed to exec (`bprm->filename`: may be relative).
    pub filename: [u8; PATH_LEN],
    /// NUL-separated argv.
    pub argv: [u8; ARGV_LEN],
    /// A successful exec: the path of the program file, as the kernel names it.
    pub real: KernelPath,
}

/// A thread exit. `FLAG_GROUP_DEAD` marks the exit of the whole process.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ExitEvent {
    pub header: EventHeader,
    /// `task_struct::exit_code`: `(status << 8) | signal`, as `wait(2)` reports it.
    pub exit_code: i32,
    pub _pad: u32,
}

/// A proc macro's first run in a process: even a macro that makes no syscalls is seen to run.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MacroEvent {
    pub header: EventHeader,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::KPATH_LEN;
    use core::mem::{offset_of, size_of};

    #[test]
    fn layouts_are_pinned() {
        assert_eq!(size_of::<ForkEvent>(), 72);
        assert_eq!(offset_of!(ExecEvent, filename_len), 64);
        assert_eq!(offset_of!(ExecEvent, cwd), 80);
        assert_eq!(offset_of!(ExecEvent, filename), 96);
        assert_eq!(offset_of!(ExecEvent, real), 96 + PATH_LEN + ARGV_LEN);
        assert_eq!(
            size_of::<ExecEvent>(),
            96 + PATH_LEN + ARGV_LEN + 8 + KPATH_LEN
        );
        assert_eq!(size_of::<ExitEvent>(), 72);
        assert_eq!(size_of::<MacroEvent>(), 64);
    }
}
