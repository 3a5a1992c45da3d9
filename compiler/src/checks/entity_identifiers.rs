//! DL003: entity mapping identifiers. Each identifier must be valid for its entity type, appear
//! once per mapping, and some required set of identifiers must be mapped in full (an Account
//! needs FullName, Sid, Name, AadUserId, PUID or ObjectGuid; a FileHash both Algorithm and
//! Value), as Sentinel's CI checks (`schemas/entities/sentinel-entity-identifiers.json`).

use super::CheckDoc;
use crate::diagnostics::{codes, Diagnostic};
use crate::rule::model::Rule;
use crate::rule::yaml_map::YamlMap;
use std::collections::BTreeMap;
use std::sync::OnceLock;

pub const DOC: CheckDoc = CheckDoc {
    code: codes::ENTITY_IDENTIFIER,
    summary: "an entity mapping's identifiers do not fit its entity type",
    doc: concat!(
        "What: each `identifier` must be one Sentinel defines for the `entityType`, once per\n",
        "mapping, and the mapping must include one of the type's required identifier sets\n",
        "(schemas/entities/, from Sentinel's CI).\n",
        "Why: Sentinel rejects the rule, or builds an entity it cannot match to others.\n",
        "Example:\n",
        "  - entityType: Account\n",
        "    fieldMappings:\n",
        "      - identifier: Address   # DL003: not an Account identifier\n",
        "        columnName: IPAddress\n",
    ),
};

struct Entity {
    identifiers: Vec<String>,
    required: Vec<Vec<String>>,
}

const DATA: &str = include_str!("../../../schemas/entities/sentinel-entity-identifiers.json");

fn entities() -> &'static BTreeMap<String, Entity> {
    static E: OnceLock<BTreeMap<String, Entity>> = OnceLock::new();
    E.get_or_init(|| {
        let v: serde_json::Value = serde_json::from_str(DATA).expect("embedded entity data");
        let strings = |x: &serde_json::Value| -> Vec<String> {
            x.as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        };
        v["entities"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, e)| {
                let required = e["required"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(strings)
                    .collect();
                (
                    k.clone(),
                    Entity {
                        identifiers: strings(&e["identifiers"]),
                        required,
                    },
                )
            })
            .collect()
    })
}

pub fn check(rule: &Rule, map: &YamlMap) -> Vec<Diagnostic> {
    if rule.entity_mappings.is_empty() {
        return Vec::new();
    }
    let span = |ptr: &str| map.locate(ptr);
    let mut out = Vec::new();
    for (i, m) in rule.entity_mappings.iter().enumerate() {
        // An unknown entity type is the schema's finding.
        let Some(entity) = entities().get(&m.entity_type) else {
            continue;
        };
        let mut seen: Vec<&str> = Vec::new();
        for (j, f) in m.field_mappings.iter().enumerate() {
            let at = span(&format!("/entityMappings/{i}/fieldMappings/{j}/identifier"));
            if !entity.identifiers.contains(&f.identifier) {
                let mut d = Diagnostic::error(
                    codes::ENTITY_IDENTIFIER,
                    format!(
                        "`{}` is not an identifier of {} entities",
                        f.identifier, m.entity_type
                    ),
                )
                .with_span(at)
                .with_note(format!(
                    "{} identifiers: {}",
                    m.entity_type,
                    entity.identifiers.join(", ")
                ));
                if let Some(s) = entity
                    .identifiers
                    .iter()
                    .find(|x| x.eq_ignore_ascii_case(&f.identifier))
                {
                    d = d.with_fix(format!("spell it `{s}`"), vec![(at, s.clone())]);
                }
                out.push(d);
            } else if seen.contains(&f.identifier.as_str()) {
                out.push(
                    Diagnostic::error(
                        codes::ENTITY_IDENTIFIER,
                        format!("identifier `{}` is mapped twice", f.identifier),
                    )
                    .with_span(at),
                );
            }
            seen.push(f.identifier.as_str());
        }
        let complete = entity
            .required
            .iter()
            .any(|set| set.iter().all(|r| seen.contains(&r.as_str())));
        if !complete {
            let sets: Vec<String> = entity.required.iter().map(|s| s.join(" + ")).collect();
            out.push(
                Diagnostic::error(
                    codes::ENTITY_IDENTIFIER,
                    format!("the {} mapping lacks a required identifier", m.entity_type),
                )
                .with_span(span(&format!("/entityMappings/{i}/entityType")))
                .with_note(format!("map one of: {}", sets.join(" | "))),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_per_type() {
        let text = "entityMappings:\n  - entityType: Account\n    fieldMappings:\n      - identifier: Address\n        columnName: A\n      - identifier: NTDomain\n        columnName: B\n  - entityType: FileHash\n    fieldMappings:\n      - identifier: Value\n        columnName: C\n  - entityType: IP\n    fieldMappings:\n      - identifier: address\n        columnName: D\n";
        let rule: Rule = yaml_serde::from_str(text).unwrap();
        let out = check(&rule, &YamlMap::parse(text));
        let msgs: Vec<&str> = out.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "`Address` is not an identifier of Account entities",
                "the Account mapping lacks a required identifier",
                "the FileHash mapping lacks a required identifier",
                "`address` is not an identifier of IP entities",
                "the IP mapping lacks a required identifier",
            ]
        );
        assert!(out[3].fix.is_some(), "a case-only misspelling has a fix");
        assert!(entities().len() >= 19);
    }
}
