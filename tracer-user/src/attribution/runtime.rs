//! Runtime attribution: whose code made a call inside a test or binary, from its stack.
//!
//! Frames are mapped to packages by their source file (DWARF: registry sources carry
//! `name-version`, path dependencies their own directory) or, without DWARF, by the crate in
//! the symbol's path when one package has that crate name. The responsible package is the
//! innermost one on the stack that is not a mechanism (a crate that does I/O on its callers'
//! behalf: an HTTP client, an async runtime); the chain lists every package the call came
//! through, innermost first. Code before `main` (`.init_array`) is a constructor.
//!
//! A stack is evidence the traced code wrote itself: code in the process can make a call look
//! like another crate's (a forged return address, a thread whose start routine is libc's).
//! So only a stack that names a package changes who is blamed; one that names none leaves
//! the call with the program's package, judged as its own, never dropped.

use crate::trace::stack::{CallStack, Frame, StackEnd};

use super::Index;

/// Whose code made a call, from its stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Responsible {
    /// `None` when only mechanisms are on the stack (a client's own thread): the caller is
    /// not on it, and the program's package keeps the call.
    pub package: Option<usize>,
    /// It ran before `main`.
    pub constructor: bool,
    /// Packages on the stack, innermost first, each once.
    pub chain: Vec<usize>,
}

/// The package a frame's code belongs to: by the crate its symbol names (rustc names the
/// crate it compiled the code in) and by its DWARF source file; when they disagree, the file —
/// a symbol is a name the code may give itself (`export_name`), a file is where rustc read it.
/// std's frames (`/rustc/<hash>/library/…`) are nobody's.
pub fn package_of_frame(index: &Index, f: &Frame) -> Option<usize> {
    let by_symbol = f
        .function
        .as_deref()
        .and_then(crate_of_symbol)
        .and_then(|c| index.package_of_crate(c));
    let by_file = f
        .file
        .as_deref()
        .and_then(source_path)
        .and_then(|p| index.package_of_source(&p));
    by_file.or(by_symbol)
}

