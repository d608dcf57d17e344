//! The program the real-probe tests trace. Each sub-command performs one behaviour with the
//! exact syscalls named, so a test can assert every event it must produce.
//!
//! Usage: tracer-testbin <scenario> [args…]
#![expect(
    clippy::undocumented_unsafe_blocks,
    reason = "each libc call on buffers the helper owns is the behaviour a test asks for"
)]

use std::{
    ffi::CString,
    net::{TcpListener, TcpStream, ToSocketAddrs},
    os::unix::net::UnixStream,
    path::Path,
    time::{Duration, Instant},
};

/// meta DIR: every metadata and link call once, on files in DIR, in a fixed order.
fn meta(dir: &str) {
    let p = |n: &str| c(&format!("{dir}/{n}"));
    std::fs::write(format!("{dir}/f"), "data\n").unwrap();
    let d = std::fs::File::open(dir).unwrap();
    let f = std::fs::File::open(format!("{dir}/f")).unwrap();
    let dfd = std::os::fd::AsRawFd::as_raw_fd(&d);
    let rel = |n: &str| c(n);
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let null = std::ptr::null();
    // SAFETY: plain calls on valid C strings and descriptors; results are printed, not relied on.
    let rcs = unsafe {
        [
            libc::truncate(p("f").as_ptr(), 2),
            libc::chmod(p("f").as_ptr(), 0o4755),
            libc::fchmodat(dfd, rel("f").as_ptr(), 0o644, 0),
            libc::chown(p("f").as_ptr(), uid, gid),
            libc::lchown(p("f").as_ptr(), uid, gid),
            libc::fchownat(dfd, rel("f").as_ptr(), uid, gid, 0),
            libc::mkdir(p("d1").as_ptr(), 0o755),
            libc::mkdirat(dfd, rel("d2").as_ptr(), 0o700),
            // glibc makes mknod and utimes the *at calls: the old ones raw.
            libc::syscall(
                libc::SYS_mknod,
                p("fifo").as_ptr(),
                libc::S_IFIFO | 0o644,
                0,
            ) as i32,
            libc::mknodat(dfd, rel("fifo2").as_ptr(), libc::S_IFIFO | 0o600, 0),
            libc::syscall(libc::SYS_utimes, p("f").as_ptr(), 0usize) as i32,
            libc::utimensat(dfd, rel("f").as_ptr(), null, 0),
            libc::link(p("f").as_ptr(), p("hard").as_ptr()),
            libc::linkat(dfd, rel("f").as_ptr(), dfd, rel("hard2").as_ptr(), 0),
            libc::symlink(c("/etc/hostname").as_ptr(), p("sym").as_ptr()),
            libc::symlinkat(c("f").as_ptr(), dfd, rel("sym2").as_ptr()),
            // On a descriptor: utimensat(fd, NULL, …), and the f* calls.
            libc::futimens(std::os::fd::AsRawFd::as_raw_fd(&f), std::ptr::null()),
            libc::fchmod(std::os::fd::AsRawFd::as_raw_fd(&f), 0o640),
            libc::fchown(std::os::fd::AsRawFd::as_raw_fd(&f), uid, gid),
        ]
    };
    println!("{rcs:?}");
}

fn c(s: &str) -> CString {
    CString::new(s).expect("no NUL in test paths")
}

fn check(what: &str, rc: i64) -> i64 {
    if rc < 0 {
        eprintln!("testbin: {what}: {}", std::io::Error::last_os_error());
    }
    rc
}

const AT_FDCWD: i32 = libc::AT_FDCWD;

fn open(path: &str, flags: i32) -> i32 {
    // SAFETY: valid C string; mode used only with O_CREAT.
    check(
        &format!("open {path}"),
        unsafe { libc::open(c(path).as_ptr(), flags, 0o644) } as i64,
    ) as i32
}

fn close(fd: i32) {
    if fd >= 0 {
        // SAFETY: closing a descriptor we opened.
        unsafe { libc::close(fd) };
    }
}

