//! Size limits of captured data, in one place. Data longer than a limit is cut and the event says
//! so with a `FLAG_*_TRUNCATED` bit: truncation is never silent.

/// Bytes of one path captured in the kernel, including the terminating NUL.
pub const PATH_LEN: usize = 512;
/// Bytes of an exec's argument block (NUL-separated argv) captured after a successful exec.
/// Large enough for the start of cargo's rustc command lines (`--crate-name`, `extra-filename`).
pub const ARGV_LEN: usize = 4096;
/// Bytes of a `sockaddr` captured (large enough for `sockaddr_un`, 110, and `sockaddr_in6`, 28).
pub const SOCKADDR_LEN: usize = 128;
/// Bytes of a UDP payload captured for DNS decoding (the classic DNS-over-UDP limit).
pub const PAYLOAD_LEN: usize = 512;
/// Bytes of `task_struct::comm`.
pub const COMM_LEN: usize = 16;
/// Messages of one `sendmmsg` call inspected for DNS queries (glibc sends A and AAAA together).
pub const SENDMMSG_MAX: u32 = 4;
