//! Stage 4: native evaluation of the IR with KQL's semantics (see docs/semantics.md).
//!
//! Expressions are compiled once into closures ([`compile`]); operators then run over rows.
//! This first version materialises each operator's output; predicates sit below joins as the
//! rule writes them. Streaming and parallel scans are the performance issue's work.

pub mod aggregate;
pub mod compile;
pub mod data;
pub mod functions;
pub mod make_series;
pub mod rows;
pub mod scan;
pub mod series;
pub mod strings;
pub mod xml;

use crate::diagnostics::{codes, Diagnostic};
use crate::ir::{JoinKind, Node, Op};
use crate::types::Type;
use crate::value::Value;
use compile::{compile, Ctx};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub type Row = Vec<Value>;

/// The input tables, by name, each with rows in its schema's column order.
#[derive(Default, Debug, Clone)]
pub struct Data {
    pub tables: HashMap<String, Arc<Vec<Row>>>,
    /// The row an `mv-apply` body is running for ([`Op::OuterRow`]).
    pub outer_row: Option<Row>,
}

/// Runs a plan whose parameters are bound.
pub fn run(plan: &Node, data: &Data, ctx: &Ctx) -> Result<Vec<Row>, Diagnostic> {
    eval(plan, data, ctx)
}

/// Replaces each sub-query by its values: the items of an `in`/`has_any` list, or a scalar.
fn materialize(e: &mut crate::ir::Expr, data: &Data, ctx: &Ctx, err: &mut Option<Diagnostic>) {
    use crate::ir::{Expr, ExprKind};
    let values = |plan: &Node, err: &mut Option<Diagnostic>| -> Vec<Value> {
        match eval(plan, data, ctx) {
            Ok(rows) => rows.into_iter().map(|mut r| r.swap_remove(0)).collect(),
            Err(d) => {
                err.get_or_insert(d);
                Vec::new()
            }
        }
    };
    match &mut e.kind {
        ExprKind::In { items, .. } | ExprKind::HasAny { terms: items, .. } => {
            let mut out = Vec::new();
            for it in items.drain(..) {
                match it.kind {
                    ExprKind::Subquery {
                        plan,
                        scalar: false,
                    } => {
                        let ty = it.ty;
                        out.extend(
                            values(&plan, err)
                                .into_iter()
                                .filter(|v| !v.is_null())
                                .map(|v| Expr::lit(v, ty)),
                        );
                    }
                    _ => out.push(it),
                }
            }
            *items = out;
        }
        ExprKind::Subquery { plan, .. } => {
            let ty = e.ty;
            let v = values(plan, err)
                .into_iter()
                .next()
                .unwrap_or_else(|| Value::missing(ty));
            e.kind = ExprKind::Literal(v);
            return;
        }
        _ => {}
    }
    for c in e.children_mut() {
        materialize(c, data, ctx, err);
    }
}

