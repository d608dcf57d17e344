//! One ELF file a traced program runs code from: where its segments go, its unwind sections
//! (for framehop) and its symbols and line tables (addr2line), read once per file.

use std::{collections::HashMap, ops::Range, path::Path, sync::Arc};

use object::{Object, ObjectSection, elf, read::elf::ProgramHeader};

use crate::trace::stack::Frame;

/// The largest file read for unwinding (a debug test binary with DWARF is well below it).
const MAX_FILE: u64 = 1 << 30;

/// An executable `PT_LOAD` segment.
#[derive(Debug, Clone, Copy)]
struct Load {
    vaddr: u64,
    offset: u64,
}

/// A section's address in the file and its bytes.
#[derive(Debug, Clone, Default)]
pub struct Section {
    pub svma: Option<Range<u64>>,
    pub data: Option<Arc<[u8]>>,
}

/// What framehop needs of a file.
#[derive(Debug, Clone, Default)]
pub struct UnwindSections {
    pub text: Section,
    pub eh_frame: Section,
    pub eh_frame_hdr: Section,
    pub got: Option<Range<u64>>,
}

/// A read ELF file.
pub struct Binary {
    path: String,
    loads: Vec<Load>,
    pub unwind: UnwindSections,
    symbols: Option<addr2line::Loader>,
    /// Symbolized addresses (an address is symbolized once per file).
    frames: HashMap<u64, Vec<Frame>>,
}

impl std::fmt::Debug for Binary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Binary").field("path", &self.path).finish()
    }
}

impl Binary {
    /// Reads `path`; `None` when it is not a readable 64-bit ELF file. Only a regular file of
    /// a sane size is read: a traced program chooses what it maps (`/dev/zero` executable
    /// would be read forever).
    pub fn read(path: &str) -> Option<Self> {
        use std::{io::Read, os::fd::AsRawFd, os::unix::fs::OpenOptionsExt};
        // Non-blocking: a FIFO put in the file's place must not hang the tracer.
        let f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .ok()?;
        let meta = f.metadata().ok()?;
        if !meta.is_file() || meta.len() > MAX_FILE {
            return None;
        }
        let mut data = Vec::with_capacity(meta.len() as usize);
        // Bounded again: the file may grow while it is read.
        (&f).take(MAX_FILE).read_to_end(&mut data).ok()?;
        let file = object::read::elf::ElfFile64::<object::Endianness>::parse(&*data).ok()?;
        let endian = file.endian();
        let loads = file
            .elf_program_headers()
            .iter()
            .filter(|p| {
                p.p_type(endian) == elf::PT_LOAD && (p.p_flags(endian).0 & elf::PF_X.0) != 0
            })
            .map(|p| Load {
                vaddr: p.p_vaddr(endian),
                offset: p.p_offset(endian),
            })
            .collect();
        let section = |name: &str| -> Section {
            let Some(s) = file.section_by_name(name) else {
                return Section::default();
            };
            Section {
                svma: Some(s.address()..s.address() + s.size()),
                data: s.data().ok().map(Arc::from),
            }
        };
        let unwind = UnwindSections {
            text: section(".text"),
            eh_frame: section(".eh_frame"),
            eh_frame_hdr: section(".eh_frame_hdr"),
            got: file
                .section_by_name(".got")
                .map(|s| s.address()..s.address() + s.size()),
        };
        Some(Self {
            path: path.to_string(),
            loads,
            unwind,
            // The file just checked, not whatever the path names by now.
            symbols: addr2line::Loader::new(Path::new(&format!("/proc/self/fd/{}", f.as_raw_fd())))
                .ok(),
            frames: HashMap::new(),
        })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// Load bias of the main program, from where the kernel put its code
    /// (`mm->start_code`: the lowest executable segment's address plus the bias).
    pub fn bias_for_code(&self, code_start: u64) -> Option<u64> {
        let lowest = self.loads.iter().map(|l| l.vaddr).min()?;
        code_start.checked_sub(lowest)
    }

    /// Load bias of a library whose file offset `offset` is mapped at `addr`.
    pub fn bias_for_mapping(&self, addr: u64, offset: u64) -> Option<u64> {
        const PAGE: u64 = 4096;
        let l = self
            .loads
            .iter()
            .find(|l| l.offset & !(PAGE - 1) == offset)?;
        // `addr` holds the file's byte `offset`, which the segment puts at this address.
        let vaddr_at_addr = l.vaddr - (l.offset - offset);
        addr.checked_sub(vaddr_at_addr)
    }

    /// The functions at `svma` (a lookup address in the file), innermost (inlined) first.
    pub fn frames(&mut self, svma: u64, addr: u64) -> Vec<Frame> {
        if let Some(f) = self.frames.get(&svma) {
            return f.clone();
        }
        let out = self.symbolize(svma, addr);
        self.frames.insert(svma, out.clone());
        out
    }

    fn symbolize(&self, svma: u64, addr: u64) -> Vec<Frame> {
        let bare = |function: Option<String>| Frame {
            module: self.path.clone(),
            addr,
            function,
            file: None,
            line: None,
            inlined: false,
        };
        let Some(sym) = &self.symbols else {
            return vec![bare(None)];
        };
        let mut out = Vec::new();
        if let Ok(mut it) = sym.find_frames(svma) {
            while let Ok(Some(f)) = it.next() {
                let function = f
                    .function
                    .as_ref()
                    .and_then(|n| n.raw_name().ok())
                    .map(|raw| demangled(&raw));
                let (file, line) = f
                    .location
                    .map(|l| (l.file.map(str::to_string), l.line))
                    .unwrap_or((None, None));
                out.push(Frame {
                    module: self.path.clone(),
                    addr,
                    function,
                    file,
                    line,
                    inlined: true,
                });
            }
        }
        if let Some(last) = out.last_mut() {
            // The outermost of an address's frames is the function the code is in.
            last.inlined = false;
            return out;
        }
        // No DWARF for it (a release build, a library): the symbol table still names it.
        let name = sym.find_symbol(svma).map(demangled);
        vec![bare(name)]
    }
}

/// A symbol as people read it: demangled, without hashes and disambiguators (`{:#}`); a
/// name that is not Rust's (libc's) stays as it is.
fn demangled(raw: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(raw))
}
