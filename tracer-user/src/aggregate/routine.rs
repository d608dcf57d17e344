//! What counts as routine for a phase: the expected noise of a build (a build script reading its
//! own sources and writing its OUT_DIR, rustc reading the toolchain and writing target/, cargo
//! reading its registry). Routine behaviour is summarised, not listed; network is never routine.

use super::placeholders::Placeholders;
use crate::model::{
    Kind, Phase,
    Placeholder::{self, *},
};

/// Reads every program makes: the dynamic loader, the C library's data, process self-inspection.
const SYSTEM_READ_PREFIXES: &[&str] = &[
    "/usr/lib/",
    "/usr/lib64/",
    "/usr/share/locale/",
    "/usr/share/zoneinfo/",
    "/usr/lib/locale/",
    "/lib/",
    "/lib64/",
    "/etc/ld.so.cache",
    "/etc/ld.so.preload",
    "/etc/localtime",
    // Where Debian's `/usr/share/locale/locale.alias` really is.
    "/etc/locale.alias",
    "/proc/self/",
    "/proc/thread-self/",
    "/sys/devices/system/cpu/",
    "/sys/fs/cgroup/",
    "/proc/sys/vm/overcommit_memory",
    "/sys/kernel/mm/transparent_hugepage/",
    "/proc/meminfo",
    "/dev/null",
    "/dev/urandom",
    "/dev/random",
    "/dev/tty",
    "/dev/fd/",
    // rustc looking for the standard library's sources under its remapped path prefix.
    "/rustc/",
];

/// Writes that go nowhere.
const SINK_WRITES: &[&str] = &[
    "/dev/null",
    "/dev/tty",
    // A terminal, which is what `/dev/stdout` is in an interactive build.
    "/dev/pts/",
    "/dev/fd/",
    "/proc/self/fd/",
    "/dev/stdout",
    "/dev/stderr",
];

/// Where installed programs are: what rustc runs to link (`cc`, which is really
/// `x86_64-linux-gnu-gcc-12`, then `collect2`, `ld`…) must be one of these. Judged by the path
/// the kernel ran, so a `cc` a build script put first on rustc's `PATH` (`cargo:rustc-env`)
/// is not routine.
const SYSTEM_PROGRAMS: &[&str] = &[
    "/usr/bin/",
    "/usr/sbin/",
    "/usr/lib/",
    "/usr/libexec/",
    "/usr/local/bin/",
    "/bin/",
    "/sbin/",
    // Toolchains installed outside /usr (devtoolset, Nix, CUDA): written by root only.
    "/opt/",
    "/nix/store/",
];

/// Files cargo (through libgit2 and its TLS stack) reads in the user's home.
const CARGO_HOME_READS: &[&str] = &["/.gitconfig", "/.config/git/config", "/.config/git/ignore"];
/// System files cargo reads.
const CARGO_SYSTEM_READS: &[&str] = &[
    "/etc/gitconfig",
    "/etc/ssl/",
    "/usr/share/ca-certificates/",
    "/usr/local/ssl/",
    "/usr/lib/ssl/",
    "/etc/rustup/",
];

/// Cargo looking for configuration and version control in the workspace's and cwd's parents:
/// `<ancestor>/.cargo/config[.toml]`, `<ancestor>/.git/…`, or the directory itself.
fn config_lookup(path: &str, places: &Placeholders) -> bool {
    let base = basename(path);
    // rustup's proxy looks for a toolchain file in the same directories.
    let toolchain_file = base == "rust-toolchain" || base == "rust-toolchain.toml";
    if path.starts_with("/.cargo/config")
        || path.rsplit_once('/').is_some_and(|(d, _)| d.is_empty()) && toolchain_file
    {
        return true;
    }
    places.is_under(ConfigDir, path)
        && (toolchain_file
            || path.contains("/.cargo/config")
            || path.contains("/.git/")
            || basename(path) == ".git"
            || places.is_exactly(ConfigDir, path))
}

/// A failed read of a shared library: the dynamic loader trying each directory of its path.
pub fn is_library_search(kind: Kind, path: &str) -> bool {
    let base = basename(path);
    kind == Kind::FsRead
        && base.starts_with("lib")
        && (base.ends_with(".so") || base.contains(".so."))
}

