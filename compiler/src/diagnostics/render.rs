//! Turning diagnostics into text. Finding code never formats; it builds [`Diagnostic`]s.

use super::{Diagnostic, LineIndex, Severity};
use std::collections::HashMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The texts of the files diagnostics point into, kept so that rendering can show locations.
#[derive(Default)]
pub struct Sources {
    files: HashMap<PathBuf, (String, LineIndex)>,
}

impl Sources {
    pub fn add(&mut self, path: &Path, text: &str) {
        self.files
            .insert(path.to_path_buf(), (text.to_string(), LineIndex::new(text)));
    }

    /// The text of 1-based `line` of a known file, without its line break.
    pub fn line_text(&self, file: Option<&PathBuf>, line: usize) -> Option<&str> {
        let (text, idx) = self.files.get(file?)?;
        let (s, e) = idx.line_range(text, line);
        text.get(s..e)
    }

    /// 1-based (line, column) of a byte offset in a known file.
    pub fn line_col(&self, file: Option<&PathBuf>, offset: usize) -> Option<(usize, usize)> {
        let (text, idx) = self.files.get(file?)?;
        Some(idx.line_col(text, offset.min(text.len())))
    }

    /// `file:line:col` for a diagnostic, or just the file when it has no span.
    pub fn location(&self, d: &Diagnostic) -> Option<(String, Option<(usize, usize)>)> {
        let file = d.file.as_ref()?;
        let name = file.display().to_string();
        let pos = match (d.span, self.files.get(file)) {
            (Some(span), Some((text, idx))) => Some(idx.line_col(text, span.start)),
            _ => None,
        };
        Some((name, pos))
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// `file:line:col: error[CODE] message` — one line per diagnostic, notes indented below.
pub fn concise(sources: &Sources, d: &Diagnostic) -> String {
    let mut out = String::new();
    match sources.location(d) {
        Some((file, Some((line, col)))) => write!(out, "{file}:{line}:{col}: ").unwrap(),
        Some((file, None)) => write!(out, "{file}: ").unwrap(),
        None => {}
    }
    write!(
        out,
        "{}[{}] {}",
        severity_word(d.severity),
        d.code,
        d.message
    )
    .unwrap();
    for note in &d.notes {
        write!(out, "\n  = {note}").unwrap();
    }
    out
}

/// The concise line followed by the offending source line and a caret under the span.
pub fn full(sources: &Sources, d: &Diagnostic) -> String {
    full_styled(sources, d, false)
}

/// Whether to colour output on stderr: a terminal, and `NO_COLOR` unset or empty
/// (https://no-color.org).
pub fn stderr_color() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// [`full`], with ANSI colours when `color`: the severity and the caret in red (errors) or
/// yellow (warnings), the location arrow in blue.
pub fn full_styled(sources: &Sources, d: &Diagnostic, color: bool) -> String {
    let (hue, blue, reset) = if color {
        let hue = match d.severity {
            Severity::Error => "\x1b[1;31m",
            Severity::Warning => "\x1b[1;33m",
            Severity::Info => "\x1b[1;36m",
        };
        (hue, "\x1b[1;34m", "\x1b[0m")
    } else {
        ("", "", "")
    };
    let mut out = String::new();
    match sources.location(d) {
        Some((file, Some((line, col)))) => {
            write!(
                out,
                "{hue}{}[{}]{reset}: {}\n {blue}-->{reset} {file}:{line}:{col}",
                severity_word(d.severity),
                d.code,
                d.message
            )
            .unwrap();
            let (text, idx) = &sources.files[d.file.as_ref().unwrap()];
            let (s, e) = idx.line_range(text, line);
            let src = &text[s..e];
            let span = d.span.unwrap();
            let width = if span.end > span.start && span.end <= e {
                text[span.start..span.end].chars().count().max(1)
            } else {
                1
            };
            let gutter = line.to_string().len();
            write!(
                out,
                "\n{:gutter$} |\n{line} | {src}\n{:gutter$} | {}{hue}{}{reset}",
                "",
                "",
                " ".repeat(col - 1),
                "^".repeat(width)
            )
            .unwrap();
        }
        Some((file, None)) => write!(
            out,
            "{}[{}]: {}\n --> {file}",
            severity_word(d.severity),
            d.code,
            d.message
        )
        .unwrap(),
        None => write!(
            out,
            "{}[{}]: {}",
            severity_word(d.severity),
            d.code,
            d.message
        )
        .unwrap(),
    }
    for note in &d.notes {
        write!(out, "\n  = {note}").unwrap();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Span;

    #[test]
    fn colours_only_when_asked() {
        let mut s = Sources::default();
        let f = PathBuf::from("r.kql");
        s.add(&f, "T | where x\n");
        let d = Diagnostic::error("DR002", "unknown column `x`")
            .with_file(&f)
            .with_span(Span::new(10, 11));
        let plain = full_styled(&s, &d, false);
        assert!(!plain.contains('\x1b'));
        assert!(plain.contains("error[DR002]: unknown column `x`\n --> r.kql:1:11"));
        let coloured = full_styled(&s, &d, true);
        assert!(coloured.contains("\x1b[1;31merror[DR002]\x1b[0m"));
        assert_eq!(plain, full(&s, &d));
    }
}
