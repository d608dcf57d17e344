//! The kernel/user contract of cargo-tracer.
//!
//! Every type here is `#[repr(C)]`, has no implicit padding (explicit `_pad` fields instead), and
//! is shared byte-for-byte by the eBPF probes (`tracer-ebpf`) and the daemon (`tracer-user`). Any
//! change to a layout or a meaning bumps [`ABI_VERSION`]; the daemon refuses an object whose
//! version differs from its own. The layout tests at the bottom of each module pin sizes and
//! offsets so an accidental change fails to compile or to test.
#![no_std]

pub mod config;
pub mod counters;
pub mod event;
pub mod file;
pub mod kpath;
pub mod limits;
pub mod net;
pub mod process;
pub mod stack;
pub mod syscalls;
pub mod tamper;

/// Version of the layouts in this crate. Bumped on any change of size, offset or meaning.
pub const ABI_VERSION: u32 = 9;

/// Implements `aya::Pod` for the userspace build: the loader writes [`config::Config`] as a
/// global and decodes events from the ring buffer.
#[cfg(feature = "user")]
mod pod {
    use crate::{config::Config, config::KernelOffsets};
    // SAFETY: #[repr(C)], only integers, no padding (see its layout test).
    unsafe impl aya::Pod for Config {}
    // SAFETY: as above.
    unsafe impl aya::Pod for KernelOffsets {}
    // SAFETY: as above.
    unsafe impl aya::Pod for crate::stack::DirKey {}
}
