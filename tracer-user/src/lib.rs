//! cargo-tracer: trace what every crate in a Rust build does to the machine.
//!
//! Data flows one way: [`loader`] (probes in the kernel) → [`events`] (raw records decoded into
//! owned events) → [`proctable`] (process tree, path resolution) → [`record`] (JSON Lines) →
//! [`attribution`] (which crate and phase, from [`cargo`]'s messages) → [`aggregate`]
//! (per-crate behaviours) → [`report`]. [`session`] runs a traced command; [`summary`] and
//! [`digest`] describe a plain `run`.

pub mod aggregate;
pub mod analysis;
pub mod attribution;
pub mod cargo;
pub mod digest;
pub mod events;
pub mod identity;
pub mod loader;
pub mod pipeline;
pub mod policy;
pub mod proctable;
pub mod record;
pub mod report;
pub mod session;
pub mod sink;
pub mod summary;
