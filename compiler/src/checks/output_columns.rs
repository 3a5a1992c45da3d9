//! DL001: every column a rule's metadata names — entity mappings, custom details, alert
//! details overrides — must be a column of the query's output, as the IR's output schema
//! gives it. Sentinel's own CI does not check this; a mapping to a column that a `project`
//! dropped makes the rule fail when it is deployed or silently lose the entity.

use super::CheckDoc;
use crate::diagnostics::{codes, Diagnostic, Span};
use crate::ir::Node;
use crate::rule::model::Rule;
use crate::rule::yaml_map::YamlMap;

pub const DOC_PLACEHOLDERS: CheckDoc = CheckDoc {
    code: codes::PLACEHOLDERS,
    summary: "an alert format with more than 3 {{Column}} placeholders",
    doc: concat!(
        "What: `alertDisplayNameFormat` and `alertDescriptionFormat` may each hold at most 3\n",
        "`{{Column}}` placeholders.\n",
        "Why: Sentinel rejects the rule (its repository CI checks the same limit).\n",
        "Example:\n",
        "  alertDisplayNameFormat: \"{{a}} {{b}} {{c}} {{d}}\"   # DL004\n",
    ),
};

pub const DOC: CheckDoc = CheckDoc {
    code: codes::OUTPUT_COLUMN,
    summary: "a column named in entityMappings, customDetails or alertDetailsOverride is not in the query's output",
    doc: concat!(
        "What: each `columnName` of `entityMappings`, each value of `customDetails`, and the column\n",
        "names of `alertDetailsOverride` (its `{{Column}}` placeholders, tactics, severity and dynamic\n",
        "properties) must be an output column of the query. A name that differs only in case is a\n",
        "warning.\n",
        "Why: Sentinel maps entities and details from the query's result. A mapping to a column the\n",
        "query never outputs (a typo, or a column a `project` dropped) fails at deployment or loses the\n",
        "entity; Sentinel's repository CI does not check it. After `evaluate bag_unpack`/`pivot` the\n",
        "output columns are known only at run time and the check is skipped.\n",
        "Example:\n",
        "  query: SigninLogs | project TimeGenerated, UserPrincipalName\n",
        "  entityMappings:\n",
        "    - entityType: IP\n",
        "      fieldMappings:\n",
        "        - identifier: Address\n",
        "          columnName: IPAddress   # DL001: not a column of the query's output\n",
    ),
};

/// The named columns, each with the JSON pointer of its YAML value.
fn named_columns(rule: &Rule) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, m) in rule.entity_mappings.iter().enumerate() {
        for (j, f) in m.field_mappings.iter().enumerate() {
            out.push((
                f.column_name.clone(),
                format!("/entityMappings/{i}/fieldMappings/{j}/columnName"),
            ));
        }
    }
    for (k, v) in &rule.custom_details {
        out.push((v.clone(), format!("/customDetails/{}", escape(k))));
    }
    if let Some(o) = &rule.alert_details_override {
        for (key, text) in [
            ("alertDisplayNameFormat", &o.alert_display_name_format),
            ("alertDescriptionFormat", &o.alert_description_format),
        ] {
            if let Some(t) = text {
                for c in placeholders(t) {
                    out.push((c, format!("/alertDetailsOverride/{key}")));
                }
            }
        }
        for (key, col) in [
            ("alertTacticsColumnName", &o.alert_tactics_column_name),
            ("alertSeverityColumnName", &o.alert_severity_column_name),
        ] {
            if let Some(c) = col {
                out.push((c.clone(), format!("/alertDetailsOverride/{key}")));
            }
        }
        for (i, p) in o.alert_dynamic_properties.iter().enumerate() {
            out.push((
                p.value.clone(),
                format!("/alertDetailsOverride/alertDynamicProperties/{i}/value"),
            ));
        }
    }
    out
}

/// JSON pointer escaping of one key.
fn escape(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

/// The `{{Column}}` names in an alert format string (a malformed `{{X}` is not one).
fn placeholders(t: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else { break };
        let name = after[..j].trim();
        if !name.is_empty() && !name.contains(['{', '}']) {
            out.push(name.to_string());
            rest = &after[j + 2..];
        } else {
            rest = after;
        }
    }
    out
}

