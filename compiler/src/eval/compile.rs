//! IR expressions compiled once into closures over a row.

use super::strings::{fold, has_prefix, has_suffix, has_term};
use crate::diagnostics::{codes, Diagnostic};
use crate::ir::{BinOp, Expr, ExprKind, Func, StrOp};
use crate::types::Type;
use crate::value::{parse_datetime, Value, TICKS_PER_DAY};
use std::cmp::Ordering;
use std::sync::Arc;

pub type Compiled = Box<dyn Fn(&[Value]) -> Value + Send + Sync>;

/// What an expression may read besides the row: the pinned `now()`.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// Ticks since the Unix epoch; `now()` and `ago()` read it, fixed for the whole query.
    pub now: i64,
}

fn b(v: Option<bool>) -> Value {
    v.map(Value::Bool).unwrap_or(Value::Null)
}

/// The texts of a constant list item (an array gives its elements), folded unless `cs`.
fn texts(v: Value, cs: bool) -> Vec<String> {
    let mut values = Vec::new();
    flatten_into(v, &mut values);
    values
        .iter()
        .map(|v| {
            let s = v.to_kql_string();
            if cs {
                s
            } else {
                fold(&s)
            }
        })
        .collect()
}

/// Text a string operator sees: strings as they are, dynamic values as `tostring` gives them.
fn text(v: &Value) -> Option<std::borrow::Cow<'_, str>> {
    match v {
        Value::String(s) => Some(std::borrow::Cow::Borrowed(s)),
        Value::Null => None,
        other => Some(std::borrow::Cow::Owned(other.to_kql_string())),
    }
}

