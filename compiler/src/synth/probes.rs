//! Probes: the constants a plan tests its source cells against (`where x has "MFA"`,
//! `TimeGenerated > ago(1d)`, `Id in (...)`), and the cells it joins or matches against each
//! other (join keys, `in (sub-query)`). Fixture synthesis builds rows around them.

use super::origin::{of_column, of_expr, Origin, Outer};
use crate::eval::compile::{compile, Ctx};
use crate::ir::{BinOp, Expr, ExprKind, Func, Node, Op, StrOp};
use crate::value::Value;

/// How a probe's value is tested.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Test {
    Cmp(BinOp),
    /// A string operator; `cs`: case-sensitive.
    Str {
        op: StrOp,
        cs: bool,
    },
    /// `isempty`/`isnull` and their negations: the value is irrelevant.
    Emptiness,
    /// Read by a function detc cannot invert (`ipv4_is_private(x)`, `extract(re, 1, x)`):
    /// plausible values for the column's kind of data (see [`super::variants::plausible`]).
    Read,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    pub origin: Origin,
    pub test: Test,
    pub value: Value,
}

/// Everything the plan tests, in plan order.
#[derive(Default, Debug)]
pub struct Probes {
    pub probes: Vec<Probe>,
    /// Cells compared with each other: they should share values.
    pub links: Vec<(Origin, Origin)>,
    /// Counts a threshold asks for (`summarize n = count() by x | where n > 5`).
    pub copies: Vec<Copies>,
}

/// A group of at least `n` rows of the tables below a `summarize` (with `distinct`: `n`
/// different values of that cell, for `dcount`).
#[derive(Clone, Debug, PartialEq)]
pub struct Copies {
    pub tables: Vec<String>,
    pub n: usize,
    pub distinct: Option<Origin>,
}

/// Rows one threshold may ask for at most.
const MAX_COPIES: usize = 100;

/// The `summarize` aggregate plan column `index` of `node` is, through filters, sorts and
/// plain renames: the summarize's input and the aggregate.
fn aggregate_of(node: &Node, index: usize) -> Option<(&Node, &crate::ir::Agg)> {
    let column = |e: &Expr| match e.kind {
        ExprKind::Column { index, .. } => Some(index),
        _ => None,
    };
    match &node.op {
        Op::Filter { input, .. }
        | Op::Sort { input, .. }
        | Op::Take { input, .. }
        | Op::Distinct { input } => aggregate_of(input, index),
        Op::Extend { input, items } => {
            match items.iter().find(|(_, slot, _)| *slot == Some(index)) {
                Some((_, _, e)) => aggregate_of(input, column(e)?),
                None if index < input.schema.len() => aggregate_of(input, index),
                None => None,
            }
        }
        Op::Project { input, items } => aggregate_of(input, column(&items.get(index)?.1)?),
        Op::Summarize { input, by, aggs } if index >= by.len() => {
            aggs.get(index - by.len()).map(|(_, a)| (&**input, a))
        }
        _ => None,
    }
}

/// The probes of a plan whose parameters are bound; `now` evaluates `ago()` and `now()`.
pub fn collect(plan: &Node, now: i64) -> Probes {
    let mut p = Collector {
        out: Probes::default(),
        ctx: Ctx { now },
    };
    p.node(plan, &Vec::new());
    p.out
}

struct Collector {
    out: Probes,
    ctx: Ctx,
}