fn starts_with_any(path: &str, prefixes: &[&str]) -> bool {
    prefixes
        .iter()
        .any(|p| path == p.trim_end_matches('/') || path.starts_with(p))
}

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// Decides routine-ness for one phase of one crate. `places` knows `$OUT_DIR`,
/// `$CARGO_MANIFEST_DIR`, `$TARGET_DIR`, `$WORKSPACE`, `$CARGO_HOME`, `$TMPDIR`, `$SYSROOT`…
/// Whether `parts` (a path's components) are one of the kernel's magic links: `/proc/<pid>/cwd`,
/// `root`, `fd/<n>`, `map_files/<range>` (also under `task/<tid>/`), `/dev/fd/<n>`. Opening one,
/// or a path through one, opens whatever it points at — which the path does not say.
pub fn is_magic_link(parts: &[&str]) -> bool {
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let is_id = |p: &str| p == "self" || p == "thread-self" || digits(p);
    let rest = match parts {
        ["dev", "fd", n] => return digits(n),
        ["proc", id, "task", tid, rest @ ..] if is_id(id) && digits(tid) => rest,
        ["proc", id, rest @ ..] if is_id(id) => rest,
        _ => return false,
    };
    match rest {
        ["cwd" | "root"] | ["map_files", _] => true,
        ["fd", n] => digits(n),
        _ => false,
    }
}

/// Whether `path` opens something through a magic link: a path that goes on past one
/// (`/proc/self/cwd/…`, `/proc/self/fd/9/…`), or a descriptor or mapping reopened by its link
/// (`/proc/self/fd/9`: an `O_PATH` handle to any file becomes a real open). Standard input,
/// output and error reopened (`/dev/fd/1`, `/proc/self/fd/2`) are not counted. Never routine,
/// whatever prefix it starts with.
pub fn through_magic_link(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let std_fd = |n: &str| matches!(n, "0" | "1" | "2");
    (1..parts.len()).any(|i| is_magic_link(&parts[..i]))
        || (is_magic_link(&parts)
            && !matches!(parts.last(), Some(&("cwd" | "root")))
            && !parts.last().is_some_and(|n| std_fd(n)))
}

/// Whether `path` is a descriptor's own link (`/dev/fd/7`, `/proc/self/fd/7`, also under
/// `task/<tid>/`): opening it reopens that descriptor's file.
pub fn reopens_descriptor(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    is_magic_link(&parts) && parts.len() >= 2 && parts[parts.len() - 2] == "fd"
}

/// Whether a file with several names (hard links) at `path` can be routine. `link(2)` is not
/// traced, and a link brings a file from anywhere on the filesystem (`~/.ssh/id_rsa`) under a
/// name that reads as the crate's own (`$OUT_DIR/k`), or into rustup's home. Only the system's
/// files (root's to link) stay routine, and cargo's and rustc's outputs in the target directory
/// outside any OUT_DIR (they hard-link there themselves: uplifted artifacts, incremental
/// objects) — but not for a build script or a proc macro, and only files of the kinds they
/// write: a secret linked in as `deps/k` and pulled into the crate by `include_bytes!` is not.
pub fn linked_may_be_routine(phase: Phase, path: &str, places: &Placeholders) -> bool {
    const OUTPUTS: &[&str] = &[".rlib", ".rmeta", ".so", ".a", ".o", ".d", ".bc", ".ll"];
    let under = |name: Placeholder| places.is_under(name, path);
    let output = OUTPUTS.iter().any(|e| path.ends_with(e)) || path.contains("/incremental/");
    starts_with_any(path, SYSTEM_READ_PREFIXES)
        || matches!(
            phase,
            Phase::Compile
                | Phase::Cargo
                | Phase::Test
                | Phase::Run
                | Phase::Runtime
                | Phase::Constructor
        ) && under(TargetDir)
            && !under(OutDir)
            && output
}

/// Whether `path` is in a directory of installed programs.
pub fn is_installed_program(path: &str) -> bool {
    starts_with_any(path, SYSTEM_PROGRAMS)
}

