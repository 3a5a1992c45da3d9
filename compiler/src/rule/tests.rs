use super::*;
use crate::diagnostics::LineIndex;
use std::collections::BTreeMap;

const SEED: &str = r#"id: d9524fcf-de06-4f95-84b0-1637a30ad595
name: Privileged Accounts - Failed MFA
description: |
  ' Identifies failed MFA attempts from Privileged accounts.'
requiredDataConnectors:
  - connectorId: AzureActiveDirectory
    dataTypes:
      - SigninLogs
tactics:
  - InitialAccess
relevantTechniques:
  - T1078.004
tags:
  - AADSecOpsGuide
query: |
  let starttime = todatetime('{{StartTimeISO}}');
  IdentityInfo
  | where AssignedRoles contains "Admin"
entityMappings:
  - entityType: Account
    fieldMappings:
      - identifier: FullName
        columnName: AccountCustomEntity
version: 1.0.1
"#;

const SCHEDULED: &str = "id: 7cad4b66-5e83-4756-8de4-f21315ab1e77
name: A scheduled rule
description: Something happened.
severity: High
requiredDataConnectors:
  - connectorId: AzureActiveDirectory
    dataTypes:
      - SigninLogs
queryFrequency: 1h
queryPeriod: 1h
triggerOperator: gt
triggerThreshold: 0
tactics:
  - InitialAccess
query: |
  SigninLogs
  | take 1
kind: Scheduled
version: 1.0.0
";

fn load_text(text: &str) -> LoadedRule {
    load_str(Path::new("rule.yaml"), text)
}

/// (line, column, code, message) of each diagnostic.
fn located(r: &LoadedRule) -> Vec<(usize, usize, &'static str, String)> {
    let index = LineIndex::new(&r.text);
    r.diagnostics
        .iter()
        .map(|d| {
            let (line, col) = index.line_col(&r.text, d.span.expect("span").start);
            (line, col, d.code, d.message.clone())
        })
        .collect()
}

fn spanned<'a>(r: &'a LoadedRule, d: &Diagnostic) -> &'a str {
    let s = d.span.unwrap();
    &r.text[s.start..s.end]
}

/// Every character of the query that is not a line break (or a space folded from one) is the
/// same character in the file.
fn assert_query_maps(r: &LoadedRule) {
    let q = r.query.as_ref().expect("query");
    for (i, c) in q.text.char_indices() {
        let at = q.map.to_file(i);
        assert!(at <= r.text.len());
        if c == '\n' || (c == ' ' && r.text[at..].starts_with(['\r', '\n'])) {
            continue;
        }
        assert!(
            r.text[at..].starts_with(c),
            "{}: query offset {i} ({c:?}) -> file offset {at}",
            r.path.display()
        );
    }
}

#[test]
fn seed_rule_loads_clean() {
    let r = load_text(SEED);
    assert_eq!(r.diagnostics, vec![]);
    let rule = r.rule.as_ref().expect("rule");
    assert_eq!(
        rule.id.as_deref(),
        Some("d9524fcf-de06-4f95-84b0-1637a30ad595")
    );
    assert_eq!(
        rule.name.as_deref(),
        Some("Privileged Accounts - Failed MFA")
    );
    assert_eq!(rule.kind, None);
    assert_eq!(rule.severity, None);
    assert_eq!(rule.tactics, vec!["InitialAccess"]);
    assert_eq!(rule.relevant_techniques, vec!["T1078.004"]);
    assert_eq!(rule.tags, vec![model::Tag::Text("AADSecOpsGuide".into())]);
    assert_eq!(rule.version.as_deref(), Some("1.0.1"));
    assert_eq!(
        rule.required_data_connectors[0].connector_id,
        "AzureActiveDirectory"
    );
    assert_eq!(
        rule.required_data_connectors[0].data_types,
        vec!["SigninLogs"]
    );
    let em = &rule.entity_mappings[0];
    assert_eq!(em.entity_type, "Account");
    assert_eq!(em.field_mappings[0].identifier, "FullName");
    assert_eq!(em.field_mappings[0].column_name, "AccountCustomEntity");
    let q = r.query.as_ref().unwrap();
    assert_eq!(
        q.text,
        "let starttime = todatetime('{{StartTimeISO}}');\nIdentityInfo\n| where AssignedRoles contains \"Admin\"\n"
    );
    assert_eq!(rule.query.as_deref(), Some(q.text.as_str()));
    assert!(q.map.is_exact());
    // `IdentityInfo` is on line 17, column 3 of the file.
    let at = q.map.to_file(q.text.find("IdentityInfo").unwrap());
    assert_eq!(LineIndex::new(SEED).line_col(SEED, at), (17, 3));
    assert_query_maps(&r);
}

