//! Lowering of the row-shaping operators: sort/top, summarize, the project-* family,
//! datatable and print.

use super::{LResult, Lowerer, Scope};
use crate::diagnostics::{codes, Span};
use crate::ir::{Agg, AggFunc, Column, Expr, ExprKind, Node, Op, SortKey};
use crate::syntax::ast::{self, ExprKind as A};
use crate::types::Type;
use crate::value::Value;

const AGGREGATES: &[&str] = &[
    "take_anyif",
    "anyif",
    "count",
    "countif",
    "dcount",
    "dcountif",
    "count_distinct",
    "count_distinctif",
    "percentile",
    "percentiles",
    "sum",
    "sumif",
    "avg",
    "stdev",
    "variance",
    "min",
    "max",
    "make_set",
    "makeset",
    "make_set_if",
    "make_list",
    "makelist",
    "make_list_if",
    "any",
    "take_any",
    "arg_max",
    "argmax",
    "argmin",
    "arg_min",
    "make_bag",
];

fn is_aggregate(name: &str) -> bool {
    AGGREGATES.contains(&name)
}

/// A copy of `e` with each aggregate call replaced by a hidden column name.
fn extract_aggregates(
    e: &ast::Expr,
    found: &mut Vec<(String, ast::Expr)>,
    item: usize,
) -> ast::Expr {
    let mut out = e.clone();
    rewrite(&mut out, found, item);
    out
}

fn rewrite(e: &mut ast::Expr, found: &mut Vec<(String, ast::Expr)>, item: usize) {
    if let A::Call { name, .. } = &e.kind {
        if is_aggregate(&name.name) {
            let hname = format!("__detc_agg{item}_{}", found.len());
            found.push((hname.clone(), e.clone()));
            e.kind = A::Name(hname);
            return;
        }
    }
    for c in e.children_mut() {
        rewrite(c, found, item);
    }
}

#[derive(Clone, Copy, PartialEq)]
pub enum PatternUse {
    Away,
    Keep,
    Reorder,
}

/// `Foo*` style column patterns.
pub(super) fn matches_pattern(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((pre, rest)) => {
            name.starts_with(pre) && {
                let tail = &name[pre.len()..];
                if rest.is_empty() {
                    true
                } else {
                    (0..=tail.len())
                        .any(|i| tail.is_char_boundary(i) && matches_pattern(rest, &tail[i..]))
                }
            }
        }
    }
}

pub(super) fn column_expr(node: &Node, i: usize) -> Expr {
    let c = &node.schema[i];
    Expr {
        kind: ExprKind::Column {
            index: i,
            name: c.name.clone(),
        },
        ty: c.ty,
    }
}

