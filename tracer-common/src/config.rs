//! The single configuration global the loader writes into the probes before loading them.
//!
//! Rust eBPF has no CO-RE relocations, so kernel struct offsets come from the running kernel's
//! BTF (`/sys/kernel/btf/vmlinux`), read by the loader, and are passed here.

/// Byte offsets of the kernel struct fields the probes read. Filled from BTF at start-up.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelOffsets {
    pub task_pid: u32,
    pub task_tgid: u32,
    pub task_fs: u32,
    pub task_files: u32,
    pub task_mm: u32,
    pub task_exit_code: u32,
    pub task_signal: u32,
    /// `signal_struct.live`: threads still alive; 0 at a thread's exit means the group is dead.
    pub signal_live: u32,
    /// `fs_struct.pwd` + `path.dentry`.
    pub fs_pwd_dentry: u32,
    pub dentry_inode: u32,
    pub inode_ino: u32,
    pub inode_sb: u32,
    pub inode_mode: u32,
    pub sb_dev: u32,
    pub files_fdt: u32,
    pub fdt_max_fds: u32,
    pub fdt_fd: u32,
    pub file_inode: u32,
    pub file_private_data: u32,
    pub socket_sk: u32,
    pub sk_family: u32,
    pub sk_num: u32,
    pub sk_dport: u32,
    pub sk_daddr: u32,
    pub sk_rcv_saddr: u32,
    pub sk_v6_daddr: u32,
    pub sk_v6_rcv_saddr: u32,
    pub sk_type: u32,
    pub mm_arg_start: u32,
    pub mm_arg_end: u32,
    pub bprm_filename: u32,
    /// `linux_binprm.file`: the program an exec runs.
    pub bprm_file: u32,
    /// `file.f_path` (`struct path`: `mnt`, `dentry`).
    pub file_path_mnt: u32,
    pub file_path_dentry: u32,
    pub dentry_parent: u32,
    /// `dentry.d_name.name`.
    pub dentry_name: u32,
    /// `struct mount` holds its `struct vfsmount` at `mount_mnt`.
    pub mount_mnt: u32,
    pub mount_parent: u32,
    pub mount_mountpoint: u32,
    pub vfsmount_root: u32,
    /// `fs_struct.root` (`struct path`): where the process's paths start.
    pub fs_root_mnt: u32,
    pub fs_root_dentry: u32,
    /// `inode.i_nlink`: names the file has (hard links).
    pub inode_nlink: u32,
    /// `mm_struct.start_code`/`end_code`: the program's own code, where a stack's walk ends
    /// in the binary cargo built.
    pub mm_start_code: u32,
    pub mm_end_code: u32,
    /// `mm_struct.env_end`: the top of the main thread's stack, so a copy of it stops there.
    pub mm_env_end: u32,
}

/// Everything the probes are told by the loader.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// Must equal [`crate::ABI_VERSION`]; the probes record nothing otherwise (a zeroed config).
    pub abi_version: u32,
    /// Non-zero: record every process, not only the traced tree.
    pub system_wide: u32,
    /// The tracer's own pid, never recorded (it would trace its own reads of the ring buffer).
    pub tracer_pid: u32,
    /// Non-zero (the daemon): a process that execs a program named `cargo` joins the traced
    /// set at that exec, and with it everything it starts.
    pub trace_cargo: u32,
    pub offsets: KernelOffsets,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_pinned() {
        assert_eq!(core::mem::size_of::<KernelOffsets>(), 46 * 4);
        assert_eq!(core::mem::size_of::<Config>(), 16 + 46 * 4);
    }
}
