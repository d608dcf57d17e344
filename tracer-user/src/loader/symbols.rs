//! Finding where a proc macro's code starts running in its compiled library: the proc_macro
//! bridge's `run_client` (every expansion of every macro in the library goes through it, and it
//! calls the macro's own function).

use object::{Object, ObjectSection, ObjectSymbol};

/// The largest library read: a debug proc-macro library is tens of megabytes; anything far
/// larger is not one, and reading it would only cost memory.
const MAX_LIBRARY_BYTES: u64 = 1 << 30;

/// Why a library's entry points could not be found.
#[derive(Debug, thiserror::Error)]
pub enum SymbolError {
    #[error("reading {path}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a regular file (a symbolic link, FIFO or device named like a library)")]
    NotRegular { path: String },
    #[error("{path} is {size} bytes, more than a proc-macro library could be")]
    TooLarge { path: String, size: u64 },
    #[error("{path} is not an ELF object: {reason}")]
    Parse { path: String, reason: String },
    #[error("{path} has no proc_macro::bridge::client::run_client symbol (stripped?)")]
    NotFound { path: String },
}

/// True for a (legacy- or v0-)mangled `proc_macro::bridge::client::run_client` instance.
pub fn is_run_client(mangled: &str) -> bool {
    mangled.contains("10proc_macro")
        && mangled.contains("6bridge")
        && mangled.contains("10run_client")
}

/// Reads a library the traced build named. The build chose the name, so it may be anything:
/// the last component is not followed (a link to elsewhere), the open does not wait (a FIFO),
/// and only a regular file of bounded size is read (not `/dev/zero` renamed `libx.so`).
fn read_library(path: &str) -> Result<Vec<u8>, SymbolError> {
    use std::{io::Read, os::unix::fs::OpenOptionsExt};
    let read_err = |source| SymbolError::Read {
        path: path.into(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => SymbolError::NotRegular { path: path.into() },
            _ => read_err(e),
        })?;
    let meta = file.metadata().map_err(read_err)?;
    if !meta.file_type().is_file() {
        return Err(SymbolError::NotRegular { path: path.into() });
    }
    if meta.len() > MAX_LIBRARY_BYTES {
        return Err(SymbolError::TooLarge {
            path: path.into(),
            size: meta.len(),
        });
    }
    let mut data = Vec::with_capacity(meta.len() as usize);
    // Bounded even if the file grows while it is read.
    file.take(MAX_LIBRARY_BYTES + 1)
        .read_to_end(&mut data)
        .map_err(read_err)?;
    if data.len() as u64 > MAX_LIBRARY_BYTES {
        return Err(SymbolError::TooLarge {
            path: path.into(),
            size: data.len() as u64,
        });
    }
    Ok(data)
}

/// One `run_client` instance: its mangled name and where its code is in the file (what a
/// uprobe is attached by, so nothing has to open the library again).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct EntryPoint {
    pub name: String,
    pub file_offset: u64,
}

/// Every `run_client` instance defined in the library at `path`.
pub fn run_client_entries(path: &str) -> Result<Vec<EntryPoint>, SymbolError> {
    let data = read_library(path)?;
    let file = object::File::parse(&*data).map_err(|e| SymbolError::Parse {
        path: path.into(),
        reason: e.to_string(),
    })?;
    let mut entries: Vec<EntryPoint> = file
        .symbols()
        .chain(file.dynamic_symbols())
        .filter(|s| s.is_definition() && s.kind() == object::SymbolKind::Text)
        .filter_map(|s| {
            let name = s.name().ok().filter(|n| is_run_client(n))?;
            let section = file.section_by_index(s.section_index()?).ok()?;
            let (start, _) = section.file_range()?;
            let file_offset = s
                .address()
                .checked_sub(section.address())?
                .checked_add(start)?;
            Some(EntryPoint {
                name: name.to_string(),
                file_offset,
            })
        })
        .collect();
    entries.sort();
    entries.dedup_by(|a, b| a.file_offset == b.file_offset);
    if entries.is_empty() {
        return Err(SymbolError::NotFound { path: path.into() });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_both_manglings() {
        assert!(is_run_client(
            "_ZN10proc_macro6bridge6client10run_client17h0123456789abcdefE"
        ));
        assert!(is_run_client(
            "_RINvNtNtCs1a2b_10proc_macro6bridge6client10run_clientINtB4_6BufferE"
        ));
        assert!(!is_run_client(
            "_ZN10proc_macro6bridge6client12run_server17hE"
        ));
        assert!(!is_run_client("_ZN4core3fmt5write17hE"));
    }

    #[test]
    fn a_library_without_the_bridge_is_reported() {
        // The test binary itself is an ELF object without a proc-macro client.
        let me = std::env::current_exe().unwrap();
        let err = run_client_entries(me.to_str().unwrap()).unwrap_err();
        assert!(matches!(err, SymbolError::NotFound { .. }), "{err}");
    }

    #[test]
    fn what_the_build_names_a_library_is_read_only_if_it_is_a_small_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let at = |n: &str| dir.path().join(n).display().to_string();
        // A FIFO nobody writes to: reading it would wait for ever.
        let fifo = std::ffi::CString::new(at("libfifo-1.so")).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let err = run_client_entries(&at("libfifo-1.so")).unwrap_err();
        assert!(matches!(err, SymbolError::NotRegular { .. }), "{err}");
        // A device (endless) and a link to one.
        let err = run_client_entries("/dev/zero").unwrap_err();
        assert!(matches!(err, SymbolError::NotRegular { .. }), "{err}");
        std::os::unix::fs::symlink("/dev/zero", at("libzero-2.so")).unwrap();
        let err = run_client_entries(&at("libzero-2.so")).unwrap_err();
        assert!(matches!(err, SymbolError::NotRegular { .. }), "{err}");
        // Not ELF.
        std::fs::write(at("libtext-3.so"), "hello").unwrap();
        let err = run_client_entries(&at("libtext-3.so")).unwrap_err();
        assert!(matches!(err, SymbolError::Parse { .. }), "{err}");
    }
}
