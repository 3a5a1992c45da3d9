//! DL060 (warning): a character outside ASCII in a rule file. Sentinel's repository CI requires
//! pure ASCII in detections, hunting queries and parsers; such characters are usually pasted
//! typographic quotes or dashes (`’`, `–`) or invisible spaces. A byte-order mark at the start
//! is reported once, as such; CRLF line ends and tabs are ASCII and never reported.

use super::CheckDoc;
use crate::diagnostics::{codes, Diagnostic, Span};

pub const DOC: CheckDoc = CheckDoc {
    code: codes::NON_ASCII,
    summary: "a character outside ASCII in a rule file",
    doc: concat!(
        "What: any character above U+007F in the file (one finding per line, at its first such\n",
        "character). A UTF-8 byte-order mark is reported on its own.\n",
        "Why: Sentinel's repository CI rejects rule files that are not pure ASCII; the usual cause\n",
        "is a typographic quote, dash or non-breaking space pasted from a document.\n",
        "Example:\n",
        "  description: 'Detects the attacker’s logon'   # DL060: U+2019 RIGHT SINGLE QUOTATION MARK\n",
    ),
};

/// A few characters worth naming; others are shown by code point.
fn name(c: char) -> &'static str {
    match c {
        '\u{2018}' | '\u{2019}' => "a typographic single quote",
        '\u{201C}' | '\u{201D}' => "a typographic double quote",
        '\u{2013}' | '\u{2014}' => "a dash",
        '\u{00A0}' => "a non-breaking space",
        '\u{200B}' => "a zero-width space",
        _ => "a non-ASCII character",
    }
}

pub fn check(text: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut body = text;
    let mut offset = 0;
    if let Some(rest) = text.strip_prefix('\u{FEFF}') {
        out.push(
            Diagnostic::warning(
                codes::NON_ASCII,
                "the file starts with a UTF-8 byte-order mark",
            )
            .with_span(Span::new(0, 3))
            .with_fix(
                "remove the byte-order mark",
                vec![(Span::new(0, 3), String::new())],
            ),
        );
        body = rest;
        offset = 3;
    }
    let mut line_start = offset;
    for line in body.split_inclusive('\n') {
        if let Some((i, c)) = line.char_indices().find(|(_, c)| !c.is_ascii()) {
            let at = line_start + i;
            out.push(
                Diagnostic::warning(
                    codes::NON_ASCII,
                    format!("{} (U+{:04X}) in a rule file", name(c), c as u32),
                )
                .with_span(Span::new(at, at + c.len_utf8()))
                .with_note("Sentinel's repository CI accepts ASCII only"),
            );
        }
        line_start += line.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_ascii_bom_crlf_tabs() {
        assert!(check("a: b\r\n\tc: d\r\n").is_empty());
        let out = check("\u{FEFF}name: x\ndescription: it’s – here\nq: ok\n");
        assert_eq!(out.len(), 2);
        assert!(out[0].message.contains("byte-order mark"));
        assert!(out[1].message.contains("U+2019"));
        // One finding per line, at the first character: "description: it" is 15 bytes.
        assert_eq!(out[1].span, Some(Span::new(3 + 8 + 15, 3 + 8 + 18)));
    }
}
