//! File probes: open family, unlink family, rename family, metadata calls, links.

use aya_ebpf::{macros::tracepoint, programs::TracePointContext};
use tracer_common::{
    event::{
        EventKind, FLAG_DIR_UNKNOWN, FLAG_PATH_TRUNCATED, FLAG_PATH2_TRUNCATED, FLAG_USER_FAULT,
        InodeRef,
    },
    file::{AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW, FileEvent, RenameEvent},
    kpath::KPATH_NONE,
    syscalls as nr,
};

use crate::{emit, kernel, probes::syscall::take, user};

/// `O_CREAT | O_WRONLY | O_TRUNC`: what `creat(2)` means.
const CREAT_FLAGS: u32 = 0o100 | 0o1 | 0o1000;

/// The base directory of a path: nothing for an absolute path, the cwd for `AT_FDCWD`, the
/// directory open as `dirfd` otherwise.
#[inline(always)]
fn base_of(path0: u8, dirfd: i32, flags: &mut u32) -> (InodeRef, InodeRef) {
    let none = InodeRef::default();
    if path0 == b'/' {
        return (none, none);
    }
    let found = if dirfd == AT_FDCWD {
        kernel::cwd_ref()
    } else {
        kernel::fd_ref(dirfd)
    };
    match found {
        Some(r) if dirfd == AT_FDCWD => (r, none),
        Some(r) => (none, r),
        None => {
            *flags |= FLAG_DIR_UNKNOWN;
            (none, none)
        }
    }
}

#[tracepoint]
pub fn sys_exit_open(ctx: TracePointContext) -> u32 {
    let Some((a, ret)) = take(&ctx) else { return 0 };
    let n = a.nr as u32;
    let (dirfd, path, flags, mode) = match n {
        nr::OPEN => (AT_FDCWD, a.args[0], a.args[1] as u32, a.args[2] as u32),
        nr::CREAT => (AT_FDCWD, a.args[0], CREAT_FLAGS, a.args[1] as u32),
        nr::OPENAT => (
            a.args[0] as i32,
            a.args[1],
            a.args[2] as u32,
            a.args[3] as u32,
        ),
        nr::OPENAT2 => {
            // struct open_how { u64 flags; u64 mode; u64 resolve; }
            let f: u64 = user::read(a.args[2]).unwrap_or(0);
            let m: u64 = user::read(a.args[2] + 8).unwrap_or(0);
            (a.args[0] as i32, a.args[1], f as u32, m as u32)
        }
        _ => return 0,
    };
    emit_file(EventKind::Open, n, ret, dirfd, path, flags, mode);
    0
}

#[tracepoint]
pub fn sys_exit_unlink(ctx: TracePointContext) -> u32 {
    let Some((a, ret)) = take(&ctx) else { return 0 };
    let n = a.nr as u32;
    let (dirfd, path, flags) = match n {
        nr::UNLINK => (AT_FDCWD, a.args[0], 0),
        nr::RMDIR => (AT_FDCWD, a.args[0], AT_REMOVEDIR),
        nr::UNLINKAT => (a.args[0] as i32, a.args[1], a.args[2] as u32),
        _ => return 0,
    };
    emit_file(EventKind::Unlink, n, ret, dirfd, path, flags, 0);
    0
}

