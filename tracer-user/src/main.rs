//! `cargo-tracer`, run as `cargo tracer …`. The CLI edge: flags → options → use case → print →
//! exit code.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::{Context, bail};
use tracer::{
    analysis::scan::{self, ScanOptions},
    cargo::graph::Graph,
    check,
    cli::{
        self, CheckCommand, Command, DaemonCommand, Format, Outputs, PolicyCheckCommand,
        ReportCommand, ReportFormat, RunCommand, ScanCommand, ScanFormat,
    },
    output::{self, Judgement, escape::human as h, json},
    policy::{self, lint, suggest},
    report::{self, Report},
    session,
    trace::{self, Discard, Sink, jsonl},
};

/// Exit code for a failure of the tracer itself (not of the traced command), or an incomplete
/// trace.
const TRACER_FAILURE: u8 = 2;
/// Exit code when the policy is violated, or `diff` finds something new.
const VIOLATIONS: u8 = 1;

fn main() -> ExitCode {
    // Started through sudo, what cargo-tracer writes (events, reports, the scan cache) belongs
    // to the invoking user, as the build's own files do. (A half-set sudo environment is
    // reported by the command that runs the build.)
    if let Ok(Some(id)) = tracer::identity::for_command(false) {
        tracer::files::give_to(id.uid, id.gid);
    }
    let cli = match cli::try_parse(std::env::args().collect()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let result = cli::resolve(cli)
        .map_err(anyhow::Error::from)
        .and_then(dispatch);
    match result {
        Ok(code) => code,
        Err(e) => {
            // Errors can quote what a trace or a manifest holds: each line is escaped for the
            // terminal and the CI log like any other data.
            for (i, line) in format!("{e:#}").lines().enumerate() {
                let line = h(line);
                if i == 0 {
                    eprintln!("error: {line}");
                } else {
                    eprintln!("{line}");
                }
            }
            ExitCode::from(TRACER_FAILURE)
        }
    }
}

fn dispatch(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Run(r) => run(r),
        Command::Check(c) => build(c),
        Command::Report(r) => report(r),
        Command::Scan(s) => scan(s),
        Command::Suggest { events } => {
            let (_, r) = load_report(&events)?;
            print!("{}", output::toml::suggestion_file(&suggest::suggest(&r)));
            Ok(ExitCode::SUCCESS)
        }
        Command::PolicyCheck(p) => policy_check(p),
        Command::PolicyDefaults { krate } => policy_defaults(krate.as_deref()),
        Command::Diff { old, new, format } => diff(&old, &new, format),
        Command::Daemon(d) => daemon(d),
    }
}

fn daemon(d: DaemonCommand) -> anyhow::Result<ExitCode> {
    use tracer::daemon::{self, control};
    match d {
        DaemonCommand::Start {
            options,
            detach: false,
        } => {
            let last = daemon::run(&options, &mut |s| {
                eprintln!(
                    "cargo-tracer daemon (pid {}): tracing every cargo run on this machine; traces in {}",
                    s.pid,
                    h(&s.dir.display().to_string())
                );
            })?;
            eprintln!(
                "cargo-tracer daemon: stopped after {} cargo invocation(s), {} events",
                last.invocations.len(),
                last.events
            );
            Ok(ExitCode::SUCCESS)
        }
        DaemonCommand::Start {
            options,
            detach: true,
        } => daemon_start(&options),
        DaemonCommand::Status { socket, format } => {
            let status = match control::ask(&socket, control::Request::Status, DAEMON_ANSWER)? {
                control::Response::Status(s) => s,
                other => bail!("the daemon answered {other:?} to a status request"),
            };
            match format {
                Format::Json => json::write(&mut std::io::stdout().lock(), &status)?,
                Format::Human => print!("{}", daemon_status(&status)),
            }
            Ok(ExitCode::SUCCESS)
        }
        DaemonCommand::Stop(s) => daemon_stop(&s),
    }
}

/// How long a control request may take (a stop waits for every workspace to be read).
const DAEMON_ANSWER: std::time::Duration = std::time::Duration::from_secs(300);

