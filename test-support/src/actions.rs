//! A GitHub Actions runner for the parts of a workflow this repository ships: it runs a job's
//! steps in order as the runner would — `run:` steps with `bash --noprofile --norc -eo pipefail`,
//! `${{ … }}` expressions, `if:` conditions, `continue-on-error`, step outputs through
//! `$GITHUB_OUTPUT`, `$GITHUB_PATH`, `$GITHUB_STEP_SUMMARY`, and a composite action's own steps
//! for `uses: ./` — and reads the annotations (`::error …::…`) from the log.
//!
//! Actions from elsewhere are not run: `actions/checkout` (the workspace is prepared),
//! `actions/cache`, `upload-sarif` and `upload-artifact` are checked for what they would be
//! given (the SARIF parses, the artifact's files exist). Anything else — another action, an
//! expression this runner does not know — fails the test, so a workflow cannot pass here by
//! using something that is not checked.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
};

use yaml_rust2::{Yaml, YamlLoader};

/// Where a job runs.
pub struct Runner {
    /// The checkout of this repository: `uses: ./` and `uses: cargo-tracer/cargo-tracer@…`.
    pub action_repo: PathBuf,
    /// `$GITHUB_WORKSPACE`: the user's repository, where `run:` steps start.
    pub workspace: PathBuf,
    /// `$RUNNER_TEMP`; the runner's own files go here too.
    pub temp: PathBuf,
    /// The environment of every step (the runner adds its `GITHUB_*` variables).
    pub env: Vec<(String, String)>,
}

/// An `::error`/`::warning`/`::notice` workflow command found in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    pub level: String,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub title: Option<String>,
    pub message: String,
}

/// A step that ran, or was skipped.
#[derive(Debug, Clone)]
pub struct StepRun {
    pub name: String,
    /// `success`, `failure` or `skipped`.
    pub outcome: String,
    /// What a foreign action was given (`with:`, evaluated).
    pub with: BTreeMap<String, String>,
}

/// What a job did.
#[derive(Debug)]
pub struct JobRun {
    pub success: bool,
    /// Every step's stdout and stderr, in order.
    pub log: String,
    pub summary: String,
    pub annotations: Vec<Annotation>,
    pub steps: Vec<StepRun>,
}

/// The values expressions see.
#[derive(Default, Clone)]
struct Context {
    inputs: BTreeMap<String, String>,
    steps: BTreeMap<String, BTreeMap<String, String>>,
    action_path: String,
    /// Whether an earlier step of the job failed (for `success()`/`failure()`).
    failed: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Val {
    Bool(bool),
    Str(String),
}

impl Val {
    fn truthy(&self) -> bool {
        match self {
            Val::Bool(b) => *b,
            Val::Str(s) => !s.is_empty(),
        }
    }
    fn text(&self) -> String {
        match self {
            Val::Bool(b) => b.to_string(),
            Val::Str(s) => s.clone(),
        }
    }
}

fn load(path: &Path) -> Yaml {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    YamlLoader::load_from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("{} is empty", path.display()))
}

/// A scalar as the runner reads it (numbers and booleans as their text).
fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn map(y: &Yaml) -> Vec<(String, String)> {
    y.as_hash()
        .map(|h| {
            h.iter()
                .filter_map(|(k, v)| Some((scalar(k)?, scalar(v)?)))
                .collect()
        })
        .unwrap_or_default()
}

impl Runner {
    /// Runs the job `job` of the workflow at `workflow`, with `with` overriding the inputs the
    /// workflow gives the cargo-tracer action.
    pub fn run_workflow(&self, workflow: &Path, job: &str, with: &[(&str, &str)]) -> JobRun {
        let wf = load(workflow);
        let steps = wf["jobs"][job]["steps"]
            .as_vec()
            .unwrap_or_else(|| panic!("{} has no job {job} with steps", workflow.display()))
            .clone();
        let overrides: BTreeMap<String, String> = with
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let path_file = self.temp.join("_runner_path");
        std::fs::write(&path_file, "").unwrap();
        let mut job = Job {
            runner: self,
            run: JobRun {
                success: true,
                log: String::new(),
                summary: String::new(),
                annotations: Vec::new(),
                steps: Vec::new(),
            },
            path_file,
            scripts: 0,
        };
        let mut ctx = Context {
            action_path: self.action_repo.display().to_string(),
            ..Context::default()
        };
        job.steps(&steps, &mut ctx, &overrides, false);
        let mut run = job.run;
        run.success = !ctx.failed;
        run.annotations = annotations(&run.log);
        run
    }
}

