//! The dangerous operations, by the path of the function or type that performs them.

use crate::analysis::FindingKind;

use FindingKind::*;

/// Exact paths (after `use` resolution) and the kind they stand for.
const EXACT: &[(&str, FindingKind)] = &[
    // std::fs and friends
    ("std::fs::read", FsRead),
    ("std::fs::read_to_string", FsRead),
    ("std::fs::read_dir", FsRead),
    ("std::fs::read_link", FsRead),
    ("std::fs::File::open", FsRead),
    ("std::fs::copy", FsWrite),
    ("std::fs::write", FsWrite),
    ("std::fs::File::create", FsWrite),
    ("std::fs::File::create_new", FsWrite),
    ("std::fs::OpenOptions::new", FsWrite),
    ("std::fs::create_dir", FsWrite),
    ("std::fs::create_dir_all", FsWrite),
    ("std::fs::rename", FsWrite),
    ("std::fs::hard_link", FsWrite),
    ("std::fs::set_permissions", FsWrite),
    ("std::os::unix::fs::symlink", FsWrite),
    ("std::fs::remove_file", FsDelete),
    ("std::fs::remove_dir", FsDelete),
    ("std::fs::remove_dir_all", FsDelete),
    ("std::env::home_dir", EnvRead),
    ("std::env::var", EnvRead),
    ("std::env::var_os", EnvRead),
    ("std::env::vars", EnvRead),
    ("std::env::vars_os", EnvRead),
    // std::net
    ("std::net::TcpStream::connect", NetConnect),
    ("std::net::TcpStream::connect_timeout", NetConnect),
    ("std::net::UdpSocket::connect", NetConnect),
    ("std::net::UdpSocket::send_to", NetConnect),
    ("std::os::unix::net::UnixStream::connect", NetConnect),
    ("std::os::unix::net::UnixDatagram::connect", NetConnect),
    ("std::net::TcpListener::bind", NetListen),
    ("std::net::UdpSocket::bind", NetListen),
    ("std::os::unix::net::UnixListener::bind", NetListen),
    ("std::net::ToSocketAddrs::to_socket_addrs", NetDns),
    // std::process
    ("std::process::Command::new", ProcessExec),
    ("std::os::unix::process::CommandExt::exec", ProcessExec),
    // libc
    ("libc::open", FsRead),
    ("libc::openat", FsRead),
    ("libc::fopen", FsRead),
    ("libc::creat", FsWrite),
    ("libc::rename", FsWrite),
    ("libc::renameat", FsWrite),
    ("libc::unlink", FsDelete),
    ("libc::unlinkat", FsDelete),
    ("libc::rmdir", FsDelete),
    ("libc::remove", FsDelete),
    ("libc::connect", NetConnect),
    ("libc::sendto", NetConnect),
    ("libc::bind", NetListen),
    ("libc::listen", NetListen),
    ("libc::getaddrinfo", NetDns),
    ("libc::gethostbyname", NetDns),
    ("libc::execve", ProcessExec),
    ("libc::execv", ProcessExec),
    ("libc::execvp", ProcessExec),
    ("libc::execvpe", ProcessExec),
    ("libc::execl", ProcessExec),
    ("libc::execlp", ProcessExec),
    ("libc::fexecve", ProcessExec),
    ("libc::system", ProcessExec),
    ("libc::popen", ProcessExec),
    ("libc::posix_spawn", ProcessExec),
    ("libc::posix_spawnp", ProcessExec),
    ("libc::fork", ProcessExec),
    ("libc::getenv", EnvRead),
    ("libc::syscall", RawSyscall),
    // nix / rustix
    ("nix::unistd::unlink", FsDelete),
    ("nix::unistd::execv", ProcessExec),
    ("nix::unistd::execve", ProcessExec),
    ("nix::unistd::execvp", ProcessExec),
    ("nix::unistd::fork", ProcessExec),
    ("nix::sys::socket::connect", NetConnect),
    ("nix::sys::socket::bind", NetListen),
    ("nix::sys::socket::listen", NetListen),
    ("nix::fcntl::open", FsRead),
    ("nix::fcntl::openat", FsRead),
    ("rustix::fs::unlinkat", FsDelete),
    ("rustix::fs::open", FsRead),
    ("rustix::fs::openat", FsRead),
    ("rustix::net::connect", NetConnect),
    ("rustix::net::bind", NetListen),
    ("rustix::net::listen", NetListen),
    ("rustix::process::execve", ProcessExec),
];

/// Path prefixes: any use of these modules or crates is that kind.
const PREFIXES: &[(&str, FindingKind)] = &[
    ("tokio::fs::remove", FsDelete),
    ("tokio::fs::write", FsWrite),
    ("tokio::fs::read", FsRead),
    ("tokio::net::TcpStream", NetConnect),
    ("tokio::net::UdpSocket", NetConnect),
    ("tokio::net::UnixStream", NetConnect),
    ("tokio::net::TcpListener", NetListen),
    ("tokio::net::UnixListener", NetListen),
    ("tokio::net::lookup_host", NetDns),
    ("tokio::process::Command", ProcessExec),
    ("async_std::net", NetConnect),
    ("async_std::process", ProcessExec),
    ("reqwest", NetConnect),
    ("ureq", NetConnect),
    ("curl", NetConnect),
    ("hyper", NetConnect),
    ("isahc", NetConnect),
    ("attohttpc", NetConnect),
    ("minreq", NetConnect),
    ("surf", NetConnect),
    ("ehttp", NetConnect),
    ("http_req", NetConnect),
    ("trust_dns_resolver", NetDns),
    ("hickory_resolver", NetDns),
    ("dns_lookup", NetDns),
    ("duct", ProcessExec),
    ("subprocess", ProcessExec),
    ("xshell", ProcessExec),
];

