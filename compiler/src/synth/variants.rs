//! The values a probe suggests for its cell: one that passes the test, and the values at its
//! boundaries that pass or fail it for a near reason (another case, inside a longer word,
//! next to punctuation, just inside or outside a bound, empty, null).

use super::probes::{Probe, Test};
use crate::ir::{BinOp, StrOp};
use crate::types::Type;
use crate::value::Value;

/// Datetimes and timespans step by one microsecond: the finest unit every engine keeps.
const TICK_STEP: i64 = 10;

/// A value of type `ty` that passes the probe's test (if the test can be passed).
pub fn passing(p: &Probe, ty: Type) -> Option<Value> {
    if p.test == Test::Read {
        return None;
    }
    let v = coerce(&p.value, ty)?;
    Some(match p.test {
        Test::Cmp(BinOp::Lt) => step(&v, -1).unwrap_or(v),
        Test::Cmp(BinOp::Gt) => step(&v, 1).unwrap_or(v),
        Test::Cmp(BinOp::Ne) => step(&v, 1).unwrap_or_else(|| other(&v)),
        Test::Emptiness | Test::Read => return None,
        _ => v,
    })
}

/// The boundary values of the probe for a cell of type `ty`, the passing one first.
pub fn boundary(p: &Probe, ty: Type) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(v) = passing(p, ty) {
        out.push(v);
    }
    match (p.test, coerce(&p.value, ty)) {
        (Test::Read, _) if matches!(ty, Type::String | Type::Guid) => {
            out.extend(plausible(&p.origin.column).iter().map(|s| Value::str(s)));
        }
        (Test::Emptiness, _) => {
            if matches!(ty, Type::String | Type::Guid) {
                out.push(Value::str(""));
                out.push(Value::str(" "));
            }
            out.push(Value::Null);
        }
        (Test::Str { op, .. }, Some(Value::String(s))) => {
            let s = s.to_string();
            let swapped = swap_case(&s);
            let mut texts = vec![
                s.clone(),
                swapped.clone(),
                format!("zz{s}"),
                format!("{s}zz"),
                format!("zz {s} zz"),
                format!("-{s}-"),
                format!("({swapped})"),
            ];
            if s.chars().count() > 1 {
                let mut cut = s.clone();
                cut.pop();
                texts.push(cut);
            }
            if op == StrOp::Equals {
                texts.push(format!("{s} "));
            }
            texts.push(String::new());
            texts.push("123".into());
            out.extend(texts.iter().map(|t| Value::str(t)));
            out.push(Value::Null);
        }
        (Test::Cmp(_), Some(v)) => {
            out.push(v.clone());
            out.extend(step(&v, -1));
            out.extend(step(&v, 1));
            if let Value::String(s) = &v {
                out.push(Value::str(&swap_case(s)));
                out.push(Value::str(&format!("{s} ")));
                out.push(Value::str(""));
            }
            out.push(Value::Null);
        }
        _ => {}
    }
    let mut seen = Vec::new();
    out.retain(|v| {
        let k = format!("{v:?}");
        if seen.contains(&k) {
            false
        } else {
            seen.push(k);
            true
        }
    });
    out
}

/// The next (`dir` = 1) or previous (-1) value of a number, datetime or timespan.
fn step(v: &Value, dir: i64) -> Option<Value> {
    Some(match v {
        Value::Long(n) => Value::Long(n.checked_add(dir)?),
        Value::Real(x) => Value::Real(x + 0.5 * dir as f64),
        Value::DateTime(t) => Value::DateTime(t.checked_add(dir * TICK_STEP)?),
        Value::Timespan(t) => Value::Timespan(t.checked_add(dir * TICK_STEP)?),
        _ => return None,
    })
}

/// A value of the same type that differs.
fn other(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::str(&format!("{s}_other")),
        Value::Bool(b) => Value::Bool(!b),
        v => v.clone(),
    }
}

pub fn swap_case(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_lowercase() {
                c.to_uppercase().collect::<Vec<_>>()
            } else {
                c.to_lowercase().collect()
            }
        })
        .collect()
}

