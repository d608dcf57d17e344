//! Raw ring-buffer records → owned, validated events. The only `unsafe` reads of kernel data in
//! the daemon are here, each after a length check.

pub mod dns;
pub mod errno;
pub mod reached;
pub mod sockaddr;
pub mod text;

use tracer_common::{
    event::{self as ev, EventHeader, EventKind, InodeRef},
    file::{AT_REMOVEDIR, FileEvent, RenameEvent},
    net::{SendEvent, SockEvent, SockInfo},
    process::{ExecEvent, ExitEvent, ForkEvent},
    stack::{MapEvent, StackEvent},
    tamper::TamperEvent,
};

pub use reached::Reached;
pub use sockaddr::SockAddr;

/// A record the decoder could not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("record of {0} bytes is shorter than an event header")]
    Short(usize),
    #[error("unknown event kind {0} (probe object newer than this daemon?)")]
    UnknownKind(u32),
    #[error("{kind:?} record is {got} bytes, expected {want}")]
    Size {
        kind: EventKind,
        got: usize,
        want: usize,
    },
}

/// A path argument as the kernel captured it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawPath {
    /// The bytes up to the NUL, as text that keeps them exactly (`events::text`).
    pub text: String,
    /// Longer than the capture limit and cut.
    pub truncated: bool,
    /// The user pointer could not be read.
    pub fault: bool,
}

impl RawPath {
    fn from_buf(buf: &[u8], len: i32, truncated: bool) -> Self {
        if len <= 0 {
            return Self {
                text: String::new(),
                truncated: false,
                fault: true,
            };
        }
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        Self {
            text: text::from_bytes(&buf[..end]),
            truncated,
            fault: false,
        }
    }

    pub fn is_absolute(&self) -> bool {
        self.text.starts_with('/')
    }
}

/// Where a relative path starts, as the kernel identified it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// The path is absolute.
    None,
    /// Relative to the cwd, whose identity the kernel recorded.
    Cwd(InodeRef),
    /// Relative to the directory open as `fd`, whose identity the kernel recorded.
    Dirfd(i32, InodeRef),
    /// Relative, but the kernel could not read the base directory's identity.
    Unknown,
}

impl Base {
    fn new(path: &RawPath, dirfd: i32, cwd: InodeRef, dir: InodeRef, flags: u32) -> Self {
        if path.is_absolute() {
            Self::None
        } else if flags & ev::FLAG_DIR_UNKNOWN != 0 {
            Self::Unknown
        } else if dirfd == tracer_common::file::AT_FDCWD {
            Self::Cwd(cwd)
        } else {
            Self::Dirfd(dirfd, dir)
        }
    }
}

/// A path argument and its base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathArg {
    pub raw: RawPath,
    pub base: Base,
}

/// The destination of a send: an `AF_UNSPEC` address on an IPv4 socket is where the kernel
/// sends it, as `AF_INET`.
fn sent_to(bytes: &[u8], sock: &SockInfo) -> SockAddr {
    const AF_INET: u16 = 2;
    if bytes.len() >= 8 && bytes[..2] == [0, 0] && sock.family == AF_INET {
        let mut v4 = bytes.to_vec();
        v4[..2].copy_from_slice(&AF_INET.to_ne_bytes());
        return SockAddr::decode(&v4);
    }
    SockAddr::decode(bytes)
}

/// A copied user stack (`tracer_common::stack::StackEvent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserStack {
    /// The call it belongs to; `None` for a fork (the parent's stack).
    pub nr: Option<u32>,
    pub ip: u64,
    pub sp: u64,
    pub bp: u64,
    /// The main program's code as mapped (`mm->start_code .. end_code`).
    pub code: std::ops::Range<u64>,
    /// The stack from `sp` upwards.
    pub bytes: Vec<u8>,
}

