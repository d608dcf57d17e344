//! Reads of the traced process's memory (syscall arguments).

use aya_ebpf::helpers::generated::{bpf_probe_read_user, bpf_probe_read_user_str};
use tracer_common::limits::PATH_LEN;

/// Reads a `T` from user memory.
#[inline(always)]
pub fn read<T: Copy>(addr: u64) -> Option<T> {
    if addr == 0 {
        return None;
    }
    let mut v = core::mem::MaybeUninit::<T>::uninit();
    // SAFETY: the helper checks the source; the destination is our stack slot.
    let rc = unsafe {
        bpf_probe_read_user(
            v.as_mut_ptr().cast(),
            core::mem::size_of::<T>() as u32,
            addr as *const _,
        )
    };
    // SAFETY: fully written when rc == 0.
    (rc == 0).then(|| unsafe { v.assume_init() })
}

/// Copies the NUL-terminated user string at `addr` into `dst`. Returns the helper's length
/// (bytes including NUL, or a negative error) and whether the string was cut.
#[inline(always)]
pub fn read_path(addr: u64, dst: &mut [u8; PATH_LEN]) -> (i32, bool) {
    if addr == 0 {
        dst[0] = 0;
        return (-14, false); // EFAULT, as the kernel would answer
    }
    // SAFETY: dst is PATH_LEN bytes of ring-buffer memory we reserved.
    let n = unsafe {
        bpf_probe_read_user_str(dst.as_mut_ptr().cast(), PATH_LEN as u32, addr as *const _)
    } as i32;
    // A full buffer is either an exact fit or a cut: look at the next byte to tell.
    let cut =
        n == PATH_LEN as i32 && read::<u8>(addr + PATH_LEN as u64 - 1).is_some_and(|b| b != 0);
    (n, cut)
}

/// Bounds `v` to `0..=max` in a way the verifier can follow: the clamp is done in the very
/// register that is then passed to the helper (the compiler cannot move it to a copy).
#[inline(always)]
pub fn clamp(v: u64, max: u64) -> u64 {
    let mut r = v;
    // SAFETY: pure register arithmetic.
    unsafe {
        core::arch::asm!(
            "if {r} <= {m} goto +1",
            "{r} = {m}",
            r = inout(reg) r,
            m = in(reg) max,
            options(pure, nomem, nostack),
        );
    }
    r
}

/// Copies `len` bytes (at most `N`) of user memory at `addr` into `dst`; returns bytes copied.
#[inline(always)]
pub fn read_bytes<const N: usize>(addr: u64, len: u64, dst: &mut [u8; N]) -> u32 {
    if addr == 0 || len == 0 {
        return 0;
    }
    let n = clamp(len, N as u64);
    // SAFETY: n <= N, the size of dst.
    let rc = unsafe { bpf_probe_read_user(dst.as_mut_ptr().cast(), n as u32, addr as *const _) };
    if rc == 0 { n as u32 } else { 0 }
}
