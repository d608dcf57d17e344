//! Scan orchestration (filled in).
