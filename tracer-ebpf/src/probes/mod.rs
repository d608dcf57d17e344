//! The programs, one file per area.

mod file;
mod net;
mod process;
mod syscall;
