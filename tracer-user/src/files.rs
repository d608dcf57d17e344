//! Files cargo-tracer writes — the events file, `--output` files — often as root, into
//! directories the traced build can write to. So: never through a symbolic link (a build could
//! plant one at the path to make root overwrite any file), and with a digest of what was
//! written, so a file swapped afterwards can be told from the one the tracer wrote.

use std::{
    fs::File,
    io::{self, Write},
    os::unix::fs::{MetadataExt, OpenOptionsExt},
    path::Path,
};

use sha2::{Digest, Sha256};

/// Creates (or truncates) the regular file at `path`, refusing a symbolic link there.
pub fn create(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                io::Error::other(format!(
                    "{} is a symbolic link: cargo-tracer does not write through one",
                    path.display()
                ))
            } else {
                e
            }
        })
}

/// Writes `bytes` to `path` as [`create`] does.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = create(path)?;
    f.write_all(bytes)?;
    f.flush()
}

/// Whether `path` still names the open file `file` (not moved away, replaced or linked over).
pub fn still_at(file: &File, path: &Path) -> io::Result<bool> {
    let (open, named) = (file.metadata()?, std::fs::symlink_metadata(path)?);
    Ok(open.dev() == named.dev() && open.ino() == named.ino())
}

/// The SHA-256 of `bytes`, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A writer that hashes what goes through it.
pub struct Hashing<W: Write> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> Hashing<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hash: Sha256::new(),
        }
    }

    /// The writer, and the SHA-256 (hex) of everything written.
    pub fn finish(self) -> (W, String) {
        (self.inner, hex(&self.hash.finalize()))
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_symlink_and_sees_a_swapped_file() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let link = dir.path().join("events.jsonl");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let e = create(&link).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");

        let path = dir.path().join("out");
        let f = create(&path).unwrap();
        assert!(still_at(&f, &path).unwrap());
        std::fs::rename(&path, dir.path().join("moved")).unwrap();
        std::fs::write(&path, "forged").unwrap();
        assert!(!still_at(&f, &path).unwrap());
    }

    #[test]
    fn hashes_what_was_written() {
        let mut h = Hashing::new(Vec::new());
        h.write_all(b"ab").unwrap();
        h.write_all(b"c").unwrap();
        let (bytes, digest) = h.finish();
        assert_eq!(bytes, b"abc");
        assert_eq!(digest, sha256_hex(b"abc"));
        assert_eq!(
            digest,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
