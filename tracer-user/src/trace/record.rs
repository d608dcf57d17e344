//! One event of a trace, as the public schema has it (`docs/EVENTS.md`): the header every
//! event has (sequence, time, process, syscall, result) and the kind-specific fields.

use serde::{Deserialize, Serialize};
use tracer_common::syscalls as nr;

use super::{SCHEMA_VERSION, access};
use crate::{
    events::{self, Detail, Event, Reached, SockAddr, dns, errno, reached::Unknown},
    proctable::paths::ResolvedPath,
};

/// One event line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    pub schema_version: u32,
    pub seq: u64,
    /// Nanoseconds since boot.
    pub ts_ns: u64,
    pub pid: u32,
    pub tid: u32,
    /// The process that created `pid` (kept across reparenting), if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ppid: Option<u32>,
    pub uid: u32,
    pub comm: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub syscall: Option<String>,
    /// The syscall succeeded.
    pub ok: bool,
    /// Raw return value (>= 0 result, < 0 negated errno).
    pub ret: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errno: Option<String>,
    /// The proc-macro library whose code was running on this thread (path of the `.so`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proc_macro: Option<String>,
    /// The user stack of the call, in a program cargo built (a test or bin executable): its id
    /// in the trace's stacks (`trace::stack::StackTable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_id: Option<u32>,
    #[serde(flatten)]
    pub detail: RecordDetail,
}

/// Kind-specific fields; `kind` names the variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecordDetail {
    Fork {
        child_pid: u32,
        child_tid: u32,
        thread: bool,
    },
    Exec {
        path: ResolvedPath,
        argv: Vec<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        argv_truncated: bool,
        #[serde(flatten)]
        real: Real,
    },
    ExecFailed {
        path: ResolvedPath,
    },
    Exit {
        /// Exit status (0–255) when the process exited normally.
        #[serde(skip_serializing_if = "Option::is_none")]
        exit_code: Option<i32>,
        /// The terminating signal when it was killed.
        #[serde(skip_serializing_if = "Option::is_none")]
        signal: Option<i32>,
        /// Last thread of the process: the process is gone.
        process_exit: bool,
    },
    /// A proc macro ran in this process for the first time (`proc_macro` names it).
    ProcMacro {},
    Open {
        path: ResolvedPath,
        access: access::Access,
        flags: String,
        mode: String,
        /// What the open reached, as the kernel's inode says (a successful open only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_type: Option<FileType>,
        #[serde(flatten)]
        real: Real,
        /// A regular file with more than one name (hard links): how many.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        links: Option<u32>,
    },
    Unlink {
        path: ResolvedPath,
        rmdir: bool,
    },
    /// A change to a file other than through an open (`syscall` says which: truncate, chmod,
    /// chown, mkdir, mknod, utimes…), by the path as passed.
    Meta {
        path: ResolvedPath,
        /// The new mode (chmod) or the created file's (mkdir, mknod), octal.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mode: Option<String>,
        /// A set-user-ID or set-group-ID bit in that mode.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        setuid: bool,
    },
    /// A new name: a hard link to `existing`, or a symlink whose contents are `target`.
    Link {
        link: ResolvedPath,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        existing: Option<ResolvedPath>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<String>,
    },
    Rename {
        from: ResolvedPath,
        to: ResolvedPath,
        flags: u32,
    },
    Connect {
        fd: i32,
        /// Where the socket connected: the kernel's socket's peer when it has one (read at the
        /// syscall's exit), else the address the process passed.
        addr: SockAddr,
        /// The address the process passed, when the kernel's socket says another: a thread
        /// rewrote the buffer while the syscall ran.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        claimed: Option<SockAddr>,
        socket: SocketMeta,
    },
    Bind {
        fd: i32,
        addr: SockAddr,
        socket: SocketMeta,
    },
    /// A datagram (or a TCP Fast Open connect) sent to an explicit address that is not a DNS
    /// port, as the process passed it: it reaches that address without a `connect`.
    Send {
        fd: i32,
        addr: SockAddr,
        socket: SocketMeta,
    },
    Listen {
        fd: i32,
        backlog: i32,
        /// The address the socket listens on, as the kernel's socket says.
        local: SockAddr,
        socket: SocketMeta,
    },
    Dns {
        fd: i32,
        server: SockAddr,
        msg_index: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        query: Option<dns::Query>,
        #[serde(skip_serializing_if = "Option::is_none")]
        decode_error: Option<String>,
        payload_bytes: u32,
    },
    /// A syscall reaching for the tracer or another process: `bpf`, `ptrace`,
    /// `process_vm_readv/writev`, `pidfd_getfd`, or a signal to the tracer or a process group;
    /// or one about mounts and namespaces (`syscall` names it). The trace cannot be trusted to
    /// be complete (a namespace call only once one that changes the view succeeded).
    Tamper {
        /// The first argument (the `bpf` command, the `ptrace` request, the target pid).
        arg0: i64,
        arg1: i64,
    },
}