/// open/openat/openat2/creat with every base, unlink/unlinkat/rmdir, rename/renameat/renameat2.
fn files(dir: &str) {
    let w = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC;
    close(open(&format!("{dir}/read.txt"), libc::O_RDONLY));
    close(open(&format!("{dir}/new.txt"), w));
    // SAFETY (all blocks below): valid C strings and descriptors we own.
    close(check(
        "creat",
        unsafe { libc::creat(c(&format!("{dir}/creat.txt")).as_ptr(), 0o600) } as i64,
    ) as i32);
    close(open(&format!("{dir}/missing/nope.txt"), libc::O_RDONLY));
    // The directory is opened before the chdir, as programs that walk a tree do: the tracer
    // then knows it from the trace. (Without that it can only ask /proc while the process
    // lives, a race this short-lived process often wins; `chdir` itself is not traced.)
    close(open(dir, libc::O_RDONLY | libc::O_DIRECTORY));
    check("chdir", unsafe { libc::chdir(c(dir).as_ptr()) } as i64);
    close(open("rel.txt", w));
    /// `struct open_how` of openat2(2).
    #[repr(C)]
    struct OpenHow {
        flags: u64,
        mode: u64,
        resolve: u64,
    }
    let how = OpenHow {
        flags: (libc::O_RDWR | libc::O_CREAT) as u64,
        mode: 0o640,
        resolve: 0,
    };
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            AT_FDCWD,
            c("o2.txt").as_ptr(),
            &how as *const OpenHow,
            size_of::<OpenHow>(),
        )
    };
    close(check("openat2", fd) as i32);
    let dfd = open(&format!("{dir}/sub"), libc::O_RDONLY | libc::O_DIRECTORY);
    close(check(
        "openat",
        unsafe { libc::openat(dfd, c("at.txt").as_ptr(), w, 0o644) } as i64,
    ) as i32);
    check("renameat", unsafe {
        libc::renameat(dfd, c("at.txt").as_ptr(), AT_FDCWD, c("moved.txt").as_ptr())
    } as i64);
    close(check(
        "openat",
        unsafe { libc::openat(dfd, c("gone.txt").as_ptr(), w, 0o644) } as i64,
    ) as i32);
    check(
        "unlinkat",
        unsafe { libc::unlinkat(dfd, c("gone.txt").as_ptr(), 0) } as i64,
    );
    close(dfd);
    check(
        "unlink",
        unsafe { libc::unlink(c(&format!("{dir}/new.txt")).as_ptr()) } as i64,
    );
    check("rename", unsafe {
        libc::rename(
            c(&format!("{dir}/creat.txt")).as_ptr(),
            c("renamed.txt").as_ptr(),
        )
    } as i64);
    check("renameat2", unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            AT_FDCWD,
            c("rel.txt").as_ptr(),
            AT_FDCWD,
            c("rel2.txt").as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    });
    // Longer than the 512-byte capture limit (ENOENT: the directories do not exist).
    let long = format!("{dir}/{}end.txt", "long-component/".repeat(40));
    close(open(&long, libc::O_RDONLY));
    check("mkdir", unsafe { libc::mkdir(c("tmpdir").as_ptr(), 0o755) }
        as i64);
    check("rmdir", unsafe { libc::rmdir(c("tmpdir").as_ptr()) } as i64);
}

/// A PATH search: two misses, then `true` from /usr/bin (or /bin).
fn exec_search(dir: &str) -> ! {
    let path = format!("{dir}/missing-a:{dir}/missing-b:/usr/bin:/bin");
    let prog = c("true");
    let argv = [
        prog.as_ptr(),
        c("--from-testbin").into_raw(),
        std::ptr::null(),
    ];
    // execvp searches the caller's own PATH. SAFETY: single-threaded here; NUL-terminated argv;
    // execvp only returns on failure.
    unsafe {
        std::env::set_var("PATH", &path);
        libc::execvp(prog.as_ptr(), argv.as_ptr());
    }
    eprintln!("testbin: execvp: {}", std::io::Error::last_os_error());
    std::process::exit(1)
}

