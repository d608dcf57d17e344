//! `struct sockaddr` decoding (unix, IPv4, IPv6), bounded by the caller's `addrlen`.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

const AF_UNSPEC: u16 = 0;
const AF_UNIX: u16 = 1;
const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

/// A socket address as the traced process passed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "family", rename_all = "snake_case")]
pub enum SockAddr {
    /// IPv4 or IPv6.
    Inet { ip: String, port: u16 },
    /// A unix socket path; abstract names start with `@`.
    Unix { path: String },
    /// AF_UNSPEC (a disconnect) or no address.
    Unspec,
    /// A family this decoder does not know, or bytes too short for their family.
    Other { af: u16, len: usize },
}

impl SockAddr {
    /// Decodes `bytes` (already cut to `addrlen` by the caller).
    pub fn decode(bytes: &[u8]) -> Self {
        if bytes.len() < 2 {
            return Self::Unspec;
        }
        let af = u16::from_ne_bytes([bytes[0], bytes[1]]);
        let port = || u16::from_be_bytes([bytes[2], bytes[3]]);
        match af {
            AF_UNSPEC => Self::Unspec,
            AF_INET if bytes.len() >= 8 => Self::Inet {
                ip: Ipv4Addr::new(bytes[4], bytes[5], bytes[6], bytes[7]).to_string(),
                port: port(),
            },
            AF_INET6 if bytes.len() >= 24 => {
                let mut a = [0u8; 16];
                a.copy_from_slice(&bytes[8..24]);
                Self::Inet {
                    ip: Ipv6Addr::from(a).to_string(),
                    port: port(),
                }
            }
            AF_UNIX => {
                let p = &bytes[2..];
                let path = if p.first() == Some(&0) {
                    // Abstract namespace: the whole rest is the name, NULs included.
                    format!(
                        "@{}",
                        super::text::from_bytes(&p[1..]).trim_end_matches('\0')
                    )
                } else {
                    let end = p.iter().position(|&b| b == 0).unwrap_or(p.len());
                    super::text::from_bytes(&p[..end])
                };
                Self::Unix { path }
            }
            af => Self::Other {
                af,
                len: bytes.len(),
            },
        }
    }

    /// The peer the kernel's socket is connected to, when it is an IP socket with one.
    pub fn peer_of(s: &tracer_common::net::SockInfo) -> Option<Self> {
        (matches!(s.family, AF_INET | AF_INET6) && s.remote_port != 0)
            .then(|| Self::from_sock(s.family, s.remote_addr4, s.remote_addr6, s.remote_port))
    }

    /// A socket's own address built from what the kernel's `sock` said.
    pub fn from_sock(family: u16, addr4: u32, addr6: [u8; 16], port: u16) -> Self {
        match family {
            AF_INET => Self::Inet {
                ip: Ipv4Addr::from(u32::from_be(addr4)).to_string(),
                port,
            },
            AF_INET6 => Self::Inet {
                ip: Ipv6Addr::from(addr6).to_string(),
                port,
            },
            AF_UNIX => Self::Unix {
                path: String::new(),
            },
            0 => Self::Unspec,
            af => Self::Other { af, len: 0 },
        }
    }

    /// `host:port` / `[v6]:port` / `unix:path` for people.
    pub fn display(&self) -> String {
        match self {
            Self::Inet { ip, port } if ip.contains(':') => format!("[{ip}]:{port}"),
            Self::Inet { ip, port } => format!("{ip}:{port}"),
            Self::Unix { path } => format!("unix:{path}"),
            Self::Unspec => "unspec".into(),
            Self::Other { af, .. } => format!("af{af}"),
        }
    }
}

impl SockAddr {
    /// The IP address and port of an IPv4 or IPv6 address.
    pub fn inet(&self) -> Option<(std::net::IpAddr, u16)> {
        match self {
            Self::Inet { ip, port } => Some((ip.parse().ok()?, *port)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inet_addresses() {
        let at = |ip: &str, port| {
            SockAddr::Inet {
                ip: ip.into(),
                port,
            }
            .inet()
        };
        let t = |ip: &str, port| {
            at(ip, port).map(|(ip, port)| (ip.is_loopback(), ip.is_unspecified(), port))
        };
        assert_eq!(t("127.0.0.1", 8080), Some((true, false, 8080)));
        assert_eq!(t("::1", 53), Some((true, false, 53)));
        assert_eq!(t("0.0.0.0", 9), Some((false, true, 9)));
        assert_eq!(t("10.0.0.1", 443), Some((false, false, 443)));
        let unix = SockAddr::Unix {
            path: "/run/x.sock".into(),
        };
        assert_eq!(unix.inet(), None);
        assert_eq!(SockAddr::Unspec.inet(), None);
    }

    fn v4(ip: [u8; 4], port: u16) -> Vec<u8> {
        let mut b = AF_INET.to_ne_bytes().to_vec();
        b.extend_from_slice(&port.to_be_bytes());
        b.extend_from_slice(&ip);
        b.extend_from_slice(&[0; 8]);
        b
    }

    #[test]
    fn decodes_inet_families() {
        assert_eq!(
            SockAddr::decode(&v4([127, 0, 0, 1], 8080)),
            SockAddr::Inet {
                ip: "127.0.0.1".into(),
                port: 8080
            }
        );
        let mut b = AF_INET6.to_ne_bytes().to_vec();
        b.extend_from_slice(&53u16.to_be_bytes());
        b.extend_from_slice(&[0; 4]);
        let mut ip = [0u8; 16];
        ip[15] = 1;
        b.extend_from_slice(&ip);
        b.extend_from_slice(&[0; 4]);
        let a = SockAddr::decode(&b);
        assert_eq!(
            a,
            SockAddr::Inet {
                ip: "::1".into(),
                port: 53
            }
        );
        assert_eq!(a.display(), "[::1]:53");
    }

    #[test]
    fn decodes_unix_paths_and_abstract_names() {
        let mut b = AF_UNIX.to_ne_bytes().to_vec();
        b.extend_from_slice(b"/run/x.sock\0garbage");
        assert_eq!(
            SockAddr::decode(&b),
            SockAddr::Unix {
                path: "/run/x.sock".into()
            }
        );
        let mut b = AF_UNIX.to_ne_bytes().to_vec();
        b.extend_from_slice(b"\0hidden");
        assert_eq!(
            SockAddr::decode(&b),
            SockAddr::Unix {
                path: "@hidden".into()
            }
        );
    }

    #[test]
    fn short_or_unknown_is_reported_not_guessed() {
        assert_eq!(SockAddr::decode(&[]), SockAddr::Unspec);
        assert_eq!(
            SockAddr::decode(&v4([1, 2, 3, 4], 1)[..6]),
            SockAddr::Other {
                af: AF_INET,
                len: 6
            }
        );
        assert_eq!(
            SockAddr::decode(&[17, 0, 0, 0]),
            SockAddr::Other { af: 17, len: 4 }
        );
    }

    #[test]
    fn from_sock_uses_network_order_v4() {
        let a = SockAddr::from_sock(AF_INET, u32::from_ne_bytes([127, 0, 0, 1]), [0; 16], 80);
        assert_eq!(a.display(), "127.0.0.1:80");
    }
}
