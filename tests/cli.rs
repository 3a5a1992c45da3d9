//! The `detc` binary on good and bad input: exit codes, located errors, no panics.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `detc run QUERY --data DIR --format jsonl`.
fn run_jsonl(query: &Path, data: &Path) -> (i32, String, String) {
    detc(&[
        "run",
        query.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--format",
        "jsonl",
    ])
}

fn detc(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_detc"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    let (so, se) = (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    assert!(!se.contains("panicked"), "panic: {se}");
    (code, so, se)
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("detc-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const SEED: &str = "rules/privileged-accounts-failed-mfa.yaml";
const FIX: &str = "rules/fixtures/privileged-accounts-failed-mfa";
const P1: &str = "StartTimeISO=2024-03-01T00:00:00Z";
const P2: &str = "EndTimeISO=2024-03-02T00:00:00Z";

#[test]
fn seed_lints_clean_and_runs() {
    let (code, _, se) = detc(&["lint", SEED]);
    assert_eq!(code, 0, "{se}");
    let (code, so, se) = detc(&[
        "run", SEED, "--data", FIX, "--param", P1, "--param", P2, "--format", "jsonl",
    ]);
    assert_eq!(code, 0, "{se}");
    assert_eq!(so.lines().count(), 8);
    let first: serde_json::Value = serde_json::from_str(so.lines().next().unwrap()).unwrap();
    assert!(first["TimeGenerated"].as_str().unwrap().ends_with('Z'));
    let (code, so, _) = detc(&["test", "rules"]);
    assert_eq!(code, 0, "{so}");
    assert!(so.contains("4 passed, 0 failed"), "{so}");
}

#[test]
fn kql_syntax_error_is_located_in_the_yaml_file() {
    let d = tmp("syntax");
    let text = std::fs::read_to_string(root().join(SEED)).unwrap().replace(
        "| distinct Roles, AccountUPN",
        "| distinct Roles,, AccountUPN",
    );
    let f = d.join("rule.yaml");
    std::fs::write(&f, text).unwrap();
    let (code, _, se) = detc(&["lint", "--output-format", "concise", f.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(se.contains("rule.yaml:31:20: error[DK002]"), "{se}");
}

#[test]
fn unknown_column_is_located_with_a_suggestion() {
    let d = tmp("column");
    let text = std::fs::read_to_string(root().join(SEED))
        .unwrap()
        .replace("tolower(AccountUPN)", "tolower(AccountUpn)");
    let f = d.join("rule.yaml");
    std::fs::write(&f, text).unwrap();
    let (code, _, se) = detc(&["lint", "--output-format", "concise", f.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        se.contains("rule.yaml:29:66: error[DR002] unknown column `AccountUpn`"),
        "{se}"
    );
    assert!(se.contains("did you mean `AccountUPN`?"), "{se}");
}

#[test]
fn broken_yaml_is_located() {
    let d = tmp("yaml");
    let f = d.join("rule.yaml");
    std::fs::write(&f, "id: x\nname: [unclosed\nquery: |\n  T\n").unwrap();
    let (code, _, se) = detc(&["lint", "--output-format", "concise", f.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(se.contains("rule.yaml:"), "{se}");
    assert!(se.contains("DY001"), "{se}");
}

#[test]
fn malformed_fixture_row_is_located() {
    let d = tmp("fixture");
    std::fs::copy(
        root().join(FIX).join("IdentityInfo.jsonl"),
        d.join("IdentityInfo.jsonl"),
    )
    .unwrap();
    std::fs::write(
        d.join("SigninLogs.jsonl"),
        "{\"UserPrincipalName\": \"a@b.c\"}\n{\"UserPrincipalName\": \"a@b.c\", \"ResultType\": 50074}\n",
    )
    .unwrap();
    let (code, _, se) = detc(&[
        "run",
        SEED,
        "--data",
        d.to_str().unwrap(),
        "--param",
        P1,
        "--param",
        P2,
    ]);
    assert_eq!(code, 1);
    assert!(se.contains("SigninLogs.jsonl:2:1"), "{se}");
    assert!(
        se.contains("column `ResultType`: expected string, found a number"),
        "{se}"
    );
    std::fs::write(
        d.join("SigninLogs.jsonl"),
        "{\"UserPrincipalName\": \"a@b.c\"\n",
    )
    .unwrap();
    let (code, _, se) = detc(&[
        "run",
        SEED,
        "--data",
        d.to_str().unwrap(),
        "--param",
        P1,
        "--param",
        P2,
    ]);
    assert_eq!(code, 1);
    assert!(se.contains("invalid JSON"), "{se}");
}

#[test]
fn plain_reference_to_absent_table_is_an_error() {
    let d = tmp("absent");
    let q = d.join("q.kql");
    std::fs::write(&q, "SigninLogs\n| where ResultType == \"0\"\n").unwrap();
    let (code, _, se) = detc(&["run", q.to_str().unwrap(), "--data", d.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        se.contains("q.kql:1:1") && se.contains("SigninLogs"),
        "{se}"
    );
}

#[test]
fn missing_parameter_and_bad_usage() {
    let (code, _, se) = detc(&["run", SEED, "--data", FIX]);
    assert_eq!(code, 1);
    assert!(se.contains("StartTimeISO"), "{se}");
    let (code, _, _) = detc(&["run"]);
    assert_eq!(code, 2);
    let (code, _, _) = detc(&["build", SEED, "--out", "/tmp/x", "--target", "cobol"]);
    assert_eq!(code, 2);
}

#[test]
fn build_is_byte_identical_and_complete() {
    let a = tmp("build-a");
    let b = tmp("build-b");
    for d in [&a, &b] {
        let (code, _, se) = detc(&["build", SEED, "--out", d.to_str().unwrap()]);
        assert_eq!(code, 0, "{se}");
    }
    let mut names: Vec<String> = std::fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "privileged-accounts-failed-mfa.bigquery.sql",
            "privileged-accounts-failed-mfa.duckdb.sql",
            "privileged-accounts-failed-mfa.kql",
            "privileged-accounts-failed-mfa.postgres.sql",
            "privileged-accounts-failed-mfa.sigma-pipeline.yml",
            "privileged-accounts-failed-mfa.sigma.yml",
            "privileged-accounts-failed-mfa.snowflake.sql",
            "privileged-accounts-failed-mfa.spark.sql",
            "privileged-accounts-failed-mfa.sqlite.sql",
        ]
    );
    for n in names {
        assert_eq!(
            std::fs::read(a.join(&n)).unwrap(),
            std::fs::read(b.join(&n)).unwrap(),
            "{n}"
        );
    }
}

#[test]
fn schema_command_matches_committed_file() {
    let (code, so, _) = detc(&["schema"]);
    assert_eq!(code, 0);
    let committed = std::fs::read_to_string(root().join("schemas/rule.schema.json")).unwrap();
    assert_eq!(
        so, committed,
        "schemas/rule.schema.json is stale: run `detc schema > schemas/rule.schema.json`"
    );
}

#[test]
fn verify_sqlite_agrees() {
    let (code, so, se) = detc(&[
        "verify",
        SEED,
        "--data",
        FIX,
        "--param",
        P1,
        "--param",
        P2,
        "--engines",
        "sqlite",
    ]);
    assert_eq!(code, 0, "{so}{se}");
    assert!(so.contains("sqlite: agree (8 row(s))"), "{so}");
}

#[test]
fn detc_toml_declares_custom_tables_and_watchlists() {
    let d = tmp("config");
    std::fs::write(
        d.join("detc.toml"),
        "[tables.MyApp_CL]\ncolumns = { TimeGenerated = \"datetime\", User = \"string\" }\n\n[watchlists.VIP]\ncolumns = { Department = \"string\" }\n",
    )
    .unwrap();
    let q = d.join("q.kql");
    std::fs::write(
        &q,
        "MyApp_CL\n| where User in ((_GetWatchlist('VIP') | project SearchKey))\n| project User\n",
    )
    .unwrap();
    let (code, _, se) = detc(&["lint", q.to_str().unwrap()]);
    assert_eq!(code, 0, "{se}");
    std::fs::write(
        d.join("MyApp_CL.jsonl"),
        "{\"User\": \"a\"}\n{\"User\": \"b\"}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("_GetWatchlist_VIP.jsonl"),
        "{\"SearchKey\": \"b\", \"Department\": \"IT\"}\n",
    )
    .unwrap();
    let (code, so, se) = run_jsonl(&q, &d);
    assert_eq!(code, 0, "{se}");
    assert_eq!(so, "{\"User\":\"b\"}\n");
    // A bad type in detc.toml is an error located in detc.toml; nothing else runs.
    std::fs::write(
        d.join("detc.toml"),
        "[tables.MyApp_CL]\ncolumns = { User = \"strng\" }\n",
    )
    .unwrap();
    let (code, _, se) = detc(&["lint", q.to_str().unwrap()]);
    assert_eq!(code, 2, "{se}");
    assert!(se.contains("detc.toml:2:"), "{se}");
}

#[test]
fn asim_parser_functions_resolve() {
    let d = tmp("asim");
    let q = d.join("q.kql");
    std::fs::write(&q, "_Im_Dns(starttime=ago(1d), domain_has_any=dynamic(['x.com']))\n| summarize count() by SrcIpAddr\n").unwrap();
    let (code, _, se) = detc(&["lint", q.to_str().unwrap()]);
    assert_eq!(code, 0, "{se}");
    std::fs::write(&q, "_Im_Dns(no_such_param=1)\n").unwrap();
    let (code, _, se) = detc(&["lint", "--output-format", "concise", q.to_str().unwrap()]);
    assert_eq!(code, 1, "{se}");
    assert!(se.contains("has no parameter `no_such_param`"), "{se}");
}

#[test]
fn entity_mapping_to_a_dropped_column_is_located() {
    let d = tmp("dl001");
    let text = std::fs::read_to_string(root().join(SEED)).unwrap().replace(
        "  union isfuzzy=true aadSignin, aadNonInt\n",
        "  union isfuzzy=true aadSignin, aadNonInt\n  | project TimeGenerated, AccountCustomEntity, IpCustomEntity = IPCustomEntity\n",
    );
    let f = d.join("rule.yaml");
    std::fs::write(&f, &text).unwrap();
    let (code, _, se) = detc(&["lint", "--output-format", "concise", f.to_str().unwrap()]);
    // The mapping names IPCustomEntity, which the project renamed: only the case differs,
    // so it is a warning; the exit code stays 0.
    assert_eq!(code, 0, "{se}");
    let line = text
        .lines()
        .position(|l| l.contains("columnName: IPCustomEntity"))
        .unwrap()
        + 1;
    assert!(
        se.contains(&format!(
            "rule.yaml:{line}:21: warning[DL001] `IPCustomEntity` differs only in case"
        )),
        "{se}"
    );
    // A column the project dropped entirely is an error at the mapping.
    let dropped = text.replace(", IpCustomEntity = IPCustomEntity", "");
    std::fs::write(&f, &dropped).unwrap();
    let (code, _, se) = detc(&["lint", "--output-format", "concise", f.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        se.contains(&format!("rule.yaml:{line}:21: error[DL001] `IPCustomEntity` is not a column of the query's output")),
        "{se}"
    );
}

/// A rule with one error (DL001) and one warning (DR101), for the output formats.
fn findings_rule(d: &Path) -> PathBuf {
    let text = std::fs::read_to_string(root().join(SEED)).unwrap().replace(
        "  union isfuzzy=true aadSignin, aadNonInt\n",
        "  union isfuzzy=true aadSignin, aadNonInt\n  | project TimeGenerated, AccountCustomEntity\n",
    );
    let f = d.join("rule with space.yaml");
    std::fs::write(&f, text).unwrap();
    f
}

#[test]
fn lint_output_formats_and_exit_codes() {
    let d = tmp("formats");
    let f = findings_rule(&d);
    let f = f.to_str().unwrap();
    let (code, so, _) = detc(&["lint", "--output-format", "json", f]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&so).unwrap();
    let codes: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    // The seed's own warnings (DL021, DL022, DL020), then the DL001 error this rule adds.
    assert_eq!(codes.last(), Some(&"DL001"), "{so}");
    assert!(codes.contains(&"DL020"), "{so}");
    assert!(v[codes.len() - 1]["line"].as_u64().unwrap() > 0);
    let (code, so, _) = detc(&["lint", "--output-format", "github", f]);
    assert_eq!(code, 1);
    assert!(so.contains("::error file="), "{so}");
    assert!(so.contains(",title=DL001,line="), "{so}");
    let (code, so, _) = detc(&["lint", "--output-format", "junit", f]);
    assert_eq!(code, 1);
    assert!(
        so.contains("<testsuites name=\"detc lint\" tests=\"1\" failures=\"1\">"),
        "{so}"
    );
    assert!(
        so.contains("<failure message=\"1 error(s)\" type=\"DL001\">"),
        "{so}"
    );
    // --exit-zero never fails; --deny-warnings fails on warnings only.
    let (code, _, _) = detc(&["lint", "--exit-zero", f]);
    assert_eq!(code, 0);
    let (code, _, _) = detc(&["lint", SEED]);
    assert_eq!(code, 0);
    let (code, _, _) = detc(&["lint", "--output-format", "nonsense", SEED]);
    assert_eq!(code, 2);
}

#[test]
fn lint_sarif_is_valid_sarif_2_1_0() {
    let d = tmp("sarif");
    let f = findings_rule(&d);
    let (code, so, _) = detc(&["lint", "--output-format", "sarif", f.to_str().unwrap()]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&so).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().unwrap();
    let result = results.iter().find(|r| r["ruleId"] == "DL001").unwrap();
    assert_eq!(result["level"], "error");
    let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap();
    assert!(uri.ends_with("rule%20with%20space.yaml"), "{uri}");
    match std::env::var("DETC_SARIF_SCHEMA") {
        Ok(path) => {
            // The published file's `language` pattern (unused by detc) has a stray `]` that
            // strict regex checking rejects; it is replaced by its evident meaning.
            let text = std::fs::read_to_string(path).unwrap().replace(
                "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$",
                "^[a-zA-Z]{2}$|^[a-zA-Z]{2}-[a-zA-Z]{2}$",
            );
            let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
            let validator = jsonschema::validator_for(&schema).unwrap();
            // The validator does reject a log without its required `version`.
            assert!(!validator.is_valid(&serde_json::json!({"runs": []})));
            let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "SARIF schema errors: {errors:?}");
        }
        Err(_) if std::env::var("DETC_REQUIRE_ENGINES").is_ok_and(|v| v == "1") => {
            panic!("DETC_SARIF_SCHEMA is not set (scripts/sarif-schema.sh)")
        }
        Err(_) => eprintln!("skipped: DETC_SARIF_SCHEMA not set (source scripts/sarif-schema.sh)"),
    }
}

#[test]
fn attack_techniques_are_checked_against_the_tactics() {
    let d = tmp("attack");
    let text = std::fs::read_to_string(root().join(SEED))
        .unwrap()
        .replace("  - T1078.004\n", "  - T1078.004\n  - T1110\n  - T11\n");
    let f = d.join("rule.yaml");
    std::fs::write(&f, &text).unwrap();
    let (code, _, se) = detc(&["lint", "--output-format", "concise", f.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        se.contains("rule.yaml:20:5: error[DL011] `T1110` belongs to none of the rule's tactics"),
        "{se}"
    );
    assert!(se.contains("T1110 belongs to CredentialAccess"), "{se}");
    // A malformed id is the schema's finding, reported once.
    assert!(se.contains("rule.yaml:21:5: error[DS001]"), "{se}");
    assert!(!se.contains("`T11` belongs"), "{se}");
    // The seed's own T1078.004 (a sub-technique of InitialAccess's T1078) is fine.
    assert!(!se.contains("`T1078.004` belongs"), "{se}");
    let (code, so, _) = detc(&["rule", "DL011"]);
    assert_eq!(code, 0);
    assert!(so.contains("NoTechniquesWithoutMatchingTactics"), "{so}");
}

#[test]
fn seed_rule_findings() {
    // The real rule repeats "second factor" in its has_any list and compares ResultType (a
    // string) with numbers: warnings, exit 0.
    let (code, _, se) = detc(&["lint", "--output-format", "concise", SEED]);
    assert_eq!(code, 0, "{se}");
    insta::assert_snapshot!("seed_lint_concise", se);
}

#[test]
fn data_connectors_cover_the_tables_read() {
    let d = tmp("connectors");
    let text = std::fs::read_to_string(root().join(SEED)).unwrap().replace(
        "  - connectorId: AzureActiveDirectory\n    dataTypes:\n      - AADNonInteractiveUserSignInLogs\n",
        "  - connectorId: AzureActiveDirectory\n    dataTypes:\n      - AuditLogs\n",
    );
    let f = d.join("rule.yaml");
    std::fs::write(&f, &text).unwrap();
    let (code, _, se) = detc(&["lint", "--output-format", "concise", f.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(se.contains("error[DL030] the query reads `AADNonInteractiveUserSignInLogs`, which no requiredDataConnectors entry lists"), "{se}");
    assert!(se.contains("rule.yaml:12:9: warning[DL031] data type `AuditLogs` is listed, but the query never reads it"), "{se}");
}

#[test]
fn duplicate_ids_and_inline_suppression() {
    let d = tmp("ids");
    let text = std::fs::read_to_string(root().join(SEED)).unwrap();
    std::fs::write(d.join("a.yaml"), &text).unwrap();
    // The copy silences the seed's DL020 with a KQL comment on the offending line.
    let quiet = text.replace(
        "or ResultType in (50074, 50076, 50079, 50072, 53004, 500121)\n",
        "or ResultType in (50074, 50076, 50079, 50072, 53004, 500121) // detc: ignore[DL020]\n",
    );
    assert_ne!(quiet, text);
    std::fs::write(d.join("b.yaml"), &quiet).unwrap();
    let (code, _, se) = detc(&["lint", "--output-format", "concise", d.to_str().unwrap()]);
    assert_eq!(code, 1, "{se}");
    let id_line = text.lines().position(|l| l.starts_with("id:")).unwrap() + 1;
    assert!(
        se.contains(&format!("b.yaml:{id_line}:5: error[DL040] id `")),
        "{se}"
    );
    assert!(se.contains("a.yaml:36:80: warning[DL020]"), "{se}");
    assert!(!se.contains("b.yaml:36:80: warning[DL020]"), "{se}");
}

#[test]
fn lint_settings_in_detc_toml() {
    let d = tmp("lintcfg");
    let text = std::fs::read_to_string(root().join(SEED)).unwrap();
    std::fs::create_dir_all(d.join("hunting")).unwrap();
    std::fs::write(d.join("hunting/a.yaml"), &text).unwrap();
    // The seed's DL020 made an error: exit 1.
    std::fs::write(d.join("detc.toml"), "[lint.severity]\nDL020 = \"error\"\n").unwrap();
    let (code, _, se) = detc(&["lint", "--output-format", "concise", d.to_str().unwrap()]);
    assert_eq!(code, 1, "{se}");
    assert!(se.contains("error[DL020]"), "{se}");
    // Ignored for the folder: clean.
    std::fs::write(
        d.join("detc.toml"),
        "[lint.severity]\nDL020 = \"error\"\n[lint.per-path-ignores]\n\"hunting/**\" = [\"DL02\"]\n",
    )
    .unwrap();
    let (code, _, se) = detc(&["lint", "--output-format", "concise", d.to_str().unwrap()]);
    assert_eq!(code, 0, "{se}");
    assert!(!se.contains("DL020"), "{se}");
    // A mistake in [lint] is a configuration error.
    std::fs::write(d.join("detc.toml"), "[lint]\nselet = [\"DL\"]\n").unwrap();
    let (code, _, se) = detc(&["lint", d.to_str().unwrap()]);
    assert_eq!(code, 2, "{se}");
    assert!(se.contains("DC001") && se.contains("selet"), "{se}");
}

#[test]
fn lint_fix_applies_certain_fixes_and_shows_the_diff() {
    let d = tmp("fix");
    let f = d.join("rule.yaml");
    std::fs::copy(root().join(SEED), &f).unwrap();
    let (code, so, se) = detc(&[
        "lint",
        "--fix",
        "--output-format",
        "concise",
        f.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{se}");
    assert!(so.contains(r#"-    | where ResultDescription has_any ("MFA", "second factor", "multi-factor", "second factor")"#), "{so}");
    assert!(
        so.contains(
            r#"+    | where ResultDescription has_any ("MFA", "second factor", "multi-factor") or"#
        ),
        "{so}"
    );
    assert!(
        !se.contains("DL020"),
        "a fixed finding is not reported: {se}"
    );
    let fixed = std::fs::read_to_string(&f).unwrap();
    assert!(fixed.contains(r#"has_any ("MFA", "second factor", "multi-factor") or"#));
    // Idempotent: nothing left to fix, nothing printed, the file is unchanged.
    let (code, so, se) = detc(&[
        "lint",
        "--fix",
        "--output-format",
        "concise",
        f.to_str().unwrap(),
    ]);
    assert_eq!((code, so.as_str()), (0, ""), "{se}");
    assert_eq!(std::fs::read_to_string(&f).unwrap(), fixed);
}

#[test]
fn lint_base_compares_with_a_git_revision() {
    let d = tmp("base");
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .arg("-C")
            .arg(&d)
            .args(args)
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q", "."]);
    git(&["config", "user.email", "t@example.invalid"]);
    git(&["config", "user.name", "t"]);
    let text = std::fs::read_to_string(root().join(SEED)).unwrap();
    let f = d.join("rule.yaml");
    std::fs::write(&f, &text).unwrap();
    git(&["add", "rule.yaml"]);
    git(&["commit", "-q", "-m", "base"]);
    let id_line = text.lines().find(|l| l.starts_with("id:")).unwrap();
    std::fs::write(
        &f,
        text.replace(id_line, "id: 00000000-0000-0000-0000-000000000000"),
    )
    .unwrap();
    let (code, _, se) = detc(&[
        "lint",
        "--base",
        "HEAD",
        "--output-format",
        "concise",
        f.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{se}");
    assert!(se.contains("error[DL051] id changed since HEAD"), "{se}");
    // A new file (absent at the base) is not compared.
    let g = d.join("new.yaml");
    std::fs::write(&g, &text).unwrap();
    let (_, _, se) = detc(&[
        "lint",
        "--base",
        "HEAD",
        "--output-format",
        "concise",
        g.to_str().unwrap(),
    ]);
    assert!(!se.contains("DL051"), "{se}");
    let (code, _, se) = detc(&["lint", "--base", "no-such-rev", f.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(se.contains("unknown revision `no-such-rev`"), "{se}");
}

/// One fixture per lint check (`tests/fixtures/lint/<CODE>.yaml`, or a folder for checks
/// across files): its findings are snapshotted, and each must contain the codes it is named
/// after, so a check that stops firing fails here even if the snapshot is updated.
#[test]
fn lint_check_fixtures() {
    let dir = root().join("tests/fixtures/lint");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    assert!(entries.len() >= 9);
    for e in entries {
        let name = e.file_stem().unwrap().to_str().unwrap().to_string();
        let rel = format!(
            "tests/fixtures/lint/{}",
            e.file_name().unwrap().to_str().unwrap()
        );
        let (code, _, se) = detc(&["lint", "--output-format", "concise", &rel]);
        assert!(code == 0 || code == 1, "{rel}: exit {code}: {se}");
        for c in name.split('-') {
            assert!(
                se.contains(&format!("[{c}]")),
                "{rel} does not report {c}: {se}"
            );
        }
        insta::assert_snapshot!(format!("lint_{name}"), se);
    }
}

#[test]
fn bom_crlf_and_tabs_give_no_false_errors() {
    let d = tmp("bytes");
    let text = std::fs::read_to_string(root().join(SEED)).unwrap();
    let variants = [
        ("crlf.yaml", text.replace('\n', "\r\n")),
        ("bom.yaml", format!("\u{feff}{text}")),
        (
            "tab.yaml",
            text.replace("  | where Roles contains", "  \t| where Roles contains"),
        ),
    ];
    for (name, body) in variants {
        let f = d.join(name);
        std::fs::write(&f, body).unwrap();
        let (code, _, se) = detc(&["lint", "--output-format", "concise", f.to_str().unwrap()]);
        assert_eq!(code, 0, "{name}: {se}");
        // The seed's own findings, at the same places as in the original file.
        assert!(
            se.contains(&format!("{name}:36:80: warning[DL020]")),
            "{name}: {se}"
        );
    }
}

#[test]
fn contains_hint_is_off_by_default() {
    let d = tmp("dl023");
    std::fs::copy(root().join(SEED), d.join("r.yaml")).unwrap();
    let (_, _, se) = detc(&["lint", "--output-format", "concise", d.to_str().unwrap()]);
    assert!(!se.contains("DL023"), "{se}");
    // Selecting a prefix is not enough; the full code turns it on.
    std::fs::write(d.join("detc.toml"), "[lint]\nselect = [\"DL\"]\n").unwrap();
    let (_, _, se) = detc(&["lint", "--output-format", "concise", d.to_str().unwrap()]);
    assert!(!se.contains("DL023"), "{se}");
    std::fs::write(
        d.join("detc.toml"),
        "[lint]\nselect = [\"DL\", \"DL023\"]\n",
    )
    .unwrap();
    let (_, _, se) = detc(&["lint", "--output-format", "concise", d.to_str().unwrap()]);
    assert!(
        se.contains("r.yaml:27:25: warning[DL023] `contains \"Admin\"`"),
        "{se}"
    );
    assert!(se.contains("warning[DL020]"), "{se}");
}

#[test]
fn every_lint_code_has_a_doc() {
    let (code, so, _) = detc(&["rule"]);
    assert_eq!(code, 0);
    let codes: Vec<&str> = so
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    for c in [
        "DY001", "DS001", "DS002", "DS003", "DK002", "DR001", "DR002", "DR006", "DR100", "DR101",
        "DL001", "DL002", "DL003", "DL004", "DL011", "DL020", "DL021", "DL022", "DL023", "DL030",
        "DL031", "DL040", "DL050", "DL051", "DL060", "DL070",
    ] {
        assert!(codes.contains(&c), "{c} missing from `detc rule`");
        let (code, so, _) = detc(&["rule", c]);
        assert_eq!(code, 0);
        assert!(
            so.contains("What:") && so.contains("Why:") && so.contains("Example"),
            "{c}: {so}"
        );
    }
}

#[test]
fn build_check_reports_drift_without_writing() {
    let d = tmp("drift");
    let out = d.join("out");
    let out_s = out.to_str().unwrap();
    let (code, _, se) = detc(&["build", "rules/", "--out", out_s]);
    assert_eq!(code, 0, "{se}");
    let (code, so, _) = detc(&["build", "rules/", "--out", out_s, "--check"]);
    assert_eq!((code, so.as_str()), (0, ""));
    // Edit one output, remove another, add a stale generated file.
    let kql = out.join("privileged-accounts-failed-mfa.kql");
    let text = std::fs::read_to_string(&kql).unwrap();
    std::fs::write(&kql, text.replace("Failed MFA", "Failed-MFA")).unwrap();
    std::fs::remove_file(out.join("privileged-accounts-failed-mfa.sqlite.sql")).unwrap();
    std::fs::write(
        out.join("gone.kql"),
        "// Generated by detc from gone.yaml; do not edit.\n",
    )
    .unwrap();
    let (code, so, se) = detc(&["build", "rules/", "--out", out_s, "--check"]);
    assert_eq!(code, 1, "{se}");
    assert!(so.contains("-// Privileged Accounts - Failed-MFA"), "{so}");
    assert!(so.contains("+// Privileged Accounts - Failed MFA"), "{so}");
    assert!(so.contains("new: ") && so.contains("sqlite.sql"), "{so}");
    assert!(so.contains("stale: ") && so.contains("gone.kql"), "{so}");
    assert!(se.contains("3 of 9 file(s) differ"), "{se}");
    // --check wrote nothing.
    assert!(!out
        .join("privileged-accounts-failed-mfa.sqlite.sql")
        .exists());
    assert!(std::fs::read_to_string(&kql)
        .unwrap()
        .contains("Failed-MFA"));
}

#[test]
fn yaml_error_is_not_followed_by_query_noise_and_run_declares_approximations() {
    let d = tmp("noise");
    let text = std::fs::read_to_string(root().join(SEED))
        .unwrap()
        .replace("  | where Roles contains", "\t| where Roles contains");
    let f = d.join("tab.yaml");
    std::fs::write(&f, text).unwrap();
    let (code, _, se) = detc(&["lint", "--output-format", "concise", f.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(se.contains("error[DY001]"), "{se}");
    assert!(!se.contains("DK002"), "no follow-on query errors: {se}");
    // `run` says on stderr when the native run is a declared approximation.
    let q = d.join("q.kql");
    std::fs::write(
        &q,
        "datatable(b:dynamic)[dynamic({\"k\":1})] | evaluate bag_unpack(b) | project k",
    )
    .unwrap();
    let (code, so, se) = run_jsonl(&q, &d);
    assert_eq!(code, 0, "{se}");
    assert_eq!(so.trim(), "{\"k\":1}");
    assert!(se.contains("warning[DR101]"), "{se}");
}

/// `detc run` reads NDJSON with the `where` above a scan and a join's keys applied while
/// reading; the same rows as `.json` arrays go through the reference reader without them.
/// Every join kind must give the same rows both ways.
#[test]
fn reading_with_pushed_filters_and_join_keys_changes_no_result() {
    let signins = [
        r#"{"UserPrincipalName": "alice@contoso.com", "IPAddress": "10.0.0.1", "TimeGenerated": "2024-03-01T00:10:00Z", "ResultType": "0"}"#,
        r#"{"UserPrincipalName": "alice@contoso.com", "IPAddress": "10.0.0.2", "TimeGenerated": "2024-03-01T01:20:00Z", "ResultType": "50074"}"#,
        r#"{"UserPrincipalName": "Bob@contoso.com", "IPAddress": "10.0.0.3", "TimeGenerated": "2024-03-01T02:30:00Z", "ResultType": "50074"}"#,
        r#"{"UserPrincipalName": "carol@contoso.com", "IPAddress": "10.0.0.4", "TimeGenerated": "2024-03-01T03:40:00Z", "ResultType": "0"}"#,
        r#"{"UserPrincipalName": "", "IPAddress": "10.0.0.5", "TimeGenerated": "2024-03-01T04:50:00Z", "ResultType": "0"}"#,
    ];
    let identities = [
        r#"{"AccountUPN": "alice@contoso.com", "Department": "IT"}"#,
        r#"{"AccountUPN": "alice@contoso.com", "Department": "Sales"}"#,
        r#"{"AccountUPN": "bob@contoso.com", "Department": "HR"}"#,
        r#"{"AccountUPN": "dave@contoso.com", "Department": "IT"}"#,
        r#"{"AccountUPN": "", "Department": "none"}"#,
    ];
    let (ndjson, arrays) = (tmp("push-ndjson"), tmp("push-arrays"));
    for (table, rows) in [("SigninLogs", &signins), ("IdentityInfo", &identities)] {
        std::fs::write(ndjson.join(format!("{table}.jsonl")), rows.join("\n")).unwrap();
        std::fs::write(
            arrays.join(format!("{table}.json")),
            format!("[{}]", rows.join(",")),
        )
        .unwrap();
    }
    // Queries whose scans decode only some columns.
    for query in [
        "SigninLogs | extend u = toupper(UserPrincipalName) | where ResultType == \"0\" | summarize n = count(), ips = make_set(IPAddress) by u",
        "SigninLogs | project UserPrincipalName, parts = split(IPAddress, \".\") | mv-expand parts | sort by UserPrincipalName asc, tostring(parts) asc | take 7",
        "union (SigninLogs | project a = IPAddress), (IdentityInfo | project a = Department) | distinct a",
        "SigninLogs | make-series n = count() default = 0 on TimeGenerated from datetime(2024-03-01) to datetime(2024-03-02) step 1h by UserPrincipalName",
        "SigninLogs | where ResultType in ((IdentityInfo | project d = \"0\")) | project IPAddress",
    ] {
        let q = ndjson.join("q.kql");
        std::fs::write(&q, query).unwrap();
        let (c1, out1, e1) = run_jsonl(&q, &ndjson);
        let (c2, out2, e2) = run_jsonl(&q, &arrays);
        assert_eq!((c1, c2), (0, 0), "{query}: {e1} {e2}");
        assert_eq!(out1, out2, "{query}");
        assert!(!out1.is_empty(), "{query}");
    }
    for kind in [
        "inner",
        "innerunique",
        "leftouter",
        "rightouter",
        "fullouter",
        "leftsemi",
        "rightsemi",
        "leftanti",
        "rightanti",
    ] {
        for (left, right) in [
            ("SigninLogs | where ResultType != \"x\"", "IdentityInfo | where Department != \"HR\" | project UserPrincipalName = AccountUPN, Department"),
            ("IdentityInfo | project UserPrincipalName = AccountUPN, Department", "SigninLogs | where IPAddress != \"10.0.0.1\""),
        ] {
            let q = ndjson.join("q.kql");
            std::fs::write(&q, format!("{left} | join kind={kind} ({right}) on UserPrincipalName")).unwrap();
            let (c1, out1, e1) = run_jsonl(&q, &ndjson);
            let (c2, out2, e2) = run_jsonl(&q, &arrays);
            assert_eq!((c1, c2), (0, 0), "{kind}: {e1} {e2}");
            let sorted = |s: &str| {
                let mut v: Vec<&str> = s.lines().collect();
                v.sort();
                v.join("\n")
            };
            assert_eq!(sorted(&out1), sorted(&out2), "{kind}: {left} / {right}");
        }
    }
}

/// Several rules in one `detc run`: every table read once, each rule's rows as when it runs
/// alone, tagged with `_rule`.
#[test]
fn several_rules_share_one_read_per_table() {
    let d = tmp("many");
    let q1 = d.join("a.kql");
    let q2 = d.join("b.kql");
    std::fs::write(
        &q1,
        "SigninLogs | where ResultType == \"0\" | project UserPrincipalName, IPAddress",
    )
    .unwrap();
    std::fs::write(
        &q2,
        "SigninLogs | where IPAddress has \"10.0.0\" | summarize n = count() by UserPrincipalName",
    )
    .unwrap();
    let alone = |q: &Path| {
        let (code, out, err) = run_jsonl(q, Path::new(FIX));
        assert_eq!(code, 0, "{err}");
        out
    };
    let (a, b) = (alone(&q1), alone(&q2));
    let (code, out, err) = detc(&[
        "run",
        q1.to_str().unwrap(),
        q2.to_str().unwrap(),
        "--data",
        FIX,
        "--format",
        "jsonl",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("2 rule(s)"), "{err}");
    let tagged = |q: &Path, rows: &str| -> Vec<String> {
        rows.lines()
            .map(|l| {
                format!(
                    "{{\"_rule\":{},{}",
                    serde_json_string(q.to_str().unwrap()),
                    &l[1..]
                )
            })
            .collect()
    };
    let mut want = tagged(&q1, &a);
    want.extend(tagged(&q2, &b));
    assert_eq!(out.lines().map(str::to_string).collect::<Vec<_>>(), want);
    assert!(!a.is_empty() && !b.is_empty());
}

fn serde_json_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Rules that read one table with different columns (open schemas) cannot share its read: a
/// clear error, not rows read under the wrong columns.
#[test]
fn several_rules_with_different_columns_of_one_table_are_refused() {
    let d = tmp("many-open");
    std::fs::write(d.join("AzureDiagnostics.jsonl"), "{\"Category\": \"x\"}\n").unwrap();
    let (q1, q2) = (d.join("a.kql"), d.join("b.kql"));
    std::fs::write(&q1, "AzureDiagnostics | project first_s").unwrap();
    std::fs::write(&q2, "AzureDiagnostics | project second_s").unwrap();
    let data = d.to_str().unwrap();
    let (code, _, err) = detc(&[
        "run",
        q1.to_str().unwrap(),
        q2.to_str().unwrap(),
        "--data",
        data,
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is read with other columns"), "{err}");
}

#[test]
fn strict_build_refuses_approximations_and_writes_nothing() {
    let d = tmp("strict");
    let out = d.join("out");
    let out_s = out.to_str().unwrap();
    // KQL carries the seed exactly: --strict builds it.
    let (code, _, se) = detc(&[
        "build", "rules/", "--out", out_s, "--target", "kql", "--strict",
    ]);
    assert_eq!(code, 0, "{se}");
    assert!(out.join("privileged-accounts-failed-mfa.kql").exists());
    // Spark declares approximations (case folding, term boundaries): an error, nothing written.
    let out2 = d.join("out2");
    let (code, _, se) = detc(&[
        "build",
        "rules/",
        "--out",
        out2.to_str().unwrap(),
        "--target",
        "sql:spark",
        "--strict",
    ]);
    assert_eq!(code, 1, "{se}");
    assert!(
        se.contains("DX002") && se.contains("has / has_any term boundaries"),
        "{se}"
    );
    assert!(!out2
        .join("privileged-accounts-failed-mfa.spark.sql")
        .exists());
    // Without --strict the same build writes the file.
    let (code, _, se) = detc(&[
        "build",
        "rules/",
        "--out",
        out2.to_str().unwrap(),
        "--target",
        "sql:spark",
    ]);
    assert_eq!(code, 0, "{se}");
    assert!(out2
        .join("privileged-accounts-failed-mfa.spark.sql")
        .exists());
}

#[test]
fn explain_lists_constructs_and_the_chosen_targets() {
    let (code, so, se) = detc(&[
        "explain",
        "rules/privileged-accounts-failed-mfa.yaml",
        "--target",
        "sql:bigquery",
    ]);
    assert_eq!(code, 0, "{se}");
    assert!(
        so.contains("== constructs ==\nbetween, contains, distinct"),
        "{so}"
    );
    assert!(so.contains("sql:bigquery: approximated"), "{so}");
    assert!(!so.contains("sql:duckdb:"), "only the chosen target: {so}");
    let (code, _, se) = detc(&[
        "explain",
        "rules/privileged-accounts-failed-mfa.yaml",
        "--target",
        "sql:oracle",
    ]);
    assert_eq!(code, 2);
    assert!(
        se.contains("unknown target `sql:oracle`") && se.contains("sql:spark"),
        "{se}"
    );
}

#[test]
fn fmt_rewrites_only_whitespace_and_refuses_what_it_cannot_place() {
    let d = tmp("fmt");
    let rule = d.join("r.yaml");
    let original = "id: 11111111-2222-3333-4444-555555555555\nname: r\nquery: |\n  let t = 1h; // window\n  SigninLogs|where  TimeGenerated > ago(t)\n    // only failures\n    | where ResultType != \"0\"|project UserPrincipalName,IPAddress\nversion: 1.0.0\n";
    std::fs::write(&rule, original).unwrap();
    let r = rule.to_str().unwrap();
    let (code, so, se) = detc(&["fmt", "--check", r]);
    assert_eq!(code, 1, "{se}");
    assert!(so.contains("+  | where ResultType != \"0\""), "{so}");
    assert_eq!(
        std::fs::read_to_string(&rule).unwrap(),
        original,
        "--check wrote"
    );
    let (code, _, se) = detc(&["fmt", r]);
    assert_eq!(code, 0, "{se}");
    assert_eq!(
        std::fs::read_to_string(&rule).unwrap(),
        "id: 11111111-2222-3333-4444-555555555555\nname: r\nquery: |\n  let t = 1h; // window\n  SigninLogs\n  | where TimeGenerated > ago(t)\n  // only failures\n  | where ResultType != \"0\"\n  | project UserPrincipalName, IPAddress\nversion: 1.0.0\n"
    );
    let (code, _, se) = detc(&["fmt", "--check", r]);
    assert_eq!(code, 0, "idempotent: {se}");
    // A query in a quoted scalar has no block to re-indent: refused, file untouched.
    let flow = d.join("flow.yaml");
    let text = "name: f\nquery: \"T|take 1\"\n";
    std::fs::write(&flow, text).unwrap();
    let (code, _, se) = detc(&["fmt", flow.to_str().unwrap()]);
    assert_eq!(code, 1, "{se}");
    assert!(se.contains("DF001"), "{se}");
    assert_eq!(std::fs::read_to_string(&flow).unwrap(), text);
}
