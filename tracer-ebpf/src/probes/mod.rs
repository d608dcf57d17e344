//! The programs, one file per area.

mod file;
mod net;
mod proc_macro;
mod process;
mod stack;
mod syscall;
mod tamper;
