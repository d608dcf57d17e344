//! What an `open(2)` flag word means for the file, in the terms a policy uses.

use serde::{Deserialize, Serialize};

const O_ACCMODE: u32 = 0o3;
const O_WRONLY: u32 = 0o1;
const O_RDWR: u32 = 0o2;
const O_CREAT: u32 = 0o100;
const O_TRUNC: u32 = 0o1000;
const O_APPEND: u32 = 0o2000;
const O_DIRECTORY: u32 = 0o200000;
const O_PATH: u32 = 0o10000000;
const O_TMPFILE_BIT: u32 = 0o20000000;

/// Access requested by an open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    pub read: bool,
    pub write: bool,
    pub create: bool,
    pub truncate: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub append: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub directory: bool,
    /// O_PATH: a handle only, no data access.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub path_only: bool,
}

impl Access {
    pub fn from_open_flags(f: u32) -> Self {
        let path_only = f & O_PATH != 0;
        let mode = f & O_ACCMODE;
        Self {
            read: !path_only && (mode == 0 || mode == O_RDWR),
            write: !path_only && (mode == O_WRONLY || mode == O_RDWR),
            create: f & O_CREAT != 0 || f & O_TMPFILE_BIT != 0,
            truncate: f & O_TRUNC != 0,
            append: f & O_APPEND != 0,
            directory: f & O_DIRECTORY != 0,
            path_only,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        let r = Access::from_open_flags(0);
        assert!(r.read && !r.write && !r.create);
        let creat = Access::from_open_flags(O_CREAT | O_WRONLY | O_TRUNC);
        assert!(!creat.read && creat.write && creat.create && creat.truncate);
        let rw = Access::from_open_flags(O_RDWR | O_APPEND);
        assert!(rw.read && rw.write && rw.append);
        let p = Access::from_open_flags(O_PATH | O_DIRECTORY);
        assert!(!p.read && !p.write && p.path_only && p.directory);
    }
}
