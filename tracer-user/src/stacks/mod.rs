//! Runtime stacks → call stacks: the stage between decoding and the trace record that turns
//! the registers and stack bytes the probes copied for a program cargo built (a test or bin
//! executable) into symbolized frames, so attribution can tell whose code made a call.
//!
//! Each process's address space is followed from the events: its program from the exec (the
//! kernel's path of the file, with `mm->start_code` from the first stack), its shared
//! libraries from executable `mmap`s; a fork copies the parent's. Unwinding uses the files'
//! `.eh_frame` (framehop), as every Rust binary has it for panics, so it works on the binaries
//! cargo builds by default, debug and release, without frame pointers. Frames are symbolized
//! from DWARF where present (inlined calls included) and from the symbol table otherwise.
//! A frame at an address in no known file ends the walk (`no-unwind-info`): nothing is guessed.

mod binary;

use std::{collections::HashMap, ops::Range};

use framehop::{
    Error as WalkError, ExplicitModuleSectionInfo, FrameAddress, Module, Unwinder,
    x86_64::{CacheX86_64, UnwindRegsX86_64, UnwinderX86_64},
};
use std::sync::Arc;
use tracer_common::syscalls as nr;

use crate::{
    events::{Detail, Event, UserStack},
    trace::stack::{CallStack, Frame, StackEnd, StackLine},
};
use binary::Binary;

/// Frames kept per stack (inlined ones included).
pub const MAX_FRAMES: usize = 64;
/// Copied stacks waiting per thread: the stacks' ring is read ahead of the events' (up to all
/// it holds, about 2,000), and a stack waits there for its call's record.
const PENDING_MAX: usize = 4096;

/// A file mapped into a process.
#[derive(Debug, Clone)]
struct Mapped {
    range: Range<u64>,
    bias: u64,
    path: String,
}

/// An executable mapping of a file, as a `Map` record reported it.
#[derive(Debug, Clone)]
struct Mapping {
    addr: u64,
    len: u64,
    offset: u64,
    path: String,
}

/// One process's address space, as far as its code goes.
#[derive(Clone, Default)]
struct Space {
    /// The program's file (the kernel's name), until it is added with its code range.
    exe: Option<String>,
    exe_added: bool,
    /// Libraries mapped but not yet read (read at the first stack that needs them).
    unread: Vec<Mapping>,
    mapped: Vec<Mapped>,
    unwinder: UnwinderX86_64<Arc<[u8]>>,
    /// `/proc/<pid>/maps` was read for mappings the events did not show.
    learned: bool,
}

/// Counts for the run's summary and the benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StackStats {
    /// Stack records received, and unwound (given to the record of their call).
    pub copied: u64,
    pub unwound: u64,
    /// Frames in the unwound stacks (inlined ones included).
    pub frames: u64,
    /// Stacks that arrived with nothing their call could be matched to.
    pub unmatched: u64,
    /// Records of the stacks' ring that could not be decoded.
    pub undecodable: u64,
    /// Files read for unwinding and symbols, and the time reading them took.
    pub binaries: u64,
    pub read_us: u64,
    /// Time spent unwinding and symbolizing (file reads excluded).
    pub unwind_us: u64,
}

/// The stage's state across records.
#[derive(Default)]
pub struct Stacks {
    /// Copied stacks of each thread (with the time they were copied), oldest first, waiting
    /// for their call's record: stacks come in a ring of their own, so a thread's later calls'
    /// stacks may be read before an earlier call's record.
    pending: HashMap<u32, std::collections::VecDeque<(u64, UserStack)>>,
    spaces: HashMap<u32, Space>,
    /// Files by the kernel's path; `None` when it could not be read as ELF.
    binaries: HashMap<String, Option<Binary>>,
    cache: CacheX86_64,
    /// Stacks given an id, by process and the addresses walked: a loop's calls share one.
    ids: HashMap<(u32, Vec<u64>, StackEnd), u32>,
    /// Stacks named for the first time, for the trace to write before the record naming them.
    new_lines: Vec<StackLine>,
    pub stats: StackStats,
}

impl std::fmt::Debug for Stacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stacks")
            .field("stats", &self.stats)
            .finish()
    }
}

impl Stacks {
    /// Takes a raw record of the stacks' ring.
    pub fn take_raw(&mut self, raw: &[u8]) {
        match crate::events::decode(raw) {
            // Moved, not copied: a stack is up to 16 KiB and comes with most calls.
            Ok(Event {
                detail: Detail::Stack(s),
                tid,
                ktime_ns,
                ..
            }) => self.queue(tid, ktime_ns, s),
            _ => self.stats.undecodable += 1,
        }
    }

