//! `summarize`: hash aggregation. Aggregates ignore nulls (docs); with no `by` an empty input
//! still gives one row of defaults (count 0, sets `[]`, others null).

use super::compile::{compile, Compiled, Ctx};
use super::{key_cell, KeyCell, Row};
use crate::diagnostics::Diagnostic;
use crate::ir::{Agg, AggFunc, Expr};
use crate::value::Value;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub(super) enum State {
    Count(i64),
    Distinct(HashSet<KeyCell>),
    Sum(Value),
    Avg(f64, i64),
    /// Count, mean and sum of squared deviations (Welford).
    Moments(i64, f64, f64),
    Extreme(Value),
    Set(Vec<serde_json::Value>, HashSet<String>),
    List(Vec<serde_json::Value>),
    Any(Value),
    /// The key and value of the winning row.
    Arg(Value, Value),
    Bag(serde_json::Map<String, serde_json::Value>),
    /// The non-null values and the percentile wanted.
    Values(Vec<Value>, f64),
}

pub(super) struct Compiled1 {
    func: AggFunc,
    args: Vec<Compiled>,
    limit: usize,
}

pub(super) fn init(f: AggFunc) -> State {
    match f {
        AggFunc::Count | AggFunc::CountIf => State::Count(0),
        AggFunc::DCount | AggFunc::DCountIf => State::Distinct(HashSet::new()),
        AggFunc::Sum | AggFunc::SumIf => State::Sum(Value::Null),
        AggFunc::Avg => State::Avg(0.0, 0),
        AggFunc::Stdev | AggFunc::Variance => State::Moments(0, 0.0, 0.0),
        AggFunc::Min | AggFunc::Max => State::Extreme(Value::Null),
        AggFunc::MakeSet | AggFunc::MakeSetIf => State::Set(Vec::new(), HashSet::new()),
        AggFunc::MakeList | AggFunc::MakeListIf => State::List(Vec::new()),
        AggFunc::Any | AggFunc::AnyIf => State::Any(Value::Null),
        AggFunc::ArgMax | AggFunc::ArgMin => State::Arg(Value::Null, Value::Null),
        AggFunc::MakeBag => State::Bag(serde_json::Map::new()),
        AggFunc::Percentile => State::Values(Vec::new(), 0.0),
    }
}

fn truthy(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

fn add(a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::Null, x) => x.clone(),
        (Value::Long(x), Value::Long(y)) => Value::Long(x.wrapping_add(*y)),
        (Value::Timespan(x), Value::Timespan(y)) => Value::Timespan(x + y),
        (Value::Real(x), Value::Real(y)) => Value::Real(x + y),
        (Value::Long(x), Value::Real(y)) | (Value::Real(y), Value::Long(x)) => {
            Value::Real(*x as f64 + y)
        }
        _ => a.clone(),
    }
}

/// Elements a set or list collects from one value: a dynamic array contributes its elements.
fn elements(v: &Value, out: &mut Vec<serde_json::Value>) {
    match v {
        Value::Null => {}
        Value::Dynamic(d) => match &**d {
            serde_json::Value::Array(a) => out.extend(a.iter().cloned()),
            serde_json::Value::Null => {}
            other => out.push(other.clone()),
        },
        other => out.push(other.to_json()),
    }
}