/// Methods whose name alone is specific enough (the receiver's type is unknown to a parser).
const METHODS: &[(&str, FindingKind)] = &[("to_socket_addrs", NetDns)];

/// The kind of a call to the function at `path` (`["std", "fs", "remove_file"]`), if dangerous.
pub fn classify_path(path: &str) -> Option<FindingKind> {
    if let Some((_, k)) = EXACT.iter().find(|(p, _)| *p == path) {
        return Some(*k);
    }
    // `core::`/`alloc::` re-exports name the same items as `std::`.
    if let Some(rest) = path
        .strip_prefix("core::")
        .or_else(|| path.strip_prefix("alloc::"))
    {
        return classify_path(&format!("std::{rest}"));
    }
    PREFIXES
        .iter()
        .find(|(p, _)| {
            path == *p
                || path
                    .strip_prefix(p)
                    .is_some_and(|r| r.starts_with("::") || r.starts_with('_'))
        })
        .map(|(_, k)| *k)
}

/// The kind of a method call by its name alone.
pub fn classify_method(name: &str) -> Option<FindingKind> {
    METHODS.iter().find(|(m, _)| *m == name).map(|(_, k)| *k)
}

/// Foreign functions (`extern "C" { fn connect(…); }`) by their C name.
pub fn classify_foreign(name: &str) -> Option<FindingKind> {
    classify_path(&format!("libc::{name}"))
}

/// x86-64 syscall numbers that matter, for `syscall(N, …)` with a constant N.
pub fn classify_syscall_number(n: u64) -> Option<(FindingKind, &'static str)> {
    Some(match n {
        2 => (FsRead, "open"),
        257 => (FsRead, "openat"),
        85 => (FsWrite, "creat"),
        87 => (FsDelete, "unlink"),
        263 => (FsDelete, "unlinkat"),
        84 => (FsDelete, "rmdir"),
        42 => (NetConnect, "connect"),
        44 => (NetConnect, "sendto"),
        49 => (NetListen, "bind"),
        50 => (NetListen, "listen"),
        59 => (ProcessExec, "execve"),
        322 => (ProcessExec, "execveat"),
        _ => return None,
    })
}

/// `SYS_connect`-style constant names for `syscall(libc::SYS_connect, …)`.
pub fn classify_syscall_name(name: &str) -> Option<FindingKind> {
    let call = name.strip_prefix("SYS_")?;
    classify_foreign(call).or(match call {
        "execveat" => Some(ProcessExec),
        "openat2" => Some(FsRead),
        _ => None,
    })
}

/// Variables cargo sets for build scripts and rustc: reading them is how a build script learns
/// its job, not information about the machine.
pub fn is_cargo_build_variable(name: &str) -> bool {
    !is_secret_name(name) && is_cargo_name(name)
}

fn is_cargo_name(name: &str) -> bool {
    ["CARGO_", "RUSTC", "RUSTDOC", "DEP_"]
        .iter()
        .any(|p| name.starts_with(p))
        || matches!(
            name,
            "OUT_DIR"
                | "TARGET"
                | "HOST"
                | "PROFILE"
                | "OPT_LEVEL"
                | "DEBUG"
                | "NUM_JOBS"
                | "RUSTFLAGS"
        )
}

/// Environment variable names that look like secrets.
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    [
        "TOKEN",
        "KEY",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "CREDENTIAL",
        "PRIVATE",
    ]
    .iter()
    .any(|w| n.contains(w))
        || n.starts_with("AWS_")
        || n.starts_with("GITHUB_")
        || n.starts_with("NPM_")
        || n == "CARGO_REGISTRY_TOKEN"
        || n == "SSH_AUTH_SOCK"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_prefixes_and_aliases() {
        assert_eq!(classify_path("std::fs::remove_file"), Some(FsDelete));
        assert_eq!(
            classify_path("core::net::TcpStream::connect"),
            Some(NetConnect)
        );
        assert_eq!(classify_path("reqwest::blocking::get"), Some(NetConnect));
        assert_eq!(classify_path("reqwest"), Some(NetConnect));
        assert_eq!(classify_path("reqwestish::get"), None);
        assert_eq!(classify_path("std::fs::metadata"), None);
        assert_eq!(classify_foreign("execve"), Some(ProcessExec));
        assert_eq!(classify_syscall_name("SYS_connect"), Some(NetConnect));
        assert_eq!(classify_syscall_number(59), Some((ProcessExec, "execve")));
    }

    #[test]
    fn secret_names() {
        for s in [
            "CARGO_REGISTRY_TOKEN",
            "AWS_ACCESS_KEY_ID",
            "github_token",
            "MY_API_KEY",
            "DB_PASSWORD",
        ] {
            assert!(is_secret_name(s), "{s}");
        }
        for s in ["HOME", "OUT_DIR", "CARGO_PKG_NAME", "PATH"] {
            assert!(!is_secret_name(s), "{s}");
        }
    }
}
