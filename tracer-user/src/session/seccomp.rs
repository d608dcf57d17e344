//! What the traced command may not do because the probes could not see it: a seccomp filter,
//! installed in the command before exec and inherited by everything it starts (it cannot be
//! removed, and with `NO_NEW_PRIVS` nothing regains the calls by exec).
//!
//! - 32-bit system calls (`int 0x80`, or a 32-bit program) and x32 ones pass the `syscalls:*`
//!   tracepoints by: the process is killed (`SIGSYS`), which the verdict reports.
//! - io_uring runs file and network operations in the kernel with no syscall per operation:
//!   `io_uring_setup`, `io_uring_enter` and `io_uring_register` fail with `ENOSYS`, as under
//!   Docker's default profile, and libraries fall back to plain calls — unless allowed, when a
//!   ring set up makes the verdict incomplete.
//! - `open_by_handle_at` opens a file with no path to judge it by, and raw IP and packet
//!   sockets send what no connect or address names: they fail with `EPERM`, as they do for an
//!   unprivileged user, whom honest programs are written for.
//!
//! Classic BPF written out by hand: the program is a few fixed instructions, and it is built
//! before the fork so the child only makes one `prctl` call.

/// `AUDIT_ARCH_X86_64`: the native calling convention.
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// The x32 ABI marks its syscall numbers with this bit.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;
const IO_URING_SETUP: u32 = 425;
const IO_URING_ENTER: u32 = 426;
const IO_URING_REGISTER: u32 = 427;
const OPEN_BY_HANDLE_AT: u32 = 304;
const SOCKET: u32 = 41;
const AF_INET: u32 = 2;
const AF_INET6: u32 = 10;
const AF_PACKET: u32 = 17;
const SOCK_RAW: u32 = 3;
/// The obsolete packet socket type of `AF_INET`.
const SOCK_PACKET: u32 = 10;
/// `SOCK_NONBLOCK` and `SOCK_CLOEXEC` share the type argument.
const SOCK_TYPE_MASK: u32 = 0xf;

/// `offsetof(struct seccomp_data, nr)`, `…, arch)` and the low halves of `args[0]`, `args[1]`.
const NR: u32 = 0;
const ARCH: u32 = 4;
const ARG0: u32 = 16;
const ARG1: u32 = 24;

fn stmt(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u32, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    }
}

/// The filter's instructions.
#[derive(Clone)]
pub struct Filter(Vec<libc::sock_filter>);

impl Filter {
    pub fn new(allow_io_uring: bool) -> Self {
        use libc::{
            BPF_ABS, BPF_ALU, BPF_AND, BPF_JEQ, BPF_JGE, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W,
        };
        let ld = |off| stmt(BPF_LD | BPF_W | BPF_ABS, off);
        let jeq = |k, jt, jf| jump(BPF_JMP | BPF_JEQ | BPF_K, k, jt, jf);
        let ret = |k| stmt(BPF_RET | BPF_K, k);
        let kill = libc::SECCOMP_RET_KILL_PROCESS;
        let enosys = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
        let eperm = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
        // Jumps are counted from the next instruction; the three returns close the program:
        // ALLOW at 19, ENOSYS at 20, EPERM at 21.
        let io = |at: u8| if allow_io_uring { 0 } else { 20 - (at + 1) };
        Self(vec![
            /* 0 */ ld(ARCH),
            /* 1 */ jeq(AUDIT_ARCH_X86_64, 1, 0),
            /* 2 */ ret(kill),
            /* 3 */ ld(NR),
            /* 4 */ jump(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1),
            /* 5 */ ret(kill),
            /* 6 */ jeq(IO_URING_SETUP, io(6), 0),
            /* 7 */ jeq(IO_URING_ENTER, io(7), 0),
            /* 8 */ jeq(IO_URING_REGISTER, io(8), 0),
            /* 9 */ jeq(OPEN_BY_HANDLE_AT, 21 - 10, 0),
            /* 10 */ jeq(SOCKET, 0, 19 - 11),
            /* 11 */ ld(ARG0),
            /* 12 */ jeq(AF_PACKET, 21 - 13, 0),
            /* 13 */ jeq(AF_INET, 15 - 14, 0),
            /* 14 */ jeq(AF_INET6, 0, 19 - 15),
            /* 15 */ ld(ARG1),
            /* 16 */ stmt(BPF_ALU | BPF_AND | BPF_K, SOCK_TYPE_MASK),
            /* 17 */ jeq(SOCK_RAW, 21 - 18, 0),
            /* 18 */ jeq(SOCK_PACKET, 21 - 19, 0),
            /* 19 */ ret(libc::SECCOMP_RET_ALLOW),
            /* 20 */ ret(enosys),
            /* 21 */ ret(eperm),
        ])
    }

