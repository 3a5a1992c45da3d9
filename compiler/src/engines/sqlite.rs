//! SQLite in-process through rusqlite (bundled SQLite, JSON functions built in).
//! One in-memory database per run, with double-quoted string literals turned off (a quoted
//! name is always a name).

use super::{json, Engine, EngineError, EngineRows, ErrorKind};
use crate::eval::functions::call;
use crate::ir::Func;
use crate::value::Value;
use regex::Regex;
use rusqlite::config::DbConfig;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use std::sync::Arc;

const ENGINE: Engine = Engine::Sqlite;

pub fn run(load: &str, query: &str) -> Result<EngineRows, EngineError> {
    let err =
        |kind: ErrorKind| move |e: rusqlite::Error| EngineError::new(ENGINE, kind, message(e));
    let conn = Connection::open_in_memory().map_err(err(ErrorKind::Internal))?;
    register_regexp(&conn).map_err(err(ErrorKind::Internal))?;
    // Without this SQLite reads a double-quoted name that matches no column as a string
    // literal, so a misspelt `"Column"` would silently be the text 'Column'.
    for config in [
        DbConfig::SQLITE_DBCONFIG_DQS_DML,
        DbConfig::SQLITE_DBCONFIG_DQS_DDL,
    ] {
        conn.set_db_config(config, false)
            .map_err(err(ErrorKind::Internal))?;
    }
    conn.execute_batch(load).map_err(err(ErrorKind::Load))?;
    let mut stmt = conn.prepare(query).map_err(err(ErrorKind::Query))?;
    let columns: Vec<String> = stmt.column_names().map(str::to_string).collect();
    let n = columns.len();
    let mut rows = Vec::new();
    let mut result = stmt.query([]).map_err(err(ErrorKind::Query))?;
    while let Some(row) = result.next().map_err(err(ErrorKind::Query))? {
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let v = row.get_ref(i).map_err(err(ErrorKind::Internal))?;
            out.push(match v {
                ValueRef::Null => serde_json::Value::Null,
                ValueRef::Integer(n) => serde_json::Value::from(n),
                ValueRef::Real(x) => json::float(x),
                ValueRef::Text(t) | ValueRef::Blob(t) => {
                    serde_json::Value::String(String::from_utf8_lossy(t).into_owned())
                }
            });
        }
        rows.push(out);
    }
    Ok(EngineRows {
        types: vec![String::new(); n],
        columns,
        rows,
    })
}

/// SQLite's own message (rusqlite wraps it as `SqliteFailure(.., Some(msg))`).
fn message(e: rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(code, Some(msg)) => {
            let _ = code;
            msg
        }
        rusqlite::Error::SqlInputError {
            msg, sql, offset, ..
        } => {
            let near: String = sql
                .get(offset.max(0) as usize..)
                .unwrap_or("")
                .chars()
                .take(40)
                .collect();
            if near.is_empty() {
                msg
            } else {
                format!("{msg} (near {near:?})")
            }
        }
        other => other.to_string(),
    }
}

const FLAGS: rusqlite::functions::FunctionFlags = rusqlite::functions::FunctionFlags::SQLITE_UTF8
    .union(rusqlite::functions::FunctionFlags::SQLITE_DETERMINISTIC);

/// The compiled regular expression of argument `i` (compiled once per statement).
fn pattern(ctx: &rusqlite::functions::Context<'_>, i: i32) -> rusqlite::Result<Arc<Regex>> {
    ctx.get_or_create_aux(i, |vr| {
        Regex::new(vr.as_str()?).map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
    })
}

/// Argument `i` as text, `""` for NULL.
fn text_arg(ctx: &rusqlite::functions::Context<'_>, i: usize) -> rusqlite::Result<Value> {
    let t: Option<String> = ctx.get(i)?;
    Ok(Value::str(&t.unwrap_or_default()))
}

/// The elements of a JSON array argument (none for NULL or another value).
fn json_array_arg(
    ctx: &rusqlite::functions::Context<'_>,
    i: usize,
) -> rusqlite::Result<Vec<serde_json::Value>> {
    let text: Option<String> = ctx.get(i)?;
    Ok(match text.as_deref().map(serde_json::from_str) {
        Some(Ok(serde_json::Value::Array(a))) => a,
        _ => Vec::new(),
    })
}

/// A size-limit argument: negative means none.
fn limit_arg(ctx: &rusqlite::functions::Context<'_>, i: usize) -> rusqlite::Result<Option<usize>> {
    let n: i64 = ctx.get(i)?;
    Ok(usize::try_from(n).ok())
}