/// Kind-specific contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detail {
    Fork {
        child_pid: u32,
        child_tid: u32,
        thread: bool,
    },
    Exec {
        filename: PathArg,
        argv: Vec<String>,
        argv_truncated: bool,
        /// The new program's working directory.
        cwd: InodeRef,
        /// The program file, as the kernel names it.
        real: Reached,
    },
    ExecFailed {
        filename: PathArg,
    },
    Exit {
        exit_code: i32,
        group_dead: bool,
    },
    /// A proc macro ran in this process (first time); `macro_id` names it.
    MacroRun,
    /// User registers and the top of the stack for the thread's next recorded call (`nr`, or
    /// `None` for a fork), in a process that runs a program cargo built.
    Stack(UserStack),
    /// An executable file mapping (a shared library) in such a process.
    Map {
        addr: u64,
        len: u64,
        offset: u64,
        file: InodeRef,
        real: Reached,
    },
    Open {
        path: PathArg,
        flags: u32,
        mode: u32,
        /// On success, the identity of the file opened.
        opened: InodeRef,
        /// On success, its path as the kernel names it.
        real: Reached,
        /// On success, how many names (hard links) it has; 0 when unknown.
        nlink: u32,
    },
    Unlink {
        path: PathArg,
        rmdir: bool,
    },
    Rename {
        from: PathArg,
        to: PathArg,
        flags: u32,
    },
    /// truncate, chmod, chown, mkdir, mknod, utimes (the header's syscall says which).
    Meta {
        path: PathArg,
        flags: u32,
        /// The new mode (chmod) or the created file's (mkdir, mknod); 0 for the others.
        mode: u32,
    },
    /// A hard link to `existing`, or (`symbolic`) a symlink whose contents are `existing`.
    Link {
        existing: PathArg,
        link: PathArg,
        symbolic: bool,
        flags: u32,
    },
    Connect {
        fd: i32,
        addr: SockAddr,
        sock: SockInfo,
    },
    Bind {
        fd: i32,
        addr: SockAddr,
        sock: SockInfo,
    },
    Listen {
        fd: i32,
        backlog: i32,
        sock: SockInfo,
    },
    /// A send to an explicit address that is not a DNS port.
    Send {
        fd: i32,
        addr: SockAddr,
        sock: SockInfo,
    },
    DnsSend {
        fd: i32,
        msg_index: u32,
        server: SockAddr,
        payload: Vec<u8>,
        payload_total: u32,
        sock: SockInfo,
    },
    /// A syscall reaching for the tracer or another process (the header names it).
    Tamper {
        arg0: i64,
        arg1: i64,
    },
}

/// One decoded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    pub flags: u32,
    pub ktime_ns: u64,
    pub pid: u32,
    pub tid: u32,
    pub uid: u32,
    /// x86-64 syscall number, `None` for scheduler events.
    pub syscall_nr: Option<u32>,
    pub ret: i64,
    pub comm: String,
    /// Proc macro (attach cookie) running on the thread, 0 for none.
    pub macro_id: u32,
    pub detail: Detail,
}

/// Reads a `T` from the front of `data`, which the caller has checked is long enough.
fn read<T: Copy>(data: &[u8]) -> T {
    assert!(data.len() >= size_of::<T>());
    // SAFETY: length checked above; T is a #[repr(C)] plain-data type from tracer-common, valid
    // for any bit pattern; read_unaligned makes no alignment assumption.
    unsafe { std::ptr::read_unaligned(data.as_ptr().cast::<T>()) }
}

fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    text::from_bytes(&b[..end])
}

/// Splits a NUL-separated argv block into arguments.
pub fn split_argv(block: &[u8]) -> Vec<String> {
    let block = block.strip_suffix(&[0]).unwrap_or(block);
    if block.is_empty() {
        return Vec::new();
    }
    block.split(|&b| b == 0).map(text::from_bytes).collect()
}

