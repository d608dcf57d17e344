//! Network probes: connect/bind/listen, sends to DNS ports (queries), and sends to any other
//! explicit address (a datagram needs no `connect`).

use aya_ebpf::{macros::tracepoint, programs::TracePointContext};
use tracer_common::{
    counters,
    event::{EventKind, FLAG_PAYLOAD_TRUNCATED},
    limits::{PAYLOAD_LEN, SENDMMSG_MAX},
    net::{SendEvent, SockEvent, SockInfo},
    syscalls as nr,
};

use crate::{emit, kernel, maps::count, probes::syscall::take, user};

const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;
const AF_UNIX: u16 = 1;

/// DNS, multicast DNS and LLMNR: their datagrams are decoded as queries.
#[inline(always)]
fn is_dns_port(port: u16) -> bool {
    port == 53 || port == 5353 || port == 5355
}
/// `sizeof(struct mmsghdr)` on x86-64: a 56-byte msghdr plus `msg_len`, padded.
const MMSGHDR_SIZE: u64 = 64;

#[tracepoint]
pub fn sys_exit_sock(ctx: TracePointContext) -> u32 {
    let Some((a, ret)) = take(&ctx) else { return 0 };
    let n = a.nr as u32;
    let (kind, addr, addr_len, backlog) = match n {
        nr::CONNECT => (EventKind::Connect, a.args[1], a.args[2] as u32, 0),
        nr::BIND => (EventKind::Bind, a.args[1], a.args[2] as u32, 0),
        nr::LISTEN => (EventKind::Listen, 0, 0, a.args[1] as i32),
        _ => return 0,
    };
    let fd = a.args[0] as i32;
    let mut sock = SockInfo::default();
    kernel::sock_info(fd, &mut sock);
    emit_sock(kind, n, ret, fd, (addr, addr_len), backlog, &sock);
    0
}

/// One [`SockEvent`]: the socket as the kernel has it, the address as passed.
#[inline(always)]
fn emit_sock(
    kind: EventKind,
    n: u32,
    ret: i64,
    fd: i32,
    (addr, addr_len): (u64, u32),
    backlog: i32,
    sock: &SockInfo,
) {
    let Some(mut entry) = emit::reserve::<SockEvent>() else {
        return;
    };
    // SAFETY: every field is written below before submit.
    let e = unsafe { &mut *entry.as_mut_ptr() };
    emit::header(&mut e.header, kind, n, ret);
    e.fd = fd;
    e.addr_len = addr_len;
    e.backlog = backlog;
    e._pad = 0;
    e.sock = *sock;
    let got = user::read_bytes(addr, addr_len as u64, &mut e.addr);
    if got == 0 {
        e.addr[0] = 0;
        e.addr[1] = 0;
    }
    entry.submit(0);
}

/// Destination port of a user `sockaddr`, if it is an inet one — `AF_UNSPEC` included on an
/// IPv4 socket, which the kernel's UDP send takes for `AF_INET`.
#[inline(always)]
fn port_of(addr: u64, addr_len: u32, sock: &SockInfo) -> Option<u16> {
    if addr == 0 || addr_len < 4 {
        return None;
    }
    let family: u16 = user::read(addr)?;
    let unspec_v4 = family == 0 && sock.family == AF_INET;
    if family != AF_INET && family != AF_INET6 && !unspec_v4 {
        return None;
    }
    let port: u16 = user::read(addr + 2)?;
    Some(u16::from_be(port))
}

#[tracepoint]
pub fn sys_exit_send(ctx: TracePointContext) -> u32 {
    let Some((a, ret)) = take(&ctx) else { return 0 };
    let n = a.nr as u32;
    let fd = a.args[0] as i32;
    let mut sock = SockInfo::default();
    kernel::sock_info(fd, &mut sock);
    match n {
        nr::SENDTO => {
            send_one(
                n,
                ret,
                fd,
                0,
                a.args[4],
                a.args[5] as u32,
                a.args[1],
                a.args[2],
                &sock,
            );
        }
        nr::SENDMSG => send_msghdr(n, ret, fd, 0, a.args[1], &sock),
        nr::SENDMMSG => {
            let vlen = a.args[2] as u32;
            if vlen > SENDMMSG_MAX {
                count(counters::LOST_BEYOND);
            }
            for i in 0..SENDMMSG_MAX {
                if i >= vlen {
                    break;
                }
                send_msghdr(n, ret, fd, i, a.args[1] + i as u64 * MMSGHDR_SIZE, &sock);
            }
        }
        _ => {}
    }
    0
}

/// One `struct msghdr` of sendmsg/sendmmsg: its name and its first iovec.
#[inline(always)]
fn send_msghdr(n: u32, ret: i64, fd: i32, idx: u32, msg: u64, sock: &SockInfo) {
    let name: u64 = user::read(msg).unwrap_or(0);
    let name_len: u32 = user::read(msg + 8).unwrap_or(0);
    let iov: u64 = user::read(msg + 16).unwrap_or(0);
    let base: u64 = user::read(iov).unwrap_or(0);
    let len: u64 = user::read(iov + 8).unwrap_or(0);
    send_one(n, ret, fd, idx, name, name_len, base, len, sock);
}

/// Emits a datagram to a DNS port (by explicit address or the connected peer) with its payload,
/// and a send to any other explicit address with the address: an unconnected UDP socket (or a
/// TCP Fast Open) reaches a host without `connect`. A send on a connected socket without an
/// address goes where its recorded `connect` said.
#[expect(
    clippy::too_many_arguments,
    reason = "flat arguments keep the verifier's job simple"
)]
#[inline(always)]
fn send_one(
    n: u32,
    ret: i64,
    fd: i32,
    idx: u32,
    addr: u64,
    addr_len: u32,
    buf: u64,
    len: u64,
    sock: &SockInfo,
) {
    let port = match port_of(addr, addr_len, sock) {
        Some(p) => p,
        None if addr == 0 => sock.remote_port,
        // A unix socket's address (a datagram to a local daemon); other families carry none
        // worth naming.
        None => {
            if user::read::<u16>(addr) == Some(AF_UNIX) {
                emit_sock(EventKind::Send, n, ret, fd, (addr, addr_len), 0, sock);
            }
            return;
        }
    };
    // Any other explicit destination, as passed: an unconnected socket keeps none to check it
    // against.
    if !is_dns_port(port) {
        if addr != 0 {
            emit_sock(EventKind::Send, n, ret, fd, (addr, addr_len), 0, sock);
        }
        return;
    }
    let Some(mut entry) = emit::reserve::<SendEvent>() else {
        return;
    };
    // SAFETY: every field is written below before submit.
    let e = unsafe { &mut *entry.as_mut_ptr() };
    emit::header(&mut e.header, EventKind::DnsSend, n, ret);
    e.fd = fd;
    e.msg_index = idx;
    e.payload_total = len as u32;
    e.addr_len = if addr == 0 { 0 } else { addr_len };
    e._pad = 0;
    e.sock = *sock;
    let got = user::read_bytes(addr, addr_len as u64, &mut e.addr);
    if got == 0 {
        e.addr[0] = 0;
        e.addr[1] = 0;
    }
    e.payload_len = user::read_bytes(buf, len, &mut e.payload);
    if len > PAYLOAD_LEN as u64 {
        e.header.flags |= FLAG_PAYLOAD_TRUNCATED;
    }
    entry.submit(0);
}
