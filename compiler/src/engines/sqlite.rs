//! SQLite in-process through rusqlite (bundled SQLite, JSON functions built in).
//! One in-memory database per run, with double-quoted string literals turned off (a quoted
//! name is always a name).

use super::{json, Engine, EngineError, EngineRows, ErrorKind};
use rusqlite::config::DbConfig;
use rusqlite::types::ValueRef;
use rusqlite::Connection;

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

/// `x REGEXP p` calls `regexp(p, x)`: SQLite declares the operator but ships no function.
/// This one uses Rust's regex crate (the sqlite3 shell's own regexp is a smaller dialect).
pub fn register_regexp(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "regexp",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let re: std::sync::Arc<regex::Regex> = ctx.get_or_create_aux(0, |vr| {
                regex::Regex::new(vr.as_str()?)
                    .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
            })?;
            let text: Option<String> = ctx.get(1)?;
            Ok(text.map(|t| re.is_match(&t)))
        },
    )?;
    // `regexp_replace(text, pattern, rewrite)`: every match replaced; `\\1` names a group.
    conn.create_scalar_function(
        "regexp_replace",
        3,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let re: std::sync::Arc<regex::Regex> = ctx.get_or_create_aux(1, |vr| {
                regex::Regex::new(vr.as_str()?)
                    .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
            })?;
            let text: Option<String> = ctx.get(0)?;
            let rewrite: String = ctx.get(2)?;
            let rewrite = regex::Regex::new(r"\\(\d)")
                .unwrap()
                .replace_all(&rewrite.replace('$', "$$"), "$${$1}")
                .into_owned();
            Ok(text.map(|t| re.replace_all(&t, rewrite.as_str()).into_owned()))
        },
    )?;
    // `base64_decode_tostring(text)` and `regexp_extract_all(text, pattern)`: detc's own
    // implementations, so SQLite gives exactly what `detc run` gives.
    conn.create_scalar_function(
        "base64_decode_tostring",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let text: Option<String> = ctx.get(0)?;
            Ok(text.map(|t| {
                crate::eval::functions::call(
                    crate::ir::Func::Base64Decode,
                    &[crate::value::Value::str(&t)],
                    None,
                )
                .to_kql_string()
            }))
        },
    )?;
    // `regexp_extract_all(text, pattern, groups)`: the selected capture groups (JSON array).
    conn.create_scalar_function(
        "regexp_extract_all",
        3,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let re: std::sync::Arc<regex::Regex> = ctx.get_or_create_aux(1, |vr| {
                regex::Regex::new(vr.as_str()?)
                    .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
            })?;
            let text: Option<String> = ctx.get(0)?;
            let groups: String = ctx.get(2)?;
            let groups = serde_json::from_str(&groups)
                .map(|j| crate::value::Value::Dynamic(std::sync::Arc::new(j)))
                .unwrap_or(crate::value::Value::Null);
            let v = crate::eval::functions::call(
                crate::ir::Func::ExtractAll,
                &[
                    crate::value::Value::Null,
                    groups,
                    crate::value::Value::str(&text.unwrap_or_default()),
                ],
                Some(&re),
            );
            Ok(match v {
                crate::value::Value::Dynamic(d) => Some(d.to_string()),
                _ => None,
            })
        },
    )?;
    conn.create_scalar_function(
        "parse_xml",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let text: Option<String> = ctx.get(0)?;
            let v = crate::eval::functions::call(
                crate::ir::Func::ParseXml,
                &[crate::value::Value::str(&text.unwrap_or_default())],
                None,
            );
            Ok(match v {
                crate::value::Value::Dynamic(d) => Some(d.to_string()),
                _ => None,
            })
        },
    )?;
    conn.create_scalar_function(
        "base64_decode_toarray",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let text: Option<String> = ctx.get(0)?;
            let v = crate::eval::functions::call(
                crate::ir::Func::Base64DecodeToArray,
                &[crate::value::Value::str(&text.unwrap_or_default())],
                None,
            );
            Ok(match v {
                crate::value::Value::Dynamic(d) => Some(d.to_string()),
                _ => None,
            })
        },
    )?;
    conn.create_scalar_function(
        "regexp_extract_all",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let re: std::sync::Arc<regex::Regex> = ctx.get_or_create_aux(1, |vr| {
                regex::Regex::new(vr.as_str()?)
                    .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
            })?;
            let text: Option<String> = ctx.get(0)?;
            let v = crate::eval::functions::call(
                crate::ir::Func::ExtractAll,
                &[
                    crate::value::Value::Null,
                    crate::value::Value::str(&text.unwrap_or_default()),
                ],
                Some(&re),
            );
            Ok(match v {
                crate::value::Value::Dynamic(d) => Some(d.to_string()),
                _ => None,
            })
        },
    )?;
    // `json_array_head(array, n)`: the first n elements of a JSON array.
    conn.create_scalar_function(
        "json_array_head",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
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
        },
    )?;
    // `xxhash64(text)` and `xxhash64_mod(text, m)`: Kusto's hash() of a string.
    conn.create_scalar_function(
        "xxhash64",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let text: Option<String> = ctx.get(0)?;
            Ok(text.map(|t| xxhash_rust::xxh64::xxh64(t.as_bytes(), 0) as i64))
        },
    )?;
    conn.create_scalar_function(
        "xxhash64_mod",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let text: Option<String> = ctx.get(0)?;
            let m: i64 = ctx.get(1)?;
            Ok(text
                .filter(|_| m > 0)
                .map(|t| (xxhash_rust::xxh64::xxh64(t.as_bytes(), 0) % m as u64) as i64))
        },
    )?;
    // `json_collect(array, set, limit)`: make_list / make_set of dynamic values, from the
    // JSON array of the values (detc's own implementation; limit < 0: none).
    conn.create_scalar_function(
        "json_collect",
        3,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let text: Option<String> = ctx.get(0)?;
            let set: bool = ctx.get(1)?;
            let limit: i64 = ctx.get(2)?;
            let values: Vec<serde_json::Value> = match text.as_deref().map(serde_json::from_str) {
                Some(Ok(serde_json::Value::Array(a))) => a,
                _ => Vec::new(),
            };
            let limit = usize::try_from(limit).ok();
            Ok(crate::eval::aggregate::collect_json(&values, set, limit).to_string())
        },
    )?;
    // `json_merge_bags(array, limit)`: make_bag of dynamic values, from the JSON array of the
    // values (detc's own implementation; limit < 0: none).
    conn.create_scalar_function(
        "json_merge_bags",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let text: Option<String> = ctx.get(0)?;
            let limit: i64 = ctx.get(1)?;
            let values: Vec<serde_json::Value> = match text.as_deref().map(serde_json::from_str) {
                Some(Ok(serde_json::Value::Array(a))) => a,
                _ => Vec::new(),
            };
            let limit = usize::try_from(limit).ok();
            Ok(crate::eval::aggregate::merge_bags(&values, limit).to_string())
        },
    )?;
    // `sqrt(x)`: built into SQLite only with SQLITE_ENABLE_MATH_FUNCTIONS.
    conn.create_scalar_function(
        "sqrt",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let x: Option<f64> = ctx.get(0)?;
            Ok(x.map(f64::sqrt))
        },
    )?;
    // `regexp_escape(text)`: the text as a regular expression matching itself.
    conn.create_scalar_function(
        "regexp_escape",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let text: Option<String> = ctx.get(0)?;
            Ok(text.map(|t| regex::escape(&t)))
        },
    )?;
    // `regexp_extract(text, pattern, group)`: the group's text, '' when there is no match.
    conn.create_scalar_function(
        "regexp_extract",
        3,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let re: std::sync::Arc<regex::Regex> = ctx.get_or_create_aux(1, |vr| {
                regex::Regex::new(vr.as_str()?)
                    .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
            })?;
            let text: Option<String> = ctx.get(0)?;
            let group: i64 = ctx.get(2)?;
            Ok(text.map(|t| {
                re.captures(&t)
                    .and_then(|c| c.get(group.max(0) as usize))
                    .map(|m| m.as_str().to_string())
                    .unwrap_or_default()
            }))
        },
    )
}
