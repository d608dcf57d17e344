//! Every renderer, in one place: the per-crate report, the verdict, the static scan and the
//! `run` summary, for people (`human`), for CI summaries (`markdown`), for code scanning
//! (`sarif`), as one HTML page (`html`), as TOML allow entries (`toml`) and as versioned JSON
//! (`json`). Stages hand typed data here; nothing here is read back by another stage.
//!
//! A judged build is rendered through [`render`], so `build`, `test` and `report` — on stdout
//! or into `--output` files — print the same thing in every format.

pub mod escape;
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
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
        }
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
            s
        }
        Format::Json => json::to_string(&json::CheckOutput {
            report: j.report,
            verdict: j.verdict,
            policy_sources: j.policy_sources,
        }),
        Format::Markdown => markdown::verdict(j.verdict, &j.report.command, Some(&j.matrix)),
        Format::Sarif => {
            let root = match j.graph {
                Some(g) => g.workspace_root.display().to_string(),
                None => Path::new(&to_os(&j.report.context.workspace_root))
                    .display()
                    .to_string(),
            };
            let dir = |k: &PackageKey| {
                j.graph
                    .and_then(|g| g.get(k))
                    .map(|p| p.manifest_dir.display().to_string())
            };
            json::to_string(&sarif::verdict::render(j.verdict, &root, dir))
        }
        Format::Html => html::render(j),
    }
}