/// A native dynamic result as SQLite's JSON text (NULL for null).
fn json_result(v: Value) -> Option<String> {
    match v {
        Value::Dynamic(d) => Some(d.to_string()),
        _ => None,
    }
}

/// The functions SQLite lacks, registered under the names the SQLite dialect emits. `x REGEXP
/// p` calls `regexp(p, x)`: SQLite declares the operator but ships no function; this one uses
/// Rust's regex crate (the sqlite3 shell's own regexp is a smaller dialect). Where a KQL
/// function has no SQLite spelling, detc's own implementation is called, so SQLite gives
/// exactly what `detc run` gives.
/// `percentile_disc(x, p)`, p from 0 to 1: the nearest-rank value (the smallest value with at
/// least a fraction p of the non-null values at or below it), as DuckDB's and PostgreSQL's
/// ordered-set `percentile_disc`. Numbers order by value, text (ISO datetimes) by code point.
struct PercentileDisc;

impl rusqlite::functions::Aggregate<(Vec<rusqlite::types::Value>, f64), rusqlite::types::Value>
    for PercentileDisc
{
    fn init(
        &self,
        _: &mut rusqlite::functions::Context<'_>,
    ) -> rusqlite::Result<(Vec<rusqlite::types::Value>, f64)> {
        Ok((Vec::new(), 0.0))
    }

    fn step(
        &self,
        ctx: &mut rusqlite::functions::Context<'_>,
        acc: &mut (Vec<rusqlite::types::Value>, f64),
    ) -> rusqlite::Result<()> {
        let v: rusqlite::types::Value = ctx.get(0)?;
        if v != rusqlite::types::Value::Null {
            acc.0.push(v);
        }
        acc.1 = ctx.get::<f64>(1)?;
        Ok(())
    }

    fn finalize(
        &self,
        _: &mut rusqlite::functions::Context<'_>,
        acc: Option<(Vec<rusqlite::types::Value>, f64)>,
    ) -> rusqlite::Result<rusqlite::types::Value> {
        use rusqlite::types::Value as V;
        let Some((mut values, p)) = acc else {
            return Ok(V::Null);
        };
        let number = |v: &V| match v {
            V::Integer(n) => Some(*n as f64),
            V::Real(r) => Some(*r),
            _ => None,
        };
        values.sort_by(|a, b| match (number(a), number(b), a, b) {
            (Some(x), Some(y), _, _) => x.total_cmp(&y),
            (_, _, V::Text(x), V::Text(y)) => x.cmp(y),
            (Some(_), None, _, _) => std::cmp::Ordering::Less,
            (None, Some(_), _, _) => std::cmp::Ordering::Greater,
            _ => std::cmp::Ordering::Equal,
        });
        let n = values.len();
        if n == 0 {
            return Ok(V::Null);
        }
        let rank = (p * n as f64).ceil().clamp(1.0, n as f64) as usize;
        Ok(values.swap_remove(rank - 1))
    }
}

