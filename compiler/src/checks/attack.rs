//! DL011: each MITRE ATT&CK technique must belong to one of the rule's tactics, by the technique-to-tactic table Sentinel's CI
//! enforces (`schemas/attack/sentinel-tactic-techniques.json`, the repository's 2022-08 table;
//! a sub-technique is looked up by its parent id, as that CI does). Malformed ids are the
//! schema's finding (DS001) and are skipped here.

use super::CheckDoc;
use crate::diagnostics::{codes, Diagnostic, Span};
use crate::rule::model::Rule;
use crate::rule::yaml_map::YamlMap;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

pub const DOC_TACTIC: CheckDoc = CheckDoc {
    code: codes::TECHNIQUE_TACTIC,
    summary: "a technique belongs to none of the rule's tactics",
    doc: concat!(
        "What: every technique in `relevantTechniques` must belong to at least one tactic in\n",
        "`tactics`, by the technique-to-tactic table Sentinel's repository CI enforces (2022-08;\n",
        "shipped in schemas/attack/). A technique the table does not know is a warning.\n",
        "Why: Sentinel's CI rejects such a rule (NoTechniquesWithoutMatchingTactics); catching it\n",
        "in pre-commit saves a failed pull request.\n",
        "Example:\n",
        "  tactics: [InitialAccess]\n",
        "  relevantTechniques: [T1110]   # DL011: T1110 is CredentialAccess\n",
    ),
};

const TABLE: &str = include_str!("../../../schemas/attack/sentinel-tactic-techniques.json");
const CURRENT: &str = include_str!("../../../schemas/attack/attack-enterprise.json");

/// Current ATT&CK (schemas/attack/update.py): technique or sub-technique id -> tactics.
fn current() -> &'static BTreeMap<String, BTreeSet<String>> {
    static T: OnceLock<BTreeMap<String, BTreeSet<String>>> = OnceLock::new();
    T.get_or_init(|| {
        let v: serde_json::Value = serde_json::from_str(CURRENT).expect("embedded ATT&CK data");
        v["techniques"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(id, tactics)| {
                let set = tactics
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect();
                (id.clone(), set)
            })
            .collect()
    })
}

fn current_version() -> String {
    let v: serde_json::Value = serde_json::from_str(CURRENT).expect("embedded ATT&CK data");
    v["version"]
        .as_str()
        .unwrap_or("current ATT&CK")
        .to_string()
}

/// Technique id -> the tactics it belongs to.
fn table() -> &'static BTreeMap<String, BTreeSet<String>> {
    static T: OnceLock<BTreeMap<String, BTreeSet<String>>> = OnceLock::new();
    T.get_or_init(|| {
        let v: serde_json::Value = serde_json::from_str(TABLE).expect("embedded ATT&CK table");
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        if let Some(tactics) = v["tactics"].as_object() {
            for (tactic, ids) in tactics {
                for id in ids
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|x| x.as_str())
                {
                    out.entry(id.to_string())
                        .or_default()
                        .insert(tactic.clone());
                }
            }
        }
        out
    })
}

fn well_formed(id: &str) -> bool {
    let b = id.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    match b.len() {
        5 => b[0] == b'T' && digits(&b[1..]),
        9 => b[0] == b'T' && digits(&b[1..5]) && b[5] == b'.' && digits(&b[6..]),
        _ => false,
    }
}

pub fn check(rule: &Rule, map: &YamlMap) -> Vec<Diagnostic> {
    if rule.relevant_techniques.is_empty() {
        return Vec::new();
    }
    let at = |i: usize| {
        map.value_span(&format!("/relevantTechniques/{i}"))
            .unwrap_or(Span::empty_at(0))
    };
    // Case, spaces and punctuation aside: a misspelling such as `CommandandControl` or
    // `Initial Access` is the schema's finding (DS001), with its fix.
    let norm = crate::rule::validate::normalize;
    let tactics: BTreeSet<String> = rule.tactics.iter().map(|t| norm(t)).collect();
    let mut out = Vec::new();
    for (i, t) in rule.relevant_techniques.iter().enumerate() {
        if !well_formed(t) {
            continue;
        }
        let parent = &t[..5];
        // Sentinel's CI table first; techniques it predates are looked up in current ATT&CK.
        let (owners, by) = match table().get(parent) {
            Some(o) => (o, "Sentinel CI's table".to_string()),
            None => match current().get(t).or_else(|| current().get(parent)) {
                Some(o) => (o, current_version()),
                None => {
                    out.push(
                        Diagnostic::warning(
                            codes::TECHNIQUE_TACTIC,
                            format!(
                                "`{t}` is neither in Sentinel's technique-to-tactic table (2022-08) nor in {}",
                                current_version()
                            ),
                        )
                        .with_span(at(i)),
                    );
                    continue;
                }
            },
        };
        if !owners.iter().any(|o| tactics.contains(&norm(o))) {
            let list: Vec<&str> = owners.iter().map(String::as_str).collect();
            out.push(
                Diagnostic::error(
                    codes::TECHNIQUE_TACTIC,
                    format!("`{t}` belongs to none of the rule's tactics"),
                )
                .with_span(at(i))
                .with_note(format!(
                    "{parent} belongs to {} ({by}); add one of them to `tactics`",
                    list.join(", ")
                )),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_table() {
        assert!(well_formed("T1078"));
        assert!(well_formed("T1078.004"));
        for bad in ["T107", "t1078", "T1078.4", "T1078 ", "1078", "T10780"] {
            assert!(!well_formed(bad), "{bad}");
        }
        assert!(table()["T1110"].contains("CredentialAccess"));
        assert!(table().len() > 150);
        // Current ATT&CK knows techniques newer than the 2022 table (T1659, 2023).
        assert!(!table().contains_key("T1659"));
        assert!(current()["T1659"].contains("InitialAccess"));
    }
}
