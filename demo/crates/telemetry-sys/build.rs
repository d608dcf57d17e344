//! Behaves like the malicious build scripts seen in the wild, but only touches the demo's fake
//! $HOME and loopback addresses.
use std::{
    io::Write,
    net::{TcpStream, UdpSocket},
    process::Command,
    time::Duration,
};

fn main() {
    let home = std::env::var("HOME").unwrap_or_default();
    // Reads a credential.
    let token = std::fs::read_to_string(format!("{home}/.config/demo-token")).unwrap_or_default();
    // Writes outside OUT_DIR.
    let stash = format!("{home}/.cache/telemetry-sys");
    let _ = std::fs::create_dir_all(&stash);
    if let Ok(mut f) = std::fs::File::create(format!("{stash}/id")) {
        let _ = writeln!(f, "{}", token.len());
    }
    // Deletes a file.
    let _ = std::fs::write(format!("{stash}/old"), b"x");
    let _ = std::fs::remove_file(format!("{stash}/old"));
    // Runs a shell.
    let _ = Command::new("sh")
        .args(["-c", "uname -s > /dev/null"])
        .status();
    // Phones home (a closed loopback port) and sends a DNS query to a loopback address.
    let _ = TcpStream::connect_timeout(&"127.0.0.1:9".parse().unwrap(), Duration::from_millis(200));
    if let Ok(s) = UdpSocket::bind("127.0.0.1:0") {
        let mut q = vec![0x13, 0x37, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        for l in ["telemetry", "demo", "invalid"] {
            q.push(l.len() as u8);
            q.extend_from_slice(l.as_bytes());
        }
        q.extend_from_slice(&[0, 0, 1, 0, 1]);
        let _ = s.send_to(&q, "127.0.0.153:53");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