/// Secrets kept in a project's directory: a test reading its package's files is routine, a
/// read of these is not (`.env`, git's config with its credentials, keys).
fn is_project_secret(path: &str) -> bool {
    let base = basename(path);
    let env = base == ".env"
        || base
            .strip_prefix(".env.")
            .is_some_and(|rest| !matches!(rest, "example" | "sample" | "template" | "dist"));
    let git = path.contains("/.git/") && (base == "config" || base.contains("credential"));
    // A key among a test's own data (`tests/data/key.pem`, as TLS crates keep) is a fixture.
    let test_data = ["/tests/", "/testdata/", "/test-data/", "/fixtures/"]
        .iter()
        .any(|d| path.contains(d));
    let key = !test_data
        && [".pem", ".key", ".p12", ".pfx"]
            .iter()
            .any(|e| base.ends_with(e))
        || ["id_rsa", "id_ed25519", "id_ecdsa", "id_dsa"]
            .iter()
            .any(|k| base.starts_with(k));
    env || git || key || matches!(base, ".git-credentials" | ".netrc" | ".npmrc" | ".pypirc")
}

/// Credentials kept in the temporary directory: Kerberos ticket caches, ssh-agent and gpg
/// directories.
fn is_temp_credential(path: &str) -> bool {
    basename(path).starts_with("krb5cc") || path.contains("/ssh-") || path.contains("/gpg-")
}

/// Phases of a test or program, where a test's own servers are routine.
pub fn runs_programs(phase: Phase) -> bool {
    matches!(
        phase,
        Phase::Test | Phase::Run | Phase::Runtime | Phase::Constructor
    )
}

