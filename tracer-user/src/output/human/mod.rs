//! Renderers for people: the per-crate report, the verdict, the static scan, the run summary.

pub mod diff;
pub mod matrix;
pub mod report;
pub mod scan;
pub mod summary;
pub mod verdict;