/// A job while it runs: what it did so far, and the runner's files shared by its steps.
struct Job<'r> {
    runner: &'r Runner,
    run: JobRun,
    /// `$GITHUB_PATH`: directories later steps find first on `PATH`.
    path_file: PathBuf,
    /// `run:` steps so far (each gets files of its own).
    scripts: usize,
}

impl Job<'_> {
    /// `steps` in order; `composite`: they are a composite action's (which must name a shell).
    fn steps(
        &mut self,
        steps: &[Yaml],
        ctx: &mut Context,
        overrides: &BTreeMap<String, String>,
        composite: bool,
    ) {
        for (i, step) in steps.iter().enumerate() {
            let name = step["name"]
                .as_str()
                .or(step["uses"].as_str())
                .map(|n| interpolate(n, ctx))
                .unwrap_or_else(|| format!("step {i}"));
            let cond = step["if"].as_str().map_or("success()", strip);
            // A condition with no status function runs only while the job succeeds.
            let status = ["always()", "success()", "failure()", "cancelled()"];
            let cond = if status.iter().any(|f| cond.contains(f)) {
                cond.to_string()
            } else {
                format!("success() && ({cond})")
            };
            let mut with: BTreeMap<String, String> = map(&step["with"])
                .into_iter()
                .map(|(k, v)| (k, interpolate(&v, ctx)))
                .collect();
            if !eval(&cond, ctx).truthy() {
                self.run.steps.push(StepRun {
                    name,
                    outcome: "skipped".into(),
                    with,
                });
                continue;
            }
            let (ok, outputs) = if let Some(script) = step["run"].as_str() {
                // GitHub refuses a composite action's run step without a shell; a workflow's
                // default to bash.
                let shell = step["shell"].as_str();
                assert!(
                    shell.is_some() || !composite,
                    "step {name}: a composite action's run step needs `shell:`"
                );
                assert_eq!(
                    shell.unwrap_or("bash"),
                    "bash",
                    "step {name}: only bash steps are run here"
                );
                let env: Vec<(String, String)> = map(&step["env"])
                    .into_iter()
                    .map(|(k, v)| (k, interpolate(&v, ctx)))
                    .collect();
                let workspace = &self.runner.workspace;
                let dir = step["working-directory"].as_str().map_or_else(
                    || workspace.clone(),
                    |d| workspace.join(interpolate(d, ctx)),
                );
                self.run_script(&interpolate(script, ctx), &env, &dir, &ctx.action_path)
            } else if let Some(uses) = step["uses"].as_str() {
                if uses == "./" || uses.starts_with("cargo-tracer/cargo-tracer@") {
                    with.extend(overrides.clone());
                    self.composite(&with)
                } else {
                    let ok = foreign(uses, &with, &self.runner.workspace);
                    (ok, BTreeMap::new())
                }
            } else {
                panic!("step {name} has neither run nor uses");
            };
            if let Some(id) = step["id"].as_str() {
                ctx.steps.insert(id.to_string(), outputs);
            }
            let continue_on_error = step["continue-on-error"].as_bool() == Some(true);
            if !ok && !continue_on_error {
                ctx.failed = true;
            }
            self.run.steps.push(StepRun {
                name,
                outcome: if ok { "success" } else { "failure" }.into(),
                with,
            });
        }
    }

    /// `uses: ./`: the repository's action.yml, its inputs' defaults overridden by `with`.
    fn composite(&mut self, with: &BTreeMap<String, String>) -> (bool, BTreeMap<String, String>) {
        let repo = &self.runner.action_repo;
        let action = load(&repo.join("action.yml"));
        assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
        let mut inputs: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in action["inputs"].as_hash().into_iter().flatten() {
            let k = scalar(k).expect("an input name");
            inputs.insert(k, scalar(&v["default"]).unwrap_or_default());
        }
        for k in with.keys() {
            assert!(inputs.contains_key(k), "the action has no input `{k}`");
        }
        inputs.extend(with.clone());
        let mut ctx = Context {
            inputs,
            steps: BTreeMap::new(),
            action_path: repo.display().to_string(),
            // Its steps' `success()` is about its own steps.
            failed: false,
        };
        let steps = action["runs"]["steps"]
            .as_vec()
            .expect("composite steps")
            .clone();
        self.steps(&steps, &mut ctx, &BTreeMap::new(), true);
        let outputs = action["outputs"]
            .as_hash()
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                let value = v["value"].as_str().unwrap_or_default();
                (scalar(k).unwrap_or_default(), interpolate(value, &ctx))
            })
            .collect();
        (!ctx.failed, outputs)
    }

    /// One `run:` step, with files of its own for its outputs and its part of the job summary
    /// (added to the job's when it ends, as the runner does).
    fn run_script(
        &mut self,
        script: &str,
        step_env: &[(String, String)],
        dir: &Path,
        action_path: &str,
    ) -> (bool, BTreeMap<String, String>) {
        let r = self.runner;
        self.scripts += 1;
        let n = self.scripts;
        let file = r.temp.join(format!("_step_{n}.sh"));
        let output = r.temp.join(format!("_step_{n}_output"));
        let summary = r.temp.join(format!("_step_{n}_summary.md"));
        std::fs::write(&file, script).unwrap();
        std::fs::write(&output, "").unwrap();
        std::fs::write(&summary, "").unwrap();
        let mut env: BTreeMap<String, String> = r.env.iter().cloned().collect();
        let added = std::fs::read_to_string(&self.path_file).unwrap_or_default();
        for p in added.lines().filter(|l| !l.is_empty()) {
            let path = env.get("PATH").cloned().unwrap_or_default();
            env.insert("PATH".into(), format!("{p}:{path}"));
        }
        let runner_env = [
            ("CI", "true".to_string()),
            ("GITHUB_ACTIONS", "true".to_string()),
            ("GITHUB_WORKSPACE", r.workspace.display().to_string()),
            ("RUNNER_TEMP", r.temp.display().to_string()),
            ("RUNNER_OS", "Linux".to_string()),
            ("GITHUB_ACTION_PATH", action_path.to_string()),
            ("GITHUB_OUTPUT", output.display().to_string()),
            ("GITHUB_PATH", self.path_file.display().to_string()),
            ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
        ];
        for (k, v) in runner_env {
            env.insert(k.into(), v);
        }
        env.extend(step_env.iter().cloned());
        let out = Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&file)
            .current_dir(dir)
            .env_clear()
            .envs(&env)
            .output()
            .expect("bash runs");
        self.run.log.push_str(&String::from_utf8_lossy(&out.stdout));
        self.run.log.push_str(&String::from_utf8_lossy(&out.stderr));
        self.run
            .summary
            .push_str(&std::fs::read_to_string(&summary).unwrap_or_default());
        match parse_outputs(&std::fs::read_to_string(&output).unwrap_or_default()) {
            Some(outputs) => (out.status.success(), outputs),
            None => (false, BTreeMap::new()),
        }
    }
}

