//! The dangerous operations, by the path of the function or type that performs them.

use crate::model::{
    FindingKind::{self, *},
    Kind,
};

/// Exact paths (after `use` resolution) and the kind they stand for.
const EXACT: &[(&str, FindingKind)] = &[
    // std::fs and friends
    ("std::fs::read", Does(Kind::FsRead)),
    ("std::fs::read_to_string", Does(Kind::FsRead)),
    ("std::fs::read_dir", Does(Kind::FsRead)),
    ("std::fs::read_link", Does(Kind::FsRead)),
    ("std::fs::File::open", Does(Kind::FsRead)),
    ("std::fs::copy", Does(Kind::FsWrite)),
    ("std::fs::write", Does(Kind::FsWrite)),
    ("std::fs::File::create", Does(Kind::FsWrite)),
    ("std::fs::File::create_new", Does(Kind::FsWrite)),
    ("std::fs::OpenOptions::new", Does(Kind::FsWrite)),
    ("std::fs::create_dir", Does(Kind::FsWrite)),
    ("std::fs::create_dir_all", Does(Kind::FsWrite)),
    ("std::fs::rename", Does(Kind::FsWrite)),
    ("std::fs::hard_link", Does(Kind::FsWrite)),
    ("std::fs::set_permissions", Does(Kind::FsWrite)),
    ("std::os::unix::fs::symlink", Does(Kind::FsWrite)),
    ("std::fs::remove_file", Does(Kind::FsDelete)),
    ("std::fs::remove_dir", Does(Kind::FsDelete)),
    ("std::fs::remove_dir_all", Does(Kind::FsDelete)),
    ("std::env::home_dir", EnvRead),
    ("std::env::var", EnvRead),
    ("std::env::var_os", EnvRead),
    ("std::env::vars", EnvRead),
    ("std::env::vars_os", EnvRead),
    // std::net
    ("std::net::TcpStream::connect", Does(Kind::NetConnect)),
    (
        "std::net::TcpStream::connect_timeout",
        Does(Kind::NetConnect),
    ),
    ("std::net::UdpSocket::connect", Does(Kind::NetConnect)),
    ("std::net::UdpSocket::send_to", Does(Kind::NetConnect)),
    (
        "std::os::unix::net::UnixStream::connect",
        Does(Kind::NetConnect),
    ),
    (
        "std::os::unix::net::UnixDatagram::connect",
        Does(Kind::NetConnect),
    ),
    ("std::net::TcpListener::bind", Does(Kind::NetListen)),
    ("std::net::UdpSocket::bind", Does(Kind::NetListen)),
    (
        "std::os::unix::net::UnixListener::bind",
        Does(Kind::NetListen),
    ),
    (
        "std::net::ToSocketAddrs::to_socket_addrs",
        Does(Kind::NetDns),
    ),
    // std::process
    ("std::process::Command::new", Does(Kind::ProcessExec)),
    (
        "std::os::unix::process::CommandExt::exec",
        Does(Kind::ProcessExec),
    ),
    // libc
    ("libc::open", Does(Kind::FsRead)),
    ("libc::openat", Does(Kind::FsRead)),
    ("libc::fopen", Does(Kind::FsRead)),
    ("libc::creat", Does(Kind::FsWrite)),
    ("libc::rename", Does(Kind::FsWrite)),
    ("libc::renameat", Does(Kind::FsWrite)),
    ("libc::unlink", Does(Kind::FsDelete)),
    ("libc::unlinkat", Does(Kind::FsDelete)),
    ("libc::rmdir", Does(Kind::FsDelete)),
    ("libc::remove", Does(Kind::FsDelete)),
    ("libc::connect", Does(Kind::NetConnect)),
    ("libc::sendto", Does(Kind::NetConnect)),
    ("libc::bind", Does(Kind::NetListen)),
    ("libc::listen", Does(Kind::NetListen)),
    ("libc::getaddrinfo", Does(Kind::NetDns)),
    ("libc::gethostbyname", Does(Kind::NetDns)),
    ("libc::execve", Does(Kind::ProcessExec)),
    ("libc::execv", Does(Kind::ProcessExec)),
    ("libc::execvp", Does(Kind::ProcessExec)),
    ("libc::execvpe", Does(Kind::ProcessExec)),
    ("libc::execl", Does(Kind::ProcessExec)),
    ("libc::execlp", Does(Kind::ProcessExec)),
    ("libc::fexecve", Does(Kind::ProcessExec)),
    ("libc::system", Does(Kind::ProcessExec)),
    ("libc::popen", Does(Kind::ProcessExec)),
    ("libc::posix_spawn", Does(Kind::ProcessExec)),
    ("libc::posix_spawnp", Does(Kind::ProcessExec)),
    ("libc::fork", Does(Kind::ProcessExec)),
    // Detaching from the parent: how a daemon outlives the code that started it.
    ("libc::setsid", Does(Kind::ProcessPersist)),
    ("libc::daemon", Does(Kind::ProcessPersist)),
    ("libc::getenv", EnvRead),
    ("libc::syscall", RawSyscall),
    // nix / rustix
    ("nix::unistd::unlink", Does(Kind::FsDelete)),
    ("nix::unistd::execv", Does(Kind::ProcessExec)),
    ("nix::unistd::execve", Does(Kind::ProcessExec)),
    ("nix::unistd::execvp", Does(Kind::ProcessExec)),
    ("nix::unistd::fork", Does(Kind::ProcessExec)),
    ("nix::unistd::setsid", Does(Kind::ProcessPersist)),
    ("nix::unistd::daemon", Does(Kind::ProcessPersist)),
    ("daemonize::Daemonize::start", Does(Kind::ProcessPersist)),
    ("nix::sys::socket::connect", Does(Kind::NetConnect)),
    ("nix::sys::socket::bind", Does(Kind::NetListen)),
    ("nix::sys::socket::listen", Does(Kind::NetListen)),
    ("nix::fcntl::open", Does(Kind::FsRead)),
    ("nix::fcntl::openat", Does(Kind::FsRead)),
    ("rustix::fs::unlinkat", Does(Kind::FsDelete)),
    ("rustix::fs::open", Does(Kind::FsRead)),
    ("rustix::fs::openat", Does(Kind::FsRead)),
    ("rustix::net::connect", Does(Kind::NetConnect)),
    ("rustix::net::bind", Does(Kind::NetListen)),
    ("rustix::net::listen", Does(Kind::NetListen)),
    ("rustix::process::execve", Does(Kind::ProcessExec)),
];

