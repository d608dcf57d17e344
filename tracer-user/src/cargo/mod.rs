//! Cargo as the traced command: the command lines `cargo tracer build|test` runs, the graph
//! `cargo metadata` describes, cargo's JSON messages (which package each compiled unit, build
//! script and test binary belongs to), and what the session needs to know while cargo runs.

pub mod build;
pub mod graph;
pub mod invocation;
pub mod lockfile;
pub mod messages;
pub mod observer;
