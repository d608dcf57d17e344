//! Undoing the cheap tricks malicious crates use to hide a host or a command from a text search:
//! base64, hex, XOR over a byte array. Only printable results are kept.

use super::literals::printable;

fn b64_value(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' | b'-' => 62,
        b'/' | b'_' => 63,
        _ => return None,
    } as u32)
}

/// Decodes standard or URL-safe base64 (padding optional). At least 8 characters, so ordinary
/// words are not taken for base64.
pub fn base64(s: &str) -> Option<String> {
    let s = s.trim().trim_end_matches('=');
    if s.len() < 8 || s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        acc = (acc << 6) | b64_value(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    String::from_utf8(out).ok().filter(|t| printable(t))
}

/// Decodes an even-length hex string of at least 8 digits.
pub fn hex(s: &str) -> Option<String> {
    let s = s.trim();
    if s.len() < 8 || !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect();
    String::from_utf8(bytes?).ok().filter(|t| printable(t))
}

/// XORs `bytes` with a one-byte key.
pub fn xor(bytes: &[u8], key: u8) -> Option<String> {
    let out: Vec<u8> = bytes.iter().map(|b| b ^ key).collect();
    String::from_utf8(out).ok().filter(|t| printable(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_base64_hex_and_xor() {
        assert_eq!(
            base64("aHR0cHM6Ly9ldmlsLmV4YW1wbGUuY29t").as_deref(),
            Some("https://evil.example.com")
        );
        assert_eq!(
            base64("ZXZpbC5leGFtcGxlLmNvbQ==").as_deref(),
            Some("evil.example.com")
        );
        assert_eq!(base64("notbase64!"), None);
        assert_eq!(base64("short"), None);
        assert_eq!(
            hex("6576696c2e6578616d706c652e636f6d").as_deref(),
            Some("evil.example.com")
        );
        assert_eq!(hex("deadbeef"), None, "not printable");
        let hidden: Vec<u8> = "evil.example.com".bytes().map(|b| b ^ 0x2a).collect();
        assert_eq!(xor(&hidden, 0x2a).as_deref(), Some("evil.example.com"));
    }
}
