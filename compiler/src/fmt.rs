//! `detc fmt`: a rule's query in canonical layout. The formatter works on tokens, so the query
//! keeps its lets, its comments, its spelling of every literal and name: only the whitespace
//! between tokens changes. Each statement starts a line; each `|` at any bracket depth starts a
//! line, indented by its depth; runs of spaces and line breaks become one space (none where the
//! source had none); a comment keeps its text and ends its line.
//!
//! Safety: the result is lexed again and must give the same tokens as the source, or the
//! formatter refuses (nothing is rewritten).

use crate::syntax::lexer::{lex, Tok};

/// The query `src` in canonical layout, or why it cannot be formatted.
pub fn format_kql(src: &str) -> Result<String, String> {
    let (toks, diags) = lex(src);
    if let Some(d) = diags.first() {
        return Err(format!("the query does not lex: {}", d.message));
    }
    let toks: Vec<_> = toks.into_iter().filter(|t| t.tok != Tok::Eof).collect();
    let mut out = String::new();
    let mut depth: usize = 0;
    let mut prev_end = 0;
    let mut line_start = true;
    for (i, t) in toks.iter().enumerate() {
        let gap = &src[prev_end..t.span.start];
        let text = &src[t.span.start..t.span.end];
        let is_pipe = t.tok == Tok::Punct("|");
        let closes = matches!(t.tok, Tok::Punct(")") | Tok::Punct("]") | Tok::Punct("}"));
        let after_open = i > 0
            && matches!(
                toks[i - 1].tok,
                Tok::Punct("(") | Tok::Punct("[") | Tok::Punct("{")
            );
        if closes {
            depth = depth.saturating_sub(1);
        }
        // Comments in the gap: one that followed a line break keeps a line of its own, one
        // after code stays at the end of that line.
        let mut rest = gap;
        let mut broke = false;
        while let Some(k) = rest.find("//") {
            let own_line = rest[..k].contains('\n') || (i == 0 && prev_end == 0);
            let end = rest[k..].find('\n').map_or(rest.len(), |e| k + e);
            let comment = rest[k..end].trim_end();
            if own_line {
                if !line_start {
                    out.push('\n');
                }
                out.push_str(&"  ".repeat(depth));
            } else if !line_start {
                out.push(' ');
            } else if out.ends_with(";\n") {
                // A comment after a statement's `;` stays on the statement's line.
                out.pop();
                out.push(' ');
            } else {
                out.push_str(&"  ".repeat(depth));
            }
            out.push_str(comment);
            out.push('\n');
            line_start = true;
            broke = true;
            rest = &rest[end..];
        }
        let newline_in_gap = rest.contains('\n') || broke;
        let breaks = i > 0 && (is_pipe || (newline_in_gap && (closes || after_open)));
        if breaks && !line_start {
            out.push('\n');
            line_start = true;
        }
        if line_start {
            out.push_str(&"  ".repeat(depth));
        } else if !gap.is_empty() || matches!(toks[i - 1].tok, Tok::Punct(",") | Tok::Punct("|")) {
            out.push(' ');
        }
        out.push_str(text);
        line_start = false;
        if matches!(t.tok, Tok::Punct("(") | Tok::Punct("[") | Tok::Punct("{")) {
            depth += 1;
        }
        if t.tok == Tok::Punct(";") {
            out.push('\n');
            line_start = true;
        }
        prev_end = t.span.end;
    }
    let tail: Vec<&str> = src[prev_end..]
        .lines()
        .filter_map(|l| l.find("//").map(|k| l[k..].trim_end()))
        .collect();
    for c in tail {
        if !line_start {
            out.push('\n');
        }
        out.push_str(c);
        line_start = false;
    }
    let out = out.trim_end().to_string() + "\n";
    // The same tokens, or nothing.
    let (again, _) = lex(&out);
    let same = again
        .iter()
        .filter(|t| t.tok != Tok::Eof)
        .map(|t| &t.tok)
        .eq(toks.iter().map(|t| &t.tok));
    if !same {
        return Err("the formatted query would lex differently; left as it is".into());
    }
    Ok(out)
}

/// The rule file `file` with its `query` block scalar replaced by `query` (already formatted),
/// indented as the block was. `start` and `end` are the file offsets of the query's first and
/// last content byte. Only literal block scalars (`query: |`) are rewritten.
pub fn splice_block(file: &str, start: usize, end: usize, query: &str) -> Result<String, String> {
    let line_start = file[..start].rfind('\n').map_or(0, |i| i + 1);
    let indent = &file[line_start..start];
    if !indent.chars().all(|c| c == ' ') || indent.is_empty() {
        return Err("the query is not a block scalar; only `query: |` is rewritten".into());
    }
    // The `query: |` line: the nearest non-blank line above (a block may start with blank
    // lines).
    let mut header_end = line_start.saturating_sub(1);
    let mut header_start = file[..header_end].rfind('\n').map_or(0, |i| i + 1);
    while file[header_start..header_end].trim().is_empty() && header_start > 0 {
        header_end = header_start - 1;
        header_start = file[..header_end].rfind('\n').map_or(0, |i| i + 1);
    }
    let header = file[header_start..header_end].trim_end();
    let indicator = header.rsplit(':').next().unwrap_or("").trim();
    if !header.trim_start().starts_with("query:") || !matches!(indicator, "|" | "|-" | "|+") {
        return Err(format!(
            "the query is written as `{}`; only a literal block scalar (`query: |`) is rewritten",
            header.trim()
        ));
    }
    let content_end = file[end..].find('\n').map_or(file.len(), |i| end + i);
    let body: Vec<String> = query
        .trim_end()
        .lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{indent}{l}")
            }
        })
        .collect();
    Ok(format!(
        "{}{}{}",
        &file[..line_start],
        body.join("\n"),
        &file[content_end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::format_kql;

    #[test]
    fn pipes_start_lines_and_comments_stay() {
        let src = "let x = 1;  T|where  a==x // keep me\n|  join kind=inner (U | project b) on b\n| extend c = f(a,  b)";
        let got = format_kql(src).unwrap();
        assert_eq!(
            got,
            "let x = 1;\nT\n| where a==x // keep me\n| join kind=inner (U\n  | project b) on b\n| extend c = f(a, b)\n"
        );
        assert_eq!(format_kql(&got).unwrap(), got, "idempotent");
    }

    #[test]
    fn a_comment_after_a_statement_stays_on_its_line() {
        let src = "let a = 1; // one\n  // own line\nT | take a";
        let got = format_kql(src).unwrap();
        assert_eq!(got, "let a = 1; // one\n// own line\nT\n| take a\n");
        assert_eq!(format_kql(&got).unwrap(), got);
    }

    #[test]
    fn literals_keep_their_spelling() {
        let src = "T | where s has @\"a\\b\"   and t > ago(1d) and n in (1,2)";
        let got = format_kql(src).unwrap();
        assert!(got.contains("@\"a\\b\"") && got.contains("ago(1d)") && got.contains("(1, 2)"));
    }
}