/// What an action from elsewhere would be given, checked; whether it would succeed.
fn foreign(uses: &str, with: &BTreeMap<String, String>, workspace: &Path) -> bool {
    let name = uses.split('@').next().unwrap_or(uses);
    let at = |p: &str| {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            workspace.join(p)
        }
    };
    match name {
        "actions/checkout" => true,
        "actions/cache" => {
            assert!(with.get("path").is_some_and(|p| !p.is_empty()), "{with:?}");
            assert!(with.get("key").is_some_and(|k| !k.is_empty()), "{with:?}");
            true
        }
        "github/codeql-action/upload-sarif" => {
            let f = with.get("sarif_file").expect("sarif_file");
            let log: serde_json::Value = serde_json::from_slice(
                &std::fs::read(at(f)).unwrap_or_else(|e| panic!("upload-sarif {f}: {e}")),
            )
            .unwrap_or_else(|e| panic!("upload-sarif {f} is not JSON: {e}"));
            assert_eq!(log["version"], "2.1.0", "upload-sarif {f}");
            true
        }
        "actions/upload-artifact" => {
            let paths = with.get("path").expect("path");
            for p in paths.lines().map(str::trim).filter(|p| !p.is_empty()) {
                assert!(at(p).exists(), "upload-artifact: {p} does not exist");
            }
            true
        }
        other => panic!("this runner does not know the action {other}"),
    }
}

