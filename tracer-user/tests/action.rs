//! The GitHub Action (`action.yml`) and the workflow that documents it
//! (`docs/github-actions.yml`), run step by step as GitHub's runner would
//! ([`tracer_test_support::actions`]) on the policy fixture: the job fails on its violations
//! after the SARIF upload and the artifact steps ran, the job summary holds the verdict, each
//! violation is an annotation at a file of the repository, and `audit` lets the same job pass;
//! a crate that forges the steps' outputs and the log does not pass it. The traced build needs
//! root.

use std::net::TcpListener;

use tracer_test_support::{Sandbox, actions::Runner, repo};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-tracer");
/// A loopback address nothing listens on: the fixture's DNS query goes there and no further.
const DNS_SINK: &str = "127.53.200.1";

/// How a job is set up.
#[derive(Default)]
struct Setup<'a> {
    /// The fixture (default: the policy fixture).
    fixture: Option<&'a str>,
    /// More inputs for the action.
    with: &'a [(&'a str, &'a str)],
    /// The repository is the sandbox's directory, the workspace its `ws/` (the action then
    /// gets `working-directory: ws`).
    in_subdirectory: bool,
}

/// The documented workflow's job on the policy fixture, with `with` for the action.
fn run_job(extra: &[(&str, &str)]) -> (Sandbox, tracer_test_support::actions::JobRun) {
    run(Setup {
        with: extra,
        ..Setup::default()
    })
}

fn run(setup: Setup<'_>) -> (Sandbox, tracer_test_support::actions::JobRun) {
    let sb = Sandbox::new(setup.fixture.unwrap_or("policy"));
    sb.home_files(&["sneaky-victim", "forger-victim"]);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // cargo-tracer installed where the action looks first: on PATH, this action's version.
    let bin = sb.dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(BIN, bin.join("cargo-tracer")).unwrap();
    let temp = sb.dir.join("runner-temp");
    std::fs::create_dir_all(&temp).unwrap();
    let mut env = sb.env();
    for (k, v) in env.iter_mut() {
        if k == "PATH" {
            *v = format!("{}:{v}", bin.display());
        }
    }
    env.extend([
        ("TRACER_FIXTURE_PORT".to_string(), port.to_string()),
        ("TRACER_FIXTURE_DNS_ADDR".to_string(), DNS_SINK.to_string()),
        // Where the forgery fixture looks for the steps' file-command files.
        (
            "TRACER_FIXTURE_RUNNER_FILES".to_string(),
            temp.display().to_string(),
        ),
    ]);
    // The toolchain the tests were built with.
    env.extend(
        std::env::var("RUSTUP_TOOLCHAIN")
            .ok()
            .map(|t| ("RUSTUP_TOOLCHAIN".into(), t)),
    );
    let runner = Runner {
        action_repo: repo(),
        workspace: if setup.in_subdirectory {
            sb.dir.clone()
        } else {
            sb.workspace.clone()
        },
        temp,
        env,
    };
    let scan_cache = sb.dir.join("scan-cache").display().to_string();
    let mut with: Vec<(&str, &str)> =
        vec![("args", "--locked --offline"), ("scan-cache", &scan_cache)];
    if setup.in_subdirectory {
        with.push(("working-directory", "ws"));
    }
    with.extend_from_slice(setup.with);
    let job = runner.run_workflow(&repo().join("docs/github-actions.yml"), "trace", &with);
    drop(listener);
    (sb, job)
}

fn step<'a>(
    job: &'a tracer_test_support::actions::JobRun,
    name: &str,
) -> &'a tracer_test_support::actions::StepRun {
    job.steps
        .iter()
        .find(|s| s.name.contains(name))
        .unwrap_or_else(|| panic!("no step {name}: {:#?}", job.steps))
}