impl Compiled1 {
    pub(super) fn new(a: &Agg, ctx: &Ctx) -> Result<Compiled1, Diagnostic> {
        Ok(Compiled1 {
            func: a.func,
            args: a
                .args
                .iter()
                .map(|e| compile(e, ctx))
                .collect::<Result<_, Diagnostic>>()?,
            limit: a.limit.map(|n| n as usize).unwrap_or(1_048_576),
        })
    }
    pub(super) fn func(&self) -> AggFunc {
        self.func
    }
    pub(super) fn limit(&self) -> usize {
        self.limit
    }
    pub(super) fn update(&self, st: &mut State, row: &[Value]) {
        let arg = |i: usize| (self.args[i])(row);
        match (self.func, st) {
            (AggFunc::Count, State::Count(n)) => *n += 1,
            (AggFunc::CountIf, State::Count(n)) => {
                if truthy(&arg(0)) {
                    *n += 1
                }
            }
            (AggFunc::DCount, State::Distinct(s)) => {
                let v = arg(0);
                if !v.is_null() {
                    s.insert(key_cell(&v));
                }
            }
            (AggFunc::DCountIf, State::Distinct(s)) => {
                let v = arg(0);
                if !v.is_null() && truthy(&arg(1)) {
                    s.insert(key_cell(&v));
                }
            }
            (AggFunc::Sum, State::Sum(acc)) => *acc = add(acc, &arg(0)),
            (AggFunc::SumIf, State::Sum(acc)) => {
                if truthy(&arg(1)) {
                    *acc = add(acc, &arg(0))
                }
            }
            (AggFunc::Avg, State::Avg(s, n)) => match arg(0) {
                Value::Long(x) => {
                    *s += x as f64;
                    *n += 1
                }
                Value::Real(x) => {
                    *s += x;
                    *n += 1
                }
                _ => {}
            },
            (AggFunc::Stdev | AggFunc::Variance, State::Moments(n, mean, m2)) => {
                let x = match arg(0) {
                    Value::Long(x) => x as f64,
                    Value::Real(x) => x,
                    _ => return,
                };
                *n += 1;
                let d = x - *mean;
                *mean += d / *n as f64;
                *m2 += d * (x - *mean);
            }
            (f @ (AggFunc::Min | AggFunc::Max), State::Extreme(cur)) => {
                let v = arg(0);
                if !v.is_null() {
                    let better = cur.is_null()
                        || match f {
                            AggFunc::Min => v.total_cmp(cur) == Ordering::Less,
                            _ => v.total_cmp(cur) == Ordering::Greater,
                        };
                    if better {
                        *cur = v;
                    }
                }
            }
            (f @ (AggFunc::MakeSet | AggFunc::MakeSetIf), State::Set(items, seen)) => {
                if f == AggFunc::MakeSetIf && !truthy(&arg(1)) {
                    return;
                }
                let mut new = Vec::new();
                elements(&arg(0), &mut new);
                // Every distinct element is kept here; the size limit applies to the sorted
                // set in `finish`, so which elements survive does not depend on row order.
                for e in new {
                    if seen.insert(e.to_string()) {
                        items.push(e);
                    }
                }
            }
            (f @ (AggFunc::MakeList | AggFunc::MakeListIf), State::List(items)) => {
                if f == AggFunc::MakeListIf && !truthy(&arg(1)) {
                    return;
                }
                let mut new = Vec::new();
                elements(&arg(0), &mut new);
                for e in new {
                    if items.len() < self.limit {
                        items.push(e);
                    }
                }
            }
            // `take_any` may return any value; detc returns the smallest so that every run and
            // every target agree (docs/semantics.md).
            (f @ (AggFunc::Any | AggFunc::AnyIf), State::Any(cur)) => {
                if f == AggFunc::AnyIf && !truthy(&arg(1)) {
                    return;
                }
                let v = arg(0);
                if !v.is_null() && (cur.is_null() || v.total_cmp(cur) == Ordering::Less) {
                    *cur = v;
                }
            }
            (f @ (AggFunc::ArgMax | AggFunc::ArgMin), State::Arg(best, val)) => {
                let k = arg(0);
                if k.is_null() {
                    if best.is_null() && val.is_null() {
                        // An all-null group still yields a row (docs example), null key.
                        *val = arg(1);
                    }
                    return;
                }
                let better = best.is_null()
                    || match f {
                        AggFunc::ArgMax => k.total_cmp(best) == Ordering::Greater,
                        _ => k.total_cmp(best) == Ordering::Less,
                    };
                if better {
                    *best = k;
                    *val = arg(1);
                }
            }
            (AggFunc::MakeBag, State::Bag(m)) => {
                if let Value::Dynamic(d) = arg(0) {
                    if let serde_json::Value::Object(o) = &*d {
                        for (k, v) in o {
                            m.entry(k.clone()).or_insert_with(|| v.clone());
                        }
                    }
                }
            }
            (AggFunc::Percentile, State::Values(values, p)) => {
                let v = arg(0);
                if !v.is_null() {
                    values.push(v);
                }
                if let Value::Real(x) = arg(1) {
                    *p = x;
                }
            }
            _ => unreachable!("state matches its function"),
        }
    }
}