/// DL004: Sentinel takes at most 3 `{{Column}}` placeholders in each alert format.
pub fn placeholder_limit(rule: &Rule, map: &YamlMap) -> Vec<Diagnostic> {
    let Some(o) = &rule.alert_details_override else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, t) in [
        ("alertDisplayNameFormat", &o.alert_display_name_format),
        ("alertDescriptionFormat", &o.alert_description_format),
    ] {
        let n = t.as_deref().map_or(0, |t| placeholders(t).len());
        if n > 3 {
            let ptr = format!("/alertDetailsOverride/{key}");
            out.push(
                Diagnostic::error(
                    codes::PLACEHOLDERS,
                    format!("{key} has {n} {{{{Column}}}} placeholders; Sentinel takes at most 3"),
                )
                .with_span(map.value_span(&ptr).unwrap_or(Span::empty_at(0))),
            );
        }
    }
    out
}

pub fn check(rule: &Rule, plan: &Node, map: &YamlMap) -> Vec<Diagnostic> {
    // After `bag_unpack`/`pivot` the output's columns are known only at run time.
    if plan
        .schema
        .iter()
        .any(|c| c.name.starts_with(crate::lower::UNPACKED))
    {
        return Vec::new();
    }
    let wanted = named_columns(rule);
    if wanted.is_empty() {
        return Vec::new();
    }
    let output: Vec<&str> = plan.schema.iter().map(|c| c.name.as_str()).collect();
    let mut out = Vec::new();
    for (col, ptr) in wanted {
        if output.contains(&col.as_str()) {
            continue;
        }
        let span = map.locate(&ptr);
        // Same letters, other case: Sentinel's matching is not documented; a warning.
        if let Some(other) = output.iter().find(|o| o.eq_ignore_ascii_case(&col)) {
            out.push(
                Diagnostic::warning(
                    codes::OUTPUT_COLUMN,
                    format!("`{col}` differs only in case from the output column `{other}`"),
                )
                .with_span(span)
                .with_note(
                    "KQL column names are case-sensitive; name the column as the query does",
                ),
            );
            continue;
        }
        // A union whose legs give the column different types splits it into `col_<type>`
        // columns; whether the types really differ depends on the table schemas: a warning.
        let split: Vec<&str> = output
            .iter()
            .copied()
            .filter(|o| {
                o.strip_prefix(col.as_str())
                    .and_then(|r| r.strip_prefix('_'))
                    .is_some_and(|t| crate::types::Type::parse(t).is_some())
            })
            .collect();
        if !split.is_empty() {
            out.push(
                Diagnostic::warning(
                    codes::OUTPUT_COLUMN,
                    format!("`{col}` is split by type by a union: {}", split.join(", ")),
                )
                .with_span(span)
                .with_note("give the column one type in every leg (e.g. tostring())"),
            );
            continue;
        }
        let mut d = Diagnostic::error(
            codes::OUTPUT_COLUMN,
            format!("`{col}` is not a column of the query's output"),
        )
        .with_span(span);
        if let Some(s) = crate::lower::suggest_name(&col, output.iter().copied()) {
            d = d.with_note(format!("help: did you mean `{s}`?"));
        }
        let shown: Vec<&str> = output.iter().copied().take(12).collect();
        d = d.with_note(format!(
            "the query outputs {} column(s): {}{}",
            output.len(),
            shown.join(", "),
            if output.len() > shown.len() {
                ", ..."
            } else {
                ""
            }
        ));
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::placeholders;
    use crate::rule::model::Rule;
    use crate::rule::yaml_map::YamlMap;

    #[test]
    fn placeholders_of_alert_formats() {
        assert_eq!(placeholders("From {{Src}} to {{ Dst }}"), ["Src", "Dst"]);
        // A malformed `{{X}` is skipped, not read as a long name.
        assert_eq!(placeholders("{{Src} with {{Name}}"), ["Name"]);
        assert!(placeholders("no placeholders").is_empty());
        let t = "alertDetailsOverride:\n  alertDisplayNameFormat: '{{a}} {{b}} {{c}} {{d}}'\n";
        let rule: Rule = yaml_serde::from_str(t).unwrap();
        let out = super::placeholder_limit(&rule, &YamlMap::parse(t));
        assert_eq!(out.len(), 1);
        assert!(
            out[0].message.contains("4 {{Column}} placeholders"),
            "{}",
            out[0].message
        );
    }
}
