//! Kernel struct offsets for the probes, looked up in the running kernel's BTF.

use tracer_common::config::KernelOffsets;

use super::btf::{Btf, BtfError};

/// Finds every offset the probes read. Fails naming the first struct member it cannot find.
pub fn kernel_offsets(btf: &Btf) -> Result<KernelOffsets, BtfError> {
    let o = |s: &str, m: &str| btf.offset(s, m);
    Ok(KernelOffsets {
        task_pid: o("task_struct", "pid")?,
        task_tgid: o("task_struct", "tgid")?,
        task_fs: o("task_struct", "fs")?,
        task_files: o("task_struct", "files")?,
        task_mm: o("task_struct", "mm")?,
        task_exit_code: o("task_struct", "exit_code")?,
        task_signal: o("task_struct", "signal")?,
        signal_live: o("signal_struct", "live")?,
        fs_pwd_dentry: o("fs_struct", "pwd.dentry")?,
        dentry_inode: o("dentry", "d_inode")?,
        inode_ino: o("inode", "i_ino")?,
        inode_sb: o("inode", "i_sb")?,
        inode_mode: o("inode", "i_mode")?,
        sb_dev: o("super_block", "s_dev")?,
        files_fdt: o("files_struct", "fdt")?,
        fdt_max_fds: o("fdtable", "max_fds")?,
        fdt_fd: o("fdtable", "fd")?,
        file_inode: o("file", "f_inode")?,
        file_private_data: o("file", "private_data")?,
        socket_sk: o("socket", "sk")?,
        sk_family: o("sock", "__sk_common.skc_family")?,
        sk_num: o("sock", "__sk_common.skc_num")?,
        sk_dport: o("sock", "__sk_common.skc_dport")?,
        sk_daddr: o("sock", "__sk_common.skc_daddr")?,
        sk_rcv_saddr: o("sock", "__sk_common.skc_rcv_saddr")?,
        sk_v6_daddr: o("sock", "__sk_common.skc_v6_daddr")?,
        sk_v6_rcv_saddr: o("sock", "__sk_common.skc_v6_rcv_saddr")?,
        sk_type: o("sock", "sk_type")?,
        mm_arg_start: o("mm_struct", "arg_start")?,
        mm_arg_end: o("mm_struct", "arg_end")?,
        bprm_filename: o("linux_binprm", "filename")?,
        bprm_file: o("linux_binprm", "file")?,
        file_path_mnt: o("file", "f_path.mnt")?,
        file_path_dentry: o("file", "f_path.dentry")?,
        dentry_parent: o("dentry", "d_parent")?,
        dentry_name: o("dentry", "d_name.name")?,
        mount_mnt: o("mount", "mnt")?,
        mount_parent: o("mount", "mnt_parent")?,
        mount_mountpoint: o("mount", "mnt_mountpoint")?,
        vfsmount_root: o("vfsmount", "mnt_root")?,
        fs_root_mnt: o("fs_struct", "root.mnt")?,
        fs_root_dentry: o("fs_struct", "root.dentry")?,
        inode_nlink: o("inode", "i_nlink")?,
        mm_start_code: o("mm_struct", "start_code")?,
        mm_end_code: o("mm_struct", "end_code")?,
        mm_env_end: o("mm_struct", "env_end")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_running_kernel_has_every_member_the_probes_read() {
        let Ok(btf) = Btf::from_sys_fs() else {
            eprintln!("skipped: /sys/kernel/btf/vmlinux not readable");
            return;
        };
        let off = kernel_offsets(&btf).unwrap();
        // skc_dport and skc_num are adjacent halves of skc_portpair.
        assert_eq!(off.sk_num, off.sk_dport + 2);
        assert!(off.mm_arg_end > off.mm_arg_start);
        assert_eq!(off.mm_end_code, off.mm_start_code + 8);
        // `struct path` is { mnt, dentry }.
        assert_eq!(off.file_path_dentry, off.file_path_mnt + 8);
        assert_eq!(off.fs_root_dentry, off.fs_root_mnt + 8);
    }
}
