//! Configuration diagnostics: `file:line:col`, the offending line with a caret under the span,
//! and a hint — every problem of a file is collected, not just the first.

use std::fmt::Write as _;

/// One problem in a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Kebab-case code (`unknown-key`, `missing-reason`…).
    pub code: &'static str,
    pub message: String,
    pub file: String,
    /// Byte range in the file.
    pub span: (usize, usize),
    pub help: Option<String>,
}

/// 1-based line and column of byte offset `at` in `text`.
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

impl Diagnostic {
    /// `error[code]: message` with the location, the source line and the hint.
    pub fn render(&self, text: &str) -> String {
        let (line, col) = line_col(text, self.span.0);
        let src = text.lines().nth(line - 1).unwrap_or("");
        let width = text[self.span.0.min(text.len())..self.span.1.min(text.len())]
            .lines()
            .next()
            .map(|l| l.chars().count())
            .unwrap_or(1)
            .max(1);
        let gutter = line.to_string().len();
        let mut s = String::new();
        let _ = writeln!(s, "error[{}]: {}", self.code, self.message);
        let _ = writeln!(s, "{:gutter$}--> {}:{line}:{col}", "", self.file);
        let _ = writeln!(s, "{:gutter$} |", "");
        let _ = writeln!(s, "{line} | {src}");
        let _ = writeln!(
            s,
            "{:gutter$} | {}{}",
            "",
            " ".repeat(col - 1),
            "^".repeat(width)
        );
        if let Some(h) = &self.help {
            let _ = writeln!(s, "{:gutter$} = help: {h}", "");
        }
        s
    }
}

/// The closest of `candidates` to `word`, if close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (levenshtein(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min()
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_location_snippet_caret_and_help() {
        let text = "[[allow]]\ncrate = \"cc\"\nwirte = []\n";
        let at = text.find("wirte").unwrap();
        let d = Diagnostic {
            code: "unknown-key",
            message: "unknown key `wirte`".into(),
            file: "tracer.toml".into(),
            span: (at, at + 5),
            help: Some("did you mean `write`?".into()),
        };
        let r = d.render(text);
        assert!(r.contains("--> tracer.toml:3:1"), "{r}");
        assert!(r.contains("3 | wirte = []"), "{r}");
        assert!(r.contains("  | ^^^^^"), "{r}");
        assert!(r.contains("help: did you mean `write`?"), "{r}");
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("wirte", &["read", "write", "delete"]),
            Some("write")
        );
        assert_eq!(did_you_mean("hots", &["hosts", "listen"]), Some("hosts"));
        assert_eq!(did_you_mean("zzzzzz", &["read", "write"]), None);
    }
}
