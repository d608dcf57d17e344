//! A DNS server of the test's own on loopback: name lookups in tests go to it, never to the
//! machine's resolver.

use std::{
    net::{Ipv4Addr, UdpSocket},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::Duration,
};

/// A DNS server on a loopback address of its own, port 53, answering NXDOMAIN to everything.
pub struct DnsStub {
    pub addr: Ipv4Addr,
    pub queries: Arc<Mutex<Vec<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl DnsStub {
    /// Binds `127.<a>.<b>.53`, picking an address no other test run is using.
    pub fn start() -> Self {
        Self::start_at(None)
    }

    /// Binds `preferred` if it is free (recordings name a stable server), else another.
    pub fn start_at(preferred: Option<Ipv4Addr>) -> Self {
        if let Some(addr) = preferred
            && let Ok(sock) = UdpSocket::bind((addr, 53))
        {
            return Self::serve(addr, sock);
        }
        let mut last_err = None;
        for i in 0..64u32 {
            let n = std::process::id().wrapping_add(i * 7919);
            let addr = Ipv4Addr::new(127, 53, (n >> 8) as u8, (n as u8).max(2));
            match UdpSocket::bind((addr, 53)) {
                Ok(sock) => return Self::serve(addr, sock),
                Err(e) => last_err = Some(e),
            }
        }
        panic!("no loopback address free for a DNS stub on port 53: {last_err:?}");
    }

    fn serve(addr: Ipv4Addr, sock: UdpSocket) -> Self {
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .expect("read timeout");
        let queries = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (q, s) = (queries.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            while !s.load(Ordering::Relaxed) {
                let Ok((n, peer)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                q.lock().unwrap().push(buf[..n].to_vec());
                if n >= 12 {
                    // Same id and question; QR=1, RD+RA, RCODE=3 (NXDOMAIN), no answers.
                    let mut resp = buf[..n].to_vec();
                    resp[2] = 0x81;
                    resp[3] = 0x83;
                    resp[6..12].fill(0);
                    let _ = sock.send_to(&resp, peer);
                }
            }
        });
        Self {
            addr,
            queries,
            stop,
            thread: Some(thread),
        }
    }

    /// A resolv.conf pointing at this stub, written into `dir`.
    pub fn resolv_conf(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let p = dir.join("resolv.conf");
        std::fs::write(
            &p,
            format!("nameserver {}\noptions timeout:1 attempts:1\n", self.addr),
        )
        .expect("write resolv.conf");
        p
    }
}

impl Drop for DnsStub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Runs `f` on a thread of its own in a private mount namespace where `resolv_conf` is
/// bind-mounted over /etc/resolv.conf: a command traced from there resolves through the stub
/// and never the machine's resolver, with no mount of its own in the trace (a traced mount
/// makes a verdict incomplete). The namespace ends with the thread.
pub fn with_private_resolver<T: Send>(
    resolv_conf: &std::path::Path,
    f: impl FnOnce() -> T + Send,
) -> T {
    let conf = std::ffi::CString::new(resolv_conf.as_os_str().as_encoded_bytes())
        .expect("a path without NUL");
    std::thread::scope(|s| {
        s.spawn(|| {
            let root = c"/";
            let etc = c"/etc/resolv.conf";
            let none = std::ptr::null();
            // SAFETY: namespace and mount calls with valid C strings, for this thread only
            // (unsharing the mount namespace unshares the thread's filesystem context).
            unsafe {
                assert_eq!(
                    libc::unshare(libc::CLONE_NEWNS),
                    0,
                    "unshare(CLONE_NEWNS): {}",
                    std::io::Error::last_os_error()
                );
                let private = libc::MS_REC | libc::MS_PRIVATE;
                assert_eq!(
                    libc::mount(none, root.as_ptr(), none, private, std::ptr::null()),
                    0,
                    "making mounts private: {}",
                    std::io::Error::last_os_error()
                );
                assert_eq!(
                    libc::mount(
                        conf.as_ptr(),
                        etc.as_ptr(),
                        none,
                        libc::MS_BIND,
                        std::ptr::null()
                    ),
                    0,
                    "bind-mounting the stub's resolv.conf: {}",
                    std::io::Error::last_os_error()
                );
            }
            f()
        })
        .join()
        .expect("the traced work panicked")
    })
}
