//! The SQL text that creates and fills the tables on each engine: DDL and multi-row INSERTs.
//!
//! The text is deterministic (tables and rows in the order given) and is exactly what
//! [`super::run`] executes, so `--keep` style debugging can replay it by hand.
//!
//! Literal forms, per engine (see the type table in [`super`]):
//! - strings: `'...'` with `'` doubled; backslashes, newlines and any Unicode stand as they are
//!   (PostgreSQL gets `SET standard_conforming_strings = on` first), except that DuckDB gets
//!   CR as `chr(13)` (its CLI drops the CR of a CRLF even inside literals). NUL cannot be
//!   stored in a text column by these engines and is rejected.
//! - reals: the shortest text that reads back to the same `f64` (with an exponent on DuckDB);
//!   NaN and infinities as casts of strings (SQLite cannot store NaN: it becomes NULL; infinities are `9e999`/`-9e999`).
//! - datetimes: `TIMESTAMP 'YYYY-MM-DD HH:MM:SS.ffffff'` (the 7th fractional digit is dropped,
//!   rounding toward the past) on DuckDB/PostgreSQL; the exact KQL text form on SQLite.
//! - dynamic: compact JSON text (`serde_json::to_string`), cast to JSON/JSONB. A dynamic
//!   JSON `null` loads as SQL NULL (KQL does not tell them apart).

use super::{Engine, TableData};
use crate::types::Type;
use crate::value::{format_datetime, Value, TICKS_PER_SECOND};
use chrono::{TimeZone, Utc};
use std::fmt::Write;

/// Rows per INSERT statement.
const ROWS_PER_INSERT: usize = 500;

/// The engine's column type for a KQL type.
pub fn column_type(engine: Engine, ty: Type) -> &'static str {
    use Engine::*;
    match (engine, ty) {
        (DuckDb | Postgres, Type::Bool) => "BOOLEAN",
        (Sqlite, Type::Bool) => "INTEGER",
        (DuckDb | Postgres, Type::Int | Type::Long | Type::Timespan) => "BIGINT",
        (Sqlite, Type::Int | Type::Long | Type::Timespan) => "INTEGER",
        (DuckDb, Type::Real | Type::Decimal) => "DOUBLE",
        (Postgres, Type::Real | Type::Decimal) => "DOUBLE PRECISION",
        (Sqlite, Type::Real | Type::Decimal) => "REAL",
        (DuckDb, Type::String | Type::Guid) => "VARCHAR",
        (Postgres | Sqlite, Type::String | Type::Guid) => "TEXT",
        (DuckDb | Postgres, Type::DateTime) => "TIMESTAMP",
        (Sqlite, Type::DateTime) => "TEXT",
        (DuckDb, Type::Dynamic) => "JSON",
        (Postgres, Type::Dynamic) => "JSONB",
        (Sqlite, Type::Dynamic) => "TEXT",
        (Spark, ty) => super::spark::column_type(ty),
    }
}

/// `"name"` with embedded `"` doubled. Names are case-sensitive everywhere.
pub fn quote_ident(name: &str) -> Result<String, String> {
    if name.is_empty() {
        return Err("empty table or column name".into());
    }
    if name.contains('\0') {
        return Err(format!("name {name:?} contains a NUL character"));
    }
    Ok(format!("\"{}\"", name.replace('"', "\"\"")))
}

/// `'text'` with embedded `'` doubled. The same form is right for DuckDB, SQLite and
/// PostgreSQL with `standard_conforming_strings = on` (backslashes are ordinary characters).
pub fn quote_string(s: &str) -> Result<String, String> {
    if s.contains('\0') {
        return Err(format!(
            "string {:?} contains a NUL character, which the SQL engines cannot store",
            truncate(s)
        ));
    }
    Ok(format!("'{}'", s.replace('\'', "''")))
}

fn truncate(s: &str) -> String {
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

/// The whole load script for `tables`.
pub fn script(engine: Engine, tables: &[TableData]) -> Result<String, String> {
    if engine == Engine::Spark {
        return Err("Spark loads tables through its driver, not an SQL script".into());
    }
    let mut out = String::new();
    if engine == Engine::Postgres {
        out.push_str("SET standard_conforming_strings = on;\n");
    }
    for table in tables {
        table_script(engine, table, &mut out)?;
    }
    Ok(out)
}

fn table_script(engine: Engine, table: &TableData, out: &mut String) -> Result<(), String> {
    let tname = quote_ident(&table.name)?;
    if table.columns.is_empty() {
        return Err(format!("table {tname} has no columns"));
    }
    let _ = write!(out, "CREATE TABLE {tname} (");
    for (i, (name, ty)) in table.columns.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        let _ = write!(
            out,
            "{sep}\n  {} {}",
            quote_ident(name)?,
            column_type(engine, *ty)
        );
    }
    out.push_str("\n);\n");
    for (chunk_no, chunk) in table.rows.chunks(ROWS_PER_INSERT).enumerate() {
        let _ = write!(out, "INSERT INTO {tname} VALUES");
        for (i, row) in chunk.iter().enumerate() {
            let row_no = chunk_no * ROWS_PER_INSERT + i + 1;
            if row.len() != table.columns.len() {
                return Err(format!(
                    "table {tname} row {row_no} has {} values for {} columns",
                    row.len(),
                    table.columns.len()
                ));
            }
            out.push_str(if i == 0 { "\n  (" } else { ",\n  (" });
            for (j, (value, (cname, ty))) in row.iter().zip(&table.columns).enumerate() {
                if j > 0 {
                    out.push_str(", ");
                }
                let lit = literal(engine, *ty, value).map_err(|e| {
                    format!(
                        "table {tname} row {row_no} column {}: {e}",
                        quote_ident(cname).unwrap_or_default()
                    )
                })?;
                out.push_str(&lit);
            }
            out.push(')');
        }
        out.push_str(";\n");
    }
    Ok(())
}