/// Decodes one ring-buffer record.
pub fn decode(data: &[u8]) -> Result<Event, DecodeError> {
    if data.len() < size_of::<EventHeader>() {
        return Err(DecodeError::Short(data.len()));
    }
    let h: EventHeader = read(data);
    let kind = EventKind::from_u32(h.kind).ok_or(DecodeError::UnknownKind(h.kind))?;
    let want = kind.record_size();
    if data.len() < want {
        return Err(DecodeError::Size {
            kind,
            got: data.len(),
            want,
        });
    }
    let f = h.flags;
    let detail = match kind {
        EventKind::Fork => {
            let e: ForkEvent = read(data);
            Detail::Fork {
                child_pid: e.child_pid,
                child_tid: e.child_tid,
                thread: f & ev::FLAG_THREAD != 0,
            }
        }
        EventKind::Exec | EventKind::ExecFailed => {
            let e: ExecEvent = read(data);
            let raw = RawPath::from_buf(
                &e.filename,
                e.filename_len,
                f & ev::FLAG_PATH_TRUNCATED != 0,
            );
            let base = Base::new(
                &raw,
                tracer_common::file::AT_FDCWD,
                e.cwd,
                InodeRef::default(),
                f,
            );
            let filename = PathArg { raw, base };
            if kind == EventKind::Exec {
                let n = (e.argv_len as usize).min(e.argv.len());
                Detail::Exec {
                    filename,
                    argv: split_argv(&e.argv[..n]),
                    argv_truncated: f & ev::FLAG_ARGV_TRUNCATED != 0,
                    cwd: e.cwd,
                    real: Reached::decode(&e.real),
                }
            } else {
                Detail::ExecFailed { filename }
            }
        }
        EventKind::Exit => {
            let e: ExitEvent = read(data);
            Detail::Exit {
                exit_code: e.exit_code,
                group_dead: f & ev::FLAG_GROUP_DEAD != 0,
            }
        }
        EventKind::MacroRun => Detail::MacroRun,
        EventKind::Stack => {
            // Field by field (the size was checked above): reading the whole record would copy
            // its 16 KiB of stack once more.
            let u64_at = |at: usize| read::<u64>(&data[at..]);
            let at = std::mem::offset_of!(StackEvent, bytes);
            let len = read::<u32>(&data[std::mem::offset_of!(StackEvent, len)..]);
            let n = (len as usize).min(tracer_common::limits::STACK_LEN);
            Detail::Stack(UserStack {
                nr: (h.syscall_nr != ev::NO_SYSCALL).then_some(h.syscall_nr),
                ip: u64_at(std::mem::offset_of!(StackEvent, ip)),
                sp: u64_at(std::mem::offset_of!(StackEvent, sp)),
                bp: u64_at(std::mem::offset_of!(StackEvent, bp)),
                code: u64_at(std::mem::offset_of!(StackEvent, code_start))
                    ..u64_at(std::mem::offset_of!(StackEvent, code_end)),
                bytes: data[at..at + n].to_vec(),
            })
        }
        EventKind::Map => {
            let e: MapEvent = read(data);
            Detail::Map {
                addr: e.addr,
                len: e.len,
                offset: e.offset,
                file: e.file,
                real: Reached::decode(&e.real),
            }
        }
        EventKind::Open | EventKind::Unlink | EventKind::Meta => {
            let e: FileEvent = read(data);
            let raw = RawPath::from_buf(&e.path, e.path_len, f & ev::FLAG_PATH_TRUNCATED != 0);
            let base = Base::new(&raw, e.dirfd, e.cwd, e.dir, f);
            let path = PathArg { raw, base };
            if kind == EventKind::Open {
                Detail::Open {
                    path,
                    flags: e.flags,
                    mode: e.mode,
                    opened: e.opened,
                    real: Reached::decode(&e.real),
                    nlink: e.nlink,
                }
            } else if kind == EventKind::Meta {
                Detail::Meta {
                    path,
                    flags: e.flags,
                    mode: e.mode,
                }
            } else {
                Detail::Unlink {
                    path,
                    rmdir: e.flags & AT_REMOVEDIR != 0,
                }
            }
        }
        EventKind::Rename | EventKind::Link => {
            let e: RenameEvent = read(data);
            let from = RawPath::from_buf(&e.old_path, e.old_len, f & ev::FLAG_PATH_TRUNCATED != 0);
            let to = RawPath::from_buf(&e.new_path, e.new_len, f & ev::FLAG_PATH2_TRUNCATED != 0);
            // The kernel flags an unreadable base for either path; apply it only to relative ones.
            let from_base = Base::new(&from, e.old_dirfd, e.cwd, e.old_dir, f);
            let to_base = Base::new(&to, e.new_dirfd, e.cwd, e.new_dir, f);
            let (from, to) = (
                PathArg {
                    raw: from,
                    base: from_base,
                },
                PathArg {
                    raw: to,
                    base: to_base,
                },
            );
            if kind == EventKind::Link {
                Detail::Link {
                    symbolic: matches!(
                        e.header.syscall_nr,
                        tracer_common::syscalls::SYMLINK | tracer_common::syscalls::SYMLINKAT
                    ),
                    existing: from,
                    link: to,
                    flags: e.flags,
                }
            } else {
                Detail::Rename {
                    from,
                    to,
                    flags: e.flags,
                }
            }
        }
        EventKind::Connect | EventKind::Bind | EventKind::Listen | EventKind::Send => {
            let e: SockEvent = read(data);
            let n = (e.addr_len as usize).min(e.addr.len());
            let addr = if kind == EventKind::Send {
                sent_to(&e.addr[..n], &e.sock)
            } else {
                SockAddr::decode(&e.addr[..n])
            };
            match kind {
                EventKind::Connect => Detail::Connect {
                    fd: e.fd,
                    addr,
                    sock: e.sock,
                },
                EventKind::Bind => Detail::Bind {
                    fd: e.fd,
                    addr,
                    sock: e.sock,
                },
                EventKind::Send => Detail::Send {
                    fd: e.fd,
                    addr,
                    sock: e.sock,
                },
                _ => Detail::Listen {
                    fd: e.fd,
                    backlog: e.backlog,
                    sock: e.sock,
                },
            }
        }
        EventKind::DnsSend => {
            let e: SendEvent = read(data);
            let server = if e.addr_len == 0 {
                let s = e.sock;
                SockAddr::from_sock(s.family, s.remote_addr4, s.remote_addr6, s.remote_port)
            } else {
                sent_to(&e.addr[..(e.addr_len as usize).min(e.addr.len())], &e.sock)
            };
            let n = (e.payload_len as usize).min(e.payload.len());
            Detail::DnsSend {
                fd: e.fd,
                msg_index: e.msg_index,
                server,
                payload: e.payload[..n].to_vec(),
                payload_total: e.payload_total,
                sock: e.sock,
            }
        }
        EventKind::Tamper => {
            let e: TamperEvent = read(data);
            Detail::Tamper {
                arg0: e.arg0,
                arg1: e.arg1,
            }
        }
    };
    Ok(Event {
        kind,
        flags: f,
        ktime_ns: h.ktime_ns,
        pid: h.pid,
        tid: h.tid,
        uid: h.uid,
        syscall_nr: (h.syscall_nr != ev::NO_SYSCALL).then_some(h.syscall_nr),
        ret: h.ret,
        comm: cstr(&h.comm),
        macro_id: h.macro_id,
        detail,
    })
}

