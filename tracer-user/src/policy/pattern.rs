//! What an allow entry can name: path globs (with placeholders, matched against the report's
//! targets; compiled with `globset` when the policy loads, so a bad glob or an unknown
//! placeholder is a mistake reported with its place, not a rule that silently never matches),
//! program names, and hosts (DNS names with `*.` wildcards, IPs and CIDRs, with an optional
//! port).

use std::net::IpAddr;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::model::{Placeholder, did_you_mean};

/// Why a path or program pattern is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("`{given}` is not a placeholder a target can start with (one of: {})", .known.join(", "))]
    UnknownPlaceholder {
        given: String,
        known: Vec<&'static str>,
    },
    #[error("`{pattern}` is not a glob: {reason}")]
    BadGlob { pattern: String, reason: String },
}

impl PatternError {
    /// For people: what was probably meant.
    pub fn help(&self) -> Option<String> {
        match self {
            Self::UnknownPlaceholder { given, known } => {
                did_you_mean(given, known).map(|s| format!("did you mean `{s}`?"))
            }
            Self::BadGlob { .. } => Some(
                "`**` spans directories, `*` and `?` stay within one, `[ab]` and `{a,b}` \
                 are alternatives; `\\` escapes"
                    .into(),
            ),
        }
    }
}

/// Checks that a pattern starting with `$` names a placeholder that targets use.
fn check_placeholder(pattern: &str) -> Result<(), PatternError> {
    let Some(rest) = pattern.strip_prefix('$') else {
        return Ok(());
    };
    let name_len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let given = &pattern[..1 + name_len];
    if Placeholder::IN_TARGETS.iter().any(|p| p.as_str() == given) {
        return Ok(());
    }
    Err(PatternError::UnknownPlaceholder {
        given: given.to_string(),
        known: Placeholder::IN_TARGETS.iter().map(|p| p.as_str()).collect(),
    })
}

fn glob(pattern: &str) -> Result<globset::Glob, PatternError> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| PatternError::BadGlob {
            pattern: pattern.to_string(),
            reason: e.kind().to_string(),
        })
}

/// The globs of one key of an allow entry (`read = […]`), compiled together.
#[derive(Debug, Clone, Default)]
pub struct PathGlobs {
    set: GlobSet,
    patterns: Vec<String>,
}