#[test]
fn scheduled_rule_loads_clean() {
    let r = load_text(SCHEDULED);
    assert_eq!(r.diagnostics, vec![]);
    let rule = r.rule.unwrap();
    assert_eq!(rule.kind, Some(model::RuleKind::Scheduled));
    assert_eq!(rule.severity, Some(model::Severity::High));
    assert_eq!(rule.trigger_operator, Some(model::TriggerOperator::Gt));
    assert_eq!(rule.trigger_threshold, Some(0));
}

#[test]
fn unknown_key_is_located_at_the_key() {
    let text = SEED.replace("entityMappings:", "entityMapping:");
    let r = load_text(&text);
    assert_eq!(
        located(&r),
        vec![(
            19,
            1,
            codes::SCHEMA_UNKNOWN_KEY,
            "unknown key `entityMapping`".into()
        )]
    );
    let d = &r.diagnostics[0];
    assert_eq!(spanned(&r, d), "entityMapping");
    assert_eq!(d.notes, vec!["did you mean `entityMappings`?"]);
    assert_eq!(d.file.as_deref(), Some(Path::new("rule.yaml")));
    // The typed model ignores unknown keys: later stages still get the rule.
    assert!(r.rule.is_some());

    let text = SEED.replace("    dataTypes:", "    datatypes:");
    let r = load_text(&text);
    let got = located(&r);
    assert_eq!(
        got,
        vec![
            (
                6,
                5,
                codes::SCHEMA_REQUIRED,
                "`requiredDataConnectors[0]` is missing required key `dataTypes`".into()
            ),
            (
                7,
                5,
                codes::SCHEMA_UNKNOWN_KEY,
                "unknown key `datatypes` in `requiredDataConnectors[0]`".into()
            ),
        ]
    );
    assert_eq!(r.diagnostics[1].notes, vec!["did you mean `dataTypes`?"]);
}

#[test]
fn missing_required_fields() {
    // At the root: at the start of the document.
    let text = SEED.replace("id: d9524fcf-de06-4f95-84b0-1637a30ad595\n", "# comment\n");
    let r = load_text(&text);
    assert_eq!(
        located(&r),
        vec![(
            2,
            1,
            codes::SCHEMA_REQUIRED,
            "missing required key `id`".into()
        )]
    );
    // Kind-conditional: a scheduled rule needs a severity.
    let r = load_text(&SCHEDULED.replace("severity: High\n", ""));
    assert_eq!(
        located(&r),
        vec![(
            1,
            1,
            codes::SCHEMA_REQUIRED,
            "missing required key `severity` (required for kind Scheduled)".into()
        )]
    );
    // Nested: at the key of the mapping.
    let r = load_text(&SCHEDULED.replace(
        "kind: Scheduled",
        "kind: Scheduled\nincidentConfiguration:\n  groupingConfiguration: null",
    ));
    let got = located(&r);
    assert_eq!(
        got,
        vec![(
            19,
            1,
            codes::SCHEMA_REQUIRED,
            "`incidentConfiguration` is missing required key `createIncident`".into()
        )]
    );
    assert_eq!(spanned(&r, &r.diagnostics[0]), "incidentConfiguration");
}

#[test]
fn enum_violation_is_located_at_the_value() {
    let r = load_text(&SCHEDULED.replace("severity: High", "severity: Hight"));
    assert_eq!(
        located(&r),
        vec![(
            4,
            11,
            codes::SCHEMA,
            "severity: \"Hight\" is not one of High, Medium, Low, Informational".into()
        )]
    );
    assert_eq!(spanned(&r, &r.diagnostics[0]), "Hight");
    assert_eq!(r.diagnostics[0].notes, vec!["did you mean `High`?"]);
    assert!(r.rule.is_none(), "the typed model has no `Hight`");
    assert!(
        r.query.is_some(),
        "the query is still there for later stages"
    );

    // Analytic rules must use Sentinel's tactic names; hunting queries need not.
    let r = load_text(&SCHEDULED.replace("  - InitialAccess", "  - Initial access"));
    let d = &r.diagnostics[0];
    assert_eq!(spanned(&r, d), "Initial access");
    assert!(d
        .message
        .starts_with("tactics[0]: \"Initial access\" is not one of Reconnaissance"));
    assert_eq!(d.notes, vec!["did you mean `InitialAccess`?"]);
    let r = load_text(&SEED.replace("  - InitialAccess", "  - Initial access"));
    assert_eq!(r.diagnostics, vec![]);
}

