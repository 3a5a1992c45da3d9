//! DL040: rule ids must be unique across the files linted together. Sentinel's CI rejects a
//! repository with two rules of one id; the second usually comes from a copied file.

use super::CheckDoc;
use crate::diagnostics::{codes, Diagnostic, Span};
use crate::rule::yaml_map::YamlMap;
use std::collections::HashMap;
use std::path::PathBuf;

pub const DOC: CheckDoc = CheckDoc {
    code: codes::DUPLICATE_ID,
    summary: "two rule files linted together have the same id",
    doc: concat!(
        "What: every rule's `id` must differ from the ids of the other files in the same lint run\n",
        "(ids compare without case, as GUIDs do).\n",
        "Why: Sentinel identifies a rule by its id; a copied file that keeps the id replaces the\n",
        "original on deployment, and Sentinel's repository CI rejects it.\n",
        "Example: two files with `id: 3a3c6835-0086-40ca-b033-a93bf26d878f`; the second gets DL040.\n",
    ),
};

/// One linted rule: its file, its id, and its text (to locate the id).
pub struct RuleId {
    pub path: PathBuf,
    pub id: String,
    pub text: String,
}

/// Findings for every file whose id an earlier file (in the given order) already has.
pub fn check(rules: &[RuleId]) -> Vec<Diagnostic> {
    let mut first: HashMap<String, &PathBuf> = HashMap::new();
    let mut out = Vec::new();
    for r in rules {
        let key = r.id.trim().to_lowercase();
        if key.is_empty() {
            continue;
        }
        match first.get(&key) {
            None => {
                first.insert(key, &r.path);
            }
            Some(earlier) => {
                let span = YamlMap::parse(&r.text)
                    .value_span("/id")
                    .unwrap_or(Span::empty_at(0));
                out.push(
                    Diagnostic::error(
                        codes::DUPLICATE_ID,
                        format!("id `{}` is already the id of {}", r.id, earlier.display()),
                    )
                    .with_span(span)
                    .with_file(r.path.clone())
                    .with_note("give a copied rule a new GUID"),
                );
            }
        }
    }
    out
}
