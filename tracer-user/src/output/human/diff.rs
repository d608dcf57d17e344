//! What `cargo tracer diff` prints: each behaviour new since the baseline, one a line.

use std::fmt::Write as _;

use crate::{output::escape::human as h, policy::suggest::NewBehavior};

/// One line per new behaviour, then the count.
pub fn render(new: &[NewBehavior], baseline: &str) -> String {
    let mut s = String::new();
    for n in new {
        let _ = writeln!(
            s,
            "{}: {} {} {} {}",
            if n.now_succeeds {
                "now succeeds"
            } else {
                "new"
            },
            h(&n.who),
            n.phase,
            n.kind,
            h(&n.target)
        );
    }
    let _ = writeln!(s, "{} new behaviour(s) since {}", new.len(), h(baseline));
    s
}
