//! cargo-tracer: trace what every crate in a Rust build does to the machine.
//!
//! Data flows one way: [`loader`] (probes in the kernel) → [`events`] (raw records decoded into
//! owned events) → [`proctable`] (process tree, path resolution) → [`record`] (JSON Lines) and
//! [`summary`]. [`session`] wires them together for `cargo tracer run`.

pub mod digest;
pub mod events;
pub mod identity;
pub mod loader;
pub mod pipeline;
pub mod proctable;
pub mod record;
pub mod session;
pub mod summary;
