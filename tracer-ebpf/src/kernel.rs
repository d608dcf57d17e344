//! Reads of kernel structures at offsets the loader found in BTF (no CO-RE in Rust eBPF).
//! Every read goes through `bpf_probe_read_kernel`, so a wrong pointer yields `None`, never a
//! fault.

use aya_ebpf::helpers::generated::{
    bpf_get_current_task, bpf_probe_read_kernel, bpf_probe_read_kernel_str,
};
use tracer_common::{
    event::InodeRef,
    kpath::{KPATH_COMPLETE, KPATH_DETACHED, KPATH_FAULT, KPATH_STEPS, KPATH_TOO_LONG, KernelPath},
    limits::NAME_LEN,
    net::SockInfo,
};

use crate::{maps::conf, user};

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

/// Writes the path of `file` (its `f_path`) into `out`, from the kernel's dentries and mounts,
/// up to the current task's root directory. See `tracer_common::kpath`.
#[inline(always)]
pub fn file_path(file: u64, out: &mut KernelPath) {
    out.len = 0;
    out.state = walk(file, out).unwrap_or(KPATH_FAULT);
}

#[inline(always)]
fn walk(file: u64, out: &mut KernelPath) -> Option<u32> {
    let fs: u64 = read(current_task(), conf!(offsets.task_fs))?;
    let root_mnt: u64 = read(fs, conf!(offsets.fs_root_mnt))?;
    let root_dentry: u64 = read(fs, conf!(offsets.fs_root_dentry))?;
    let mut dentry: u64 = read(file, conf!(offsets.file_path_dentry))?;
    let mut vfsmnt: u64 = read(file, conf!(offsets.file_path_mnt))?;
    // `struct vfsmount` is embedded in `struct mount`, which knows the mount's place.
    let mnt_off = conf!(offsets.mount_mnt) as u64;
    let mut off: u64 = 0;
    for _ in 0..KPATH_STEPS {
        if dentry == root_dentry && vfsmnt == root_mnt {
            out.len = off as u32;
            return Some(KPATH_COMPLETE);
        }
        let mnt = vfsmnt.wrapping_sub(mnt_off);
        let mnt_root: u64 = read(vfsmnt, conf!(offsets.vfsmount_root))?;
        if dentry == mnt_root {
            let parent: u64 = read(mnt, conf!(offsets.mount_parent))?;
            if parent == mnt {
                // The top of a mount tree that is not the process's root.
                return Some(KPATH_DETACHED);
            }
            dentry = read(mnt, conf!(offsets.mount_mountpoint))?;
            vfsmnt = parent + mnt_off;
            continue;
        }
        let parent: u64 = read(dentry, conf!(offsets.dentry_parent))?;
        if parent == dentry {
            return Some(KPATH_DETACHED);
        }
        let name: u64 = read(dentry, conf!(offsets.dentry_name))?;
        if off > KernelPath::LAST_START as u64 {
            out.len = off as u32;
            return Some(KPATH_TOO_LONG);
        }
        let at = user::clamp(off, KernelPath::LAST_START as u64);
        // SAFETY: `at + NAME_LEN <= KPATH_LEN`, inside the reserved record.
        let n = unsafe {
            bpf_probe_read_kernel_str(
                out.names.as_mut_ptr().add(at as usize).cast(),
                NAME_LEN as u32,
                name as *const _,
            )
        };
        if n <= 0 {
            return None;
        }
        off = at + n as u64;
        dentry = parent;
    }
    out.len = off as u32;
    Some(KPATH_TOO_LONG)
}

/// How many names the file open as `fd` has (0 when unknown).
#[inline(always)]
pub fn fd_nlink(fd: i32) -> u32 {
    file_of(fd)
        .and_then(|f| read::<u64>(f, conf!(offsets.file_inode)))
        .and_then(|inode| read::<u32>(inode, conf!(offsets.inode_nlink)))
        .unwrap_or(0)
}

/// The `struct file *` a successful exec runs (`linux_binprm.file`).
#[inline(always)]
pub fn bprm_file(bprm: u64) -> Option<u64> {
    read(bprm, conf!(offsets.bprm_file))
}

/// The path of the file open as `fd` in the current task.
#[inline(always)]
pub fn fd_path(fd: i32, out: &mut KernelPath) {
    match file_of(fd) {
        Some(file) if file != 0 => file_path(file, out),
        _ => {
            out.len = 0;
            out.state = KPATH_FAULT;
        }
    }
}

/// Identity of the directory a `struct file *` is in (its dentry's parent).
#[inline(always)]
pub fn parent_dir_ref(file: u64) -> Option<InodeRef> {
    let dentry: u64 = read(file, conf!(offsets.file_path_dentry))?;
    let parent: u64 = read(dentry, conf!(offsets.dentry_parent))?;
    let inode: u64 = read(parent, conf!(offsets.dentry_inode))?;
    inode_ref(inode)
}
