//! A test harness (libtest-mimic) for test files with real-probe tests: a test that needs root
//! is reported as *ignored* with the reason when not root, so a run without privileges says
//! how much it did not test instead of counting it as passed.
//!
//! ```ignore
//! fn main() {
//!     tracer_test_support::harness::main(vec![root("traces_a_build", traces_a_build)]);
//! }
//! ```

use libtest_mimic::{Arguments, Completion, Trial};

/// A test that runs anywhere.
pub fn test(name: &str, f: fn()) -> Trial {
    Trial::test(name, move || {
        f();
        Ok(())
    })
}

/// A test that loads the probes: skipped (with the reason) when not root.
pub fn root(name: &str, f: fn()) -> Trial {
    Trial::ignorable_test(name, move || {
        if !crate::is_root() {
            return Ok(Completion::ignored_with(
                "needs root (or CAP_BPF+CAP_PERFMON) to load the probes",
            ));
        }
        f();
        Ok(Completion::Completed)
    })
}

/// Runs `trials` as the test binary's `main` (libtest's flags and output).
pub fn main(trials: Vec<Trial>) -> ! {
    libtest_mimic::run(&Arguments::from_args(), trials).exit()
}

/// `tests![root: a, b; plain: c]`: trials named after the functions.
#[macro_export]
macro_rules! tests {
    (root: $($r:ident),* $(,)?; plain: $($p:ident),* $(,)?) => {
        vec![
            $($crate::harness::root(stringify!($r), $r),)*
            $($crate::harness::test(stringify!($p), $p),)*
        ]
    };
    (root: $($r:ident),* $(,)?) => {
        vec![$($crate::harness::root(stringify!($r), $r)),*]
    };
}