#[test]
fn type_and_pattern_errors() {
    let text = SEED
        .replace("version: 1.0.1", "version: 1.0")
        .replace("id: d9524fcf-de06-4f95-84b0-1637a30ad595", "id: not-a-guid")
        .replace(
            "        columnName: AccountCustomEntity",
            "        columnName: [a]",
        );
    let r = load_text(&text);
    let got = located(&r);
    assert_eq!(
        got,
        vec![
            (
                1,
                5,
                codes::SCHEMA,
                "id: \"not-a-guid\" is not a GUID like 00000000-0000-0000-0000-000000000000".into()
            ),
            (
                23,
                21,
                codes::SCHEMA,
                "entityMappings[0].fieldMappings[0].columnName: expected a string, found a list"
                    .into()
            ),
            (
                24,
                10,
                codes::SCHEMA,
                "version: expected a string, found the number 1.0".into()
            ),
        ]
    );
    assert_eq!(
        r.diagnostics[2].notes,
        vec!["YAML reads 1.0 as a number; quote it to keep it text: \"1.0\""]
    );
}

#[test]
fn errors_inside_optional_structs_and_tags() {
    let text = format!(
        "{SCHEDULED}alertDetailsOverride:\n  alertDisplayNameFormatt: x\neventGroupingSettings:\n  aggregationKind: Single\ntags:\n  - {{Schema: ASimDns, SchemaVersion: 0.2}}\n  -\n"
    );
    let r = load_text(&text);
    let got: Vec<_> = located(&r)
        .into_iter()
        .map(|(l, c, code, _)| (l, c, code))
        .collect();
    assert_eq!(
        got,
        vec![
            (21, 3, codes::SCHEMA_UNKNOWN_KEY),
            (23, 20, codes::SCHEMA),
            (25, 38, codes::SCHEMA),
            (26, 4, codes::SCHEMA),
        ],
        "{:#?}",
        r.diagnostics
    );
    assert_eq!(
        r.diagnostics[0].notes,
        vec!["did you mean `alertDisplayNameFormat`?"]
    );
    assert_eq!(
        r.diagnostics[1].message,
        "eventGroupingSettings.aggregationKind: \"Single\" is not one of SingleAlert, AlertPerResult"
    );
    assert_eq!(
        r.diagnostics[2].message,
        "tags[0].SchemaVersion: expected a string, found the number 0.2"
    );
    assert_eq!(
        r.diagnostics[3].message,
        "tags[1]: expected a string or a mapping, found nothing (null)"
    );
}

#[test]
fn custom_details_keys() {
    let text = format!("{SCHEDULED}customDetails:\n  1bad: Col\n  good: bad-column\n");
    let r = load_text(&text);
    let got: Vec<_> = r
        .diagnostics
        .iter()
        .map(|d| (spanned(&r, d), d.message.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("1bad", "customDetails: key `1bad` is not a key of letters, digits and _, starting with a letter"),
            ("bad-column", "customDetails.good: \"bad-column\" is not a column name (letters, digits and _, not starting with a digit)"),
        ]
    );
}

#[test]
fn yaml_syntax_error_is_located() {
    let text = "id: x\nname: [a, b\nquery: T\n";
    let r = load_text(text);
    assert_eq!(r.diagnostics.len(), 1, "{:#?}", r.diagnostics);
    let (line, col, code, msg) = located(&r).remove(0);
    assert_eq!((line, col, code), (3, 6, codes::YAML_SYNTAX));
    assert!(msg.starts_with("did not find expected ',' or ']'"), "{msg}");
    assert!(!msg.contains("line 3 column 6"), "{msg}");
    assert!(r.rule.is_none());

    // After non-ASCII text and a byte order mark, the location is still right.
    let text = "\u{feff}name: \"é ü\"\nquery: |\n  T\nx: [é\n";
    let r = load_text(text);
    let (line, _, code, _) = located(&r).remove(0);
    assert_eq!((line, code), (5, codes::YAML_SYNTAX));
    // The query before the error is still available.
    assert_eq!(r.query.as_ref().unwrap().text, "T\n");
    assert_query_maps(&r);
}

#[test]
fn duplicate_key_is_located_at_the_second_key() {
    let text = SEED.replace("version: 1.0.1", "version: 1.0.1\nname: again");
    let r = load_text(&text);
    assert_eq!(
        located(&r),
        vec![(25, 1, codes::YAML_SYNTAX, "duplicate key `name`".into())]
    );
    assert_eq!(
        r.diagnostics[0].notes,
        vec!["first defined at line 2, column 1; the last one is used"]
    );
    // Validation still runs on the rest.
    let text = text.replace("severity", "x").replace("tactics:", "tactic:");
    let r = load_text(&text);
    assert_eq!(r.diagnostics.len(), 2, "{:#?}", r.diagnostics);
}

