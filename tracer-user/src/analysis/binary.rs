//! Artifact-level findings (filled in by the artifact scanner).