    /// A copied stack, waiting for the record of its call.
    fn queue(&mut self, tid: u32, ktime_ns: u64, s: UserStack) {
        self.stats.copied += 1;
        let q = self.pending.entry(tid).or_default();
        // Beyond what the ring can hold ahead of the events: calls that made no record (their
        // stacks are dropped at the thread's next record anyway).
        if q.len() >= PENDING_MAX {
            q.pop_front();
            self.stats.unmatched += 1;
        }
        q.push_back((ktime_ns, s));
    }

    /// Takes a record the stage consumes (a stack, a mapping): true when `e` was one.
    pub fn consume(&mut self, e: &Event) -> bool {
        match &e.detail {
            Detail::Stack(s) => {
                self.queue(e.tid, e.ktime_ns, s.clone());
                true
            }
            Detail::Map {
                addr,
                len,
                offset,
                real,
                ..
            } => {
                if let Some(path) = real.path() {
                    let space = self.spaces.entry(e.pid).or_default();
                    space.unread.push(Mapping {
                        addr: *addr,
                        len: *len,
                        offset: *offset,
                        path: path.to_string(),
                    });
                }
                true
            }
            _ => false,
        }
    }

    /// The stacks named for the first time since the last call: each goes into the trace
    /// before the record that names it.
    pub fn take_new(&mut self) -> std::vec::Drain<'_, StackLine> {
        self.new_lines.drain(..)
    }

    /// The id of the call stack of `e`, if its thread's last copied stack belongs to it; then
    /// follows the process's address space through `e` (exec, fork, exit).
    pub fn observe(&mut self, e: &Event) -> Option<u32> {
        // No stack waiting (a build's processes copy none): only the lifecycle is followed.
        let stack = match self.pending.is_empty() {
            true => None,
            false => self.take_for(e).map(|s| self.unwind(e.pid, &s)),
        };
        match &e.detail {
            Detail::Exec { real, .. } => {
                self.spaces.insert(
                    e.pid,
                    Space {
                        exe: real.path().map(str::to_string),
                        ..Space::default()
                    },
                );
            }
            Detail::Fork {
                child_pid,
                thread: false,
                ..
            } => {
                if let Some(parent) = self.spaces.get(&e.pid).cloned() {
                    self.spaces.insert(*child_pid, parent);
                }
            }
            Detail::Exit { group_dead, .. } => {
                self.pending.remove(&e.tid);
                if *group_dead && self.spaces.remove(&e.pid).is_some() {
                    self.forget_unused_files();
                }
            }
            _ => {}
        }
        stack
    }

    /// The stack copied for the call `e` records: the thread's latest copied before `e` (its
    /// call's entry is the last before its record); older ones belonged to calls that made
    /// no record and are dropped, later ones wait for their calls.
    fn take_for(&mut self, e: &Event) -> Option<UserStack> {
        let q = self.pending.get_mut(&e.tid)?;
        let mut candidate = None;
        while q.front().is_some_and(|(t, _)| *t <= e.ktime_ns) {
            if let Some((_, s)) = q.pop_front()
                && candidate.replace(s).is_some()
            {
                self.stats.unmatched += 1;
            }
        }
        if q.is_empty() {
            self.pending.remove(&e.tid);
        }
        match candidate {
            Some(s) if belongs(&s, e) => Some(s),
            Some(_) => {
                self.stats.unmatched += 1;
                None
            }
            None => None,
        }
    }

    /// Drops the files no live process maps: a test suite runs many binaries, one at a time,
    /// and each one's code and symbols are only needed while it runs.
    fn forget_unused_files(&mut self) {
        let spaces = &self.spaces;
        self.binaries.retain(|path, _| {
            spaces.values().any(|s| {
                s.exe.as_deref() == Some(path.as_str())
                    || s.mapped.iter().any(|m| &m.path == path)
                    || s.unread.iter().any(|m| &m.path == path)
            })
        });
    }

    fn unwind(&mut self, pid: u32, s: &UserStack) -> u32 {
        let started = std::time::Instant::now();
        let read_before = self.stats.read_us;
        let out = self.unwind_timed(pid, s);
        let took = started.elapsed().as_micros() as u64;
        self.stats.unwind_us += took.saturating_sub(self.stats.read_us - read_before);
        out
    }

    fn unwind_timed(&mut self, pid: u32, s: &UserStack) -> u32 {
        self.stats.unwound += 1;
        let space = self.spaces.entry(pid).or_default();
        add_modules(space, &mut self.binaries, &mut self.stats, s);
        let (addrs, end) = self.walk(pid, s);
        let (addrs, end) = self.learn_if_unknown(pid, s, addrs, end);
        let key = (pid, addrs.iter().map(|a| a.address()).collect(), end);
        if let Some(&id) = self.ids.get(&key) {
            return id;
        }
        let space = self.spaces.entry(pid).or_default();
        let mut frames = Vec::new();
        for a in addrs {
            frames.extend(symbolize(&space.mapped, &mut self.binaries, a));
        }
        frames.truncate(MAX_FRAMES);
        self.stats.frames += frames.len() as u64;
        let id = self.ids.len() as u32 + 1;
        self.ids.insert(key, id);
        self.new_lines.push(StackLine {
            id,
            stack: CallStack { frames, end },
        });
        id
    }

    /// Reads the process's maps once when the walk met code the events did not show being
    /// mapped — the dynamic loader, which the kernel maps at exec — and walks again; a call
    /// made from executable memory no file backs is `unknown-code`.
    fn learn_if_unknown(
        &mut self,
        pid: u32,
        s: &UserStack,
        addrs: Vec<FrameAddress>,
        end: StackEnd,
    ) -> (Vec<FrameAddress>, StackEnd) {
        let space = self.spaces.entry(pid).or_default();
        if end != StackEnd::NoUnwindInfo || space.learned {
            return (addrs, end);
        }
        space.learned = true;
        let Some(maps) = proc_mappings(pid) else {
            // Gone already: what the code was cannot be told any more.
            return (addrs, end);
        };
        let in_a_file = maps
            .iter()
            .any(|m| (m.addr..m.addr + m.len).contains(&s.ip));
        let new: Vec<Mapping> = maps
            .into_iter()
            .filter(|m| !space.mapped.iter().any(|k| k.range.contains(&m.addr)))
            .collect();
        space.unread.extend(new);
        add_modules(space, &mut self.binaries, &mut self.stats, s);
        let (addrs, end) = self.walk(pid, s);
        if addrs.is_empty() && !in_a_file {
            // The call was made from executable memory no file backs: code written at run time.
            return (addrs, StackEnd::UnknownCode);
        }
        (addrs, end)
    }

    /// Unwinds `s` through the process's known files: the addresses, innermost first, and
    /// why the walk ended.
    fn walk(&mut self, pid: u32, s: &UserStack) -> (Vec<FrameAddress>, StackEnd) {
        let space = self.spaces.entry(pid).or_default();
        let mut read = |addr: u64| -> Result<u64, ()> {
            let off = addr.checked_sub(s.sp).ok_or(())? as usize;
            let b = s.bytes.get(off..off.checked_add(8).ok_or(())?).ok_or(())?;
            Ok(u64::from_le_bytes(b.try_into().map_err(|_| ())?))
        };
        let regs = UnwindRegsX86_64::new(s.ip, s.sp, s.bp);
        let mut it = space
            .unwinder
            .iter_frames(s.ip, regs, &mut self.cache, &mut read);
        let mut addrs = Vec::new();
        let end = loop {
            match it.next() {
                Ok(Some(a)) => {
                    let known = space.mapped.iter().any(|m| m.range.contains(&a.address()));
                    if !known {
                        break StackEnd::NoUnwindInfo;
                    }
                    addrs.push(a);
                    if addrs.len() >= MAX_FRAMES {
                        break StackEnd::TooDeep;
                    }
                }
                Ok(None) => break StackEnd::Root,
                Err(WalkError::CouldNotReadStack(_)) => break StackEnd::Truncated,
                Err(_) => break StackEnd::NoUnwindInfo,
            }
        };
        // Without the stack's bytes the walk has only the instruction pointer — still the
        // code that made the call (a payload can empty its stack pointer before a syscall).
        let end = if s.bytes.is_empty() {
            StackEnd::Unavailable
        } else {
            end
        };
        (addrs, end)
    }
}

