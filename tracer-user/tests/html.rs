//! The HTML report in a real browser: headless Chromium (Debian's `chromium`, installed by
//! `scripts/setup.sh`) loads the demo's report from a file, runs its script, and the test reads
//! the DOM it built — the matrix rows and their colours, the process tree, the filters, the
//! behaviour list of a cell — and checks that a file named like markup is shown as text with no
//! element created. A screenshot is written next to the test's temporary files.
//!
//! The browser stays off the network: the page may load nothing (its Content-Security-Policy),
//! and the flags switch off Chromium's own background requests.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use scraper::{ElementRef, Html, Selector};
use serde_json::Value;
use tracer_test_support::{repo, run};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-tracer");
/// A file name the traced code chose, to be shown and never parsed.
const HOSTILE: &str = "<img src=x onerror=alert(1)>";

fn chromium() -> PathBuf {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "{} not found: scripts/setup.sh installs Debian's chromium (or set CHROMIUM)",
        path.display()
    );
    path
}

/// Runs headless Chromium on `url` with `args`, killed after two minutes; its stdout.
fn browse(profile: &Path, url: &str, args: &[&str]) -> String {
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting chromium");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium did not finish in two minutes");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn select<'a>(root: ElementRef<'a>, css: &str) -> Vec<ElementRef<'a>> {
    root.select(&Selector::parse(css).unwrap()).collect()
}

fn text(e: ElementRef<'_>) -> String {
    e.text().collect()
}

fn classes(e: ElementRef<'_>) -> Vec<&str> {
    e.value().classes().collect()
}

/// The demo's golden trace, its token file renamed to [`HOSTILE`].
fn hostile_trace(dir: &Path) -> PathBuf {
    let bytes = std::fs::read(repo().join("tests/golden/demo-build/trace.jsonl.zst")).unwrap();
    let text = String::from_utf8(zstd::decode_all(&bytes[..]).unwrap()).unwrap();
    assert!(text.contains("demo-token"));
    let path = dir.join("demo.jsonl");
    std::fs::write(&path, text.replace("demo-token", HOSTILE)).unwrap();
    path
}

#[test]
fn the_demo_report_works_in_a_real_browser_and_shows_data_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let trace = hostile_trace(dir.path());
    // The proc macro's behaviour is allowed: its row has nothing else to show.
    let policy = dir.path().join("tracer.toml");
    std::fs::write(
        &policy,
        "[[allow]]\ncrate = \"quick-derive\"\nphase = \"proc-macro\"\n\
         reason = \"stamps the build with the host and commit\"\n\
         read = [\"/etc/hostname\"]\nexec = [\"git\"]\n",
    )
    .unwrap();
    let page = dir.path().join("report.html");
    let json = dir.path().join("report.json");
    let out = run(Command::new(BIN)
        .args(["tracer", "report"])
        .arg(&trace)
        .arg("--policy")
        .arg(&policy)
        .args(["--format", "html", "--output"])
        .arg(format!("json={}", json.display())));
    assert_eq!(out.code, 1, "{}", out.stderr);
    std::fs::write(&page, &out.stdout).unwrap();
    let verdict: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let outcome_of = |name: &str, kind: &str| -> Vec<String> {
        verdict["verdict"]["behaviors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["name"] == name && b["kind"] == kind)
            .map(|b| b["outcome"].as_str().unwrap().to_string())
            .collect()
    };
    let url = format!("file://{}", page.display());
    let profile = dir.path().join("profile");

    // As it opens.
    let dom = Html::parse_document(&browse(&profile, &url, &["--dump-dom"]));
    let root = dom.root_element();
    assert!(
        select(root, "#matrix").len() == 1,
        "the script drew no matrix: {}",
        dom.html()
    );
    assert!(
        select(root, "img").is_empty(),
        "the trace created an element"
    );

    // The matrix: one row per crate, the most suspicious first.
    let rows = select(root, "#matrix tbody tr");
    let names: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.value().attr("data-crate"))
        .collect();
    let crates: Vec<String> = verdict["crates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}@{}",
                c["name"].as_str().unwrap(),
                c["version"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(names.len(), crates.len(), "{names:?} vs {crates:?}");
    assert_eq!(names[0], "telemetry-sys@0.3.1", "{names:?}");
    // A violating cell is coloured by its outcome, as the verdict has it.
    let connect = select(rows[0], "td[data-kind=\"net.connect\"]");
    let expected = outcome_of("telemetry-sys", "net.connect");
    assert_eq!(expected.len(), 1);
    assert!(
        classes(connect[0]).contains(&format!("c-{}", expected[0]).as_str()),
        "{:?} for {expected:?}",
        classes(connect[0])
    );
    let quick = rows
        .iter()
        .find(|r| r.value().attr("data-crate") == Some("quick-derive@1.0.2"))
        .unwrap();
    assert!(!classes(*quick).contains(&"hidden"));
    let exec = select(*quick, "td[data-kind=\"process.exec\"]");
    assert!(
        classes(exec[0]).contains(&"c-allowed"),
        "{:?}",
        classes(exec[0])
    );

    // The process tree: the build script, and under it the shell it ran and the shell's child.
    let script = select(root, "#tree summary")
        .into_iter()
        .find(|s| text(*s).starts_with("build-script-build[") && text(*s).contains("telemetry-sys"))
        .expect("the demo's build script in the tree");
    let subtree = ElementRef::wrap(script.parent().unwrap()).unwrap();
    let below: Vec<String> = select(subtree, "summary").into_iter().map(text).collect();
    assert!(below.iter().any(|s| s.starts_with("sh[")), "{below:?}");
    assert!(below.iter().any(|s| s.starts_with("uname[")), "{below:?}");
    // The file named like markup is a text node of the tree, as named.
    let notable: Vec<String> = select(subtree, "li").into_iter().map(text).collect();
    assert!(
        notable
            .iter()
            .any(|n| n.contains(&format!("$HOME/.config/{HOSTILE}"))),
        "{notable:?}"
    );

    // Filtered to what is not allowed, with the reads of the build script open.
    let filtered = format!("{url}#hide=allowed,routine&sel=telemetry-sys%400.3.1%7Cfs.read");
    let dom = Html::parse_document(&browse(&profile, &filtered, &["--dump-dom"]));
    let root = dom.root_element();
    assert!(
        select(root, "img").is_empty(),
        "the trace created an element"
    );
    let hidden: Vec<&str> = select(root, "#matrix tbody tr.hidden")
        .into_iter()
        .filter_map(|r| r.value().attr("data-crate"))
        .collect();
    assert!(hidden.contains(&"quick-derive@1.0.2"), "{hidden:?}");
    assert!(!hidden.contains(&"telemetry-sys@0.3.1"), "{hidden:?}");
    let details = select(root, "#details");
    assert!(
        !classes(details[0]).contains(&"hidden"),
        "the cell named in the link is open"
    );
    let targets: Vec<String> = select(details[0], "td.target")
        .into_iter()
        .map(text)
        .collect();
    assert!(
        targets.contains(&format!("$HOME/.config/{HOSTILE}")),
        "{targets:?}"
    );
    let why = text(details[0]);
    assert!(
        why.contains("[[allow]]"),
        "the entry that would allow it: {why}"
    );

    // A picture for people (look at it: the note of the HTML work says what it shows).
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-report.png");
    let _ = std::fs::remove_file(&shot);
    browse(
        &profile,
        &filtered,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1400,1400",
        ],
    );
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    eprintln!("screenshot: {}", shot.display());
}
