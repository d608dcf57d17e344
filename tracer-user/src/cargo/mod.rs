//! What cargo tells us about a build: its JSON messages (which package each compiled unit,
//! build script and test binary belongs to) and the command lines we run it with.

pub mod invocation;
pub mod messages;
pub mod stdout;
pub mod trace;