/// The executable file mappings `/proc/<pid>/maps` lists (`None` once the process is gone).
/// A memfd (`/memfd:…`) and a deleted file are no file to read.
fn proc_mappings(pid: u32) -> Option<Vec<Mapping>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/maps")).ok()?;
    let maps = text
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (range, perms, offset) = (f.next()?, f.next()?, f.next()?);
            let path = f.nth(2)?;
            if !perms.contains('x') || !path.starts_with('/') || l.ends_with(" (deleted)") {
                return None;
            }
            let (a, b) = range.split_once('-')?;
            let addr = u64::from_str_radix(a, 16).ok()?;
            Some(Mapping {
                addr,
                len: u64::from_str_radix(b, 16).ok()?.checked_sub(addr)?,
                offset: u64::from_str_radix(offset, 16).ok()?,
                path: path.to_string(),
            })
        })
        .collect();
    Some(maps)
}

/// Whether stack `s` was copied for the call `e` records (the next record of its thread).
fn belongs(s: &UserStack, e: &Event) -> bool {
    match &e.detail {
        Detail::Fork { .. } => s.nr.is_none(),
        Detail::Exec { .. } => matches!(s.nr, Some(nr::EXECVE | nr::EXECVEAT)),
        _ => s.nr.is_some() && s.nr == e.syscall_nr,
    }
}