/// The metadata calls: what they change is named by the path as passed (like unlink).
#[tracepoint]
pub fn sys_exit_meta(ctx: TracePointContext) -> u32 {
    let Some((a, ret)) = take(&ctx) else { return 0 };
    let n = a.nr as u32;
    let (x0, x1, x2, x3) = (a.args[0], a.args[1], a.args[2], a.args[3]);
    // (dirfd, path, AT_* flags, mode)
    let (dirfd, path, flags, mode) = match n {
        nr::TRUNCATE | nr::CHOWN | nr::UTIME | nr::UTIMES => (AT_FDCWD, x0, 0, 0),
        // On a descriptor: no path, the file is the descriptor's.
        nr::FTRUNCATE | nr::FALLOCATE | nr::FCHOWN => (x0 as i32, 0, 0, 0),
        nr::FCHMOD => (x0 as i32, 0, 0, x1 as u32),
        nr::LCHOWN => (AT_FDCWD, x0, AT_SYMLINK_NOFOLLOW, 0),
        nr::CHMOD | nr::MKDIR => (AT_FDCWD, x0, 0, x1 as u32),
        nr::MKNOD => (AT_FDCWD, x0, 0, x1 as u32),
        nr::FCHMODAT | nr::MKDIRAT | nr::MKNODAT => (x0 as i32, x1, 0, x2 as u32),
        nr::FCHMODAT2 => (x0 as i32, x1, x3 as u32, x2 as u32),
        nr::FCHOWNAT => (x0 as i32, x1, a.args[4] as u32, 0),
        nr::FUTIMESAT => (x0 as i32, x1, 0, 0),
        nr::UTIMENSAT => (x0 as i32, x1, x3 as u32, 0),
        _ => return 0,
    };
    emit_meta(n, ret, dirfd, path, flags, mode);
    0
}

/// `AT_EMPTY_PATH`: the call acts on `dirfd` itself.
const AT_EMPTY_PATH: u32 = 0x1000;

/// A metadata change, by the path as passed. With no path (`utimensat(fd, NULL, …)`, what
/// `futimens` is) or an empty one under `AT_EMPTY_PATH`, the file is `dirfd`'s own: its
/// identity is recorded as the base of the empty path, and userspace names it as it names any
/// directory fd (the kernel's walk here is beyond the verifier's budget with this many calls).
#[inline(always)]
fn emit_meta(n: u32, ret: i64, dirfd: i32, path: u64, flags: u32, mode: u32) {
    let Some(mut entry) = emit::reserve::<FileEvent>() else {
        return;
    };
    // SAFETY: every field is written below before submit.
    let e = unsafe { &mut *entry.as_mut_ptr() };
    emit::header(&mut e.header, EventKind::Meta, n, ret);
    e.dirfd = dirfd;
    e.flags = flags;
    e.mode = mode;
    e._pad = 0;
    e.nlink = 0;
    e.opened = InodeRef::default();
    e.cwd = InodeRef::default();
    e.dir = InodeRef::default();
    e.path[0] = 0;
    e.path_len = 0;
    e.real.state = KPATH_NONE;
    e.real.len = 0;
    let mut f = 0;
    if path != 0 {
        let (len, cut) = user::read_path(path, &mut e.path);
        e.path_len = len;
        if cut {
            f |= FLAG_PATH_TRUNCATED;
        }
        if len <= 0 {
            f |= FLAG_USER_FAULT;
        }
    }
    let by_fd = path == 0 || (flags & AT_EMPTY_PATH != 0 && e.path_len <= 1);
    if by_fd {
        f &= !FLAG_USER_FAULT;
        e.path[0] = 0;
        e.path_len = 1;
        match kernel::fd_ref(dirfd) {
            Some(r) => e.dir = r,
            None => f |= FLAG_DIR_UNKNOWN,
        }
    } else {
        let (cwd, dir) = base_of(e.path[0], dirfd, &mut f);
        e.cwd = cwd;
        e.dir = dir;
    }
    e.header.flags = f;
    entry.submit(0);
}