impl PathGlobs {
    /// Compiles `patterns`; the error names the first bad one (by index).
    pub fn new(patterns: &[String]) -> Result<Self, (usize, PatternError)> {
        let mut b = GlobSetBuilder::new();
        for (i, p) in patterns.iter().enumerate() {
            check_placeholder(p).map_err(|e| (i, e))?;
            b.add(glob(p).map_err(|e| (i, e))?);
            // `dir/**` also names `dir` itself.
            if let Some(dir) = p.strip_suffix("/**") {
                b.add(glob(dir).map_err(|e| (i, e))?);
            }
        }
        let set = b.build().map_err(|e| {
            (
                0,
                PatternError::BadGlob {
                    pattern: patterns.join(", "),
                    reason: e.to_string(),
                },
            )
        })?;
        Ok(Self {
            set,
            patterns: patterns.to_vec(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether any glob matches the whole target.
    pub fn matches(&self, target: &str) -> bool {
        !self.patterns.is_empty() && self.set.is_match(target)
    }
}

/// The programs of an allow entry (`exec = […]`): a bare name matches the executable's file
/// name, a path the whole path.
#[derive(Debug, Clone, Default)]
pub struct Programs {
    names: PathGlobs,
    paths: PathGlobs,
}

impl Programs {
    pub fn new(patterns: &[String]) -> Result<Self, (usize, PatternError)> {
        type Indexed<'a> = Vec<(usize, &'a String)>;
        let (paths, names): (Indexed<'_>, Indexed<'_>) = patterns
            .iter()
            .enumerate()
            .partition(|(_, p)| p.contains('/'));
        let compile = |list: Indexed<'_>| {
            let strings: Vec<String> = list.iter().map(|(_, p)| (*p).clone()).collect();
            PathGlobs::new(&strings).map_err(|(i, e)| (list[i].0, e))
        };
        Ok(Self {
            names: compile(names)?,
            paths: compile(paths)?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && self.paths.is_empty()
    }

    pub fn matches(&self, exe: &str) -> bool {
        self.paths.matches(exe) || self.names.matches(exe.rsplit('/').next().unwrap_or(exe))
    }
}

/// A host an allow entry names.
#[derive(Debug, Clone)]
pub enum HostPattern {
    /// `crates.io`, `*.github.com` (any subdomain), optionally with `:port`.
    Name { name: String, port: Option<u16> },
    /// `10.0.0.0/8`, `127.0.0.1`, `[::1]`, optionally with `:port` (`*` for any).
    Net {
        addr: IpAddr,
        prefix: u8,
        port: Option<u16>,
    },
    /// `unix:/run/x.sock` (glob).
    Unix(PathGlobs),
}

/// Why a host pattern is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a host pattern (expected a name like `*.example.com:443`, an IP or CIDR like `10.0.0.0/8`, or `unix:/path`)"
)]
pub struct BadHost(pub String);

fn split_port(s: &str) -> Result<(&str, Option<u16>), BadHost> {
    let bad = || BadHost(s.to_string());
    if let Some(rest) = s.strip_prefix('[') {
        let (addr, tail) = rest.split_once(']').ok_or_else(bad)?;
        return match tail.strip_prefix(':') {
            None if tail.is_empty() => Ok((addr, None)),
            Some("*") => Ok((addr, None)),
            Some(p) => Ok((addr, Some(p.parse().map_err(|_| bad())?))),
            None => Err(bad()),
        };
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => {
            if p == "*" {
                Ok((h, None))
            } else {
                Ok((h, Some(p.parse().map_err(|_| bad())?)))
            }
        }
        _ => Ok((s, None)),
    }
}

impl HostPattern {
    pub fn parse(s: &str) -> Result<Self, BadHost> {
        let bad = || BadHost(s.to_string());
        if let Some(path) = s.strip_prefix("unix:") {
            return PathGlobs::new(&[path.to_string()])
                .map(Self::Unix)
                .map_err(|_| bad());
        }
        let (host, port) = split_port(s)?;
        let (addr_part, prefix) = match host.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (host, None),
        };
        if let Ok(addr) = addr_part.parse::<IpAddr>() {
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let prefix = prefix.unwrap_or(max);
            if prefix > max {
                return Err(bad());
            }
            return Ok(Self::Net { addr, prefix, port });
        }
        let name = host.strip_prefix("*.").unwrap_or(host);
        let valid = !name.is_empty()
            && prefix.is_none()
            && name
                .split('.')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        if !valid {
            return Err(bad());
        }
        Ok(Self::Name {
            name: host.to_ascii_lowercase(),
            port,
        })
    }

    /// Allows resolving `name`.
    pub fn allows_dns(&self, name: &str) -> bool {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        match self {
            Self::Name { name: pat, .. } => match pat.strip_prefix("*.") {
                Some(base) => name.ends_with(&format!(".{base}")),
                None => name == *pat,
            },
            _ => false,
        }
    }

    /// Allows a connection to (or listening on) `target`: `ip:port`, `[v6]:port`, `unix:path`.
    pub fn allows_addr(&self, target: &str) -> bool {
        match self {
            Self::Unix(glob) => target
                .strip_prefix("unix:")
                .is_some_and(|p| glob.matches(p)),
            Self::Net { addr, prefix, port } => {
                let Ok((ip, p)) = split_port(target) else {
                    return false;
                };
                let Ok(ip) = ip.parse::<IpAddr>() else {
                    return false;
                };
                port.is_none_or(|want| p == Some(want)) && in_net(ip, *addr, *prefix)
            }
            Self::Name { .. } => false,
        }
    }
}

fn in_net(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix))
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob_match(pattern: &str, target: &str) -> bool {
        PathGlobs::new(&[pattern.to_string()])
            .unwrap()
            .matches(target)
    }

    fn exec_match(pattern: &str, exe: &str) -> bool {
        Programs::new(&[pattern.to_string()]).unwrap().matches(exe)
    }

    #[test]
    fn globs() {
        assert!(glob_match("$OUT_DIR/**", "$OUT_DIR/a/b.rs"));
        assert!(glob_match("$OUT_DIR/**", "$OUT_DIR"));
        assert!(glob_match("$HOME/.cache/*/id", "$HOME/.cache/x/id"));
        assert!(!glob_match("$HOME/.cache/*/id", "$HOME/.cache/x/y/id"));
        assert!(glob_match(
            "/usr/include/**/*.h",
            "/usr/include/openssl/ssl.h"
        ));
        assert!(!glob_match("$OUT_DIR/**", "$HOME/.ssh/id_rsa"));
        assert!(glob_match("/tmp/cc?????.o", "/tmp/ccAbCdE.o"));
        assert!(exec_match("cc", "/usr/bin/cc"));
        assert!(exec_match("clang*", "/usr/lib/llvm-22/bin/clang-22"));
        assert!(!exec_match("/usr/bin/cc", "/tmp/cc"));
        // `**` spans zero or more whole directories, never part of a name.
        assert!(glob_match("/a/**/b", "/a/b"));
        assert!(glob_match("/a/**/b", "/a/x/y/b"));
        assert!(!glob_match("/a/**/b", "/a/xb"));
        assert!(glob_match("**/bin", "/usr/local/bin"));
        assert!(!glob_match("**/bin", "/usr/local/sbin"));
        assert!(glob_match(
            "$CARGO_HOME/registry/src/**/protoc-bin-vendored-*/**",
            "$CARGO_HOME/registry/src/index/protoc-bin-vendored-linux-3.3.0/include/a.proto"
        ));
        let deep = format!("{}/x", "/d".repeat(60));
        assert!(!glob_match("/**/**/**/**/e/**/**/*.c", &deep));
        assert!(glob_match("/**/**/**/**/x", &deep));
        // Targets are data: their metacharacters match only themselves.
        assert!(glob_match("/x/a\\*", "/x/a*"));
        assert!(!glob_match("/x/a\\*", "/x/ab"));
    }

    #[test]
    fn bad_globs_and_placeholders_are_refused() {
        let e = PathGlobs::new(&["$OUT_DIR/**".into(), "$OUTDIR/**".into()]).unwrap_err();
        assert_eq!(e.0, 1);
        assert_eq!(e.1.help().as_deref(), Some("did you mean `$OUT_DIR`?"));
        assert!(matches!(
            PathGlobs::new(&["/x/[ab".into()]),
            Err((0, PatternError::BadGlob { .. }))
        ));
        assert!(matches!(
            Programs::new(&["cc".into(), "$SYSROOT/bin/rustc".into()]),
            Err((1, PatternError::UnknownPlaceholder { .. }))
        ));
        assert!(PathGlobs::new(&["$HOME".into(), "/$HOME/x".into()]).is_ok());
    }

    #[test]
    fn hosts() {
        let gh = HostPattern::parse("*.github.com:443").unwrap();
        assert!(gh.allows_dns("api.github.com"));
        assert!(!gh.allows_dns("github.com.evil.io"));
        assert!(!gh.allows_dns("github.com"));
        let exact = HostPattern::parse("crates.io").unwrap();
        assert!(exact.allows_dns("crates.io.") && !exact.allows_dns("static.crates.io"));
        let net = HostPattern::parse("10.0.0.0/8").unwrap();
        assert!(net.allows_addr("10.1.2.3:4444") && !net.allows_addr("11.0.0.1:80"));
        let lo = HostPattern::parse("127.0.0.1:*").unwrap();
        assert!(lo.allows_addr("127.0.0.1:9"));
        let v6 = HostPattern::parse("[::1]:53").unwrap();
        assert!(v6.allows_addr("[::1]:53") && !v6.allows_addr("[::1]:54"));
        assert!(
            HostPattern::parse("unix:/run/*.sock")
                .unwrap()
                .allows_addr("unix:/run/docker.sock")
        );
        for bad in ["", "a b", "10.0.0.0/40", "host:port", "*."] {
            assert!(HostPattern::parse(bad).is_err(), "{bad}");
        }
    }
}
