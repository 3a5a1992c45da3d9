//! What the newer SQL dialects (Spark, Snowflake, BigQuery) emit: the core of the IR that the
//! emitter spells for them on purpose. Anything outside it is reported unsupported with a
//! reason, instead of being spelled the way another dialect would (which could run and give
//! different rows). DuckDB, PostgreSQL and SQLite are not limited here.
//!
//! The core: scans, filters, extend/project, distinct, sort/top/take, summarize with the
//! counting, summing and extreme aggregates, joins of every kind, unions, `datatable`,
//! `mv-expand` of one column; string operators (`has` with constant terms), `in`, `between`,
//! and the functions of [`FUNCS`].

use super::sql::{Dialect, DialectKind};
use super::Unsupported;
use crate::ir::{Agg, AggFunc, Expr, ExprKind, Func, Node, Op};
use crate::types::Type;

/// Scalar functions of the core.
const FUNCS: &[Func] = &[
    Func::ToLower,
    Func::ToUpper,
    Func::Strlen,
    Func::IsEmpty,
    Func::IsNotEmpty,
    Func::IsNull,
    Func::IsNotNull,
    Func::Not,
    Func::Iff,
    Func::Case,
    Func::Coalesce,
    Func::Now,
    Func::Ago,
    Func::Strcat,
    Func::ToString,
    Func::ToLong,
    Func::ToInt,
    Func::ToReal,
    Func::Bin,
    Func::Abs,
    Func::ReplaceString,
    Func::MatchesRegex,
    Func::Extract,
    Func::GetItem,
    Func::ToDynamic,
];

fn refuse(d: &Dialect, what: &str) -> Result<(), Unsupported> {
    Err(Unsupported {
        construct: what.to_string(),
        reason: format!("not emitted to {} yet", d.name),
    })
}

pub fn check_func(d: &Dialect, f: Func, args: &[Expr]) -> Result<(), Unsupported> {
    if !d.kind.core_only() {
        return Ok(());
    }
    if !FUNCS.contains(&f) {
        return refuse(d, f.kql());
    }
    let ty = |i: usize| args.get(i).map(|a| a.ty);
    let ok = match f {
        Func::ToLower | Func::ToUpper | Func::Strlen => ty(0) == Some(Type::String),
        Func::ToString => matches!(
            ty(0),
            Some(
                Type::String
                    | Type::Guid
                    | Type::Dynamic
                    | Type::Long
                    | Type::Int
                    | Type::Bool
                    | Type::DateTime
            )
        ),
        Func::Strcat => args.iter().all(|a| {
            matches!(
                a.ty,
                Type::String | Type::Guid | Type::Dynamic | Type::Long | Type::Int | Type::Bool
            ) || a.ty == Type::DateTime
        }),
        Func::ToLong | Func::ToInt | Func::ToReal => {
            matches!(ty(0), Some(t) if t.is_numeric() || t == Type::String)
        }
        Func::Bin => {
            matches!(ty(0), Some(t) if t.is_integer() || t == Type::Real || t == Type::DateTime)
        }
        // A group chosen by a constant, from a constant pattern, as text.
        // Snowflake's REGEXP_SUBSTR documents groups from 1.
        Func::Extract => {
            d.kind != DialectKind::BigQuery
                && args.len() == 3
                && matches!(args[0].kind, ExprKind::Literal(_))
                && match args[1].kind {
                    ExprKind::Literal(crate::value::Value::Long(g)) => {
                        g >= 1 || (g == 0 && d.kind == DialectKind::Spark)
                    }
                    _ => false,
                }
        }
        Func::MatchesRegex => args[0].ty != Type::Dynamic,
        Func::ToDynamic => matches!(ty(0), Some(Type::String | Type::Dynamic)),
        Func::GetItem => match &args[1].kind {
            ExprKind::Literal(crate::value::Value::String(_)) => true,
            ExprKind::Literal(crate::value::Value::Long(i)) => *i >= 0,
            _ => false,
        },
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        let tys: Vec<String> = args.iter().map(|a| a.ty.to_string()).collect();
        refuse(d, &format!("{}({})", f.kql(), tys.join(", ")))
    }
}

pub fn check_agg(d: &Dialect, a: &Agg) -> Result<(), Unsupported> {
    if !d.kind.core_only() {
        return Ok(());
    }
    let ok = match a.func {
        AggFunc::Count | AggFunc::CountIf => true,
        AggFunc::DCount
        | AggFunc::DCountIf
        | AggFunc::Min
        | AggFunc::Max
        | AggFunc::Any
        | AggFunc::Sum
        | AggFunc::SumIf
        | AggFunc::Avg => a.limit.is_none() && !matches!(a.args[0].ty, Type::Dynamic | Type::Bool),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        refuse(d, a.func.kql())
    }
}

pub fn check_node(d: &Dialect, node: &Node) -> Result<(), Unsupported> {
    if !d.kind.core_only() {
        return Ok(());
    }
    match &node.op {
        Op::Scan { .. }
        | Op::External { .. }
        | Op::Filter { .. }
        | Op::Extend { .. }
        | Op::Project { .. }
        | Op::Distinct { .. }
        | Op::Take { .. }
        | Op::Sort { .. }
        | Op::Summarize { .. }
        | Op::Values { .. }
        | Op::Union { .. }
        | Op::Join { .. } => Ok(()),
        Op::Serialize { items, .. } if items.is_empty() => Ok(()),
        Op::MvExpand {
            columns,
            with_index,
            limit,
            ..
        } if columns.len() == 1
            && !*with_index
            && limit.is_none()
            && matches!(columns[0].1, None | Some(Type::Dynamic | Type::String)) =>
        {
            Ok(())
        }
        Op::MvExpand { .. } => refuse(
            d,
            "mv-expand of several columns, with an index, a limit or to a non-string type",
        ),
        Op::MvApply { .. } => refuse(d, "mv-apply"),
        Op::BagUnpack { .. } => refuse(d, "evaluate bag_unpack"),
        Op::Pivot { .. } => refuse(d, "evaluate pivot"),
        Op::MakeSeries { .. } => refuse(d, "make-series"),
        Op::Serialize { .. } => refuse(d, "serialize with row functions"),
        Op::OuterRow => refuse(d, "mv-apply"),
    }
}

pub fn check_expr(d: &Dialect, e: &Expr) -> Result<(), Unsupported> {
    if !d.kind.core_only() {
        return Ok(());
    }
    let constant = |e: &Expr| matches!(e.kind, ExprKind::Literal(_));
    match &e.kind {
        // Dynamic values compare only with numbers (as JSON numbers).
        ExprKind::Binary { lhs, rhs, .. }
            if lhs.ty == Type::Dynamic && rhs.ty == Type::Dynamic =>
        {
            refuse(d, "comparison of two dynamic values")
        }
        ExprKind::Str {
            op: crate::ir::StrOp::Has,
            rhs,
            ..
        } if !constant(rhs) => refuse(d, "has with a term computed at run time"),
        ExprKind::In { items, .. }
            if items.iter().any(|i| {
                i.ty == Type::Dynamic
                    || matches!(&i.kind, ExprKind::Subquery { plan, .. } if plan.schema[0].ty == Type::Dynamic)
            }) =>
        {
            refuse(d, "in over a dynamic list")
        }
        ExprKind::HasAny { terms, .. } if !terms.iter().all(constant) => {
            refuse(d, "has_any/has_all with terms computed at run time")
        }
        _ => Ok(()),
    }
}
