//! Lineage: which source column (and which path inside a dynamic column) a plan column or an
//! expression reads. Fixture synthesis puts the values a predicate tests into those source
//! cells. The lineage is followed through renames, conversions, member access, joins, unions,
//! `summarize ... by` keys and `mv-expand`; a computed value (`strcat(a, b)`) has none.

use crate::ir::{ApplySource, Expr, ExprKind, Func, JoinKind, Node, Op};
use crate::value::Value;

/// One step into a dynamic value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    Key(String),
    /// An element of an array (`mv-expand`, `d[0]`).
    Element,
}

/// A source cell: a table's column and a path into it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Origin {
    pub table: String,
    pub column: String,
    pub path: Vec<Step>,
}

/// The input an `mv-apply` body's [`Op::OuterRow`] stands for, innermost last.
pub type Outer<'a> = Vec<&'a Node>;

/// The source cells plan column `index` of `node` reads.
pub fn of_column(node: &Node, index: usize, outer: &Outer) -> Vec<Origin> {
    match &node.op {
        Op::Scan { table } => cell(table, node, index),
        Op::External { name, .. } => cell(name, node, index),
        Op::OuterRow => match outer.split_last() {
            Some((last, rest)) => of_column(last, index, &rest.to_vec()),
            None => vec![],
        },
        Op::Filter { input, .. }
        | Op::Take { input, .. }
        | Op::Sort { input, .. }
        | Op::Distinct { input } => of_column(input, index, outer),
        Op::Serialize { input, .. } if index < input.schema.len() => of_column(input, index, outer),
        Op::BagUnpack { input, column } if index != *column => of_column(input, index, outer),
        Op::Extend { input, items } => {
            if let Some((_, _, e)) = items.iter().find(|(_, slot, _)| *slot == Some(index)) {
                return of_expr(input, e, outer);
            }
            if index < input.schema.len() {
                return of_column(input, index, outer);
            }
            let appended: Vec<&Expr> = items
                .iter()
                .filter(|(_, slot, _)| slot.is_none())
                .map(|(_, _, e)| e)
                .collect();
            appended
                .get(index - input.schema.len())
                .map(|e| of_expr(input, e, outer))
                .unwrap_or_default()
        }
        Op::Project { input, items } => items
            .get(index)
            .map(|(_, e)| of_expr(input, e, outer))
            .unwrap_or_default(),
        Op::Join {
            kind, left, right, ..
        } => match kind {
            JoinKind::LeftSemi | JoinKind::LeftAnti => of_column(left, index, outer),
            JoinKind::RightSemi | JoinKind::RightAnti => of_column(right, index, outer),
            _ if index < left.schema.len() => of_column(left, index, outer),
            _ => of_column(right, index - left.schema.len(), outer),
        },
        Op::Union { legs } => legs
            .iter()
            .filter_map(|(leg, map)| map.get(index).copied().flatten().map(|j| (leg, j)))
            .flat_map(|(leg, j)| of_column(leg, j, outer))
            .collect(),
        Op::Summarize { input, by, aggs } => {
            if let Some((_, e)) = by.get(index) {
                return of_expr(input, e, outer);
            }
            // min/max/any of a column keep its values.
            match aggs.get(index - by.len()) {
                Some((_, a)) if !a.args.is_empty() => of_expr(input, &a.args[0], outer),
                _ => vec![],
            }
        }
        Op::MakeSeries { input, by, .. } | Op::Pivot { input, by, .. } => by
            .get(index)
            .map(|(_, e)| of_expr(input, e, outer))
            .unwrap_or_default(),
        Op::MvExpand { input, columns, .. } => {
            let mut o = of_column(input, index, outer);
            if columns.iter().any(|(c, _)| *c == index) {
                o.iter_mut().for_each(|o| o.path.push(Step::Element));
            }
            o
        }
        Op::MvApply { input, body, keep } => {
            match crate::ir::mv_apply_output(input, body, keep).get(index) {
                Some(ApplySource::Input(i)) => of_column(input, *i, outer),
                Some(ApplySource::Body(j)) => {
                    let mut inner = outer.clone();
                    inner.push(input);
                    of_column(body, *j, &inner)
                }
                None => vec![],
            }
        }
        Op::Serialize { .. } | Op::BagUnpack { .. } | Op::Values { .. } => vec![],
    }
}

fn cell(table: &str, node: &Node, index: usize) -> Vec<Origin> {
    node.schema
        .get(index)
        .map(|c| Origin {
            table: table.to_string(),
            column: c.name.clone(),
            path: vec![],
        })
        .into_iter()
        .collect()
}

/// The source cells expression `e` (over the rows of `input`) passes through unchanged up to
/// a conversion or a change of case: a column, a member or element of one, `tostring(...)`.
pub fn of_expr(input: &Node, e: &Expr, outer: &Outer) -> Vec<Origin> {
    match &e.kind {
        ExprKind::Column { index, .. } => of_column(input, *index, outer),
        ExprKind::Call { func, args } => match func {
            Func::GetItem if args.len() == 2 => {
                let step = match &args[1].kind {
                    ExprKind::Literal(Value::String(k)) => Step::Key(k.to_string()),
                    ExprKind::Literal(Value::Long(_)) => Step::Element,
                    _ => return vec![],
                };
                let mut o = of_expr(input, &args[0], outer);
                o.iter_mut().for_each(|o| o.path.push(step.clone()));
                o
            }
            Func::ToString
            | Func::ToLower
            | Func::ToUpper
            | Func::Trim
            | Func::ToLong
            | Func::ToInt
            | Func::ToReal
            | Func::ToDateTime
            | Func::ToBool
            | Func::ToTimespan
            | Func::ToDynamic
                if args.len() == 1 =>
            {
                of_expr(input, &args[0], outer)
            }
            _ => vec![],
        },
        _ => vec![],
    }
}
