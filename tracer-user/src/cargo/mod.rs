//! Cargo as the traced command: the command lines `cargo tracer build|test` runs, the graph
//! `cargo metadata` describes, cargo's JSON messages (which package each compiled unit, build
//! script and test binary belongs to), what the session needs to know while cargo runs, and — for cargo runs the daemon saw but did
//! not start — those messages inferred from what the kernel showed.

pub mod build;
pub mod graph;
pub mod inferred;
pub mod invocation;
pub mod lockfile;
pub mod messages;
pub mod observer;
