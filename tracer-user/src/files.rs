//! Files cargo-tracer writes — the events file, `--output` files, the job summary — often as
//! root, into directories the traced build can write to. So: a path is pinned before the build
//! runs (its directory resolved once, [`pin`]), and opened later through no symbolic link at all
//! (`openat2` with `RESOLVE_NO_SYMLINKS`: a link the build plants at the file or any directory
//! above it is refused), never truncating a file with other hard links; and what is written is
//! hashed, so a file swapped afterwards can be told from the one the tracer wrote. Started
//! through sudo, what it creates is given to the invoking user ([`give_to`]): a traced build
//! leaves nothing root-owned in their tree.

use std::{
    ffi::CString,
    fs::File,
    io::{self, Write},
    os::{
        fd::FromRawFd,
        unix::{ffi::OsStrExt, fs::MetadataExt},
    },
    path::{Path, PathBuf},
};

use sha2::{Digest, Sha256};

/// Who owns the files and directories this process creates, when not itself.
static OWNER: std::sync::OnceLock<(u32, u32)> = std::sync::OnceLock::new();

/// Files and directories created from here on (by [`write`], [`create_dir_all`], and
/// [`create`] once [`Created::hand_over`] is called) are given to `uid:gid`. Set once, at
/// start-up; later calls are ignored.
pub fn give_to(uid: u32, gid: u32) {
    let _ = OWNER.set((uid, gid));
}

/// Gives `f` to the owner ([`give_to`]), if one is set.
pub fn hand_over(f: &File) -> io::Result<()> {
    if let Some((uid, gid)) = OWNER.get() {
        std::os::unix::fs::fchown(f, Some(*uid), Some(*gid))?;
    }
    Ok(())
}

/// `std::fs::create_dir_all`, with each directory it creates given to the owner ([`give_to`]).
pub fn create_dir_all(path: &Path) -> io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir_all(parent)?;
    }
    match std::fs::create_dir(path) {
        Ok(()) => {
            if let Some((uid, gid)) = OWNER.get() {
                std::os::unix::fs::lchown(path, Some(*uid), Some(*gid))?;
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

/// `path` with its directory resolved now, before the build runs (symbolic links the user
/// chose are followed once); later opens refuse any link on the way.
pub fn pin(path: &Path) -> io::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} names no file", path.display()),
        )
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let dir = std::fs::canonicalize(dir).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("the directory of {}: {e}", path.display()),
        )
    })?;
    Ok(dir.join(name))
}

/// `struct open_how` of openat2(2).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
const RESOLVE_NO_SYMLINKS: u64 = 0x04;

/// Opens `path` following no symbolic or magic link on the way.
fn open_no_links(path: &Path, flags: i32, mode: u32) -> io::Result<File> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path with a NUL byte"))?;
    let how = OpenHow {
        flags: (flags | libc::O_CLOEXEC) as u64,
        mode: u64::from(mode),
        resolve: RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    // SAFETY: a valid NUL-terminated path and an open_how of the size passed; the returned fd
    // is owned by the File from here on.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            libc::AT_FDCWD,
            c.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    if fd < 0 {
        let e = io::Error::last_os_error();
        return Err(if e.raw_os_error() == Some(libc::ELOOP) {
            io::Error::other(format!(
                "{} goes through a symbolic link: cargo-tracer does not write through one",
                path.display()
            ))
        } else {
            e
        });
    }
    // SAFETY: fd is a new descriptor nothing else owns.
    Ok(unsafe { File::from_raw_fd(fd as i32) })
}

/// Refuses what is not a regular file of its own (a device, a hard link to another file).
fn check_regular(f: &File, path: &Path) -> io::Result<()> {
    let m = f.metadata()?;
    if !m.file_type().is_file() || m.nlink() > 1 {
        return Err(io::Error::other(format!(
            "{} is not a regular file with one name: cargo-tracer does not write to it",
            path.display()
        )));
    }
    Ok(())
}

/// A file [`create`] opened: new, or one that was there (which keeps its owner).
#[derive(Debug)]
pub struct Created {
    pub file: File,
    pub new: bool,
}

impl Created {
    /// Gives a new file to the owner ([`give_to`]). Called once the file holds what the tracer
    /// wrote: a file handed over while the build runs could be rewritten by it.
    pub fn hand_over(&self) -> io::Result<()> {
        if self.new {
            hand_over(&self.file)
        } else {
            Ok(())
        }
    }
}

/// Creates (or empties) the regular file at `path`, through no symbolic link. Opened
/// non-blocking: a FIFO planted there fails at once instead of blocking the tracer.
pub fn create(path: &Path) -> io::Result<Created> {
    // Not O_TRUNC: the file is checked before anything in it is touched.
    let flags = libc::O_WRONLY | libc::O_NONBLOCK;
    let (file, new) = match open_no_links(path, flags | libc::O_CREAT | libc::O_EXCL, 0o644) {
        Ok(f) => (f, true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            (open_no_links(path, flags, 0)?, false)
        }
        Err(e) => return Err(e),
    };
    check_regular(&file, path)?;
    file.set_len(0)?;
    Ok(Created { file, new })
}

/// Opens the existing file at `path` to append to it, through no symbolic link.
pub fn append(path: &Path) -> io::Result<File> {
    let f = open_no_links(path, libc::O_WRONLY | libc::O_APPEND | libc::O_NONBLOCK, 0)?;
    check_regular(&f, path)?;
    Ok(f)
}

/// Writes `bytes` to `path` as [`create`] does.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut c = create(path)?;
    c.file.write_all(bytes)?;
    c.file.flush()?;
    c.hand_over()
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
        assert!(append(&link).is_err());
        // A directory on the way, pinned before it became a link.
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        let pinned = pin(&dir.path().join("reports").join("r.html"));
        assert!(pinned.is_err(), "the directory must exist when pinned");
        std::fs::create_dir(dir.path().join("reports")).unwrap();
        let pinned = pin(&dir.path().join("reports").join("r.html")).unwrap();
        std::fs::remove_dir(dir.path().join("reports")).unwrap();
        std::os::unix::fs::symlink(&real, dir.path().join("reports")).unwrap();
        assert!(create(&pinned).is_err());
        assert!(!real.join("r.html").exists());
        // A second name of another file is not emptied.
        let other = dir.path().join("other");
        std::fs::write(&other, "keep").unwrap();
        std::fs::hard_link(&other, dir.path().join("hard")).unwrap();
        assert!(create(&dir.path().join("hard")).is_err());
        // A FIFO fails at once instead of blocking the tracer until a reader comes.
        let fifo = dir.path().join("fifo");
        let c = CString::new(fifo.as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        assert!(create(&fifo).is_err());
        assert!(append(&fifo).is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(std::fs::read_to_string(&other).unwrap(), "keep");

        let path = dir.path().join("out");
        let f = create(&path).unwrap();
        assert!(still_at(&f.file, &path).unwrap());
        std::fs::rename(&path, dir.path().join("moved")).unwrap();
        std::fs::write(&path, "forged").unwrap();
        assert!(!still_at(&f.file, &path).unwrap());
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
