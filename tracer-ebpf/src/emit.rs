//! Reserving ring-buffer records and filling the common header.

use aya_ebpf::{
    helpers::generated::{bpf_get_current_comm, bpf_get_current_uid_gid, bpf_ktime_get_boot_ns},
    maps::ring_buf::RingBufEntry,
};
use tracer_common::{
    counters,
    event::{EventHeader, EventKind},
    limits::COMM_LEN,
};

use crate::maps::{EVENTS, MACRO_PROC, MACRO_THREAD, count};

/// The proc macro responsible for the current thread's actions, 0 for none.
#[inline(always)]
pub fn macro_of(tgid: u32, tid: u32) -> u32 {
    if let Some(id) = MACRO_THREAD.get_ptr(&tid) {
        // SAFETY: pointer from a successful lookup.
        return unsafe { *id };
    }
    MACRO_PROC
        .get_ptr(&tgid)
        .map(|id| unsafe { *id })
        .unwrap_or(0)
}

/// Reserves a record of type `T`, counting a loss when the buffer is full.
#[inline(always)]
pub fn reserve<T: 'static>() -> Option<RingBufEntry<T>> {
    let e = EVENTS.reserve::<T>(0);
    if e.is_none() {
        count(counters::LOST_RINGBUF);
    }
    e
}

/// Fills the header of a record for the current task.
#[inline(always)]
pub fn header(h: &mut EventHeader, kind: EventKind, nr: u32, ret: i64) {
    let (tgid, tid) = crate::scope::current_ids();
    h.kind = kind as u32;
    h.flags = 0;
    // SAFETY: helpers without pointer arguments.
    h.ktime_ns = unsafe { bpf_ktime_get_boot_ns() };
    h.pid = tgid;
    h.tid = tid;
    h.uid = unsafe { bpf_get_current_uid_gid() } as u32;
    h.syscall_nr = nr;
    h.ret = ret;
    // SAFETY: comm is COMM_LEN bytes inside the reserved record.
    unsafe { bpf_get_current_comm(h.comm.as_mut_ptr().cast(), COMM_LEN as u32) };
    h.macro_id = macro_of(tgid, tid);
    h._pad = 0;
}