/// The path of what a successful open or exec reached, by the kernel's own names (symbolic
/// links, `..` and `/proc` magic links resolved), or why the probe could not name it. Since
/// trace schema 3; older records have neither field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Real {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real_unknown: Option<Unknown>,
}

impl Real {
    /// The kernel's path when it gave one, else the string as resolved in userspace.
    pub fn or<'a>(&'a self, p: &'a ResolvedPath) -> &'a str {
        self.real.as_deref().unwrap_or_else(|| p.best())
    }

    fn of(r: &Reached) -> Self {
        Self {
            real: r.path().map(str::to_string),
            real_unknown: r.unknown(),
        }
    }
}

/// The type of the file an open reached (`S_IFMT` of its inode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileType {
    Regular,
    Directory,
    Symlink,
    Fifo,
    Socket,
    CharDevice,
    BlockDevice,
}

impl FileType {
    /// From an inode's `i_mode`; `None` for a mode the kernel did not give (0) or does not have.
    pub fn from_mode(mode: u32) -> Option<Self> {
        Some(match mode & 0o170000 {
            0o100000 => Self::Regular,
            0o040000 => Self::Directory,
            0o120000 => Self::Symlink,
            0o010000 => Self::Fifo,
            0o140000 => Self::Socket,
            0o020000 => Self::CharDevice,
            0o060000 => Self::BlockDevice,
            _ => return None,
        })
    }

    /// A pipe or a socket: reading one reads what another process sent, no file's contents.
    pub fn is_channel(self) -> bool {
        matches!(self, Self::Fifo | Self::Socket)
    }
}

/// What the socket itself reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocketMeta {
    #[serde(rename = "type")]
    pub sock_type: String,
}

fn sock_type(t: u16) -> &'static str {
    match t {
        1 => "stream",
        2 => "dgram",
        3 => "raw",
        5 => "seqpacket",
        _ => "unknown",
    }
}

