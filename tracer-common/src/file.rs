//! File records: open/openat/openat2/creat, unlink/unlinkat/rmdir, rename/renameat/renameat2,
//! the metadata calls (truncate, chmod, chown, mkdir, mknod, utimes) and links.

use crate::{
    event::{EventHeader, InodeRef},
    kpath::KernelPath,
    limits::PATH_LEN,
};

/// `dirfd` value meaning "relative to the cwd" (`AT_FDCWD`).
pub const AT_FDCWD: i32 = -100;
/// `unlinkat` flag: remove a directory.
pub const AT_REMOVEDIR: u32 = 0x200;
/// `*at` flag: act on a symbolic link itself (`lchown`).
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;

/// An open (kind `Open`), a removal (kind `Unlink`) or a metadata change (kind `Meta`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct FileEvent {
    pub header: EventHeader,
    /// Directory fd the path is relative to, or [`AT_FDCWD`].
    pub dirfd: i32,
    /// Open: the `O_*` flags (creat is reported as `O_CREAT|O_WRONLY|O_TRUNC`).
    /// Unlink: the `AT_*` flags (`rmdir` is reported as [`AT_REMOVEDIR`]).
    /// Meta: the `AT_*` flags where the call has them (`lchown` is [`AT_SYMLINK_NOFOLLOW`]).
    pub flags: u32,
    /// Open: the mode for a created file. Meta: the new mode (chmod) or the created one's
    /// (mkdir, mknod, with the file type bits).
    pub mode: u32,
    /// Bytes of `path` used including NUL; <= 0 if it could not be read.
    pub path_len: i32,
    /// Identity of the cwd, captured only for a relative path with `AT_FDCWD`.
    pub cwd: InodeRef,
    /// Identity of `dirfd`'s directory, captured only for a relative path with a real dirfd.
    pub dir: InodeRef,
    /// Open that succeeded: identity of the file it opened (lets userspace learn directories).
    pub opened: InodeRef,
    pub path: [u8; PATH_LEN],
    /// Open that succeeded: the path of what it opened, as the kernel names it.
    pub real: KernelPath,
    /// Open that succeeded: how many names (hard links) the opened file has.
    pub nlink: u32,
    pub _pad: u32,
}

/// A rename (kind `Rename`) or a link (kind `Link`: `old` is the existing file, or for a
/// symlink the contents it is given, `new` the name made): both paths, each with its own base
/// directory.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RenameEvent {
    pub header: EventHeader,
    pub old_dirfd: i32,
    pub new_dirfd: i32,
    /// `RENAME_*` flags of renameat2.
    pub flags: u32,
    pub old_len: i32,
    pub new_len: i32,
    pub _pad: u32,
    pub cwd: InodeRef,
    pub old_dir: InodeRef,
    pub new_dir: InodeRef,
    pub old_path: [u8; PATH_LEN],
    pub new_path: [u8; PATH_LEN],
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::KPATH_LEN;
    use core::mem::{offset_of, size_of};

    #[test]
    fn layouts_are_pinned() {
        assert_eq!(offset_of!(FileEvent, dirfd), 64);
        assert_eq!(offset_of!(FileEvent, cwd), 80);
        assert_eq!(offset_of!(FileEvent, dir), 96);
        assert_eq!(offset_of!(FileEvent, opened), 112);
        assert_eq!(offset_of!(FileEvent, path), 128);
        assert_eq!(offset_of!(FileEvent, real), 128 + PATH_LEN);
        assert_eq!(offset_of!(FileEvent, nlink), 128 + PATH_LEN + 8 + KPATH_LEN);
        assert_eq!(size_of::<FileEvent>(), 128 + PATH_LEN + 8 + KPATH_LEN + 8);
        assert_eq!(offset_of!(RenameEvent, cwd), 88);
        assert_eq!(offset_of!(RenameEvent, old_path), 136);
        assert_eq!(size_of::<RenameEvent>(), 136 + 2 * PATH_LEN);
    }
}
