//! Static findings: what each crate's code *could* do to the machine, found in its sources (with
//! `syn`) and in its compiled artifacts (with `object`), per phase of the code. The seed: the
//! list of harmful operations is small — read, write, delete files; connect, listen, resolve;
//! run programs; read secrets from the environment — so find every use, show where, and show
//! which hosts and URLs each crate names.

pub mod binary;
pub mod scan;
pub mod source;

pub use crate::model::findings::{Finding, Location};
