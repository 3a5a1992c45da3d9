//! `detc verify`: the emitted SQL, run on a real engine over the same rows, must return the
//! same multiset of rows as the native run. Values are normalised by the output column's
//! KQL type before comparison (see `detc verify --help`).

pub mod generate;
pub mod shrink;

use crate::emit::sql;
use crate::engines::{self, Engine, TableData};
use crate::eval::{Data, Row};
use crate::ir::Node;
use crate::testing::diff;
use crate::types::Type;
use crate::value::{format_datetime, parse_datetime, Value};

pub fn dialect(e: Engine) -> &'static sql::Dialect {
    match e {
        Engine::DuckDb => &sql::DUCKDB,
        Engine::Postgres => &sql::POSTGRES,
        Engine::Sqlite => &sql::SQLITE,
        Engine::Spark => &sql::SPARK,
    }
}

/// Microsecond-precision ISO text: what TIMESTAMP engines can hold.
fn norm_datetime(ticks: i64) -> String {
    format_datetime(ticks - ticks.rem_euclid(10))
}

fn norm_native(v: &Value, ty: Type) -> String {
    match (v, ty) {
        (Value::Null, _) => "null".into(),
        (Value::DateTime(t), _) => norm_datetime(*t),
        // SQL targets carry timespans as ticks.
        (Value::Timespan(t), _) => t.to_string(),
        (Value::Dynamic(d), _) if d.is_null() => "null".into(),
        (Value::Dynamic(d), _) => canonical_json(d).to_string(),
        (Value::Real(x), _) => num_text(*x),
        (Value::Long(n), _) => n.to_string(),
        (v, _) => serde_json::to_string(&v.to_json()).unwrap(),
    }
}

/// JSON with integral floats written as integers (`4.0` and `4` are one number).
fn canonical_json(j: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match j {
        J::Number(n) => match (n.as_i64(), n.as_f64()) {
            (None, Some(x)) if x.fract() == 0.0 && x.abs() < 9.0e15 => J::from(x as i64),
            _ => j.clone(),
        },
        J::Array(a) => J::Array(a.iter().map(canonical_json).collect()),
        J::Object(m) => J::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), canonical_json(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn num_text(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:?}")
    }
}

fn norm_engine(j: &serde_json::Value, ty: Type, engine: Engine) -> String {
    use serde_json::Value as J;
    match (j, ty) {
        (J::Null, _) => "null".into(),
        (J::String(s), Type::DateTime) => match parse_datetime(s) {
            Some(t) => norm_datetime(t),
            None => format!("unparsable datetime {s:?}"),
        },
        (J::Number(n), Type::Bool) => (n.as_i64() == Some(1)).to_string(),
        // NaN and infinities come back as text from JSON output.
        (J::String(s), Type::Real | Type::Decimal) if s.parse::<f64>().is_ok() => {
            num_text(s.parse().unwrap_or(f64::NAN))
        }
        (J::Number(n), _) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => num_text(n.as_f64().unwrap_or(f64::NAN)),
        },
        // SQLite keeps dynamic values as JSON text; DuckDB and PostgreSQL return them parsed.
        (J::String(s), Type::Dynamic) if engine == Engine::Sqlite => {
            match serde_json::from_str::<serde_json::Value>(s) {
                Ok(J::Null) => "null".into(),
                Ok(v) => canonical_json(&v).to_string(),
                Err(_) => serde_json::to_string(s).unwrap(),
            }
        }
        (J::Bool(b), _) => b.to_string(),
        (other, Type::Dynamic) => canonical_json(other).to_string(),
        (other, _) => other.to_string(),
    }
}

/// Runs the plan's SQL on `engine` and compares with `native`. Ok: the row count.
/// `now` is the native run's `now()`: the SQL reads it as a constant, not the engine's clock.
pub fn check(
    plan: &Node,
    data: &Data,
    native: &[Row],
    engine: Engine,
    now: i64,
) -> Result<usize, String> {
    let out = sql::emit_at(plan, dialect(engine), Some(now))
        .map_err(|u| format!("cannot emit SQL: {u}"))?;
    check_emitted(plan, data, native, engine, &out)
}

/// [`check`] with the plan's SQL already emitted (by `emit_at` with the same `now`).
pub fn check_emitted(
    plan: &Node,
    data: &Data,
    native: &[Row],
    engine: Engine,
    out: &sql::SqlOutput,
) -> Result<usize, String> {
    engines::available(engine)?;
    // Tables hold the columns under the identifiers the SQL reads them by.
    let renamed = sql::sql_names(plan, dialect(engine));
    let tables: Vec<TableData> = plan
        .sources()
        .into_iter()
        .map(|(t, cols)| TableData {
            rows: data
                .tables
                .get(&t)
                .map(|r| r.as_ref().clone())
                .unwrap_or_default(),
            name: t,
            columns: cols
                .into_iter()
                .map(|c| (renamed.get(&c.name).cloned().unwrap_or(c.name), c.ty))
                .collect(),
        })
        .collect();
    if !out.params.is_empty() {
        return Err("the plan still has unbound parameters".into());
    }
    let got = engines::run(engine, &tables, &out.emitted.text).map_err(|e| format!("{e}"))?;
    let names: Vec<String> = plan
        .schema
        .iter()
        .map(|c| match engine {
            // A declared approximation: PostgreSQL truncates result names to 63 bytes.
            Engine::Postgres if c.name.len() > 63 => {
                let mut cut = 63;
                while !c.name.is_char_boundary(cut) {
                    cut -= 1;
                }
                c.name[..cut].to_string()
            }
            _ => c.name.clone(),
        })
        .collect();
    if got.columns != names {
        return Err(format!("columns differ:\n{}", diff(&names, &got.columns)));
    }
    let line = |cells: Vec<String>| {
        names
            .iter()
            .zip(cells)
            .map(|(n, c)| format!("{n}={c}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut a: Vec<String> = native
        .iter()
        .map(|r| {
            line(
                r.iter()
                    .zip(&plan.schema)
                    .map(|(v, c)| norm_native(v, c.ty))
                    .collect(),
            )
        })
        .collect();
    let mut b: Vec<String> = got
        .rows
        .iter()
        .map(|r| {
            line(
                r.iter()
                    .zip(&plan.schema)
                    .map(|(v, c)| norm_engine(v, c.ty, engine))
                    .collect(),
            )
        })
        .collect();
    a.sort();
    b.sort();
    if a == b {
        Ok(a.len())
    } else {
        Err(format!(
            "native {} row(s), {} {} row(s):\n{}",
            a.len(),
            engine.name(),
            b.len(),
            diff(&a, &b)
        ))
    }
}
