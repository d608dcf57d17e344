//! Small text helpers shared by the renderers for people.

use crate::model::ProcessChain;

/// `text` cut to `width` characters by replacing its middle with `…`, keeping `head`
/// characters of its start.
pub fn elide(text: &str, width: usize, head: usize) -> String {
    let n = text.chars().count();
    if n <= width {
        return text.to_string();
    }
    let start: String = text.chars().take(head).collect();
    let tail: String = text.chars().skip(n - (width - head - 1)).collect();
    format!("{start}…{tail}")
}

/// `cargo[10] > build-script-build[12] > sh[13]` (names escaped for people: a process names
/// itself).
pub fn chain(c: &ProcessChain) -> String {
    c.links()
        .iter()
        .map(|l| format!("{}[{}]", super::escape::human(&l.name), l.pid))
        .collect::<Vec<_>>()
        .join(" > ")
}

/// The word for a level in diagnostics (`error[violation]`).
pub fn mark(l: crate::model::Level) -> &'static str {
    match l {
        crate::model::Level::Deny => "error",
        crate::model::Level::Warn => "warning",
        crate::model::Level::Allow => "note",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elides_long_targets_in_the_middle() {
        let t = format!("/a/{}/z.rs", "m".repeat(100));
        let e = elide(&t, 30, 10);
        assert_eq!(e.chars().count(), 30);
        assert!(e.starts_with("/a/") && e.ends_with("z.rs") && e.contains('…'));
        assert_eq!(elide("/short", 30, 10), "/short");
    }
}
