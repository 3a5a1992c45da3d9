//! DL030/DL031: `requiredDataConnectors` against the tables the query reads (from the IR).
//! DL030 (error): a table the query reads is in no connector's `dataTypes`, so Sentinel cannot
//! tell the user which connector the rule needs. DL031 (warning): a listed data type the query
//! never reads. Reads through workspace functions (ASIM parsers, declared functions), watchlists
//! and `externaldata` are not tables, nor are the parser outputs the Sentinel repository ships
//! as custom-table schemas (`ProofpointPOD`, no `_CL`): a rule that reads any of these is exempt
//! from DL031, since the function's own tables are what its connectors list.

use super::CheckDoc;
use crate::catalog::Catalog;
use crate::diagnostics::{codes, Diagnostic, Span};
use crate::ir::{Node, Op};
use crate::rule::model::Rule;
use crate::rule::yaml_map::YamlMap;

pub const DOC_MISSING: CheckDoc = CheckDoc {
    code: codes::CONNECTOR_MISSING,
    summary: "a table the query reads is in no requiredDataConnectors dataTypes",
    doc: concat!(
        "What: every table the query reads (after `let`, `union` and functions are resolved) must\n",
        "be a `dataTypes` entry of some `requiredDataConnectors` item. Workspace functions,\n",
        "watchlists and externaldata are not tables and are not required.\n",
        "Why: Sentinel uses the list to tell users which connector a rule needs; a missing entry\n",
        "means a rule that silently never fires in a workspace without that data.\n",
        "Example:\n",
        "  requiredDataConnectors:\n",
        "    - connectorId: AzureActiveDirectory\n",
        "      dataTypes: [SigninLogs]\n",
        "  query: union SigninLogs, AADNonInteractiveUserSignInLogs   # DL030 for the second\n",
    ),
};

pub const DOC_UNUSED: CheckDoc = CheckDoc {
    code: codes::CONNECTOR_UNUSED,
    summary: "a requiredDataConnectors data type the query never reads",
    doc: concat!(
        "What: a `dataTypes` entry naming a table the query does not read (a warning). Skipped\n",
        "when the query reads a workspace function, whose tables are not known to detc.\n",
        "Why: an unused entry makes Sentinel ask for a connector the rule does not need.\n",
        "Example:\n",
        "  dataTypes: [SigninLogs, AuditLogs]   # DL031 for AuditLogs\n",
        "  query: SigninLogs | where ResultType != \"0\"\n",
    ),
};

/// `SecurityAlert (ASC)` names the table `SecurityAlert`.
fn table_of(data_type: &str) -> String {
    data_type
        .split(" (")
        .next()
        .unwrap_or(data_type)
        .trim()
        .to_lowercase()
}

pub fn check(rule: &Rule, plan: &Node, catalog: &Catalog, map: &YamlMap) -> Vec<Diagnostic> {
    if rule.required_data_connectors.is_empty() {
        return Vec::new();
    }
    let mut tables = Vec::new();
    let mut reads_function = false;
    plan.visit(&mut |n| {
        if let Op::Scan { table } = &n.op {
            if table.starts_with(crate::catalog::GET_WATCHLIST) {
                return;
            }
            if catalog.function(table).is_some() || catalog.is_parser_table(table) {
                reads_function = true;
            } else if !tables.contains(table) {
                tables.push(table.clone());
            }
        }
    });
    let listed: Vec<(usize, usize, String)> = rule
        .required_data_connectors
        .iter()
        .enumerate()
        .flat_map(|(i, c)| {
            c.data_types
                .iter()
                .enumerate()
                .map(move |(j, d)| (i, j, table_of(d)))
        })
        .collect();
    let mut out = Vec::new();
    for t in &tables {
        if !listed.iter().any(|(_, _, d)| *d == t.to_lowercase()) {
            let span = map
                .nearest("/requiredDataConnectors")
                .map(|(_, n)| n.key.unwrap_or(n.value))
                .unwrap_or(Span::empty_at(0));
            out.push(
                Diagnostic::error(
                    codes::CONNECTOR_MISSING,
                    format!("the query reads `{t}`, which no requiredDataConnectors entry lists"),
                )
                .with_span(span)
                .with_note(format!(
                    "add `{t}` to the dataTypes of the connector that brings it"
                )),
            );
        }
    }
    if !reads_function {
        for (i, j, d) in &listed {
            if !tables.iter().any(|t| t.to_lowercase() == *d) {
                let ptr = format!("/requiredDataConnectors/{i}/dataTypes/{j}");
                let span = map.value_span(&ptr).unwrap_or(Span::empty_at(0));
                out.push(
                    Diagnostic::warning(
                        codes::CONNECTOR_UNUSED,
                        format!(
                            "data type `{}` is listed, but the query never reads it",
                            rule.required_data_connectors[*i].data_types[*j]
                        ),
                    )
                    .with_span(span),
                );
            }
        }
    }
    out
}