/// Name of a traced syscall number.
pub fn syscall_name(n: u32) -> &'static str {
    match n {
        nr::OPEN => "open",
        nr::CREAT => "creat",
        nr::OPENAT => "openat",
        nr::OPENAT2 => "openat2",
        nr::UNLINK => "unlink",
        nr::RMDIR => "rmdir",
        nr::UNLINKAT => "unlinkat",
        nr::RENAME => "rename",
        nr::RENAMEAT => "renameat",
        nr::RENAMEAT2 => "renameat2",
        nr::TRUNCATE => "truncate",
        nr::FTRUNCATE => "ftruncate",
        nr::FALLOCATE => "fallocate",
        nr::FCHMOD => "fchmod",
        nr::FCHOWN => "fchown",
        nr::CHMOD => "chmod",
        nr::FCHMODAT => "fchmodat",
        nr::FCHMODAT2 => "fchmodat2",
        nr::CHOWN => "chown",
        nr::LCHOWN => "lchown",
        nr::FCHOWNAT => "fchownat",
        nr::MKDIR => "mkdir",
        nr::MKDIRAT => "mkdirat",
        nr::MKNOD => "mknod",
        nr::MKNODAT => "mknodat",
        nr::UTIME => "utime",
        nr::UTIMES => "utimes",
        nr::FUTIMESAT => "futimesat",
        nr::UTIMENSAT => "utimensat",
        nr::LINK => "link",
        nr::LINKAT => "linkat",
        nr::SYMLINK => "symlink",
        nr::SYMLINKAT => "symlinkat",
        nr::CONNECT => "connect",
        nr::BIND => "bind",
        nr::LISTEN => "listen",
        nr::SENDTO => "sendto",
        nr::SENDMSG => "sendmsg",
        nr::SENDMMSG => "sendmmsg",
        nr::EXECVE => "execve",
        nr::EXECVEAT => "execveat",
        nr::BPF => "bpf",
        nr::PTRACE => "ptrace",
        nr::PROCESS_VM_READV => "process_vm_readv",
        nr::PROCESS_VM_WRITEV => "process_vm_writev",
        nr::PIDFD_GETFD => "pidfd_getfd",
        nr::KILL => "kill",
        nr::TKILL => "tkill",
        nr::TGKILL => "tgkill",
        nr::MOUNT => "mount",
        nr::UMOUNT2 => "umount2",
        nr::PIVOT_ROOT => "pivot_root",
        nr::CHROOT => "chroot",
        nr::UNSHARE => "unshare",
        nr::SETNS => "setns",
        nr::OPEN_TREE => "open_tree",
        nr::MOVE_MOUNT => "move_mount",
        nr::FSOPEN => "fsopen",
        nr::FSCONFIG => "fsconfig",
        nr::FSMOUNT => "fsmount",
        nr::FSPICK => "fspick",
        nr::MOUNT_SETATTR => "mount_setattr",
        nr::IO_URING_SETUP => "io_uring_setup",
        _ => "unknown",
    }
}