/// Adds the program (now that a stack says where its code is) and any library mapped since.
fn add_modules(
    space: &mut Space,
    binaries: &mut HashMap<String, Option<Binary>>,
    stats: &mut StackStats,
    s: &UserStack,
) {
    if !space.exe_added && s.code.start < s.code.end {
        space.exe_added = true;
        if let Some(exe) = space.exe.clone()
            && let Some(bin) = load(binaries, stats, &exe)
            && let Some(bias) = bin.bias_for_code(s.code.start)
        {
            let module = module(bin, s.code.clone(), bias);
            space.unwinder.add_module(module);
            space.mapped.push(Mapped {
                range: s.code.clone(),
                bias,
                path: exe,
            });
        }
    }
    for m in std::mem::take(&mut space.unread) {
        let Some(bin) = load(binaries, stats, &m.path) else {
            continue;
        };
        let Some(bias) = bin.bias_for_mapping(m.addr, m.offset) else {
            continue;
        };
        let range = m.addr..m.addr.saturating_add(m.len);
        space.unwinder.add_module(module(bin, range.clone(), bias));
        space.mapped.push(Mapped {
            range,
            bias,
            path: m.path,
        });
    }
}

fn load<'a>(
    binaries: &'a mut HashMap<String, Option<Binary>>,
    stats: &mut StackStats,
    path: &str,
) -> Option<&'a Binary> {
    binaries
        .entry(path.to_string())
        .or_insert_with(|| {
            let started = std::time::Instant::now();
            let bin = Binary::read(path);
            stats.binaries += 1;
            stats.read_us += started.elapsed().as_micros() as u64;
            bin
        })
        .as_ref()
}

fn module(bin: &Binary, range: Range<u64>, bias: u64) -> Module<Arc<[u8]>> {
    let u = bin.unwind.clone();
    Module::new(
        bin.path().to_string(),
        range,
        bias,
        ExplicitModuleSectionInfo {
            base_svma: 0,
            text_svma: u.text.svma,
            text: u.text.data,
            got_svma: u.got,
            eh_frame_svma: u.eh_frame.svma,
            eh_frame: u.eh_frame.data,
            eh_frame_hdr_svma: u.eh_frame_hdr.svma,
            eh_frame_hdr: u.eh_frame_hdr.data,
            ..Default::default()
        },
    )
}