/// Starts `daemon run` detached, and returns once it answers (its probes are attached).
fn daemon_start(o: &tracer::daemon::DaemonOptions) -> anyhow::Result<ExitCode> {
    use std::os::unix::process::CommandExt;
    use tracer::daemon::control;
    if control::ask(&o.socket, control::Request::Status, DAEMON_ANSWER).is_ok() {
        bail!(
            "a cargo-tracer daemon is already running on {} (`cargo tracer daemon stop` ends it)",
            o.socket.display()
        );
    }
    // Directories above the traces' stay root's (the default is under /var/lib): only the
    // job's own directory is the sudo caller's.
    if let Some(parent) = o.dir.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    tracer::files::create_dir_all(&o.dir)
        .with_context(|| format!("creating {}", o.dir.display()))?;
    let log_path = o.dir.join("daemon.log");
    let log = tracer::files::create(&log_path)
        .with_context(|| format!("creating {}", log_path.display()))?
        .file;
    let mut cmd = std::process::Command::new(std::env::current_exe()?);
    cmd.args(["tracer", "daemon", "run", "--socket"])
        .arg(&o.socket)
        .arg("--dir")
        .arg(&o.dir)
        .args([
            "--ring-size".to_string(),
            o.ring_bytes.to_string(),
            "--linger-ms".to_string(),
            o.linger.as_millis().to_string(),
        ])
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    if let Some((name, _)) = &o.group {
        // One argument: a name that starts with '-' stays a value.
        cmd.arg(format!("--group={name}"));
    }
    // SAFETY: setsid is async-signal-safe: the daemon leaves the caller's session, so the
    // job step's end (its process group killed) does not end it.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().context("starting the daemon")?;
    let t0 = std::time::Instant::now();
    loop {
        if let Some(st) = child.try_wait()? {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            bail!(
                "the daemon exited ({st}) before it was ready:\n{}",
                log.trim_end()
            );
        }
        if let Ok(control::Response::Status(s)) = control::ask(
            &o.socket,
            control::Request::Status,
            std::time::Duration::from_secs(5),
        ) {
            eprintln!(
                "cargo-tracer daemon started (pid {}): every cargo run on this machine is traced until `cargo tracer daemon stop`; traces in {}",
                s.pid,
                h(&s.dir.display().to_string())
            );
            return Ok(ExitCode::SUCCESS);
        }
        if t0.elapsed() > std::time::Duration::from_secs(120) {
            bail!(
                "the daemon (pid {}) did not answer within 2 minutes; see {}",
                child.id(),
                log_path.display()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn daemon_status(s: &tracer::daemon::control::Status) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "cargo-tracer daemon {} (pid {}), up {} s: {} events, {} lost, {} not placed; traces in {}",
        s.version,
        s.pid,
        s.uptime_ms / 1000,
        s.events,
        s.lost.total().saturating_add(s.decode_errors),
        s.unrouted,
        h(&s.dir.display().to_string())
    );
    for i in &s.invocations {
        let _ = writeln!(
            out,
            "  #{:<3} pid {:<7} {:<9} {:>8} events  {} in {}",
            i.id,
            i.pid,
            if i.running { "running" } else { "exited" },
            i.events,
            h(&i.command.join(" ")),
            h(&i.cwd)
        );
    }
    out
}

/// `name.ext` → `name.N.ext`: one file per invocation.
fn numbered(p: &Path, n: usize) -> PathBuf {
    let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned());
    let name = match (stem, p.extension()) {
        (Some(s), Some(e)) => format!("{s}.{n}.{}", e.to_string_lossy()),
        (Some(s), None) => format!("{s}.{n}"),
        (None, _) => format!("{n}"),
    };
    p.with_file_name(name)
}

fn daemon_stop(s: &tracer::cli::DaemonStopCommand) -> anyhow::Result<ExitCode> {
    use clap::ValueEnum as _;
    use tracer::daemon::control;
    // A document format holds one verdict: refused before the daemon is stopped, while the
    // job's traces can still be judged some other way.
    if matches!(
        s.outputs.stdout,
        ReportFormat::Json | ReportFormat::Sarif | ReportFormat::Html
    ) && let control::Response::Status(now) =
        control::ask(&s.socket, control::Request::Status, DAEMON_ANSWER)?
        && now.invocations.iter().filter(|i| i.judged).count() > 1
    {
        let name = s
            .outputs
            .stdout
            .to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default();
        bail!(
            "--format {name} prints one document, and the daemon has traced several cargo invocations: write them with --output {name}=PATH (a numbered file each); the daemon is still running"
        );
    }
    let status = match control::ask(&s.socket, control::Request::Stop, DAEMON_ANSWER)? {
        control::Response::Stopped(st) => st,
        control::Response::Error { message } => bail!("the daemon refused to stop: {message}"),
        other => bail!("the daemon answered {other:?} to a stop request"),
    };
    let judged: Vec<_> = status.invocations.iter().filter(|i| i.judged).collect();
    if judged.is_empty() {
        // A daemon that saw no build is not a passed job: the builds ran where it could not
        // see them (before it started, a cargo named otherwise, another machine).
        eprintln!(
            "error: INCOMPLETE: the daemon traced no cargo run that built or ran anything ({} in all): \
             were the builds started before `daemon start`, run through a program not named `cargo`, \
             or on another machine?",
            status.invocations.len()
        );
        return Ok(ExitCode::from(TRACER_FAILURE));
    }
    // The job's exit: 2 (incomplete) over 1 (violations) over 0, the largest seen.
    let mut code = 0u8;
    let skipped = status.invocations.len() - judged.len();
    if skipped > 0 {
        eprintln!(
            "note: {skipped} cargo run(s) ran nothing but cargo (`cargo --version`, `cargo metadata`…): not judged"
        );
    }
    let lost = status.lost.total().saturating_add(status.decode_errors);
    if lost > 0 || status.unrouted > 0 {
        eprintln!(
            "error: INCOMPLETE: the daemon lost {lost} event(s) and could not place {} record(s): every invocation's trace may miss behaviour",
            status.unrouted
        );
        code = code.max(TRACER_FAILURE);
    }
    for inv in &judged {
        eprintln!(
            "== #{} `{}` (pid {}) in {}",
            inv.id,
            h(&inv.command.join(" ")),
            inv.pid,
            h(&inv.cwd)
        );
        if let Some(p) = &inv.problem {
            eprintln!("error: INCOMPLETE: {}", h(p));
            code = code.max(TRACER_FAILURE);
        }
        let Some(events) = &inv.trace else {
            eprintln!("error: INCOMPLETE: its trace was not finished");
            code = code.max(TRACER_FAILURE);
            continue;
        };
        // The policy as it was before the build ran (its code could have rewritten it since).
        if s.policy.is_none() && inv.policy.is_none() {
            eprintln!(
                "error: INCOMPLETE: its policy could not be read when it started ({}): not judged (give --policy FILE to judge it with that)",
                h(inv.policy_error.as_deref().unwrap_or("unknown"))
            );
            code = code.max(TRACER_FAILURE);
            continue;
        }
        // Read only as a file: a build that can write there could leave a FIFO or a link.
        if !std::fs::symlink_metadata(events).is_ok_and(|m| m.is_file()) {
            eprintln!(
                "error: INCOMPLETE: {} is no longer a plain file: not judged",
                h(&events.display().to_string())
            );
            code = code.max(TRACER_FAILURE);
            continue;
        }
        let re = match check::recheck(&check::RecheckOptions {
            events: events.clone(),
            policy: s.policy.clone(),
            manifest_path: inv.workspace.as_ref().map(|w| w.join("Cargo.toml")),
            levels: s.levels.clone(),
            audit: s.audit,
            verbose: s.verbose,
            rescan: s.scan,
            snapshot: inv.policy.clone(),
        }) {
            Ok(re) => re,
            Err(e) => {
                eprintln!(
                    "error: INCOMPLETE: {}",
                    h(&format!("{:#}", anyhow::Error::from(e)))
                );
                code = code.max(TRACER_FAILURE);
                continue;
            }
        };
        if inv.sha256.as_deref() != Some(re.sha256.as_str()) {
            eprintln!(
                "error: INCOMPLETE: {} is not the trace the daemon wrote (it was changed or replaced since): not judged",
                h(&events.display().to_string())
            );
            code = code.max(TRACER_FAILURE);
            continue;
        }
        for note in &re.notes {
            eprintln!("note: {}", h(note));
        }
        let outputs = cli::Outputs {
            files: s
                .outputs
                .files
                .iter()
                .map(|(f, p)| (*f, numbered(p, inv.id)))
                .collect(),
            ..s.outputs.clone()
        };
        let j = Judgement::new(
            &re.judged.report,
            &re.judged.verdict,
            &re.policy_sources,
            re.judged.exit,
            re.trace.graph.as_ref(),
        )
        .with_events(Some(output::EventsFile {
            path: events.display().to_string(),
            sha256: re.sha256.clone(),
        }));
        emit(j, &outputs)?;
        code = code.max(match re.judged.exit {
            check::Exit::Incomplete => TRACER_FAILURE,
            check::Exit::Violations => VIOLATIONS,
            check::Exit::Command(_) => 0,
        });
    }
    Ok(ExitCode::from(code))
}

/// Writes a judged build to stdout and to every `--output` file, and the job summary to
/// `$GITHUB_STEP_SUMMARY` when CI sets it.
fn emit(j: Judgement<'_>, o: &Outputs) -> anyhow::Result<()> {
    let wants = |f| o.stdout == f || o.files.iter().any(|(g, _)| *g == f);
    let j = if wants(ReportFormat::Github) {
        let places = annotation_places(&j);
        j.with_places(places)
    } else {
        j
    };
    let j = &j;
    // Each format rendered once, however many places it goes to.
    let mut rendered: std::collections::HashMap<ReportFormat, String> = Default::default();
    let mut text = |f: ReportFormat| -> String {
        rendered
            .entry(f)
            .or_insert_with(|| output::render(f, j, o.detail))
            .clone()
    };
    for (format, path) in &o.files {
        let mut t = text(*format);
        if *format == ReportFormat::Human {
            t = output::style::strip(&t);
        }
        tracer::files::write(path, t.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") {
        // CI summary: best effort, the verdict is also on stdout. The runner creates the file;
        // it is appended to through no symbolic link (the build could have planted one).
        match tracer::files::append(Path::new(&path)) {
            Ok(mut f) => {
                let _ = f.write_all(text(ReportFormat::Markdown).as_bytes());
            }
            Err(e) => eprintln!(
                "warning: not writing the job summary to $GITHUB_STEP_SUMMARY: {}",
                h(&e.to_string())
            ),
        }
    }
    if o.stdout != ReportFormat::Human {
        // A document on stdout says it too, but a person watching the job reads stderr.
        for i in &j.verdict.incomplete {
            eprintln!(
                "error: INCOMPLETE: {}",
                output::rows::incomplete(i, |d| h(d).into_owned())
            );
        }
    }
    let mut out = anstream::AutoStream::new(std::io::stdout(), o.color);
    out.write_all(text(o.stdout).as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Where GitHub annotations point: paths relative to the job's checkout (`$GITHUB_WORKSPACE`,
/// when the workspace is inside it), dependencies at their `Cargo.lock` line.
fn annotation_places(j: &Judgement<'_>) -> output::github::Places {
    let workspace = PathBuf::from(j.workspace_root());
    let repo_root = std::env::var_os("GITHUB_WORKSPACE")
        .map(PathBuf::from)
        .filter(|r| workspace.starts_with(r))
        .unwrap_or_else(|| workspace.clone());
    output::github::Places {
        repo_root: repo_root.display().to_string(),
        lock: tracer::cargo::lockfile::LockLines::read(&workspace.join("Cargo.lock")),
    }
}

fn report(r: ReportCommand) -> anyhow::Result<ExitCode> {
    let re = check::recheck(&r.recheck)?;
    for n in &re.notes {
        eprintln!("note: {}", h(n));
    }
    let j = Judgement::new(
        &re.judged.report,
        &re.judged.verdict,
        &re.policy_sources,
        re.judged.exit,
        re.trace.graph.as_ref(),
    )
    .with_events(Some(output::EventsFile {
        path: r.recheck.events.display().to_string(),
        sha256: re.sha256.clone(),
    }));
    emit(j, &r.outputs)?;
    Ok(ExitCode::from(re.judged.exit.code()))
}

/// One side of a diff: a report (`--format json`) or a recorded build (`--events`), and
/// whether it is complete.
fn read_side(p: &Path) -> anyhow::Result<Report> {
    let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "type")]
        line_type: Option<serde::de::IgnoredAny>,
    }
    // A report is one JSON object; a trace is JSON Lines (or zstd), each line with a `type`.
    if serde_json::from_slice::<Probe>(&bytes).is_ok_and(|v| v.line_type.is_none()) {
        return read_report(p, &bytes);
    }
    let t = jsonl::read_bytes(&bytes).with_context(|| {
        format!(
            "{} is neither a report (`--format json`) nor a recorded build (`--events`)",
            p.display()
        )
    })?;
    // Whatever makes a verdict incomplete (damage, a script that did not run under --fresh,
    // forged messages) makes this side incomplete too.
    let fresh = t.context.as_ref().is_some_and(|c| c.fresh);
    let mechanisms: Vec<String> = tracer::policy::defaults::MECHANISMS
        .iter()
        .map(|m| m.to_string())
        .collect();
    let Some((r, _)) = check::assess(&t, t.graph.as_ref(), fresh, false, &mechanisms) else {
        bail!(
            "{} has no build context: it was not written by `cargo tracer build|test --events`",
            p.display()
        );
    };
    Ok(r)
}

fn diff(old: &Path, new: &Path, format: Format) -> anyhow::Result<ExitCode> {
    let (old_report, new_report) = (read_side(old)?, read_side(new)?);
    let new_behaviors = suggest::diff(&old_report, &new_report);
    match format {
        Format::Human => print!(
            "{}",
            output::human::diff::render(&new_behaviors, &old.display().to_string())
        ),
        Format::Json => json::write(
            &mut std::io::stdout().lock(),
            &json::DiffOutput {
                schema_version: json::DIFF_SCHEMA_VERSION,
                baseline: old.display().to_string(),
                new: new.display().to_string(),
                complete: new_report.complete,
                new_behaviors: &new_behaviors,
            },
        )?,
    }
    // Fail closed: what an incomplete report does not show cannot be compared.
    if !new_report.complete {
        eprintln!(
            "error: {} is incomplete ({} events lost): behaviour may be missing from it",
            h(&new.display().to_string()),
            new_report.lost_events
        );
        return Ok(ExitCode::from(TRACER_FAILURE));
    }
    Ok(if new_behaviors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(VIOLATIONS)
    })
}

