//! What runtime attribution needs from the kernel: the user stack of a system call made by a
//! program cargo built (a test or bin executable), and where executable files are mapped in it,
//! so userspace can unwind the stack (`.eh_frame`) and tell whose code made the call.
//!
//! Only processes marked in the traced set with [`TRACED_STACKS`] pay for it: userspace names
//! the directories cargo puts test and bin executables in ([`DirKey`] in `STACK_DIRS`), the
//! exec probe marks a process whose program is in one, a fork inherits the mark, and an exec
//! of anything else clears it. A directory rather than each program, because cargo runs a
//! test binary right after it reports it: the directory is known long before.

use crate::{
    event::{EventHeader, InodeRef},
    kpath::KernelPath,
    limits::STACK_LEN,
};

/// Value bit of the traced-set map: the process's syscalls get a [`StackEvent`].
pub const TRACED_STACKS: u32 = 1 << 1;
/// Value of the traced-set map for a process without stacks.
pub const TRACED_PLAIN: u32 = 1;

/// A directory whose programs' processes get stacks, by its identity.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirKey {
    /// Kernel `dev_t` of the filesystem (as [`InodeRef::dev`]).
    pub dev: u32,
    pub _pad: u32,
    pub ino: u64,
}

/// The user registers and the top of the user stack at a system call's entry (or, for a fork,
/// in the parent), in the `STACKS` ring. It belongs to the thread's first record after it (its
/// header's time); the header's `syscall_nr` names the call ([`crate::event::NO_SYSCALL`] for
/// a fork).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct StackEvent {
    pub header: EventHeader,
    /// User instruction pointer, stack pointer and frame pointer.
    pub ip: u64,
    pub sp: u64,
    pub bp: u64,
    /// `mm->start_code .. end_code`: the main program's code as mapped.
    pub code_start: u64,
    pub code_end: u64,
    /// Bytes of `bytes` copied from `sp` upwards (0 if the stack could not be read).
    pub len: u32,
    pub _pad: u32,
    pub bytes: [u8; STACK_LEN],
}

/// An executable file mapping made with `mmap(PROT_EXEC)` (a shared library the dynamic
/// loader maps), successful only.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MapEvent {
    pub header: EventHeader,
    /// Start and length of the mapping, and its offset in the file (bytes).
    pub addr: u64,
    pub len: u64,
    pub offset: u64,
    /// The file mapped.
    pub file: InodeRef,
    /// Its path, as the kernel names it.
    pub real: KernelPath,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::KPATH_LEN;
    use core::mem::{offset_of, size_of};

    #[test]
    fn layouts_are_pinned() {
        assert_eq!(size_of::<DirKey>(), 16);
        assert_eq!(offset_of!(StackEvent, ip), 64);
        assert_eq!(offset_of!(StackEvent, len), 104);
        assert_eq!(offset_of!(StackEvent, bytes), 112);
        assert_eq!(size_of::<StackEvent>(), 112 + STACK_LEN);
        assert_eq!(offset_of!(MapEvent, file), 88);
        assert_eq!(size_of::<MapEvent>(), 104 + 8 + KPATH_LEN);
    }
}
