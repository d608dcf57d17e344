//! When code ran (the phase the trace shows it in) and what kind of code it is (the target it
//! belongs to). A build script is both; library code runs in whichever phase links it.

use super::names::named_enum;

/// What part of a crate's life an event happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    /// The build script, and every process it started.
    BuildScript,
    /// The crate's proc macro, running inside rustc while another crate compiles.
    ProcMacro,
    /// rustc compiling the crate (and the linker it runs).
    Compile,
    /// A test, bench or doctest of the crate, run by cargo.
    Test,
    /// A binary of the crate.
    Run,
    /// The crate's library code, running inside a test or binary of another package (its own
    /// functions were on the call's stack: runtime attribution).
    Runtime,
    /// The crate's code running before `main` of a program that links it (`.init_array`).
    Constructor,
    /// Cargo itself.
    Cargo,
}

named_enum!(Phase, "a phase" {
    BuildScript => "build-script",
    ProcMacro => "proc-macro",
    Compile => "compile",
    Test => "test",
    Run => "run",
    Runtime => "runtime",
    Constructor => "constructor",
    Cargo => "cargo",
});

impl Phase {
    /// The phases an allow entry may name (cargo's own phase belongs to no crate).
    pub const OF_CRATES: &'static [Phase] = &[
        Phase::BuildScript,
        Phase::ProcMacro,
        Phase::Compile,
        Phase::Test,
        Phase::Run,
        Phase::Runtime,
        Phase::Constructor,
    ];

    /// Kinds of code whose static findings can explain what was observed in this phase.
    pub fn explained_by(self) -> &'static [TargetKind] {
        match self {
            Self::BuildScript => &[TargetKind::BuildScript, TargetKind::Library],
            Self::ProcMacro => &[TargetKind::ProcMacro, TargetKind::Library],
            Self::Compile => &[TargetKind::Library],
            Self::Test => &[TargetKind::Test, TargetKind::Library, TargetKind::Binary],
            Self::Run => &[TargetKind::Binary, TargetKind::Library],
            Self::Runtime | Self::Constructor => &[TargetKind::Library],
            Self::Cargo => &[],
        }
    }
}

/// Which part of a crate code belongs to (cargo's target kinds, grouped by how they run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TargetKind {
    /// `build.rs` and the modules it includes: runs on the build machine.
    BuildScript,
    /// A proc-macro crate: runs inside rustc on the build machine.
    ProcMacro,
    /// The library: runs wherever it is linked.
    Library,
    /// A binary target.
    Binary,
    /// Tests, benches and examples.
    Test,
}

named_enum!(TargetKind, "a target kind" {
    BuildScript => "build-script",
    ProcMacro => "proc-macro",
    Library => "library",
    Binary => "binary",
    Test => "test",
});

impl TargetKind {
    /// From a target's `kind` list as cargo writes it (`["custom-build"]`, `["lib", "rlib"]`…).
    pub fn from_cargo<S: AsRef<str>>(kinds: &[S]) -> Self {
        let has = |k: &str| kinds.iter().any(|x| x.as_ref() == k);
        if has("custom-build") {
            Self::BuildScript
        } else if has("proc-macro") {
            Self::ProcMacro
        } else if has("bin") {
            Self::Binary
        } else if has("test") || has("bench") || has("example") {
            Self::Test
        } else {
            Self::Library
        }
    }

    /// Code that runs while the crate is being built (what a build-time attack uses).
    pub fn runs_at_build_time(self) -> bool {
        matches!(self, Self::BuildScript | Self::ProcMacro)
    }

    /// The phase this code runs in when a build runs it (library code: as part of a program).
    pub fn run_phase(self) -> Phase {
        match self {
            Self::BuildScript => Phase::BuildScript,
            Self::ProcMacro => Phase::ProcMacro,
            Self::Test => Phase::Test,
            Self::Library | Self::Binary => Phase::Run,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_target_kinds() {
        assert_eq!(
            TargetKind::from_cargo(&["custom-build"]),
            TargetKind::BuildScript
        );
        assert_eq!(
            TargetKind::from_cargo(&["proc-macro"]),
            TargetKind::ProcMacro
        );
        assert_eq!(
            TargetKind::from_cargo(&["lib", "rlib"]),
            TargetKind::Library
        );
        assert_eq!(TargetKind::from_cargo(&["example"]), TargetKind::Test);
        assert_eq!(
            "biuld-script".parse::<Phase>().unwrap_err().suggestion(),
            Some("build-script")
        );
    }
}