fn eval(node: &Node, data: &Data, ctx: &Ctx) -> Result<Vec<Row>, Diagnostic> {
    if node.own_exprs().into_iter().any(|e| e.has_subquery()) {
        let mut n = node.clone();
        let mut err = None;
        n.exprs_mut(&mut |e| materialize(e, data, ctx, &mut err));
        if let Some(d) = err {
            return Err(d);
        }
        return eval(&n, data, ctx);
    }
    Ok(match &node.op {
        Op::Scan { table } => match data.tables.get(table) {
            Some(rows) => rows.as_ref().clone(),
            None => {
                return Err(Diagnostic::error(
                    codes::MISSING_TABLE,
                    format!("no data for table `{table}`"),
                ))
            }
        },
        Op::Filter { input, predicate } => {
            let p = compile(predicate, ctx)?;
            let mut rows = eval(input, data, ctx)?;
            rows.retain(|r| matches!(p(r), Value::Bool(true)));
            rows
        }
        Op::Extend { input, items } => {
            let compiled: Vec<_> = items
                .iter()
                .map(|(_, slot, e)| compile(e, ctx).map(|f| (*slot, f)))
                .collect::<Result<_, _>>()?;
            let rows = eval(input, data, ctx)?;
            rows.into_iter()
                .map(|mut r| {
                    let vals: Vec<Value> = compiled.iter().map(|(_, f)| f(&r)).collect();
                    for ((slot, _), v) in compiled.iter().zip(vals) {
                        match slot {
                            Some(i) => r[*i] = v,
                            None => r.push(v),
                        }
                    }
                    r
                })
                .collect()
        }
        Op::Project { input, items } => {
            let compiled: Vec<_> = items
                .iter()
                .map(|(_, e)| compile(e, ctx))
                .collect::<Result<_, _>>()?;
            let rows = eval(input, data, ctx)?;
            rows.iter()
                .map(|r| compiled.iter().map(|f| f(r)).collect())
                .collect()
        }
        Op::MvExpand {
            input,
            columns,
            bag_array,
            with_index,
            limit,
        } => {
            let rows = eval(input, data, ctx)?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let lists: Vec<Vec<Value>> = columns.iter().map(|(c, _)| expand_items(&r[*c], *bag_array)).collect();
                let mut n = lists.iter().map(Vec::len).max().unwrap_or(0);
                if let Some(l) = limit {
                    n = n.min(*l as usize);
                }
                for k in 0..n {
                    let mut nr = r.clone();
                    for ((c, t), list) in columns.iter().zip(&lists) {
                        let it = list.get(k).cloned().unwrap_or(Value::Null);
                        nr[*c] = match t {
                            Some(t) => compile::cast_dynamic(&it, *t),
                            None => it,
                        };
                    }
                    if *with_index {
                        nr.push(Value::Long(k as i64));
                    }
                    out.push(nr);
                }
            }
            out
        }
        Op::Distinct { input } => {
            let rows = eval(input, data, ctx)?;
            let mut seen = HashSet::new();
            rows.into_iter()
                .filter(|r| seen.insert(key_of(r, &(0..r.len()).collect::<Vec<_>>())))
                .collect()
        }
        Op::Join {
            kind,
            left,
            right,
            keys,
        } => {
            let l = eval(left, data, ctx)?;
            let r = eval(right, data, ctx)?;
            join(
                *kind,
                l,
                r,
                keys,
                left.schema.iter().map(|c| c.ty).collect(),
                right.schema.iter().map(|c| c.ty).collect(),
            )
        }
        Op::Union { legs } => {
            let mut out = Vec::new();
            for (leg, map) in legs {
                for r in eval(leg, data, ctx)? {
                    out.push(
                        map.iter()
                            .zip(&node.schema)
                            .map(|(m, c)| match m {
                                Some(i) => r[*i].clone(),
                                None => Value::missing(c.ty),
                            })
                            .collect(),
                    );
                }
            }
            out
        }
        Op::Values { rows } => rows.clone(),
        Op::External { name, .. } => match data.tables.get(name) {
            Some(rows) => rows.as_ref().clone(),
            None => {
                return Err(Diagnostic::error(
                    codes::MISSING_TABLE,
                    format!("externaldata: no data for `{name}` (detc never downloads; put {name}.jsonl in the data folder)"),
                ))
            }
        },
        Op::Sort { input, keys } => {
            let compiled: Vec<_> = keys
                .iter()
                .map(|k| compile(&k.expr, ctx))
                .collect::<Result<_, _>>()?;
            let rows = eval(input, data, ctx)?;
            let mut keyed: Vec<(Vec<Value>, Row)> = rows
                .into_iter()
                .map(|r| (compiled.iter().map(|f| f(&r)).collect(), r))
                .collect();
            keyed.sort_by(|(a, _), (b, _)| {
                for ((x, y), k) in a.iter().zip(b).zip(keys) {
                    let o = match (x.is_null(), y.is_null()) {
                        (true, true) => std::cmp::Ordering::Equal,
                        (true, false) => {
                            if k.nulls_first {
                                std::cmp::Ordering::Less
                            } else {
                                std::cmp::Ordering::Greater
                            }
                        }
                        (false, true) => {
                            if k.nulls_first {
                                std::cmp::Ordering::Greater
                            } else {
                                std::cmp::Ordering::Less
                            }
                        }
                        _ => {
                            let o = x.total_cmp(y);
                            if k.desc {
                                o.reverse()
                            } else {
                                o
                            }
                        }
                    };
                    if o != std::cmp::Ordering::Equal {
                        return o;
                    }
                }
                std::cmp::Ordering::Equal
            });
            keyed.into_iter().map(|(_, r)| r).collect()
        }
        Op::Serialize { input, items } => rows::append(eval(input, data, ctx)?, items, ctx)?,
        Op::Summarize { input, by, aggs } => {
            aggregate::summarize(eval(input, data, ctx)?, by, aggs, ctx)?
        }
        Op::BagUnpack { input, .. } => eval(input, data, ctx)?,
        Op::Pivot {
            input,
            column,
            agg,
            by,
        } => aggregate::pivot(eval(input, data, ctx)?, column, agg, by, ctx)?,
        Op::OuterRow => match &data.outer_row {
            Some(r) => vec![r.clone()],
            None => {
                return Err(Diagnostic::error(
                    codes::EVAL,
                    "internal: an mv-apply body ran outside mv-apply",
                ))
            }
        },
        Op::MvApply { input, body, keep } => {
            let sources = crate::ir::mv_apply_output(input, body, keep);
            let mut out = Vec::new();
            let mut inner = data.clone();
            for r in eval(input, data, ctx)? {
                let outer = r.clone();
                inner.outer_row = Some(r);
                for b in eval(body, &inner, ctx)? {
                    let row = sources
                        .iter()
                        .map(|s| match *s {
                            crate::ir::ApplySource::Input(i) => outer[i].clone(),
                            crate::ir::ApplySource::Body(j) => b[j].clone(),
                        })
                        .collect();
                    out.push(row);
                }
            }
            out
        }
        Op::MakeSeries {
            input,
            by,
            aggs,
            axis,
            bins,
            nonempty,
        } => make_series::make_series(eval(input, data, ctx)?, by, aggs, axis, bins, *nonempty, ctx)?,
        Op::Take { input, count } => {
            let mut rows = eval(input, data, ctx)?;
            rows.truncate(*count as usize);
            rows
        }
    })
}