/// Path prefixes: any use of these modules or crates is that kind.
const PREFIXES: &[(&str, FindingKind)] = &[
    ("tokio::fs::remove", Does(Kind::FsDelete)),
    ("tokio::fs::write", Does(Kind::FsWrite)),
    ("tokio::fs::read", Does(Kind::FsRead)),
    ("tokio::net::TcpStream", Does(Kind::NetConnect)),
    ("tokio::net::UdpSocket", Does(Kind::NetConnect)),
    ("tokio::net::UnixStream", Does(Kind::NetConnect)),
    ("tokio::net::TcpListener", Does(Kind::NetListen)),
    ("tokio::net::UnixListener", Does(Kind::NetListen)),
    ("tokio::net::lookup_host", Does(Kind::NetDns)),
    ("tokio::process::Command", Does(Kind::ProcessExec)),
    ("async_std::net", Does(Kind::NetConnect)),
    ("async_std::process", Does(Kind::ProcessExec)),
    ("reqwest", Does(Kind::NetConnect)),
    ("ureq", Does(Kind::NetConnect)),
    ("curl", Does(Kind::NetConnect)),
    ("hyper", Does(Kind::NetConnect)),
    ("isahc", Does(Kind::NetConnect)),
    ("attohttpc", Does(Kind::NetConnect)),
    ("minreq", Does(Kind::NetConnect)),
    ("surf", Does(Kind::NetConnect)),
    ("ehttp", Does(Kind::NetConnect)),
    ("http_req", Does(Kind::NetConnect)),
    ("trust_dns_resolver", Does(Kind::NetDns)),
    ("hickory_resolver", Does(Kind::NetDns)),
    ("dns_lookup", Does(Kind::NetDns)),
    ("duct", Does(Kind::ProcessExec)),
    ("subprocess", Does(Kind::ProcessExec)),
    ("xshell", Does(Kind::ProcessExec)),
];

/// Methods whose name alone is specific enough (the receiver's type is unknown to a parser).
const METHODS: &[(&str, FindingKind)] = &[("to_socket_addrs", Does(Kind::NetDns))];

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
        2 => (Does(Kind::FsRead), "open"),
        257 => (Does(Kind::FsRead), "openat"),
        85 => (Does(Kind::FsWrite), "creat"),
        87 => (Does(Kind::FsDelete), "unlink"),
        263 => (Does(Kind::FsDelete), "unlinkat"),
        84 => (Does(Kind::FsDelete), "rmdir"),
        42 => (Does(Kind::NetConnect), "connect"),
        44 => (Does(Kind::NetConnect), "sendto"),
        49 => (Does(Kind::NetListen), "bind"),
        50 => (Does(Kind::NetListen), "listen"),
        59 => (Does(Kind::ProcessExec), "execve"),
        322 => (Does(Kind::ProcessExec), "execveat"),
        _ => return None,
    })
}

/// `SYS_connect`-style constant names for `syscall(libc::SYS_connect, …)`.
pub fn classify_syscall_name(name: &str) -> Option<FindingKind> {
    let call = name.strip_prefix("SYS_")?;
    classify_foreign(call).or(match call {
        "execveat" => Some(Does(Kind::ProcessExec)),
        "openat2" => Some(Does(Kind::FsRead)),
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
        assert_eq!(
            classify_path("std::fs::remove_file"),
            Some(Does(Kind::FsDelete))
        );
        assert_eq!(
            classify_path("core::net::TcpStream::connect"),
            Some(Does(Kind::NetConnect))
        );
        assert_eq!(
            classify_path("reqwest::blocking::get"),
            Some(Does(Kind::NetConnect))
        );
        assert_eq!(classify_path("reqwest"), Some(Does(Kind::NetConnect)));
        assert_eq!(classify_path("reqwestish::get"), None);
        assert_eq!(classify_path("std::fs::metadata"), None);
        assert_eq!(classify_foreign("execve"), Some(Does(Kind::ProcessExec)));
        assert_eq!(
            classify_syscall_name("SYS_connect"),
            Some(Does(Kind::NetConnect))
        );
        assert_eq!(
            classify_syscall_number(59),
            Some((Does(Kind::ProcessExec), "execve"))
        );
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
