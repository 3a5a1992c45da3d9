//! DL050/DL051 (`detc lint --base REV`): the rules Sentinel's repository CI applies to a
//! changed analytic rule, checked against the file's text at a base revision. DL050: the
//! detection logic (query, frequency, period, trigger) changed but `version` did not increase.
//! DL051: the `id` changed. A file absent at the base is new and not checked.

use super::CheckDoc;
use crate::diagnostics::{codes, Diagnostic};
use crate::rule::model::Rule;
use crate::rule::yaml_map::YamlMap;

pub const DOC_VERSION: CheckDoc = CheckDoc {
    code: codes::VERSION_NOT_BUMPED,
    summary: "the detection logic changed since --base but version did not increase",
    doc: concat!(
        "What: with `--base REV`, an analytic rule whose query, queryFrequency, queryPeriod,\n",
        "triggerOperator or triggerThreshold differs from the file at REV must have a higher\n",
        "`version` (X.Y.Z, compared numerically).\n",
        "Why: Sentinel offers an updated template to workspaces only when its version grows;\n",
        "its repository CI rejects a changed rule whose version did not change.\n",
        "Example: `git diff main` shows the query changed; `version: 1.0.2` stayed: DL050.\n",
    ),
};

pub const DOC_ID: CheckDoc = CheckDoc {
    code: codes::ID_CHANGED,
    summary: "the rule's id changed since --base",
    doc: concat!(
        "What: with `--base REV`, the `id` of a rule that exists at REV must not change.\n",
        "Why: Sentinel identifies a template by its id; a new id orphans every rule created from\n",
        "the old one. Sentinel's repository CI rejects it.\n",
        "Example: `id:` edited in a pull request: DL051.\n",
    ),
};

/// `X.Y.Z` as numbers; anything else is None.
fn version(v: &str) -> Option<Vec<u64>> {
    v.trim().split('.').map(|p| p.parse().ok()).collect()
}

pub fn check(rule: &Rule, text: &str, base_text: &str, rev: &str) -> Vec<Diagnostic> {
    let Ok(base) = yaml_serde::from_str::<Rule>(base_text) else {
        return Vec::new();
    };
    let map = YamlMap::parse(text);
    let span_of = |ptr: &str| map.locate(ptr);
    let mut out = Vec::new();
    if let (Some(old), Some(new)) = (&base.id, &rule.id) {
        if !old.trim().eq_ignore_ascii_case(new.trim()) {
            out.push(
                Diagnostic::error(
                    codes::ID_CHANGED,
                    format!("id changed since {rev} (was `{old}`)"),
                )
                .with_span(span_of("/id"))
                .with_note("keep a rule's id; a new rule gets a new file"),
            );
        }
    }
    if rule.kind.is_none() {
        return out;
    }
    let logic = |r: &Rule| {
        (
            r.query.as_deref().map(|q| q.trim_end().to_string()),
            r.query_frequency.clone(),
            r.query_period.clone(),
            r.trigger_operator,
            r.trigger_threshold,
        )
    };
    if logic(rule) != logic(&base) {
        let bumped = match (
            base.version.as_deref().and_then(version),
            rule.version.as_deref().and_then(version),
        ) {
            (Some(old), Some(new)) => new > old,
            (None, Some(_)) => true,
            (_, None) => false,
        };
        if !bumped {
            out.push(
                Diagnostic::error(
                    codes::VERSION_NOT_BUMPED,
                    format!(
                        "the detection logic changed since {rev}, but version is {} (was {})",
                        rule.version.as_deref().unwrap_or("missing"),
                        base.version.as_deref().unwrap_or("missing")
                    ),
                )
                .with_span(span_of("/version"))
                .with_note("increase `version` (e.g. 1.0.1 -> 1.0.2)"),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "id: 11111111-1111-1111-1111-111111111111\nkind: Scheduled\nversion: 1.0.2\nquery: T | take 1\n";

    fn rule(t: &str) -> Rule {
        yaml_serde::from_str(t).unwrap()
    }

    #[test]
    fn version_and_id() {
        // Same logic: nothing.
        assert!(check(&rule(BASE), BASE, BASE, "main").is_empty());
        // Query changed, version kept.
        let changed = BASE.replace("take 1", "take 2");
        let out = check(&rule(&changed), &changed, BASE, "main");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].code, codes::VERSION_NOT_BUMPED);
        // Bumped (numerically: 1.0.10 > 1.0.2).
        let bumped = changed.replace("1.0.2", "1.0.10");
        assert!(check(&rule(&bumped), &bumped, BASE, "main").is_empty());
        // id changed.
        let new_id = BASE.replace("11111111-1111", "22222222-1111");
        let out = check(&rule(&new_id), &new_id, BASE, "main");
        assert_eq!(out[0].code, codes::ID_CHANGED);
        // A hunting query (no kind) only has its id checked.
        let h = "id: a\nquery: T\n";
        let h2 = "id: a\nquery: U\n";
        assert!(check(&rule(h2), h2, h, "main").is_empty());
    }
}
