//! Reads of kernel structures at offsets the loader found in BTF (no CO-RE in Rust eBPF).
//! Every read goes through `bpf_probe_read_kernel`, so a wrong pointer yields `None`, never a
//! fault.

use aya_ebpf::helpers::generated::{bpf_get_current_task, bpf_probe_read_kernel};
use tracer_common::{event::InodeRef, net::SockInfo};

use crate::maps::conf;

/// Reads a `T` at `base + off` in kernel memory.
#[inline(always)]
pub fn read<T: Copy>(base: u64, off: u32) -> Option<T> {
    if base == 0 {
        return None;
    }
    let mut v = core::mem::MaybeUninit::<T>::uninit();
    // SAFETY: the helper checks the source address; the destination is our own stack slot.
    let rc = unsafe {
        bpf_probe_read_kernel(
            v.as_mut_ptr().cast(),
            core::mem::size_of::<T>() as u32,
            (base + off as u64) as *const _,
        )
    };
    // SAFETY: the helper filled all bytes when it returned 0.
    (rc == 0).then(|| unsafe { v.assume_init() })
}

/// The current task_struct pointer.
#[inline(always)]
pub fn current_task() -> u64 {
    // SAFETY: helper without arguments.
    unsafe { bpf_get_current_task() }
}

/// Identity of an inode pointer.
#[inline(always)]
fn inode_ref(inode: u64) -> Option<InodeRef> {
    let ino: u64 = read(inode, conf!(offsets.inode_ino))?;
    let sb: u64 = read(inode, conf!(offsets.inode_sb))?;
    let dev: u32 = read(sb, conf!(offsets.sb_dev))?;
    let mode: u16 = read(inode, conf!(offsets.inode_mode)).unwrap_or(0);
    Some(InodeRef {
        ino,
        dev,
        mode: mode as u32,
    })
}

/// Identity of the current task's working directory.
#[inline(always)]
pub fn cwd_ref() -> Option<InodeRef> {
    let fs: u64 = read(current_task(), conf!(offsets.task_fs))?;
    let dentry: u64 = read(fs, conf!(offsets.fs_pwd_dentry))?;
    let inode: u64 = read(dentry, conf!(offsets.dentry_inode))?;
    inode_ref(inode)
}

/// The `struct file *` behind descriptor `fd` of the current task.
#[inline(always)]
fn file_of(fd: i32) -> Option<u64> {
    if fd < 0 {
        return None;
    }
    let files: u64 = read(current_task(), conf!(offsets.task_files))?;
    let fdt: u64 = read(files, conf!(offsets.files_fdt))?;
    let max: u32 = read(fdt, conf!(offsets.fdt_max_fds))?;
    if fd as u32 >= max {
        return None;
    }
    let fds: u64 = read(fdt, conf!(offsets.fdt_fd))?;
    read(fds, fd as u32 * 8)
}

/// Identity of the file (directory) open as `fd` in the current task.
#[inline(always)]
pub fn fd_ref(fd: i32) -> Option<InodeRef> {
    let file = file_of(fd)?;
    let inode: u64 = read(file, conf!(offsets.file_inode))?;
    inode_ref(inode)
}

/// What the socket open as `fd` says about its family, type and both ends.
#[inline(always)]
pub fn sock_info(fd: i32, out: &mut SockInfo) {
    let Some(file) = file_of(fd) else { return };
    let Some(socket) = read::<u64>(file, conf!(offsets.file_private_data)) else {
        return;
    };
    let Some(sk) = read::<u64>(socket, conf!(offsets.socket_sk)) else {
        return;
    };
    out.family = read(sk, conf!(offsets.sk_family)).unwrap_or(0);
    out.sock_type = read(sk, conf!(offsets.sk_type)).unwrap_or(0);
    out.local_port = read(sk, conf!(offsets.sk_num)).unwrap_or(0);
    out.remote_port = u16::from_be(read(sk, conf!(offsets.sk_dport)).unwrap_or(0));
    out.local_addr4 = read(sk, conf!(offsets.sk_rcv_saddr)).unwrap_or(0);
    out.remote_addr4 = read(sk, conf!(offsets.sk_daddr)).unwrap_or(0);
    out.local_addr6 = read(sk, conf!(offsets.sk_v6_rcv_saddr)).unwrap_or([0; 16]);
    out.remote_addr6 = read(sk, conf!(offsets.sk_v6_daddr)).unwrap_or([0; 16]);
}
