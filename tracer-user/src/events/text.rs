//! Bytes the kernel captured — paths, argv, `comm` — as text that keeps them exactly: UTF-8 as
//! it is, a byte that is not UTF-8 as `\xNN`, and a backslash as `\\`, so two files whose names
//! differ in one invalid byte stay two files (a lossy conversion would make them one), and the
//! text turns back into the same bytes ([`to_bytes`]) for the system calls that check them.

use std::{
    ffi::{OsStr, OsString},
    os::unix::ffi::{OsStrExt, OsStringExt},
};

/// `b` as text, exactly.
pub fn from_bytes(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                out.push(c);
            }
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

/// A path (or any OS string) as text, exactly.
pub fn from_os(s: &OsStr) -> String {
    from_bytes(s.as_bytes())
}

/// The bytes [`from_bytes`] made `s` from. Text it could not have made (a lone backslash) is
/// taken as it is.
pub fn to_bytes(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            if b.get(i + 1) == Some(&b'\\') {
                out.push(b'\\');
                i += 2;
                continue;
            }
            if b.get(i + 1) == Some(&b'x')
                && let Some(v) = b
                    .get(i + 2..i + 4)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// The OS string [`from_os`] made `s` from.
pub fn to_os(s: &str) -> OsString {
    OsString::from_vec(to_bytes(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_and_distinct_names_stay_distinct() {
        for b in [
            &b"/usr/lib/x.so"[..],
            b"/tmp/a\\b",
            b"/tmp/\xff\xfe",
            b"/tmp/\\xff",
            "/home/Grüße".as_bytes(),
            b"\\",
            b"",
        ] {
            assert_eq!(to_bytes(&from_bytes(b)), b, "{:?}", from_bytes(b));
        }
        assert_ne!(from_bytes(b"/tmp/a\xff"), from_bytes(b"/tmp/a\xfe"));
        assert_ne!(
            from_bytes(b"/tmp/a\xff"),
            from_bytes("/tmp/a\u{fffd}".as_bytes())
        );
        assert_eq!(from_bytes(b"/tmp/a\xff"), "/tmp/a\\xff");
        assert_eq!(from_bytes(b"/tmp/\\xff"), "/tmp/\\\\xff");
    }
}
