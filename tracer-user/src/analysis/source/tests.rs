use super::*;

fn scan(src: &str) -> Vec<Finding> {
    scan_text(src, "build.rs", TargetKind::BuildScript)
}

fn has(f: &[Finding], kind: FindingKind, target: Option<&str>) -> bool {
    f.iter()
        .any(|x| x.kind == kind && (target.is_none() || x.target.as_deref() == target))
}

fn find(f: &[Finding], kind: FindingKind) -> &Finding {
    f.iter()
        .find(|x| x.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} in {f:#?}"))
}

#[test]
fn every_category_through_std() {
    let f = scan(
        r#"
use std::{fs, net::TcpStream, process::Command};
fn main() {
    let _ = fs::read_to_string("/home/u/.ssh/id_rsa");
    let _ = fs::write("/tmp/x", b"y");
    let _ = fs::remove_file("/tmp/x");
    let _ = TcpStream::connect("10.1.2.3:4444");
    let _ = std::net::TcpListener::bind("0.0.0.0:31337");
    let _ = "evil.example.com:80".to_socket_addrs();
    let _ = Command::new("curl").arg("x").status();
    let _ = std::env::var("CARGO_REGISTRY_TOKEN");
}
"#,
    );
    assert!(has(
        &f,
        FindingKind::Does(Kind::FsRead),
        Some("/home/u/.ssh/id_rsa")
    ));
    assert!(has(&f, FindingKind::Does(Kind::FsWrite), Some("/tmp/x")));
    assert!(has(&f, FindingKind::Does(Kind::FsDelete), Some("/tmp/x")));
    assert!(has(
        &f,
        FindingKind::Does(Kind::NetConnect),
        Some("10.1.2.3:4444")
    ));
    assert!(has(
        &f,
        FindingKind::Does(Kind::NetListen),
        Some("0.0.0.0:31337")
    ));
    assert!(has(
        &f,
        FindingKind::Does(Kind::NetDns),
        Some("evil.example.com:80")
    ));
    assert!(has(&f, FindingKind::Does(Kind::ProcessExec), Some("curl")));
    let env = find(&f, FindingKind::EnvRead);
    assert!(env.secret && env.target.as_deref() == Some("CARGO_REGISTRY_TOKEN"));
    let del = find(&f, FindingKind::Does(Kind::FsDelete));
    assert_eq!((del.location.line, del.location.column), (6, 13));
    assert_eq!(del.code, r#"let _ = fs::remove_file("/tmp/x");"#);
    assert_eq!(del.reason, "calls `std::fs::remove_file`");
}

#[test]
fn aliases_renames_globs_and_values() {
    let f = scan("use std::fs as f;\nfn a() { f::remove_file(\"a\").ok(); }");
    assert!(has(&f, FindingKind::Does(Kind::FsDelete), Some("a")));
    let f = scan("use std::fs::*;\nfn a() { remove_dir_all(\"b\").ok(); }");
    assert!(has(&f, FindingKind::Does(Kind::FsDelete), Some("b")));
    let f = scan("use std::process::Command as C;\nfn a() { C::new(\"sh\"); }");
    assert!(has(&f, FindingKind::Does(Kind::ProcessExec), Some("sh")));
    let f = scan(
        "fn a(v: Vec<&str>) { v.into_iter().for_each(|p| { let _ = p; }); let _ = [\"x\"].map(std::fs::remove_file); }",
    );
    assert!(has(&f, FindingKind::Does(Kind::FsDelete), None));
    // Not dangerous: metadata, a local function called remove_file.
    let f = scan(
        "fn remove_file(_: &str) {}\nfn a() { std::fs::metadata(\"x\").ok(); remove_file(\"y\"); }",
    );
    assert!(!has(&f, FindingKind::Does(Kind::FsDelete), None), "{f:#?}");
}

#[test]
fn libc_nix_raw_syscalls_asm_and_foreign_declarations() {
    let f = scan(
        "fn a() { unsafe { libc::connect(3, std::ptr::null(), 0); libc::syscall(libc::SYS_execve, 0); libc::syscall(87); libc::syscall(n()); } }",
    );
    assert!(has(&f, FindingKind::Does(Kind::NetConnect), None));
    assert!(
        f.iter()
            .any(|x| x.kind == FindingKind::Does(Kind::ProcessExec)
                && x.reason.contains("SYS_execve"))
    );
    assert!(
        f.iter()
            .any(|x| x.kind == FindingKind::Does(Kind::FsDelete) && x.reason.contains("unlink"))
    );
    assert!(has(&f, FindingKind::RawSyscall, None));
    let f = scan("use nix::unistd::execv;\nfn a() { execv(c, &[]); }");
    assert!(has(&f, FindingKind::Does(Kind::ProcessExec), None));
    let f = scan("fn a() { unsafe { core::arch::asm!(\"mov eax, 59\", \"syscall\"); } }");
    assert!(has(&f, FindingKind::RawSyscall, None));
    let f = scan("unsafe extern \"C\" { fn getaddrinfo(); fn strlen(); }");
    assert!(has(&f, FindingKind::Does(Kind::NetDns), None));
    assert_eq!(f.len(), 1, "{f:#?}");
}

#[test]
fn network_crates_compile_time_capture_and_constructors() {
    let f = scan(
        "fn a() { let _ = reqwest::blocking::get(\"https://exfil.example.com/x\"); let _ = ureq::get(URL); }\nconst URL: &str = \"http://c2.example.net\";",
    );
    assert!(has(
        &f,
        FindingKind::Does(Kind::NetConnect),
        Some("https://exfil.example.com/x")
    ));
    assert!(has(
        &f,
        FindingKind::Does(Kind::NetConnect),
        Some("http://c2.example.net")
    ));
    let f = scan(
        "static K: &[u8] = include_bytes!(concat!(env!(\"HOME\"), \"/.ssh/id_rsa\"));\nstatic T: &str = include_str!(\"../../secrets.txt\");\nstatic L: &str = include_str!(\"data.txt\");",
    );
    assert_eq!(
        f.iter()
            .filter(|x| x.kind == FindingKind::CompileInclude)
            .count(),
        2,
        "{f:#?}"
    );
    let f = scan("const T: Option<&str> = option_env!(\"GITHUB_TOKEN\");");
    let e = find(&f, FindingKind::EnvRead);
    assert!(e.secret && e.reason.contains("compile time"));
    let f = scan(
        "#[used]\n#[unsafe(link_section = \".init_array\")]\nstatic INIT: extern \"C\" fn() = init;\nextern \"C\" fn init() {}",
    );
    assert!(has(&f, FindingKind::BeforeMain, None));
}

#[test]
fn literals_and_decoding_tricks() {
    let f = scan(
        "fn a() { let u = \"https://api.telegram.org/bot1/sendMessage\"; let n = \"Cargo.toml\"; }",
    );
    assert!(has(
        &f,
        FindingKind::LiteralHost,
        Some("https://api.telegram.org/bot1/sendMessage")
    ));
    assert_eq!(f.len(), 1, "{f:#?}");
    let plain = |f: &[Finding]| f.iter().filter(|x| x.obfuscated).count();
    // base64 and hex
    let f = scan(
        "fn a() { let _ = \"aHR0cHM6Ly9ldmlsLmV4YW1wbGUuY29t\"; let _ = \"6576696c2e6578616d706c652e636f6d\"; }",
    );
    assert!(has(
        &f,
        FindingKind::LiteralHost,
        Some("https://evil.example.com")
    ));
    assert!(has(&f, FindingKind::LiteralHost, Some("evil.example.com")));
    assert_eq!(plain(&f), 2);
    // XOR over a byte array
    let enc: Vec<String> = "evil.example.com"
        .bytes()
        .map(|b| (b ^ 0x55).to_string())
        .collect();
    let f = scan(&format!(
        "fn a() {{ let k = [{}]; let s: Vec<u8> = k.iter().map(|b| b ^ 0x55).collect(); }}",
        enc.join(", ")
    ));
    let x = find(&f, FindingKind::LiteralHost);
    assert!(
        x.obfuscated && x.reason.contains("XOR") && x.target.as_deref() == Some("evil.example.com")
    );
    // concat!, format! and fragments joined at run time
    let f =
        scan("fn a() { let _ = std::net::TcpStream::connect(concat!(\"10.9.8\", \".7:80\")); }");
    assert!(
        f.iter()
            .any(|x| x.kind == FindingKind::Does(Kind::NetConnect)
                && x.obfuscated
                && x.target.as_deref() == Some("10.9.8.7:80")),
        "{f:#?}"
    );
    let f = scan(
        "fn a() { let h = [\"ev\", \"il.exa\", \"mple.com\"].concat(); let g = \"https://\".to_string() + \"c2.example.org\"; }",
    );
    assert!(has(&f, FindingKind::LiteralHost, Some("evil.example.com")));
    assert!(has(
        &f,
        FindingKind::LiteralHost,
        Some("https://c2.example.org")
    ));
    let f = scan("fn a() { let _ = format!(\"{}{}\", \"https://\", \"x.example.io\"); }");
    assert!(
        has(&f, FindingKind::LiteralHost, Some("https://x.example.io")),
        "{f:#?}"
    );
}

#[test]
fn calls_inside_macros_are_seen() {
    let f = scan(
        "fn a() { println!(\"{:?}\", std::fs::read_to_string(\"/etc/passwd\")); assert!(std::process::Command::new(\"id\").status().is_ok()); }",
    );
    assert!(has(
        &f,
        FindingKind::Does(Kind::FsRead),
        Some("/etc/passwd")
    ));
    assert!(has(&f, FindingKind::Does(Kind::ProcessExec), Some("id")));
}

#[test]
fn an_unparsable_file_is_a_finding_not_a_crash() {
    let f = scan("fn a( {");
    let u = find(&f, FindingKind::Unparsed);
    assert!(u.reason.contains("could not parse"));
    assert_eq!(f.len(), 1);
}

#[test]
fn cargo_build_variables_are_not_findings_but_secrets_are() {
    let f = scan(
        "fn main() { let _ = std::env::var(\"OUT_DIR\"); let _ = std::env::var(\"CARGO_REGISTRY_TOKEN\"); let _ = env!(\"CARGO_PKG_NAME\"); }",
    );
    let envs: Vec<_> = f
        .iter()
        .filter(|x| x.kind == FindingKind::EnvRead)
        .map(|x| x.target.clone().unwrap())
        .collect();
    assert_eq!(envs, vec!["CARGO_REGISTRY_TOKEN"]);
    let f = scan(
        "include!(concat!(env!(\"OUT_DIR\"), \"/gen.rs\"));\nfn a() { let _ = std::fs::read_to_string(format!(\"{}/.aws/credentials\", h)); }",
    );
    assert!(
        !has(&f, FindingKind::CompileInclude, None),
        "generated code in OUT_DIR: {f:#?}"
    );
    assert!(
        has(
            &f,
            FindingKind::Does(Kind::FsRead),
            Some("{}/.aws/credentials")
        ),
        "the format template is shown"
    );
}
