//! Records of a traced process reaching for the tracer or another process: `bpf(2)` (a root
//! tree can find the tracer's maps and rewrite them), `ptrace`, `process_vm_readv/writev`,
//! `pidfd_getfd`, and a signal to the tracer or to a whole process group; and the calls that
//! change which file a path names (mounts, `chroot`, `setns`, `unshare`). An honest build does
//! none of these; a trace with one cannot be trusted to be complete.

use crate::event::EventHeader;

/// One such syscall, at its exit (the header has the number and the result).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TamperEvent {
    pub header: EventHeader,
    /// The first argument: the `bpf` command, the `ptrace` request, the target pid of the
    /// others (a signal's target as passed: 0 or negative for a process group); for the
    /// namespace calls the flags where they come first (`unshare`), else the raw argument.
    pub arg0: i64,
    /// The second: the `ptrace` pid, the signal of `kill`, the tid of `tgkill`.
    pub arg1: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_pinned() {
        assert_eq!(core::mem::size_of::<TamperEvent>(), 64 + 16);
        assert_eq!(core::mem::offset_of!(TamperEvent, arg0), 64);
    }
}
