//! One escaping rule per output. Every string a report shows that came from the trace — file
//! names, argv, DNS names, `comm`, crate names and sources, finding snippets — was chosen by the
//! code being judged: renderers pass it through the rule of their output, so it stays data and
//! never becomes terminal control, a CI workflow command or markup. (JSON and SARIF are escaped
//! by their serializer, TOML by `toml_writer`.)

use std::borrow::Cow;

/// Invisible or direction-changing characters, and whitespace other than the space: shown
/// escaped so what a reader sees is what the bytes are.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00a0}' | '\u{00ad}' | '\u{061c}' | '\u{115f}' | '\u{1160}' | '\u{1680}'
            | '\u{180e}' | '\u{2000}'..='\u{200f}' | '\u{2028}'..='\u{202f}'
            | '\u{205f}'..='\u{206f}' | '\u{3000}' | '\u{3164}' | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}' | '\u{e0000}'..='\u{e007f}')
}

fn push_escaped(out: &mut String, c: char) {
    if (c as u32) < 0x100 {
        out.push_str(&format!("\\x{:02x}", c as u32));
    } else {
        out.push_str(&format!("\\u{{{:x}}}", c as u32));
    }
}

/// For people (a terminal, a CI log). Control characters (C0, DEL, C1), invisible and
/// bidirectional formatting characters and whitespace other than the space are shown as
/// `\x1b` or `\u{202e}`, a backslash as `\\`; a value that would begin a workflow command
/// (`::` after spaces: GitHub's runner trims a line before looking) gets its first `:` escaped,
/// and the legacy `##[` its second `#`. Printable text, including any script, stays as it is.
pub fn human(s: &str) -> Cow<'_, str> {
    let starts_command = s.trim_start_matches(' ').starts_with("::");
    if !starts_command && !s.contains("##[") && !s.chars().any(|c| c == '\\' || is_hidden(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let lead = s.len() - s.trim_start_matches(' ').len();
    for (i, c) in s.char_indices() {
        if c == '\\' {
            out.push_str("\\\\");
        } else if is_hidden(c)
            || (starts_command && i == lead)
            || (c == '#' && s[..i].ends_with('#') && s[i + 1..].starts_with('['))
        {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A Markdown code span showing `s` literally: hidden characters escaped as for people, and a
/// fence of more backticks than any run inside, so the data cannot close it. `in_table`: also
/// `|` escaped, which a GitHub table cell needs even inside a code span.
pub fn markdown_code(s: &str, in_table: bool) -> String {
    let text = human(s);
    let text = if in_table {
        text.replace('|', "\\|")
    } else {
        text.into_owned()
    };
    if text.is_empty() {
        return String::new();
    }
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    // CommonMark strips one space from each side when both are there, and a backtick next to
    // the fence would lengthen it: pad in those cases.
    let pad = text.starts_with('`')
        || text.ends_with('`')
        || (text.starts_with(' ') && text.ends_with(' ') && !text.trim().is_empty());
    let sp = if pad { " " } else { "" };
    format!("{fence}{sp}{text}{sp}{fence}")
}

/// The message of a GitHub workflow command (`::error …::MESSAGE`): hidden characters shown
/// as for people ([`human`] leaves no CR or LF, so a line break in the data cannot end the
/// command and start another), and `%` encoded, which the runner would decode.
pub fn workflow_data(s: &str) -> String {
    human(s).replace('%', "%25")
}

/// A property of a workflow command (`file=…,title=…`): as [`workflow_data`], and `:` and `,`
/// encoded, which would otherwise end the value.
pub fn workflow_property(s: &str) -> String {
    workflow_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_commands_cannot_be_broken_out_of() {
        assert_eq!(
            workflow_data("50% a\n::add-mask::x"),
            "50%25 a\\x0a::add-mask::x"
        );
        assert_eq!(workflow_property("a,b:c%0A"), "a%2Cb%3Ac%250A");
    }

    #[test]
    fn data_cannot_control_the_terminal_or_the_ci_log() {
        assert_eq!(human("/usr/lib/x.so"), "/usr/lib/x.so");
        assert_eq!(human("a\nb\x1b[2J\u{202e}c"), "a\\x0ab\\x1b[2J\\u{202e}c");
        assert_eq!(human("x\\y"), "x\\\\y");
        assert_eq!(human("::error title=x::y"), "\\x3a:error title=x::y");
        assert_eq!(human("  ::add-mask::z"), "  \\x3a:add-mask::z");
        assert_eq!(human("a ##[error]b"), "a #\\x23[error]b");
        assert_eq!(human("[::1]:53"), "[::1]:53");
        assert_eq!(human("\u{2003}::x"), "\\u{2003}::x");
        assert_eq!(human("Grüße 文件"), "Grüße 文件");
    }

    #[test]
    fn code_spans_cannot_be_closed_by_their_content() {
        assert_eq!(markdown_code("a|b", true), "`a\\|b`");
        assert_eq!(markdown_code("a|b", false), "`a|b`");
        assert_eq!(markdown_code("x`y", false), "``x`y``");
        assert_eq!(markdown_code("`x", false), "`` `x ``");
        assert_eq!(markdown_code("a\n## b", false), "`a\\x0a## b`");
        assert_eq!(markdown_code("", false), "");
    }
}