/// Builds the record of one event. `paths` are the event's path arguments, resolved, in order.
/// `None` for the parts of other records (copied stacks, mappings), which are no records of
/// their own.
pub fn build(
    seq: u64,
    e: &Event,
    ppid: Option<u32>,
    mut paths: Vec<ResolvedPath>,
) -> Option<EventRecord> {
    let ok = events::succeeded(e);
    let mut next_path = || {
        if paths.is_empty() {
            ResolvedPath {
                raw: String::new(),
                abs: None,
                base: crate::proctable::paths::PathBase::Unresolved,
                truncated: false,
                unresolved: Some("missing".into()),
            }
        } else {
            paths.remove(0)
        }
    };
    let detail = match &e.detail {
        Detail::Fork {
            child_pid,
            child_tid,
            thread,
        } => RecordDetail::Fork {
            child_pid: *child_pid,
            child_tid: *child_tid,
            thread: *thread,
        },
        Detail::Exec {
            argv,
            argv_truncated,
            real,
            ..
        } => RecordDetail::Exec {
            path: next_path(),
            argv: argv.clone(),
            argv_truncated: *argv_truncated,
            real: Real::of(real),
        },
        Detail::ExecFailed { .. } => RecordDetail::ExecFailed { path: next_path() },
        Detail::Exit {
            exit_code,
            group_dead,
        } => {
            let sig = exit_code & 0x7f;
            RecordDetail::Exit {
                exit_code: (sig == 0).then_some((exit_code >> 8) & 0xff),
                signal: (sig != 0).then_some(sig),
                process_exit: *group_dead,
            }
        }
        Detail::MacroRun => RecordDetail::ProcMacro {},
        Detail::Stack(_) | Detail::Map { .. } => return None,
        Detail::Open {
            flags,
            mode,
            opened,
            real,
            nlink,
            ..
        } => RecordDetail::Open {
            real: Real::of(real),
            links: (ok
                && *nlink > 1
                && FileType::from_mode(opened.mode) == Some(FileType::Regular))
            .then_some(*nlink),
            path: next_path(),
            access: access::Access::from_open_flags(*flags),
            flags: format!("{flags:#o}"),
            mode: format!("{mode:#o}"),
            file_type: if ok {
                FileType::from_mode(opened.mode)
            } else {
                None
            },
        },
        Detail::Unlink { rmdir, .. } => RecordDetail::Unlink {
            path: next_path(),
            rmdir: *rmdir,
        },
        Detail::Meta { mode, .. } => {
            let n = e.syscall_nr.unwrap_or(0);
            let has_mode = matches!(
                n,
                nr::CHMOD
                    | nr::FCHMOD
                    | nr::FCHMODAT
                    | nr::FCHMODAT2
                    | nr::MKDIR
                    | nr::MKDIRAT
                    | nr::MKNOD
                    | nr::MKNODAT
            );
            RecordDetail::Meta {
                path: next_path(),
                mode: has_mode.then(|| format!("{mode:#o}")),
                setuid: has_mode && mode & 0o6000 != 0,
            }
        }
        Detail::Link {
            existing, symbolic, ..
        } => RecordDetail::Link {
            link: next_path(),
            existing: (!symbolic).then(&mut next_path),
            target: symbolic.then(|| existing.raw.text.clone()),
        },
        Detail::Rename { flags, .. } => RecordDetail::Rename {
            from: next_path(),
            to: next_path(),
            flags: *flags,
        },
        Detail::Connect { fd, addr, sock } => {
            // Connected, or connecting (a non-blocking connect's EINPROGRESS): the socket has
            // its peer. After another failure it may still hold an earlier one.
            let peer = if ok || e.ret == -115 {
                SockAddr::peer_of(sock)
            } else {
                None
            };
            RecordDetail::Connect {
                fd: *fd,
                claimed: peer.as_ref().filter(|p| *p != addr).map(|_| addr.clone()),
                addr: peer.unwrap_or_else(|| addr.clone()),
                socket: SocketMeta {
                    sock_type: sock_type(sock.sock_type).into(),
                },
            }
        }
        Detail::Send { fd, addr, sock } => RecordDetail::Send {
            fd: *fd,
            addr: addr.clone(),
            socket: SocketMeta {
                sock_type: sock_type(sock.sock_type).into(),
            },
        },
        Detail::Bind { fd, addr, sock } => RecordDetail::Bind {
            fd: *fd,
            addr: addr.clone(),
            socket: SocketMeta {
                sock_type: sock_type(sock.sock_type).into(),
            },
        },
        Detail::Listen { fd, backlog, sock } => RecordDetail::Listen {
            fd: *fd,
            backlog: *backlog,
            local: SockAddr::from_sock(
                sock.family,
                sock.local_addr4,
                sock.local_addr6,
                sock.local_port,
            ),
            socket: SocketMeta {
                sock_type: sock_type(sock.sock_type).into(),
            },
        },
        Detail::DnsSend {
            fd,
            msg_index,
            server,
            payload,
            payload_total,
            ..
        } => {
            let (query, decode_error) = match dns::decode_any(payload) {
                Ok(q) => (Some(q), None),
                Err(err) => (None, Some(err.to_string())),
            };
            RecordDetail::Dns {
                fd: *fd,
                server: server.clone(),
                msg_index: *msg_index,
                query,
                decode_error,
                payload_bytes: *payload_total,
            }
        }
        Detail::Tamper { arg0, arg1 } => RecordDetail::Tamper {
            arg0: *arg0,
            arg1: *arg1,
        },
    };
    Some(EventRecord {
        schema_version: SCHEMA_VERSION,
        seq,
        ts_ns: e.ktime_ns,
        pid: e.pid,
        tid: e.tid,
        ppid,
        uid: e.uid,
        comm: e.comm.clone(),
        syscall: e.syscall_nr.map(|n| syscall_name(n).to_string()),
        ok,
        ret: e.ret,
        errno: (e.ret < 0).then(|| errno::name(-e.ret)),
        proc_macro: None,
        stack_id: None,
        detail,
    })
}