#[inline(always)]
fn emit_file(kind: EventKind, n: u32, ret: i64, dirfd: i32, path: u64, flags: u32, mode: u32) {
    let Some(mut entry) = emit::reserve::<FileEvent>() else {
        return;
    };
    // SAFETY: every field is written below before submit.
    let e = unsafe { &mut *entry.as_mut_ptr() };
    emit::header(&mut e.header, kind, n, ret);
    e.dirfd = dirfd;
    e.flags = flags;
    e.mode = mode;
    let (len, cut) = user::read_path(path, &mut e.path);
    e.path_len = len;
    let mut f = 0;
    if cut {
        f |= FLAG_PATH_TRUNCATED;
    }
    if len <= 0 {
        f |= FLAG_USER_FAULT;
    }
    let (cwd, dir) = base_of(e.path[0], dirfd, &mut f);
    e.cwd = cwd;
    e.dir = dir;
    e._pad = 0;
    if kind == EventKind::Open && ret >= 0 {
        e.opened = kernel::fd_ref(ret as i32).unwrap_or_default();
        e.nlink = kernel::fd_nlink(ret as i32);
        // Last: the walk's many exits multiply the verifier's work on whatever follows it.
        kernel::fd_path(ret as i32, &mut e.real);
    } else {
        e.nlink = 0;
        e.opened = InodeRef::default();
        e.real.state = KPATH_NONE;
        e.real.len = 0;
    }
    e.header.flags = f;
    entry.submit(0);
}

#[tracepoint]
pub fn sys_exit_rename(ctx: TracePointContext) -> u32 {
    let Some((a, ret)) = take(&ctx) else { return 0 };
    let n = a.nr as u32;
    let (od, op, nd, np, flags) = match n {
        nr::RENAME => (AT_FDCWD, a.args[0], AT_FDCWD, a.args[1], 0),
        nr::RENAMEAT => (a.args[0] as i32, a.args[1], a.args[2] as i32, a.args[3], 0),
        nr::RENAMEAT2 => (
            a.args[0] as i32,
            a.args[1],
            a.args[2] as i32,
            a.args[3],
            a.args[4] as u32,
        ),
        _ => return 0,
    };
    emit_two_paths(EventKind::Rename, n, ret, (od, op), (nd, np), flags);
    0
}

/// Links: the existing file (or a symlink's contents) and the new name.
#[tracepoint]
pub fn sys_exit_link(ctx: TracePointContext) -> u32 {
    let Some((a, ret)) = take(&ctx) else { return 0 };
    let n = a.nr as u32;
    let (x0, x1, x2, x3) = (a.args[0], a.args[1], a.args[2], a.args[3]);
    let (old, new, flags) = match n {
        nr::LINK => ((AT_FDCWD, x0), (AT_FDCWD, x1), 0),
        nr::LINKAT => ((x0 as i32, x1), (x2 as i32, x3), a.args[4] as u32),
        // A symlink's contents are not resolved against anything: no base.
        nr::SYMLINK => ((AT_FDCWD, x0), (AT_FDCWD, x1), 0),
        nr::SYMLINKAT => ((AT_FDCWD, x0), (x1 as i32, x2), 0),
        _ => return 0,
    };
    emit_two_paths(EventKind::Link, n, ret, old, new, flags);
    0
}

#[inline(always)]
fn emit_two_paths(
    kind: EventKind,
    n: u32,
    ret: i64,
    (od, op): (i32, u64),
    (nd, np): (i32, u64),
    flags: u32,
) {
    let Some(mut entry) = emit::reserve::<RenameEvent>() else {
        return;
    };
    // SAFETY: every field is written below before submit.
    let e = unsafe { &mut *entry.as_mut_ptr() };
    emit::header(&mut e.header, kind, n, ret);
    e.old_dirfd = od;
    e.new_dirfd = nd;
    e.flags = flags;
    e._pad = 0;
    let mut f = 0;
    let (ol, ocut) = user::read_path(op, &mut e.old_path);
    let (nl, ncut) = user::read_path(np, &mut e.new_path);
    e.old_len = ol;
    e.new_len = nl;
    if ocut {
        f |= FLAG_PATH_TRUNCATED;
    }
    if ncut {
        f |= FLAG_PATH2_TRUNCATED;
    }
    if ol <= 0 || nl <= 0 {
        f |= FLAG_USER_FAULT;
    }
    let (c1, d1) = base_of(e.old_path[0], od, &mut f);
    let (c2, d2) = base_of(e.new_path[0], nd, &mut f);
    e.cwd = if c1.ino != 0 { c1 } else { c2 };
    e.old_dir = d1;
    e.new_dir = d2;
    e.header.flags = f;
    entry.submit(0);
}
