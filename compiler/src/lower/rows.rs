//! Row functions (`prev`, `next`, `row_number`, `row_cumsum`, `row_rank_dense`,
//! `row_rank_min`, `row_window_session`): each call in an `extend`, `project`, `where` or
//! `serialize` item is hoisted into an [`Op::Serialize`] node below the operator, innermost
//! calls first (the `prev` inside a restart is computed before the call that reads it), and
//! the item reads the call's hidden column instead.

use super::operators::column_expr;
use super::{LResult, Lowerer, Scope};
use crate::diagnostics::codes;
use crate::ir::{Column, Expr, ExprKind, Node, Op, RowFunc, RowFuncKind};
use crate::syntax::ast::{self, ExprKind as A};
use crate::types::Type;
use crate::value::Value;

/// The prefix of a hoisted call's column, dropped again after the operator.
pub(super) const HIDDEN: &str = "__detc_rowfn";

fn kind_of(name: &str) -> Option<RowFuncKind> {
    Some(match name {
        "prev" => RowFuncKind::Prev(1),
        "next" => RowFuncKind::Next(1),
        "row_number" => RowFuncKind::RowNumber,
        "row_cumsum" => RowFuncKind::Cumsum,
        // `row_rank` is the older name of `row_rank_dense`.
        "row_rank" | "row_rank_dense" => RowFuncKind::RankDense,
        "row_rank_min" => RowFuncKind::RankMin,
        "row_window_session" => RowFuncKind::WindowSession,
        _ => return None,
    })
}

pub(super) fn is_row_function(name: &str) -> bool {
    kind_of(name).is_some()
}

/// Whether `e` calls a row function.
pub(super) fn has_row_call(e: &ast::Expr) -> bool {
    let mut found = false;
    super::names::walk(e, &mut |x| {
        found |= matches!(&x.kind, A::Call { name, .. } if is_row_function(&name.name))
    });
    found
}

/// Replaces each row-function call whose arguments call none by the name of a new hidden
/// column; returns the calls with their names.
fn take_innermost(e: &mut ast::Expr, next: &mut usize, out: &mut Vec<(String, ast::Expr)>) {
    if let A::Call { name, args } = &e.kind {
        if is_row_function(&name.name) && !args.iter().any(|a| has_row_call(&a.value)) {
            let hidden = format!("{HIDDEN}{next}");
            *next += 1;
            out.push((hidden.clone(), e.clone()));
            e.kind = A::Name(hidden);
            return;
        }
    }
    for c in e.children_mut() {
        take_innermost(c, next, out);
    }
}

