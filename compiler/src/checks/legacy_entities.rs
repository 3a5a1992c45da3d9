//! DL002: a legacy `*CustomEntity` output column (`AccountCustomEntity`, `IPCustomEntity`, ...)
//! that no entity mapping names. Sentinel once mapped these columns by name; it now maps only
//! what `entityMappings` lists, and its repository CI requires a mapping for each such column
//! (NewEntityMappings), or the entity is silently lost.

use super::CheckDoc;
use crate::diagnostics::{codes, Diagnostic, Span};
use crate::ir::Node;
use crate::rule::model::Rule;
use crate::rule::yaml_map::YamlMap;

pub const DOC: CheckDoc = CheckDoc {
    code: codes::LEGACY_ENTITY,
    summary: "a legacy *CustomEntity output column that no entity mapping names",
    doc: concat!(
        "What: in an analytic rule (`kind: Scheduled` or `NRT`), an output column whose name ends\n",
        "in `CustomEntity` must be the `columnName` of an `entityMappings` field mapping.\n",
        "Why: Sentinel no longer maps these columns by name; without a mapping the entity is\n",
        "lost, and Sentinel's repository CI rejects the rule.\n",
        "Example:\n",
        "  query: ... | extend AccountCustomEntity = UserPrincipalName\n",
        "  entityMappings: []          # DL002: map AccountCustomEntity to an Account entity\n",
    ),
};

pub fn check(rule: &Rule, plan: &Node, map: &YamlMap) -> Vec<Diagnostic> {
    // Analytic rules only, as Sentinel's CI: a hunting query's results are read by a person.
    if rule.kind.is_none() {
        return Vec::new();
    }
    let mapped: Vec<&str> = rule
        .entity_mappings
        .iter()
        .flat_map(|m| m.field_mappings.iter().map(|f| f.column_name.as_str()))
        .collect();
    let at = map
        .nearest("/query")
        .map(|(_, n)| n.key.unwrap_or(n.value))
        .unwrap_or(Span::empty_at(0));
    plan.schema
        .iter()
        // A mapping that differs only in case is DL001's warning, not a missing mapping.
        .filter(|c| {
            c.name.ends_with("CustomEntity")
                && !mapped.iter().any(|m| m.eq_ignore_ascii_case(&c.name))
        })
        .map(|c| {
            Diagnostic::error(
                codes::LEGACY_ENTITY,
                format!(
                    "the query outputs `{}`, but no entity mapping names it",
                    c.name
                ),
            )
            .with_span(at)
            .with_note("add an entityMappings entry with this columnName, or drop the column")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Column, Op};
    use crate::types::Type;

    fn plan(cols: &[&str]) -> Node {
        Node {
            op: Op::Values { rows: vec![] },
            schema: cols
                .iter()
                .map(|c| Column {
                    name: c.to_string(),
                    ty: Type::String,
                })
                .collect(),
        }
    }

    fn rule(yaml: &str) -> Rule {
        yaml_serde::from_str(yaml).unwrap()
    }

    #[test]
    fn unmapped_legacy_columns_of_analytic_rules() {
        let text = "kind: Scheduled\nquery: T\nentityMappings:\n  - entityType: IP\n    fieldMappings:\n      - identifier: Address\n        columnName: ipcustomentity\n";
        let r = rule(text);
        let out = check(
            &r,
            &plan(&["IPCustomEntity", "AccountCustomEntity", "x"]),
            &YamlMap::parse(text),
        );
        // IPCustomEntity is mapped (case aside: DL001's warning); AccountCustomEntity is not.
        assert_eq!(out.len(), 1);
        assert!(out[0].message.contains("`AccountCustomEntity`"));
        assert_eq!(out[0].span, Some(Span::new(16, 21)));
        // A hunting query (no kind) is not checked.
        let h = "query: T\n";
        assert!(check(
            &rule(h),
            &plan(&["AccountCustomEntity"]),
            &YamlMap::parse(h)
        )
        .is_empty());
    }
}