fn connect(host: &str, port: u16) {
    // A blocking connect: its result is the syscall's (a non-blocking one says EINPROGRESS).
    match TcpStream::connect((host, port)) {
        Ok(_) => println!("connected"),
        Err(e) => println!("connect failed: {e}"),
    }
}

/// Resolves `name` through the libc resolver, with `resolv_conf` bind-mounted over
/// /etc/resolv.conf in a private mount namespace (the machine's resolver is never asked).
fn dns(name: &str, resolv_conf: &str) {
    private_resolver(resolv_conf);
    match (name, 80).to_socket_addrs() {
        Ok(a) => println!("resolved: {:?}", a.collect::<Vec<_>>()),
        Err(e) => println!("resolve failed: {e}"),
    }
}

/// Puts this process (and what it starts) in a private mount namespace where `resolv_conf` is
/// bind-mounted over /etc/resolv.conf.
fn private_resolver(resolv_conf: &str) {
    // SAFETY: namespace and mount syscalls with valid C strings; this process only.
    unsafe {
        if libc::unshare(libc::CLONE_NEWNS) != 0 {
            panic!("unshare(CLONE_NEWNS): {}", std::io::Error::last_os_error());
        }
        if libc::mount(
            std::ptr::null(),
            c("/").as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) != 0
        {
            panic!("making mounts private: {}", std::io::Error::last_os_error());
        }
        if libc::mount(
            c(resolv_conf).as_ptr(),
            c("/etc/resolv.conf").as_ptr(),
            std::ptr::null(),
            libc::MS_BIND,
            std::ptr::null(),
        ) != 0
        {
            panic!(
                "bind-mounting {resolv_conf}: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

/// A DNS query for `name` in wire format.
fn dns_query(name: &str) -> Vec<u8> {
    let mut p = vec![0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.split('.') {
        p.push(label.len() as u8);
        p.extend_from_slice(label.as_bytes());
    }
    p.extend_from_slice(&[0, 0, 16, 0, 1]); // TXT, IN
    p
}

/// Sends a DNS query for `name` to ip:port with sendto, then with sendmsg, on an unconnected
/// UDP socket (the explicit-address paths; glibc's connected sendmmsg is the `dns` scenario).
fn udp_send(ip: &str, port: u16, name: &str) {
    let q = dns_query(name);
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&sock);
    let dst: std::net::SocketAddrV4 = format!("{ip}:{port}").parse().unwrap();
    let sa = libc::sockaddr_in {
        sin_family: libc::AF_INET as u16,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*dst.ip()).to_be(),
        },
        sin_zero: [0; 8],
    };
    let sa_ptr = &sa as *const libc::sockaddr_in as *const libc::sockaddr;
    let len = size_of::<libc::sockaddr_in>() as u32;
    // SAFETY: valid buffer, address and lengths for the calls' duration.
    unsafe {
        check(
            "sendto",
            libc::sendto(fd, q.as_ptr().cast(), q.len(), 0, sa_ptr, len) as i64,
        );
        let mut iov = libc::iovec {
            iov_base: q.as_ptr() as *mut _,
            iov_len: q.len(),
        };
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_name = sa_ptr as *mut _;
        msg.msg_namelen = len;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        check("sendmsg", libc::sendmsg(fd, &msg, 0) as i64);
    }
}

fn fork() -> i32 {
    // SAFETY: this helper is single-threaded when it forks.
    unsafe { libc::fork() }
}

fn wait_for(cond: impl Fn() -> bool, limit: Duration) -> bool {
    let t = Instant::now();
    while !cond() {
        if t.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    true
}

/// child: setsid + fork + exit; grandchild: waits until reparented, then creates `marker`.
/// `root_waits`: the root process waits for the marker; otherwise it exits at once.
fn double_fork(marker: &str, delay_ms: u64, root_waits: bool) {
    let child = fork();
    if child == 0 {
        // SAFETY: plain syscalls in the forked child.
        unsafe { libc::setsid() };
        let me = std::process::id() as i32;
        if fork() == 0 {
            // SAFETY: getppid has no preconditions.
            wait_for(|| unsafe { libc::getppid() } != me, Duration::from_secs(5));
            std::thread::sleep(Duration::from_millis(delay_ms));
            close(open(marker, libc::O_WRONLY | libc::O_CREAT));
            unsafe { libc::_exit(0) };
        }
        unsafe { libc::_exit(0) };
    }
    // SAFETY: reaping our own child.
    unsafe { libc::waitpid(child, std::ptr::null_mut(), 0) };
    if root_waits && !wait_for(|| Path::new(marker).exists(), Duration::from_secs(10)) {
        eprintln!("testbin: grandchild never created {marker}");
        std::process::exit(1);
    }
}

fn threads(dir: &str, n: usize) {
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let p = format!("{dir}/thread-{i}");
            std::thread::spawn(move || close(open(&p, libc::O_WRONLY | libc::O_CREAT)))
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

/// `bytes DIR`: creates two files whose names are not UTF-8 and differ in one byte, and one
/// with a backslash in its name.
fn bytes(dir: &str) {
    use std::os::unix::ffi::OsStrExt;
    for name in [&b"bad-\xff"[..], b"bad-\xfe", b"back\\slash"] {
        let mut p = dir.as_bytes().to_vec();
        p.push(b'/');
        p.extend_from_slice(name);
        let path = std::ffi::OsStr::from_bytes(&p);
        std::fs::write(path, b"x").unwrap_or_else(|e| panic!("{path:?}: {e}"));
    }
}

/// `inflight FIFO N`: N threads, each blocked opening FIFO for reading at once, then released
/// by opening it for writing — more syscalls in flight than the probes can remember. Plain
/// pthreads with small stacks: std's threads map a signal stack each, and N of them would pass
/// the kernel's limit on mappings.
fn inflight(fifo: &str, n: usize) {
    static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    extern "C" fn reader(path: *mut libc::c_void) -> *mut libc::c_void {
        STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let fd = unsafe { libc::open(path as *const libc::c_char, libc::O_RDONLY) };
        close(fd);
        std::ptr::null_mut()
    }
    let path = c(fifo);
    assert_eq!(
        unsafe { libc::mkfifo(path.as_ptr(), 0o600) },
        0,
        "mkfifo {fifo}"
    );
    let mut attr: libc::pthread_attr_t = unsafe { std::mem::zeroed() };
    unsafe {
        libc::pthread_attr_init(&mut attr);
        libc::pthread_attr_setstacksize(&mut attr, 64 * 1024);
    }
    let mut threads = Vec::with_capacity(n);
    for _ in 0..n {
        let mut t: libc::pthread_t = 0;
        let rc = unsafe {
            libc::pthread_create(&mut t, &attr, reader, path.as_ptr() as *mut libc::c_void)
        };
        assert_eq!(
            rc,
            0,
            "pthread_create: {}",
            std::io::Error::from_raw_os_error(rc)
        );
        threads.push(t);
    }
    while STARTED.load(std::sync::atomic::Ordering::SeqCst) < n {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // Give the last threads time to enter open(2).
    std::thread::sleep(std::time::Duration::from_millis(500));
    let w = unsafe { libc::open(path.as_ptr(), libc::O_WRONLY) };
    for t in threads {
        unsafe { libc::pthread_join(t, std::ptr::null_mut()) };
    }
    close(w);
    println!("released {n} threads");
}

/// `load DIR SECONDS RATE [mix|open]`: a paced load of traced syscalls for the throughput
/// benchmark. `mix` (default): opens of a missing file, open+close of an existing one, connects
/// to a closed loopback port (refused at once), and every 1,000th operation a fork+exec of
/// `true`. `open`: opens of a missing file only, the cheapest event to cause. Paced in batches so
/// the offered rate is RATE operations per second (about one event each), whatever the tracer
/// does; prints the operations performed.
fn load(dir: &str, seconds: f64, rate: f64, only_open: bool) {
    let existing = format!("{dir}/load-existing");
    close(open(&existing, libc::O_WRONLY | libc::O_CREAT));
    let missing = c(&format!("{dir}/load-missing"));
    let present = c(&existing);
    // A port nobody listens on: bound for a moment, then released.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(9);
    let addr = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_be_bytes([127, 0, 0, 1]).to_be(),
        },
        sin_zero: [0; 8],
    };
    const BATCH: u64 = 50;
    let start = Instant::now();
    let mut ops = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        for _ in 0..BATCH {
            ops += 1;
            // SAFETY: valid C strings and a valid sockaddr; every fd opened is closed.
            unsafe {
                match if only_open { 0 } else { ops % 3 } {
                    0 => {
                        libc::open(missing.as_ptr(), libc::O_RDONLY);
                    }
                    1 => {
                        let fd = libc::open(present.as_ptr(), libc::O_RDONLY);
                        if fd >= 0 {
                            libc::close(fd);
                        }
                    }
                    _ => {
                        let s = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
                        if s >= 0 {
                            libc::connect(
                                s,
                                (&addr as *const libc::sockaddr_in).cast(),
                                std::mem::size_of::<libc::sockaddr_in>() as u32,
                            );
                            libc::close(s);
                        }
                    }
                }
            }
            if !only_open && ops.is_multiple_of(1000) {
                let _ = std::process::Command::new("true").status();
            }
        }
        // Pace: sleep until this batch's slot if ahead of schedule.
        let due = Duration::from_secs_f64(ops as f64 / rate);
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
    }
    println!("{ops}");
}

/// `race-open DIR N`: opens `DIR/a` N times while another thread flips the last byte of the
/// path buffer between `a` and `b` — what a process does to make a tracer that reads the path
/// at exit record another file than the kernel opened. Writes which file each open really got
/// (each holds its own name), in order, to `DIR/got`.
fn race_open(dir: &str, n: usize) {
    use std::sync::atomic::{AtomicBool, AtomicU8, Ordering::Relaxed};
    static BUF: [AtomicU8; 256] = [const { AtomicU8::new(0) }; 256];
    static STOP: AtomicBool = AtomicBool::new(false);
    for f in ["a", "b"] {
        std::fs::write(format!("{dir}/{f}"), f).unwrap();
    }
    let path = format!("{dir}/a");
    assert!(path.len() < BUF.len());
    for (i, b) in path.bytes().enumerate() {
        BUF[i].store(b, Relaxed);
    }
    let last = path.len() - 1;
    let flipper = std::thread::spawn(move || {
        let mut which = b'a';
        while !STOP.load(Relaxed) {
            which = if which == b'a' { b'b' } else { b'a' };
            BUF[last].store(which, Relaxed);
        }
    });
    let mut got = String::with_capacity(n);
    for _ in 0..n {
        // SAFETY: BUF is a NUL-terminated path (AtomicU8 has u8's layout); the kernel copies it.
        let fd = unsafe { libc::open(BUF.as_ptr().cast(), libc::O_RDONLY) };
        if fd < 0 {
            got.push('?');
            continue;
        }
        let mut byte = 0u8;
        // SAFETY: one byte into our own buffer from a descriptor we own.
        unsafe { libc::read(fd, (&mut byte as *mut u8).cast(), 1) };
        got.push(byte as char);
        close(fd);
    }
    STOP.store(true, Relaxed);
    flipper.join().unwrap();
    std::fs::write(format!("{dir}/got"), got).unwrap();
}

/// `race-connect FILE PORT_A PORT_B N`: connects N UDP sockets to 127.0.0.1:PORT_A while
/// another thread flips the port in the address buffer to PORT_B and back. Writes the port
/// each socket really connected to (`getpeername`), in order, one per line, to FILE.
fn race_connect(file: &str, a: u16, b: u16, n: usize) {
    use std::sync::atomic::{AtomicBool, AtomicU16, Ordering::Relaxed};
    // sockaddr_in: family, port (network order), address, padding — the port as an atomic.
    #[repr(C)]
    struct Addr {
        family: u16,
        port: AtomicU16,
        ip: u32,
        zero: [u8; 8],
    }
    static ADDR: Addr = Addr {
        family: libc::AF_INET as u16,
        port: AtomicU16::new(0),
        ip: u32::from_ne_bytes([127, 0, 0, 1]),
        zero: [0; 8],
    };
    static STOP: AtomicBool = AtomicBool::new(false);
    ADDR.port.store(a.to_be(), Relaxed);
    let flipper = std::thread::spawn(move || {
        let mut to = b;
        while !STOP.load(Relaxed) {
            ADDR.port.store(to.to_be(), Relaxed);
            to = if to == a { b } else { a };
        }
    });
    let mut got = String::new();
    for _ in 0..n {
        // SAFETY: a UDP socket we own; ADDR has sockaddr_in's layout; peer is ours to fill.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0);
            let rc = libc::connect(
                fd,
                (&ADDR as *const Addr).cast(),
                std::mem::size_of::<Addr>() as u32,
            );
            let mut peer: libc::sockaddr_in = std::mem::zeroed();
            let mut len = std::mem::size_of::<libc::sockaddr_in>() as u32;
            if rc == 0
                && libc::getpeername(fd, (&mut peer as *mut libc::sockaddr_in).cast(), &mut len)
                    == 0
            {
                got.push_str(&format!("{}\n", u16::from_be(peer.sin_port)));
            } else {
                got.push_str("?\n");
            }
            libc::close(fd);
        }
    }
    STOP.store(true, Relaxed);
    flipper.join().unwrap();
    std::fs::write(file, got).unwrap();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let a = |i: usize| {
        args.get(i)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("missing argument {i}"))
    };
    match a(0) {
        "files" => files(a(1)),
        "exec-search" => exec_search(a(1)),
        "connect" => connect(a(1), a(2).parse().unwrap()),
        "connect-unix" => match UnixStream::connect(a(1)) {
            Ok(_) => println!("connected"),
            Err(e) => println!("connect failed: {e}"),
        },
        "listen" => {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            println!("listening on {}", l.local_addr().unwrap());
        }
        "dns" => dns(a(1), a(2)),
        "with-resolv" => {
            // with-resolv CONF CMD ARGS…: run CMD with CONF as its resolv.conf.
            private_resolver(a(1));
            let err = std::os::unix::process::CommandExt::exec(
                std::process::Command::new(a(2)).args(&args[3..]),
            );
            eprintln!("testbin: exec {}: {err}", a(2));
            std::process::exit(127);
        }
        "udp-send" => udp_send(a(1), a(2).parse().unwrap(), a(3)),
        "refused" => {
            // refused FILE: the errno of each call the tracer refuses, one per line.
            let errno = |rc: i64| {
                if rc < 0 {
                    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
                } else {
                    0
                }
            };
            let mut handle = [0u8; 136];
            // SAFETY: plain calls; the handle buffer is large enough for any file handle.
            let out = unsafe {
                [
                    errno(libc::socket(libc::AF_PACKET, libc::SOCK_DGRAM, 0) as i64),
                    errno(libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_UDP) as i64),
                    errno(libc::syscall(304, libc::AT_FDCWD, handle.as_mut_ptr(), 0)),
                ]
            };
            let lines: Vec<String> = out.iter().map(i32::to_string).collect();
            std::fs::write(a(1), lines.join("\n")).unwrap();
        }
        "mmsg" => {
            // mmsg PORT N: N datagrams to 127.0.0.1:PORT in one sendmmsg.
            let port: u16 = a(1).parse().unwrap();
            let n: usize = a(2).parse().unwrap();
            let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let sa = libc::sockaddr_in {
                sin_family: libc::AF_INET as u16,
                sin_port: port.to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from(std::net::Ipv4Addr::LOCALHOST).to_be(),
                },
                sin_zero: [0; 8],
            };
            let mut iov = libc::iovec {
                iov_base: b"data".as_ptr() as *mut _,
                iov_len: 4,
            };
            // SAFETY: every header points at the same valid address and buffer.
            let mut msgs: Vec<libc::mmsghdr> = (0..n)
                .map(|_| unsafe {
                    let mut m: libc::mmsghdr = std::mem::zeroed();
                    m.msg_hdr.msg_name = &sa as *const _ as *mut _;
                    m.msg_hdr.msg_namelen = size_of::<libc::sockaddr_in>() as u32;
                    m.msg_hdr.msg_iov = &mut iov;
                    m.msg_hdr.msg_iovlen = 1;
                    m
                })
                .collect();
            let fd = std::os::fd::AsRawFd::as_raw_fd(&sock);
            // SAFETY: `msgs` holds n valid headers.
            let rc = unsafe { libc::sendmmsg(fd, msgs.as_mut_ptr(), n as u32, 0) };
            check("sendmmsg", rc as i64);
        }
        "udp-unspec" => {
            // udp-unspec PORT: a datagram to 127.0.0.1:PORT with the family left AF_UNSPEC,
            // which UDP over IPv4 takes for AF_INET.
            let port: u16 = a(1).parse().unwrap();
            let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let mut sa = [0u8; 16];
            sa[2..4].copy_from_slice(&port.to_be_bytes());
            sa[4..8].copy_from_slice(&[127, 0, 0, 1]);
            // SAFETY: a 16-byte address buffer and a 4-byte payload, valid for the call.
            let rc = unsafe {
                libc::sendto(
                    std::os::fd::AsRawFd::as_raw_fd(&sock),
                    b"data".as_ptr().cast(),
                    4,
                    0,
                    sa.as_ptr().cast(),
                    16,
                )
            };
            check("sendto", rc as i64);
        }
        "double-fork" => double_fork(a(1), 50, true),
        "daemon" => double_fork(a(1), a(2).parse().unwrap(), false),
        "threads" => threads(a(1), a(2).parse().unwrap()),
        "inflight" => inflight(a(1), a(2).parse().unwrap()),
        "bytes" => bytes(a(1)),
        "meta" => meta(a(1)),
        "int80" => {
            // getpid through the 32-bit entry point: the probes cannot see it.
            let ret: i64;
            // SAFETY: i386 getpid (20) takes no arguments and touches no memory.
            unsafe { std::arch::asm!("int 0x80", inlateout("rax") 20i64 => ret) };
            println!("int80: {ret}");
        }
        "io-uring" => {
            // io-uring FILE: io_uring_setup(8, &params); FILE gets the result and errno.
            let mut params = [0u8; 120];
            // SAFETY: params is a zeroed struct io_uring_params of the kernel's size.
            let fd = unsafe { libc::syscall(425, 8, params.as_mut_ptr()) };
            let err = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
            let errno = if fd < 0 { err } else { 0 };
            std::fs::write(a(1), format!("{fd} {errno}")).unwrap();
        }
        "race-open" => race_open(a(1), a(2).parse().unwrap()),
        "race-connect" => race_connect(
            a(1),
            a(2).parse().unwrap(),
            a(3).parse().unwrap(),
            a(4).parse().unwrap(),
        ),
        "spam" => {
            let n: usize = a(2).parse().unwrap();
            for i in 0..n {
                // SAFETY: valid C string; the file does not exist, so nothing is opened.
                unsafe { libc::open(c(&format!("{}/spam-{i}", a(1))).as_ptr(), libc::O_RDONLY) };
            }
        }
        "load" => load(
            a(1),
            a(2).parse().unwrap(),
            a(3).parse().unwrap(),
            args.get(4).is_some_and(|m| m == "open"),
        ),
        "tamper" => {
            // What a hostile tree does to a tracer, harmlessly: asks bpf(2) for the first
            // map's id, signals its own process group with signal 0 (a permission check
            // only), and asks to ptrace init.
            let mut attr = [0u32; 4];
            // SAFETY: BPF_MAP_GET_NEXT_ID (12) reads start_id and writes next_id in `attr`.
            let rc = unsafe {
                libc::syscall(
                    libc::SYS_bpf,
                    12,
                    attr.as_mut_ptr(),
                    std::mem::size_of_val(&attr),
                )
            };
            println!("bpf: {rc}");
            // SAFETY: signal 0 delivers nothing.
            println!("kill: {}", unsafe { libc::kill(0, 0) });
            // SAFETY: PTRACE_PEEKDATA on pid 1 reads nothing of ours; it fails without a tracer.
            let rc = unsafe { libc::ptrace(libc::PTRACE_PEEKDATA, 1, 0, 0) };
            println!("ptrace: {rc}");
        }
        "bindmount" => {
            // bindmount DIR: DIR/secret bind-mounted onto DIR/x in a private mount namespace,
            // and DIR/x/key read there: the kernel names it DIR/x/key.
            let dir = a(1);
            std::fs::create_dir_all(format!("{dir}/secret")).unwrap();
            std::fs::create_dir_all(format!("{dir}/x")).unwrap();
            std::fs::write(format!("{dir}/secret/key"), "k\n").unwrap();
            let c = |s: String| std::ffi::CString::new(s).unwrap();
            let (root, src, dst) = (
                c("/".into()),
                c(format!("{dir}/secret")),
                c(format!("{dir}/x")),
            );
            // SAFETY: plain calls with valid C strings; the namespace is this process's own.
            unsafe {
                assert_eq!(libc::unshare(libc::CLONE_NEWNS), 0, "unshare");
                let none = std::ptr::null();
                let private = libc::MS_REC | libc::MS_PRIVATE;
                assert_eq!(
                    libc::mount(none, root.as_ptr(), none, private, std::ptr::null()),
                    0
                );
                let bind = libc::MS_BIND;
                assert_eq!(
                    libc::mount(src.as_ptr(), dst.as_ptr(), none, bind, std::ptr::null()),
                    0
                );
            }
            print!(
                "{}",
                std::fs::read_to_string(format!("{dir}/x/key")).unwrap()
            );
        }
        "inherited" => {
            // inherited FILE: what the traced command was given — its open descriptors and
            // whether exec can still raise its privileges.
            // (Not the descriptor listing them.)
            let fds: Vec<String> = std::fs::read_dir("/proc/self/fd")
                .unwrap()
                .filter_map(|e| e.ok())
                .filter(|e| {
                    std::fs::read_link(e.path())
                        .is_ok_and(|t| !(t.starts_with("/proc") && t.ends_with("fd")))
                })
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            let status = std::fs::read_to_string("/proc/self/status").unwrap();
            let nnp = status
                .lines()
                .find(|l| l.starts_with("NoNewPrivs:"))
                .unwrap_or("NoNewPrivs: ?");
            std::fs::write(a(1), format!("fds {}\n{nnp}\n", fds.join(" "))).unwrap();
        }
        "whoami" => {
            // SAFETY: plain getters.
            let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
            println!(
                "uid={uid} gid={gid} home={}",
                std::env::var("HOME").unwrap_or_default()
            );
        }
        other => {
            eprintln!("testbin: unknown scenario {other}");
            std::process::exit(2);
        }
    }
}