impl Lowerer<'_> {
    pub(super) fn constant_count(&mut self, e: &ast::Expr, scope: &Scope) -> LResult<u64> {
        let v = self.scalar(e, None, scope)?;
        match v.kind {
            ExprKind::Literal(Value::Long(n)) if n >= 0 => Ok(n as u64),
            _ => Err(self.err(
                codes::TYPE,
                e.span,
                "expected a non-negative integer constant",
            )),
        }
    }

    pub(super) fn sort(
        &mut self,
        input: Node,
        keys: &[ast::SortKey],
        scope: &Scope,
    ) -> LResult<Node> {
        let mut out = Vec::new();
        for k in keys {
            let expr = self.scalar(&k.expr, Some(&input), scope)?;
            if expr.ty == Type::Dynamic {
                return Err(self.err(codes::TYPE, k.expr.span, "cannot sort by a dynamic value"));
            }
            // KQL: nulls first when ascending, last when descending, unless stated.
            let nulls_first = k.nulls_first.unwrap_or(!k.desc);
            out.push(SortKey {
                expr,
                desc: k.desc,
                nulls_first,
            });
        }
        let schema = input.schema.clone();
        Ok(Node {
            op: Op::Sort {
                input: Box::new(input),
                keys: out,
            },
            schema,
        })
    }

    pub(super) fn project_patterns(
        &mut self,
        input: Node,
        pats: &[ast::Expr],
        how: PatternUse,
    ) -> LResult<Node> {
        let mut picked: Vec<usize> = Vec::new();
        for p in pats {
            let A::Name(pattern) = &p.kind else {
                return Err(self.err(
                    codes::KQL_SYNTAX,
                    p.span,
                    "expected a column name or pattern",
                ));
            };
            let hits: Vec<usize> = (0..input.schema.len())
                .filter(|&i| matches_pattern(pattern, &input.schema[i].name))
                .collect();
            if hits.is_empty() && !pattern.contains('*') {
                return Err(self.unknown_column(pattern, p.span, &input));
            }
            for h in hits {
                if !picked.contains(&h) {
                    picked.push(h);
                }
            }
        }
        let order: Vec<usize> = match how {
            PatternUse::Away => (0..input.schema.len())
                .filter(|i| !picked.contains(i))
                .collect(),
            PatternUse::Keep => (0..input.schema.len())
                .filter(|i| picked.contains(i))
                .collect(),
            PatternUse::Reorder => {
                let mut v = picked.clone();
                v.extend((0..input.schema.len()).filter(|i| !picked.contains(i)));
                v
            }
        };
        let items = order
            .iter()
            .map(|&i| (input.schema[i].name.clone(), column_expr(&input, i)))
            .collect();
        self.project(input, items, Span::default())
    }

    pub(super) fn project_rename(
        &mut self,
        input: Node,
        pairs: &[(ast::Ident, ast::Ident)],
    ) -> LResult<Node> {
        let mut names: Vec<String> = input.schema.iter().map(|c| c.name.clone()).collect();
        for (new, old) in pairs {
            let Some((i, _)) = input.column(&old.name) else {
                return Err(self.unknown_column(&old.name, old.span, &input));
            };
            names[i] = new.name.clone();
        }
        let items = names
            .into_iter()
            .enumerate()
            .map(|(i, n)| (n, column_expr(&input, i)))
            .collect();
        self.project(
            input,
            items,
            pairs.first().map(|p| p.0.span).unwrap_or_default(),
        )
    }

    pub(super) fn summarize(
        &mut self,
        input: Node,
        options: &[ast::OptionKv],
        aggs: &[ast::NamedExpr],
        by: &[ast::NamedExpr],
        scope: &Scope,
    ) -> LResult<Node> {
        for o in options {
            if !o.key.name.starts_with("hint.") {
                return Err(self.err(
                    codes::UNSUPPORTED,
                    o.key.span,
                    format!("summarize option `{}`", o.key.name),
                ));
            }
        }
        let mut by_out = self.group_keys(by, &input, scope, "summarize")?;
        let by_names: Vec<String> = by_out.iter().map(|(n, _)| n.clone()).collect();
        let mut agg_out: Vec<(String, Agg)> = Vec::new();
        // `x = round(avg(y), 2)`: aggregates inside an expression become hidden columns; the
        // expression is computed over them after the summarize.
        let mut post: Vec<(String, ast::Expr)> = Vec::new();
        let mut hidden = Vec::new();
        for (k, item) in aggs.iter().enumerate() {
            if let A::Call { name, args } = &item.expr.kind {
                if is_aggregate(&name.name) {
                    let cols = self.aggregate(name, args, item, &input, &by_names, scope)?;
                    // `(a, b, c) = arg_max(k, x, y)` names the key then the values in order;
                    // columns beyond the names keep their own.
                    if cols.len() < item.more.len() + 1 {
                        let n = &item.more[cols.len().saturating_sub(1).min(item.more.len() - 1)];
                        return Err(self.err(
                            codes::TYPE,
                            n.span,
                            format!(
                                "{} names given for {} column(s) of `{}`",
                                item.more.len() + 1,
                                cols.len(),
                                name.name
                            ),
                        ));
                    }
                    for (i, (n, a)) in cols.into_iter().enumerate() {
                        let n = match i {
                            0 => n,
                            i if i <= item.more.len() => item.more[i - 1].name.clone(),
                            _ => n,
                        };
                        agg_out.push((n, a));
                    }
                    continue;
                }
            }
            self.single_name(item)?;
            let mut found = Vec::new();
            let rewritten = extract_aggregates(&item.expr, &mut found, k);
            if found.is_empty() {
                return Err(self.err(
                    codes::TYPE,
                    item.expr.span,
                    "summarize needs an aggregate function call",
                ));
            }
            for (hname, call) in found {
                let A::Call { name, args } = &call.kind else {
                    unreachable!()
                };
                let named = ast::NamedExpr {
                    name: Some(ast::Ident {
                        name: hname.clone(),
                        span: call.span,
                    }),
                    more: Vec::new(),
                    expr: call.clone(),
                };
                for (n, a) in self.aggregate(name, args, &named, &input, &by_names, scope)? {
                    agg_out.push((n, a));
                }
                hidden.push(hname);
            }
            let out_name = match &item.name {
                Some(n) => n.name.clone(),
                None => format!("Column{}", k + 1),
            };
            post.push((out_name, rewritten));
        }
        let names = super::unique_names(
            by_out
                .iter()
                .map(|(n, _)| n.clone())
                .chain(agg_out.iter().map(|(n, _)| n.clone()))
                .collect(),
        );
        let mut names = names.into_iter();
        for (n, _) in by_out.iter_mut() {
            *n = names.next().unwrap();
        }
        for (n, _) in agg_out.iter_mut() {
            *n = names.next().unwrap();
        }
        let schema = by_out
            .iter()
            .map(|(n, e)| Column {
                name: n.clone(),
                ty: e.ty,
            })
            .chain(agg_out.iter().map(|(n, a)| Column {
                name: n.clone(),
                ty: a.ty,
            }))
            .collect();
        let node = Node {
            op: Op::Summarize {
                input: Box::new(input),
                by: by_out,
                aggs: agg_out,
            },
            schema,
        };
        if post.is_empty() {
            return Ok(node);
        }
        let mut items = Vec::new();
        for (n, e) in &post {
            let v = self.scalar(e, Some(&node), scope)?;
            items.push((n.clone(), v));
        }
        let extended = self.extend_items(node, items)?;
        let keep: Vec<(String, Expr)> = (0..extended.schema.len())
            .filter(|&i| !hidden.contains(&extended.schema[i].name))
            .map(|i| (extended.schema[i].name.clone(), column_expr(&extended, i)))
            .collect();
        self.project(extended, keep, Span::default())
    }

    /// `evaluate pivot(column [, aggregate] [, by...])`; the aggregate defaults to `count()`.
    pub(super) fn pivot(
        &mut self,
        input: Node,
        plugin: &ast::Ident,
        args: &[ast::Arg],
        scope: &Scope,
    ) -> LResult<Node> {
        let Some(first) = args.first() else {
            return Err(self.err(codes::ARGUMENTS, plugin.span, "pivot() needs a column"));
        };
        let column = self.scalar(&first.value, Some(&input), scope)?;
        let (agg_call, rest) = match args.get(1).map(|a| &a.value) {
            Some(
                e @ ast::Expr {
                    kind: A::Call { name, .. },
                    ..
                },
            ) if is_aggregate(&name.name) => (e.clone(), &args[2..]),
            _ => (
                ast::Expr {
                    kind: A::Call {
                        name: ast::Ident {
                            name: "count".into(),
                            span: plugin.span,
                        },
                        args: Vec::new(),
                    },
                    span: plugin.span,
                },
                &args[1..],
            ),
        };
        let by_items: Vec<ast::NamedExpr> = rest.iter().map(ast::Arg::to_named).collect();
        let by = self.group_keys(&by_items, &input, scope, "pivot")?;
        let by_names: Vec<String> = by.iter().map(|(n, _)| n.clone()).collect();
        let A::Call {
            name,
            args: agg_args,
        } = &agg_call.kind
        else {
            unreachable!("built as a call above")
        };
        let item = ast::NamedExpr {
            name: None,
            more: Vec::new(),
            expr: agg_call.clone(),
        };
        let mut aggs = self.aggregate(name, agg_args, &item, &input, &by_names, scope)?;
        if aggs.len() != 1 || matches!(aggs[0].1.func, AggFunc::ArgMax | AggFunc::ArgMin) {
            return Err(self.err(
                codes::UNSUPPORTED,
                agg_call.span,
                "pivot takes an aggregate with one result",
            ));
        }
        let agg = aggs.pop().unwrap().1;
        self.diags.push(
            crate::diagnostics::Diagnostic::warning(
                codes::APPROXIMATED,
                "pivot: its columns are the pivot column's values, known only at run time; detc resolves each name the query reads to that value's aggregate (null where a group lacks it)",
            )
            .with_span(plugin.span)
            .with_note("see docs/semantics.md; SQL targets do not emit pivot"),
        );
        let mut schema: Vec<Column> = by
            .iter()
            .map(|(n, e)| Column {
                name: n.clone(),
                ty: e.ty,
            })
            .collect();
        schema.push(Column {
            name: format!("{}pivot)", super::expr::UNPACKED),
            ty: Type::Dynamic,
        });
        Ok(Node {
            op: Op::Pivot {
                input: Box::new(input),
                column,
                agg,
                by,
            },
            schema,
        })
    }

    /// The `by` keys of `summarize`/`make-series`, named.
    fn group_keys(
        &mut self,
        by: &[ast::NamedExpr],
        input: &Node,
        scope: &Scope,
        op: &str,
    ) -> LResult<Vec<(String, Expr)>> {
        let mut out = Vec::new();
        for (i, item) in by.iter().enumerate() {
            self.single_name(item)?;
            let mut e = self.scalar(&item.expr, Some(input), scope)?;
            if e.ty == Type::Dynamic && super::expr::is_unpacked_key(&e) {
                // A bag_unpack/pivot column: Kusto types it from the data; detc groups by
                // its text (part of the declared approximation).
                e = Expr {
                    kind: ExprKind::Call {
                        func: crate::ir::Func::ToString,
                        args: vec![e],
                    },
                    ty: Type::String,
                };
            }
            if e.ty == Type::Dynamic {
                return Err(self.err(
                    codes::TYPE,
                    item.expr.span,
                    format!("{op} cannot group by a dynamic value"),
                ));
            }
            out.push((self.column_name(item, &e, i), e));
        }
        Ok(out)
    }

    /// `make-series`: like `summarize`, but each aggregate gives an array with one value
    /// per axis bin, and the axis column holds the bins.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn make_series(
        &mut self,
        input: Node,
        options: &[ast::OptionKv],
        aggs: &[(ast::NamedExpr, Option<ast::Expr>)],
        axis: &ast::Expr,
        (from, to, step, in_range): (Option<&ast::Expr>, Option<&ast::Expr>, &ast::Expr, bool),
        by: &[ast::NamedExpr],
        scope: &Scope,
    ) -> LResult<Node> {
        let mut nonempty = false;
        for o in options {
            match (o.key.name.as_str(), &o.value.kind) {
                ("kind", A::Name(v)) if v == "nonempty" => nonempty = true,
                (k, _) if k.starts_with("hint.") => {}
                (k, _) => {
                    return Err(self.err(
                        codes::UNSUPPORTED,
                        o.key.span,
                        format!("make-series option `{k}`"),
                    ))
                }
            }
        }
        let mut by_out = self.group_keys(by, &input, scope, "make-series")?;
        let by_names: Vec<String> = by_out.iter().map(|(n, _)| n.clone()).collect();
        let mut series = Vec::new();
        for (item, default) in aggs {
            self.single_name(item)?;
            let A::Call { name, args } = &item.expr.kind else {
                return Err(self.err(
                    codes::TYPE,
                    item.expr.span,
                    "make-series needs an aggregate function call",
                ));
            };
            if !is_aggregate(&name.name) {
                return Err(self.err(
                    codes::TYPE,
                    item.expr.span,
                    format!("`{}` is not an aggregate function", name.name),
                ));
            }
            for (n, agg) in self.aggregate(name, args, item, &input, &by_names, scope)? {
                use AggFunc::*;
                if !matches!(
                    agg.func,
                    Count
                        | CountIf
                        | DCount
                        | DCountIf
                        | Sum
                        | SumIf
                        | Avg
                        | Stdev
                        | Variance
                        | Min
                        | Max
                ) || (matches!(agg.func, Min | Max) && !agg.ty.is_numeric())
                {
                    return Err(self.err(
                        codes::UNSUPPORTED,
                        name.span,
                        format!(
                            "make-series takes aggregates with numeric results; `{}` is not one",
                            name.name
                        ),
                    ));
                }
                let default = match default {
                    None => Expr::lit(Value::Long(0), Type::Long),
                    Some(d) => {
                        let v = self.scalar(d, None, scope)?;
                        let constant = match &v.kind {
                            ExprKind::Literal(_) => true,
                            ExprKind::Neg(x) => matches!(x.kind, ExprKind::Literal(_)),
                            _ => false,
                        };
                        if !constant {
                            return Err(self.err(
                                codes::TYPE,
                                d.span,
                                "the default of a series must be a constant",
                            ));
                        }
                        v
                    }
                };
                series.push(crate::ir::SeriesAgg {
                    name: n,
                    agg,
                    default,
                });
            }
        }
        let axis_e = self.scalar(axis, Some(&input), scope)?;
        let axis_ty = axis_e.ty;
        if !(axis_ty.is_numeric() || matches!(axis_ty, Type::DateTime | Type::Timespan)) {
            return Err(self.err(
                codes::TYPE,
                axis.span,
                format!("the axis of make-series must be a datetime, timespan or number, found {axis_ty}"),
            ));
        }
        let Some(axis_name) = super::names::default_name(axis, &axis_e) else {
            return Err(self.err(
                codes::TYPE,
                axis.span,
                "the axis of make-series must be a column",
            ));
        };
        let step_ty = match axis_ty {
            Type::DateTime | Type::Timespan => Type::Timespan,
            _ => Type::Real,
        };
        let mut bound = |e: Option<&ast::Expr>, want: Type| -> LResult<Option<Expr>> {
            let Some(e) = e else { return Ok(None) };
            let v = self.scalar(e, None, scope)?;
            let ok = v.ty == want
                || (want.is_numeric() && v.ty.is_numeric())
                || matches!(v.kind, ExprKind::Param(_));
            if !ok {
                return Err(self.err(
                    codes::TYPE,
                    e.span,
                    format!("expected {want} for the series axis, found {}", v.ty),
                ));
            }
            Ok(Some(v))
        };
        let start = bound(from, axis_ty)?;
        let end = bound(to, axis_ty)?;
        let step_e = bound(Some(step), step_ty)?.unwrap();
        let names = super::unique_names(
            by_names
                .iter()
                .cloned()
                .chain(series.iter().map(|a| a.name.clone()))
                .chain(std::iter::once(axis_name))
                .collect(),
        );
        let mut names = names.into_iter();
        for (n, _) in by_out.iter_mut() {
            *n = names.next().unwrap();
        }
        for a in series.iter_mut() {
            a.name = names.next().unwrap();
        }
        let axis_name = names.next().unwrap();
        let schema = by_out
            .iter()
            .map(|(n, e)| Column {
                name: n.clone(),
                ty: e.ty,
            })
            .chain(series.iter().map(|a| Column {
                name: a.name.clone(),
                ty: Type::Dynamic,
            }))
            .chain(std::iter::once(Column {
                name: axis_name,
                ty: Type::Dynamic,
            }))
            .collect();
        Ok(Node {
            op: Op::MakeSeries {
                input: Box::new(input),
                by: by_out,
                aggs: series,
                axis: axis_e,
                bins: Box::new(crate::ir::SeriesBins {
                    start,
                    end,
                    step: step_e,
                    range_syntax: in_range,
                }),
                nonempty,
            },
            schema,
        })
    }

    /// One aggregate call; `arg_max`/`arg_min` give several output columns.
    fn aggregate(
        &mut self,
        name: &ast::Ident,
        args: &[ast::Arg],
        item: &ast::NamedExpr,
        input: &Node,
        by_names: &[String],
        scope: &Scope,
    ) -> LResult<Vec<(String, Agg)>> {
        if matches!(name.name.as_str(), "percentile" | "percentiles") {
            return self.percentiles(name, args, item, input, scope);
        }
        let func = match name.name.as_str() {
            "count" => AggFunc::Count,
            "countif" => AggFunc::CountIf,
            // count_distinct is exact; dcount is exact too in detc (docs/semantics.md).
            "dcount" | "count_distinct" => AggFunc::DCount,
            "dcountif" | "count_distinctif" => AggFunc::DCountIf,
            "sum" => AggFunc::Sum,
            "sumif" => AggFunc::SumIf,
            "avg" => AggFunc::Avg,
            "stdev" => AggFunc::Stdev,
            "variance" => AggFunc::Variance,
            "min" => AggFunc::Min,
            "max" => AggFunc::Max,
            "make_set" | "makeset" => AggFunc::MakeSet,
            "make_set_if" => AggFunc::MakeSetIf,
            "make_list" | "makelist" => AggFunc::MakeList,
            "make_list_if" => AggFunc::MakeListIf,
            "any" | "take_any" => AggFunc::Any,
            "take_anyif" | "anyif" => AggFunc::AnyIf,
            "arg_max" | "argmax" => AggFunc::ArgMax,
            "arg_min" | "argmin" => AggFunc::ArgMin,
            "make_bag" => AggFunc::MakeBag,
            other => {
                return Err(self.err(
                    codes::UNSUPPORTED,
                    name.span,
                    format!("aggregate `{other}` is not supported yet"),
                ))
            }
        };
        if matches!(func, AggFunc::ArgMax | AggFunc::ArgMin) {
            return self.arg_extreme(func, args, item, input, by_names, scope);
        }
        let mut a = Vec::new();
        for arg in args {
            a.push(self.scalar(&arg.value, Some(input), scope)?);
        }
        let (min, max) = match func {
            AggFunc::Count => (0, 1),
            AggFunc::CountIf => (1, 1),
            AggFunc::DCount => (1, 2),
            AggFunc::DCountIf => (2, 3),
            AggFunc::SumIf | AggFunc::AnyIf => (2, 2),
            AggFunc::MakeSet | AggFunc::MakeList | AggFunc::MakeBag => (1, 2),
            AggFunc::MakeSetIf | AggFunc::MakeListIf => (2, 3),
            _ => (1, 1),
        };
        if a.len() < min || a.len() > max {
            return Err(self.err(
                codes::ARGUMENTS,
                item.expr.span,
                format!("{}() takes {min} to {max} argument(s)", name.name),
            ));
        }
        // The optional size limit of make_set/make_list; dcount's accuracy level is ignored.
        let mut limit = None;
        if matches!(
            func,
            AggFunc::MakeSet
                | AggFunc::MakeList
                | AggFunc::MakeSetIf
                | AggFunc::MakeListIf
                | AggFunc::MakeBag
        ) && a.len() == max
        {
            match a.pop().unwrap().kind {
                ExprKind::Literal(Value::Long(n)) if n > 0 => limit = Some(n as u64),
                _ => {
                    return Err(self.err(
                        codes::TYPE,
                        item.expr.span,
                        "the size limit must be a positive integer constant",
                    ))
                }
            }
        }
        if matches!(func, AggFunc::DCount | AggFunc::DCountIf) && a.len() == max {
            a.pop();
        }
        // `count(x)` counts the rows where x is not null (docs/semantics.md).
        let func = if func == AggFunc::Count && a.len() == 1 {
            let x = a.pop().unwrap();
            a.push(Expr {
                kind: ExprKind::Call {
                    func: crate::ir::Func::IsNotNull,
                    args: vec![x],
                },
                ty: Type::Bool,
            });
            AggFunc::CountIf
        } else {
            func
        };
        let cond_at = match func {
            AggFunc::CountIf => Some(0),
            AggFunc::DCountIf
            | AggFunc::SumIf
            | AggFunc::MakeSetIf
            | AggFunc::MakeListIf
            | AggFunc::AnyIf => Some(1),
            _ => None,
        };
        if let Some(i) = cond_at {
            if a[i].ty != Type::Bool {
                return Err(self.err(
                    codes::TYPE,
                    item.expr.span,
                    format!("{}() needs a bool predicate", name.name),
                ));
            }
        }
        let first = a.first().map(|e| e.ty);
        let ty = match func {
            AggFunc::Count | AggFunc::CountIf | AggFunc::DCount | AggFunc::DCountIf => Type::Long,
            AggFunc::Sum | AggFunc::SumIf => match first {
                Some(t) if t.is_integer() => Type::Long,
                Some(t) if t.is_numeric() => Type::Real,
                Some(Type::Timespan) => Type::Timespan,
                _ => return Err(self.err(codes::TYPE, item.expr.span, "sum() needs a number")),
            },
            AggFunc::Avg | AggFunc::Stdev | AggFunc::Variance => match first {
                Some(t) if t.is_numeric() => Type::Real,
                _ => {
                    return Err(self.err(
                        codes::TYPE,
                        item.expr.span,
                        format!("{}() needs a number", name.name),
                    ))
                }
            },
            AggFunc::Min | AggFunc::Max | AggFunc::Any | AggFunc::AnyIf => first.unwrap(),
            _ => Type::Dynamic,
        };
        let default = || {
            let arg = args.first().map(|a| &a.value);
            let base = arg.and_then(|e| match &e.kind {
                A::Name(n) => Some(n.clone()),
                _ => None,
            });
            match func {
                AggFunc::Count => "count_".to_string(),
                AggFunc::CountIf => "countif_".to_string(),
                f => {
                    let prefix = match f {
                        _ if name.name.starts_with("count_distinct") => name.name.as_str(),
                        AggFunc::MakeSet => "set",
                        AggFunc::MakeSetIf => "set",
                        AggFunc::MakeList | AggFunc::MakeListIf => "list",
                        AggFunc::Any => "any",
                        f => f.kql(),
                    };
                    match base {
                        Some(b) => format!("{prefix}_{b}"),
                        None => format!("{prefix}_"),
                    }
                }
            }
        };
        let out_name = item
            .name
            .as_ref()
            .map(|n| n.name.clone())
            .unwrap_or_else(default);
        Ok(vec![(
            out_name,
            Agg {
                func,
                args: a,
                limit,
                ty,
            },
        )])
    }

    /// `percentile(x, p)` and `percentiles(x, p1, p2, ...)`: one column per percentile,
    /// named by the item or `percentile_<x>_<p>` (`.` in p as `_`), as Kusto names them.
    fn percentiles(
        &mut self,
        name: &ast::Ident,
        args: &[ast::Arg],
        item: &ast::NamedExpr,
        input: &Node,
        scope: &Scope,
    ) -> LResult<Vec<(String, Agg)>> {
        let single = name.name == "percentile";
        if args.len() < 2 || (single && args.len() != 2) {
            return Err(self.err(
                codes::ARGUMENTS,
                item.expr.span,
                format!(
                    "{}() takes an expression and {} percentile(s)",
                    name.name,
                    if single { "one" } else { "its" }
                ),
            ));
        }
        let x = self.scalar(&args[0].value, Some(input), scope)?;
        if !(x.ty.is_numeric() || matches!(x.ty, Type::DateTime | Type::Timespan)) {
            return Err(self.err(
                codes::TYPE,
                args[0].value.span,
                format!(
                    "{}() needs a number, datetime or timespan, this is {}",
                    name.name, x.ty
                ),
            ));
        }
        let names: Vec<String> = item
            .name
            .iter()
            .chain(&item.more)
            .map(|n| n.name.clone())
            .collect();
        if !names.is_empty() && names.len() != args.len() - 1 {
            return Err(self.err(
                codes::ARGUMENTS,
                item.expr.span,
                format!("{} names for {} percentiles", names.len(), args.len() - 1),
            ));
        }
        let base = match &args[0].value.kind {
            A::Name(n) => n.clone(),
            _ => String::new(),
        };
        let mut out = Vec::new();
        for (i, arg) in args[1..].iter().enumerate() {
            let p = self.scalar(&arg.value, None, scope)?;
            let p = match p.kind {
                ExprKind::Literal(Value::Long(n)) => n as f64,
                ExprKind::Literal(Value::Real(r)) => r,
                _ => f64::NAN,
            };
            if !(0.0..=100.0).contains(&p) {
                return Err(self.err(
                    codes::TYPE,
                    arg.value.span,
                    "a percentile is a constant from 0 to 100",
                ));
            }
            let default = format!(
                "percentile_{base}_{}",
                crate::value::format_real(p).replace('.', "_")
            );
            out.push((
                names.get(i).cloned().unwrap_or(default),
                Agg {
                    func: AggFunc::Percentile,
                    args: vec![x.clone(), Expr::lit(Value::Real(p), Type::Real)],
                    limit: None,
                    ty: x.ty,
                },
            ));
        }
        Ok(out)
    }

    fn arg_extreme(
        &mut self,
        func: AggFunc,
        args: &[ast::Arg],
        item: &ast::NamedExpr,
        input: &Node,
        by_names: &[String],
        scope: &Scope,
    ) -> LResult<Vec<(String, Agg)>> {
        let Some(first) = args.first() else {
            return Err(self.err(
                codes::ARGUMENTS,
                item.expr.span,
                "arg_max/arg_min need an expression to maximise",
            ));
        };
        let key = self.scalar(&first.value, Some(input), scope)?;
        if key.ty == Type::Dynamic {
            return Err(self.err(
                codes::TYPE,
                first.value.span,
                "cannot maximise a dynamic value",
            ));
        }
        // The deprecated `argmax`/`argmin` name their columns `max_<key>` and
        // `max_<key>_<column>` (`min_` for argmin).
        let deprecated = matches!(&item.expr.kind, A::Call { name, .. } if name.name == "argmax" || name.name == "argmin");
        let key_base = super::names::default_name(&first.value, &key);
        let old_prefix = match (deprecated, &key_base) {
            (true, Some(k)) => Some(format!(
                "{}_{k}",
                if func == AggFunc::ArgMax {
                    "max"
                } else {
                    "min"
                }
            )),
            _ => None,
        };
        let key_name = item
            .name
            .as_ref()
            .map(|n| n.name.clone())
            .or_else(|| old_prefix.clone())
            .unwrap_or_else(|| {
                key_base
                    .clone()
                    .unwrap_or_else(|| format!("{}_", func.kql()))
            });
        let value_name = |n: String| match &old_prefix {
            Some(p) => format!("{p}_{n}"),
            None => n,
        };
        let mk = |value: Expr| Agg {
            func,
            args: vec![key.clone(), value.clone()],
            limit: None,
            ty: value.ty,
        };
        let mut out = vec![(key_name.clone(), mk(key.clone()))];
        let key_col = match &key.kind {
            ExprKind::Column { name, .. } => Some(name.clone()),
            _ => None,
        };
        for arg in &args[1..] {
            if let A::Star = arg.value.kind {
                // `*`: every input column but the maximised one and the `by` columns
                // (Kusto.Language's rule).
                for i in 0..input.schema.len() {
                    let n = &input.schema[i].name;
                    if Some(n) != key_col.as_ref() && !by_names.contains(n) {
                        out.push((value_name(n.clone()), mk(column_expr(input, i))));
                    }
                }
                continue;
            }
            let named = arg.name.as_ref().map(|n| n.name.clone());
            let v = self.scalar(&arg.value, Some(input), scope)?;
            let n = named
                .or_else(|| super::names::default_name(&arg.value, &v).map(value_name))
                .unwrap_or_else(|| format!("{}_arg{}", func.kql(), out.len()));
            out.push((n, mk(v)));
        }
        Ok(out)
    }

    /// `lookup`: a join (leftouter by default) whose output keeps the left columns and the
    /// right side's non-key columns under their own names.
    pub(super) fn lookup(
        &mut self,
        input: Node,
        options: &[ast::OptionKv],
        right: &ast::Expr,
        on: &[ast::Expr],
        op: &ast::Operator,
        scope: &Scope,
    ) -> LResult<Node> {
        let joined = self.join(input, options, right, on, op, scope)?;
        let Op::Join {
            kind,
            left,
            right,
            keys,
        } = &joined.op
        else {
            unreachable!()
        };
        if !matches!(
            kind,
            crate::ir::JoinKind::LeftOuter | crate::ir::JoinKind::Inner
        ) {
            return Err(self.err(
                codes::KQL_SYNTAX,
                op.span,
                "lookup supports kind=leftouter and kind=inner",
            ));
        }
        let n = left.schema.len();
        let mut items: Vec<(String, Expr)> = (0..n)
            .map(|i| (left.schema[i].name.clone(), column_expr(&joined, i)))
            .collect();
        for (j, c) in right.schema.iter().enumerate() {
            if keys.iter().any(|(_, r)| *r == j) {
                continue;
            }
            if left.column(&c.name).is_some() {
                return Err(self.err(
                    codes::TYPE,
                    op.span,
                    format!(
                        "lookup: column `{}` is on both sides and is not a key",
                        c.name
                    ),
                ));
            }
            items.push((c.name.clone(), column_expr(&joined, n + j)));
        }
        self.project(joined, items, op.span)
    }

    /// `parse`: each column is a capture group of one regular expression built from the
    /// pattern (`*` skips, literals match, columns capture lazily, the last one greedily);
    /// a row that does not match gets empty strings and nulls.
    pub(super) fn parse_op(
        &mut self,
        input: Node,
        kind: Option<&ast::Ident>,
        text: &ast::Expr,
        parts: &[ast::ParsePart],
        scope: &Scope,
    ) -> LResult<Node> {
        // `relaxed`: a typed column whose text does not convert is null on its own; `simple`
        // and `regex`: the whole row then fails to parse (every column null or "").
        let (regex_kind, relaxed) = match kind.map(|k| k.name.as_str()) {
            None | Some("simple") => (false, false),
            Some("relaxed") => (false, true),
            Some("regex") => (true, false),
            Some(other) => {
                return Err(self.err(
                    codes::UNSUPPORTED,
                    kind.unwrap().span,
                    format!("parse kind={other} is not supported yet"),
                ))
            }
        };
        let t = self.scalar(text, Some(&input), scope)?;
        let t = match t.ty {
            Type::String => t,
            _ => Expr {
                kind: ExprKind::Call {
                    func: crate::ir::Func::ToString,
                    args: vec![t],
                },
                ty: Type::String,
            },
        };
        let mut pattern = String::from("(?s)^");
        let mut cols = Vec::new();
        let last_col = parts
            .iter()
            .rposition(|p| matches!(p, ast::ParsePart::Column(..)));
        for (i, p) in parts.iter().enumerate() {
            match p {
                ast::ParsePart::Star => pattern.push_str(".*?"),
                ast::ParsePart::Lit(l) => {
                    if regex_kind {
                        pattern.push_str(&format!("(?:{l})"));
                    } else {
                        pattern.push_str(&regex::escape(l));
                    }
                }
                ast::ParsePart::Column(name, ty) => {
                    let ty = match ty {
                        Some(t) => Type::parse(&t.name).ok_or_else(|| {
                            self.err(codes::TYPE, t.span, format!("unknown type `{}`", t.name))
                        })?,
                        None => Type::String,
                    };
                    let greedy = Some(i) == last_col && i == parts.len() - 1;
                    // The last column takes the rest; `$` keeps engines whose regex
                    // preference follows the first quantifier (PostgreSQL) from stopping early.
                    pattern.push_str(if greedy { "(.*)$" } else { "(.*?)" });
                    cols.push((name.name.clone(), ty));
                }
            }
        }
        if regex::Regex::new(&pattern).is_err() {
            return Err(self.err(
                codes::TYPE,
                text.span,
                "the parse pattern is not a valid regular expression",
            ));
        }
        let mut items = Vec::new();
        for (g, (name, ty)) in cols.into_iter().enumerate() {
            let extract = Expr {
                kind: ExprKind::Call {
                    func: crate::ir::Func::Extract,
                    args: vec![
                        Expr::lit(Value::str(&pattern), Type::String),
                        Expr::lit(Value::Long(g as i64 + 1), Type::Long),
                        t.clone(),
                    ],
                },
                ty: Type::String,
            };
            let e = super::expr::convert_to(extract, ty);
            items.push((name, e));
        }
        let typed: Vec<Expr> = items
            .iter()
            .filter(|(_, e)| e.ty != Type::String)
            .map(|(_, e)| Expr {
                kind: ExprKind::Call {
                    func: crate::ir::Func::IsNotNull,
                    args: vec![e.clone()],
                },
                ty: Type::Bool,
            })
            .collect();
        if !relaxed && !typed.is_empty() {
            // Every typed column must convert, or the row does not parse. A text that is
            // empty converts to null too: an empty capture fails the row, as in Kusto.
            let ok = typed
                .into_iter()
                .reduce(|a, b| Expr {
                    kind: ExprKind::Binary {
                        op: crate::ir::BinOp::And,
                        lhs: Box::new(a),
                        rhs: Box::new(b),
                    },
                    ty: Type::Bool,
                })
                .unwrap();
            for (_, e) in items.iter_mut() {
                let ty = e.ty;
                let failed = Expr::lit(Value::missing(ty), ty);
                *e = Expr {
                    kind: ExprKind::Call {
                        func: crate::ir::Func::Iff,
                        args: vec![ok.clone(), e.clone(), failed],
                    },
                    ty,
                };
            }
        }
        self.extend_items(input, items)
    }

    /// `(name:type, ...)` of `datatable` and `externaldata`.
    fn declared_schema(&mut self, columns: &[(ast::Ident, ast::Ident)]) -> LResult<Vec<Column>> {
        let mut schema = Vec::new();
        for (n, t) in columns {
            let ty = Type::parse(&t.name).ok_or_else(|| {
                self.err(codes::TYPE, t.span, format!("unknown type `{}`", t.name))
            })?;
            schema.push(Column {
                name: n.name.clone(),
                ty,
            });
        }
        Ok(schema)
    }

    pub(super) fn external(
        &mut self,
        columns: &[(ast::Ident, ast::Ident)],
        uris: &[ast::Expr],
        span: Span,
        scope: &Scope,
    ) -> LResult<Node> {
        let schema = self.declared_schema(columns)?;
        let mut list = Vec::new();
        for u in uris {
            match self.scalar(u, None, scope)?.kind {
                ExprKind::Literal(Value::String(s)) => list.push(s.to_string()),
                _ => {
                    return Err(self.err(
                        codes::TYPE,
                        u.span,
                        "externaldata URIs must be constant strings",
                    ))
                }
            }
        }
        let Some(first) = list.first() else {
            return Err(self.err(codes::ARGUMENTS, span, "externaldata needs a URI"));
        };
        // The table's name: the URI's last path segment up to its first dot.
        let path = first.split(['?', '#']).next().unwrap_or("");
        let seg = path.rsplit('/').next().unwrap_or("");
        let mut name: String = seg
            .split('.')
            .next()
            .unwrap_or("")
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { '_' })
            .collect();
        if name.is_empty() {
            name = "externaldata".into();
        }
        Ok(Node {
            op: Op::External { name, uris: list },
            schema,
        })
    }

    pub(super) fn datatable(
        &mut self,
        columns: &[(ast::Ident, ast::Ident)],
        values: &[ast::Expr],
        span: Span,
        scope: &Scope,
    ) -> LResult<Node> {
        let schema = self.declared_schema(columns)?;
        if schema.is_empty() || !values.len().is_multiple_of(schema.len()) {
            return Err(self.err(
                codes::ARGUMENTS,
                span,
                format!(
                    "datatable has {} values for {} columns",
                    values.len(),
                    schema.len()
                ),
            ));
        }
        let mut rows = Vec::new();
        for chunk in values.chunks(schema.len()) {
            let mut row = Vec::new();
            for (v, c) in chunk.iter().zip(&schema) {
                let e = self.scalar(v, None, scope)?;
                let ExprKind::Literal(val) = e.kind else {
                    return Err(self.err(
                        codes::TYPE,
                        v.span,
                        "datatable values must be constants",
                    ));
                };
                let val = match (val, c.ty) {
                    (Value::Null, t) => Value::missing(t),
                    (Value::Long(n), Type::Real | Type::Decimal) => Value::Real(n as f64),
                    (val, t)
                        if e.ty == t
                            || (e.ty.is_integer() && t.is_integer())
                            || (t == Type::Guid && e.ty == Type::String) =>
                    {
                        val
                    }
                    (val, Type::Dynamic) => Value::Dynamic(std::sync::Arc::new(val.to_json())),
                    _ => {
                        return Err(self.err(
                            codes::TYPE,
                            v.span,
                            format!("column `{}` is {}, this value is {}", c.name, c.ty, e.ty),
                        ))
                    }
                };
                row.push(val);
            }
            rows.push(row);
        }
        Ok(Node {
            op: Op::Values { rows },
            schema,
        })
    }

    /// `print a = expr, ...`: one row computed from an empty one.
    pub(super) fn print(&mut self, items: &[ast::NamedExpr], scope: &Scope) -> LResult<Node> {
        let base = Node {
            op: Op::Values { rows: vec![vec![]] },
            schema: vec![],
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            self.single_name(item)?;
            let e = self.scalar(&item.expr, Some(&base), scope)?;
            let name = item
                .name
                .as_ref()
                .map(|n| n.name.clone())
                .unwrap_or_else(|| format!("print_{i}"));
            out.push((name, e));
        }
        self.extend_items(base, out)
    }
}

#[cfg(test)]
mod tests {
    use super::matches_pattern;

    #[test]
    fn patterns() {
        assert!(matches_pattern("Foo*", "FooBar"));
        assert!(matches_pattern("*Bar", "FooBar"));
        assert!(matches_pattern("F*B*r", "FooBar"));
        assert!(!matches_pattern("Foo*", "Bar"));
        assert!(matches_pattern("Exact", "Exact"));
    }
}
