//! `make-series`: hash aggregation per group and bin. Rows with a null axis or outside the
//! bins are skipped; a bin without rows takes the aggregate's default.

use super::aggregate::{finish, init, Compiled1, State};
use super::compile::{compile, Ctx};
use super::{key_cell, KeyCell, Row};
use crate::diagnostics::{codes, Diagnostic};
use crate::ir::{Expr, SeriesAgg, SeriesBins};
use crate::types::Type;
use crate::value::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// The most bins one series may have (Kusto's documented limit, 2^20).
const MAX_BINS: i128 = 1 << 20;

/// An axis value as a number: ticks for datetimes and timespans, the value for numbers.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Pos {
    Int(i128),
    Real(f64),
}

fn pos(v: &Value) -> Option<Pos> {
    Some(match v {
        Value::DateTime(t) | Value::Timespan(t) | Value::Long(t) => Pos::Int(*t as i128),
        Value::Real(x) if x.is_finite() => Pos::Real(*x),
        _ => return None,
    })
}

fn as_f64(p: Pos) -> f64 {
    match p {
        Pos::Int(i) => i as f64,
        Pos::Real(x) => x,
    }
}

/// The bin of `x` counted from `start` (floor division; negative before `start`).
fn bin_of(x: Pos, start: Pos, step: Pos) -> i128 {
    match (x, start, step) {
        (Pos::Int(x), Pos::Int(s), Pos::Int(d)) => (x - s).div_euclid(d),
        _ => ((as_f64(x) - as_f64(start)) / as_f64(step)).floor() as i128,
    }
}

/// `bin(x, step)`: the multiple of `step` at or below `x` (from 0, the Unix epoch).
fn align(x: Pos, step: Pos) -> Pos {
    match (x, step) {
        (Pos::Int(x), Pos::Int(d)) => Pos::Int(x.div_euclid(d) * d),
        _ => Pos::Real((as_f64(x) / as_f64(step)).floor() * as_f64(step)),
    }
}

fn nth(start: Pos, step: Pos, k: i128) -> Pos {
    match (start, step) {
        (Pos::Int(s), Pos::Int(d)) => Pos::Int(s + k * d),
        _ => Pos::Real(as_f64(start) + k as f64 * as_f64(step)),
    }
}

fn axis_value(p: Pos, ty: Type) -> Value {
    match (p, ty) {
        (Pos::Int(i), Type::DateTime) => Value::DateTime(i as i64),
        (Pos::Int(i), Type::Timespan) => Value::Timespan(i as i64),
        (Pos::Int(i), Type::Real) => Value::Real(i as f64),
        (Pos::Int(i), _) => Value::Long(i as i64),
        (Pos::Real(x), _) => Value::Real(x),
    }
}

fn constant(e: &Expr, ctx: &Ctx) -> Result<Value, Diagnostic> {
    Ok(compile(e, ctx)?(&[]))
}