pub fn compile(e: &Expr, ctx: &Ctx) -> Result<Compiled, Diagnostic> {
    let unbound = |what: &str| {
        Diagnostic::error(
            codes::PARAM,
            format!("{what} has no value; pass it with --param"),
        )
    };
    Ok(match &e.kind {
        ExprKind::Column { index, .. } => {
            let i = *index;
            Box::new(move |r| r[i].clone())
        }
        ExprKind::Literal(v) => {
            let v = v.clone();
            Box::new(move |_| v.clone())
        }
        ExprKind::Param(n) => return Err(unbound(&format!("parameter `{n}`"))),
        ExprKind::Subquery { .. } => {
            return Err(Diagnostic::error(
                codes::EVAL,
                "internal: a sub-query was not evaluated before compiling",
            ))
        }
        ExprKind::Template(t) => return Err(unbound(&format!("template string {t:?}"))),
        ExprKind::Field { tuple, index } => {
            let t = compile(tuple, ctx)?;
            let (i, ty) = (*index, e.ty);
            Box::new(move |r| match t(r) {
                Value::Dynamic(d) => match d.get(i) {
                    Some(j) => super::data::json_value(j, ty).unwrap_or(Value::Null),
                    None => Value::Null,
                },
                _ => Value::Null,
            })
        }
        ExprKind::Neg(x) => {
            let x = compile(x, ctx)?;
            Box::new(move |r| match x(r) {
                Value::Long(n) => Value::Long(n.wrapping_neg()),
                Value::Real(f) => Value::Real(-f),
                Value::Timespan(t) => Value::Timespan(-t),
                _ => Value::Null,
            })
        }
        ExprKind::Binary { op, lhs, rhs } => binary(*op, compile(lhs, ctx)?, compile(rhs, ctx)?),
        ExprKind::Str {
            op,
            cs,
            negated,
            lhs,
            rhs,
        } => {
            let (l, r) = (compile(lhs, ctx)?, compile(rhs, ctx)?);
            // A literal right side is folded once, not per row.
            let lit = match &rhs.kind {
                ExprKind::Literal(v) => Some(if *cs {
                    v.to_kql_string()
                } else {
                    fold(&v.to_kql_string())
                }),
                _ => None,
            };
            let (op, cs, negated) = (*op, *cs, *negated);
            Box::new(move |row| {
                let lv = l(row);
                let Some(hay) = text(&lv) else {
                    return Value::Bool(negated);
                };
                let needle_owned;
                let needle: &str = match &lit {
                    Some(s) => s,
                    None => {
                        let rv = r(row);
                        needle_owned = if cs {
                            rv.to_kql_string()
                        } else {
                            fold(&rv.to_kql_string())
                        };
                        &needle_owned
                    }
                };
                let hay_folded;
                let hay: &str = if cs {
                    &hay
                } else {
                    hay_folded = fold(&hay);
                    &hay_folded
                };
                let m = match op {
                    StrOp::Equals => hay == needle,
                    StrOp::Has => has_term(hay, needle),
                    StrOp::HasPrefix => has_prefix(hay, needle),
                    StrOp::HasSuffix => has_suffix(hay, needle),
                    StrOp::Contains => hay.contains(needle),
                    StrOp::StartsWith => hay.starts_with(needle),
                    StrOp::EndsWith => hay.ends_with(needle),
                };
                Value::Bool(m != negated)
            })
        }
        ExprKind::In {
            lhs,
            items,
            cs,
            negated,
        } => {
            let l = compile(lhs, ctx)?;
            let (cs, negated) = (*cs, *negated);
            let stringy = matches!(lhs.ty, Type::String | Type::Guid);
            // Constant items against text: one hash lookup per row.
            let constants: Option<Vec<Value>> = items
                .iter()
                .map(|i| match &i.kind {
                    ExprKind::Literal(v) => Some(v.clone()),
                    _ => None,
                })
                .collect();
            if let (true, Some(constants)) = (stringy, constants) {
                let set: std::collections::HashSet<String> =
                    constants.into_iter().flat_map(|v| texts(v, cs)).collect();
                return Ok(Box::new(move |row| {
                    let lv = l(row);
                    let owned;
                    let a: &str = match &lv {
                        Value::String(s) => s,
                        other => {
                            owned = other.to_kql_string();
                            &owned
                        }
                    };
                    let hit = if cs {
                        set.contains(a)
                    } else {
                        set.contains(&fold(a))
                    };
                    Value::Bool(hit != negated)
                }));
            }
            let items: Vec<Compiled> = items
                .iter()
                .map(|i| compile(i, ctx))
                .collect::<Result<_, _>>()?;
            Box::new(move |row| {
                let lv = l(row);
                let mut any = false;
                // Items computed at run time may be arrays: their elements count (flattened).
                let mut values = Vec::with_capacity(items.len());
                for it in &items {
                    flatten_into(it(row), &mut values);
                }
                for iv in values {
                    let eq = if stringy {
                        let (a, b) = (lv.to_kql_string(), iv.to_kql_string());
                        if cs {
                            a == b
                        } else {
                            fold(&a) == fold(&b)
                        }
                    } else {
                        !lv.is_null() && !iv.is_null() && lv.total_cmp(&iv) == Ordering::Equal
                    };
                    if eq {
                        any = true;
                        break;
                    }
                }
                Value::Bool(any != negated)
            })
        }
        ExprKind::HasAny {
            lhs,
            terms,
            all,
            cs,
        } => {
            let l = compile(lhs, ctx)?;
            let (all, cs) = (*all, *cs);
            // Constant terms, a constant array contributing its elements (flattened).
            let folded: Option<Vec<String>> = terms
                .iter()
                .map(|t| match &t.kind {
                    ExprKind::Literal(v) => Some(texts(v.clone(), cs)),
                    _ => None,
                })
                .collect::<Option<Vec<Vec<String>>>>()
                .map(|v| v.into_iter().flatten().collect());
            let Some(needles) = folded else {
                // Terms computed per row (a let-bound array, a column).
                let terms: Vec<Compiled> = terms
                    .iter()
                    .map(|t| compile(t, ctx))
                    .collect::<Result<_, _>>()?;
                return Ok(Box::new(move |row| {
                    let lv = l(row);
                    let Some(hay) = text(&lv) else {
                        return Value::Bool(false);
                    };
                    let hay = if cs { hay.into_owned() } else { fold(&hay) };
                    let mut values = Vec::new();
                    for t in &terms {
                        flatten_into(t(row), &mut values);
                    }
                    let needles = values.iter().map(|v| {
                        if cs {
                            v.to_kql_string()
                        } else {
                            fold(&v.to_kql_string())
                        }
                    });
                    let mut needles = needles.peekable();
                    if needles.peek().is_none() {
                        return Value::Bool(all);
                    }
                    Value::Bool(if all {
                        needles.into_iter().all(|n| has_term(&hay, &n))
                    } else {
                        needles.into_iter().any(|n| has_term(&hay, &n))
                    })
                }));
            };
            let terms = super::strings::TermSet::new(&needles, cs);
            Box::new(move |row| {
                let lv = l(row);
                let Some(hay) = text(&lv) else {
                    return Value::Bool(false);
                };
                if let Some(terms) = &terms {
                    return Value::Bool(terms.matches(&hay, !all));
                }
                let hay = if cs { hay.into_owned() } else { fold(&hay) };
                let m = if all {
                    needles.iter().all(|n| has_term(&hay, n))
                } else {
                    needles.iter().any(|n| has_term(&hay, n))
                };
                Value::Bool(m)
            })
        }
        ExprKind::Between {
            expr,
            lo,
            hi,
            negated,
        } => {
            let (x, lo, hi) = (compile(expr, ctx)?, compile(lo, ctx)?, compile(hi, ctx)?);
            let negated = *negated;
            Box::new(move |r| {
                let (v, a, z) = (x(r), lo(r), hi(r));
                if v.is_null() || a.is_null() || z.is_null() {
                    return Value::Null;
                }
                let inside =
                    v.total_cmp(&a) != Ordering::Less && v.total_cmp(&z) != Ordering::Greater;
                Value::Bool(inside != negated)
            })
        }
        ExprKind::Call { func, args } => call(*func, args, ctx)?,
    })
}

