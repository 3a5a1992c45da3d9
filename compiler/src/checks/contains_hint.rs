//! DL023 (warning, off by default: select it in `[lint]`): `contains "term"` where the term is
//! one whole word. `has` finds whole terms through Kusto's term index and is much faster on
//! large tables; `contains` also matches inside longer words, so the switch changes results
//! where such matches matter. A performance hint, hence off by default.

use super::CheckDoc;
use crate::diagnostics::{codes, Diagnostic, Span};
use crate::rule::QuerySource;
use crate::syntax::lexer::{lex, Tok};

pub const DOC: CheckDoc = CheckDoc {
    code: codes::CONTAINS_HINT,
    summary: "contains with a one-word term, where has may do (off by default)",
    doc: concat!(
        "What: `contains` (or `contains_cs`) with a literal of three or more letters and digits.\n",
        "Off by default: enable it with `select = [\"DL023\"]` (or a prefix of it) in `[lint]`.\n",
        "Why: `has` looks whole terms up in Kusto's term index; `contains` scans every value.\n",
        "The two differ where the word occurs inside a longer one (`contains \"admin\"` matches\n",
        "`sysadmins`), so check that before switching.\n",
        "Example:\n",
        "  | where CommandLine contains \"mimikatz\"   # DL023: has \"mimikatz\" uses the index\n",
    ),
};

pub fn check(q: &QuerySource) -> Vec<Diagnostic> {
    let (toks, _) = lex(&q.text);
    let mut out = Vec::new();
    for w in toks.windows(2) {
        let (Tok::Ident(op), Tok::Str(term)) = (&w[0].tok, &w[1].tok) else {
            continue;
        };
        if !matches!(op.as_str(), "contains" | "contains_cs") {
            continue;
        }
        if term.chars().count() >= 3 && term.chars().all(char::is_alphanumeric) {
            let start = q.map.to_file(w[0].span.start);
            let end = q.map.to_file(w[1].span.end).max(start);
            let has = if op == "contains_cs" { "has_cs" } else { "has" };
            out.push(
                Diagnostic::warning(
                    codes::CONTAINS_HINT,
                    format!("`{op} {term:?}` scans every value; `{has}` would use the term index"),
                )
                .with_span(Span::new(start, end))
                .with_note("has matches whole terms only: check that no match inside a longer word is wanted"),
            );
        }
    }
    out
}