pub fn is_routine(phase: Phase, kind: Kind, path: &str, places: &Placeholders) -> bool {
    if kind.is_network() || through_magic_link(path) {
        return false;
    }
    let under = |name: Placeholder| places.is_under(name, path);
    match kind {
        Kind::FsRead if starts_with_any(path, SYSTEM_READ_PREFIXES) || under(Sysroot) => {
            return true;
        }
        Kind::FsWrite if starts_with_any(path, SINK_WRITES) => return true,
        _ => {}
    }
    let tmp_of = |prefixes: &[&str]| {
        under(TmpDir)
            && prefixes
                .iter()
                .any(|p| basename(path).starts_with(p) || path.contains(&format!("/{p}")))
    };
    match phase {
        Phase::BuildScript => match kind {
            Kind::FsRead => under(CargoManifestDir) || under(OutDir) || under(BuildDir),
            Kind::FsWrite | Kind::FsDelete => under(OutDir),
            // The script itself starting, and probing the compiler ($RUSTC). Not a program it
            // wrote into its OUT_DIR: that is new code running.
            Kind::ProcessExec => {
                (under(BuildDir) && !under(OutDir))
                    || (basename(path).starts_with("rustc") && under(Sysroot))
            }
            _ => false,
        },
        Phase::Compile => match kind {
            // rustc reads the sources of the crates whose macros it expands (for their spans:
            // `bitflags!` makes it open bitflags' own files), not only the crate's.
            Kind::FsRead => {
                under(CargoManifestDir)
                    || under(Packages)
                    || under(TargetDir)
                    || tmp_of(&["rustc", "cc", "ld"])
            }
            Kind::FsWrite | Kind::FsDelete => under(TargetDir) || tmp_of(&["rustc", "cc", "ld"]),
            Kind::ProcessExec => starts_with_any(path, SYSTEM_PROGRAMS) || under(Sysroot),
            _ => false,
        },
        Phase::Cargo => match kind {
            Kind::FsRead => {
                under(CargoHome)
                    || under(Workspace)
                    || under(TargetDir)
                    || under(Packages)
                    || config_lookup(path, places)
                    || under(Home) && CARGO_HOME_READS.iter().any(|f| path.ends_with(f))
                    || starts_with_any(path, CARGO_SYSTEM_READS)
            }
            Kind::FsWrite | Kind::FsDelete => {
                under(CargoHome) || under(TargetDir) || under(Workspace)
            }
            // Cargo runs rustc, rustdoc, build scripts and tests: that is the build itself.
            Kind::ProcessExec => under(Sysroot) || under(TargetDir) || under(CargoHome),
            _ => false,
        },
        // Tests make their scratch files under $TMPDIR (the tempfile crate, rustdoc's doctest
        // directories); only the credentials that live there are not theirs to read — nor a
        // home directory that happens to be inside it. A dependency's code running in them
        // (runtime, constructor) has the same room, no more.
        Phase::Test | Phase::Run | Phase::Runtime | Phase::Constructor => {
            let scratch = places.nearest(path) == Some(TmpDir);
            match kind {
                Kind::FsRead => {
                    (under(CargoManifestDir) && !is_project_secret(path))
                        || under(TargetDir)
                        || (scratch && !is_temp_credential(path))
                }
                Kind::FsWrite | Kind::FsDelete => under(TargetDir) || scratch,
                _ => false,
            }
        }
        Phase::ProcMacro => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_through_magic_links_are_never_routine() {
        use super::through_magic_link as m;
        for p in [
            "/proc/self/cwd/secret",
            "/proc/self/root/home/u/.ssh/id_rsa",
            "/proc/thread-self/fd/9/id",
            "/proc/123/task/124/cwd/x",
            "/dev/fd/9/x",
            "/proc/self/map_files/400000-401000",
            // An O_PATH handle (which reads nothing) reopened through its link.
            "/proc/self/fd/9",
            "/dev/fd/7",
        ] {
            assert!(m(p), "{p}");
        }
        for p in [
            "/proc/self/fd/1",
            "/proc/self/status",
            "/proc/meminfo",
            "/dev/fd/2",
            "/proc/sys/kernel/x",
        ] {
            assert!(!m(p), "{p}");
        }
    }

    use super::*;

    #[test]
    fn a_file_with_several_names_is_routine_only_as_a_compiler_output_or_a_system_file() {
        let p = places();
        let ok = |phase, path| linked_may_be_routine(phase, path, &p);
        assert!(ok(Phase::Compile, "/t/debug/deps/libserde-1a.rlib"));
        assert!(ok(Phase::Compile, "/t/debug/build/a-1/a.0x9.rcgu.o"));
        assert!(ok(Phase::BuildScript, "/usr/share/zoneinfo/UTC"));
        // The key linked into the target directory, for `include_bytes!`; or into OUT_DIR.
        assert!(!ok(Phase::Compile, "/t/debug/deps/k"));
        assert!(!ok(Phase::Compile, "/t/debug/build/a-2/out/libx.a"));
        assert!(!ok(Phase::BuildScript, "/t/debug/deps/libserde-1a.rlib"));
        assert!(!ok(
            Phase::Compile,
            "/h/.rustup/toolchains/x/lib/libstd.rlib"
        ));
    }

    fn places() -> Placeholders {
        Placeholders::new([
            (OutDir, "/t/debug/build/a-2/out"),
            (BuildDir, "/t/debug/build/a-1"),
            (CargoManifestDir, "/w/a"),
            (TargetDir, "/t"),
            (Workspace, "/w"),
            (CargoHome, "/h/.cargo"),
            (Home, "/h"),
            (TmpDir, "/tmp"),
            (Sysroot, "/h/.rustup/toolchains/x"),
        ])
    }

    #[test]
    fn tests_keep_scratch_files_in_tmpdir_but_not_its_credentials() {
        let p = places();
        for phase in [Phase::Test, Phase::Run] {
            assert!(is_routine(phase, Kind::FsWrite, "/tmp/.tmpAbC123/x", &p));
            assert!(is_routine(
                phase,
                Kind::FsDelete,
                "/tmp/rustdoctestXy/rustdoc-cfgs",
                &p
            ));
            assert!(is_routine(phase, Kind::FsRead, "/tmp/.tmpAbC123/x", &p));
            assert!(!is_routine(phase, Kind::FsRead, "/tmp/krb5cc_1000", &p));
            assert!(!is_routine(phase, Kind::FsRead, "/tmp/ssh-XYZ/agent.1", &p));
            assert!(!is_routine(phase, Kind::FsWrite, "/h/.bashrc", &p));
        }
        assert!(!is_routine(Phase::BuildScript, Kind::FsWrite, "/tmp/x", &p));
        // The package's own files, but not the secrets kept among them.
        let own = Placeholders::new([(CargoManifestDir, "/w/a"), (TmpDir, "/tmp")]);
        for phase in [Phase::Test, Phase::Runtime] {
            assert!(is_routine(
                phase,
                Kind::FsRead,
                "/w/a/tests/data.json",
                &own
            ));
            assert!(is_routine(phase, Kind::FsRead, "/w/a/.env.example", &own));
            assert!(is_routine(
                phase,
                Kind::FsRead,
                "/w/a/tests/data/key.pem",
                &own
            ));
            for secret in [
                "/w/a/.env",
                "/w/a/.env.local",
                "/w/a/.git/config",
                "/w/a/k.pem",
            ] {
                assert!(!is_routine(phase, Kind::FsRead, secret, &own), "{secret}");
            }
        }
        // A home directory inside $TMPDIR (a sandbox's) is still a home directory.
        let sandboxed = Placeholders::new([(TmpDir, "/tmp"), (Home, "/tmp/s/home")]);
        assert!(!is_routine(
            Phase::Test,
            Kind::FsRead,
            "/tmp/s/home/.netrc",
            &sandboxed
        ));
        assert!(is_routine(
            Phase::Test,
            Kind::FsRead,
            "/tmp/s/x",
            &sandboxed
        ));
    }

    #[test]
    fn build_script_noise_and_signal() {
        let p = places();
        let bs = Phase::BuildScript;
        assert!(is_routine(bs, Kind::FsRead, "/w/a/build.rs", &p));
        assert!(is_routine(
            bs,
            Kind::FsWrite,
            "/t/debug/build/a-2/out/gen.rs",
            &p
        ));
        assert!(is_routine(
            bs,
            Kind::FsRead,
            "/lib/x86_64-linux-gnu/libc.so.6",
            &p
        ));
        assert!(is_routine(
            bs,
            Kind::ProcessExec,
            "/h/.rustup/toolchains/x/bin/rustc",
            &p
        ));
        assert!(!is_routine(bs, Kind::FsRead, "/h/.ssh/id_rsa", &p));
        assert!(
            !is_routine(bs, Kind::FsWrite, "/t/debug/other", &p),
            "outside OUT_DIR"
        );
        assert!(!is_routine(bs, Kind::FsDelete, "/w/a/src/lib.rs", &p));
        assert!(!is_routine(bs, Kind::ProcessExec, "/usr/bin/sh", &p));
        assert!(!is_routine(bs, Kind::NetConnect, "127.0.0.1:9", &p));
    }

    #[test]
    fn rustc_reads_the_sources_of_the_crates_whose_macros_it_expands() {
        let p = Placeholders::new([
            (CargoManifestDir, "/w/a"),
            (Packages, "/h/.cargo/registry/src/i/bitflags-2.1.0"),
            (Home, "/h"),
        ]);
        let dep = "/h/.cargo/registry/src/i/bitflags-2.1.0/src/internal.rs";
        assert!(is_routine(Phase::Compile, Kind::FsRead, dep, &p));
        // Not a build script's or a proc macro's business, and no other file of the home.
        assert!(!is_routine(Phase::BuildScript, Kind::FsRead, dep, &p));
        assert!(!is_routine(Phase::ProcMacro, Kind::FsRead, dep, &p));
        assert!(!is_routine(
            Phase::Compile,
            Kind::FsRead,
            "/h/.ssh/id_rsa",
            &p
        ));
        assert!(!is_routine(Phase::Compile, Kind::FsWrite, dep, &p));
    }

    #[test]
    fn compiler_and_cargo_noise() {
        let p = places();
        assert!(is_routine(
            Phase::Compile,
            Kind::FsWrite,
            "/t/debug/deps/liba-1.rlib",
            &p
        ));
        assert!(is_routine(
            Phase::Compile,
            Kind::ProcessExec,
            "/usr/bin/cc",
            &p
        ));
        assert!(is_routine(
            Phase::Compile,
            Kind::FsDelete,
            "/tmp/rustcAbC/symbols.o",
            &p
        ));
        assert!(!is_routine(Phase::Compile, Kind::FsRead, "/etc/passwd", &p));
        assert!(is_routine(
            Phase::Cargo,
            Kind::FsRead,
            "/h/.cargo/registry/index/x",
            &p
        ));
        assert!(!is_routine(
            Phase::Cargo,
            Kind::ProcessExec,
            "/usr/bin/git",
            &p
        ));
        assert!(!is_routine(
            Phase::ProcMacro,
            Kind::FsRead,
            "/etc/hostname",
            &p
        ));
    }
}