fn is_nan(v: &Value) -> bool {
    matches!(v, Value::Real(x) if x.is_nan())
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Long(n) => Some(*n as f64),
        Value::Real(x) => Some(*x),
        _ => None,
    }
}

fn binary(op: BinOp, l: Compiled, r: Compiled) -> Compiled {
    match op {
        BinOp::And => Box::new(move |row| match l(row).as_bool() {
            Some(false) => Value::Bool(false),
            a => match (a, r(row).as_bool()) {
                (_, Some(false)) => Value::Bool(false),
                (Some(true), Some(true)) => Value::Bool(true),
                _ => Value::Null,
            },
        }),
        BinOp::Or => Box::new(move |row| match l(row).as_bool() {
            Some(true) => Value::Bool(true),
            a => match (a, r(row).as_bool()) {
                (_, Some(true)) => Value::Bool(true),
                (Some(false), Some(false)) => Value::Bool(false),
                _ => Value::Null,
            },
        }),
        BinOp::Eq | BinOp::Ne => Box::new(move |row| {
            let (a, c) = (l(row), r(row));
            let ne = op == BinOp::Ne;
            match (a.is_null(), c.is_null()) {
                (true, true) => Value::Null,
                (true, false) | (false, true) => Value::Bool(ne),
                // IEEE 754, as .NET compares doubles: NaN equals nothing.
                _ if is_nan(&a) || is_nan(&c) => Value::Bool(ne),
                _ => Value::Bool((a.total_cmp(&c) == Ordering::Equal) != ne),
            }
        }),
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => Box::new(move |row| {
            let (a, c) = (l(row), r(row));
            if a.is_null() || c.is_null() {
                return Value::Null;
            }
            if is_nan(&a) || is_nan(&c) {
                return Value::Bool(false);
            }
            let o = a.total_cmp(&c);
            b(Some(match op {
                BinOp::Lt => o == Ordering::Less,
                BinOp::Le => o != Ordering::Greater,
                BinOp::Gt => o == Ordering::Greater,
                _ => o != Ordering::Less,
            }))
        }),
        _ => Box::new(move |row| arith(op, &l(row), &r(row))),
    }
}

fn arith(op: BinOp, a: &Value, c: &Value) -> Value {
    use Value::*;
    match (a, c) {
        (Long(x), Long(y)) => match op {
            BinOp::Add => Long(x.wrapping_add(*y)),
            BinOp::Sub => Long(x.wrapping_sub(*y)),
            BinOp::Mul => Long(x.wrapping_mul(*y)),
            BinOp::Div => {
                if *y == 0 {
                    Null
                } else {
                    Long(x.wrapping_div(*y))
                }
            }
            _ => {
                if *y == 0 {
                    Null
                } else {
                    Long(x.wrapping_rem(*y))
                }
            }
        },
        (DateTime(x), DateTime(y)) if op == BinOp::Sub => Timespan(x - y),
        (DateTime(x), Timespan(y)) => match op {
            BinOp::Add => DateTime(x + y),
            BinOp::Sub => DateTime(x - y),
            _ => Null,
        },
        (Timespan(x), DateTime(y)) if op == BinOp::Add => DateTime(x + y),
        (Timespan(x), Timespan(y)) => match op {
            BinOp::Add => Timespan(x + y),
            BinOp::Sub => Timespan(x - y),
            BinOp::Div if *y != 0 => Real(*x as f64 / *y as f64),
            _ => Null,
        },
        (Timespan(x), n) if matches!(op, BinOp::Mul | BinOp::Div) => match num(n) {
            Some(f) if op == BinOp::Mul => Timespan((*x as f64 * f) as i64),
            Some(f) if f != 0.0 => Timespan((*x as f64 / f) as i64),
            _ => Null,
        },
        _ => match (num(a), num(c)) {
            (Some(x), Some(y)) => Real(match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                BinOp::Div => x / y,
                _ => x % y,
            }),
            _ => Null,
        },
    }
}

/// `mv-expand ... to typeof(T)`: a cast only; elements of another kind become null.
pub fn cast_dynamic(v: &Value, ty: Type) -> Value {
    let Value::Dynamic(d) = v else {
        // A null element casts to the type's empty value ("" for a string).
        return if v.is_null() {
            Value::missing(ty)
        } else {
            v.clone()
        };
    };
    use serde_json::Value as J;
    match (ty, &**d) {
        (Type::String, J::String(s)) => Value::str(s),
        (Type::String, _) => Value::empty_string(),
        (Type::Long | Type::Int, J::Number(n)) => {
            n.as_i64().map(Value::Long).unwrap_or(Value::Null)
        }
        (Type::Real | Type::Decimal, J::Number(n)) => {
            n.as_f64().map(Value::Real).unwrap_or(Value::Null)
        }
        (Type::Bool, J::Bool(x)) => Value::Bool(*x),
        (Type::DateTime, J::String(s)) => parse_datetime(s)
            .map(Value::DateTime)
            .unwrap_or(Value::Null),
        (Type::Dynamic, _) => v.clone(),
        _ => Value::Null,
    }
}