impl Collector {
    fn node(&mut self, node: &Node, outer: &Outer) {
        match &node.op {
            Op::Filter { input, predicate } => self.expr(input, predicate, outer),
            Op::Extend { input, items } => {
                for (_, _, e) in items {
                    self.expr(input, e, outer);
                }
            }
            Op::Project { input, items } => {
                for (_, e) in items {
                    self.expr(input, e, outer);
                }
            }
            Op::Summarize { input, by, aggs } => {
                for (_, e) in by {
                    self.expr(input, e, outer);
                }
                for (_, a) in aggs {
                    for e in &a.args {
                        self.expr(input, e, outer);
                    }
                }
            }
            Op::Join {
                left, right, keys, ..
            } => {
                for (l, r) in keys {
                    self.link(of_column(left, *l, outer), of_column(right, *r, outer));
                }
            }
            _ => {}
        }
        match &node.op {
            Op::MvApply { input, body, .. } => {
                self.node(input, outer);
                let mut inner = outer.clone();
                inner.push(input);
                self.node(body, &inner);
            }
            _ => {
                for i in node.inputs() {
                    self.node(i, outer);
                }
            }
        }
    }

    fn link(&mut self, a: Vec<Origin>, b: Vec<Origin>) {
        for x in &a {
            for y in &b {
                if x != y && !self.out.links.contains(&(x.clone(), y.clone())) {
                    self.out.links.push((x.clone(), y.clone()));
                }
            }
        }
    }

    fn add(&mut self, origins: Vec<Origin>, test: Test, value: Value) {
        for origin in origins {
            let p = Probe {
                origin,
                test,
                value: value.clone(),
            };
            if !self.out.probes.contains(&p) {
                self.out.probes.push(p);
            }
        }
    }

    /// The value of a constant expression (no columns, sub-queries or parameters).
    fn constant(&self, e: &Expr) -> Option<Value> {
        let mut constant = true;
        e.walk(&mut |x| {
            if matches!(
                x.kind,
                ExprKind::Column { .. }
                    | ExprKind::Subquery { .. }
                    | ExprKind::Param(_)
                    | ExprKind::Template(_)
            ) {
                constant = false;
            }
        });
        if !constant {
            return None;
        }
        let f = compile(e, &self.ctx).ok()?;
        match f(&[]) {
            Value::Null => None,
            v => Some(v),
        }
    }

    /// Probes of `e`, an expression over the rows of `input`, and of its sub-expressions.
    fn expr(&mut self, input: &Node, e: &Expr, outer: &Outer) {
        let origins = |x: &Expr| of_expr(input, x, outer);
        match &e.kind {
            ExprKind::Binary { op, lhs, rhs } => {
                let cmp = matches!(
                    op,
                    BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
                )
                .then_some(*op);
                if let Some(cmp) = cmp {
                    self.threshold(input, lhs, rhs, cmp);
                    self.threshold(input, rhs, lhs, flip(cmp));
                    if let Some(v) = self.constant(rhs) {
                        self.add(origins(lhs), Test::Cmp(cmp), v);
                    } else if let Some(v) = self.constant(lhs) {
                        self.add(origins(rhs), Test::Cmp(flip(cmp)), v);
                    } else {
                        self.link(origins(lhs), origins(rhs));
                    }
                }
            }
            ExprKind::Str {
                op, cs, lhs, rhs, ..
            } => {
                let test = Test::Str { op: *op, cs: *cs };
                match self.constant(rhs) {
                    Some(v) => self.add(origins(lhs), test, v),
                    None => self.link(origins(lhs), origins(rhs)),
                }
            }
            ExprKind::In { lhs, items, cs, .. } => {
                let test = if *cs {
                    Test::Cmp(BinOp::Eq)
                } else {
                    Test::Str {
                        op: StrOp::Equals,
                        cs: false,
                    }
                };
                let lo = origins(lhs);
                for item in items {
                    self.list_item(&lo, item, test);
                }
            }
            ExprKind::HasAny { lhs, terms, cs, .. } => {
                let test = Test::Str {
                    op: StrOp::Has,
                    cs: *cs,
                };
                let lo = origins(lhs);
                for t in terms {
                    self.list_item(&lo, t, test);
                }
            }
            ExprKind::Between { expr, lo, hi, .. } => {
                let o = origins(expr);
                if let Some(v) = self.constant(lo) {
                    self.add(o.clone(), Test::Cmp(BinOp::Ge), v);
                }
                if let Some(v) = self.constant(hi) {
                    self.add(o, Test::Cmp(BinOp::Le), v);
                }
            }
            ExprKind::Call { func, args }
                if matches!(
                    func,
                    Func::IsEmpty | Func::IsNotEmpty | Func::IsNull | Func::IsNotNull
                ) && args.len() == 1 =>
            {
                self.add(origins(&args[0]), Test::Emptiness, Value::Null);
            }
            ExprKind::Call { args, .. } => {
                for a in args {
                    if let ExprKind::Column { .. } = a.kind {
                        self.add(origins(a), Test::Read, Value::Null);
                    }
                }
            }
            _ => {}
        }
        for c in e.children() {
            self.expr(input, c, outer);
        }
        if let ExprKind::Subquery { plan, .. } = &e.kind {
            self.node(plan, &Vec::new());
        }
    }

