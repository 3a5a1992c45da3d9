//! The parse-only proof of the SQL targets that are not executed here: every rule of `rules/`
//! and of the Sentinel corpus (when `../shared/corpus/sentinel` is present) whose Snowflake or
//! BigQuery (and Spark) SQL renders must parse with sqlglot for that dialect; the others must
//! be reported unsupported with a reason. sqlglot runs from `$DETC_SPARK_PYTHON` (set by
//! `scripts/engines.sh`); without it the test skips, or fails under DETC_REQUIRE_ENGINES=1.

use detc::catalog::Catalog;
use detc::lower::Tables;
use detc::targets::{self, Target};
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "common/rule_files.rs"]
mod common;
use common::rule_files;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn python() -> Option<PathBuf> {
    let p = std::env::var_os("DETC_SPARK_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".detc-ci/venv/bin/python"));
    let ok = Command::new(&p)
        .args(["-c", "import sqlglot"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(p);
    }
    if detc::engines::engines_required() {
        panic!(
            "sqlglot is required (DETC_REQUIRE_ENGINES=1) but {} cannot import it",
            p.display()
        );
    }
    eprintln!("skipping: no python with sqlglot (set DETC_SPARK_PYTHON)");
    None
}

const DIALECTS: [(&str, &str); 3] = [
    ("snowflake", "snowflake"),
    ("bigquery", "bigquery"),
    ("spark", "spark"),
];

/// Renders every file for the three dialects: (name, sqlglot dialect, SQL) and the count of
/// unsupported renderings.
fn batch(paths: &[PathBuf], catalog: &Catalog) -> (Vec<serde_json::Value>, usize) {
    let mut items = Vec::new();
    let mut unsupported = 0;
    for path in paths {
        let src = detc::pipeline::load(path);
        let tables = Tables {
            catalog,
            present: None,
        };
        let (Some(plan), _) = detc::pipeline::compile(&src, &tables) else {
            continue;
        };
        for (ours, theirs) in DIALECTS {
            let t = Target::parse(&format!("sql:{ours}")).unwrap();
            match targets::render(t, &plan, src.rule.as_ref(), &path.to_string_lossy()) {
                Ok(sql) => items.push(serde_json::json!({
                    "name": format!("{}:{ours}", path.display()),
                    "dialect": theirs,
                    "sql": sql,
                })),
                Err(u) => {
                    assert!(
                        !u.reason.is_empty(),
                        "{}: unsupported without a reason",
                        path.display()
                    );
                    unsupported += 1;
                }
            }
        }
    }
    (items, unsupported)
}

fn check(py: &Path, items: &[serde_json::Value]) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("detc-sqlglot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("batch.json");
    std::fs::write(&file, serde_json::to_string(items).unwrap()).unwrap();
    let out = Command::new(py)
        .arg(root().join("scripts/sqlglot_check.py"))
        .arg(&file)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), items.len());
    results
        .iter()
        .filter(|r| r["ok"] != true)
        .map(|r| {
            format!(
                "{}: {}",
                r["name"].as_str().unwrap(),
                r["error"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[test]
fn the_checker_rejects_broken_sql() {
    let Some(py) = python() else { return };
    let items = vec![
        serde_json::json!({"name": "good", "dialect": "bigquery", "sql": "SELECT `a` FROM `t` WHERE REGEXP_CONTAINS(`a`, 'x\\\\.y')"}),
        serde_json::json!({"name": "bad", "dialect": "snowflake", "sql": "SELECT a FROM WHERE ((x"}),
    ];
    assert_eq!(check(&py, &items).len(), 1);
}

#[test]
fn rules_and_corpus_parse_with_sqlglot() {
    let Some(py) = python() else { return };
    let catalog = Catalog::builtin();
    let mut paths = Vec::new();
    rule_files(&root().join("rules"), &mut paths);
    let corpus = root().join("../shared/corpus/sentinel");
    if corpus.is_dir() {
        rule_files(&corpus, &mut paths);
    } else {
        eprintln!("corpus part skipped: {} is absent", corpus.display());
    }
    let (items, unsupported) = batch(&paths, &catalog);
    let failures = check(&py, &items);
    eprintln!(
        "sqlglot: {} SQL documents parsed, {} failed, {unsupported} renderings unsupported with a reason ({} files)",
        items.len() - failures.len(),
        failures.len(),
        paths.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The seed renders for every dialect.
    assert!(items.len() >= 3);
}
