//! Fixture rows: reading `<Table>.jsonl`, `<Table>.json` (an array) and `<Table>.csv` into
//! typed rows. A value that does not fit its column is an error naming the file, line and
//! column; a key the table does not have is an error too (it is usually a typo).

use super::Row;
use crate::catalog::TableSchema;
use crate::diagnostics::{codes, Diagnostic, Span};
use crate::types::Type;
use crate::value::{parse_datetime, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The data files of a folder, by table name. A table with several files is an error.
pub fn list_dir(dir: &Path) -> Result<BTreeMap<String, PathBuf>, Diagnostic> {
    let rd = std::fs::read_dir(dir).map_err(|e| {
        Diagnostic::error(codes::IO, format!("cannot read data folder: {e}")).with_file(dir)
    })?;
    let mut out = BTreeMap::new();
    let mut paths: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "jsonl" | "json" | "csv") {
            continue;
        }
        let Some(stem) = p.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if let Some(prev) = out.insert(stem.to_string(), p.clone()) {
            return Err(Diagnostic::error(
                codes::DATA,
                format!(
                    "table `{stem}` has two data files: {} and {}",
                    prev.display(),
                    p.display()
                ),
            )
            .with_file(&p));
        }
    }
    Ok(out)
}

fn bad(file: &Path, span: Option<Span>, msg: String) -> Diagnostic {
    let mut d = Diagnostic::error(codes::DATA, msg).with_file(file);
    d.span = span;
    d
}

/// Reads one data file into rows of `schema`.
pub fn read_file(path: &Path, schema: &TableSchema) -> Result<Vec<Row>, Diagnostic> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Diagnostic::error(codes::IO, format!("cannot read: {e}")).with_file(path))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    match path.extension().and_then(|e| e.to_str()) {
        Some("csv") => read_csv(path, text, schema),
        Some("json") => {
            let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
                let off = offset_of(text, e.line(), e.column());
                bad(
                    path,
                    Some(Span::new(off, off)),
                    format!("invalid JSON: {e}"),
                )
            })?;
            let serde_json::Value::Array(items) = v else {
                return Err(bad(
                    path,
                    None,
                    "a .json data file must hold an array of objects".into(),
                ));
            };
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    json_row(item, schema).map_err(|m| bad(path, None, format!("element {i}: {m}")))
                })
                .collect()
        }
        _ => {
            let mut rows = Vec::new();
            let mut off = 0;
            for (n, line) in text.split('\n').enumerate() {
                let span = Span::new(off, off + line.len());
                off += line.len() + 1;
                let line = line.trim_end_matches('\r');
                if line.trim().is_empty() {
                    continue;
                }
                let v: serde_json::Value = serde_json::from_str(line).map_err(|e| {
                    bad(
                        path,
                        Some(span),
                        format!("line {}: invalid JSON: {e}", n + 1),
                    )
                })?;
                rows.push(
                    json_row(&v, schema)
                        .map_err(|m| bad(path, Some(span), format!("line {}: {m}", n + 1)))?,
                );
            }
            Ok(rows)
        }
    }
}

fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let mut off = 0;
    for (i, l) in text.split('\n').enumerate() {
        if i + 1 == line {
            return (off + col.saturating_sub(1)).min(text.len());
        }
        off += l.len() + 1;
    }
    text.len()
}

/// One JSON object as a row of `schema`. Missing keys are empty strings or null.
pub fn json_row(v: &serde_json::Value, schema: &TableSchema) -> Result<Row, String> {
    let serde_json::Value::Object(map) = v else {
        return Err(format!("expected a JSON object, found {}", kind_of(v)));
    };
    for k in map.keys() {
        if schema.column(k).is_none() {
            let hint = crate::lower::suggest_name(k, schema.columns.iter().map(|c| c.0.as_str()))
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            return Err(format!("table `{}` has no column `{k}`{hint}", schema.name));
        }
    }
    schema
        .columns
        .iter()
        .map(|(name, ty)| match map.get(name) {
            None => Ok(Value::missing(*ty)),
            Some(j) => json_value(j, *ty).map_err(|m| format!("column `{name}`: {m}")),
        })
        .collect()
}

fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a bool",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// A JSON fixture value as a cell of type `ty`. Strict: a number is not a string.
pub fn json_value(j: &serde_json::Value, ty: Type) -> Result<Value, String> {
    use serde_json::Value as J;
    let mismatch = || Err(format!("expected {ty}, found {} {}", kind_of(j), j));
    Ok(match (ty, j) {
        (Type::String, J::Null) => Value::empty_string(),
        (_, J::Null) => Value::Null,
        (Type::String | Type::Guid, J::String(s)) => Value::str(s),
        (Type::Bool, J::Bool(b)) => Value::Bool(*b),
        (Type::Int | Type::Long, J::Number(n)) => match n.as_i64() {
            Some(i) => Value::Long(i),
            None => return mismatch(),
        },
        (Type::Real | Type::Decimal, J::Number(n)) => Value::Real(n.as_f64().unwrap_or(f64::NAN)),
        (Type::DateTime, J::String(s)) => match parse_datetime(s) {
            Some(t) => Value::DateTime(t),
            None => return Err(format!("expected a datetime, found {s:?}")),
        },
        (Type::Timespan, J::Number(n)) if n.is_i64() => Value::Timespan(n.as_i64().unwrap()),
        (Type::Dynamic, other) => Value::Dynamic(Arc::new(other.clone())),
        _ => return mismatch(),
    })
}

/// A CSV cell as a cell of type `ty`; an empty cell is empty or null.
fn csv_value(s: &str, ty: Type) -> Result<Value, String> {
    if s.is_empty() {
        return Ok(Value::missing(ty));
    }
    Ok(match ty {
        Type::String | Type::Guid => Value::str(s),
        Type::Bool => match s.to_ascii_lowercase().as_str() {
            "true" | "1" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            _ => return Err(format!("expected a bool, found {s:?}")),
        },
        Type::Int | Type::Long => Value::Long(
            s.trim()
                .parse()
                .map_err(|_| format!("expected an integer, found {s:?}"))?,
        ),
        Type::Real | Type::Decimal => Value::Real(
            s.trim()
                .parse()
                .map_err(|_| format!("expected a number, found {s:?}"))?,
        ),
        Type::DateTime => Value::DateTime(
            parse_datetime(s).ok_or_else(|| format!("expected a datetime, found {s:?}"))?,
        ),
        Type::Timespan => Value::Timespan(
            s.trim()
                .parse()
                .map_err(|_| format!("expected ticks, found {s:?}"))?,
        ),
        Type::Dynamic => Value::Dynamic(Arc::new(
            serde_json::from_str(s).map_err(|e| format!("expected JSON: {e}"))?,
        )),
    })
}

fn read_csv(path: &Path, text: &str, schema: &TableSchema) -> Result<Vec<Row>, Diagnostic> {
    let records = parse_csv(text).map_err(|(off, m)| bad(path, Some(Span::new(off, off)), m))?;
    let mut it = records.into_iter();
    let Some((_, header)) = it.next() else {
        return Ok(Vec::new());
    };
    let mut idx = Vec::new();
    for h in &header {
        match schema.column(h) {
            Some((i, ty)) => idx.push((i, ty)),
            None => {
                return Err(bad(
                    path,
                    Some(Span::new(0, 0)),
                    format!("table `{}` has no column `{h}`", schema.name),
                ))
            }
        }
    }
    let mut rows = Vec::new();
    for (off, rec) in it {
        if rec.len() == 1 && rec[0].is_empty() {
            continue;
        }
        if rec.len() != header.len() {
            return Err(bad(
                path,
                Some(Span::new(off, off)),
                format!("expected {} fields, found {}", header.len(), rec.len()),
            ));
        }
        let mut row: Row = schema
            .columns
            .iter()
            .map(|(_, t)| Value::missing(*t))
            .collect();
        for ((i, ty), cell) in idx.iter().zip(&rec) {
            row[*i] = csv_value(cell, *ty).map_err(|m| {
                bad(
                    path,
                    Some(Span::new(off, off)),
                    format!("column `{}`: {m}", schema.columns[*i].0),
                )
            })?;
        }
        rows.push(row);
    }
    Ok(rows)
}

/// A CSV record: the byte offset where it starts, and its fields.
type Record = (usize, Vec<String>);

/// RFC 4180 records.
fn parse_csv(text: &str) -> Result<Vec<Record>, (usize, String)> {
    let mut out = Vec::new();
    let mut rec = Vec::new();
    let mut field = String::new();
    let mut chars = text.char_indices().peekable();
    let mut start = 0;
    let mut in_quotes = false;
    let mut quote_start = 0;
    while let Some((i, c)) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek().map(|p| p.1) == Some('"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                in_quotes = true;
                quote_start = i;
            }
            ',' => rec.push(std::mem::take(&mut field)),
            '\r' if chars.peek().map(|p| p.1) == Some('\n') => {}
            '\n' => {
                rec.push(std::mem::take(&mut field));
                out.push((start, std::mem::take(&mut rec)));
                start = i + 1;
            }
            c => field.push(c),
        }
    }
    if in_quotes {
        return Err((quote_start, "unterminated quoted field".into()));
    }
    if !field.is_empty() || !rec.is_empty() {
        rec.push(field);
        out.push((start, rec));
    }
    Ok(out)
}