    /// `count() > 5` (an aggregate column compared with a constant): ask for enough rows.
    fn threshold(&mut self, input: &Node, col: &Expr, bound: &Expr, cmp: BinOp) {
        let ExprKind::Column { index, .. } = col.kind else {
            return;
        };
        let Some((below, agg)) = aggregate_of(input, index) else {
            return;
        };
        use crate::ir::AggFunc;
        if !matches!(
            agg.func,
            AggFunc::Count | AggFunc::CountIf | AggFunc::DCount | AggFunc::DCountIf
        ) {
            return;
        }
        let v = match self.constant(bound) {
            Some(Value::Long(n)) => n as f64,
            Some(Value::Real(x)) => x,
            _ => return,
        };
        let n = match cmp {
            BinOp::Gt => v.floor() + 1.0,
            BinOp::Ge | BinOp::Eq => v.ceil(),
            _ => return,
        };
        if n.is_nan() || n <= 1.0 {
            return;
        }
        let distinct = match agg.func {
            AggFunc::DCount | AggFunc::DCountIf => {
                let o = of_expr(
                    below,
                    agg.args.first().expect("dcount has an argument"),
                    &Vec::new(),
                );
                match o.into_iter().next() {
                    Some(o) => Some(o),
                    None => return,
                }
            }
            _ => None,
        };
        let c = Copies {
            tables: below.sources().into_iter().map(|(t, _)| t).collect(),
            n: (n as usize).min(MAX_COPIES),
            distinct,
        };
        if !self.out.copies.contains(&c) {
            self.out.copies.push(c);
        }
    }

    /// One item of an `in`/`has_any` list: a constant (a dynamic array contributes its
    /// elements) or a sub-query, whose first column the left side is matched against.
    fn list_item(&mut self, lhs: &[Origin], item: &Expr, test: Test) {
        if let ExprKind::Subquery { plan, .. } = &item.kind {
            self.link(lhs.to_vec(), of_column(plan, 0, &Vec::new()));
            self.node(plan, &Vec::new());
            return;
        }
        match self.constant(item) {
            Some(Value::Dynamic(d)) => {
                if let serde_json::Value::Array(a) = &*d {
                    for x in a.iter().take(16) {
                        let v = crate::eval::data::json_value(x, crate::types::Type::Dynamic)
                            .ok()
                            .map(|v| match (&v, x) {
                                (_, serde_json::Value::String(s)) => Value::str(s),
                                _ => v,
                            });
                        if let Some(v) = v {
                            self.add(lhs.to_vec(), test, v);
                        }
                    }
                }
            }
            Some(v) => self.add(lhs.to_vec(), test, v),
            None => {}
        }
    }
}

/// The comparison with its sides swapped (`5 < x` is `x > 5`).
fn flip(c: BinOp) -> BinOp {
    match c {
        BinOp::Lt => BinOp::Gt,
        BinOp::Le => BinOp::Ge,
        BinOp::Gt => BinOp::Lt,
        BinOp::Ge => BinOp::Le,
        c => c,
    }
}
