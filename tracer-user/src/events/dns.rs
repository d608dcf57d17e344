//! DNS wire-format decoding of query packets (RFC 1035 §4), as captured from sends to port 53.
//! Tolerates nothing silently: a malformed packet is an error saying where it broke.

use serde::{Deserialize, Serialize};

/// One question of a query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// Dotted name without the trailing dot (`example.com`); the root is `.`.
    pub name: String,
    /// Record type mnemonic (`A`, `AAAA`, …) or `TYPE<n>`.
    #[serde(rename = "type")]
    pub qtype: String,
}

/// A decoded DNS message header and its questions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Query {
    pub id: u16,
    /// True for a response (QR bit), false for a query.
    pub response: bool,
    pub questions: Vec<Question>,
}

/// Why a payload is not a DNS message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    #[error("shorter than a DNS header ({0} bytes)")]
    Short(usize),
    #[error("question {0} runs past the end of the packet")]
    Truncated(usize),
    #[error("label length byte {0:#x} at offset {1} is reserved")]
    BadLabel(u8, usize),
    #[error("compression pointer at offset {0} loops or points forward")]
    PointerLoop(usize),
    #[error("name longer than 255 bytes")]
    NameTooLong,
    #[error("no questions")]
    NoQuestions,
}

fn type_name(t: u16) -> String {
    match t {
        1 => "A".into(),
        2 => "NS".into(),
        5 => "CNAME".into(),
        6 => "SOA".into(),
        12 => "PTR".into(),
        15 => "MX".into(),
        16 => "TXT".into(),
        28 => "AAAA".into(),
        33 => "SRV".into(),
        64 => "SVCB".into(),
        65 => "HTTPS".into(),
        255 => "ANY".into(),
        n => format!("TYPE{n}"),
    }
}

/// Reads a possibly compressed name starting at `at`; returns it and the offset after it.
fn read_name(p: &[u8], mut at: usize, q: usize) -> Result<(String, usize), DnsError> {
    let mut labels: Vec<String> = Vec::new();
    let mut total = 0usize;
    let mut end = None;
    // Each pointer must go strictly backwards, which bounds the walk and rules out loops.
    let mut limit = at;
    loop {
        let len = *p.get(at).ok_or(DnsError::Truncated(q))?;
        match len & 0xc0 {
            0x00 => {
                if len == 0 {
                    at += 1;
                    break;
                }
                let start = at + 1;
                let label = p
                    .get(start..start + len as usize)
                    .ok_or(DnsError::Truncated(q))?;
                total += len as usize + 1;
                if total > 255 {
                    return Err(DnsError::NameTooLong);
                }
                labels.push(label.iter().map(|&b| escape(b)).collect());
                at = start + len as usize;
            }
            0xc0 => {
                let lo = *p.get(at + 1).ok_or(DnsError::Truncated(q))?;
                let target = (((len & 0x3f) as usize) << 8) | lo as usize;
                if target >= limit {
                    return Err(DnsError::PointerLoop(at));
                }
                end.get_or_insert(at + 2);
                limit = target;
                at = target;
            }
            _ => return Err(DnsError::BadLabel(len, at)),
        }
    }
    let name = if labels.is_empty() {
        ".".to_string()
    } else {
        labels.join(".")
    };
    Ok((name, end.unwrap_or(at)))
}

/// Printable form of one label byte: dots and non-printables escaped as in zone files.
fn escape(b: u8) -> String {
    match b {
        b'.' => "\\.".into(),
        b'\\' => "\\\\".into(),
        0x21..=0x7e => (b as char).to_string(),
        _ => format!("\\{b:03}"),
    }
}

