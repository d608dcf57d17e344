//! Machine-readable output: the JSON of `build|test --format json`, a typed, versioned object
//! (the report's fields, then the verdict and where the policy came from; schema in
//! `docs/REPORT.md`), and one writer for every JSON document the CLI prints.

use std::io::Write;

use serde::Serialize;

use crate::{
    policy::{eval::Verdict, suggest::NewBehavior},
    report::Report,
};

/// What `cargo tracer build|test --format json` prints.
#[derive(Debug, Serialize)]
pub struct CheckOutput<'a> {
    /// The report (its `schema_version` versions the whole object).
    #[serde(flatten)]
    pub report: &'a Report,
    pub verdict: &'a Verdict,
    /// The policy files read, then the shipped defaults.
    pub policy_sources: &'a [String],
    /// The events file written (`--events`) or judged again, with its SHA-256.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events_file: Option<&'a crate::output::EventsFile>,
}

/// Version of the `diff --format json` object.
pub const DIFF_SCHEMA_VERSION: u32 = 1;

/// What `cargo tracer diff --format json` prints.
#[derive(Debug, Serialize)]
pub struct DiffOutput<'a> {
    pub schema_version: u32,
    pub baseline: String,
    pub new: String,
    /// False if the new side may be missing behaviour (the exit code is then 2).
    pub complete: bool,
    pub new_behaviors: &'a [NewBehavior],
}

/// Writes `v` as pretty JSON and a newline.
pub fn write(out: &mut impl Write, v: &impl Serialize) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, v).map_err(std::io::Error::other)?;
    writeln!(out)
}

/// `v` as pretty JSON and a newline.
pub fn to_string(v: &impl Serialize) -> String {
    // Our documents are plain data (no maps with non-string keys): serialising cannot fail.
    let mut s =
        serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
