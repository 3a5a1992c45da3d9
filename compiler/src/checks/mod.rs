//! Checks that need the rule and its lowered plan together (stage 3½): they run after
//! lowering, read the IR's output schema, and report at the rule file's YAML locations.
//! One module per check; each has a stable code and a doc (`CHECKS`).

pub mod attack;
pub mod base;
pub mod contains_hint;
pub mod core_docs;
pub mod data_connectors;
pub mod duplicate_values;
pub mod durations;
pub mod entity_identifiers;
pub mod legacy_entities;
pub mod non_ascii;
pub mod output_columns;
pub mod settings;
pub mod unique_ids;

use crate::catalog::Catalog;
use crate::diagnostics::Diagnostic;
use crate::ir::Node;
use crate::pipeline::Source;
use crate::rule::yaml_map::YamlMap;

/// A check's code, its one-line summary, and its documentation (what, why, an example).
pub struct CheckDoc {
    pub code: &'static str,
    pub summary: &'static str,
    pub doc: &'static str,
}

/// Codes reported only when `[lint] select` names them (a prefix of the code is not enough).
pub const OFF_BY_DEFAULT: &[&str] = &[crate::diagnostics::codes::CONTAINS_HINT];

/// Every check of this stage.
pub const CHECKS: &[CheckDoc] = &[
    output_columns::DOC,
    output_columns::DOC_PLACEHOLDERS,
    legacy_entities::DOC,
    entity_identifiers::DOC,
    attack::DOC_TACTIC,
    duplicate_values::DOC,
    contains_hint::DOC,
    data_connectors::DOC_MISSING,
    data_connectors::DOC_UNUSED,
    unique_ids::DOC,
    non_ascii::DOC,
    durations::DOC,
    base::DOC_VERSION,
    base::DOC_ID,
];

/// The documentation of a code: a check's, or an earlier stage's finding.
pub fn doc(code: &str) -> Option<&'static CheckDoc> {
    CHECKS
        .iter()
        .chain(core_docs::DOCS)
        .find(|c| c.code.eq_ignore_ascii_case(code))
}

/// Every documented code, in order: the earlier stages', then the checks'.
pub fn all_docs() -> impl Iterator<Item = &'static CheckDoc> {
    core_docs::DOCS.iter().chain(CHECKS)
}

/// Runs every check on a loaded rule and its plan (no plan: the query did not lower, and
/// the checks that need it are skipped). Rules come first: the rule's own metadata, then the
/// checks that read the plan.
pub fn run(src: &Source, plan: Option<&Node>, catalog: &Catalog) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    // The rule file's YAML positions, indexed once for every check that reports at a key.
    let map = src.rule.as_ref().map(|_| YamlMap::parse(&src.text));
    if let (Some(rule), Some(map)) = (&src.rule, &map) {
        out.extend(attack::check(rule, map));
        out.extend(entity_identifiers::check(rule, map));
        out.extend(durations::check(rule, map));
        out.extend(output_columns::placeholder_limit(rule, map));
    }
    if src.rule.is_some() || !src.text.is_empty() {
        out.extend(non_ascii::check(&src.text));
    }
    if let Some(q) = &src.query {
        out.extend(duplicate_values::check(q));
        out.extend(contains_hint::check(q));
    }
    if let (Some(rule), Some(plan), Some(map)) = (&src.rule, plan, &map) {
        out.extend(output_columns::check(rule, plan, map));
        out.extend(legacy_entities::check(rule, plan, map));
        out.extend(data_connectors::check(rule, plan, catalog, map));
    }
    for d in &mut out {
        d.file = Some(src.path.clone());
    }
    out
}