fn policy_check(p: PolicyCheckCommand) -> anyhow::Result<ExitCode> {
    let mut err = anstream::AutoStream::new(std::io::stderr(), p.color);
    let (root, manifests, graph) = match Graph::load(
        &p.graph_args,
        tracer::identity::for_command(false)?.as_ref(),
    ) {
        Ok(g) => (g.workspace_root.clone(), g.local_manifests(), Some(g)),
        Err(e) => {
            let msg = tracer::error_chain(&e);
            writeln!(
                err,
                "{}: could not read the dependency graph ({}): checking the policy files only",
                output::style::paint(output::style::WARN, "warning"),
                h(&msg)
            )?;
            let manifest = p
                .manifest_path
                .clone()
                .unwrap_or_else(|| PathBuf::from("Cargo.toml"));
            let root = manifest
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            (root, vec![manifest], None)
        }
    };
    let loaded = match policy::load(&root, &manifests, p.policy.as_deref()) {
        Ok(l) => l,
        Err(policy::PolicyError::Invalid { count, rendered }) => {
            // The snippets quote the files: escaped like any other text for the terminal.
            for line in rendered.lines() {
                writeln!(err, "{}", h(line))?;
            }
            writeln!(
                err,
                "{}: {count} problem(s) in the policy",
                output::style::paint(output::style::ERROR, "error")
            )?;
            return Ok(ExitCode::from(VIOLATIONS));
        }
        Err(e) => return Err(e.into()),
    };
    let warnings = lint::lint(&loaded.rules, graph.as_ref());
    let mut texts: std::collections::BTreeMap<String, String> = Default::default();
    for w in &warnings {
        let text = texts
            .entry(w.rule.file.clone())
            .or_insert_with(|| std::fs::read_to_string(&w.rule.file).unwrap_or_default());
        for line in w.diagnostic().render(&w.rule.file, text).lines() {
            writeln!(err, "{}", h(line))?;
        }
    }
    let own = loaded
        .rules
        .iter()
        .filter(|r| !r.origin.is_default())
        .count();
    let defaults = loaded.rules.len() - own;
    writeln!(
        err,
        "policy: {own} allow entries in {}; {defaults} from the shipped defaults; {} warning(s)",
        if loaded.sources.len() > 1 || own > 0 {
            loaded
                .sources
                .iter()
                .filter(|s| !s.ends_with("shipped default policies"))
                .map(|s| h(s).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            "no project file".into()
        },
        warnings.len()
    )?;
    Ok(if !warnings.is_empty() && p.deny_warnings {
        ExitCode::from(VIOLATIONS)
    } else {
        ExitCode::SUCCESS
    })
}

fn policy_defaults(krate: Option<&str>) -> anyhow::Result<ExitCode> {
    let defaults = policy::defaults::DEFAULTS;
    match krate {
        Some(name) => {
            let Some((_, text)) = defaults.iter().find(|(n, _)| *n == name) else {
                let names: Vec<&str> = defaults.iter().map(|(n, _)| *n).collect();
                let hint = tracer::model::did_you_mean(name, &names)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                bail!(
                    "no default policy for `{name}`{hint} (`cargo tracer policy defaults` lists them)"
                );
            };
            print!("{text}");
        }
        None => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{:<22} {:>7}  FIRST REASON", "CRATE", "ENTRIES")?;
            for (name, text) in defaults {
                let label = format!("default:policies/{name}.toml");
                let rules = policy::config::parse(text, &label, &[])
                    .ok()
                    .flatten()
                    .map(|p| p.rules)
                    .unwrap_or_default();
                let reason = rules.first().map_or("", |r| r.origin.reason.as_str());
                writeln!(
                    out,
                    "{name:<22} {:>7}  {}",
                    rules.len(),
                    output::text::elide(reason, 70, 50)
                )?;
            }
            writeln!(
                out,
                "\n{} default policies; `cargo tracer policy defaults CRATE` prints one, \
                 `disable-defaults = [\"CRATE\"]` in tracer.toml switches it off",
                defaults.len()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run(r: RunCommand) -> anyhow::Result<ExitCode> {
    let mut sink: Box<dyn Sink> = match r.events.as_deref() {
        Some(p) if p.as_os_str() == "-" => {
            Box::new(jsonl::Writer(std::io::BufWriter::new(std::io::stdout())))
        }
        Some(p) => Box::new(
            jsonl::FileSink::create(p)
                .with_context(|| format!("creating the events file {}", p.display()))?,
        ),
        None => Box::new(Discard),
    };
    let mut summary = session::run(&r.run, sink.as_mut(), &mut session::Plain)?;
    sink.finish().context("writing the events file")?;
    drop(sink);
    summary.events_file = r.events.as_ref().map(|p| p.display().to_string());
    match r.format {
        Format::Human => eprint!("{}", output::human::summary::render(&summary)),
        Format::Json => json::write(&mut std::io::stdout().lock(), &summary)?,
    }
    Ok(ExitCode::from(check::command_exit(
        summary.exit_code,
        summary.signal,
    )))
}

fn build(c: CheckCommand) -> anyhow::Result<ExitCode> {
    // --timings: how long each stage took, on stderr (the tool's own cost, stage by stage).
    let checked = check::check(&c.check, &mut |stage, took| {
        if c.timings {
            eprintln!("cargo-tracer: {}: {} ms", stage.as_str(), took.as_millis());
        }
    })?;
    for f in &checked.summary.proc_macro_failures {
        eprintln!(
            "warning: proc-macro library not probed (its activity stays with rustc): {}",
            h(f)
        );
    }
    for f in &checked.summary.stack_failures {
        eprintln!(
            "warning: stacks not copied for programs in a directory (their calls stay with \
             their package): {}",
            h(f)
        );
    }
    if c.timings {
        let s = &checked.summary.stacks;
        eprintln!(
            "cargo-tracer: stacks: {} copied, {} unwound ({} frames, {} unmatched), {} files \
             read in {} ms, unwinding and symbolizing {} ms",
            s.copied,
            s.unwound,
            s.frames,
            s.unmatched,
            s.binaries,
            s.read_us / 1000,
            s.unwind_us / 1000
        );
    }
    if c.timings {
        // The peak of the whole run: capture, report, scan and verdict.
        let peak = tracer::memory::usage().max_rss_kib;
        let rings = checked.summary.ring_mappings_kib;
        eprintln!(
            "cargo-tracer: memory: peak RSS {} MiB, of which the ring buffers' mappings {} MiB \
             (the kernel maps each ring page twice: {} MiB of kernel memory)",
            peak / 1024,
            rings / 1024,
            rings / 2048
        );
    }
    let events = c
        .check
        .events
        .as_ref()
        .zip(checked.events_sha256.as_ref())
        .map(|(p, sha256)| output::EventsFile {
            path: p.display().to_string(),
            sha256: sha256.clone(),
        });
    let j = Judgement::new(
        &checked.report,
        &checked.verdict,
        &checked.policy_sources,
        checked.exit,
        Some(&checked.graph),
    )
    .with_events(events);
    emit(j, &c.outputs)?;
    Ok(ExitCode::from(checked.exit.code()))
}

fn scan(s: ScanCommand) -> anyhow::Result<ExitCode> {
    // As the sudo caller: cargo metadata can write Cargo.lock into their tree.
    let graph = Graph::load(
        &s.graph_args,
        tracer::identity::for_command(false)?.as_ref(),
    )?;
    let selected = graph.select(&s.packages)?;
    let opts = ScanOptions {
        cache_dir: s
            .cache
            .then(|| graph.target_dir.join("cargo-tracer").join("scan-cache")),
        progress: true,
        jobs: s.jobs,
    };
    let r = scan::scan(&graph, &selected, &opts);
    let mut out = std::io::stdout().lock();
    match s.format {
        ScanFormat::Human => write!(out, "{}", output::human::scan::render(&r, s.verbose))?,
        ScanFormat::Json => json::write(&mut out, &r)?,
        ScanFormat::Sarif => {
            let dir = |id: &str| {
                graph
                    .packages
                    .iter()
                    .find(|p| p.id == id)
                    .map(|p| p.manifest_dir.display().to_string())
                    .unwrap_or_default()
            };
            json::write(&mut out, &output::sarif::scan::render(&r, dir))?
        }
    }
    if s.format != ScanFormat::Human {
        scan::progress_done(&mut std::io::stderr(), &r)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads a report written by `build|test --format json` (this schema version only).
fn read_report(p: &Path, bytes: &[u8]) -> anyhow::Result<Report> {
    #[derive(serde::Deserialize)]
    struct Version {
        schema_version: Option<u32>,
    }
    let v: Version = serde_json::from_slice(bytes)
        .with_context(|| format!("{} is not a JSON report", p.display()))?;
    match v.schema_version {
        Some(report::REPORT_SCHEMA_VERSION) => {}
        Some(other) => bail!(
            "{} is a report of schema version {other}; this cargo-tracer reads version {}",
            p.display(),
            report::REPORT_SCHEMA_VERSION
        ),
        None => bail!("{} is not a report (no `schema_version`)", p.display()),
    }
    serde_json::from_slice(bytes).with_context(|| format!("{} is not a JSON report", p.display()))
}

/// Reads a recorded build and builds its report.
fn load_report(events: &Path) -> anyhow::Result<(trace::Trace, Report)> {
    let t: trace::Trace =
        jsonl::read_file(events).with_context(|| format!("reading {}", events.display()))?;
    let Some(r) = report::from_trace(&t, false) else {
        bail!(
            "{} has no build context: it was not written by `cargo tracer build|test --events`",
            events.display()
        );
    };
    Ok((t, r))
}