/// Decodes a DNS message as sent over UDP.
pub fn decode(p: &[u8]) -> Result<Query, DnsError> {
    if p.len() < 12 {
        return Err(DnsError::Short(p.len()));
    }
    let id = u16::from_be_bytes([p[0], p[1]]);
    let response = p[2] & 0x80 != 0;
    let qdcount = u16::from_be_bytes([p[4], p[5]]) as usize;
    if qdcount == 0 {
        return Err(DnsError::NoQuestions);
    }
    let mut at = 12;
    let mut questions = Vec::new();
    for q in 0..qdcount {
        let (name, next) = read_name(p, at, q)?;
        let t = p.get(next..next + 4).ok_or(DnsError::Truncated(q))?;
        questions.push(Question {
            name,
            qtype: type_name(u16::from_be_bytes([t[0], t[1]])),
        });
        at = next + 4;
    }
    Ok(Query {
        id,
        response,
        questions,
    })
}

/// Decodes a message that may carry the 2-byte length prefix of DNS over TCP.
pub fn decode_any(p: &[u8]) -> Result<Query, DnsError> {
    match decode(p) {
        Ok(q) => Ok(q),
        Err(e) => {
            let framed = p.len() >= 14 && u16::from_be_bytes([p[0], p[1]]) as usize == p.len() - 2;
            if framed {
                decode(&p[2..]).map_err(|_| e)
            } else {
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query as glibc builds it: id, RD flag, one question.
    fn query(name: &str, qtype: u16) -> Vec<u8> {
        let mut p = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for l in name.split('.') {
            p.push(l.len() as u8);
            p.extend_from_slice(l.as_bytes());
        }
        p.push(0);
        p.extend_from_slice(&qtype.to_be_bytes());
        p.extend_from_slice(&1u16.to_be_bytes());
        p
    }

    #[test]
    fn decodes_a_plain_query() {
        let q = decode(&query("evil.example.invalid", 28)).unwrap();
        assert_eq!(q.id, 0x1234);
        assert!(!q.response);
        assert_eq!(
            q.questions,
            vec![Question {
                name: "evil.example.invalid".into(),
                qtype: "AAAA".into()
            }]
        );
    }

    #[test]
    fn follows_compression_pointers() {
        // Two questions; the second is `www` + pointer to the first name at offset 12.
        let mut p = query("example.com", 1);
        p[5] = 2;
        p.extend_from_slice(&[3, b'w', b'w', b'w', 0xc0, 12, 0, 16, 0, 1]);
        let q = decode(&p).unwrap();
        assert_eq!(q.questions[1].name, "www.example.com");
        assert_eq!(q.questions[1].qtype, "TXT");
    }

    #[test]
    fn rejects_pointer_loops_and_forward_pointers() {
        let mut p = vec![0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        p.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]); // points at itself
        assert_eq!(decode(&p), Err(DnsError::PointerLoop(12)));
        let mut p = vec![0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        p.extend_from_slice(&[0xc0, 40, 0, 1, 0, 1]);
        assert_eq!(decode(&p), Err(DnsError::PointerLoop(12)));
    }

    #[test]
    fn rejects_malformed_packets() {
        assert_eq!(decode(&[0; 5]), Err(DnsError::Short(5)));
        let mut zero_q = query("a.b", 1);
        zero_q[5] = 0;
        assert_eq!(decode(&zero_q), Err(DnsError::NoQuestions));
        let full = query("example.com", 1);
        assert_eq!(decode(&full[..full.len() - 3]), Err(DnsError::Truncated(0)));
        let mut bad = query("example.com", 1);
        bad[12] = 0x80;
        assert_eq!(decode(&bad), Err(DnsError::BadLabel(0x80, 12)));
        let mut long = vec![0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        for _ in 0..5 {
            long.push(63);
            long.extend_from_slice(&[b'a'; 63]);
        }
        long.extend_from_slice(&[0, 0, 1, 0, 1]);
        assert_eq!(decode(&long), Err(DnsError::NameTooLong));
    }

    #[test]
    fn escapes_odd_bytes_and_reads_tcp_framing() {
        let mut p = vec![
            0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, b'a', b'.', 0x01, 0, 0, 1, 0, 1,
        ];
        assert_eq!(decode(&p).unwrap().questions[0].name, "a\\.\\001");
        let len = p.len() as u16;
        let mut framed = len.to_be_bytes().to_vec();
        framed.append(&mut p);
        assert_eq!(decode_any(&framed).unwrap().id, 1);
    }
}