#[test]
fn tab_after_colon_is_accepted() {
    // YAML 1.2 allows a tab as separation; saphyr does not, so positions come from a copy of
    // the text with spaces in place of such tabs.
    let text = SEED.replace("version: 1.0.1", "version:\t1.0.1\nkind:\tNRT");
    let r = load_text(&text);
    let got = located(&r);
    assert_eq!(
        got,
        vec![(
            1,
            1,
            codes::SCHEMA_REQUIRED,
            "missing required key `severity` (required for kind NRT)".into()
        )]
    );
    let r = load_text(&text.replace("kind:\tNRT", "kind:\tNRTX"));
    assert_eq!(spanned(&r, &r.diagnostics[0]), "NRTX");
}

#[test]
fn second_document_is_an_error() {
    let r = load_text(&format!("{SEED}---\nid: x\n"));
    assert_eq!(
        located(&r),
        vec![(
            25,
            1,
            codes::YAML_SYNTAX,
            "a rule file holds one YAML document; this starts a second one".into()
        )]
    );
}

#[test]
fn query_maps_through_crlf_bom_and_styles() {
    let crlf = format!("\u{feff}{}", SEED.replace('\n', "\r\n"));
    let r = load_text(&crlf);
    assert_eq!(r.diagnostics, vec![]);
    assert_eq!(
        r.query.as_ref().unwrap().text,
        "let starttime = todatetime('{{StartTimeISO}}');\nIdentityInfo\n| where AssignedRoles contains \"Admin\"\n"
    );
    assert_query_maps(&r);
    let q = r.query.as_ref().unwrap();
    let at = q.map.to_file(q.text.find("IdentityInfo").unwrap());
    assert_eq!(LineIndex::new(&crlf).line_col(&crlf, at), (17, 3));

    let query_block = "query: |\n  let starttime = todatetime('{{StartTimeISO}}');\n  IdentityInfo\n  | where AssignedRoles contains \"Admin\"\n";
    for replacement in [
        "query: |-\n  T\n  | where x == 'é'\n",
        "query: |2+\n    T\n  | take 1\n\n",
        "query: >\n  T\n  | where x == 1\n\n  | take 1\n",
        "query: >-\r\n  T\r\n  | take 1\r\n",
        "query: T | where x == 'ü'\n",
        "query: 'T | where x == ''a'''\n",
        "query: \"T | where x == \\\"a\\\"\"\n",
        "query: \"T\n  | where x == 1\"\n",
    ] {
        let text = SEED.replace(query_block, replacement);
        assert_ne!(text, SEED);
        let r = load_text(&text);
        assert_eq!(r.diagnostics, vec![], "{replacement:?}");
        let q = r.query.as_ref().unwrap();
        assert!(q.map.is_exact(), "{replacement:?}");
        for (i, c) in q.text.char_indices() {
            let at = q.map.to_file(i);
            let src = &r.text[at..];
            let ok = c == '\n'
                || (c == ' ' && src.starts_with(['\r', '\n']))
                || src.starts_with('\\')
                || src.starts_with("''")
                || src.starts_with(c);
            assert!(ok, "{replacement:?}: {i} {c:?} -> {src:?}");
        }
    }
}

#[test]
fn never_panics() {
    let deep = "a: ".to_string() + &"[".repeat(100_000);
    let deep_map = (0..500)
        .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
        .collect::<String>();
    let inputs = [
        "",
        "---",
        "---\n",
        "...",
        "- a\n- b\n",
        "just a string",
        "42",
        "\u{feff}",
        "\u{0}\u{1}\u{2}binary\u{7f}\u{fffd}",
        "query: [1, 2]\n",
        "query: 42\n",
        "query:\n",
        "query: *nope\n",
        "a: &a [*a]\n",
        "? [complex]\n: key\n",
        "<<: [1, 2]\n",
        "id: \"\\x\"\n",
        "\tid: 1",
        "id: !!binary aGVsbG8=\nquery: !custom |\n  T\n",
        "id: 1\r",
        "query: \"unterminated\n",
        deep.as_str(),
        deep_map.as_str(),
    ];
    for text in inputs {
        let r = load_text(text);
        for d in &r.diagnostics {
            let s = d.span.expect("every diagnostic is located");
            assert!(s.start <= s.end && s.end <= text.len(), "{text:?}: {d:?}");
            assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
        }
        if let Some(q) = &r.query {
            for i in 0..=q.text.len() + 2 {
                assert!(q.map.to_file(i) <= text.len());
            }
        }
    }
    // An empty file and a list are reported, not ignored.
    assert!(load_text("").has_errors());
    assert!(load_text("- a\n").has_errors());
}

