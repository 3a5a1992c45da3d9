//! Sigma v2. One rule per union leg whose shape Sigma can express: a filter over one log
//! source, optionally joined with a set drawn from another table, which becomes a
//! placeholder (`Field|expand: '%name%'`) resolved by a processing pipeline.
//!
//! Partial: only filters built from string operators, `in`, `between` on the time column
//! (dropped: Sigma rules have no time window; the backend's search window applies) and an
//! inner join with a derived set are mapped; anything else is reported as unsupported.

use super::Unsupported;
use crate::ir::{Expr, ExprKind, JoinKind, Node, Op, StrOp};
use crate::rule::model::Rule;
use crate::value::Value;

const LOGSOURCES: &str = include_str!("../../../targets/sigma/logsources.json");

fn logsource(table: &str) -> Option<(String, String)> {
    let map: serde_json::Value = serde_json::from_str(LOGSOURCES).ok()?;
    let e = map.get(table)?;
    Some((
        e.get("product")?.as_str()?.to_string(),
        e.get("service")?.as_str()?.to_string(),
    ))
}

fn unsupported(what: &str, why: &str) -> Unsupported {
    Unsupported {
        construct: what.into(),
        reason: why.into(),
    }
}

/// One selection: field, modifiers, values.
struct Sel {
    field: String,
    modifiers: Vec<&'static str>,
    values: Vec<String>,
}

fn regex_escape(s: &str) -> String {
    regex::escape(s)
}

/// Maps a predicate into OR-ed selections (a disjunction of field conditions).
fn predicate(e: &Expr, out: &mut Vec<Sel>) -> Result<(), Unsupported> {
    match &e.kind {
        ExprKind::Binary {
            op: crate::ir::BinOp::Or,
            lhs,
            rhs,
        } => {
            predicate(lhs, out)?;
            predicate(rhs, out)
        }
        ExprKind::HasAny {
            lhs,
            terms,
            all: false,
            cs: false,
        } => {
            let ExprKind::Column { name, .. } = &lhs.kind else {
                return Err(unsupported("has_any", "left side is not a column"));
            };
            let mut values = Vec::new();
            for t in terms {
                let ExprKind::Literal(Value::String(s)) = &t.kind else {
                    return Err(unsupported("has_any", "non-constant term"));
                };
                // Whole-term match, case-insensitive: the boundary rule of docs/semantics.md.
                let v = format!("(?i)(^|[^0-9A-Za-z]){}($|[^0-9A-Za-z])", regex_escape(s));
                if !values.contains(&v) {
                    values.push(v);
                }
            }
            out.push(Sel {
                field: name.clone(),
                modifiers: vec!["re"],
                values,
            });
            Ok(())
        }
        ExprKind::In {
            lhs,
            items,
            cs: true,
            negated: false,
        } => {
            let ExprKind::Column { name, .. } = &lhs.kind else {
                return Err(unsupported("in", "left side is not a column"));
            };
            let mut values = Vec::new();
            for i in items {
                match &i.kind {
                    ExprKind::Literal(v) => values.push(v.to_kql_string()),
                    _ => return Err(unsupported("in", "non-constant value")),
                }
            }
            out.push(Sel {
                field: name.clone(),
                modifiers: vec!["cased"],
                values,
            });
            Ok(())
        }
        ExprKind::Str {
            op: StrOp::Equals,
            cs,
            negated: false,
            lhs,
            rhs,
        } => {
            let (ExprKind::Column { name, .. }, ExprKind::Literal(v)) = (&lhs.kind, &rhs.kind)
            else {
                return Err(unsupported("==", "not a column compared with a constant"));
            };
            out.push(Sel {
                field: name.clone(),
                modifiers: if *cs { vec!["cased"] } else { vec![] },
                values: vec![v.to_kql_string()],
            });
            Ok(())
        }
        ExprKind::Str {
            op: StrOp::Contains,
            cs: false,
            negated: false,
            lhs,
            rhs,
        } => {
            let (ExprKind::Column { name, .. }, ExprKind::Literal(v)) = (&lhs.kind, &rhs.kind)
            else {
                return Err(unsupported(
                    "contains",
                    "not a column compared with a constant",
                ));
            };
            out.push(Sel {
                field: name.clone(),
                modifiers: vec!["contains"],
                values: vec![v.to_kql_string()],
            });
            Ok(())
        }
        _ => Err(unsupported(
            &crate::emit::kql::expr_text(e),
            "no Sigma mapping yet",
        )),
    }
}

struct Leg {
    table: String,
    conditions: Vec<Vec<Sel>>,                     // AND of ORs
    placeholder: Option<(String, String, String)>, // (field, placeholder name, meaning)
    notes: Vec<String>,
}

