//! The path of what a syscall reached, as the kernel's own dentries and mounts name it: read at
//! syscall exit from the new descriptor's `struct file` (or, for an exec, from the program's
//! file), so symbolic links, `..`, `/proc/self/root`, `/proc/self/fd/N` and a buffer rewritten
//! after entry have all been resolved by the kernel, not by a string the process chose.
//!
//! The probe walks from the file up to the process's root directory and stores one name per
//! step, leaf first, each NUL-terminated (writing forwards keeps every store's offset provably
//! in bounds for the verifier); userspace reverses them.

use crate::limits::{KPATH_LEN, NAME_LEN};

/// Why a walk stopped. Only [`KPATH_COMPLETE`] gives a path.
pub const KPATH_NONE: u32 = 0;
/// Reached the process's root: `names` is the whole path.
pub const KPATH_COMPLETE: u32 = 1;
/// More names (or mount crossings) than fit.
pub const KPATH_TOO_LONG: u32 = 2;
/// A kernel read failed.
pub const KPATH_FAULT: u32 = 3;
/// The file is not reachable from the process's root: a pipe, a socket, an anonymous or
/// internal file, or one outside the process's `chroot`.
pub const KPATH_DETACHED: u32 = 4;

/// Steps of the walk (names plus mount crossings) a probe takes at most.
pub const KPATH_STEPS: u32 = 48;

/// A walked path.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct KernelPath {
    /// One of the `KPATH_*` states.
    pub state: u32,
    /// Bytes of `names` used.
    pub len: u32,
    /// Names leaf first, each with its NUL. The last [`NAME_LEN`] bytes are only ever written
    /// by a name that starts before them.
    pub names: [u8; KPATH_LEN],
}

impl KernelPath {
    /// Where a name may still start: a whole name (up to `NAME_LEN` bytes) fits after it.
    pub const LAST_START: u32 = (KPATH_LEN - NAME_LEN) as u32;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_pinned() {
        assert_eq!(core::mem::size_of::<KernelPath>(), 8 + KPATH_LEN);
        assert_eq!(KernelPath::LAST_START, 768);
    }
}