/// `key=value` and `key<<DELIM … DELIM` lines of a `$GITHUB_OUTPUT` file, as the runner reads
/// them (`=` before `<<` makes a line key=value); `None` for a heredoc never closed, which fails
/// the step.
fn parse_outputs(text: &str) -> Option<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        let heredoc = l.split_once("<<").filter(|(k, _)| !k.contains('='));
        if let Some((k, delim)) = heredoc {
            let mut v = Vec::new();
            let mut closed = false;
            for l in lines.by_ref() {
                if l == delim {
                    closed = true;
                    break;
                }
                v.push(l);
            }
            if !closed {
                return None;
            }
            out.insert(k.to_string(), v.join("\n"));
        } else if let Some((k, v)) = l.split_once('=') {
            out.insert(k.to_string(), v.to_string());
        }
    }
    Some(out)
}

/// The workflow commands in a log, with their properties and message decoded.
pub fn annotations(log: &str) -> Vec<Annotation> {
    let decode = |s: &str| {
        s.replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%3A", ":")
            .replace("%2C", ",")
            .replace("%25", "%")
    };
    let mut out = Vec::new();
    // `::stop-commands::TOKEN` … `::TOKEN::`: nothing in between is a command.
    let mut stopped: Option<String> = None;
    for line in log.split(['\n', '\r']) {
        let line = line.trim_start();
        if let Some(token) = &stopped {
            if line == format!("::{token}::") {
                stopped = None;
            }
            continue;
        }
        let Some(rest) = line.strip_prefix("::") else {
            continue;
        };
        let Some((head, message)) = rest.split_once("::") else {
            continue;
        };
        if head == "stop-commands" {
            stopped = Some(message.to_string());
            continue;
        }
        let (level, props) = head.split_once(' ').unwrap_or((head, ""));
        if !matches!(level, "error" | "warning" | "notice") {
            continue;
        }
        let mut a = Annotation {
            level: level.to_string(),
            file: None,
            line: None,
            title: None,
            message: decode(message),
        };
        for p in props.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let v = decode(v);
            match k {
                "file" => a.file = Some(v),
                "line" => a.line = v.parse().ok(),
                "title" => a.title = Some(v),
                _ => {}
            }
        }
        out.push(a);
    }
    out
}

/// `${{ expr }}` → `expr`; a bare condition as it is.
fn strip(s: &str) -> &str {
    let t = s.trim();
    t.strip_prefix("${{")
        .and_then(|t| t.strip_suffix("}}"))
        .map_or(t, str::trim)
}

/// `s` with every `${{ … }}` replaced by its value.
fn interpolate(s: &str, ctx: &Context) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .unwrap_or_else(|| panic!("unclosed expression in {s}"));
        out.push_str(&eval(rest[start + 3..start + end].trim(), ctx).text());
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out
}