/// The SQL literal of `value` for a column of KQL type `ty`.
pub fn literal(engine: Engine, ty: Type, value: &Value) -> Result<String, String> {
    use Engine::*;
    let mismatch = || format!("a {} column cannot hold the value {value:?}", ty.name());
    if value.is_null() {
        return Ok("NULL".into());
    }
    Ok(match ty {
        Type::Bool => match (value, engine) {
            (Value::Bool(b), Sqlite) => if *b { "1" } else { "0" }.into(),
            (Value::Bool(b), _) => if *b { "TRUE" } else { "FALSE" }.into(),
            _ => return Err(mismatch()),
        },
        Type::Int | Type::Long | Type::Timespan => match (value, ty) {
            (Value::Long(n), Type::Int | Type::Long) => n.to_string(),
            (Value::Timespan(n), Type::Timespan) => n.to_string(),
            _ => return Err(mismatch()),
        },
        Type::Real | Type::Decimal => match value {
            Value::Real(x) => real_literal(engine, *x),
            Value::Long(n) => real_literal(engine, *n as f64),
            _ => return Err(mismatch()),
        },
        Type::String | Type::Guid => match value {
            Value::String(s) if engine == DuckDb && s.contains('\r') => {
                // The DuckDB CLI reads its input by lines and drops the CR of a CRLF, also
                // inside a string literal: spell CR as chr(13).
                let parts: Result<Vec<String>, String> = s.split('\r').map(quote_string).collect();
                format!("({})", parts?.join(" || chr(13) || "))
            }
            Value::String(s) => quote_string(s)?,
            _ => return Err(mismatch()),
        },
        Type::DateTime => match value {
            Value::DateTime(ticks) => datetime_literal(engine, *ticks)?,
            _ => return Err(mismatch()),
        },
        Type::Dynamic => {
            let json = value.to_json();
            if json.is_null() {
                return Ok("NULL".into());
            }
            let text = serde_json::to_string(&json).map_err(|e| e.to_string())?;
            let quoted = quote_string(&text)?;
            match engine {
                DuckDb => format!("{quoted}::JSON"),
                Postgres => format!("{quoted}::jsonb"),
                Sqlite => quoted,
                Spark => unreachable!("script() refuses Spark"),
            }
        }
    })
}

fn real_literal(engine: Engine, x: f64) -> String {
    use Engine::*;
    if x.is_nan() {
        return match engine {
            DuckDb => "'NaN'::DOUBLE".into(),
            Postgres => "'NaN'::double precision".into(),
            Sqlite => "NULL".into(),
            Spark => unreachable!("script() refuses Spark"),
        };
    }
    if x.is_infinite() {
        let neg = x < 0.0;
        return match (engine, neg) {
            (DuckDb, false) => "'inf'::DOUBLE".into(),
            (DuckDb, true) => "'-inf'::DOUBLE".into(),
            (Postgres, false) => "'Infinity'::double precision".into(),
            (Postgres, true) => "'-Infinity'::double precision".into(),
            (Sqlite, false) => "9e999".into(),
            (Sqlite, true) => "-9e999".into(),
            (Spark, _) => unreachable!("script() refuses Spark"),
        };
    }
    if x == 0.0 && x.is_sign_negative() {
        // A numeric literal `-0.0` reads back as +0 (it is negated zero in DECIMAL/NUMERIC).
        return match engine {
            DuckDb => "'-0.0'::DOUBLE".into(),
            Postgres => "'-0'::double precision".into(),
            Sqlite => "-0.0".into(),
            Spark => unreachable!("script() refuses Spark"),
        };
    }
    match engine {
        // DuckDB reads `0.1` as a DECIMAL and converts that to DOUBLE with a double rounding
        // (about 4% of random doubles come back 1 ulp off); a literal with an exponent is read
        // as a DOUBLE directly, exactly. `{:e}` is the shortest round-trip text, e.g. `1e-1`.
        DuckDb => format!("{x:e}"),
        // `{:?}` is the shortest round-trip text and always has a `.` or an exponent, so SQLite
        // reads it as REAL; PostgreSQL reads it as NUMERIC and converts through its text to the
        // nearest double (both tested with random doubles).
        Postgres | Sqlite => format!("{x:?}"),
        Spark => unreachable!("script() refuses Spark"),
    }
}

fn datetime_literal(engine: Engine, ticks: i64) -> Result<String, String> {
    let secs = ticks.div_euclid(TICKS_PER_SECOND);
    let sub_ticks = ticks.rem_euclid(TICKS_PER_SECOND);
    let dt = Utc
        .timestamp_opt(secs, 0)
        .single()
        .filter(|dt| (1..=9999).contains(&chrono::Datelike::year(dt)))
        .ok_or_else(|| format!("datetime of {ticks} ticks is outside years 1..9999"))?;
    Ok(match engine {
        Engine::Sqlite => format!("'{}'", format_datetime(ticks)),
        Engine::Spark => unreachable!("script() refuses Spark"),
        Engine::DuckDb | Engine::Postgres => format!(
            "TIMESTAMP '{}.{:06}'",
            dt.format("%Y-%m-%d %H:%M:%S"),
            sub_ticks / 10
        ),
    })
}