fn to_long(v: &Value) -> Value {
    match v {
        Value::Long(n) => Value::Long(*n),
        Value::Real(x) if x.is_finite() => Value::Long(x.trunc() as i64),
        Value::Bool(x) => Value::Long(i64::from(*x)),
        Value::DateTime(t) | Value::Timespan(t) => Value::Long(*t),
        Value::String(_) | Value::Dynamic(_) => {
            let s = v.to_kql_string();
            let s = s.trim();
            s.parse::<i64>()
                .map(Value::Long)
                .or_else(|_| {
                    s.parse::<f64>().map(|x| {
                        if x.is_finite() {
                            Value::Long(x.trunc() as i64)
                        } else {
                            Value::Null
                        }
                    })
                })
                .unwrap_or(Value::Null)
        }
        _ => Value::Null,
    }
}

fn to_real(v: &Value) -> Value {
    match v {
        Value::Long(n) => Value::Real(*n as f64),
        Value::Real(x) => Value::Real(*x),
        Value::Bool(x) => Value::Real(f64::from(u8::from(*x))),
        Value::String(_) | Value::Dynamic(_) => v
            .to_kql_string()
            .trim()
            .parse::<f64>()
            .map(Value::Real)
            .unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

fn call(func: Func, args: &[Expr], ctx: &Ctx) -> Result<Compiled, Diagnostic> {
    let mut a: Vec<Compiled> = args
        .iter()
        .map(|x| compile(x, ctx))
        .collect::<Result<_, _>>()?;
    let now = ctx.now;
    let one = |a: &mut Vec<Compiled>| a.remove(0);
    Ok(match func {
        Func::ToLower => {
            let x = one(&mut a);
            Box::new(move |r| Value::str(&fold(&x(r).to_kql_string())))
        }
        Func::ToUpper => {
            let x = one(&mut a);
            Box::new(move |r| Value::str(&x(r).to_kql_string().to_uppercase()))
        }
        Func::ToString => {
            let x = one(&mut a);
            Box::new(move |r| match x(r) {
                s @ Value::String(_) => s,
                v => Value::str(&v.to_kql_string()),
            })
        }
        Func::ToDateTime => {
            let x = one(&mut a);
            Box::new(move |r| match x(r) {
                d @ Value::DateTime(_) => d,
                Value::Null => Value::Null,
                v => parse_datetime(&v.to_kql_string())
                    .map(Value::DateTime)
                    .unwrap_or(Value::Null),
            })
        }
        Func::ToLong | Func::ToInt => {
            let x = one(&mut a);
            Box::new(move |r| to_long(&x(r)))
        }
        Func::ToReal => {
            let x = one(&mut a);
            Box::new(move |r| to_real(&x(r)))
        }
        Func::ToBool => {
            let x = one(&mut a);
            Box::new(move |r| match x(r) {
                Value::Bool(v) => Value::Bool(v),
                Value::Long(n) => Value::Bool(n != 0),
                Value::Null => Value::Null,
                v => match v.to_kql_string().trim().to_ascii_lowercase().as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    _ => Value::Null,
                },
            })
        }
        Func::ToDynamic => {
            let x = one(&mut a);
            Box::new(move |r| match x(r) {
                d @ Value::Dynamic(_) => d,
                Value::Null => Value::Null,
                // parse_json("") is empty (null); text that is not JSON stays a string.
                Value::String(s) if s.is_empty() => Value::Null,
                Value::String(s) => match serde_json::from_str::<serde_json::Value>(&s) {
                    Ok(j) => Value::Dynamic(Arc::new(j)),
                    Err(_) => Value::Dynamic(Arc::new(serde_json::Value::String(s.to_string()))),
                },
                v => Value::Dynamic(Arc::new(v.to_json())),
            })
        }
        Func::Strlen => {
            let x = one(&mut a);
            Box::new(move |r| Value::Long(x(r).to_kql_string().chars().count() as i64))
        }
        Func::Strcat => Box::new(move |r| {
            let mut s = String::new();
            for f in &a {
                s.push_str(&f(r).to_kql_string());
            }
            Value::str(&s)
        }),
        Func::IsEmpty | Func::IsNotEmpty => {
            let x = one(&mut a);
            let want = func == Func::IsEmpty;
            Box::new(move |r| {
                let empty = match x(r) {
                    Value::Null => true,
                    Value::String(s) => s.is_empty(),
                    Value::Dynamic(d) => {
                        matches!(&*d, serde_json::Value::Null)
                            || matches!(&*d, serde_json::Value::String(s) if s.is_empty())
                    }
                    _ => false,
                };
                Value::Bool(empty == want)
            })
        }
        Func::IsNull | Func::IsNotNull => {
            let x = one(&mut a);
            let want = func == Func::IsNull;
            Box::new(move |r| {
                let null = match x(r) {
                    Value::Null => true,
                    Value::Dynamic(d) => matches!(&*d, serde_json::Value::Null),
                    _ => false,
                };
                Value::Bool(null == want)
            })
        }
        Func::Iff => {
            let (c, t, f) = (a.remove(0), a.remove(0), a.remove(0));
            Box::new(move |r| {
                if matches!(c(r), Value::Bool(true)) {
                    t(r)
                } else {
                    f(r)
                }
            })
        }
        Func::MaxOf | Func::MinOf => {
            let want = if func == Func::MaxOf {
                Ordering::Greater
            } else {
                Ordering::Less
            };
            Box::new(move |r| {
                let mut best = Value::Null;
                for f in &a {
                    let v = f(r);
                    if !v.is_null() && (best.is_null() || v.total_cmp(&best) == want) {
                        best = v;
                    }
                }
                best
            })
        }
        Func::Coalesce => Box::new(move |r| {
            for f in &a {
                let v = f(r);
                let empty = match &v {
                    Value::Null => true,
                    Value::String(s) => s.is_empty(),
                    _ => false,
                };
                if !empty {
                    return v;
                }
            }
            a.last().map(|f| f(r)).unwrap_or(Value::Null)
        }),
        Func::Not => {
            let x = one(&mut a);
            Box::new(move |r| match x(r) {
                Value::Bool(v) => Value::Bool(!v),
                _ => Value::Null,
            })
        }
        Func::Now => Box::new(move |_| Value::DateTime(now)),
        Func::Ago => {
            let x = one(&mut a);
            Box::new(move |r| match x(r) {
                Value::Timespan(t) => Value::DateTime(now - t),
                _ => Value::Null,
            })
        }
        Func::ArrayLength => {
            let x = one(&mut a);
            Box::new(move |r| match x(r) {
                Value::Dynamic(d) => match &*d {
                    serde_json::Value::Array(v) => Value::Long(v.len() as i64),
                    _ => Value::Null,
                },
                _ => Value::Null,
            })
        }
        Func::CountOf
        | Func::ParseUrl
        | Func::Ipv4IsMatch
        | Func::Base64Decode
        | Func::Base64Encode
        | Func::ExtractJson
        | Func::ExtractAll
        | Func::BagKeys
        | Func::UrlDecode
        | Func::UrlEncode
        | Func::TrimStart
        | Func::TrimEnd
        | Func::StringSize
        | Func::StrcatArray
        | Func::SetUnion
        | Func::SetDifference
        | Func::SetIntersect
        | Func::Reverse
        | Func::FormatDatetime
        | Func::DatetimePart
        | Func::DatetimeAdd
        | Func::ArraySlice
        | Func::Range
        | Func::Translate
        | Func::IngestionTime
        | Func::SplitAt
        | Func::ArrayIndexOf
        | Func::IsAscii
        | Func::ParseXml
        | Func::ParseUrlQuery
        | Func::DynamicToJson
        | Func::Hash
        | Func::Base64DecodeToArray
        | Func::CodepointsToString
        | Func::ParsePath => {
            // The first argument of regex functions is compiled once.
            let re = args.first().and_then(literal_regex);
            Box::new(move |r| {
                let vals: Vec<Value> = a.iter().map(|f| f(r)).collect();
                super::functions::call(func, &vals, re.as_ref())
            })
        }
        Func::SeriesFitLine | Func::SeriesDecompose | Func::SeriesDecomposeAnomalies => {
            let f = match func {
                Func::SeriesFitLine => super::series::fit_line,
                Func::SeriesDecompose => super::series::decompose_fn,
                _ => super::series::decompose_anomalies,
            };
            Box::new(move |r| {
                let vals: Vec<Value> = a.iter().map(|g| g(r)).collect();
                f(&vals)
            })
        }
        Func::DatetimeDiff => {
            let (part, x, y) = (a.remove(0), a.remove(0), a.remove(0));
            Box::new(move |r| match (part(r), x(r), y(r)) {
                (Value::String(p), Value::DateTime(t1), Value::DateTime(t2)) => {
                    datetime_diff(&p.to_ascii_lowercase(), t1, t2)
                        .map(Value::Long)
                        .unwrap_or(Value::Null)
                }
                _ => Value::Null,
            })
        }
        Func::GetItem => {
            let (x, i) = (a.remove(0), a.remove(0));
            Box::new(move |r| match (x(r), i(r)) {
                (Value::Dynamic(d), idx) => get_item(&d, &idx),
                _ => Value::Null,
            })
        }
        Func::MatchesRegex => {
            let (x, p) = (a.remove(0), a.remove(0));
            let fixed = literal_regex(&args[1]);
            Box::new(move |r| {
                let v = x(r);
                if v.is_null() {
                    return Value::Bool(false);
                }
                let text = v.to_kql_string();
                match &fixed {
                    Some(re) => Value::Bool(re.is_match(&text)),
                    None => match regex::Regex::new(&p(r).to_kql_string()) {
                        Ok(re) => Value::Bool(re.is_match(&text)),
                        Err(_) => Value::Null,
                    },
                }
            })
        }
        Func::Bin => {
            let (x, size) = (a.remove(0), a.remove(0));
            Box::new(move |r| bin(&x(r), &size(r)))
        }
        Func::StartOfDay | Func::EndOfDay => {
            let x = one(&mut a);
            let end = func == Func::EndOfDay;
            Box::new(move |r| match x(r) {
                Value::DateTime(t) => {
                    let day = t.div_euclid(TICKS_PER_DAY) * TICKS_PER_DAY;
                    Value::DateTime(if end { day + TICKS_PER_DAY - 1 } else { day })
                }
                _ => Value::Null,
            })
        }
        Func::HourOfDay => {
            let x = one(&mut a);
            Box::new(move |r| match x(r) {
                Value::DateTime(t) => Value::Long(
                    t.rem_euclid(TICKS_PER_DAY) / (3600 * crate::value::TICKS_PER_SECOND),
                ),
                _ => Value::Null,
            })
        }
        Func::DayOfWeek => {
            let x = one(&mut a);
            // 1970-01-01 was a Thursday: Sunday is day 0.
            Box::new(move |r| match x(r) {
                Value::DateTime(t) => {
                    Value::Timespan((t.div_euclid(TICKS_PER_DAY) + 4).rem_euclid(7) * TICKS_PER_DAY)
                }
                _ => Value::Null,
            })
        }
        Func::Extract => {
            let (p, g, text) = (a.remove(0), a.remove(0), a.remove(0));
            let re = row_regex(&args[0], p);
            Box::new(move |r| {
                let Some(re) = re(r) else {
                    return Value::empty_string();
                };
                let t = text(r);
                let group = match g(r) {
                    Value::Long(n) if n >= 0 => n as usize,
                    _ => return Value::empty_string(),
                };
                let s = t.to_kql_string();
                match re.captures(&s).and_then(|c| c.get(group)) {
                    Some(m) => Value::str(m.as_str()),
                    None => Value::empty_string(),
                }
            })
        }
        Func::Split => {
            let (x, d) = (a.remove(0), a.remove(0));
            Box::new(move |r| {
                let s = x(r).to_kql_string();
                let delim = d(r).to_kql_string();
                let parts: Vec<serde_json::Value> = if delim.is_empty() {
                    vec![serde_json::Value::String(s)]
                } else {
                    s.split(delim.as_str())
                        .map(|p| serde_json::Value::String(p.to_string()))
                        .collect()
                };
                Value::Dynamic(Arc::new(serde_json::Value::Array(parts)))
            })
        }
        Func::PackArray => Box::new(move |r| {
            Value::Dynamic(Arc::new(serde_json::Value::Array(
                a.iter().map(|f| f(r).to_json()).collect(),
            )))
        }),
        Func::BagPack => Box::new(move |r| {
            let mut m = serde_json::Map::new();
            for pair in a.chunks(2) {
                m.insert(pair[0](r).to_kql_string(), pair[1](r).to_json());
            }
            Value::Dynamic(Arc::new(serde_json::Value::Object(m)))
        }),
        Func::ArrayConcat => Box::new(move |r| {
            let mut out = Vec::new();
            for f in &a {
                match f(r) {
                    Value::Dynamic(d) => match &*d {
                        serde_json::Value::Array(items) => out.extend(items.iter().cloned()),
                        _ => return Value::Null,
                    },
                    _ => return Value::Null,
                }
            }
            Value::Dynamic(Arc::new(serde_json::Value::Array(out)))
        }),
        Func::SetHasElement => {
            let (x, v) = (a.remove(0), a.remove(0));
            Box::new(move |r| match x(r) {
                Value::Dynamic(d) => match &*d {
                    serde_json::Value::Array(items) => {
                        let want = v(r).to_json();
                        Value::Bool(items.contains(&want))
                    }
                    _ => Value::Null,
                },
                _ => Value::Null,
            })
        }
        Func::Case => Box::new(move |r| {
            let n = a.len();
            for pair in a[..n - 1].chunks(2) {
                if matches!(pair[0](r), Value::Bool(true)) {
                    return pair[1](r);
                }
            }
            a[n - 1](r)
        }),
        Func::ToTimespan => {
            let x = one(&mut a);
            Box::new(move |r| match x(r) {
                t @ Value::Timespan(_) => t,
                Value::Long(n) => Value::Timespan(n),
                Value::Null => Value::Null,
                v => crate::value::parse_timespan(&v.to_kql_string())
                    .map(Value::Timespan)
                    .unwrap_or(Value::Null),
            })
        }
        Func::ReplaceRegex => {
            let (text, _, rewrite) = (a.remove(0), a.remove(0), a.remove(0));
            let Some(re) = literal_regex(&args[1]) else {
                return Err(Diagnostic::error(
                    codes::UNSUPPORTED,
                    "replace_regex() with a non-constant regex",
                ));
            };
            Box::new(move |r| {
                // KQL rewrites use \1 for groups; the regex crate uses ${1}.
                let rw = rewrite(r).to_kql_string();
                let rw = regex::Regex::new(r"\\(\d)")
                    .unwrap()
                    .replace_all(&rw.replace('$', "$$"), "$${$1}")
                    .into_owned();
                Value::str(&re.replace_all(&text(r).to_kql_string(), rw.as_str()))
            })
        }
        Func::ReplaceString => {
            let (text, find, rewrite) = (a.remove(0), a.remove(0), a.remove(0));
            Box::new(move |r| {
                let f = find(r).to_kql_string();
                let t = text(r).to_kql_string();
                if f.is_empty() {
                    return Value::str(&t);
                }
                Value::str(&t.replace(&f, &rewrite(r).to_kql_string()))
            })
        }
        Func::Substring => {
            let x = a.remove(0);
            let start = a.remove(0);
            let len = a.pop();
            Box::new(move |r| {
                let chars: Vec<char> = x(r).to_kql_string().chars().collect();
                // A negative start counts from the end (the docs' `substring("123456", -2, 2)`).
                let s = match start(r) {
                    Value::Long(n) if n < 0 => (chars.len() as i64 + n).max(0) as usize,
                    Value::Long(n) => n.min(chars.len() as i64) as usize,
                    _ => return Value::empty_string(),
                };
                let e = match len.as_ref().map(|f| f(r)) {
                    None => chars.len(),
                    Some(Value::Long(n)) => (s as i64 + n.max(0)).min(chars.len() as i64) as usize,
                    Some(_) => return Value::empty_string(),
                };
                Value::str(&chars[s..e].iter().collect::<String>())
            })
        }
        Func::Ipv4IsPrivate => {
            let x = one(&mut a);
            Box::new(
                move |r| match x(r).to_kql_string().parse::<std::net::Ipv4Addr>() {
                    Ok(ip) => Value::Bool(ip.is_private()),
                    Err(_) => Value::Null,
                },
            )
        }
        Func::Trim => {
            let (_, x) = (a.remove(0), a.remove(0));
            let Some(re) = literal_regex(&args[0]) else {
                return Err(Diagnostic::error(
                    codes::UNSUPPORTED,
                    "trim() with a non-constant regex",
                ));
            };
            let pat = re.as_str().to_string();
            let re = regex::Regex::new(&format!("^(?:{pat})+|(?:{pat})+$")).unwrap();
            Box::new(move |r| Value::str(&re.replace_all(&x(r).to_kql_string(), "")))
        }
        Func::IndexOf => {
            let (x, f) = (a.remove(0), a.remove(0));
            let start = a.pop();
            Box::new(move |r| {
                let s = x(r).to_kql_string();
                // An optional start position, in characters.
                let from = match start.as_ref().map(|g| g(r)) {
                    Some(Value::Long(n)) if n >= 0 => n as usize,
                    Some(_) => return Value::Null,
                    None => 0,
                };
                let Some((off, _)) = s
                    .char_indices()
                    .nth(from)
                    .or((from == s.chars().count()).then_some((s.len(), ' ')))
                else {
                    return Value::Long(-1);
                };
                match s[off..].find(&f(r).to_kql_string()) {
                    Some(b) => Value::Long((s[..off + b].chars().count()) as i64),
                    None => Value::Long(-1),
                }
            })
        }
        Func::Floor => unreachable!("floor lowers to bin"),
        Func::Abs => {
            let x = one(&mut a);
            Box::new(move |r| match x(r) {
                Value::Long(n) => Value::Long(n.wrapping_abs()),
                Value::Real(f) => Value::Real(f.abs()),
                Value::Timespan(t) => Value::Timespan(t.abs()),
                _ => Value::Null,
            })
        }
        Func::Log10 => {
            let x = one(&mut a);
            Box::new(move |r| match to_real(&x(r)) {
                Value::Real(f) => Value::Real(f.log10()),
                _ => Value::Null,
            })
        }
        Func::Round => {
            let x = a.remove(0);
            let digits = a.pop();
            Box::new(move |r| {
                let d = match digits.as_ref().map(|f| f(r)) {
                    Some(Value::Long(n)) => n,
                    _ => 0,
                };
                match x(r) {
                    Value::Real(f) => {
                        let m = 10f64.powi(d as i32);
                        Value::Real((f * m).round() / m)
                    }
                    other => other,
                }
            })
        }
        Func::ToHex => {
            let x = a.remove(0);
            Box::new(move |r| match x(r) {
                Value::Long(n) => Value::str(&format!("{n:x}")),
                _ => Value::Null,
            })
        }
    })
}

/// A constant regex argument, compiled once.
type RowRegex = Box<dyn Fn(&[Value]) -> Option<Arc<regex::Regex>> + Send + Sync>;

/// The regex of each row: compiled once for a constant pattern; a pattern computed per row is
/// compiled when it changes (the last one is kept). An invalid pattern gives `None`.
fn row_regex(e: &Expr, pattern: Compiled) -> RowRegex {
    if let Some(re) = literal_regex(e) {
        let re = Arc::new(re);
        return Box::new(move |_| Some(re.clone()));
    }
    let last: std::sync::Mutex<Option<(String, Option<Arc<regex::Regex>>)>> =
        std::sync::Mutex::new(None);
    Box::new(move |r| {
        let p = pattern(r).to_kql_string();
        let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
        match &*last {
            Some((q, re)) if *q == p => re.clone(),
            _ => {
                let re = regex::Regex::new(&p).ok().map(Arc::new);
                *last = Some((p, re.clone()));
                re
            }
        }
    })
}

fn literal_regex(e: &Expr) -> Option<regex::Regex> {
    match &e.kind {
        ExprKind::Literal(Value::String(p)) => regex::Regex::new(p).ok(),
        _ => None,
    }
}

/// `d[i]` / `d["k"]`: null when absent. A negative index counts from the end.
fn get_item(d: &serde_json::Value, idx: &Value) -> Value {
    let item = match (d, idx) {
        (serde_json::Value::Object(m), Value::String(k)) => m.get(&**k),
        (serde_json::Value::Array(v), Value::Long(i)) => {
            let i = if *i < 0 { v.len() as i64 + i } else { *i };
            if i < 0 {
                None
            } else {
                v.get(i as usize)
            }
        }
        _ => None,
    };
    match item {
        Some(serde_json::Value::Null) | None => Value::Null,
        Some(j) => Value::Dynamic(Arc::new(j.clone())),
    }
}

/// `bin(x, size)`: rounds down to a multiple of size; datetimes count from the Unix epoch.
fn bin(x: &Value, size: &Value) -> Value {
    match (x, size) {
        (Value::DateTime(t), Value::Timespan(s)) if *s > 0 => Value::DateTime(t.div_euclid(*s) * s),
        (Value::Timespan(t), Value::Timespan(s)) if *s > 0 => Value::Timespan(t.div_euclid(*s) * s),
        (Value::Long(n), Value::Long(s)) if *s > 0 => Value::Long(n.div_euclid(*s) * s),
        (v, s) => match (num(v), num(s)) {
            (Some(f), Some(sz)) if sz > 0.0 => Value::Real((f / sz).floor() * sz),
            _ => Value::Null,
        },
    }
}

/// Boundaries of `part` crossed going from `b` to `a` (`datetime_diff(part, a, b)`).
fn datetime_diff(part: &str, a: i64, b: i64) -> Option<i64> {
    use chrono::{Datelike, TimeZone, Utc};
    let tick = |unit: i64| Some(a.div_euclid(unit) - b.div_euclid(unit));
    let s = crate::value::TICKS_PER_SECOND;
    let date = |t: i64| Utc.timestamp_opt(t.div_euclid(s), 0).single();
    match part {
        "year" => Some(i64::from(date(a)?.year() - date(b)?.year())),
        "quarter" => {
            let q = |t| date(t).map(|d| i64::from(d.year()) * 4 + i64::from(d.month0() / 3));
            Some(q(a)? - q(b)?)
        }
        "month" => {
            let m = |t| date(t).map(|d| i64::from(d.year()) * 12 + i64::from(d.month0()));
            Some(m(a)? - m(b)?)
        }
        // Weeks start on Sunday; 1970-01-01 was a Thursday.
        "week" => Some(
            (a.div_euclid(TICKS_PER_DAY) + 4).div_euclid(7)
                - (b.div_euclid(TICKS_PER_DAY) + 4).div_euclid(7),
        ),
        "day" => tick(TICKS_PER_DAY),
        "hour" => tick(3600 * s),
        "minute" => tick(60 * s),
        "second" => tick(s),
        "millisecond" => tick(10_000),
        "microsecond" => tick(10),
        "nanosecond" => Some((a - b) * 100),
        _ => None,
    }
}

/// A value as list items: a dynamic array gives its elements (nested arrays flattened).
fn flatten_into(v: Value, out: &mut Vec<Value>) {
    fn walk(j: &serde_json::Value, out: &mut Vec<Value>) {
        match j {
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            serde_json::Value::String(s) => out.push(Value::str(s)),
            serde_json::Value::Number(n) => out.push(match n.as_i64() {
                Some(i) => Value::Long(i),
                None => Value::Real(n.as_f64().unwrap_or(f64::NAN)),
            }),
            serde_json::Value::Bool(b) => out.push(Value::Bool(*b)),
            serde_json::Value::Null => {}
            other => out.push(Value::Dynamic(Arc::new(other.clone()))),
        }
    }
    match &v {
        Value::Dynamic(d) => walk(d, out),
        _ => out.push(v),
    }
}