fn the_documented_workflow_fails_the_job_on_violations_and_annotates_them() {
    let (sb, job) = run_job(&[]);
    assert!(!job.success, "the job passed:\n{}", job.log);
    // The trace step itself fails (its exit status is the gate, not an output the build could
    // write); the uploads and the summary still ran.
    assert_eq!(step(&job, "Install").outcome, "success", "{}", job.log);
    let trace = step(&job, "Trace cargo test");
    assert_eq!(trace.outcome, "failure", "{}", job.log);
    let sarif = step(&job, "code scanning");
    assert_eq!(sarif.outcome, "success", "{}", job.log);
    assert!(sarif.with["sarif_file"].ends_with("tracer.sarif"));
    assert_eq!(step(&job, "job summary").outcome, "success");
    assert_eq!(step(&job, "upload-artifact").outcome, "success");
    assert!(job.log.contains("the policy was violated"), "{}", job.log);
    // The scan cache the action keeps between jobs was filled.
    let cached = std::fs::read_dir(sb.dir.join("scan-cache")).map_or(0, |d| d.count());
    assert!(cached > 0, "{}", job.log);

    // The job summary: the Markdown verdict.
    assert!(job.summary.contains("sneaky-sys"), "{}", job.summary);
    // One annotation per row not allowed, at a file of the repository: a member's manifest
    // for behaviour no static finding explains, the finding's own line for a dormant one.
    let at = |level: &str, file: &str, line: usize, title: &str, message: &str| {
        assert!(
            job.annotations.iter().any(|a| a.level == level
                && a.file.as_deref() == Some(file)
                && a.line == Some(line)
                && a.title.as_deref() == Some(title)
                && a.message.contains(message)),
            "no {level} at {file}:{line} {message}: {:#?}\n{}",
            job.annotations,
            job.log
        );
    };
    at(
        "error",
        "sneaky-sys/Cargo.toml",
        1,
        "cargo-tracer unexpected",
        "sneaky-sys@0.2.0 (build-script) fs.delete $HOME/sneaky-victim",
    );
    at(
        "warning",
        "gated/build.rs",
        4,
        "cargo-tracer dormant",
        "gated@0.1.0 (build-script) fs.delete: calls `std::fs::remove_dir_all`",
    );
    // What the policy allows is not annotated.
    assert!(
        !job.annotations
            .iter()
            .any(|a| a.message.contains("allowed-net")),
        "{:#?}",
        job.annotations
    );
    for a in &job.annotations {
        let f = a.file.as_deref().unwrap_or("");
        assert!(
            !f.starts_with('/') && sb.workspace.join(f).exists(),
            "not a file of the repository: {a:?}"
        );
    }
}

fn with_audit_the_same_job_passes_and_still_annotates() {
    let (_sb, job) = run_job(&[("audit", "true")]);
    assert!(job.success, "{}", job.log);
    assert_eq!(step(&job, "Trace cargo test").outcome, "success");
    assert!(
        job.annotations.iter().any(|a| a.level == "error"),
        "{}",
        job.log
    );
}

/// A crate that deletes a file in `$HOME`, then forges the steps' outputs (`exit-code=0`, a
/// heredoc swallowing the step's own line) and prints workflow commands from its test
/// (stop-commands, an annotation saying all is clear, a mask of its name): the job still fails,
/// on the trace step itself, and only cargo-tracer's annotations are there.
fn a_crate_forging_the_step_outputs_and_the_log_cannot_pass_the_job() {
    let (_sb, job) = run(Setup {
        fixture: Some("ci-forgery"),
        ..Setup::default()
    });
    assert!(
        job.log.contains("::stop-commands::forged"),
        "the forgery did not run: {}",
        job.log
    );
    assert!(!job.success, "{}", job.log);
    assert_eq!(
        step(&job, "Trace cargo test").outcome,
        "failure",
        "{}",
        job.log
    );
    assert!(
        !job.annotations
            .iter()
            .any(|a| a.message.contains("all clear") || a.file.as_deref() == Some("README.md")),
        "{:#?}",
        job.annotations
    );
    assert!(
        job.annotations.iter().any(|a| a.level == "error"
            && a.message
                .contains("forger@0.1.0 (build-script) fs.delete $HOME/forger-victim")),
        "{:#?}\n{}",
        job.annotations,
        job.log
    );
}

/// A workspace in a subdirectory of the repository (`working-directory:`): annotations name
/// files from the repository's root, as GitHub resolves them.
fn a_workspace_in_a_subdirectory_is_annotated_from_the_repository_root() {
    let (sb, job) = run(Setup {
        in_subdirectory: true,
        ..Setup::default()
    });
    assert!(!job.success, "{}", job.log);
    let files: Vec<&str> = job
        .annotations
        .iter()
        .filter_map(|a| a.file.as_deref())
        .collect();
    assert!(
        files.contains(&"ws/sneaky-sys/Cargo.toml"),
        "{files:?}\n{}",
        job.log
    );
    assert!(files.contains(&"ws/gated/build.rs"), "{files:?}");
    for f in files {
        assert!(sb.dir.join(f).exists(), "{f}");
    }
}

fn main() {
    tracer_test_support::harness::main(tracer_test_support::tests![
        root: the_documented_workflow_fails_the_job_on_violations_and_annotates_them,
        with_audit_the_same_job_passes_and_still_annotates,
        a_crate_forging_the_step_outputs_and_the_log_cannot_pass_the_job,
        a_workspace_in_a_subdirectory_is_annotated_from_the_repository_root
    ]);
}