/// The elements one mv-expand cell gives: array elements, one entry per bag property, the
/// value itself for a scalar (docs/semantics.md), one null for null.
fn expand_items(v: &Value, bag_array: bool) -> Vec<Value> {
    match v {
        Value::Dynamic(d) => match &**d {
            serde_json::Value::Array(a) => a
                .iter()
                .map(|x| Value::Dynamic(Arc::new(x.clone())))
                .collect(),
            serde_json::Value::Object(m) => m
                .iter()
                .map(|(k, v)| {
                    let j = if bag_array {
                        serde_json::Value::Array(vec![
                            serde_json::Value::String(k.clone()),
                            v.clone(),
                        ])
                    } else {
                        let mut one = serde_json::Map::new();
                        one.insert(k.clone(), v.clone());
                        serde_json::Value::Object(one)
                    };
                    Value::Dynamic(Arc::new(j))
                })
                .collect(),
            _ => vec![Value::Dynamic(d.clone())],
        },
        other => vec![other.clone()],
    }
}

/// A hashable form of some cells. Numbers compare by value across long and real.
#[derive(Hash, PartialEq, Eq, Debug, Clone)]
pub enum KeyCell {
    Null,
    Bool(bool),
    Int(i64),
    Real(u64),
    Str(Arc<str>),
    Time(i64),
    Json(String),
}