/// The expressions this repository's workflow and action use: `a || b`, `a && b`, `!a`,
/// `a == b`, `a != b`, literals, `always()`/`success()`/`failure()`/`hashFiles(…)`, and the
/// `inputs`, `steps.<id>.outputs`, `runner` and `github` contexts.
fn eval(e: &str, ctx: &Context) -> Val {
    let e = e.trim();
    if let Some(parts) = split_top(e, "||") {
        return Val::Bool(parts.iter().any(|p| eval(p, ctx).truthy()));
    }
    if let Some(parts) = split_top(e, "&&") {
        return Val::Bool(parts.iter().all(|p| eval(p, ctx).truthy()));
    }
    for (op, eq) in [("==", true), ("!=", false)] {
        if let Some(parts) = split_top(e, op) {
            assert_eq!(parts.len(), 2, "{e}");
            let (a, b) = (eval(&parts[0], ctx).text(), eval(&parts[1], ctx).text());
            // The runner compares strings ignoring case.
            return Val::Bool(a.eq_ignore_ascii_case(&b) == eq);
        }
    }
    if let Some(inner) = e.strip_prefix('!') {
        return Val::Bool(!eval(inner, ctx).truthy());
    }
    if let Some(inner) = e.strip_prefix('(').and_then(|e| e.strip_suffix(')')) {
        return eval(inner, ctx);
    }
    if let Some(lit) = e.strip_prefix('\'').and_then(|e| e.strip_suffix('\'')) {
        return Val::Str(lit.replace("''", "'"));
    }
    match e {
        "true" => return Val::Bool(true),
        "false" => return Val::Bool(false),
        "always()" => return Val::Bool(true),
        "success()" => return Val::Bool(!ctx.failed),
        "failure()" => return Val::Bool(ctx.failed),
        "cancelled()" => return Val::Bool(false),
        "runner.os" => return Val::Str("Linux".into()),
        "github.action_path" => return Val::Str(ctx.action_path.clone()),
        _ => {}
    }
    if e.starts_with("hashFiles(") {
        return Val::Str("0123456789abcdef".into());
    }
    if let Some(k) = e.strip_prefix("inputs.") {
        return Val::Str(
            ctx.inputs
                .get(k)
                .cloned()
                .unwrap_or_else(|| panic!("no input `{k}`")),
        );
    }
    if let Some(rest) = e.strip_prefix("steps.") {
        let (id, key) = rest
            .split_once(".outputs.")
            .unwrap_or_else(|| panic!("unknown expression {e}"));
        return Val::Str(
            ctx.steps
                .get(id)
                .and_then(|o| o.get(key))
                .cloned()
                .unwrap_or_default(),
        );
    }
    panic!("this runner does not know the expression `{e}`")
}

/// `e` split at `op` outside quotes and parentheses, if `op` occurs there.
fn split_top(e: &str, op: &str) -> Option<Vec<String>> {
    let (mut depth, mut quoted, mut parts, mut start) = (0i32, false, Vec::new(), 0);
    let b = e.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth -= 1,
            _ if !quoted && depth == 0 && e[i..].starts_with(op) => {
                parts.push(e[start..i].to_string());
                i += op.len();
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    if parts.is_empty() {
        return None;
    }
    parts.push(e[start..].to_string());
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_and_annotations() {
        let mut ctx = Context::default();
        ctx.inputs.insert("upload-sarif".into(), "true".into());
        ctx.steps.insert(
            "trace".into(),
            [("sarif".to_string(), "/t/x.sarif".to_string())].into(),
        );
        let cond =
            "${{ always() && inputs.upload-sarif == 'true' && steps.trace.outputs.sarif != '' }}";
        assert!(eval(strip(cond), &ctx).truthy());
        ctx.inputs.insert("upload-sarif".into(), "false".into());
        assert!(!eval(strip(cond), &ctx).truthy());
        assert!(!eval("success() && steps.none.outputs.x != ''", &ctx).truthy());
        assert_eq!(
            interpolate("a-${{ steps.trace.outputs.sarif }}-b", &ctx),
            "a-/t/x.sarif-b"
        );
        let a = annotations(
            "x\n::error file=a%2Cb.rs,line=3,title=t%3A1::m%0Aore 50%25\n::debug::no\n",
        );
        assert_eq!(
            a,
            [Annotation {
                level: "error".into(),
                file: Some("a,b.rs".into()),
                line: Some(3),
                title: Some("t:1".into()),
                message: "m\nore 50%".into(),
            }]
        );
        assert_eq!(
            parse_outputs("a=1\nb<<EOF\nx\ny\nEOF\nc=\nd=x<<y\n"),
            Some(
                [("a", "1"), ("b", "x\ny"), ("c", ""), ("d", "x<<y")]
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .into()
            )
        );
        // The forgery a build could append: the step's own line becomes the delimiter.
        assert_eq!(
            parse_outputs("z<<exit-code=1\nexit-code=1\n"),
            Some([("z".to_string(), String::new())].into())
        );
        assert_eq!(parse_outputs("z<<EOF\nx\n"), None);
        let a = annotations("::stop-commands::t0k\n::error::hidden\n::t0k::\n::warning::shown\n");
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].message, "shown");
    }
}
