//! Size limits of captured data and map capacities, in one place. Data longer than a limit is
//! cut and the event says so with a `FLAG_*_TRUNCATED` bit; a full map is a counted loss:
//! neither is ever silent.

/// Bytes of one path captured in the kernel, including the terminating NUL.
pub const PATH_LEN: usize = 512;
/// Bytes of the names of a path the kernel resolved ([`crate::kpath::KernelPath`]).
pub const KPATH_LEN: usize = 1024;
/// Bytes of one name in a kernel path, its NUL included (`NAME_MAX` + 1).
pub const NAME_LEN: usize = 256;
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

/// Bytes of a runtime process's user stack copied at a syscall (from the stack pointer up).
/// perf's default for `--call-graph dwarf` is 8 KiB; measured here, `Command::status` from a
/// constructor needs more than that to reach `_start` in a debug build (spawning keeps large
/// buffers on the stack), and the walk must reach it to tell a constructor from `main`.
pub const STACK_LEN: usize = 16384;
/// Directories whose programs have their stacks copied (where cargo puts executables).
pub const STACK_DIRS_MAX: u32 = 256;

/// Default size of the event ring buffer (the loader can set another): about 80,000 file
/// events. 16 MiB held a build's worst burst, but not a test suite's: the tests of
/// benches/graph (HTTP, files, threads) lost 664 events in it while the reader unwound their
/// stacks.
pub const RING_BYTES: u32 = 64 * 1024 * 1024;
/// Size of the ring buffer of copied stacks, apart from the events' so that a test suite's
/// burst of calls fills it, not the events' (about 2,000 stacks).
pub const STACK_RING_BYTES: u32 = 32 * 1024 * 1024;
/// Processes in the traced set at once.
pub const TRACED_MAX: u32 = 65_536;
/// Syscalls between entry and exit at once (all threads).
pub const INFLIGHT_MAX: u32 = 16_384;
/// Threads running proc-macro code at once.
pub const MACRO_THREADS_MAX: u32 = 16_384;
/// Processes started by proc macros, alive at once.
pub const MACRO_PROCS_MAX: u32 = 4_096;
/// (process, macro) pairs already reported running.
pub const MACRO_SEEN_MAX: u32 = 8_192;
