//! Every renderer, in one place: the per-crate report, the verdict, the static scan and the
//! `run` summary, for people (`human`), for CI summaries (`markdown`), for code scanning
//! (`sarif`), as TOML allow entries (`toml`) and as versioned JSON (`json`). Stages hand typed
//! data here; nothing here is read back by another stage.

pub mod escape;
pub mod human;
pub mod json;
pub mod markdown;
pub mod rows;
pub mod sarif;
pub mod text;
pub mod toml;
