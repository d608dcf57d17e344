//! Every renderer, in one place: the per-crate report, the verdict, the static scan and the
//! `run` summary, for people (`human`), for CI summaries (`markdown`), for code scanning
//! (`sarif`), as one HTML page (`html`), as TOML allow entries (`toml`) and as versioned JSON
//! (`json`). Stages hand typed data here; nothing here is read back by another stage.
//!
//! A judged build is rendered through [`render`], so `build`, `test` and `report` — on stdout
//! or into `--output` files — print the same thing in every format.

pub mod escape;
pub mod github;
pub mod html;
pub mod human;
pub mod json;
pub mod markdown;
pub mod matrix;
pub mod rows;
pub mod sarif;
pub mod style;
pub mod text;
pub mod toml;

use std::path::Path;

use crate::{
    cargo::graph::Graph, check::Exit, events::text::to_os, model::PackageKey,
    policy::eval::Verdict, report::Report,
};

/// What a judged build is rendered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Format {
    /// The report, then the verdict, for people.
    Human,
    /// The report, the verdict and the policy files, as versioned JSON.
    Json,
    /// The job summary: the verdict and the matrix of crates with anything not allowed.
    Markdown,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
    /// One self-contained page: matrix, process tree, timeline.
    Html,
    /// GitHub Actions workflow commands: an `::error`/`::warning` annotation per row not
    /// allowed, at the crate's line or its `Cargo.lock` entry.
    Github,
}

/// A judged build, with what the renderers need to say where things are.
pub struct Judgement<'a> {
    pub report: &'a Report,
    pub verdict: &'a Verdict,
    pub matrix: matrix::Matrix,
    pub policy_sources: &'a [String],
    pub exit: Exit,
    /// The dependency graph, when known (SARIF locations of crates' manifests).
    pub graph: Option<&'a Graph>,
    /// The events file written or read, with its SHA-256: a reader of the verdict can check
    /// that the trace they judge again is the one this was judged from.
    pub events: Option<EventsFile>,
    /// Where GitHub annotations point (the job's repository, the lock file's lines).
    pub places: github::Places,
}

/// An events file and the SHA-256 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EventsFile {
    pub path: String,
    pub sha256: String,
}

impl<'a> Judgement<'a> {
    pub fn new(
        report: &'a Report,
        verdict: &'a Verdict,
        policy_sources: &'a [String],
        exit: Exit,
        graph: Option<&'a Graph>,
    ) -> Self {
        Self {
            matrix: matrix::Matrix::of(report, verdict),
            report,
            verdict,
            policy_sources,
            exit,
            graph,
            events: None,
            places: github::Places::default(),
        }
    }

    /// With where GitHub annotations point.
    pub fn with_places(mut self, places: github::Places) -> Self {
        self.places = places;
        self
    }

    /// The workspace's root directory: the graph's, else the one the trace names.
    pub fn workspace_root(&self) -> String {
        match self.graph {
            Some(g) => g.workspace_root.display().to_string(),
            None => Path::new(&to_os(&self.report.context.workspace_root))
                .display()
                .to_string(),
        }
    }

    /// A package's directory, when the graph is known.
    fn crate_dir(&self, k: &PackageKey) -> Option<String> {
        self.graph
            .and_then(|g| g.get(k))
            .map(|p| p.manifest_dir.display().to_string())
    }

    /// With the events file it was written to or read from.
    pub fn with_events(mut self, events: Option<EventsFile>) -> Self {
        self.events = events;
        self
    }

    /// Said after the result when the traced command itself failed: the verdict judges what
    /// ran, and a build that stopped early ran less.
    fn command_failed(&self) -> Option<String> {
        match self.report.exit_code {
            Some(0) => None,
            Some(c) => Some(format!(
                "the traced command failed (exit {c}): only what ran before it stopped was judged"
            )),
            None => Some("the traced command did not exit normally".into()),
        }
    }

    /// `policy: …` and `events: … sha256 …`, for the end of the human and Markdown verdicts.
    fn provenance(&self, data: impl Fn(&str) -> String) -> Vec<String> {
        let mut v = vec![format!(
            "policy: {}",
            if self.policy_sources.is_empty() {
                "none".to_string()
            } else {
                self.policy_sources
                    .iter()
                    .map(|s| data(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )];
        if let Some(e) = &self.events {
            v.push(format!("events: {} (sha256 {})", data(&e.path), e.sha256));
        }
        v
    }
}

/// How much the human format shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Detail {
    /// Routine behaviour too, and full targets.
    pub verbose: bool,
    /// Only the verdict.
    pub quiet: bool,
}

/// `j` as `format`. Human text carries styles: [`style::strip`] them for a file or a pipe.
pub fn render(format: Format, j: &Judgement<'_>, detail: Detail) -> String {
    match format {
        Format::Human => {
            let mut s = String::new();
            if !detail.quiet {
                s.push_str(&human::report::render(j.report, detail.verbose, &j.matrix));
            }
            s.push_str(&human::verdict::render(j.verdict));
            if let Some(f) = j.command_failed() {
                s.push_str(&style::paint(style::ERROR, &format!("  {f}")));
                s.push('\n');
            }
            for line in j.provenance(|d| escape::human(d).into_owned()) {
                s.push_str(&style::paint(style::DIM, &format!("  {line}")));
                s.push('\n');
            }
            s
        }
        Format::Json => json::to_string(&json::CheckOutput {
            report: j.report,
            verdict: j.verdict,
            policy_sources: j.policy_sources,
            events_file: j.events.as_ref(),
        }),
        Format::Markdown => {
            let mut s = markdown::verdict(j.verdict, &j.report.command, Some(&j.matrix));
            if let Some(f) = j.command_failed() {
                s.push_str(&format!("\n**{f}**\n"));
            }
            for line in j.provenance(|d| escape::markdown_code(d, false)) {
                s.push_str(&format!("\n{line}\n"));
            }
            s
        }
        Format::Sarif => {
            let root = j.workspace_root();
            let mut log = sarif::verdict::render(j.verdict, &root, |k| j.crate_dir(k));
            for run in &mut log.runs {
                run.properties = Some(sarif::RunProperties {
                    policy_sources: j.policy_sources.to_vec(),
                    events_file: j.events.clone(),
                });
            }
            json::to_string(&log)
        }
        Format::Html => html::render(j),
        Format::Github => github::render(j, &j.places),
    }
}