pub(super) fn finish(st: State, f: AggFunc, ty: crate::types::Type, limit: usize) -> Value {
    let stdev = f == AggFunc::Stdev;
    match st {
        State::Count(n) => Value::Long(n),
        State::Distinct(s) => Value::Long(s.len() as i64),
        State::Sum(Value::Null) => match ty {
            crate::types::Type::Real => Value::Real(0.0),
            crate::types::Type::Timespan => Value::Timespan(0),
            _ => Value::Long(0),
        },
        State::Sum(v) => v,
        State::Moments(0, _, _) => Value::Null,
        State::Moments(1, _, _) => Value::Real(0.0),
        State::Moments(n, _, m2) => {
            let var = m2 / (n - 1) as f64;
            Value::Real(if stdev { var.sqrt() } else { var })
        }
        State::Avg(_, 0) => Value::Null,
        State::Avg(s, n) => Value::Real(s / n as f64),
        State::Extreme(v) | State::Any(v) => v,
        // Set order is undefined in KQL; detc sorts sets so every run and target agree.
        State::Set(mut items, _) => {
            items.sort_by(json_order);
            items.truncate(limit);
            Value::Dynamic(Arc::new(serde_json::Value::Array(items)))
        }
        State::List(items) => Value::Dynamic(Arc::new(serde_json::Value::Array(items))),
        State::Arg(_, v) => v,
        State::Values(mut values, p) => {
            // Nearest rank: the smallest value with at least p% of the values at or below it.
            values.sort_by(|a, b| a.total_cmp(b));
            let n = values.len();
            let rank = ((p / 100.0) * n as f64).ceil().clamp(1.0, n.max(1) as f64) as usize;
            values.into_iter().nth(rank - 1).unwrap_or(Value::Null)
        }
        // With a size limit, the first keys in key order are kept (docs/semantics.md).
        State::Bag(m) => Value::Dynamic(Arc::new(serde_json::Value::Object(
            m.into_iter().take(limit).collect(),
        ))),
    }
}

pub fn summarize(
    rows: Vec<Row>,
    by: &[(String, Expr)],
    aggs: &[(String, Agg)],
    ctx: &Ctx,
) -> Result<Vec<Row>, Diagnostic> {
    let keys: Vec<Compiled> = by
        .iter()
        .map(|(_, e)| compile(e, ctx))
        .collect::<Result<_, _>>()?;
    let comp: Vec<Compiled1> = aggs
        .iter()
        .map(|(_, a)| Compiled1::new(a, ctx))
        .collect::<Result<_, Diagnostic>>()?;
    let mut groups: HashMap<Vec<KeyCell>, usize> = HashMap::new();
    let mut out: Vec<(Row, Vec<State>)> = Vec::new();
    for r in &rows {
        let kv: Row = keys.iter().map(|k| k(r)).collect();
        let kc: Vec<KeyCell> = kv.iter().map(key_cell).collect();
        let idx = *groups.entry(kc).or_insert_with(|| {
            out.push((kv, comp.iter().map(|c| init(c.func)).collect()));
            out.len() - 1
        });
        for (c, st) in comp.iter().zip(out[idx].1.iter_mut()) {
            c.update(st, r);
        }
    }
    if out.is_empty() && by.is_empty() {
        out.push((Vec::new(), comp.iter().map(|c| init(c.func)).collect()));
    }
    Ok(out
        .into_iter()
        .map(|(mut k, states)| {
            for ((st, (_, a)), c) in states.into_iter().zip(aggs).zip(&comp) {
                k.push(finish(st, a.func, a.ty, c.limit));
            }
            k
        })
        .collect())
}