/// Whether the syscall behind an event succeeded. For sendmmsg, a message succeeded if its
/// index is below the count of messages sent.
pub fn succeeded(e: &Event) -> bool {
    match &e.detail {
        Detail::DnsSend { msg_index, .. }
            if e.syscall_nr == Some(tracer_common::syscalls::SENDMMSG) =>
        {
            e.ret > i64::from(*msg_index)
        }
        _ => e.ret >= 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracer_common::{kpath::KernelPath, limits::PATH_LEN};

    fn bytes<T>(v: &T) -> Vec<u8> {
        // SAFETY: test-only view of a plain-data struct as bytes.
        unsafe { std::slice::from_raw_parts((v as *const T).cast::<u8>(), size_of::<T>()) }.to_vec()
    }

    fn header(kind: EventKind, flags: u32) -> EventHeader {
        let mut comm = [0u8; 16];
        comm[..3].copy_from_slice(b"cat");
        EventHeader {
            kind: kind as u32,
            flags,
            ktime_ns: 7,
            pid: 10,
            tid: 11,
            uid: 1000,
            syscall_nr: 257,
            ret: 3,
            comm,
            macro_id: 2,
            _pad: 0,
        }
    }

    fn file_event(path: &[u8], dirfd: i32, flags: u32) -> FileEvent {
        let mut buf = [0u8; PATH_LEN];
        buf[..path.len()].copy_from_slice(path);
        FileEvent {
            header: header(EventKind::Open, flags),
            dirfd,
            flags: 0o1101,
            mode: 0o644,
            path_len: path.len() as i32 + 1,
            cwd: InodeRef {
                ino: 5,
                dev: 1,
                mode: 0,
            },
            dir: InodeRef {
                ino: 9,
                dev: 1,
                mode: 0,
            },
            opened: InodeRef {
                ino: 77,
                dev: 1,
                mode: 0o040755,
            },
            path: buf,
            real: KernelPath {
                state: tracer_common::kpath::KPATH_COMPLETE,
                len: 10,
                names: {
                    let mut n = [0u8; tracer_common::limits::KPATH_LEN];
                    n[..10].copy_from_slice(b"x\0rel\0cwd\0");
                    n
                },
            },
            nlink: 1,
            _pad: 0,
        }
    }

    #[test]
    fn decodes_a_stack_with_the_bytes_it_copied() {
        let mut e = Box::new(StackEvent {
            header: header(EventKind::Stack, 0),
            ip: 0x1111,
            sp: 0x2222,
            bp: 0x3333,
            code_start: 0x4000,
            code_end: 0x5000,
            len: 3,
            _pad: 0,
            bytes: [0; tracer_common::limits::STACK_LEN],
        });
        e.bytes[..4].copy_from_slice(&[9, 8, 7, 6]);
        let Detail::Stack(s) = decode(&bytes(&*e)).unwrap().detail else {
            panic!("not a stack")
        };
        assert_eq!((s.ip, s.sp, s.bp), (0x1111, 0x2222, 0x3333));
        assert_eq!(s.code, 0x4000..0x5000);
        assert_eq!(s.nr, Some(257));
        assert_eq!(s.bytes, [9, 8, 7]);
        // A length past the buffer is cut to it.
        e.len = u32::MAX;
        let Detail::Stack(s) = decode(&bytes(&*e)).unwrap().detail else {
            panic!("not a stack")
        };
        assert_eq!(s.bytes.len(), tracer_common::limits::STACK_LEN);
    }

    #[test]
    fn decodes_an_open_with_its_base() {
        let e = decode(&bytes(&file_event(b"rel/x", -100, 0))).unwrap();
        assert_eq!(e.comm, "cat");
        assert_eq!(e.macro_id, 2);
        assert_eq!(e.syscall_nr, Some(257));
        let Detail::Open {
            path,
            flags,
            mode,
            opened,
            real,
            nlink,
        } = e.detail
        else {
            panic!("{e:?}")
        };
        assert_eq!(real.path(), Some("/cwd/rel/x"));
        assert_eq!(nlink, 1);
        assert_eq!((flags, mode), (0o1101, 0o644));
        assert!(opened.is_dir() && opened.ino == 77);
        assert_eq!(path.raw.text, "rel/x");
        assert_eq!(
            path.base,
            Base::Cwd(InodeRef {
                ino: 5,
                dev: 1,
                mode: 0
            })
        );

        let e = decode(&bytes(&file_event(b"x", 7, 0))).unwrap();
        let Detail::Open { path, .. } = e.detail else {
            panic!()
        };
        assert_eq!(
            path.base,
            Base::Dirfd(
                7,
                InodeRef {
                    ino: 9,
                    dev: 1,
                    mode: 0
                }
            )
        );

        let e = decode(&bytes(&file_event(b"/abs", 7, ev::FLAG_PATH_TRUNCATED))).unwrap();
        let Detail::Open { path, .. } = e.detail else {
            panic!()
        };
        assert_eq!(path.base, Base::None);
        assert!(path.raw.truncated);

        let e = decode(&bytes(&file_event(b"x", -100, ev::FLAG_DIR_UNKNOWN))).unwrap();
        let Detail::Open { path, .. } = e.detail else {
            panic!()
        };
        assert_eq!(path.base, Base::Unknown);
    }

    #[test]
    fn rejects_short_and_unknown_records() {
        assert_eq!(decode(&[0; 8]), Err(DecodeError::Short(8)));
        let mut h = header(EventKind::Open, 0);
        h.kind = 99;
        assert_eq!(decode(&bytes(&h)), Err(DecodeError::UnknownKind(99)));
        let full = bytes(&file_event(b"x", -100, 0));
        assert!(matches!(
            decode(&full[..100]),
            Err(DecodeError::Size {
                kind: EventKind::Open,
                ..
            })
        ));
    }

    #[test]
    fn argv_blocks_split_on_nul() {
        assert_eq!(
            split_argv(b"sh\0-c\0echo hi\0"),
            vec!["sh", "-c", "echo hi"]
        );
        assert_eq!(split_argv(b"cut-short"), vec!["cut-short"]);
        assert!(split_argv(b"").is_empty());
    }
}
