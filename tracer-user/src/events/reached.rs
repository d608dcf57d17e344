//! The path the kernel itself reached for an open or an exec (`tracer_common::kpath`), decoded
//! from the probe's leaf-first names.

use serde::{Deserialize, Serialize};
use tracer_common::kpath::{
    KPATH_COMPLETE, KPATH_DETACHED, KPATH_NONE, KPATH_TOO_LONG, KernelPath,
};

use super::text;

/// What the kernel said the syscall reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reached {
    /// Nothing to say: the syscall failed, or the record has no such field.
    None,
    /// The absolute path, as text that keeps its bytes (`events::text`).
    Path(String),
    /// The kernel reached a file but the probe could not name it.
    Unknown(Unknown),
}

/// Why the probe could not name what the kernel reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unknown {
    /// More names than the probe captures.
    TooLong,
    /// A kernel read failed.
    Fault,
    /// Not reachable from the process's root: a pipe, a socket, an anonymous or internal file.
    Detached,
}

impl Reached {
    /// Decodes a probe's walk. Trusts nothing in it: `len` is bounded by the buffer and names
    /// are split at their NULs.
    pub fn decode(k: &KernelPath) -> Self {
        match k.state {
            KPATH_NONE => return Self::None,
            KPATH_COMPLETE => {}
            KPATH_TOO_LONG => return Self::Unknown(Unknown::TooLong),
            KPATH_DETACHED => return Self::Unknown(Unknown::Detached),
            _ => return Self::Unknown(Unknown::Fault),
        }
        let used = &k.names[..(k.len as usize).min(k.names.len())];
        let mut names: Vec<&[u8]> = used.split(|&b| b == 0).filter(|n| !n.is_empty()).collect();
        // The kernel never gives a name with a `/` or an empty one; a record that does is not
        // a path the kernel resolved.
        if names.iter().any(|n| n.contains(&b'/')) {
            return Self::Unknown(Unknown::Fault);
        }
        names.reverse();
        let mut path = String::new();
        for n in names {
            path.push('/');
            path.push_str(&text::from_bytes(n));
        }
        if path.is_empty() {
            path.push('/');
        }
        Self::Path(path)
    }

    /// The path, when the kernel gave one.
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::Path(p) => Some(p),
            _ => None,
        }
    }

    pub fn unknown(&self) -> Option<Unknown> {
        match self {
            Self::Unknown(u) => Some(*u),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracer_common::{kpath::KPATH_FAULT, limits::KPATH_LEN};

    fn walked(state: u32, names: &[&[u8]]) -> KernelPath {
        let mut k = KernelPath {
            state,
            len: 0,
            names: [0; KPATH_LEN],
        };
        let mut off = 0;
        for n in names {
            k.names[off..off + n.len()].copy_from_slice(n);
            off += n.len() + 1;
        }
        k.len = off as u32;
        k
    }

    #[test]
    fn leaf_first_names_become_the_path() {
        let k = walked(KPATH_COMPLETE, &[b"id_rsa", b".ssh", b"root"]);
        assert_eq!(
            Reached::decode(&k),
            Reached::Path("/root/.ssh/id_rsa".into())
        );
        assert_eq!(
            Reached::decode(&walked(KPATH_COMPLETE, &[])),
            Reached::Path("/".into())
        );
        // Bytes are kept exactly.
        let k = walked(KPATH_COMPLETE, &[b"a\xffb", b"tmp"]);
        assert_eq!(Reached::decode(&k).path(), Some("/tmp/a\\xffb"));
    }

    #[test]
    fn what_the_walk_could_not_say_is_never_a_path() {
        assert_eq!(Reached::decode(&walked(KPATH_NONE, &[])), Reached::None);
        for (s, u) in [
            (KPATH_TOO_LONG, Unknown::TooLong),
            (KPATH_FAULT, Unknown::Fault),
            (KPATH_DETACHED, Unknown::Detached),
            (77, Unknown::Fault),
        ] {
            assert_eq!(
                Reached::decode(&walked(s, &[b"x"])),
                Reached::Unknown(u),
                "{s}"
            );
        }
        // A length past the buffer is bounded, a name with a slash refused.
        let mut k = walked(KPATH_COMPLETE, &[b"x"]);
        k.len = u32::MAX;
        assert_eq!(Reached::decode(&k).path(), Some("/x"));
        let k = walked(KPATH_COMPLETE, &[b"a/b"]);
        assert_eq!(Reached::decode(&k), Reached::Unknown(Unknown::Fault));
    }
}