/// `evaluate pivot`: summarize by the keys and the pivot column, then one row per key with a
/// bag from each pivot value (as text) to its aggregate; groups keep first-seen order.
pub fn pivot(
    rows: Vec<Row>,
    column: &Expr,
    agg: &Agg,
    by: &[(String, Expr)],
    ctx: &Ctx,
) -> Result<Vec<Row>, Diagnostic> {
    let mut keys = by.to_vec();
    keys.push((String::new(), column.clone()));
    let summed = summarize(rows, &keys, &[(String::new(), agg.clone())], ctx)?;
    let n = by.len();
    let mut groups: HashMap<Vec<KeyCell>, usize> = HashMap::new();
    let mut out: Vec<(Row, serde_json::Map<String, serde_json::Value>)> = Vec::new();
    for mut r in summed {
        let value = r.pop().unwrap_or(Value::Null).to_json();
        let name = r.pop().unwrap_or(Value::Null).to_kql_string();
        let kc: Vec<KeyCell> = r.iter().map(key_cell).collect();
        let g = *groups.entry(kc).or_insert_with(|| {
            out.push((r[..n].to_vec(), serde_json::Map::new()));
            out.len() - 1
        });
        out[g].1.insert(name, value);
    }
    Ok(out
        .into_iter()
        .map(|(mut k, bag)| {
            k.push(Value::Dynamic(Arc::new(serde_json::Value::Object(bag))));
            k
        })
        .collect())
}

/// Order of set elements: null, bools, numbers by value, strings, then other JSON by text;
/// the order SQL's `ORDER BY` gives a column of one scalar type.
/// What `make_list` (`set` false) or `make_set` (`set` true) give for these argument values
/// in order: arrays contribute their elements, nulls nothing; a set is deduplicated and
/// sorted as in `finish`. SQLite's emitted SQL calls this through a registered function.
pub fn collect_json(
    values: &[serde_json::Value],
    set: bool,
    limit: Option<usize>,
) -> serde_json::Value {
    let mut items = Vec::new();
    for v in values {
        match v {
            serde_json::Value::Array(a) => items.extend(a.iter().cloned()),
            serde_json::Value::Null => {}
            other => items.push(other.clone()),
        }
    }
    if set {
        let mut seen = HashSet::new();
        items.retain(|e| seen.insert(e.to_string()));
        items.sort_by(json_order);
    }
    items.truncate(limit.unwrap_or(usize::MAX));
    serde_json::Value::Array(items)
}

/// What `make_bag` gives for these argument values in order: the properties of the bags
/// (other values ignored), the first value of a repeated key kept, then the first `limit`
/// keys in key order. SQLite's emitted SQL calls this through a registered function.
pub fn merge_bags(values: &[serde_json::Value], limit: Option<usize>) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for v in values {
        if let serde_json::Value::Object(o) = v {
            for (k, v) in o {
                m.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    serde_json::Value::Object(m.into_iter().take(limit.unwrap_or(usize::MAX)).collect())
}

fn json_order(a: &serde_json::Value, b: &serde_json::Value) -> Ordering {
    use serde_json::Value as J;
    let rank = |v: &J| match v {
        J::Null => 0,
        J::Bool(_) => 1,
        J::Number(_) => 2,
        J::String(_) => 3,
        _ => 4,
    };
    match (a, b) {
        (J::Bool(x), J::Bool(y)) => x.cmp(y),
        (J::Number(x), J::Number(y)) => x
            .as_f64()
            .unwrap_or(f64::NAN)
            .total_cmp(&y.as_f64().unwrap_or(f64::NAN)),
        (J::String(x), J::String(y)) => x.cmp(y),
        _ => rank(a)
            .cmp(&rank(b))
            .then_with(|| a.to_string().cmp(&b.to_string())),
    }
}