pub(crate) fn key_cell(v: &Value) -> KeyCell {
    match v {
        Value::Null => KeyCell::Null,
        Value::Bool(b) => KeyCell::Bool(*b),
        Value::Long(n) => KeyCell::Int(*n),
        Value::Real(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => KeyCell::Int(*x as i64),
        Value::Real(x) => KeyCell::Real(x.to_bits()),
        Value::String(s) => KeyCell::Str(s.clone()),
        Value::DateTime(t) | Value::Timespan(t) => KeyCell::Time(*t),
        Value::Dynamic(d) => KeyCell::Json(d.to_string()),
    }
}

fn key_of(r: &[Value], cols: &[usize]) -> Vec<KeyCell> {
    cols.iter().map(|&i| key_cell(&r[i])).collect()
}

/// innerunique's left side: one row per key, the least by the row's non-dynamic columns in
/// order (nulls first, strings by code point), so every target keeps the same row
/// (docs/semantics.md); keys in order of first appearance.
fn unique_left(left: Vec<Row>, lk: &[usize], lt: &[Type]) -> Vec<Row> {
    let cols: Vec<usize> = (0..lt.len()).filter(|&i| lt[i] != Type::Dynamic).collect();
    let mut pos: HashMap<Vec<KeyCell>, usize> = HashMap::new();
    let mut kept: Vec<Row> = Vec::new();
    for r in left {
        match pos.get(&key_of(&r, lk)) {
            Some(&i) => {
                let less = cols
                    .iter()
                    .map(|&c| cell_order(&r[c], &kept[i][c]))
                    .find(|o| o.is_ne())
                    == Some(std::cmp::Ordering::Less);
                if less {
                    kept[i] = r;
                }
            }
            None => {
                pos.insert(key_of(&r, lk), kept.len());
                kept.push(r);
            }
        }
    }
    kept
}

/// SQL's `ORDER BY c ASC NULLS FIRST` on one column's values.
fn cell_order(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (a, b) {
        (Value::Null, Value::Null) => Equal,
        (Value::Null, _) => Less,
        (_, Value::Null) => Greater,
        (Value::Long(x), Value::Long(y)) => x.cmp(y),
        (Value::Real(x), Value::Real(y)) => x.partial_cmp(y).unwrap_or(Equal),
        (Value::Long(x), Value::Real(y)) => (*x as f64).partial_cmp(y).unwrap_or(Equal),
        (Value::Real(x), Value::Long(y)) => x.partial_cmp(&(*y as f64)).unwrap_or(Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::DateTime(x), Value::DateTime(y)) | (Value::Timespan(x), Value::Timespan(y)) => {
            x.cmp(y)
        }
        _ => Equal,
    }
}

fn join(
    kind: JoinKind,
    left: Vec<Row>,
    right: Vec<Row>,
    keys: &[(usize, usize)],
    lt: Vec<Type>,
    rt: Vec<Type>,
) -> Vec<Row> {
    let lk: Vec<usize> = keys.iter().map(|k| k.0).collect();
    let rk: Vec<usize> = keys.iter().map(|k| k.1).collect();
    // Null keys never match (docs/semantics.md); strings are never null, so "" matches "".
    let has_null = |k: &[KeyCell]| k.contains(&KeyCell::Null);
    let left = if kind == JoinKind::InnerUnique {
        unique_left(left, &lk, &lt)
    } else {
        left
    };
    let mut index: HashMap<Vec<KeyCell>, Vec<usize>> = HashMap::new();
    for (i, r) in right.iter().enumerate() {
        let k = key_of(r, &rk);
        if !has_null(&k) {
            index.entry(k).or_default().push(i);
        }
    }
    let null_right: Row = rt.iter().map(|t| Value::missing(*t)).collect();
    let null_left: Row = lt.iter().map(|t| Value::missing(*t)).collect();
    let mut out = Vec::new();
    let mut right_matched = vec![false; right.len()];
    for l in &left {
        let k = key_of(l, &lk);
        let matches: &[usize] = if has_null(&k) {
            &[]
        } else {
            index.get(&k).map(|v| v.as_slice()).unwrap_or(&[])
        };
        for &m in matches {
            right_matched[m] = true;
        }
        match kind {
            JoinKind::InnerUnique
            | JoinKind::Inner
            | JoinKind::LeftOuter
            | JoinKind::FullOuter
            | JoinKind::RightOuter => {
                for &m in matches {
                    let mut row = l.clone();
                    row.extend(right[m].iter().cloned());
                    out.push(row);
                }
                if matches.is_empty() && matches!(kind, JoinKind::LeftOuter | JoinKind::FullOuter) {
                    let mut row = l.clone();
                    row.extend(null_right.iter().cloned());
                    out.push(row);
                }
            }
            JoinKind::LeftSemi if !matches.is_empty() => out.push(l.clone()),
            JoinKind::LeftAnti if matches.is_empty() => out.push(l.clone()),
            _ => {}
        }
    }
    match kind {
        JoinKind::RightOuter | JoinKind::FullOuter => {
            for (i, r) in right.iter().enumerate() {
                if !right_matched[i] {
                    let mut row = null_left.clone();
                    row.extend(r.iter().cloned());
                    out.push(row);
                }
            }
        }
        JoinKind::RightSemi => out.extend(
            right
                .iter()
                .enumerate()
                .filter(|(i, _)| right_matched[*i])
                .map(|(_, r)| r.clone()),
        ),
        JoinKind::RightAnti => out.extend(
            right
                .iter()
                .enumerate()
                .filter(|(i, _)| !right_matched[*i])
                .map(|(_, r)| r.clone()),
        ),
        _ => {}
    }
    out
}