pub fn make_series(
    rows: Vec<Row>,
    by: &[(String, Expr)],
    aggs: &[SeriesAgg],
    axis: &Expr,
    bins: &SeriesBins,
    nonempty: bool,
    ctx: &Ctx,
) -> Result<Vec<Row>, Diagnostic> {
    let bad = |what: &str| Diagnostic::error(codes::EVAL, format!("make-series: {what}"));
    let step = pos(&constant(&bins.step, ctx)?)
        .filter(|s| as_f64(*s) > 0.0)
        .ok_or_else(|| bad("the step must be a positive number or timespan"))?;
    let bound = |e: &Option<Expr>| -> Result<Option<Pos>, Diagnostic> {
        match e {
            None => Ok(None),
            Some(e) => pos(&constant(e, ctx)?)
                .map(Some)
                .ok_or_else(|| bad("a bound of the axis is null or not a number")),
        }
    };
    let (start, end) = (bound(&bins.start)?, bound(&bins.end)?);
    let axis_f = compile(axis, ctx)?;
    let keys: Vec<_> = by
        .iter()
        .map(|(_, e)| compile(e, ctx))
        .collect::<Result<_, _>>()?;
    let comp: Vec<Compiled1> = aggs
        .iter()
        .map(|a| Compiled1::new(&a.agg, ctx))
        .collect::<Result<_, _>>()?;
    let positions: Vec<Option<Pos>> = rows.iter().map(|r| pos(&axis_f(r))).collect();
    // Bounds the data must supply: the first and last bins holding a row (over all groups).
    let data_min = positions
        .iter()
        .flatten()
        .copied()
        .reduce(|a, b| if b < a { b } else { a });
    let data_max = positions
        .iter()
        .flatten()
        .copied()
        .reduce(|a, b| if b > a { b } else { a });
    let (first, count) = if bins.range_syntax {
        // `in range(a, b, step)`: bins by `bin()`, `b`'s bin included.
        let (a, b) = (start.unwrap(), end.unwrap());
        let first = align(a, step);
        (first, bin_of(b, first, step) + 1)
    } else {
        let first = match (start, data_min) {
            (Some(s), _) => Some(s),
            (None, Some(m)) => Some(align(m, step)),
            (None, None) => None,
        };
        match first {
            None => (Pos::Int(0), 0),
            Some(first) => {
                let count = match (end, data_max) {
                    // Values first + k*step below `end`.
                    (Some(e), _) => {
                        let k = bin_of(e, first, step);
                        if nth(first, step, k) < e {
                            k + 1
                        } else {
                            k
                        }
                    }
                    (None, Some(m)) => bin_of(m, first, step) + 1,
                    (None, None) => 0,
                };
                (first, count)
            }
        }
    };
    let count = count.max(0);
    if count > MAX_BINS {
        return Err(bad(&format!(
            "{count} bins exceed the limit of {MAX_BINS} values per series"
        )));
    }
    let n = count as usize;
    let mut groups: HashMap<Vec<KeyCell>, usize> = HashMap::new();
    type Bins = HashMap<usize, Vec<State>>;
    let mut out: Vec<(Row, Bins)> = Vec::new();
    for (r, p) in rows.iter().zip(&positions) {
        let Some(p) = p else { continue };
        let k = bin_of(*p, first, step);
        if k < 0 || k >= count {
            continue;
        }
        let kv: Row = keys.iter().map(|f| f(r)).collect();
        let kc: Vec<KeyCell> = kv.iter().map(key_cell).collect();
        let g = *groups.entry(kc).or_insert_with(|| {
            out.push((kv, HashMap::new()));
            out.len() - 1
        });
        let states = out[g]
            .1
            .entry(k as usize)
            .or_insert_with(|| comp.iter().map(|c| init(c.func())).collect());
        for (c, st) in comp.iter().zip(states.iter_mut()) {
            c.update(st, r);
        }
    }
    if out.is_empty() && by.is_empty() && nonempty {
        out.push((Vec::new(), HashMap::new()));
    }
    let defaults: Vec<serde_json::Value> = aggs
        .iter()
        .map(|a| constant(&a.default, ctx).map(|v| v.to_json()))
        .collect::<Result<_, _>>()?;
    let axis_json: Vec<serde_json::Value> = (0..count)
        .map(|k| axis_value(nth(first, step, k), axis.ty).to_json())
        .collect();
    let axis_cell = Value::Dynamic(Arc::new(serde_json::Value::Array(axis_json)));
    Ok(out
        .into_iter()
        .map(|(mut row, mut bins)| {
            for (i, (a, c)) in aggs.iter().zip(&comp).enumerate() {
                let series: Vec<serde_json::Value> = (0..n)
                    .map(|k| match bins.get_mut(&k) {
                        Some(states) => {
                            let st = std::mem::replace(&mut states[i], init(c.func()));
                            finish(st, a.agg.func, a.agg.ty, c.limit()).to_json()
                        }
                        None => defaults[i].clone(),
                    })
                    .collect();
                row.push(Value::Dynamic(Arc::new(serde_json::Value::Array(series))));
            }
            row.push(axis_cell.clone());
            row
        })
        .collect())
}