/// A DWARF file name as the file it is: `/proc/self/root/…` stripped (rustc keeps such a path
/// as written, and it starts with no package's directory) and `..` resolved (`a/../b/x.rs` is
/// in `b`). `None` for a path through another of `/proc`'s links, which names nothing lexically.
fn source_path(file: &str) -> Option<String> {
    let mut rest = file;
    while let Some(after) = rest.strip_prefix("/proc/") {
        let (who, tail) = after.split_once('/')?;
        let root = tail.strip_prefix("root")?;
        let own = who == "self" || who == "thread-self" || who.bytes().all(|b| b.is_ascii_digit());
        if !own || !(root.is_empty() || root.starts_with('/')) {
            return None;
        }
        rest = root;
    }
    if !rest.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for p in rest.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            _ => parts.push(p),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// `rust_decimals::payload` → `rust_decimals`; `<rust_decimals::Decimal>::new` and
/// `<app::X as core::fmt::Debug>::fmt` → the crate of the type.
fn crate_of_symbol(name: &str) -> Option<&str> {
    let s = name.trim_start_matches('<').trim_start_matches('&');
    let s = s.strip_prefix("mut ").unwrap_or(s);
    let (head, _) = s.split_once("::")?;
    (!head.is_empty() && head.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .then_some(head)
}

/// Whether the stack is code running before `main`: the walk reached the program's start and
/// passed through libc's start routine but not through `main`.
fn before_main(stack: &CallStack) -> bool {
    stack.end == StackEnd::Root
        && !stack
            .frames
            .iter()
            .any(|f| f.function.as_deref() == Some("main"))
        && stack.frames.iter().any(|f| {
            f.function
                .as_deref()
                .is_some_and(|n| n.starts_with("__libc_start_main"))
        })
}

/// Who is responsible for a call with `stack`; `None` when the stack names no package.
pub fn responsible(index: &Index, stack: &CallStack) -> Option<Responsible> {
    let mut chain: Vec<usize> = Vec::new();
    for f in &stack.frames {
        if let Some(p) = package_of_frame(index, f)
            && !chain.contains(&p)
        {
            chain.push(p);
        }
    }
    if chain.is_empty() {
        return None;
    }
    let is_mechanism = |p: &usize| index.mechanisms.contains(&index.packages[*p].name);
    let package = chain.iter().copied().find(|p| !is_mechanism(p));
    Some(Responsible {
        package,
        constructor: before_main(stack),
        chain,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Package;

    /// app (the workspace) → payload → net-helper, and a registry crate in two versions.
    fn index() -> Index {
        let mut ix = Index::default();
        for (i, (id, dir)) in [
            ("path+file:///w/app#0.1.0", "/w/app"),
            (
                "path+file:///w/app/vendor/payload#1.2.3",
                "/w/app/vendor/payload",
            ),
            ("path+file:///w/net-helper#0.1.0", "/w/net-helper"),
            (
                "registry+https://github.com/rust-lang/crates.io-index#dup@1.0.0",
                "/h/.cargo/registry/src/index.crates.io-1/dup-1.0.0",
            ),
            (
                "registry+https://github.com/rust-lang/crates.io-index#dup@2.0.0",
                "/h/.cargo/registry/src/index.crates.io-1/dup-2.0.0",
            ),
        ]
        .into_iter()
        .enumerate()
        {
            ix.packages.push(Package::from_id(id).unwrap());
            ix.manifest_dirs.insert(i, dir.to_string());
        }
        for (name, p) in [
            ("app", 0),
            ("payload", 1),
            ("net_helper", 2),
            ("dup", 3),
            ("dup", 4),
        ] {
            ix.add_crate_name(name, p);
        }
        ix.out_dirs
            .insert(1, vec!["/w/app/target/debug/build/payload-1a/out".into()]);
        ix
    }

    fn frame(function: &str, file: Option<&str>) -> Frame {
        Frame {
            module: "/t/deps/app-1".into(),
            addr: 0,
            function: Some(function.into()),
            file: file.map(str::to_string),
            line: Some(1),
            inlined: false,
        }
    }

    fn stack(frames: Vec<Frame>, end: StackEnd) -> CallStack {
        CallStack { frames, end }
    }

    #[test]
    fn the_innermost_crate_that_is_not_a_mechanism_is_responsible() {
        let mut ix = index();
        let s = stack(
            vec![
                frame("connect", None),
                frame(
                    "std::net::TcpStream::connect",
                    Some("/rustc/abc/library/std/src/net/tcp.rs"),
                ),
                frame("net_helper::post", Some("/w/net-helper/src/lib.rs")),
                frame("payload::steal", Some("/w/app/vendor/payload/src/lib.rs")),
                frame("app::total", Some("/w/app/src/lib.rs")),
                frame("main", None),
            ],
            StackEnd::Root,
        );
        // Without knowing the helper is a mechanism, it is the innermost crate.
        let r = responsible(&ix, &s).unwrap();
        assert_eq!(
            (r.package, r.chain.clone(), r.constructor),
            (Some(2), vec![2, 1, 0], false)
        );
        // A path dependency inside the workspace's directory is not the workspace's.
        assert_eq!(r.chain[1], 1);
        ix.mechanisms.insert("net-helper".into());
        assert_eq!(responsible(&ix, &s).unwrap().package, Some(1));
        // Only mechanisms (a client's own thread): nobody on the stack decided.
        let client = stack(s.frames[..3].to_vec(), StackEnd::Root);
        let r = responsible(&ix, &client).unwrap();
        assert_eq!((r.package, r.chain), (None, vec![2]));
        // Only std and libc: nobody is named (the program's package keeps it).
        let none = stack(
            vec![
                frame("connect", None),
                frame("std::x", Some("/rustc/a/x.rs")),
            ],
            StackEnd::Root,
        );
        assert_eq!(responsible(&ix, &none), None);
    }

    #[test]
    fn two_versions_stay_apart_and_symbols_name_a_crate_only_when_unambiguous() {
        let ix = index();
        let v2 = frame(
            "dup::f",
            Some("/h/.cargo/registry/src/index.crates.io-1/dup-2.0.0/src/lib.rs"),
        );
        assert_eq!(package_of_frame(&ix, &v2), Some(4));
        // Without DWARF (a release build), the symbol's crate names it when one package has
        // that crate; `dup::f` could be either version: no one is named.
        assert_eq!(
            package_of_frame(&ix, &frame("<payload::D>::new", None)),
            Some(1)
        );
        assert_eq!(package_of_frame(&ix, &frame("dup::f", None)), None);
    }

    #[test]
    fn code_before_main_is_a_constructor() {
        let ix = index();
        let ctor = stack(
            vec![
                frame("payload::init", Some("/w/app/vendor/payload/src/lib.rs")),
                frame("__libc_start_main", None),
                frame("_start", None),
            ],
            StackEnd::Root,
        );
        assert!(responsible(&ix, &ctor).unwrap().constructor);
        // A thread's stack starts in libc too, but not in its start routine.
        let thread = stack(
            vec![
                frame("payload::init", Some("/w/app/vendor/payload/src/lib.rs")),
                frame("start_thread", None),
            ],
            StackEnd::Root,
        );
        assert!(!responsible(&ix, &thread).unwrap().constructor);
        // A walk cut short proves nothing about `main`.
        let cut = stack(ctor.frames[..1].to_vec(), StackEnd::Truncated);
        assert!(!responsible(&ix, &cut).unwrap().constructor);
    }

    #[test]
    fn source_files_are_what_they_name() {
        assert_eq!(
            source_path("/proc/self/root/w/app/vendor/x/../../../net-helper/src/l.rs").as_deref(),
            Some("/w/net-helper/src/l.rs")
        );
        assert_eq!(
            source_path("/proc/1/root/proc/self/root/a.rs").as_deref(),
            Some("/a.rs")
        );
        assert_eq!(source_path("/proc/self/cwd/src/lib.rs"), None);
        assert_eq!(source_path("src/lib.rs"), None);
    }

    #[test]
    fn a_frame_is_the_crate_its_file_is_in_when_its_symbol_says_otherwise() {
        let ix = index();
        // Code compiled from `/proc/self/root/<its own dir>` is still its own.
        let hidden = frame(
            "payload::hidden::go",
            Some("/proc/self/root/w/app/vendor/payload/src/imp.rs"),
        );
        assert_eq!(package_of_frame(&ix, &hidden), Some(1));
        // A file DWARF cannot tie to a package (generated, outside every package): the symbol.
        let outside = frame("payload::gen::go", Some("/elsewhere/gen.rs"));
        assert_eq!(package_of_frame(&ix, &outside), Some(1));
        // Code a build script generated is its package's, though the target directory is in
        // the workspace's; elsewhere in the build directory, nobody's.
        let generated = frame(
            "payload::gen",
            Some("/w/app/target/debug/build/payload-1a/out/g.rs"),
        );
        assert_eq!(package_of_frame(&ix, &generated), Some(1));
        let stray = frame("x::y", Some("/w/app/target/debug/build/other-2b/out/g.rs"));
        assert_eq!(package_of_frame(&ix, &stray), None);
        // A payload that names itself after the victim's function (`export_name`) is still
        // where its file is.
        let forged = frame("app::total", Some("/w/app/vendor/payload/src/lib.rs"));
        assert_eq!(package_of_frame(&ix, &forged), Some(1));
    }

    #[test]
    fn crates_of_symbols() {
        assert_eq!(
            crate_of_symbol("rust_decimals::payload"),
            Some("rust_decimals")
        );
        assert_eq!(
            crate_of_symbol("<rust_decimals::Decimal>::new"),
            Some("rust_decimals")
        );
        assert_eq!(
            crate_of_symbol("<app::X as core::fmt::Debug>::fmt"),
            Some("app")
        );
        assert_eq!(crate_of_symbol("__open"), None);
        assert_eq!(crate_of_symbol("<&mut W as Write>::write"), None);
    }
}
