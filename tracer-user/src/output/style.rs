//! Colour for people. Renderers always style their text; the stream it is written to decides
//! whether the styles stay (a terminal, `--color always`) or are stripped (a pipe, a file,
//! `NO_COLOR`, `--color never`) — see [`strip`]. Styles wrap only our own words: data from the
//! trace is escaped first, so it can carry no escape sequence of its own.

use anstyle::{AnsiColor, Effects, Style};

use super::matrix::Shade;
use crate::model::Level;

pub const BOLD: Style = Style::new().effects(Effects::BOLD);
pub const DIM: Style = Style::new().effects(Effects::DIMMED);
pub const ERROR: Style = AnsiColor::Red.on_default().effects(Effects::BOLD);
pub const WARN: Style = AnsiColor::Yellow.on_default().effects(Effects::BOLD);
pub const NOTE: Style = AnsiColor::Cyan.on_default().effects(Effects::BOLD);
pub const GOOD: Style = AnsiColor::Green.on_default().effects(Effects::BOLD);

/// `text` in `style`.
pub fn paint(style: Style, text: &str) -> String {
    format!("{}{text}{}", style.render(), style.render_reset())
}

/// The style of a diagnostic's level word.
pub fn level(l: Level) -> Style {
    match l {
        Level::Deny => ERROR,
        Level::Warn => WARN,
        Level::Allow => NOTE,
    }
}

/// The style of a matrix cell.
pub fn shade(s: Shade) -> Style {
    match s {
        Shade::Unexpected => AnsiColor::Magenta.on_default().effects(Effects::BOLD),
        Shade::Violation => ERROR,
        Shade::Dormant => AnsiColor::Yellow.on_default(),
        Shade::Allowed => AnsiColor::Green.on_default(),
        Shade::Routine => DIM,
    }
}

/// `text` without its styles (for files and pipes).
pub fn strip(text: &str) -> String {
    anstream::adapter::strip_str(text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripping_removes_exactly_the_styles() {
        let s = format!("{} and {}", paint(ERROR, "error"), paint(DIM, "x\\x1b[31m"));
        assert!(s.contains('\x1b'));
        assert_eq!(strip(&s), "error and x\\x1b[31m");
    }
}
