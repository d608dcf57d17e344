//! Attaching the proc-macro probes on a worker thread.
//!
//! Registering a uprobe takes the kernel a grace period or more (every registration write-locks
//! a per-CPU semaphore), and a macro library has one `run_client` instance per macro: tens of
//! probes, seconds per library on a busy machine. Done on the thread that drains the ring
//! buffer, that stalled it long enough to lose events in real builds. Here the session only
//! hands over a library and an id; the worker attaches and reports back.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    thread::JoinHandle,
};

use aya::{
    Ebpf,
    programs::{
        UProbe,
        uprobe::{UProbeAttachLocation, UProbeAttachPoint, UProbeScope},
    },
};

use super::{LoadError, program, symbols};

/// The outcome of one library's attachment.
#[derive(Debug)]
pub struct Attached {
    pub id: u32,
    pub path: String,
    pub result: Result<(), LoadError>,
}

/// Hands libraries to the worker and collects what it did.
pub struct MacroAttacher {
    requested: Vec<String>,
    tx: Option<mpsc::Sender<(u32, String)>>,
    done: mpsc::Receiver<Attached>,
    finished: usize,
    stopping: Arc<AtomicBool>,
    worker: Option<JoinHandle<()>>,
}

impl MacroAttacher {
    /// Starts the worker; it attaches through `ebpf` while that still holds the programs.
    /// `programs`: the enter and exit programs to attach (per-point or multi-link flavour).
    pub fn start(
        ebpf: Arc<Mutex<Option<Ebpf>>>,
        programs: [&'static str; 2],
    ) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<(u32, String)>();
        let (done_tx, done) = mpsc::channel();
        let stopping = Arc::new(AtomicBool::new(false));
        let stop = stopping.clone();
        let worker = std::thread::Builder::new()
            .name("macro-attach".into())
            .spawn(move || {
                for (id, path) in rx {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let result = attach(&ebpf, programs, id, &path);
                    if done_tx.send(Attached { id, path, result }).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Self {
            requested: Vec::new(),
            tx: Some(tx),
            done,
            finished: 0,
            stopping,
            worker: Some(worker),
        })
    }

    /// Queues library `path` (once) and returns the id its probes will stamp on events (1, 2,
    /// …), usable at once: events can only carry it once the probes are in.
    pub fn request(&mut self, path: &str) -> u32 {
        if let Some(i) = self.requested.iter().position(|p| p == path) {
            return i as u32 + 1;
        }
        self.requested.push(path.to_string());
        let id = self.requested.len() as u32;
        if let Some(tx) = &self.tx {
            // A worker that is gone reports nothing more; the library stays unprobed.
            let _ = tx.send((id, path.to_string()));
        }
        id
    }

    /// Attachments finished since the last call.
    pub fn finished(&mut self) -> Vec<Attached> {
        let v: Vec<Attached> = self.done.try_iter().collect();
        self.finished += v.len();
        v
    }

    /// Libraries queued whose attachment has not finished (as of the last [`Self::finished`]).
    pub fn pending(&self) -> &[String] {
        &self.requested[self.finished.min(self.requested.len())..]
    }

    /// Drops the queue and waits for the attachment in progress, if any.
    pub fn stop(&mut self) {
        self.stopping.store(true, Ordering::Relaxed);
        drop(self.tx.take());
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

/// Attaches the enter and exit probes to every `run_client` instance in the library.
fn attach(
    ebpf: &Mutex<Option<Ebpf>>,
    programs: [&'static str; 2],
    id: u32,
    path: &str,
) -> Result<(), LoadError> {
    // Parsed before taking the lock: the probes' owner is not held up by a large file.
    let entries = symbols::run_client_entries(path)?;
    let mut guard = ebpf.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let Some(ebpf) = guard.as_mut() else {
        return Err(LoadError::MissingProgram(
            "proc_macro_enter (probes already released)".into(),
        ));
    };
    for prog in programs {
        let p: &mut UProbe = program(ebpf, prog)?;
        // By file offset: aya would otherwise open the library again to find the symbols.
        let points = entries.iter().map(|e| UProbeAttachPoint {
            location: UProbeAttachLocation::AbsoluteOffset(e.file_offset),
            cookie: Some(u64::from(id)),
        });
        p.attach(points, path, UProbeScope::AllProcesses)
            .map_err(|source| LoadError::Attach {
                program: prog.into(),
                target: format!("uprobe in {path}"),
                source: Box::new(source),
            })?;
    }
    Ok(())
}
