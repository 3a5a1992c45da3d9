//! DL020: a literal repeated in one `in`/`has_any`/`has_all` list (`has_any ("MFA", "second
//! factor", "multi-factor", "second factor")` in the seed rule). The repeat changes nothing,
//! which usually means a different value was meant. Case-insensitive lists (`in~`, `has_any`,
//! `has_all`) compare case-folded; `in`, `!in`, `has_any_cs`... compare exactly. Found on the
//! tokens, so it works on queries that do not lower.

use super::CheckDoc;
use crate::diagnostics::{codes, Diagnostic, Span};
use crate::rule::QuerySource;
use crate::syntax::lexer::{lex, Tok};
use std::collections::HashSet;

pub const DOC: CheckDoc = CheckDoc {
    code: codes::DUPLICATE_VALUE,
    summary: "a value is repeated in one in/has_any/has_all list",
    doc: concat!(
        "What: the same literal twice in one `in`, `in~`, `!in`, `has_any` or `has_all` list\n",
        "(case-folded for the case-insensitive operators).\n",
        "Why: the repeat changes nothing, which usually means another value was meant (a\n",
        "misspelling, or a copy that was not edited).\n",
        "Example:\n",
        "  | where ResultDescription has_any (\"MFA\", \"second factor\", \"second factor\")   # DL020\n",
    ),
};

/// List operators and whether they compare without case.
fn list_op(tok: &Tok) -> Option<bool> {
    match tok {
        Tok::Punct("in") | Tok::Punct("!in") => Some(false),
        Tok::Punct("in~") | Tok::Punct("!in~") => Some(true),
        Tok::Ident(w) => match w.as_str() {
            "in" => Some(false),
            "has_any" | "has_all" => Some(true),
            "has_any_cs" | "has_all_cs" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// The finding at a repeated literal (query span moved into the file). `comma` is the
/// separator before it: removing both is the fix.
fn repeat(q: &QuerySource, span: Span, comma: Option<Span>, value: &str) -> Diagnostic {
    let start = q.map.to_file(span.start);
    let end = q.map.to_file(span.end).max(start);
    let d = Diagnostic::warning(
        codes::DUPLICATE_VALUE,
        format!("{value} is already in this list"),
    )
    .with_span(Span::new(start, end))
    .with_note("remove the repeat, or correct the value that was meant");
    match comma {
        Some(c) => {
            let from = q.map.to_file(c.start);
            d.with_fix(
                format!("remove the repeated {value}"),
                vec![(Span::new(from, end), String::new())],
            )
        }
        None => d,
    }
}

pub fn check(q: &QuerySource) -> Vec<Diagnostic> {
    let (toks, _) = lex(&q.text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let Some(fold) = list_op(&toks[i].tok) else {
            i += 1;
            continue;
        };
        if toks.get(i + 1).map(|t| &t.tok) != Some(&Tok::Punct("(")) {
            i += 1;
            continue;
        }
        // The flat list of literals up to the matching `)`; a nested call or sub-query
        // makes the list dynamic and is skipped.
        let mut seen: HashSet<String> = HashSet::new();
        let comma = |k: usize| match toks.get(k.wrapping_sub(1)) {
            Some(t) if t.tok == Tok::Punct(",") => Some(t.span),
            _ => None,
        };
        let mut j = i + 2;
        let mut depth = 0;
        while j < toks.len() {
            match &toks[j].tok {
                Tok::Punct("(") => depth += 1,
                Tok::Punct(")") if depth == 0 => break,
                Tok::Punct(")") => depth -= 1,
                Tok::Str(s) | Tok::Ident(s) if depth == 0 => {
                    let is_str = matches!(toks[j].tok, Tok::Str(_));
                    if is_str {
                        let key = if fold { s.to_lowercase() } else { s.clone() };
                        if !seen.insert(key) {
                            out.push(repeat(q, toks[j].span, comma(j), &format!("{s:?}")));
                        }
                    }
                }
                Tok::Long(n) if depth == 0 => {
                    let key = n.to_string();
                    if !seen.insert(key.clone()) {
                        out.push(repeat(q, toks[j].span, comma(j), &key));
                    }
                }
                _ => {}
            }
            j += 1;
        }
        i = j;
    }
    out
}
