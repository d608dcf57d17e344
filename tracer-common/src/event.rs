//! The header every event starts with, the event kinds and the per-event flags.

use crate::limits::COMM_LEN;

/// What an event is. Numbered in ranges per area (process 1.., file 16.., network 32..);
/// numbers are never reused.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A new process or thread ([`crate::process::ForkEvent`]).
    Fork = 1,
    /// A successful exec ([`crate::process::ExecEvent`]).
    Exec = 2,
    /// A failed exec attempt such as a PATH search miss ([`crate::process::ExecEvent`], no argv).
    ExecFailed = 3,
    /// A thread exited ([`crate::process::ExitEvent`]).
    Exit = 4,
    /// A proc macro ran for the first time in a process ([`crate::process::MacroEvent`]; the
    /// header's `macro_id` names it).
    MacroRun = 5,
    /// The user stack of a call, copied at its entry in a process that runs a program cargo
    /// built, into the stacks' own ring ([`crate::stack::StackEvent`]).
    Stack = 6,
    /// An executable file mapping in such a process ([`crate::stack::MapEvent`]).
    Map = 7,
    /// open/openat/openat2/creat ([`crate::file::FileEvent`]).
    Open = 16,
    /// unlink/unlinkat/rmdir ([`crate::file::FileEvent`]).
    Unlink = 17,
    /// rename/renameat/renameat2 ([`crate::file::RenameEvent`]).
    Rename = 18,
    /// A change to a file that is not its contents through an open: truncate, chmod, chown,
    /// mkdir, mknod, utimes families ([`crate::file::FileEvent`]; `mode` for chmod, mkdir and
    /// mknod).
    Meta = 19,
    /// link/linkat/symlink/symlinkat ([`crate::file::RenameEvent`]: `old_path` the existing
    /// file or the symlink's contents, `new_path` the new name).
    Link = 20,
    /// connect ([`crate::net::SockEvent`]).
    Connect = 32,
    /// bind ([`crate::net::SockEvent`]).
    Bind = 33,
    /// listen ([`crate::net::SockEvent`]).
    Listen = 34,
    /// A send to a DNS port (53, 5353, 5355) on sendto/sendmsg/sendmmsg
    /// ([`crate::net::SendEvent`]).
    DnsSend = 35,
    /// A sendto/sendmsg/sendmmsg to an explicit address that is not a DNS port: a datagram
    /// (or a TCP Fast Open connect) with no `connect` of its own ([`crate::net::SockEvent`]).
    Send = 36,
    /// A syscall that reaches for the tracer or another process ([`crate::tamper::TamperEvent`]).
    Tamper = 48,
}

impl EventKind {
    /// The kind for a raw header value, `None` for a number this version does not know.
    pub const fn from_u32(v: u32) -> Option<Self> {
        Some(match v {
            1 => Self::Fork,
            2 => Self::Exec,
            3 => Self::ExecFailed,
            4 => Self::Exit,
            5 => Self::MacroRun,
            6 => Self::Stack,
            7 => Self::Map,
            16 => Self::Open,
            17 => Self::Unlink,
            18 => Self::Rename,
            19 => Self::Meta,
            20 => Self::Link,
            32 => Self::Connect,
            33 => Self::Bind,
            34 => Self::Listen,
            35 => Self::DnsSend,
            36 => Self::Send,
            48 => Self::Tamper,
            _ => return None,
        })
    }

    /// Size in bytes of the record of this kind; the decoder checks it before reading.
    /// Exhaustive on purpose: a new kind cannot be added without saying its size.
    pub const fn record_size(self) -> usize {
        match self {
            Self::Fork => core::mem::size_of::<crate::process::ForkEvent>(),
            Self::Exec | Self::ExecFailed => core::mem::size_of::<crate::process::ExecEvent>(),
            Self::Exit => core::mem::size_of::<crate::process::ExitEvent>(),
            Self::MacroRun => core::mem::size_of::<crate::process::MacroEvent>(),
            Self::Stack => core::mem::size_of::<crate::stack::StackEvent>(),
            Self::Map => core::mem::size_of::<crate::stack::MapEvent>(),
            Self::Open | Self::Unlink | Self::Meta => {
                core::mem::size_of::<crate::file::FileEvent>()
            }
            Self::Rename | Self::Link => core::mem::size_of::<crate::file::RenameEvent>(),
            Self::Connect | Self::Bind | Self::Listen | Self::Send => {
                core::mem::size_of::<crate::net::SockEvent>()
            }
            Self::DnsSend => core::mem::size_of::<crate::net::SendEvent>(),
            Self::Tamper => core::mem::size_of::<crate::tamper::TamperEvent>(),
        }
    }
}

