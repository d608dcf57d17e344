//! Indexes of the per-CPU counter array (`COUNTERS`) the probes increment.

/// Events dropped because the ring buffer was full. Any non-zero value makes a trace incomplete.
pub const LOST_RINGBUF: u32 = 0;
/// Syscalls whose entry could not be remembered for the exit side (in-flight map full).
pub const LOST_INFLIGHT: u32 = 1;
/// Processes that could not be added to the traced set (map full): their events are missing.
pub const LOST_TRACKING: u32 = 2;
/// Syscall exits of a traced thread with no entry remembered (outside system-wide mode, where
/// syscalls already in flight when the probes attached are expected): the event is missing.
pub const LOST_UNMATCHED: u32 = 3;
/// Calls with more parts than the probes decode (a `sendmmsg` of more datagrams than
/// [`crate::limits::SENDMMSG_MAX`]): the rest is missing.
pub const LOST_BEYOND: u32 = 4;
/// Copied stacks dropped because their ring buffer was full: those calls stay with their
/// program's package (attribution is poorer; the trace is not incomplete).
pub const LOST_STACKS: u32 = 5;
/// Number of counters.
pub const COUNT: u32 = 6;
