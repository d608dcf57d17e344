//! What an allow entry can name: path globs (with placeholders, matched against the report's
//! targets; compiled with `globset` when the policy loads, so a bad glob or an unknown
//! placeholder is a mistake reported with its place, not a rule that silently never matches),
//! program names, and hosts (DNS names with `*.` wildcards, IPs and CIDRs, with an optional
//! port).

use std::net::IpAddr;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::model::{Placeholder, did_you_mean};

/// Why a path or program pattern is not one, or could never match a target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("`{given}` is not a placeholder a target can start with (one of: {})", .known.join(", "))]
    UnknownPlaceholder {
        given: String,
        known: Vec<&'static str>,
    },
    #[error("`{pattern}` is not a glob: {reason}")]
    BadGlob { pattern: String, reason: String },
    #[error("an empty pattern matches nothing")]
    Empty,
    #[error("`{0}` is relative: targets are absolute paths or start with a placeholder")]
    Relative(String),
    #[error(
        "`{0}` names a placeholder that is not at the start of the pattern: only there does it mean a directory"
    )]
    PlaceholderInside(String),
    #[error("in `{0}`, a placeholder must be followed by `/` or end the pattern")]
    PlaceholderGlued(String),
    #[error("`{0}` ends with `/`: targets never do")]
    TrailingSlash(String),
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
            Self::Relative(_) => Some(
                "start it with `/`, or with `$WORKSPACE/`, `$HOME/`… (`~` is not expanded)".into(),
            ),
            Self::PlaceholderInside(_) | Self::PlaceholderGlued(_) => {
                Some("write one pattern per directory: `$OUT_DIR/**`, `$HOME/.cache/**`".into())
            }
            Self::TrailingSlash(p) => Some(format!(
                "`{}` names the directory, `{p}**` everything under it",
                p.trim_end_matches('/')
            )),
            Self::Empty => None,
        }
    }
}

/// The length of a placeholder-like name (`$OUT_DIR`) at the start of `s`, if any.
fn placeholder_len(s: &str) -> Option<usize> {
    let rest = s.strip_prefix('$')?;
    let n = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    (n > 0).then_some(1 + n)
}