/// `v` as a value of type `ty`, where that makes sense.
pub fn coerce(v: &Value, ty: Type) -> Option<Value> {
    Some(match (ty, v) {
        (_, Value::Null) => return None,
        (Type::String | Type::Guid, Value::String(_)) => v.clone(),
        (Type::String | Type::Guid, Value::Dynamic(_)) => return None,
        (Type::String | Type::Guid, v) => Value::str(&v.to_kql_string()),
        (Type::Long | Type::Int, Value::Long(_)) => v.clone(),
        (Type::Long | Type::Int, Value::Real(x)) if x.is_finite() => Value::Long(x.round() as i64),
        (Type::Long | Type::Int, Value::String(s)) => Value::Long(s.trim().parse().ok()?),
        (Type::Real | Type::Decimal, Value::Real(_)) => v.clone(),
        (Type::Real | Type::Decimal, Value::Long(n)) => Value::Real(*n as f64),
        (Type::Real | Type::Decimal, Value::String(s)) => Value::Real(s.trim().parse().ok()?),
        (Type::DateTime, Value::DateTime(_)) => v.clone(),
        (Type::DateTime, Value::String(s)) => Value::DateTime(crate::value::parse_datetime(s)?),
        (Type::Timespan, Value::Timespan(_)) => v.clone(),
        (Type::Bool, Value::Bool(_)) => v.clone(),
        (Type::Bool, Value::String(s)) => Value::Bool(s.eq_ignore_ascii_case("true")),
        (Type::Dynamic, Value::Dynamic(_)) => v.clone(),
        (Type::Dynamic, v) => Value::Dynamic(std::sync::Arc::new(v.to_json())),
        _ => return None,
    })
}

/// Whether `v` passes the probe's test, as far as this module can tell (case-insensitive
/// operators fold ASCII and Unicode lower case; `has` is treated as `contains`). Used only
/// to choose a base value that passes as many of a cell's tests as possible.
pub fn passes(p: &Probe, v: &Value) -> bool {
    let Some(want) = coerce(&p.value, value_type(v)) else {
        return false;
    };
    match p.test {
        Test::Emptiness | Test::Read => true,
        Test::Cmp(c) => {
            let Some(o) = partial_cmp(v, &want) else {
                return false;
            };
            use std::cmp::Ordering::*;
            match c {
                BinOp::Eq => o == Equal,
                BinOp::Ne => o != Equal,
                BinOp::Lt => o == Less,
                BinOp::Le => o != Greater,
                BinOp::Gt => o == Greater,
                BinOp::Ge => o != Less,
                _ => false,
            }
        }
        Test::Str { op, cs } => {
            let (Value::String(a), Value::String(b)) = (v, &want) else {
                return false;
            };
            let (a, b) = if cs {
                (a.to_string(), b.to_string())
            } else {
                (a.to_lowercase(), b.to_lowercase())
            };
            match op {
                StrOp::Equals => a == b,
                StrOp::StartsWith | StrOp::HasPrefix => a.starts_with(&b),
                StrOp::EndsWith | StrOp::HasSuffix => a.ends_with(&b),
                StrOp::Has | StrOp::Contains => a.contains(&b),
            }
        }
    }
}

fn value_type(v: &Value) -> Type {
    match v {
        Value::Null | Value::Dynamic(_) => Type::Dynamic,
        Value::Bool(_) => Type::Bool,
        Value::Long(_) => Type::Long,
        Value::Real(_) => Type::Real,
        Value::String(_) => Type::String,
        Value::DateTime(_) => Type::DateTime,
        Value::Timespan(_) => Type::Timespan,
    }
}

fn partial_cmp(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Long(x), Value::Long(y)) => Some(x.cmp(y)),
        (Value::Real(x), Value::Real(y)) => x.partial_cmp(y),
        (Value::DateTime(x), Value::DateTime(y)) | (Value::Timespan(x), Value::Timespan(y)) => {
            Some(x.cmp(y))
        }
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Text values of the kind a column's name suggests, for cells read by functions that
/// parse them (IP addresses, URLs, paths, accounts); other names get a few shapes of text.
pub fn plausible(column: &str) -> &'static [&'static str] {
    let n = column.to_ascii_lowercase();
    if n.contains("ip") && !n.contains("descr") && !n.contains("script") || n.ends_with("address") {
        &["10.1.2.3", "8.8.8.8", "192.168.0.1", "fe80::1", "not an ip"]
    } else if n.contains("url") || n.contains("uri") {
        &[
            "https://contoso.com/a/b.ps1?x=1",
            "http://10.1.2.3:8080/index.html",
            "contoso.com",
        ]
    } else if n.contains("path")
        || n.contains("file")
        || n.contains("commandline")
        || n.contains("process")
    {
        &[
            "C:\\Windows\\System32\\cmd.exe /c whoami",
            "/usr/bin/curl http://contoso.com/x.sh",
            "report.docx",
        ]
    } else if n.contains("upn") || n.contains("user") || n.contains("account") || n.contains("mail")
    {
        &["alice@contoso.com", "CONTOSO\\bob", "svc-backup"]
    } else {
        &["a b c", "123", "x.y-z", "{\"k\": 1}"]
    }
}