fn leg(node: &Node) -> Result<Leg, Unsupported> {
    match &node.op {
        Op::Scan { table } => Ok(Leg {
            table: table.clone(),
            conditions: vec![],
            placeholder: None,
            notes: vec![],
        }),
        Op::Filter {
            input,
            predicate: p,
        } => {
            let mut l = leg(input)?;
            if let ExprKind::Between { expr, .. } = &p.kind {
                if let ExprKind::Column { name, .. } = &expr.kind {
                    if name == "TimeGenerated" {
                        l.notes.push("the time window (TimeGenerated between start and end) is left to the backend's search window".into());
                        return Ok(l);
                    }
                }
            }
            let mut sels = Vec::new();
            predicate(p, &mut sels)?;
            l.conditions.push(sels);
            Ok(l)
        }
        Op::Extend { input, .. } => {
            let l = leg(input)?;
            Ok(l)
        }
        Op::Join {
            kind: JoinKind::Inner | JoinKind::InnerUnique,
            left,
            right,
            keys,
        } if keys.len() == 1 => {
            // The side with one table scan and filters is the log source; the other is a set.
            let mut r = leg(right)?;
            let field = right.schema[keys[0].1].name.clone();
            let set_col = left.schema[keys[0].0].name.clone();
            let tables = left.tables().join(", ");
            r.placeholder = Some((
                field.clone(),
                "privileged_accounts".into(),
                format!(
                    "the values of `{set_col}` produced by the sub-query over {tables} (see the KQL target); {field} must be one of them, compared case-sensitively"
                ),
            ));
            Ok(r)
        }
        _ => Err(unsupported(
            "plan shape",
            "Sigma can express one log source with filters and a placeholder set only",
        )),
    }
}

fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

pub fn emit(plan: &Node, rule: Option<&Rule>, source: &str) -> Result<String, Unsupported> {
    let legs: Vec<&Node> = match &plan.op {
        Op::Union { legs } => legs.iter().map(|(n, _)| n).collect(),
        _ => vec![plan],
    };
    let mut docs = Vec::new();
    for node in legs {
        let l = leg(node)?;
        let (product, service) = logsource(&l.table).ok_or_else(|| {
            unsupported(
                "logsource",
                &format!("no Sigma logsource is mapped for table {}", l.table),
            )
        })?;
        let title = rule
            .and_then(|r| r.name.clone())
            .unwrap_or_else(|| source.to_string());
        let mut d = String::new();
        d.push_str(&format!("title: {} ({})\n", yaml_str(&title), l.table));
        if let Some(id) = rule.and_then(|r| r.id.clone()) {
            d.push_str(&format!("related:\n  - id: {id}\n    type: derived\n"));
        }
        d.push_str("status: experimental\n");
        d.push_str(&format!(
            "description: {}\n",
            yaml_str(&format!(
                "Generated by detc from {source} (leg over {}).",
                l.table
            ))
        ));
        if let Some(r) = rule {
            let mut tags: Vec<String> = r
                .tactics
                .iter()
                .map(|t| format!("attack.{}", kebab(t)))
                .collect();
            tags.extend(
                r.relevant_techniques
                    .iter()
                    .map(|t| format!("attack.{}", t.to_lowercase())),
            );
            if !tags.is_empty() {
                d.push_str("tags:\n");
                for t in tags {
                    d.push_str(&format!("  - {t}\n"));
                }
            }
        }
        d.push_str(&format!(
            "logsource:\n  product: {product}\n  service: {service}\ndetection:\n"
        ));
        let mut names = Vec::new();
        for (i, ors) in l.conditions.iter().enumerate() {
            let name = format!("selection_{}", i + 1);
            d.push_str(&format!("  {name}:\n"));
            for s in ors {
                let m: String = s.modifiers.iter().map(|m| format!("|{m}")).collect();
                d.push_str(&format!("    - {}{m}:\n", s.field));
                for v in &s.values {
                    d.push_str(&format!("        - {}\n", yaml_str(v)));
                }
            }
            names.push(name);
        }
        if let Some((field, ph, _)) = &l.placeholder {
            d.push_str(&format!("  privileged:\n    {field}|expand: '%{ph}%'\n"));
            names.push("privileged".into());
        }
        d.push_str(&format!(
            "  condition: {}\n",
            if names.is_empty() {
                "all of them".into()
            } else {
                names.join(" and ")
            }
        ));
        let mut all_notes = l.notes.clone();
        if let Some((_, ph, meaning)) = &l.placeholder {
            all_notes.push(format!("placeholder %{ph}%: {meaning}"));
        }
        all_notes.push(
            "has/has_any map to |re with ASCII term boundaries, case-insensitive via (?i)".into(),
        );
        d.push_str("falsepositives:\n  - Unknown\nlevel: medium\n");
        d.push_str("# detc notes (declared approximations):\n");
        for n in all_notes {
            d.push_str(&format!("#   - {n}\n"));
        }
        docs.push(d);
    }
    Ok(docs.join("---\n"))
}

fn kebab(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('-');
        }
        out.extend(c.to_lowercase());
    }
    out
}