fn symbolize(
    mapped: &[Mapped],
    binaries: &mut HashMap<String, Option<Binary>>,
    a: FrameAddress,
) -> Vec<Frame> {
    let Some(m) = mapped.iter().find(|m| m.range.contains(&a.address())) else {
        return Vec::new();
    };
    let svma = a.address_for_lookup().wrapping_sub(m.bias);
    match binaries.get_mut(&m.path).and_then(Option::as_mut) {
        Some(bin) => bin.frames(svma, a.address().wrapping_sub(m.bias)),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Reached;
    use std::os::unix::fs::FileExt;

    fn event(pid: u32, syscall_nr: Option<u32>, detail: Detail) -> Event {
        Event {
            kind: tracer_common::event::EventKind::Open,
            flags: 0,
            ktime_ns: 0,
            pid,
            tid: pid,
            uid: 0,
            syscall_nr,
            ret: 3,
            comm: "t".into(),
            macro_id: 0,
            detail,
        }
    }

    /// This process's executable mappings of shared libraries, as the probes would report them.
    fn library_maps() -> Vec<Detail> {
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        proc_mappings(std::process::id())
            .unwrap()
            .into_iter()
            .filter(|m| exe.to_str() != Some(m.path.as_str()))
            .map(|m| Detail::Map {
                addr: m.addr,
                len: m.len,
                offset: m.offset,
                file: Default::default(),
                real: Reached::Path(m.path),
            })
            .collect()
    }

    /// `mm->start_code .. end_code` of this process (`/proc/self/stat` fields 26 and 27).
    fn code_range() -> Range<u64> {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<u64> = after
            .split_whitespace()
            .map(|x| x.parse().unwrap_or(0))
            .collect();
        // Field 3 is the first after the command name: 26 and 27 are at 23 and 24.
        f[23]..f[24]
    }

    /// Registers and the top of the stack right here, the way the probe copies them.
    #[inline(never)]
    fn copy_own_stack() -> UserStack {
        let (ip, sp, bp): (u64, u64, u64);
        // SAFETY: reads three registers.
        unsafe {
            std::arch::asm!(
                "lea {ip}, [rip]",
                "mov {sp}, rsp",
                "mov {bp}, rbp",
                ip = out(reg) ip,
                sp = out(reg) sp,
                bp = out(reg) bp,
            );
        }
        // Through /proc/self/mem: a read past the end of the thread's stack is an error, not
        // a fault.
        let mem = std::fs::File::open("/proc/self/mem").unwrap();
        let mut bytes = vec![0u8; tracer_common::limits::STACK_LEN];
        let mut n = 0;
        while n < bytes.len() {
            match mem.read_at(&mut bytes[n..n + 1024], sp + n as u64) {
                Ok(1024) => n += 1024,
                _ => break,
            }
        }
        bytes.truncate(n);
        UserStack {
            nr: Some(nr::OPENAT),
            ip,
            sp,
            bp,
            code: code_range(),
            bytes,
        }
    }

    #[test]
    fn a_copied_stack_unwinds_to_the_function_that_made_the_call() {
        let pid = std::process::id();
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        let mut st = Stacks::default();
        st.observe(&event(
            pid,
            None,
            Detail::Exec {
                filename: crate::events::PathArg {
                    raw: crate::events::RawPath {
                        text: exe.display().to_string(),
                        truncated: false,
                        fault: false,
                    },
                    base: crate::events::Base::None,
                },
                argv: Vec::new(),
                argv_truncated: false,
                cwd: Default::default(),
                real: Reached::Path(exe.display().to_string()),
            },
        ));
        for m in library_maps() {
            assert!(st.consume(&event(pid, Some(nr::MMAP), m)));
        }
        let copied = copy_own_stack();
        assert!(st.consume(&event(pid, Some(nr::OPENAT), Detail::Stack(copied))));
        let open = Detail::MacroRun;
        let id = st
            .observe(&event(pid, Some(nr::OPENAT), open))
            .expect("the stack belongs to the call");
        let lines: Vec<StackLine> = st.take_new().collect();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].id, id);
        let stack = &lines[0].stack;
        let names: Vec<&str> = stack
            .frames
            .iter()
            .filter_map(|f| f.function.as_deref())
            .collect();
        // Its caller, found through `.eh_frame` (this crate's code keeps no frame pointers).
        assert!(
            names
                .iter()
                .any(|n| n.ends_with("a_copied_stack_unwinds_to_the_function_that_made_the_call")),
            "{names:#?} ({:?})",
            stack.end
        );
        let test_fn = stack
            .frames
            .iter()
            .find(|f| {
                f.function
                    .as_deref()
                    .is_some_and(|n| n.ends_with("made_the_call"))
            })
            .unwrap();
        assert!(
            test_fn
                .file
                .as_deref()
                .is_some_and(|f| f.ends_with("stacks/mod.rs")),
            "{test_fn:?}"
        );
        // The next record of the thread is another call: a stack is never given to it.
        assert_eq!(
            st.observe(&event(pid, Some(nr::OPENAT), Detail::MacroRun)),
            None
        );
    }

    #[test]
    fn a_stack_for_another_call_is_dropped() {
        let mut st = Stacks::default();
        let mut s = copy_own_stack();
        s.nr = Some(nr::CONNECT);
        st.consume(&event(7, Some(nr::CONNECT), Detail::Stack(s)));
        assert_eq!(
            st.observe(&event(7, Some(nr::OPENAT), Detail::MacroRun)),
            None
        );
        assert_eq!(st.stats.unmatched, 1);
    }
}
