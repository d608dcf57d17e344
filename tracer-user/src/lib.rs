//! cargo-tracer: trace what every crate in a Rust build does to the machine, and judge it.
//!
//! Data flows one way: [`loader`] (probes in the kernel) → [`events`] (raw records decoded into
//! owned events) → [`proctable`] (process tree, path resolution) → [`trace`] (the typed trace:
//! records, cargo's messages, start and end) → [`attribution`] (which crate and phase, from
//! [`cargo`]'s messages) → [`aggregate`] (per-crate behaviours) → [`report`] → with
//! [`analysis`] (static findings) → [`policy`] (the verdict). [`session`] runs a traced
//! command; [`check`] is the use case of `build|test`; [`output`] renders everything; [`cli`]
//! turns flags into options. Every stage speaks [`model`]'s vocabulary.

pub mod aggregate;
pub mod analysis;
pub mod attribution;
pub mod cargo;
pub mod check;
pub mod cli;
pub mod daemon;
pub mod events;
pub mod files;
pub mod identity;
pub mod loader;
pub mod memory;
pub mod model;
pub mod output;
pub mod policy;
pub mod proctable;
pub mod report;
pub mod session;
pub mod stacks;
pub mod trace;

/// An error with its causes, `outer: cause: cause` (each error's message names only itself,
/// as `std`'s convention asks, so the chain is written out where it is shown).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
