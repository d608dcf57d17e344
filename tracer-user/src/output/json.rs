//! Machine-readable output: the JSON of `build|test --format json`, a typed, versioned object
//! (the report's fields, then the verdict and where the policy came from; schema in
//! `docs/REPORT.md`), and one writer for every JSON document the CLI prints.

use std::io::Write;

use serde::Serialize;

use crate::{policy::eval::Verdict, report::Report};

/// What `cargo tracer build|test --format json` prints.
#[derive(Debug, Serialize)]
pub struct CheckOutput<'a> {
    /// The report (its `schema_version` versions the whole object).
    #[serde(flatten)]
    pub report: &'a Report,
    pub verdict: &'a Verdict,
    /// The policy files read, then the shipped defaults.
    pub policy_sources: &'a [String],
}

/// Writes `v` as pretty JSON and a newline.
pub fn write(out: &mut impl Write, v: &impl Serialize) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, v).map_err(std::io::Error::other)?;
    writeln!(out)
}
