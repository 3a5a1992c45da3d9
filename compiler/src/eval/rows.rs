//! Row functions (`prev`, `next`, `row_number`, `row_cumsum`, `row_rank_dense`,
//! `row_rank_min`, `row_window_session`) over a serialized row set, in row order.
//!
//! Choices where the docs are silent (docs/semantics.md, "Row functions"): a null restart
//! does not restart; `row_cumsum` skips null terms; ranks compare terms by equality, so two
//! nulls are the same term.

use super::compile::{compile, Compiled, Ctx};
use super::Row;
use crate::diagnostics::Diagnostic;
use crate::ir::{RowFunc, RowFuncKind};
use crate::value::Value;

/// Appends each item's column to `rows`, which are in serialized order.
pub fn append(
    mut rows: Vec<Row>,
    items: &[(String, RowFunc)],
    ctx: &Ctx,
) -> Result<Vec<Row>, Diagnostic> {
    for (_, f) in items {
        let column = values(&rows, f, ctx)?;
        for (r, v) in rows.iter_mut().zip(column) {
            r.push(v);
        }
    }
    Ok(rows)
}

fn values(rows: &[Row], f: &RowFunc, ctx: &Ctx) -> Result<Vec<Value>, Diagnostic> {
    let args: Vec<Compiled> = f
        .args
        .iter()
        .map(|e| compile(e, ctx))
        .collect::<Result<_, _>>()?;
    let restart = f.restart.as_ref().map(|e| compile(e, ctx)).transpose()?;
    // Where a new partition starts: the first row, and every row whose restart is true.
    let starts: Vec<bool> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| i == 0 || restart.as_ref().is_some_and(|p| p(r) == Value::Bool(true)))
        .collect();
    let arg = |k: usize| -> Vec<Value> { rows.iter().map(|r| args[k](r)).collect() };
    Ok(match f.kind {
        RowFuncKind::Prev(n) | RowFuncKind::Next(n) => {
            let value = arg(0);
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            (0..rows.len())
                .map(|i| {
                    let j = match f.kind {
                        RowFuncKind::Prev(_) => i.checked_sub(n),
                        _ => i.checked_add(n).filter(|j| *j < rows.len()),
                    };
                    match j {
                        Some(j) => value[j].clone(),
                        None => args[1](&rows[i]),
                    }
                })
                .collect()
        }
        RowFuncKind::RowNumber => {
            let start = arg(0);
            let mut cur = Value::Null;
            (0..rows.len())
                .map(|i| {
                    cur = match (&cur, starts[i]) {
                        (_, true) => start[i].clone(),
                        (Value::Long(n), false) => Value::Long(n.wrapping_add(1)),
                        _ => Value::Null,
                    };
                    cur.clone()
                })
                .collect()
        }
        RowFuncKind::Cumsum => {
            let term = arg(0);
            let mut acc = Value::Null;
            (0..rows.len())
                .map(|i| {
                    if starts[i] {
                        acc = Value::Null;
                    }
                    acc = match (&acc, &term[i]) {
                        (a, Value::Null) => a.clone(),
                        (Value::Null, t) => t.clone(),
                        (Value::Long(a), Value::Long(t)) => Value::Long(a.wrapping_add(*t)),
                        (Value::Real(a), Value::Real(t)) => Value::Real(a + t),
                        _ => Value::Null,
                    };
                    match (&acc, f.ty) {
                        (Value::Null, crate::types::Type::Real) => Value::Real(0.0),
                        (Value::Null, _) => Value::Long(0),
                        (a, _) => a.clone(),
                    }
                })
                .collect()
        }
        RowFuncKind::RankDense | RowFuncKind::RankMin => {
            let term = arg(0);
            let (mut rank, mut number) = (0i64, 0i64);
            (0..rows.len())
                .map(|i| {
                    if starts[i] {
                        (rank, number) = (1, 1);
                    } else {
                        number += 1;
                        if term[i] != term[i - 1] {
                            rank = if f.kind == RowFuncKind::RankDense {
                                rank + 1
                            } else {
                                number
                            };
                        }
                    }
                    Value::Long(rank)
                })
                .collect()
        }
        RowFuncKind::WindowSession => window_session(rows, &args, &starts),
    })
}

/// Each row's session start. A row starts a session when there is none (first row, or
/// after a null), when it is at or past the session's start plus the first distance, at or
/// past the previous value plus the second distance, or when restart is true.
fn window_session(rows: &[Row], args: &[Compiled], starts: &[bool]) -> Vec<Value> {
    let mut session: Option<i64> = None;
    let mut previous: Option<i64> = None;
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let (v, from_first, between) = (args[0](r), args[1](r), args[2](r));
            let Value::DateTime(v) = v else {
                (session, previous) = (None, None);
                return Value::Null;
            };
            let past = |base: Option<i64>, d: &Value| match (base, d) {
                (Some(b), Value::Timespan(d)) => v >= b.saturating_add(*d),
                _ => true,
            };
            if starts[i] || past(session, &from_first) || past(previous, &between) {
                session = Some(v);
            }
            previous = Some(v);
            Value::DateTime(session.expect("set above"))
        })
        .collect()
}