/// The first path of the event was longer than [`crate::limits::PATH_LEN`] and was cut.
pub const FLAG_PATH_TRUNCATED: u32 = 1 << 0;
/// The second path (rename target) was cut.
pub const FLAG_PATH2_TRUNCATED: u32 = 1 << 1;
/// The argv block was longer than [`crate::limits::ARGV_LEN`] and was cut.
pub const FLAG_ARGV_TRUNCATED: u32 = 1 << 2;
/// A user pointer could not be read (bad address, or memory not paged in): data is missing.
pub const FLAG_USER_FAULT: u32 = 1 << 3;
/// The kernel could not read the cwd or dirfd identity, so a relative path cannot be verified.
pub const FLAG_DIR_UNKNOWN: u32 = 1 << 4;
/// The payload was longer than [`crate::limits::PAYLOAD_LEN`] and was cut.
pub const FLAG_PAYLOAD_TRUNCATED: u32 = 1 << 5;
/// A fork created a thread (same thread group), not a process.
pub const FLAG_THREAD: u32 = 1 << 6;
/// An exit of the last thread of its group: the process is gone.
pub const FLAG_GROUP_DEAD: u32 = 1 << 7;

/// Marks a header that did not come from a syscall (scheduler tracepoints).
pub const NO_SYSCALL: u32 = u32::MAX;

/// Common header of every event. `pid`/`tid` are the kernel's tgid/pid of the task that acted.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct EventHeader {
    /// An [`EventKind`] value.
    pub kind: u32,
    /// `FLAG_*` bits.
    pub flags: u32,
    /// Nanoseconds since boot (`bpf_ktime_get_boot_ns`), monotonic across CPUs.
    pub ktime_ns: u64,
    /// Process id (thread group id).
    pub pid: u32,
    /// Thread id.
    pub tid: u32,
    /// Real uid of the task.
    pub uid: u32,
    /// x86-64 syscall number, or [`NO_SYSCALL`].
    pub syscall_nr: u32,
    /// Syscall return value: >= 0 success, < 0 a negated errno. 0 for non-syscall events.
    pub ret: i64,
    /// `comm` of the task (NUL-padded).
    pub comm: [u8; COMM_LEN],
    /// Proc macro whose code was running on this thread (or that started this process), as the
    /// cookie the loader attached its uprobes with; 0 for none.
    pub macro_id: u32,
    pub _pad: u32,
}

/// A file's identity as the kernel saw it when the syscall ran: used to verify that the path
/// userspace finds for a relative path's base directory is that directory, and to learn the
/// identity of directories the traced processes open. `ino == 0` means "not captured".
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InodeRef {
    /// Inode number.
    pub ino: u64,
    /// Kernel `dev_t` of the filesystem (MAJOR << 20 | MINOR).
    pub dev: u32,
    /// `i_mode` (file type and permission bits).
    pub mode: u32,
}

impl InodeRef {
    /// Same file (device and inode); the mode is not part of the identity.
    pub fn same_file(&self, other: &Self) -> bool {
        self.ino == other.ino && self.dev == other.dev
    }

    pub fn is_dir(&self) -> bool {
        self.mode & 0o170000 == 0o040000
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn header_layout_is_pinned() {
        assert_eq!(size_of::<EventHeader>(), 64);
        assert_eq!(offset_of!(EventHeader, macro_id), 56);
        assert_eq!(offset_of!(EventHeader, ktime_ns), 8);
        assert_eq!(offset_of!(EventHeader, pid), 16);
        assert_eq!(offset_of!(EventHeader, syscall_nr), 28);
        assert_eq!(offset_of!(EventHeader, ret), 32);
        assert_eq!(offset_of!(EventHeader, comm), 40);
        assert_eq!(size_of::<InodeRef>(), 16);
    }

    #[test]
    fn kinds_round_trip() {
        for k in [
            EventKind::Fork,
            EventKind::Exec,
            EventKind::ExecFailed,
            EventKind::Exit,
            EventKind::MacroRun,
            EventKind::Open,
            EventKind::Unlink,
            EventKind::Rename,
            EventKind::Connect,
            EventKind::Bind,
            EventKind::Listen,
            EventKind::Tamper,
            EventKind::DnsSend,
            EventKind::Stack,
            EventKind::Map,
        ] {
            assert_eq!(EventKind::from_u32(k as u32), Some(k));
            assert_eq!(k.record_size() % 8, 0, "{k:?} is not 8-byte sized");
        }
        assert_eq!(EventKind::from_u32(0), None);
        assert_eq!(EventKind::from_u32(8), None);
    }
}
