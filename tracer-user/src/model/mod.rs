//! The vocabulary every stage shares, defined once: behaviour and finding kinds, phases and
//! target kinds, package identity, process chains, references to rules and findings, the
//! placeholders of a build's directories, and verdict levels. Typed and serde-able, so stages
//! hand each other data, never strings to parse back.

pub(crate) mod names;

pub mod chain;
pub mod context;
pub mod findings;
pub mod graph;
pub mod kind;
pub mod level;
pub mod package;
pub mod phase;
pub mod placeholder;
pub mod refs;

pub use chain::{ChainLink, ProcessChain};
pub use context::BuildContext;
pub use kind::{FindingKind, Kind};
pub use level::{Code, Level, LevelName};
pub use names::{UnknownName, did_you_mean};
pub use package::{Package, PackageKey};
pub use phase::{Phase, TargetKind};
pub use placeholder::Placeholder;
pub use refs::{FindingRef, RuleRef};
