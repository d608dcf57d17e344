//! Loads the probes into the kernel, configures them, attaches every program, and gives the rest
//! of the daemon the three things it needs: the event ring buffer, the traced-set map, and the
//! loss counters. Nothing is attached partially: any failure names the probe and stops.

pub mod abi;
pub mod btf;
pub mod macros;
pub mod offsets;
pub mod preflight;
pub mod symbols;

use std::{
    os::fd::{AsFd, AsRawFd, RawFd},
    sync::{Arc, Mutex},
};

use aya::{
    Ebpf, EbpfLoader,
    maps::{HashMap, MapData, PerCpuArray, RingBuf},
    programs::{RawTracePoint, TracePoint, UProbe},
};
use tracer_common::{ABI_VERSION, config::Config, counters, stack::DirKey, syscalls::FAMILIES};

/// The probe object, built for `bpfel-unknown-none` by build.rs.
static PROBES: &[u8] = aya::include_bytes_aligned!(env!("TRACER_PROBES_OBJ"));

/// Default ring-buffer size.
pub const DEFAULT_RING_BYTES: u32 = tracer_common::limits::RING_BYTES;

/// Why the probes could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Preflight(#[from] preflight::PreflightError),
    #[error(transparent)]
    Abi(#[from] abi::AbiError),
    #[error("reading kernel BTF")]
    Btf(#[from] btf::BtfError),
    #[error("loading the eBPF object")]
    Object(#[source] Box<aya::EbpfError>),
    #[error("the eBPF object has no program `{0}` (stale build?)")]
    MissingProgram(String),
    #[error("the eBPF object has no map `{0}` (stale build?)")]
    MissingMap(&'static str),
    #[error("reading a directory of programs whose stacks are copied")]
    StackDir(#[source] std::io::Error),
    #[error("loading probe `{program}` into the kernel (verifier or permissions)")]
    Load {
        program: String,
        source: Box<aya::programs::ProgramError>,
    },
    #[error("attaching probe `{program}` to {target}")]
    Attach {
        program: String,
        target: String,
        source: Box<aya::programs::ProgramError>,
    },
    #[error("map `{map}`")]
    Map {
        map: &'static str,
        source: Box<aya::maps::MapError>,
    },
    #[error("proc-macro library")]
    Symbols(#[from] symbols::SymbolError),
    #[error("ring buffer size {0} is not a power of two multiple of the page size")]
    RingSize(u32),
}

/// How to load.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Record every process, not only the traced tree.
    pub system_wide: bool,
    /// Trace every process that execs a program named `cargo`, and what it starts (the
    /// daemon), instead of only the tree the tracer started.
    pub trace_cargo: bool,
    /// Ring buffer size in bytes (power of two, multiple of the page size).
    pub ring_bytes: u32,
    /// Programs cargo built will run (tests, binaries): copy their call stacks, in a ring of
    /// `STACK_RING_BYTES`. Without (`run`, `build`: attribution never reads a stack there),
    /// that ring is one page and [`Probes::stacks_in`] marks nothing — 32 MiB of kernel
    /// memory, and twice that of RSS, not spent.
    pub stacks: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            system_wide: false,
            trace_cargo: false,
            ring_bytes: DEFAULT_RING_BYTES,
            stacks: true,
        }
    }
}

/// Loaded and attached probes. Dropping this detaches everything.
pub struct Probes {
    // Keeps programs and links alive; shared with the proc-macro attacher's thread.
    ebpf: Arc<Mutex<Option<Ebpf>>>,
    /// Attaches proc-macro probes off the thread that drains the ring (None without uprobes).
    pub macros: Option<macros::MacroAttacher>,
    ring: RingBuf<MapData>,
    stacks: RingBuf<MapData>,
    traced: HashMap<MapData, u32, u32>,
    traced_fd: RawFd,
    stack_dirs: HashMap<MapData, DirKey, u8>,
    counters: PerCpuArray<MapData, u64>,
    /// Number of (program, tracepoint) attachments made.
    pub attached: usize,
    /// Loaded with [`LoadOptions::stacks`].
    copies_stacks: bool,
    /// Why proc-macro uprobes are unavailable, if they are (then macros are not attributed).
    pub uprobes_unavailable: Option<String>,
}

/// Loss counters summed over CPUs, plus the per-CPU split of ring-buffer losses.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LossCounters {
    pub ringbuf: u64,
    pub ringbuf_per_cpu: Vec<u64>,
    pub inflight: u64,
    pub tracking: u64,
    /// Syscall exits with no entry remembered.
    #[serde(default)]
    pub unmatched: u64,
    /// Parts of calls beyond what the probes decode (datagrams of a long `sendmmsg`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub beyond: u64,
    /// Copied stacks dropped (their ring was full): those calls stay with their program's
    /// package. Not a loss of events: not in [`LossCounters::total`].
    #[serde(default, skip_serializing_if = "is_zero")]
    pub stacks: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl LossCounters {
    /// All losses (saturating: a recorded trace's numbers are not trusted).
    pub fn total(&self) -> u64 {
        self.ringbuf
            .saturating_add(self.inflight)
            .saturating_add(self.tracking)
            .saturating_add(self.unmatched)
            .saturating_add(self.beyond)
    }
}

impl Probes {
    /// Checks privileges and kernel features, loads, configures and attaches every probe.
    pub fn load(opts: &LoadOptions) -> Result<Self, LoadError> {
        abi::check(PROBES)?;
        preflight::check()?;
        let page = 4096;
        if !opts.ring_bytes.is_power_of_two() || opts.ring_bytes < page {
            return Err(LoadError::RingSize(opts.ring_bytes));
        }
        let kbtf = btf::Btf::from_sys_fs()?;
        let config = Config {
            abi_version: ABI_VERSION,
            system_wide: u32::from(opts.system_wide),
            tracer_pid: std::process::id(),
            trace_cargo: u32::from(opts.trace_cargo),
            offsets: offsets::kernel_offsets(&kbtf)?,
        };
        let mut ebpf = EbpfLoader::new()
            .override_global("CONFIG", &config, true)
            .map_max_entries("EVENTS", opts.ring_bytes)
            .map_max_entries(
                "STACKS",
                if opts.stacks {
                    tracer_common::limits::STACK_RING_BYTES
                } else {
                    page
                },
            )
            .load(PROBES)
            .map_err(|e| LoadError::Object(Box::new(e)))?;
        let attached = attach_all(&mut ebpf)?;
        // Optional: without uprobes the build is still traced, only macros are not told apart.
        // Multi-uprobe links register all of a library's probe points in one batch; per-point
        // perf links are the fallback on kernels without them.
        let multi = aya::sys::is_uprobe_multi_supported(aya::sys::UProbeMultiFeature::LinkCreation)
            .unwrap_or(false);
        let macro_programs = if multi {
            ["proc_macro_enter_multi", "proc_macro_exit_multi"]
        } else {
            ["proc_macro_enter", "proc_macro_exit"]
        };
        let uprobes_unavailable = macro_programs.iter().find_map(|name| {
            let p: &mut UProbe = match program(&mut ebpf, name) {
                Ok(p) => p,
                Err(e) => return Some(e.to_string()),
            };
            p.load().err().map(|e| format!("loading {name}: {e}"))
        });
        let ring: RingBuf<MapData> = take_map(&mut ebpf, "EVENTS")?;
        let stacks: RingBuf<MapData> = take_map(&mut ebpf, "STACKS")?;
        let traced_fd = match ebpf.map("TRACED") {
            Some(aya::maps::Map::HashMap(m)) => m.fd().as_fd().as_raw_fd(),
            _ => return Err(LoadError::MissingMap("TRACED")),
        };
        let traced: HashMap<MapData, u32, u32> = take_map(&mut ebpf, "TRACED")?;
        let stack_dirs: HashMap<MapData, DirKey, u8> = take_map(&mut ebpf, "STACK_DIRS")?;
        let counters: PerCpuArray<MapData, u64> = take_map(&mut ebpf, "COUNTERS")?;
        let ebpf = Arc::new(Mutex::new(Some(ebpf)));
        let macros = match &uprobes_unavailable {
            Some(_) => None,
            None => Some(
                macros::MacroAttacher::start(ebpf.clone(), macro_programs).map_err(|e| {
                    LoadError::MissingProgram(format!("proc_macro_enter (worker thread: {e})"))
                })?,
            ),
        };
        Ok(Self {
            uprobes_unavailable,
            macros,
            ebpf,
            ring,
            stacks,
            traced,
            traced_fd,
            stack_dirs,
            counters,
            attached,
            copies_stacks: opts.stacks,
        })
    }

    /// Adds a process (and, through fork, all its future descendants) to the traced set.
    pub fn trace_pid(&mut self, pid: u32) -> Result<(), LoadError> {
        self.traced
            .insert(&pid, &1, 0)
            .map_err(|source| LoadError::Map {
                map: "TRACED",
                source: Box::new(source),
            })
    }

    /// Copies the stacks of every process that execs a program in directory `dir` (see
    /// `tracer_common::stack`).
    pub fn stacks_in(&mut self, dir: &std::path::Path) -> Result<(), LoadError> {
        use std::os::unix::fs::MetadataExt;
        if !self.copies_stacks {
            // Loaded without the stack ring: a copied stack would not fit in it.
            return Ok(());
        }
        let meta = std::fs::metadata(dir).map_err(LoadError::StackDir)?;
        let key = DirKey {
            dev: crate::proctable::paths::kernel_dev(meta.dev()),
            _pad: 0,
            ino: meta.ino(),
        };
        self.stack_dirs
            .insert(&key, &1, 0)
            .map_err(|source| LoadError::Map {
                map: "STACK_DIRS",
                source: Box::new(source),
            })
    }

    /// Whether process `pid` is in the traced set.
    pub fn is_traced(&self, pid: u32) -> bool {
        self.traced.get(&pid, 0).is_ok()
    }

    /// The traced-set map's descriptor, for [`trace_self`] in a child about to exec. Valid as
    /// long as `self` lives.
    pub fn traced_map_fd(&self) -> RawFd {
        self.traced_fd
    }

    /// The event ring buffer.
    pub fn ring(&mut self) -> &mut RingBuf<MapData> {
        &mut self.ring
    }

    /// The event ring buffer and the ring of copied stacks.
    pub fn rings(&mut self) -> (&mut RingBuf<MapData>, &mut RingBuf<MapData>) {
        (&mut self.ring, &mut self.stacks)
    }

    /// Current loss counters.
    pub fn losses(&self) -> Result<LossCounters, LoadError> {
        let get = |i: u32| -> Result<Vec<u64>, LoadError> {
            let v = self.counters.get(&i, 0).map_err(|source| LoadError::Map {
                map: "COUNTERS",
                source: Box::new(source),
            })?;
            Ok(v.iter().copied().collect())
        };
        let ring = get(counters::LOST_RINGBUF)?;
        Ok(LossCounters {
            ringbuf: ring.iter().sum(),
            ringbuf_per_cpu: ring,
            inflight: get(counters::LOST_INFLIGHT)?.iter().sum(),
            tracking: get(counters::LOST_TRACKING)?.iter().sum(),
            unmatched: get(counters::LOST_UNMATCHED)?.iter().sum(),
            beyond: get(counters::LOST_BEYOND)?.iter().sum(),
            stacks: get(counters::LOST_STACKS)?.iter().sum(),
        })
    }
}

impl Drop for Probes {
    /// Releasing a probe link waits for RCU grace periods inside the kernel (70 ms per
    /// tracepoint, seconds per uprobe, serialised): on a build with a dozen proc macros, tens of
    /// seconds. A child process takes over a reference to every link and exits once we have let
    /// go of ours, so the wait happens in that child, which nobody waits for.
    fn drop(&mut self) {
        let mut fds = [0; 2];
        // SAFETY: a two-element array for pipe2.
        let piped = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == 0;
        // SAFETY: the child only makes async-signal-safe calls (close, read, _exit).
        if piped && unsafe { libc::fork() } == 0 {
            // SAFETY: in the forked child: closes descriptors it owns and reads its pipe end.
            unsafe {
                libc::close(fds[1]);
                for fd in 0..3 {
                    libc::close(fd);
                }
                let mut b = 0u8;
                // Returns 0 at EOF: the parent has released its references.
                while libc::read(fds[0], (&mut b as *mut u8).cast(), 1) < 0 {}
                libc::_exit(0);
            }
        }
        // The attacher lets go of the programs first (after the library it is attaching)…
        if let Some(m) = self.macros.as_mut() {
            m.stop();
        }
        // …our references go now (quickly: the child still holds the links)…
        let taken = self
            .ebpf
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        drop(taken);
        if piped {
            // …then the child may exit and do the slow release.
            // SAFETY: closing our own pipe ends.
            unsafe {
                libc::close(fds[1]);
                libc::close(fds[0]);
            }
        }
    }
}

/// Loads a program, again if the kernel refused it for a reason that passes: verifying the
/// largest probes (the path walks) takes the verifier much memory and time, and a load has
/// been seen to fail while another tracer was starting. Permissions and a program the
/// verifier rejects on its merits fail at once.
fn load_retrying(
    program: &str,
    mut load: impl FnMut() -> Result<(), aya::programs::ProgramError>,
) -> Result<(), LoadError> {
    let mut attempt = 0;
    loop {
        let err = match load() {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        let lasting = match &err {
            aya::programs::ProgramError::LoadError { io_error, .. } => matches!(
                io_error.raw_os_error(),
                Some(libc::EPERM | libc::EACCES | libc::EINVAL)
            ),
            _ => true,
        };
        attempt += 1;
        if lasting || attempt >= 3 {
            return Err(LoadError::Load {
                program: program.into(),
                source: Box::new(err),
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(250 * attempt));
    }
}

/// Adds the calling process to the traced set through the map descriptor `fd`.
///
/// Meant for a freshly forked child, before it execs the traced command: the command then
/// cannot do anything before it is traced. Async-signal-safe (one `bpf(2)` call, no allocation).
pub fn trace_self(fd: RawFd) -> std::io::Result<()> {
    /// `union bpf_attr` as used by BPF_MAP_UPDATE_ELEM.
    #[repr(C)]
    struct MapElemAttr {
        map_fd: u32,
        _pad: u32,
        key: u64,
        value: u64,
        flags: u64,
    }
    const BPF_MAP_UPDATE_ELEM: libc::c_long = 2;
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() } as u32;
    let one = 1u32;
    let attr = MapElemAttr {
        map_fd: fd as u32,
        _pad: 0,
        key: &pid as *const u32 as u64,
        value: &one as *const u32 as u64,
        flags: 0,
    };
    // SAFETY: attr points to valid key/value for the call's duration.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_MAP_UPDATE_ELEM,
            &attr as *const MapElemAttr,
            size_of::<MapElemAttr>() as u32,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Takes map `name` out of the object as a `T`.
fn take_map<T>(ebpf: &mut Ebpf, name: &'static str) -> Result<T, LoadError>
where
    T: TryFrom<aya::maps::Map, Error = aya::maps::MapError>,
{
    let map = ebpf.take_map(name).ok_or(LoadError::MissingMap(name))?;
    T::try_from(map).map_err(|source| LoadError::Map {
        map: name,
        source: Box::new(source),
    })
}

fn attach_all(ebpf: &mut Ebpf) -> Result<usize, LoadError> {
    let mut attached = 0;
    // (program, raw tracepoint): the stack mark is set by a program of its own at exec, as
    // the exec record's path walk leaves the verifier no room for more.
    for (name, tp) in [
        ("sched_process_fork", "sched_process_fork"),
        ("sched_process_exec", "sched_process_exec"),
        ("sched_process_exec_stacks", "sched_process_exec"),
        ("sched_process_exit", "sched_process_exit"),
    ] {
        let prog: &mut RawTracePoint = program(ebpf, name)?;
        load_retrying(name, || prog.load())?;
        prog.attach(tp).map_err(|source| LoadError::Attach {
            program: name.into(),
            target: format!("raw tracepoint {tp}"),
            source: Box::new(source),
        })?;
        attached += 1;
    }
    let enter: &mut TracePoint = program(ebpf, "sys_enter")?;
    load_retrying("sys_enter", || enter.load())?;
    for fam in FAMILIES {
        for sc in fam.syscalls {
            let enter: &mut TracePoint = program(ebpf, "sys_enter")?;
            let tp = format!("sys_enter_{sc}");
            enter
                .attach("syscalls", &tp)
                .map_err(|source| LoadError::Attach {
                    program: "sys_enter".into(),
                    target: format!("tracepoint syscalls:{tp}"),
                    source: Box::new(source),
                })?;
            attached += 1;
        }
        let exit: &mut TracePoint = program(ebpf, fam.exit_program)?;
        load_retrying(fam.exit_program, || exit.load())?;
        for sc in fam.syscalls {
            let tp = format!("sys_exit_{sc}");
            exit.attach("syscalls", &tp)
                .map_err(|source| LoadError::Attach {
                    program: fam.exit_program.into(),
                    target: format!("tracepoint syscalls:{tp}"),
                    source: Box::new(source),
                })?;
            attached += 1;
        }
    }
    Ok(attached)
}

pub(crate) fn program<'a, T>(ebpf: &'a mut Ebpf, name: &str) -> Result<&'a mut T, LoadError>
where
    &'a mut T: TryFrom<&'a mut aya::programs::Program>,
{
    let p = ebpf
        .program_mut(name)
        .ok_or_else(|| LoadError::MissingProgram(name.into()))?;
    p.try_into()
        .map_err(|_| LoadError::MissingProgram(format!("{name} (wrong program type)")))
}