impl RecordDetail {
    /// The `kind` string of this record.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Fork { .. } => "fork",
            Self::Exec { .. } => "exec",
            Self::ExecFailed { .. } => "exec_failed",
            Self::Exit { .. } => "exit",
            Self::ProcMacro { .. } => "proc_macro",
            Self::Open { .. } => "open",
            Self::Unlink { .. } => "unlink",
            Self::Rename { .. } => "rename",
            Self::Meta { .. } => "meta",
            Self::Link { .. } => "link",
            Self::Connect { .. } => "connect",
            Self::Bind { .. } => "bind",
            Self::Send { .. } => "send",
            Self::Listen { .. } => "listen",
            Self::Dns { .. } => "dns",
            Self::Tamper { .. } => "tamper",
        }
    }
}

/// Test helpers: event records from the few fields a test cares about.
#[cfg(test)]
pub mod fake {
    use super::{EventRecord, Real, RecordDetail};
    use crate::proctable::paths::ResolvedPath;

    pub fn path(p: &str) -> ResolvedPath {
        ResolvedPath {
            raw: p.into(),
            abs: Some(p.into()),
            base: crate::proctable::paths::PathBase::Absolute,
            truncated: false,
            unresolved: None,
        }
    }

    /// A successful record of `pid` (created by `ppid`).
    pub fn rec(pid: u32, ppid: u32, detail: RecordDetail) -> EventRecord {
        EventRecord {
            schema_version: crate::trace::SCHEMA_VERSION,
            seq: 0,
            ts_ns: 0,
            pid,
            tid: pid,
            ppid: Some(ppid),
            uid: 0,
            comm: "x".into(),
            syscall: None,
            ok: true,
            ret: 0,
            errno: None,
            proc_macro: None,
            stack_id: None,
            detail,
        }
    }

    /// `r` (an open or an exec) as if the kernel had reached `real` (`None`: a file it could
    /// not name).
    pub fn really(mut r: EventRecord, real: Option<&str>) -> EventRecord {
        if let RecordDetail::Open { real: re, .. } | RecordDetail::Exec { real: re, .. } =
            &mut r.detail
        {
            *re = Real {
                real: real.map(str::to_string),
                real_unknown: real
                    .is_none()
                    .then_some(crate::events::reached::Unknown::TooLong),
            };
        }
        r
    }

    /// `pid` (created by `ppid`) runs `exe` with `argv`.
    pub fn exec(pid: u32, ppid: u32, exe: &str, argv: &[&str]) -> EventRecord {
        rec(
            pid,
            ppid,
            RecordDetail::Exec {
                path: path(exe),
                argv: argv.iter().map(|s| s.to_string()).collect(),
                argv_truncated: false,
                real: Real {
                    real: Some(exe.to_string()),
                    real_unknown: None,
                },
            },
        )
    }

    /// `parent` starts the process `child`.
    pub fn fork(parent: u32, child: u32) -> EventRecord {
        rec(
            parent,
            1,
            RecordDetail::Fork {
                child_pid: child,
                child_tid: child,
                thread: false,
            },
        )
    }

    /// The process `pid` (created by `ppid`) exits.
    pub fn exit(pid: u32, ppid: u32) -> EventRecord {
        rec(
            pid,
            ppid,
            RecordDetail::Exit {
                exit_code: Some(0),
                signal: None,
                process_exit: true,
            },
        )
    }

    /// `pid` opens `file` to read it.
    pub fn read(pid: u32, file: &str) -> EventRecord {
        rec(
            pid,
            1,
            RecordDetail::Open {
                path: path(file),
                access: crate::trace::access::Access::from_open_flags(0),
                flags: "O_RDONLY".into(),
                mode: "0".into(),
                file_type: Some(super::FileType::Regular),
                real: Real {
                    real: Some(file.to_string()),
                    real_unknown: None,
                },
                links: None,
            },
        )
    }
}
