//! Configuration diagnostics: every problem of a file collected, each with its code, its place
//! (`file:line:col`), the source lines under labels, and a hint — rendered by
//! codespan-reporting as cargo-deny renders its own.

use codespan_reporting::{
    diagnostic::{Diagnostic as Rendered, Label},
    files::SimpleFile,
    term,
};

/// One problem in a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Kebab-case code (`unknown-key`, `missing-reason`…).
    pub code: &'static str,
    pub message: String,
    /// Byte range of the primary label.
    pub span: (usize, usize),
    /// What the primary label says.
    pub label: String,
    /// Other places that explain it (the entry a key is in…).
    pub secondary: Vec<((usize, usize), String)>,
    pub help: Option<String>,
    /// Rendered as a warning (the file loads), not an error.
    pub warning: bool,
}

impl Diagnostic {
    pub fn new(code: &'static str, span: (usize, usize), message: String) -> Self {
        Self {
            code,
            message,
            span,
            label: String::new(),
            secondary: Vec::new(),
            help: None,
            warning: false,
        }
    }

    pub fn warning(mut self) -> Self {
        self.warning = true;
        self
    }

    pub fn label(mut self, text: impl Into<String>) -> Self {
        self.label = text.into();
        self
    }

    pub fn also(mut self, span: (usize, usize), text: impl Into<String>) -> Self {
        self.secondary.push((span, text.into()));
        self
    }

    pub fn help(mut self, text: Option<String>) -> Self {
        self.help = text;
        self
    }

    fn to_codespan(&self) -> Rendered<()> {
        let mut labels =
            vec![Label::primary((), self.span.0..self.span.1).with_message(&self.label)];
        labels.extend(
            self.secondary
                .iter()
                .map(|(s, m)| Label::secondary((), s.0..s.1).with_message(m)),
        );
        if self.warning {
            Rendered::warning()
        } else {
            Rendered::error()
        }
        .with_code(self.code)
        .with_message(&self.message)
        .with_labels(labels)
        .with_notes(self.help.iter().cloned().collect())
    }

    /// For people: `error[code]: message`, the place, the lines with their labels, the hint.
    pub fn render(&self, file: &str, text: &str) -> String {
        let f = SimpleFile::new(file, text);
        term::emit_into_string(&term::Config::default(), &f, &self.to_codespan())
            .unwrap_or_else(|_| format!("error[{}]: {} ({file})\n", self.code, self.message))
    }
}

/// Renders the diagnostics of one file, in the order they appear in it.
pub fn render_all(file: &str, text: &str, diags: &mut [Diagnostic]) -> String {
    diags.sort_by_key(|d| d.span);
    diags.iter().map(|d| d.render(file, text)).collect()
}

/// Line and column lookups in one text, in logarithmic time (a policy of many entries asks for
/// each entry's line: scanning from the start each time made loading quadratic).
pub struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset where each line starts.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { text, starts }
    }

    /// 1-based line and column (in characters) of byte offset `at`.
    pub fn line_col(&self, at: usize) -> (usize, usize) {
        let at = at.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= at);
        let start = self.starts[line - 1];
        let col = self.text.get(start..at).map_or(0, |t| t.chars().count()) + 1;
        (line, col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_count_characters() {
        let text = "a\nbé\n\nlast";
        let ix = LineIndex::new(text);
        let at = |needle: &str| text.find(needle).unwrap();
        assert_eq!(ix.line_col(0), (1, 1));
        assert_eq!(ix.line_col(at("é")), (2, 2));
        assert_eq!(ix.line_col(at("last")), (4, 1));
        assert_eq!(ix.line_col(text.len()), (4, 5));
        assert_eq!(ix.line_col(text.len() + 9), (4, 5));
    }

    #[test]
    fn renders_location_lines_labels_and_help() {
        let text = "[[allow]]\ncrate = \"cc\"\nwirte = []\n";
        let at = text.find("wirte").unwrap();
        let d = Diagnostic::new("unknown-key", (at, at + 5), "unknown key `wirte`".into())
            .label("not a key of an allow entry")
            .also((0, 9), "in this entry")
            .help(Some("did you mean `write`?".into()));
        let r = d.render("tracer.toml", text);
        assert!(
            r.starts_with("error[unknown-key]: unknown key `wirte`"),
            "{r}"
        );
        assert!(r.contains("tracer.toml:3:1"), "{r}");
        assert!(r.contains("3 │ wirte = []"), "{r}");
        assert!(r.contains("^^^^^ not a key of an allow entry"), "{r}");
        assert!(r.contains("in this entry"), "{r}");
        assert!(r.contains("= did you mean `write`?"), "{r}");
    }
}
