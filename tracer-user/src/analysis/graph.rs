//! The dependency graph (filled in).