    /// Installs it on the calling thread (and so on everything it starts). Only
    /// async-signal-safe calls: meant for `pre_exec`, after `NO_NEW_PRIVS`.
    pub fn install(&self) -> std::io::Result<()> {
        let prog = libc::sock_fprog {
            len: self.0.len() as u16,
            filter: self.0.as_ptr().cast_mut(),
        };
        // SAFETY: `prog` points at our instructions, which outlive the call (the kernel copies
        // them).
        let rc = unsafe {
            libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER,
                &prog as *const libc::sock_fprog,
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the filter on one call, as the kernel would.
    fn verdict(f: &Filter, arch: u32, nr: u32, args: [u32; 2]) -> u32 {
        let mut acc = 0u32;
        let mut pc = 0usize;
        loop {
            let i = f.0[pc];
            let code = u32::from(i.code);
            match code & 0x07 {
                c if c == libc::BPF_LD => {
                    acc = match i.k {
                        ARCH => arch,
                        NR => nr,
                        ARG0 => args[0],
                        ARG1 => args[1],
                        k => panic!("unexpected load at {k}"),
                    };
                    pc += 1;
                }
                c if c == libc::BPF_ALU => {
                    assert_eq!(code & 0xf0, libc::BPF_AND);
                    acc &= i.k;
                    pc += 1;
                }
                c if c == libc::BPF_JMP => {
                    let taken = match code & 0xf0 {
                        op if op == libc::BPF_JEQ => acc == i.k,
                        op if op == libc::BPF_JGE => acc >= i.k,
                        op => panic!("unexpected jump {op:#x}"),
                    };
                    pc += 1 + usize::from(if taken { i.jt } else { i.jf });
                }
                c if c == libc::BPF_RET => return i.k,
                c => panic!("unexpected class {c:#x}"),
            }
        }
    }

    #[test]
    fn native_calls_pass_and_what_the_probes_cannot_see_does_not() {
        let f = Filter::new(false);
        let x64 = |nr, args| verdict(&f, AUDIT_ARCH_X86_64, nr, args);
        let (allow, kill) = (libc::SECCOMP_RET_ALLOW, libc::SECCOMP_RET_KILL_PROCESS);
        let enosys = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
        let eperm = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
        assert_eq!(x64(257, [0, 0]), allow);
        assert_eq!(x64(0, [0, 0]), allow);
        // int 0x80 and x32.
        assert_eq!(verdict(&f, 0x4000_0003, 5, [0, 0]), kill);
        assert_eq!(x64(X32_SYSCALL_BIT | 257, [0, 0]), kill);
        for nr in [IO_URING_SETUP, IO_URING_ENTER, IO_URING_REGISTER] {
            assert_eq!(x64(nr, [0, 0]), enosys);
        }
        assert_eq!(x64(OPEN_BY_HANDLE_AT, [0, 0]), eperm);
        // Sockets: TCP, UDP, unix, netlink and ICMP datagrams pass; raw and packet do not.
        let sock_dgram = 2;
        let stream_cloexec = 1 | 0o2000000;
        for ok in [
            [AF_INET, stream_cloexec],
            [AF_INET6, sock_dgram],
            [1, sock_dgram],
            [16, SOCK_RAW],
        ] {
            assert_eq!(x64(SOCKET, ok), allow, "{ok:?}");
        }
        for no in [
            [AF_PACKET, sock_dgram],
            [AF_INET, SOCK_RAW],
            [AF_INET6, SOCK_RAW | 0o4000],
            [AF_INET, SOCK_PACKET],
        ] {
            assert_eq!(x64(SOCKET, no), eperm, "{no:?}");
        }
        let allowed = Filter::new(true);
        for nr in [IO_URING_SETUP, IO_URING_ENTER, IO_URING_REGISTER] {
            assert_eq!(verdict(&allowed, AUDIT_ARCH_X86_64, nr, [0, 0]), allow);
        }
        assert_eq!(verdict(&allowed, 0x4000_0003, 5, [0, 0]), kill);
    }
}
