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
//!
//! Classic BPF written out by hand: the program is eleven fixed instructions, and it is built
//! before the fork so the child only makes one `prctl` call.

/// `AUDIT_ARCH_X86_64`: the native calling convention.
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// The x32 ABI marks its syscall numbers with this bit.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;
const IO_URING_SETUP: u32 = 425;
const IO_URING_ENTER: u32 = 426;
const IO_URING_REGISTER: u32 = 427;

/// `offsetof(struct seccomp_data, nr)` and `…, arch)`.
const NR: u32 = 0;
const ARCH: u32 = 4;

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
        use libc::{BPF_ABS, BPF_JEQ, BPF_JGE, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W};
        let kill = libc::SECCOMP_RET_KILL_PROCESS;
        let enosys = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
        // Each io_uring call jumps to the ENOSYS return at the end; allowed, it falls through.
        let to_enosys = |from_end: u8| if allow_io_uring { 0 } else { from_end };
        Self(vec![
            stmt(BPF_LD | BPF_W | BPF_ABS, ARCH),
            jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
            stmt(BPF_RET | BPF_K, kill),
            stmt(BPF_LD | BPF_W | BPF_ABS, NR),
            jump(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1),
            stmt(BPF_RET | BPF_K, kill),
            jump(BPF_JMP | BPF_JEQ | BPF_K, IO_URING_SETUP, to_enosys(3), 0),
            jump(BPF_JMP | BPF_JEQ | BPF_K, IO_URING_ENTER, to_enosys(2), 0),
            jump(
                BPF_JMP | BPF_JEQ | BPF_K,
                IO_URING_REGISTER,
                to_enosys(1),
                0,
            ),
            stmt(BPF_RET | BPF_K, libc::SECCOMP_RET_ALLOW),
            stmt(BPF_RET | BPF_K, enosys),
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
    fn verdict(f: &Filter, arch: u32, nr: u32) -> u32 {
        let mut acc = 0u32;
        let mut pc = 0usize;
        loop {
            let i = f.0[pc];
            let code = u32::from(i.code);
            match code & 0x07 {
                c if c == libc::BPF_LD => {
                    acc = if i.k == ARCH { arch } else { nr };
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
        let enosys = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
        assert_eq!(verdict(&f, AUDIT_ARCH_X86_64, 257), libc::SECCOMP_RET_ALLOW);
        assert_eq!(verdict(&f, AUDIT_ARCH_X86_64, 0), libc::SECCOMP_RET_ALLOW);
        // int 0x80 and x32.
        assert_eq!(verdict(&f, 0x4000_0003, 5), libc::SECCOMP_RET_KILL_PROCESS);
        assert_eq!(
            verdict(&f, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | 257),
            libc::SECCOMP_RET_KILL_PROCESS
        );
        for nr in [IO_URING_SETUP, IO_URING_ENTER, IO_URING_REGISTER] {
            assert_eq!(verdict(&f, AUDIT_ARCH_X86_64, nr), enosys);
        }
        let allowed = Filter::new(true);
        for nr in [IO_URING_SETUP, IO_URING_ENTER, IO_URING_REGISTER] {
            assert_eq!(
                verdict(&allowed, AUDIT_ARCH_X86_64, nr),
                libc::SECCOMP_RET_ALLOW
            );
        }
        assert_eq!(
            verdict(&allowed, 0x4000_0003, 5),
            libc::SECCOMP_RET_KILL_PROCESS
        );
    }
}
