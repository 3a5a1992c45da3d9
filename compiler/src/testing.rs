//! Rule unit tests: `<rule>.tests.yaml` next to `<rule>.yaml`, each test giving parameters,
//! fixture tables (inline rows or a path to a data file) and the expected rows. Rows compare
//! as a multiset over the expected columns; a failure shows a unified diff.

use crate::catalog::Catalog;
use crate::diagnostics::{codes, Diagnostic};
use crate::eval::{self, compile::Ctx, data, Data, Row};
use crate::ir::Node;
use crate::lower::Tables;
use crate::value::Value;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestsFile {
    #[serde(default)]
    pub defaults: Defaults,
    pub tests: Vec<TestCase>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    pub now: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    pub name: String,
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    pub now: Option<String>,
    #[serde(default)]
    pub tables: BTreeMap<String, TableInput>,
    pub expect: Expect,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub enum TableInput {
    Path(String),
    Rows(Vec<serde_json::Value>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub columns: Option<Vec<String>>,
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// The tests file of a rule, if it has one.
pub fn tests_path(rule: &Path) -> PathBuf {
    let stem = rule.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    rule.with_file_name(format!("{stem}.tests.yaml"))
}

pub struct Outcome {
    pub name: String,
    pub failure: Option<String>,
}

/// Fixture tables of one test, typed by the catalog's schemas.
fn load_tables(
    tc: &TestCase,
    base: &Path,
    catalog: &Catalog,
    file: &Path,
) -> Result<Data, Diagnostic> {
    let mut data = Data::default();
    for (name, input) in &tc.tables {
        let schema = crate::lower::source_schema(catalog, name).ok_or_else(|| {
            Diagnostic::error(
                codes::TEST_FILE,
                format!("test `{}`: unknown table `{name}`", tc.name),
            )
            .with_file(file)
        })?;
        let rows: Vec<Row> = match input {
            TableInput::Path(p) => data::read_file(&base.join(p), &schema)?,
            TableInput::Rows(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    data::json_row(v, &schema).map_err(|m| {
                        Diagnostic::error(
                            codes::DATA,
                            format!("test `{}`, table {name}, row {}: {m}", tc.name, i + 1),
                        )
                        .with_file(file)
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        data.tables.insert(name.clone(), Arc::new(rows));
    }
    Ok(data)
}

/// Canonical text of a cell for comparison: datetimes as ISO with 7 digits, numbers by value.
pub fn canonical(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Real(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => format!("{}", *x as i64),
        other => serde_json::to_string(&other.to_json()).unwrap(),
    }
}

/// Rows as sorted canonical lines over `columns`, for a readable multiset diff.
pub fn lines(rows: &[Vec<Value>], columns: &[String]) -> Vec<String> {
    let mut out: Vec<String> = rows
        .iter()
        .map(|r| {
            columns
                .iter()
                .zip(r)
                .map(|(c, v)| format!("{c}={}", canonical(v)))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    out.sort();
    out
}

pub fn diff(expected: &[String], actual: &[String]) -> String {
    let e = expected.join("\n") + "\n";
    let a = actual.join("\n") + "\n";
    similar::TextDiff::from_lines(&e, &a)
        .unified_diff()
        .context_radius(3)
        .header("expected", "actual")
        .to_string()
}

/// Runs every test of one rule. `plan_for` lowers the rule against the tables present.
pub fn run_tests(
    rule_path: &Path,
    source: &crate::pipeline::Source,
    catalog: &Catalog,
) -> Result<Vec<Outcome>, Vec<Diagnostic>> {
    let tp = tests_path(rule_path);
    let text = std::fs::read_to_string(&tp).map_err(|e| {
        vec![Diagnostic::error(codes::IO, format!("cannot read: {e}")).with_file(&tp)]
    })?;
    let file: TestsFile = yaml_serde::from_str(&text).map_err(|e| {
        let mut d =
            Diagnostic::error(codes::TEST_FILE, format!("bad tests file: {e}")).with_file(&tp);
        if let Some(loc) = e.location() {
            d.span = Some(crate::diagnostics::Span::new(loc.index(), loc.index()));
        }
        vec![d]
    })?;
    let base = tp.parent().unwrap_or(Path::new("."));
    let mut outcomes = Vec::new();
    for tc in &file.tests {
        let data = load_tables(tc, base, catalog, &tp).map_err(|d| vec![d])?;
        let present: BTreeSet<String> = data.tables.keys().cloned().collect();
        let (plan, diags) = crate::pipeline::compile(
            source,
            &Tables {
                catalog,
                present: Some(&present),
            },
        );
        let Some(plan) = plan else {
            return Err(diags.into_iter().filter(|d| d.is_error()).collect());
        };
        let mut params = file.defaults.params.clone();
        params.extend(tc.params.clone());
        let now = tc.now.as_ref().or(file.defaults.now.as_ref());
        let failure = run_case(&plan, &params, now, &data, &tc.expect).err();
        outcomes.push(Outcome {
            name: tc.name.clone(),
            failure,
        });
    }
    Ok(outcomes)
}

fn run_case(
    plan: &Node,
    params: &BTreeMap<String, String>,
    now: Option<&String>,
    data: &Data,
    expect: &Expect,
) -> Result<(), String> {
    let bound = crate::bind::bind(plan, params).map_err(|d| d.message)?;
    let now = match now {
        Some(s) => crate::value::parse_datetime(s).ok_or_else(|| format!("bad `now`: {s:?}"))?,
        None => current_ticks(),
    };
    let rows = eval::run(&bound, data, &Ctx { now }).map_err(|d| d.message)?;
    let columns: Vec<String> = match &expect.columns {
        Some(c) => c.clone(),
        None => match expect.rows.first() {
            Some(r) => r.keys().cloned().collect(),
            None => bound.schema.iter().map(|c| c.name.clone()).collect(),
        },
    };
    let mut idx = Vec::new();
    for c in &columns {
        match bound.column(c) {
            Some((i, col)) => idx.push((i, col.ty)),
            None => return Err(format!("expected column `{c}` is not in the output")),
        }
    }
    let actual: Vec<Vec<Value>> = rows
        .iter()
        .map(|r| idx.iter().map(|(i, _)| r[*i].clone()).collect())
        .collect();
    let mut expected = Vec::new();
    for (n, r) in expect.rows.iter().enumerate() {
        for k in r.keys() {
            if !columns.contains(k) {
                return Err(format!(
                    "expected row {}: column `{k}` is not in `expect.columns`",
                    n + 1
                ));
            }
        }
        let mut row = Vec::new();
        for (c, (_, ty)) in columns.iter().zip(&idx) {
            let v = match r.get(c) {
                Some(j) => data::json_value(j, *ty)
                    .map_err(|m| format!("expected row {}, column `{c}`: {m}", n + 1))?,
                None => Value::missing(*ty),
            };
            row.push(v);
        }
        expected.push(row);
    }
    let (e, a) = (lines(&expected, &columns), lines(&actual, &columns));
    if e == a {
        Ok(())
    } else {
        Err(format!(
            "expected {} row(s), got {}:\n{}",
            e.len(),
            a.len(),
            diff(&e, &a)
        ))
    }
}

pub fn current_ticks() -> i64 {
    let now = chrono::Utc::now();
    now.timestamp() * crate::value::TICKS_PER_SECOND + i64::from(now.timestamp_subsec_nanos()) / 100
}
