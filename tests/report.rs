//! `detc report` on a small repository with one rule per kind of failure: exact counts, the
//! first failure of every file, and output that does not depend on the job count.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs detc in `dir`; returns exit code, stdout, stderr.
fn detc(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_detc"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let (so, se) = (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    assert!(!se.contains("panicked"), "panic: {se}");
    (out.status.code().unwrap_or(-1), so, se)
}

/// A temporary folder holding `repo/` with one rule per outcome (and files `report` skips).
fn repo(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("detc-report-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let r = d.join("repo");
    std::fs::create_dir_all(r.join("fixtures")).unwrap();
    let seed =
        std::fs::read_to_string(root().join("rules/privileged-accounts-failed-mfa.yaml")).unwrap();
    let write = |f: &str, text: &str| std::fs::write(r.join(f), text).unwrap();
    write("a-seed.yaml", &seed);
    write(
        "b-syntax.yaml",
        &seed.replace(
            "| distinct Roles, AccountUPN",
            "| distinct Roles,, AccountUPN",
        ),
    );
    write(
        "c-column.yaml",
        &seed.replace("tolower(AccountUPN)", "tolower(AccountUpn)"),
    );
    write(
        "d-unsupported.yaml",
        "id: 00000000-0000-0000-0000-000000000001\nname: Unsupported operator\nquery: |\n  \
         SigninLogs\n  | where ResultType == \"0\"\n  | evaluate autocluster()\n",
    );
    write(
        "e-schema.yaml",
        &seed.replace("version: 1.0.1", "version: 1.0.1\nseverity: Extreme"),
    );
    write("f-yaml.yaml", "id: x\nname: [unclosed\nquery: |\n  T\n");
    write(
        "g-noquery.yaml",
        "id: 00000000-0000-0000-0000-000000000002\nname: No query here\n",
    );
    write(
        "h-bare.kql",
        "SigninLogs\n| where ResultType == \"50074\"\n| take 5\n",
    );
    // Not rule files: a tests file and anything under fixtures/.
    write("a-seed.tests.yaml", "tests: []\n");
    write("fixtures/broken.yaml", "id: [\n");
    d
}

const STAGES: [&str; 14] = [
    "yaml",
    "schema",
    "parse",
    "resolve",
    "ir",
    "eval",
    "kql",
    "sigma",
    "sql:duckdb",
    "sql:postgres",
    "sql:sqlite",
    "sql:spark",
    "sql:snowflake",
    "sql:bigquery",
];

fn failure(stage: &str, code: &str, message: &str, location: &str) -> Value {
    json!({"stage": stage, "code": code, "message": message, "location": location})
}

#[test]
fn counts_and_first_failures() {
    let d = repo("json");
    let (code, so, se) = detc(&d, &["report", "repo", "--format", "json"]);
    assert_eq!(code, 0, "{se}");
    assert_eq!(se, "", "no progress output when stderr is not a terminal");
    let v: Value = serde_json::from_str(&so).unwrap();
    assert_eq!(v["files"], 8);
    assert_eq!(v["with_query"], 6);
    assert_eq!(
        v["stages"],
        json!({"yaml": 7, "schema": 5, "parse": 5, "resolve": 4, "ir": 3, "eval": 3, "kql": 3,
               "sigma": 2, "sql:duckdb": 3, "sql:postgres": 3, "sql:sqlite": 3,
               "sql:spark": 3, "sql:snowflake": 3, "sql:bigquery": 3})
    );
    assert_eq!(
        v["failures"],
        json!({"DK002": 1, "DR002": 1, "DR100": 1, "DS001": 1, "DS002": 1, "DX001": 1, "DY001": 1})
    );
    let sigma_shape =
        "sigma: take/sort: a Sigma rule selects events; it cannot order or limit them";
    assert_eq!(
        v["constructs"],
        json!({"evaluate plugin `autocluster` is not supported yet": 1, sigma_shape: 1})
    );

    // Stage keys come in stage order, not alphabetically.
    let stages_text = so.lines().find(|l| l.contains("\"stages\"")).unwrap();
    let positions: Vec<usize> = STAGES
        .iter()
        .map(|s| stages_text.find(&format!("\"{s}\"")).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{stages_text}");

    let rules = v["rules"].as_array().unwrap();
    let paths: Vec<&str> = rules.iter().map(|r| r["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "repo/a-seed.yaml",
            "repo/b-syntax.yaml",
            "repo/c-column.yaml",
            "repo/d-unsupported.yaml",
            "repo/e-schema.yaml",
            "repo/f-yaml.yaml",
            "repo/g-noquery.yaml",
            "repo/h-bare.kql"
        ]
    );
    let first: Vec<&Value> = rules.iter().map(|r| &r["first_failure"]).collect();
    assert_eq!(
        first,
        [
            &Value::Null,
            &failure(
                "parse",
                "DK002",
                "expected an expression, found `,`",
                "repo/b-syntax.yaml:31:20"
            ),
            &failure(
                "resolve",
                "DR002",
                "unknown column `AccountUpn`",
                "repo/c-column.yaml:29:66"
            ),
            &failure(
                "ir",
                "DR100",
                "evaluate plugin `autocluster` is not supported yet",
                "repo/d-unsupported.yaml:6:14"
            ),
            &failure(
                "schema",
                "DS001",
                "severity: \"Extreme\" is not one of High, Medium, Low, Informational",
                "repo/e-schema.yaml:53:11"
            ),
            &failure(
                "yaml",
                "DY001",
                "did not find expected ',' or ']', while parsing a flow sequence at line 2 column 7",
                "repo/f-yaml.yaml:3:6"
            ),
            &failure(
                "schema",
                "DS002",
                "missing required key `query`",
                "repo/g-noquery.yaml:1:1"
            ),
            &failure("sigma", "DX001", sigma_shape, "repo/h-bare.kql"),
        ]
    );

    // Per-stage outcomes: ok / skipped / the failure, in stage order.
    let outcomes = |i: usize| -> Vec<String> {
        let s = rules[i]["stages"].as_object().unwrap();
        assert_eq!(s.len(), STAGES.len());
        STAGES
            .iter()
            .map(|k| match &s[*k] {
                Value::String(x) => x.clone(),
                other => other["code"].as_str().unwrap().to_string(),
            })
            .collect()
    };
    let ok = |n: usize| vec!["ok".to_string(); n];
    let skipped = |n: usize| vec!["skipped".to_string(); n];
    let cat = |parts: Vec<Vec<String>>| parts.concat();
    let one = |s: &str| vec![s.to_string()];
    assert_eq!(outcomes(0), ok(14));
    assert_eq!(outcomes(1), cat(vec![ok(2), one("DK002"), skipped(11)]));
    assert_eq!(outcomes(2), cat(vec![ok(3), one("DR002"), skipped(10)]));
    assert_eq!(outcomes(3), cat(vec![ok(4), one("DR100"), skipped(9)]));
    // Schema validity does not gate the query stages.
    assert_eq!(outcomes(4), cat(vec![ok(1), one("DS001"), ok(12)]));
    assert_eq!(outcomes(5), cat(vec![one("DY001"), skipped(13)]));
    // No query: the query stages are skipped, not failed.
    assert_eq!(outcomes(6), cat(vec![ok(1), one("DS002"), skipped(12)]));
    // Targets depend on the plan only: Sigma failing does not hide the SQL dialects.
    assert_eq!(outcomes(7), cat(vec![ok(7), one("DX001"), ok(6)]));
}

#[test]
fn output_does_not_depend_on_the_job_count() {
    let d = repo("jobs");
    for format in ["json", "table"] {
        let (c1, one, _) = detc(&d, &["report", "repo", "--format", format, "--jobs", "1"]);
        let (c2, two, _) = detc(&d, &["report", "repo", "--format", format, "--jobs", "2"]);
        let (c3, many, _) = detc(&d, &["report", "repo", "--format", format, "--jobs", "7"]);
        assert_eq!((c1, c2, c3), (0, 0, 0));
        assert_eq!(one, two, "{format}");
        assert_eq!(one, many, "{format}");
    }
}

#[test]
fn table_format() {
    let d = repo("table");
    let (code, so, se) = detc(&d, &["report", "repo"]);
    assert_eq!(code, 0, "{se}");
    assert!(
        so.starts_with("8 file(s), 6 with a query; 1 pass every stage that applies\n"),
        "{so}"
    );
    let line = |stage: &str| {
        so.lines()
            .find(|l| l.split_whitespace().next() == Some(stage))
            .unwrap_or_else(|| panic!("no `{stage}` line in\n{so}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(line("yaml"), ["yaml", "7", "1", "0", "87.5%", "files"]);
    assert_eq!(line("ir"), ["ir", "3", "1", "4", "50.0%", "with_query"]);
    assert_eq!(
        line("sigma"),
        ["sigma", "2", "1", "5", "33.3%", "with_query"]
    );
    assert!(
        so.contains("DR002  e.g. repo/c-column.yaml:29:66: unknown column `AccountUpn`"),
        "{so}"
    );
    assert!(
        so.contains("      1  evaluate plugin `autocluster` is not supported yet"),
        "{so}"
    );
}

#[test]
fn usage_errors() {
    let d = repo("usage");
    assert_eq!(detc(&d, &["report", "repo", "--jobs", "0"]).0, 2);
    assert_eq!(detc(&d, &["report", "repo", "--format", "xml"]).0, 2);
    std::fs::create_dir_all(d.join("empty")).unwrap();
    assert_eq!(detc(&d, &["report", "empty"]).0, 2);
}

/// `--engines sqlite` (bundled, so never skipped): each rule that evaluates and renders for
/// SQLite runs there on empty tables and on one synthetic row per table, against the native run.
#[test]
fn engines_run_the_sql() {
    let d = repo("engines");
    let (code, so, se) = detc(
        &d,
        &["report", "repo", "--format", "json", "--engines", "sqlite"],
    );
    assert_eq!(code, 0, "{se}");
    let v: Value = serde_json::from_str(&so).unwrap();
    assert_eq!(v["stages"]["eval"], 3);
    assert_eq!(v["stages"]["run:sqlite"], 3, "{so}");
    let seed = &v["rules"][0];
    assert_eq!(seed["stages"]["run:sqlite"], "ok");
    // A rule that never reaches the IR is skipped there.
    assert_eq!(v["rules"][1]["stages"]["run:sqlite"], "skipped");

    let (code, _, se) = detc(&d, &["report", "repo", "--engines", "oracle"]);
    assert_eq!(code, 2);
    assert!(se.contains("unknown engine `oracle`"), "{se}");
}
