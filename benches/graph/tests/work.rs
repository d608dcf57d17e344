//! Honest tests that do real work through real crates, for `cargo xtask bench test`: an axum
//! server and reqwest clients on loopback (tokio's and hyper's threads doing the I/O), zstd and
//! serde_json on files, regex over files, child processes, threads. Their behaviour is what a
//! test suite's looks like to runtime attribution: none of it should be a violation.

use std::{io::Write, path::PathBuf};

fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn serve() -> u16 {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let app = axum::Router::new().route("/", axum::routing::get(|| async { "hello" }));
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(l.local_addr().unwrap().port()).unwrap();
            axum::serve(l, app).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

#[test]
fn http_round_trips_on_loopback() {
    let port = serve();
    let client = reqwest::blocking::Client::new();
    for _ in 0..500 {
        let body = client
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .unwrap()
            .text()
            .unwrap();
        assert_eq!(body, "hello");
    }
}

#[test]
fn zstd_files_round_trip() {
    let d = scratch("zstd");
    let data: Vec<u8> = (0..64 * 1024).map(|i| (i % 251) as u8).collect();
    for i in 0..1000 {
        let p = d.join(format!("f{i}.zst"));
        std::fs::write(&p, zstd::encode_all(&data[..], 3).unwrap()).unwrap();
        let back = zstd::decode_all(std::fs::File::open(&p).unwrap()).unwrap();
        assert_eq!(back, data);
        std::fs::remove_file(&p).unwrap();
    }
}

#[test]
fn json_documents_on_disk() {
    let d = scratch("json");
    for i in 0..1500 {
        let v = serde_json::json!({"id": uuid::Uuid::new_v4(), "n": i, "at": chrono::Utc::now().to_rfc3339()});
        let p = d.join(format!("{i}.json"));
        let mut f = std::fs::File::create(&p).unwrap();
        serde_json::to_writer(&mut f, &v).unwrap();
        f.flush().unwrap();
        let r: serde_json::Value =
            serde_json::from_reader(std::fs::File::open(&p).unwrap()).unwrap();
        assert_eq!(r["n"], i);
    }
}

#[test]
fn regex_over_the_crates_own_sources() {
    let re = regex::Regex::new(r"fn\s+\w+").unwrap();
    let mut n = 0;
    for _ in 0..250 {
        for e in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests")).unwrap() {
            let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
            n += re.find_iter(&text).count();
        }
    }
    assert!(n > 0);
}

#[test]
fn child_processes() {
    for _ in 0..100 {
        assert!(std::process::Command::new("true").status().unwrap().success());
    }
}

#[test]
fn threads_doing_file_io() {
    let d = scratch("threads");
    let hs: Vec<_> = (0..8)
        .map(|t| {
            let d = d.clone();
            std::thread::spawn(move || {
                for i in 0..500 {
                    let p = d.join(format!("{t}-{i}"));
                    std::fs::write(&p, ring::digest::digest(&ring::digest::SHA256, &[t as u8]))
                        .unwrap();
                    std::fs::read(&p).unwrap();
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
}

#[tokio::test]
async fn async_file_io_on_tokios_threads() {
    let d = scratch("tokio");
    for i in 0..1000 {
        let p = d.join(format!("{i}"));
        tokio::fs::write(&p, b"x").await.unwrap();
        assert_eq!(tokio::fs::read(&p).await.unwrap(), b"x");
    }
}