impl Lowerer<'_> {
    /// Hoists the row-function calls of `e` into `serialize` nodes over `input`. Returns the
    /// new input and `e` reading their hidden columns ([`HIDDEN`]).
    pub(super) fn hoist_row_calls(
        &mut self,
        mut input: Node,
        e: &ast::Expr,
        scope: &Scope,
    ) -> LResult<(Node, ast::Expr)> {
        let mut e = e.clone();
        loop {
            let mut next = input
                .schema
                .iter()
                .filter(|c| c.name.starts_with(HIDDEN))
                .count();
            let mut calls = Vec::new();
            take_innermost(&mut e, &mut next, &mut calls);
            if calls.is_empty() {
                return Ok((input, e));
            }
            let mut items = Vec::new();
            for (name, call) in calls {
                self.check_serialized(&input, &call)?;
                items.push((name, self.row_func(&call, &input, scope)?));
            }
            input = self.serialize_node(input, items, e.span)?;
        }
    }

    /// `input | serialize items`, checking that `input` is serialized when items read it.
    pub(super) fn serialize_node(
        &mut self,
        input: Node,
        items: Vec<(String, RowFunc)>,
        span: crate::diagnostics::Span,
    ) -> LResult<Node> {
        let mut schema = input.schema.clone();
        for (n, f) in &items {
            schema.retain(|c| c.name != *n);
            schema.push(Column {
                name: n.clone(),
                ty: f.ty,
            });
        }
        if schema.len() != input.schema.len() + items.len() {
            return Err(self.err(
                codes::TYPE,
                span,
                "`serialize` cannot assign a column that already exists",
            ));
        }
        Ok(Node {
            op: Op::Serialize {
                input: Box::new(input),
                items,
            },
            schema,
        })
    }

    /// Rejects row functions over rows that are not serialized, as Kusto does.
    fn check_serialized(&mut self, input: &Node, call: &ast::Expr) -> LResult<()> {
        if input.is_serialized() {
            return Ok(());
        }
        let name = match &call.kind {
            A::Call { name, .. } => name.name.as_str(),
            _ => "a row function",
        };
        Err(self.err(
            codes::NOT_SERIALIZED,
            call.span,
            format!("`{name}` needs serialized rows: put `serialize` (or `sort`) before it; `summarize`, `join`, `union` and `distinct` drop the order"),
        ))
    }

    /// One row-function call over the rows of `input`.
    fn row_func(&mut self, call: &ast::Expr, input: &Node, scope: &Scope) -> LResult<RowFunc> {
        let A::Call { name, args } = &call.kind else {
            unreachable!("take_innermost collects calls");
        };
        let fname = name.name.as_str();
        let mut kind = kind_of(fname).expect("a row function");
        let (min, max) = match kind {
            RowFuncKind::Prev(_) | RowFuncKind::Next(_) => (1, 3),
            RowFuncKind::RowNumber => (0, 2),
            RowFuncKind::WindowSession => (3, 4),
            _ => (1, 2),
        };
        if args.len() < min || args.len() > max {
            return Err(self.err(
                codes::ARGUMENTS,
                call.span,
                format!(
                    "`{fname}` takes {min} to {max} arguments, got {}",
                    args.len()
                ),
            ));
        }
        let mut lowered = Vec::new();
        for a in args {
            lowered.push(self.scalar(&a.value, Some(input), scope)?);
        }
        let arg_err = |this: &mut Self, i: usize, what: &str| {
            this.err(
                codes::TYPE,
                args[i].value.span,
                format!("argument {} of `{fname}` must be {what}", i + 1),
            )
        };
        let constant = |e: &Expr| matches!(e.kind, ExprKind::Literal(_));
        let restart_at = |k: RowFuncKind| match k {
            RowFuncKind::Prev(_) | RowFuncKind::Next(_) => usize::MAX,
            RowFuncKind::RowNumber => 1,
            RowFuncKind::WindowSession => 3,
            _ => 1,
        };
        let mut restart = None;
        if lowered.len() > restart_at(kind) {
            let r = lowered.remove(restart_at(kind));
            if r.ty != Type::Bool {
                return Err(arg_err(self, restart_at(kind), "a bool (the restart)"));
            }
            restart = Some(r);
        }
        let ty = match kind {
            RowFuncKind::Prev(_) | RowFuncKind::Next(_) => {
                let value_ty = lowered[0].ty;
                if lowered.len() > 1 {
                    let offset = match lowered[1].kind {
                        ExprKind::Literal(Value::Long(n)) if n >= 0 => n as u64,
                        _ => return Err(arg_err(self, 1, "a non-negative integer constant")),
                    };
                    kind = match kind {
                        RowFuncKind::Prev(_) => RowFuncKind::Prev(offset),
                        _ => RowFuncKind::Next(offset),
                    };
                    lowered.remove(1);
                }
                if lowered.len() < 2 {
                    lowered.push(Expr::lit(Value::missing(value_ty), value_ty));
                }
                let same = lowered[1].ty == value_ty
                    || matches!(
                        (lowered[1].ty, value_ty),
                        (Type::Int | Type::Long, Type::Int | Type::Long)
                    );
                if !same {
                    return Err(arg_err(
                        self,
                        2,
                        &format!("of the value's type ({value_ty})"),
                    ));
                }
                lowered[1].ty = value_ty;
                value_ty
            }
            RowFuncKind::RowNumber => {
                match lowered.first() {
                    None => lowered.push(Expr::lit(Value::Long(1), Type::Long)),
                    Some(s) if constant(s) && matches!(s.ty, Type::Int | Type::Long) => {}
                    Some(_) => return Err(arg_err(self, 0, "an integer constant")),
                }
                Type::Long
            }
            RowFuncKind::Cumsum => match lowered[0].ty {
                Type::Int | Type::Long => Type::Long,
                Type::Real => Type::Real,
                _ => return Err(arg_err(self, 0, "an int, long or real")),
            },
            RowFuncKind::RankDense | RowFuncKind::RankMin => {
                if lowered[0].ty == Type::Dynamic {
                    return Err(arg_err(self, 0, "a scalar, not dynamic"));
                }
                Type::Long
            }
            RowFuncKind::WindowSession => {
                if lowered[0].ty != Type::DateTime {
                    return Err(arg_err(self, 0, "a datetime"));
                }
                for i in [1, 2] {
                    if lowered[i].ty != Type::Timespan || !constant(&lowered[i]) {
                        return Err(arg_err(self, i, "a timespan constant"));
                    }
                }
                Type::DateTime
            }
        };
        Ok(RowFunc {
            kind,
            args: lowered,
            restart,
            ty,
        })
    }

    /// `serialize [name = row_function(...), ...]`.
    pub(super) fn serialize(
        &mut self,
        input: Node,
        items: &[ast::NamedExpr],
        scope: &Scope,
    ) -> LResult<Node> {
        // `serialize n = row_number()`: each item one call over the input, which this
        // operator serializes (also the form detc's KQL prints).
        let direct = items.iter().all(|i| {
            matches!(&i.expr.kind, A::Call { name, args }
                if is_row_function(&name.name) && !args.iter().any(|a| has_row_call(&a.value)))
                && i.name.is_some()
                && i.more.is_empty()
        });
        if direct && !items.is_empty() {
            let mut funcs = Vec::new();
            for i in items {
                let name = i.name.as_ref().expect("checked").name.clone();
                funcs.push((name, self.row_func(&i.expr, &input, scope)?));
            }
            let span = items[0].expr.span;
            return self.serialize_node(input, funcs, span);
        }
        let serialized = Node {
            schema: input.schema.clone(),
            op: Op::Serialize {
                input: Box::new(input),
                items: Vec::new(),
            },
        };
        // Other items are an `extend` over the serialized rows.
        self.extend(serialized, items, scope)
    }

    /// Drops the hidden columns of hoisted calls (those `input` lacked) from `node`'s output.
    pub(super) fn drop_hidden(
        &mut self,
        input: &[Column],
        node: Node,
        span: crate::diagnostics::Span,
    ) -> LResult<Node> {
        let hidden =
            |c: &Column| c.name.starts_with(HIDDEN) && !input.iter().any(|i| i.name == c.name);
        if !node.schema.iter().any(hidden) {
            return Ok(node);
        }
        let items: Vec<(String, Expr)> = (0..node.schema.len())
            .filter(|&i| !hidden(&node.schema[i]))
            .map(|i| (node.schema[i].name.clone(), column_expr(&node, i)))
            .collect();
        self.project(node, items, span)
    }
}
