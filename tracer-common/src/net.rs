//! Network records: connect, bind, listen, and sends to port 53 (DNS queries).

use crate::{
    event::EventHeader,
    limits::{PAYLOAD_LEN, SOCKADDR_LEN},
};

/// What the kernel's socket said about itself when the syscall ran (zero if unreadable).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SockInfo {
    /// `AF_*` of the socket.
    pub family: u16,
    /// `SOCK_*` type (stream, dgram, ...).
    pub sock_type: u16,
    /// Local port, host byte order (`listen` reports the port it listens on here).
    pub local_port: u16,
    /// Connected peer port, host byte order.
    pub remote_port: u16,
    /// Local IPv4 address, network byte order (IPv6 sockets: see `local_addr6`).
    pub local_addr4: u32,
    /// Connected peer IPv4 address, network byte order.
    pub remote_addr4: u32,
    /// Local IPv6 address.
    pub local_addr6: [u8; 16],
    /// Connected peer IPv6 address.
    pub remote_addr6: [u8; 16],
}

/// connect / bind / listen.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SockEvent {
    pub header: EventHeader,
    pub fd: i32,
    /// `addrlen` as passed by the caller (0 for listen).
    pub addr_len: u32,
    /// listen: the backlog.
    pub backlog: i32,
    pub _pad: u32,
    pub sock: SockInfo,
    /// The `sockaddr` as passed, first [`SOCKADDR_LEN`] bytes.
    pub addr: [u8; SOCKADDR_LEN],
}

/// One datagram sent to port 53: the explicit destination if the call gave one, otherwise the
/// socket's connected peer (glibc's resolver connects first, then `sendmmsg`s).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SendEvent {
    pub header: EventHeader,
    pub fd: i32,
    /// Index of the message within a sendmsg/sendmmsg call (0 for sendto/sendmsg).
    pub msg_index: u32,
    /// Bytes of the payload as sent (may exceed what was captured).
    pub payload_total: u32,
    /// Bytes of `payload` captured.
    pub payload_len: u32,
    /// `addrlen` of the explicit destination, 0 if the connected peer was used.
    pub addr_len: u32,
    pub _pad: u32,
    pub sock: SockInfo,
    pub addr: [u8; SOCKADDR_LEN],
    pub payload: [u8; PAYLOAD_LEN],
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn layouts_are_pinned() {
        assert_eq!(size_of::<SockInfo>(), 48);
        assert_eq!(offset_of!(SockEvent, sock), 80);
        assert_eq!(offset_of!(SockEvent, addr), 128);
        assert_eq!(size_of::<SockEvent>(), 128 + SOCKADDR_LEN);
        assert_eq!(offset_of!(SendEvent, sock), 88);
        assert_eq!(offset_of!(SendEvent, addr), 136);
        assert_eq!(offset_of!(SendEvent, payload), 136 + SOCKADDR_LEN);
        assert_eq!(size_of::<SendEvent>(), 136 + SOCKADDR_LEN + PAYLOAD_LEN);
    }
}