pub fn register_regexp(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_aggregate_function("percentile_disc", 2, FLAGS, PercentileDisc)?;
    conn.create_scalar_function("regexp", 2, FLAGS, |ctx| {
        let re = pattern(ctx, 0)?;
        let text: Option<String> = ctx.get(1)?;
        Ok(text.map(|t| re.is_match(&t)))
    })?;
    // `regexp_replace(text, pattern, rewrite)`: every match replaced; `\\1` names a group.
    conn.create_scalar_function("regexp_replace", 3, FLAGS, |ctx| {
        let re = pattern(ctx, 1)?;
        let text: Option<String> = ctx.get(0)?;
        let rewrite: String = ctx.get(2)?;
        let rewrite = Regex::new(r"\\(\d)")
            .unwrap()
            .replace_all(&rewrite.replace('$', "$$"), "$${$1}")
            .into_owned();
        Ok(text.map(|t| re.replace_all(&t, rewrite.as_str()).into_owned()))
    })?;
    // `regexp_extract(text, pattern, group)`: the group's text, '' when there is no match.
    conn.create_scalar_function("regexp_extract", 3, FLAGS, |ctx| {
        let re = pattern(ctx, 1)?;
        let text: Option<String> = ctx.get(0)?;
        let group: i64 = ctx.get(2)?;
        Ok(text.map(|t| {
            re.captures(&t)
                .and_then(|c| c.get(group.max(0) as usize))
                .map(|m| m.as_str().to_string())
                .unwrap_or_default()
        }))
    })?;
    // `regexp_extract_all(text, pattern[, groups])`: extract_all, the groups a JSON array.
    conn.create_scalar_function("regexp_extract_all", 2, FLAGS, |ctx| {
        let re = pattern(ctx, 1)?;
        let args = [Value::Null, text_arg(ctx, 0)?];
        Ok(json_result(call(Func::ExtractAll, &args, Some(&re))))
    })?;
    conn.create_scalar_function("regexp_extract_all", 3, FLAGS, |ctx| {
        let re = pattern(ctx, 1)?;
        let groups: String = ctx.get(2)?;
        let groups = serde_json::from_str(&groups)
            .map(|j| Value::Dynamic(Arc::new(j)))
            .unwrap_or(Value::Null);
        let args = [Value::Null, groups, text_arg(ctx, 0)?];
        Ok(json_result(call(Func::ExtractAll, &args, Some(&re))))
    })?;
    // `regexp_escape(text)`: the text as a regular expression matching itself.
    conn.create_scalar_function("regexp_escape", 1, FLAGS, |ctx| {
        let text: Option<String> = ctx.get(0)?;
        Ok(text.map(|t| regex::escape(&t)))
    })?;
    conn.create_scalar_function("base64_decode_tostring", 1, FLAGS, |ctx| {
        let text: Option<String> = ctx.get(0)?;
        Ok(text.map(|t| call(Func::Base64Decode, &[Value::str(&t)], None).to_kql_string()))
    })?;
    // One text argument, a dynamic result.
    for (name, func) in [
        ("base64_decode_toarray", Func::Base64DecodeToArray),
        ("parse_xml", Func::ParseXml),
    ] {
        conn.create_scalar_function(name, 1, FLAGS, move |ctx| {
            Ok(json_result(call(func, &[text_arg(ctx, 0)?], None)))
        })?;
    }
    // `json_array_head(array, n)`: the first n elements of a JSON array.
    conn.create_scalar_function("json_array_head", 2, FLAGS, |ctx| {
        let text: Option<String> = ctx.get(0)?;
        let n: i64 = ctx.get(1)?;
        Ok(
            text.and_then(|t| match serde_json::from_str::<serde_json::Value>(&t) {
                Ok(serde_json::Value::Array(mut a)) => {
                    a.truncate(n.max(0) as usize);
                    Some(serde_json::Value::Array(a).to_string())
                }
                _ => None,
            }),
        )
    })?;
    // `json_collect(values, set, limit)`: make_list / make_set of dynamic values, from the
    // JSON array of the group's values.
    conn.create_scalar_function("json_collect", 3, FLAGS, |ctx| {
        let (values, set) = (json_array_arg(ctx, 0)?, ctx.get::<bool>(1)?);
        Ok(crate::eval::aggregate::collect_json(&values, set, limit_arg(ctx, 2)?).to_string())
    })?;
    // `json_merge_bags(values, limit)`: make_bag of dynamic values, likewise.
    conn.create_scalar_function("json_merge_bags", 2, FLAGS, |ctx| {
        let values = json_array_arg(ctx, 0)?;
        Ok(crate::eval::aggregate::merge_bags(&values, limit_arg(ctx, 1)?).to_string())
    })?;
    // `xxhash64(text)` and `xxhash64_mod(text, m)`: Kusto's hash() of a string.
    conn.create_scalar_function("xxhash64", 1, FLAGS, |ctx| {
        let text: Option<String> = ctx.get(0)?;
        Ok(text.map(|t| xxhash_rust::xxh64::xxh64(t.as_bytes(), 0) as i64))
    })?;
    conn.create_scalar_function("xxhash64_mod", 2, FLAGS, |ctx| {
        let text: Option<String> = ctx.get(0)?;
        let m: i64 = ctx.get(1)?;
        Ok(text
            .filter(|_| m > 0)
            .map(|t| (xxhash_rust::xxh64::xxh64(t.as_bytes(), 0) % m as u64) as i64))
    })?;
    // `sqrt(x)`: built into SQLite only with SQLITE_ENABLE_MATH_FUNCTIONS.
    conn.create_scalar_function("sqrt", 1, FLAGS, |ctx| {
        let x: Option<f64> = ctx.get(0)?;
        Ok(x.map(f64::sqrt))
    })
}