/// Checks what a pattern can match, regardless of the build: a path pattern is absolute or
/// starts with a placeholder targets use (and only there), and does not end with `/`.
fn check_path(pattern: &str) -> Result<(), PatternError> {
    if pattern.is_empty() {
        return Err(PatternError::Empty);
    }
    if let Some(n) = placeholder_len(pattern) {
        let given = &pattern[..n];
        if !Placeholder::IN_TARGETS.iter().any(|p| p.as_str() == given) {
            return Err(PatternError::UnknownPlaceholder {
                given: given.to_string(),
                known: Placeholder::IN_TARGETS.iter().map(|p| p.as_str()).collect(),
            });
        }
        if !(pattern.len() == n || pattern[n..].starts_with('/')) {
            return Err(PatternError::PlaceholderGlued(pattern.to_string()));
        }
    } else if !pattern.starts_with(['/', '*', '?', '[', '{']) {
        return Err(PatternError::Relative(pattern.to_string()));
    }
    let inside = pattern
        .char_indices()
        .skip(1)
        .any(|(i, c)| c == '$' && pattern[i + 1..].starts_with(|c: char| c.is_ascii_uppercase()));
    if inside {
        return Err(PatternError::PlaceholderInside(pattern.to_string()));
    }
    if pattern.len() > 1 && pattern.ends_with('/') {
        return Err(PatternError::TrailingSlash(pattern.to_string()));
    }
    Ok(())
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

/// Every bad pattern of a list, by index.
pub type PatternErrors = Vec<(usize, PatternError)>;

impl PathGlobs {
    /// Compiles `patterns`; the error lists every bad one (by index).
    pub fn new(patterns: &[String]) -> Result<Self, PatternErrors> {
        Self::compile(patterns, check_path)
    }

    fn compile(
        patterns: &[String],
        check: impl Fn(&str) -> Result<(), PatternError>,
    ) -> Result<Self, PatternErrors> {
        let mut b = GlobSetBuilder::new();
        let mut errors = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            match check(p).and_then(|()| glob(p)) {
                Ok(g) => {
                    b.add(g);
                    // `dir/**` also names `dir` itself (when `dir` is a glob of its own).
                    if let Some(dir) = p.strip_suffix("/**")
                        && let Ok(g) = glob(dir)
                    {
                        b.add(g);
                    }
                }
                Err(e) => errors.push((i, e)),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let set = b.build().map_err(|e| {
            vec![(
                0,
                PatternError::BadGlob {
                    pattern: patterns.join(", "),
                    reason: e.to_string(),
                },
            )]
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
/// name; a pattern with a `/` (or a placeholder) matches the whole path.
#[derive(Debug, Clone, Default)]
pub struct Programs {
    names: PathGlobs,
    paths: PathGlobs,
}

impl Programs {
    pub fn new(patterns: &[String]) -> Result<Self, PatternErrors> {
        type Indexed<'a> = Vec<(usize, &'a String)>;
        let (paths, names): (Indexed<'_>, Indexed<'_>) = patterns
            .iter()
            .enumerate()
            .partition(|(_, p)| p.contains('/') || p.starts_with('$'));
        let compile = |list: &Indexed<'_>, check: fn(&str) -> Result<(), PatternError>| {
            let strings: Vec<String> = list.iter().map(|(_, p)| (*p).clone()).collect();
            PathGlobs::compile(&strings, check).map_err(|errs| {
                errs.into_iter()
                    .map(|(i, e)| (list[i].0, e))
                    .collect::<PatternErrors>()
            })
        };
        let name_check: fn(&str) -> Result<(), PatternError> = |p| {
            if p.is_empty() {
                Err(PatternError::Empty)
            } else {
                Ok(())
            }
        };
        match (compile(&names, name_check), compile(&paths, check_path)) {
            (Ok(names), Ok(paths)) => Ok(Self { names, paths }),
            (a, b) => {
                let mut errors: PatternErrors =
                    a.err().into_iter().chain(b.err()).flatten().collect();
                errors.sort_by_key(|(i, _)| *i);
                Err(errors)
            }
        }
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
    /// `crates.io`, `*.github.com` (any subdomain): allows resolving the name.
    Name { name: String },
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
#[error("`{given}` is not a host pattern: {why}")]
pub struct BadHost {
    pub given: String,
    pub why: &'static str,
}

/// What a host pattern can be, for error messages.
const EXPECTED: &str = "expected a name like `*.example.com`, an IP or CIDR with an optional port like `10.0.0.0/8:443`, or `unix:/path`";

fn split_port(s: &str) -> Result<(&str, Option<u16>), BadHost> {
    let bad = || BadHost {
        given: s.to_string(),
        why: "the port is not a number from 0 to 65535 or `*`",
    };
    if let Some(rest) = s.strip_prefix('[') {
        let (addr, tail) = rest.split_once(']').ok_or_else(bad)?;
        return match tail.strip_prefix(':') {
            None if tail.is_empty() => Ok((addr, None)),
            Some("*") => Ok((addr, None)),
            Some(p) => Ok((addr, Some(p.parse().map_err(|_| bad())?))),
            None => Err(BadHost {
                given: s.to_string(),
                why: EXPECTED,
            }),
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
        let bad = |why: &'static str| BadHost {
            given: s.to_string(),
            why,
        };
        if let Some(path) = s.strip_prefix("unix:") {
            return PathGlobs::new(&[path.to_string()])
                .map(Self::Unix)
                .map_err(|_| bad("the path after `unix:` is not an absolute path glob"));
        }
        let (host, port) = split_port(s)?;
        let (addr_part, prefix) = match host.split_once('/') {
            Some((a, p)) => (
                a,
                Some(
                    p.parse::<u8>()
                        .map_err(|_| bad("the prefix length is not a number"))?,
                ),
            ),
            None => (host, None),
        };
        if let Ok(addr) = addr_part.parse::<IpAddr>() {
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let prefix = prefix.unwrap_or(max);
            if prefix > max {
                return Err(bad("the prefix is longer than the address"));
            }
            return Ok(Self::Net { addr, prefix, port });
        }
        if prefix.is_some() {
            return Err(bad("a prefix length goes with an IP address"));
        }
        let name = host.strip_prefix("*.").unwrap_or(host);
        let labels_ok = !name.is_empty()
            && name.split('.').all(|l| {
                !l.is_empty()
                    && l.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            });
        if !labels_ok {
            return Err(bad(EXPECTED));
        }
        // `300.1.1.1`: a top-level domain is never all digits.
        if name
            .rsplit('.')
            .next()
            .is_some_and(|l| l.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(bad("it looks like an IP address but is not one"));
        }
        if port.is_some() || s.ends_with(":*") {
            return Err(bad(
                "a port on a name has no effect: names allow resolving (DNS answers are not recorded), addresses and CIDRs allow connecting",
            ));
        }
        Ok(Self::Name {
            name: host.to_ascii_lowercase(),
        })
    }

    /// A name (allows resolving), not an address.
    pub fn is_name(&self) -> bool {
        matches!(self, Self::Name { .. })
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

    fn errors(patterns: &[&str]) -> Vec<(usize, PatternError)> {
        let p: Vec<String> = patterns.iter().map(|s| s.to_string()).collect();
        PathGlobs::new(&p).err().unwrap_or_default()
    }

    #[test]
    fn patterns_that_cannot_match_are_refused_every_one() {
        let e = errors(&["$OUT_DIR/**", "$OUTDIR/**", "/a/[b", "/c/{d"]);
        assert_eq!(e.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(e[0].1.help().as_deref(), Some("did you mean `$OUT_DIR`?"));
        assert!(matches!(e[1].1, PatternError::BadGlob { .. }));
        for (bad, what) in [
            ("", "empty"),
            ("~/.ssh/**", "relative"),
            ("target/**", "relative"),
            ("/$HOME/x", "inside"),
            ("{$OUTDIR,$HOME}/x", "inside"),
            ("**/$OUT_DIR/y", "inside"),
            ("$HOME-x/y", "glued"),
            ("$OUT_DIR**", "glued"),
            ("$HOME/.config/", "trailing"),
        ] {
            let e = errors(&[bad]);
            assert_eq!(e.len(), 1, "{bad} ({what}): {e:?}");
        }
        for good in [
            "$HOME",
            "$HOME/x",
            "/usr/include/**",
            "**/bin",
            "/",
            "{/a,/b}/x",
            "/x/$weird",
        ] {
            assert!(errors(&[good]).is_empty(), "{good}");
        }
        let e = Programs::new(&["cc".into(), "$SYSROOT/bin/rustc".into(), "bin/sh".into()])
            .unwrap_err();
        assert_eq!(e.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [1, 2]);
        // A dangling backslash is reported on the pattern as written.
        let e = errors(&["$OUT_DIR/x\\"]);
        assert!(
            matches!(&e[0].1, PatternError::BadGlob { pattern, .. } if pattern == "$OUT_DIR/x\\")
        );
        assert!(errors(&["$OUT_DIR/x\\/**"]).is_empty());
    }

    #[test]
    fn hosts() {
        let gh = HostPattern::parse("*.github.com").unwrap();
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
        for bad in [
            "",
            "a b",
            "10.0.0.0/40",
            "host:port",
            "*.",
            "300.1.1.1:443",
            "1.2.3",
            "crates.io:443",
            "crates.io:*",
            "example.com/8",
            "10.0.0.1:70000",
        ] {
            assert!(HostPattern::parse(bad).is_err(), "{bad}");
        }
        assert!(
            HostPattern::parse("_dmarc.example.com")
                .unwrap()
                .allows_dns("_dmarc.example.com")
        );
    }
}