#[test]
fn io_and_encoding_errors() {
    let dir = std::env::temp_dir().join(format!("detc-rule-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = load(&dir.join("missing.yaml"));
    assert_eq!(missing.diagnostics[0].code, codes::IO);
    assert!(missing.diagnostics[0].file.is_some());

    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, b"id: x\nname: \xff\xfe oops\n").unwrap();
    let r = load(&bad);
    assert_eq!(r.text, "id: x\nname: ");
    assert_eq!(r.diagnostics.len(), 1);
    assert_eq!(r.diagnostics[0].code, codes::YAML_SYNTAX);
    assert_eq!(r.diagnostics[0].span, Some(Span::empty_at(12)));
    assert!(r.rule.is_none() && r.query.is_none());

    let good = dir.join("seed.yaml");
    std::fs::write(&good, SEED).unwrap();
    let r = load(&good);
    assert_eq!(r.diagnostics, vec![]);
    assert_eq!(r.path, good);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn schema_is_deterministic_and_committed() {
    let a = schema_json();
    assert_eq!(a, schema_json());
    assert!(a.ends_with("}\n"));
    let v: Value = serde_json::from_str(&a).unwrap();
    assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(v["additionalProperties"], false);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/rule.schema.json");
    if std::env::var_os("DETC_WRITE_SCHEMA").is_some() {
        std::fs::write(&path, &a).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == a,
        "schemas/rule.schema.json is stale: run `DETC_WRITE_SCHEMA=1 cargo test -p detc --lib rule::tests::schema`"
    );
}

/// Loads every file of the Sentinel corpus: no panic, every query located, literal-block
/// queries mapped exactly. Prints how many files are schema-valid and the commonest messages.
#[test]
fn corpus() {
    let root = Path::new("/work/shared/corpus/sentinel");
    if !root.is_dir() {
        eprintln!("skipping: {} is absent", root.display());
        return;
    }
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
                files.push(p);
            }
        }
    }
    files.sort();
    let started = std::time::Instant::now();
    let (mut valid, mut invalid, mut typed) = (0, 0, 0);
    let mut messages: BTreeMap<String, usize> = BTreeMap::new();
    let mut invalid_files = Vec::new();
    for path in &files {
        let r = load(path);
        if r.rule.is_some() {
            typed += 1;
        }
        let has_query_key = r
            .text
            .lines()
            .any(|l| l.trim_start_matches('\u{feff}').starts_with("query:"));
        if has_query_key {
            assert!(r.query.is_some(), "{}: no query", path.display());
        }
        if let (Some(q), Some(node)) = (&r.query, YamlMap::parse(&r.text).node("/query")) {
            if node.kind == yaml_map::NodeKind::Scalar(yaml_map::Style::Literal) {
                assert!(q.map.is_exact(), "{}: inexact query map", path.display());
                assert_query_maps(&r);
            }
        }
        if r.has_errors() {
            invalid += 1;
            invalid_files.push(path.clone());
            for d in &r.diagnostics {
                // Group messages that differ only in the value.
                let key = d
                    .message
                    .split(": \"")
                    .next()
                    .unwrap_or(&d.message)
                    .to_string();
                *messages.entry(format!("{} {key}", d.code)).or_default() += 1;
            }
        } else {
            valid += 1;
        }
    }
    let elapsed = started.elapsed();
    let mut top: Vec<_> = messages.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    eprintln!(
        "corpus: {} files, {valid} schema-valid, {invalid} with errors, {typed} typed models, {elapsed:?}",
        files.len()
    );
    for (m, n) in top.iter().take(25) {
        eprintln!("  {n:4}  {m}");
    }
    if std::env::var_os("DETC_CORPUS_VERBOSE").is_some() {
        for p in &invalid_files {
            let r = load(p);
            let mut sources = crate::diagnostics::render::Sources::default();
            sources.add(&r.path, &r.text);
            for d in &r.diagnostics {
                eprintln!("{}", crate::diagnostics::render::concise(&sources, d));
            }
        }
    }
    assert!(
        valid > files.len() * 3 / 4,
        "too few schema-valid files: {valid}"
    );
}
