//! What a string literal names: a URL, a host or address, a credential file.

/// Top-level domains accepted for a bare host name (to keep `Cargo.toml` from being a host).
const TLDS: &[&str] = &[
    "com", "net", "org", "io", "dev", "app", "xyz", "top", "info", "biz", "co", "me", "sh", "ru",
    "cn", "tk", "ml", "ga", "cf", "gq", "pw", "cc", "su", "onion", "online", "site", "club",
    "live", "cloud", "link", "click", "gov", "edu", "de", "uk", "fr", "nl", "jp", "kr", "in", "br",
    "eu", "us", "ca", "au", "ch", "se", "no", "pl", "ua", "ir", "kp", "invalid", "example", "test",
    "local", "internal", "workers",
];

/// File names that are not hosts although they look like `name.tld`.
const NOT_HOSTS: &[&str] = &["README.md", "main.rs", "lib.rs", "build.rs", "mod.rs"];

/// Files whose reading means stealing credentials.
const CREDENTIAL_FILES: &[&str] = &[
    ".ssh/",
    "id_rsa",
    "id_ed25519",
    "id_ecdsa",
    ".aws/credentials",
    ".aws/config",
    ".cargo/credentials",
    ".npmrc",
    ".pypirc",
    ".netrc",
    ".git-credentials",
    ".docker/config.json",
    ".kube/config",
    ".gnupg/",
    "/etc/shadow",
    "/etc/passwd",
    ".config/gh/hosts.yml",
    ".bash_history",
    ".zsh_history",
    "Local State",
    "Login Data",
    "wallet.dat",
    ".config/solana/",
    ".electrum/",
];

/// A URL (`scheme://…`) with a network scheme.
pub fn url(s: &str) -> Option<&str> {
    let s = s.trim();
    let (scheme, rest) = s.split_once("://")?;
    let known = [
        "http", "https", "ftp", "ws", "wss", "tcp", "udp", "ssh", "git", "sftp", "smtp", "ldap",
    ];
    (known.contains(&scheme.to_ascii_lowercase().as_str())
        && !rest.is_empty()
        && !rest.contains(char::is_whitespace))
    .then_some(s)
}

fn is_label(l: &str) -> bool {
    !l.is_empty()
        && l.len() <= 63
        && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !l.starts_with('-')
}

/// A host name with a known top-level domain.
pub fn host(s: &str) -> bool {
    let s = s.trim_end_matches('.');
    if NOT_HOSTS.contains(&s) || s.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = s.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| is_label(l))
        && TLDS.contains(&labels.last().unwrap_or(&"").to_ascii_lowercase().as_str())
        && labels
            .iter()
            .any(|l| l.chars().any(|c| c.is_ascii_alphabetic()))
}

/// An IP address, optionally with a port (`1.2.3.4:80`, `[::1]:53`, `::1`).
pub fn address(s: &str) -> bool {
    if s.parse::<std::net::SocketAddr>().is_ok() {
        return true;
    }
    if let Ok(ip) = s.parse::<std::net::Ipv4Addr>() {
        // Dotted version numbers are not addresses, nor are X.500 object identifiers (2.5.4.3).
        return s.split('.').all(|p| p.len() <= 3)
            && !ip.is_unspecified()
            && !s.starts_with("2.5.");
    }
    s.contains(':')
        && s.chars().any(|c| c.is_ascii_hexdigit())
        && s.parse::<std::net::Ipv6Addr>()
            .is_ok_and(|ip| !ip.is_unspecified())
}

/// `host:port` with a known-TLD host.
pub fn host_port(s: &str) -> bool {
    s.rsplit_once(':')
        .is_some_and(|(h, p)| host(h) && p.parse::<u16>().is_ok())
}

/// A network target named by the literal: URL, address, `host:port` or host.
pub fn network_target(s: &str) -> Option<String> {
    let t = s.trim();
    if let Some(u) = url(t) {
        return Some(u.to_string());
    }
    (address(t) || host_port(t) || host(t)).then(|| t.to_string())
}

/// A credential or secret file named by the literal.
pub fn credential_file(s: &str) -> bool {
    (s.contains('/') || s.starts_with('.') || s.starts_with("id_"))
        && CREDENTIAL_FILES.iter().any(|c| s.contains(c))
}

/// Printable text (what a decoded payload must be to be reported).
pub fn printable(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| !c.is_control() || c == '\n' || c == '\t')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_hosts_and_addresses() {
        assert_eq!(
            network_target("https://api.telegram.org/bot123/send").as_deref(),
            Some("https://api.telegram.org/bot123/send")
        );
        assert!(network_target("evil.example.com").is_some());
        assert!(network_target("10.0.0.5:4444").is_some());
        assert!(network_target("[::1]:53").is_some());
        assert!(network_target("c2.onion:80").is_some());
        for not in [
            "::",
            "2.5.4.23",
            "Cargo.toml",
            "lib.rs",
            "1.2.0",
            "serde_json",
            "hello world",
            "x.y",
            "README.md",
            "0.0.0.0",
        ] {
            assert_eq!(network_target(not), None, "{not}");
        }
    }

    #[test]
    fn credential_files() {
        assert!(credential_file("/.ssh/id_rsa"));
        assert!(credential_file(".cargo/credentials.toml"));
        assert!(!credential_file("src/lib.rs"));
    }
}
