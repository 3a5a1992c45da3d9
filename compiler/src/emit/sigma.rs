//! Sigma v2. One rule per union leg over a table that has a Sigma log source
//! (`targets/sigma/logsources.json`), plus a pySigma processing pipeline that maps each log
//! source back to its table and resolves the placeholders.
//!
//! A leg is a table read, filters, column shaping (dropped: a Sigma rule selects events) and
//! joins or `in` with a set drawn from another query (a watchlist, a lookup table): the set
//! becomes a placeholder (`Field|expand: '%name%'`) that the pipeline resolves to the set's
//! sub-query in KQL. Filters become a condition over named selections, exact where Sigma has
//! the operator (`|cased` for case-sensitive equality, `|re|i` with term boundaries for
//! `has`); what Sigma cannot say exactly is declared ([`Approximation`], also written as
//! comments into both files); anything else is [`Unsupported`] with a reason.

use std::collections::BTreeMap;

use super::{Approximation, Unsupported};
use crate::emit::kql;
use crate::ir::{BinOp, Expr, ExprKind, Func, JoinKind, Node, Op, StrOp};
use crate::rule::model::{Rule, Severity};
use crate::types::Type;
use crate::value::Value;

const LOGSOURCES: &str = include_str!("../../../targets/sigma/logsources.json");

/// The Sigma log source of a table: `(key, value)` pairs in category, product, service order.
pub fn logsource(table: &str) -> Option<Vec<(&'static str, String)>> {
    let map: serde_json::Value = serde_json::from_str(LOGSOURCES).ok()?;
    let e = map.get(table)?;
    let out: Vec<(&'static str, String)> = ["category", "product", "service"]
        .into_iter()
        .filter_map(|k| Some((k, e.get(k)?.as_str()?.to_string())))
        .collect();
    (!out.is_empty()).then_some(out)
}

/// The Sigma output of one rule: the rules (one YAML document per leg), the processing
/// pipeline, and the declared approximations (each once).
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    pub rules: String,
    pub pipeline: String,
    pub approximations: Vec<Approximation>,
}

fn unsupported(what: &str, why: &str) -> Unsupported {
    Unsupported {
        construct: what.into(),
        reason: why.into(),
    }
}

#[derive(Clone, Debug, PartialEq)]
enum SVal {
    Str(String),
    Num(String),
    Null,
    Placeholder(String),
}

/// One named selection: a field, its modifiers and values (any of them matches).
#[derive(Clone, Debug, PartialEq)]
struct Sel {
    field: String,
    modifiers: Vec<&'static str>,
    values: Vec<SVal>,
}

#[derive(Clone, Debug)]
enum Cond {
    Sel(Sel),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
}

/// A set drawn from another query, resolved by the pipeline.
#[derive(Clone, Debug)]
struct Placeholder {
    name: String,
    /// KQL operator between the field and the set (`in`, `in~`).
    op: &'static str,
    /// The set as one KQL line: a tabular expression with one column.
    query: String,
}

#[derive(Clone, Debug)]
struct Leg {
    table: String,
    /// Per output column: the event field it still is, or `None` once computed.
    cols: Vec<Option<String>>,
    conds: Vec<Cond>,
}

struct Ctx {
    approximations: Vec<Approximation>,
    placeholders: Vec<Placeholder>,
}

impl Ctx {
    fn approx(&mut self, construct: &str, how: &str) {
        Approximation::declare(&mut self.approximations, construct, how);
    }

    /// A placeholder for `query` (reused when the same set is used twice).
    fn placeholder(&mut self, base: &str, op: &'static str, query: String) -> String {
        if let Some(p) = self
            .placeholders
            .iter()
            .find(|p| p.query == query && p.op == op)
        {
            return p.name.clone();
        }
        let mut name: String = base
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        name = name.trim_matches('_').to_string();
        if name.is_empty() {
            name = "set".into();
        }
        let mut unique = name.clone();
        let mut i = 2;
        while self.placeholders.iter().any(|p| p.name == unique) {
            unique = format!("{name}_{i}");
            i += 1;
        }
        self.placeholders.push(Placeholder {
            name: unique.clone(),
            op,
            query,
        });
        unique
    }
}

/// The sub-plan as one line of KQL (the pipeline's expression is one line).
fn one_line(plan: &Node) -> String {
    kql::inline_text(plan)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The watchlist column a set's column is, when the set is a watchlist read with columns only
/// picked or renamed (no filter): `(alias, column)`.
fn watchlist_column(node: &Node, index: usize) -> Option<(String, String)> {
    match &node.op {
        Op::Scan { table } => {
            let alias = table
                .strip_prefix(crate::catalog::GET_WATCHLIST)?
                .strip_prefix('_')?;
            Some((alias.to_string(), node.schema.get(index)?.name.clone()))
        }
        Op::Project { input, items } => match &items.get(index)?.1.kind {
            ExprKind::Column { index, .. } => watchlist_column(input, *index),
            _ => None,
        },
        Op::Extend { input, items } => {
            let n = input.schema.len();
            let item = items.iter().find(|(_, slot, _)| *slot == Some(index));
            match item {
                Some((_, _, e)) => match &e.kind {
                    ExprKind::Column { index, .. } => watchlist_column(input, *index),
                    _ => None,
                },
                None if index < n => watchlist_column(input, index),
                None => {
                    let appended: Vec<&Expr> = items
                        .iter()
                        .filter(|(_, slot, _)| slot.is_none())
                        .map(|(_, _, e)| e)
                        .collect();
                    match &appended.get(index - n)?.kind {
                        ExprKind::Column { index, .. } => watchlist_column(input, *index),
                        _ => None,
                    }
                }
            }
        }
        _ => None,
    }
}

/// The set as one KQL line with one column: a watchlist's own column straight from
/// `_GetWatchlist`, anything else the sub-plan then its key column.
fn set_query(set: &Node, index: usize) -> String {
    if let Some((alias, col)) = watchlist_column(set, index) {
        return format!(
            "{}({}) | project {}",
            crate::catalog::GET_WATCHLIST,
            kql::string_lit(&alias),
            kql::ident(&col)
        );
    }
    let col = &set.schema[index].name;
    if set.schema.len() == 1 {
        one_line(set)
    } else {
        format!("{} | project {}", one_line(set), kql::ident(col))
    }
}

fn set_name(set: &Node, column: &str) -> String {
    let tables = set.tables();
    match tables.first() {
        Some(t) => match t
            .strip_prefix(crate::catalog::GET_WATCHLIST)
            .and_then(|t| t.strip_prefix('_'))
        {
            Some(alias) => format!("watchlist_{alias}"),
            None => format!("{t}_{column}"),
        },
        None => column.to_string(),
    }
}

/// The event field an expression reads, if it is a plain column that still holds one.
fn field<'a>(e: &Expr, cols: &'a [Option<String>]) -> Result<&'a str, Unsupported> {
    match &e.kind {
        ExprKind::Column { index, name } => {
            cols.get(*index).and_then(|c| c.as_deref()).ok_or_else(|| {
                unsupported(
                    &format!("computed column `{name}`"),
                    "a Sigma rule can test the event's own fields only",
                )
            })
        }
        _ => Err(unsupported(
            &kql::expr_text(e),
            "a Sigma condition compares one field with constants; this operand is an expression",
        )),
    }
}

fn constant(e: &Expr) -> Result<SVal, Unsupported> {
    match &e.kind {
        ExprKind::Literal(v) => match v {
            Value::String(s) => Ok(SVal::Str(s.to_string())),
            Value::Long(n) => Ok(SVal::Num(n.to_string())),
            Value::Real(x) if x.is_finite() => Ok(SVal::Num(format!("{x:?}"))),
            Value::Null => Ok(SVal::Null),
            _ => Err(unsupported(
                &kql::expr_text(e),
                "Sigma values are strings, numbers and null",
            )),
        },
        _ => Err(unsupported(
            &kql::expr_text(e),
            "a Sigma value is a constant; this is computed at run time",
        )),
    }
}

/// A constant compared as text (a string column compared with numbers compares their text).
fn text_constant(e: &Expr) -> Result<SVal, Unsupported> {
    match &e.kind {
        ExprKind::Literal(v @ (Value::Long(_) | Value::Real(_) | Value::Bool(_))) => {
            Ok(SVal::Str(v.to_kql_string()))
        }
        _ => constant(e),
    }
}

fn is_text(t: Type) -> bool {
    matches!(t, Type::String | Type::Guid)
}

fn is_number(t: Type) -> bool {
    matches!(t, Type::Int | Type::Long | Type::Real)
}

/// The term-boundary regular expression of `has` (docs/semantics.md): a term's alphanumeric
/// end must not touch another alphanumeric character.
fn term_regex(term: &str, prefix: bool, suffix: bool) -> String {
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric());
    let mut r = String::new();
    if prefix && alnum(term.chars().next()) {
        r.push_str("(^|[^0-9A-Za-z])");
    }
    r.push_str(&regex::escape(term));
    if suffix && alnum(term.chars().last()) {
        r.push_str("($|[^0-9A-Za-z])");
    }
    r
}

fn has_approx(ctx: &mut Ctx) {
    ctx.approx(
        "has (whole term)",
        "a regular expression (|re) with ASCII term boundaries: non-ASCII letters and digits count as term characters natively but as boundaries here (pySigma's regular expressions have no \\p{L})",
    );
}

fn sel(field: &str, modifiers: Vec<&'static str>, values: Vec<SVal>) -> Cond {
    Cond::Sel(Sel {
        field: field.to_string(),
        modifiers,
        values,
    })
}

fn not_if(negated: bool, c: Cond) -> Cond {
    if negated {
        Cond::Not(Box::new(c))
    } else {
        c
    }
}

fn predicate(e: &Expr, cols: &[Option<String>], ctx: &mut Ctx) -> Result<Cond, Unsupported> {
    match &e.kind {
        ExprKind::Binary {
            op: op @ (BinOp::And | BinOp::Or),
            lhs,
            rhs,
        } => {
            let l = predicate(lhs, cols, ctx)?;
            let r = predicate(rhs, cols, ctx)?;
            Ok(if *op == BinOp::And {
                Cond::And(vec![l, r])
            } else {
                Cond::Or(vec![l, r])
            })
        }
        ExprKind::Call {
            func: Func::Not,
            args,
        } if args.len() == 1 => Ok(Cond::Not(Box::new(predicate(&args[0], cols, ctx)?))),
        ExprKind::Call {
            func: func @ (Func::IsEmpty | Func::IsNotEmpty | Func::IsNull | Func::IsNotNull),
            args,
        } if args.len() == 1 => {
            let f = field(&args[0], cols)?;
            let empty = matches!(func, Func::IsEmpty | Func::IsNotEmpty);
            if empty && !is_text(args[0].ty) {
                return Err(unsupported(
                    &kql::expr_text(e),
                    "isempty on a non-string field has no Sigma spelling",
                ));
            }
            let mut values = vec![SVal::Null];
            if empty {
                values.push(SVal::Str(String::new()));
            }
            Ok(not_if(
                matches!(func, Func::IsNotEmpty | Func::IsNotNull),
                sel(f, vec![], values),
            ))
        }
        ExprKind::Binary { op, lhs, rhs }
            if matches!(
                op,
                BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
            ) =>
        {
            let f = field(lhs, cols)?;
            if !is_number(lhs.ty) {
                return Err(unsupported(
                    &kql::expr_text(e),
                    &format!(
                        "Sigma compares numbers only; this compares a {} field",
                        lhs.ty.name()
                    ),
                ));
            }
            let v = constant(rhs)?;
            if !matches!(v, SVal::Num(_)) {
                return Err(unsupported(
                    &kql::expr_text(e),
                    "a number field compared with a non-number",
                ));
            }
            Ok(match op {
                BinOp::Eq => sel(f, vec![], vec![v]),
                BinOp::Ne => Cond::Not(Box::new(sel(f, vec![], vec![v]))),
                BinOp::Lt => sel(f, vec!["lt"], vec![v]),
                BinOp::Le => sel(f, vec!["lte"], vec![v]),
                BinOp::Gt => sel(f, vec!["gt"], vec![v]),
                _ => sel(f, vec!["gte"], vec![v]),
            })
        }
        ExprKind::Str {
            op,
            cs,
            negated,
            lhs,
            rhs,
        } => {
            let f = field(lhs, cols)?;
            if !is_text(lhs.ty) {
                return Err(unsupported(
                    &kql::expr_text(e),
                    &format!(
                        "a string operator on a {} field: Sigma would compare the backend's own rendering of it",
                        lhs.ty.name()
                    ),
                ));
            }
            let SVal::Str(s) = text_constant(rhs)? else {
                return Err(unsupported(
                    &kql::expr_text(e),
                    "a string operator with a non-string operand",
                ));
            };
            let cased = |mut m: Vec<&'static str>| {
                if *cs {
                    m.push("cased");
                }
                m
            };
            let c = match op {
                StrOp::Equals => sel(f, cased(vec![]), vec![SVal::Str(s)]),
                StrOp::Contains => sel(f, cased(vec!["contains"]), vec![SVal::Str(s)]),
                StrOp::StartsWith => sel(f, cased(vec!["startswith"]), vec![SVal::Str(s)]),
                StrOp::EndsWith => sel(f, cased(vec!["endswith"]), vec![SVal::Str(s)]),
                StrOp::Has | StrOp::HasPrefix | StrOp::HasSuffix => {
                    has_approx(ctx);
                    let (p, q) = match op {
                        StrOp::Has => (true, true),
                        StrOp::HasPrefix => (true, false),
                        _ => (false, true),
                    };
                    let m = if *cs { vec!["re"] } else { vec!["re", "i"] };
                    sel(f, m, vec![SVal::Str(term_regex(&s, p, q))])
                }
            };
            Ok(not_if(*negated, c))
        }
        ExprKind::HasAny {
            lhs,
            terms,
            all,
            cs,
        } => {
            let f = field(lhs, cols)?;
            if !is_text(lhs.ty) {
                return Err(unsupported(
                    &kql::expr_text(e),
                    "has_any on a non-string field",
                ));
            }
            has_approx(ctx);
            let mut values = Vec::new();
            for t in terms {
                let SVal::Str(s) = text_constant(t)? else {
                    return Err(unsupported(&kql::expr_text(t), "a non-string term"));
                };
                let v = SVal::Str(term_regex(&s, true, true));
                if !values.contains(&v) {
                    values.push(v);
                }
            }
            let m = if *cs { vec!["re"] } else { vec!["re", "i"] };
            if *all {
                // One selection per term, all required (`|all` is meant for `|contains`).
                return Ok(Cond::And(
                    values
                        .into_iter()
                        .map(|v| sel(f, m.clone(), vec![v]))
                        .collect(),
                ));
            }
            Ok(sel(f, m, values))
        }
        ExprKind::In {
            lhs,
            items,
            cs,
            negated,
        } => {
            let f = field(lhs, cols)?.to_string();
            if let [Expr {
                kind: ExprKind::Subquery { plan, .. },
                ..
            }] = items.as_slice()
            {
                let col = plan
                    .schema
                    .first()
                    .map(|c| c.name.clone())
                    .unwrap_or_default();
                let query = set_query(plan, 0);
                let name =
                    ctx.placeholder(&set_name(plan, &col), if *cs { "in" } else { "in~" }, query);
                return Ok(not_if(
                    *negated,
                    sel(&f, vec!["expand"], vec![SVal::Placeholder(name)]),
                ));
            }
            let text = is_text(lhs.ty);
            if !text && !is_number(lhs.ty) {
                return Err(unsupported(
                    &kql::expr_text(e),
                    &format!("`in` over a {} field", lhs.ty.name()),
                ));
            }
            let mut values = Vec::new();
            for i in items {
                let v = if text {
                    text_constant(i)?
                } else {
                    constant(i)?
                };
                if !values.contains(&v) {
                    values.push(v);
                }
            }
            let m = if *cs && text { vec!["cased"] } else { vec![] };
            Ok(not_if(*negated, sel(&f, m, values)))
        }
        _ => Err(unsupported(
            &kql::expr_text(e),
            "no Sigma condition for this expression",
        )),
    }
}

fn conjuncts(e: &Expr, out: &mut Vec<Expr>) {
    match &e.kind {
        ExprKind::Binary {
            op: BinOp::And,
            lhs,
            rhs,
        } => {
            conjuncts(lhs, out);
            conjuncts(rhs, out);
        }
        _ => out.push(e.clone()),
    }
}

/// The event time fields: `TimeGenerated` (Log Analytics), `Timestamp` (Defender XDR).
const TIME_FIELDS: [&str; 2] = ["TimeGenerated", "Timestamp"];

/// A top-level condition bounding the event time by values that do not depend on the row
/// (parameters, `ago()`, `now()`, constants): the rule's time window.
fn is_time_window(e: &Expr, cols: &[Option<String>]) -> bool {
    let on_time = |x: &Expr| {
        x.ty == Type::DateTime
            && matches!(&x.kind, ExprKind::Column { index, .. }
                if cols.get(*index).and_then(|c| c.as_deref()).is_some_and(|c| TIME_FIELDS.contains(&c)))
    };
    let row_free = |x: &Expr| {
        let mut cols = false;
        x.walk(&mut |y| {
            cols |= matches!(y.kind, ExprKind::Column { .. } | ExprKind::Subquery { .. })
        });
        !cols
    };
    match &e.kind {
        ExprKind::Between {
            expr,
            lo,
            hi,
            negated: false,
        } => on_time(expr) && row_free(lo) && row_free(hi),
        ExprKind::Binary { op, lhs, rhs } => {
            matches!(op, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
                && ((on_time(lhs) && row_free(rhs)) || (on_time(rhs) && row_free(lhs)))
        }
        _ => false,
    }
}

fn shaping(ctx: &mut Ctx) {
    ctx.approx(
        "extend/project (output columns)",
        "not carried: a Sigma rule selects events, so its query returns the events' fields; computed and renamed columns are not produced",
    );
}

/// The column a computed value keeps, if it is a plain reference to an event field.
fn kept(e: &Expr, cols: &[Option<String>]) -> Option<String> {
    match &e.kind {
        ExprKind::Column { index, .. } => cols.get(*index).cloned().flatten(),
        _ => None,
    }
}

fn legs(node: &Node, ctx: &mut Ctx) -> Result<Vec<Leg>, Unsupported> {
    match &node.op {
        Op::Scan { table } => {
            if table.starts_with(crate::catalog::GET_WATCHLIST) {
                return Err(unsupported(
                    "watchlist as the event source",
                    "a watchlist is not a Sigma log source",
                ));
            }
            Ok(vec![Leg {
                table: table.clone(),
                cols: node.schema.iter().map(|c| Some(c.name.clone())).collect(),
                conds: vec![],
            }])
        }
        Op::Filter {
            input,
            predicate: p,
        } => {
            let mut ls = legs(input, ctx)?;
            for l in &mut ls {
                let mut parts = Vec::new();
                conjuncts(p, &mut parts);
                for part in parts {
                    if is_time_window(&part, &l.cols) {
                        ctx.approx(
                            "time window",
                            "dropped: a Sigma rule has no time window; the backend's search window (the rule's schedule) applies",
                        );
                        continue;
                    }
                    let c = predicate(&part, &l.cols, ctx)?;
                    l.conds.push(c);
                }
            }
            Ok(ls)
        }
        Op::Extend { input, items } => {
            let mut ls = legs(input, ctx)?;
            shaping(ctx);
            for l in &mut ls {
                let old = l.cols.clone();
                for (_, slot, e) in items {
                    let v = kept(e, &old);
                    match slot {
                        Some(i) => l.cols[*i] = v,
                        None => l.cols.push(v),
                    }
                }
            }
            Ok(ls)
        }
        Op::Project { input, items } => {
            let mut ls = legs(input, ctx)?;
            shaping(ctx);
            for l in &mut ls {
                let old = l.cols.clone();
                l.cols = items.iter().map(|(_, e)| kept(e, &old)).collect();
            }
            Ok(ls)
        }
        Op::Union { legs: parts } => {
            let mut out = Vec::new();
            for (n, map) in parts {
                for mut l in legs(n, ctx)? {
                    l.cols = map
                        .iter()
                        .map(|m| m.and_then(|i| l.cols.get(i).cloned().flatten()))
                        .collect();
                    out.push(l);
                }
            }
            Ok(out)
        }
        Op::Join {
            kind,
            left,
            right,
            keys,
        } => join(node, *kind, left, right, keys, ctx),
        Op::Summarize { .. } | Op::MakeSeries { .. } => Err(unsupported(
            "summarize",
            "aggregation needs a Sigma correlation rule, which detc does not emit",
        )),
        Op::Distinct { .. } => Err(unsupported(
            "distinct",
            "a Sigma rule returns events, not distinct values",
        )),
        Op::Take { .. } | Op::Sort { .. } => Err(unsupported(
            "take/sort",
            "a Sigma rule selects events; it cannot order or limit them",
        )),
        Op::MvExpand { .. } | Op::MvApply { .. } => Err(unsupported(
            "mv-expand/mv-apply",
            "a Sigma rule cannot make several rows of one event",
        )),
        Op::Serialize { .. } => Err(unsupported(
            "serialize/row functions",
            "a Sigma rule sees one event at a time",
        )),
        Op::Values { .. } | Op::External { .. } => Err(unsupported(
            "datatable/externaldata",
            "inline or external rows are not a Sigma log source",
        )),
        Op::BagUnpack { .. } | Op::Pivot { .. } => {
            Err(unsupported("evaluate", "plugins have no Sigma counterpart"))
        }
        Op::OuterRow => Err(unsupported("mv-apply", "no Sigma counterpart")),
    }
}

/// True when every table the plan reads has a Sigma log source.
fn mapped(n: &Node) -> bool {
    let t = n.tables();
    !t.is_empty() && t.iter().all(|t| logsource(t).is_some())
}

fn join(
    node: &Node,
    kind: JoinKind,
    left: &Node,
    right: &Node,
    keys: &[(usize, usize)],
    ctx: &mut Ctx,
) -> Result<Vec<Leg>, Unsupported> {
    let [(lk, rk)] = keys else {
        return Err(unsupported(
            "join on several keys",
            "a placeholder holds the values of one field",
        ));
    };
    // The event side: the one over Sigma log sources (the left one when both are).
    let events_left = mapped(left) || !mapped(right);
    let (ev, set, ek, sk) = if events_left {
        (left, right, *lk, *rk)
    } else {
        (right, left, *rk, *lk)
    };
    let (negated, multiplies) = match (kind, events_left) {
        (JoinKind::LeftSemi, true) | (JoinKind::RightSemi, false) => (false, false),
        (JoinKind::LeftAnti, true) | (JoinKind::RightAnti, false) => (true, false),
        (JoinKind::Inner, _) | (JoinKind::InnerUnique, false) => (false, true),
        (JoinKind::InnerUnique, true) => return Err(unsupported(
            "join kind=innerunique",
            "the events are the left side, of which innerunique keeps one arbitrary row per key",
        )),
        _ => {
            return Err(unsupported(
                &format!("join kind={}", kind.kql()),
                "only inner, semi and anti joins with a set become a Sigma placeholder",
            ))
        }
    };
    let mut ls = legs(ev, ctx)?;
    let set_col = set.schema[sk].name.clone();
    let query = set_query(set, sk);
    let name = ctx.placeholder(&set_name(set, &set_col), "in", query);
    if multiplies {
        ctx.approx(
            "join with a set",
            &format!(
                "the set becomes placeholder %{name}% (the event's key must be one of its values, compared case-sensitively as the join does); the rule returns each matching event once, without the set side's columns, where the join gives one row per matching row of the set"
            ),
        );
    }
    let (ev_cols, set_cols) = if events_left {
        (0..left.schema.len(), left.schema.len()..node.schema.len())
    } else {
        (left.schema.len()..node.schema.len(), 0..left.schema.len())
    };
    let semi = matches!(
        kind,
        JoinKind::LeftSemi | JoinKind::RightSemi | JoinKind::LeftAnti | JoinKind::RightAnti
    );
    for l in &mut ls {
        let f = l.cols.get(ek).cloned().flatten().ok_or_else(|| {
            unsupported(
                &format!("join key `{}`", ev.schema[ek].name),
                "the event side's key is computed; a placeholder tests an event field",
            )
        })?;
        l.conds.push(not_if(
            negated,
            sel(&f, vec!["expand"], vec![SVal::Placeholder(name.clone())]),
        ));
        if !semi {
            // Output columns: the left's then the right's; the set's are not carried.
            let mut cols = vec![None; node.schema.len()];
            for (i, c) in ev_cols.clone().enumerate() {
                cols[c] = l.cols.get(i).cloned().flatten();
            }
            for c in set_cols.clone() {
                cols[c] = None;
            }
            l.cols = cols;
        }
    }
    Ok(ls)
}

fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// A log source name plain where YAML reads it back as the same string.
fn yaml_name(s: &str) -> String {
    let plain = s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c))
        && !["null", "true", "false", "yes", "no", "on", "off"].contains(&s);
    if plain {
        s.to_string()
    } else {
        yaml_str(s)
    }
}

/// A Sigma string value: wildcards and the escape character taken literally.
fn sigma_plain(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if matches!(c, '*' | '?' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

struct Writer {
    sels: Vec<(String, Sel)>,
}

impl Writer {
    fn name(&mut self, s: Sel) -> String {
        if let Some((n, _)) = self.sels.iter().find(|(_, x)| *x == s) {
            return n.clone();
        }
        let n = format!("selection_{}", self.sels.len() + 1);
        self.sels.push((n.clone(), s));
        n
    }

    /// The condition text; `top` is the precedence context (0 or, 1 and, 2 not).
    fn cond(&mut self, c: &Cond, top: u8) -> String {
        match c {
            Cond::Sel(s) => self.name(s.clone()),
            Cond::Not(x) => format!("not {}", self.cond(x, 2)),
            Cond::And(xs) | Cond::Or(xs) => {
                let (p, word) = if matches!(c, Cond::And(_)) {
                    (1, " and ")
                } else {
                    (0, " or ")
                };
                let parts: Vec<String> = xs.iter().map(|x| self.cond(x, p)).collect();
                let t = parts.join(word);
                if top > p {
                    format!("({t})")
                } else {
                    t
                }
            }
        }
    }
}

fn value_text(v: &SVal, regex: bool) -> String {
    match v {
        SVal::Str(s) if regex => yaml_str(s),
        SVal::Str(s) => yaml_str(&sigma_plain(s)),
        SVal::Num(n) => n.clone(),
        SVal::Null => "null".into(),
        SVal::Placeholder(p) => format!("'%{p}%'"),
    }
}

/// A name-based UUID (version 8 layout) so that rebuilds give the same rule ids.
fn stable_uuid(text: &str) -> String {
    let a = xxhash_rust::xxh64::xxh64(text.as_bytes(), 0x5167_6d61);
    let b = xxhash_rust::xxh64::xxh64(text.as_bytes(), 0x6465_7463);
    let hi = (a & 0xffff_ffff_ffff_0fff) | 0x8000;
    let lo = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn tag(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.trim().chars().enumerate() {
        if c.is_uppercase() && i > 0 && !out.ends_with('-') {
            out.push('-');
        }
        match c {
            c if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' => {
                out.extend(c.to_lowercase())
            }
            _ if !out.ends_with('-') => out.push('-'),
            _ => {}
        }
    }
    out.trim_matches('-').to_string()
}

fn comments(head: &str, approximations: &[Approximation]) -> String {
    let mut s = head.to_string();
    if approximations.is_empty() {
        s.push_str("# Exact: no declared approximations.\n");
    } else {
        s.push_str("# Declared approximations:\n");
        for a in approximations {
            s.push_str(&format!("#   - {}: {}\n", a.construct, a.how));
        }
    }
    s
}

pub fn emit(plan: &Node, rule: Option<&Rule>, source: &str) -> Result<Output, Unsupported> {
    let mut ctx = Ctx {
        approximations: vec![],
        placeholders: vec![],
    };
    let legs = legs(plan, &mut ctx)?;
    let mut sources = Vec::new();
    for l in &legs {
        let ls = logsource(&l.table).ok_or_else(|| {
            unsupported(
                &format!("table {}", l.table),
                "no Sigma log source is mapped for it (targets/sigma/logsources.json)",
            )
        })?;
        sources.push(ls);
    }
    let title = rule
        .and_then(|r| r.name.clone())
        .unwrap_or_else(|| source.to_string());
    let stem = std::path::Path::new(source)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("rule")
        .to_string();
    let pipeline_file = format!("{stem}.sigma-pipeline.yml");
    let mut docs = Vec::new();
    for (i, (l, ls)) in legs.iter().zip(&sources).enumerate() {
        let mut d = String::new();
        let suffix = if legs.len() > 1 && legs.iter().filter(|x| x.table == l.table).count() > 1 {
            format!("{}, leg {}", l.table, i + 1)
        } else {
            l.table.clone()
        };
        d.push_str(&format!(
            "title: {}\n",
            yaml_str(&format!("{title} ({suffix})"))
        ));
        let key = format!(
            "{}/{}/{i}",
            rule.and_then(|r| r.id.clone())
                .unwrap_or_else(|| source.into()),
            l.table
        );
        d.push_str(&format!("id: {}\n", stable_uuid(&key)));
        if let Some(id) = rule.and_then(|r| r.id.clone()).filter(|id| is_uuid(id)) {
            d.push_str(&format!(
                "related:\n  - id: {}\n    type: derived\n",
                id.to_lowercase()
            ));
        }
        d.push_str("status: experimental\n");
        d.push_str(&format!(
            "description: {}\n",
            yaml_str(&format!(
                "Generated by detc from {source} (leg over {}); log sources and placeholders are resolved by {pipeline_file}.",
                l.table
            ))
        ));
        if let Some(r) = rule {
            let mut tags: Vec<String> = Vec::new();
            for t in r
                .tactics
                .iter()
                .chain(&r.relevant_techniques)
                .map(|t| format!("attack.{}", tag(t)))
            {
                if t != "attack." && !tags.contains(&t) {
                    tags.push(t);
                }
            }
            if !tags.is_empty() {
                d.push_str("tags:\n");
                for t in tags {
                    d.push_str(&format!("  - {t}\n"));
                }
            }
        }
        d.push_str("logsource:\n");
        for (k, v) in ls {
            d.push_str(&format!("  {k}: {}\n", yaml_name(v)));
        }
        d.push_str("detection:\n");
        let mut w = Writer { sels: vec![] };
        let condition = match l.conds.len() {
            0 => None,
            1 => Some(w.cond(&l.conds[0], 0)),
            _ => Some(w.cond(&Cond::And(l.conds.clone()), 0)),
        };
        let condition = match condition {
            Some(c) => c,
            None => {
                // Every event of the log source: a selection that any event passes.
                return Err(unsupported(
                    "plan without a filter",
                    "a Sigma rule needs a detection; every event of the table has no Sigma spelling",
                ));
            }
        };
        for (n, s) in &w.sels {
            let m: String = s.modifiers.iter().map(|m| format!("|{m}")).collect();
            let regex = s.modifiers.contains(&"re");
            let key = format!("{}{m}", s.field);
            let plain = key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-|".contains(c));
            let key = if plain { key } else { yaml_str(&key) };
            d.push_str(&format!("  {n}:\n    {key}:\n"));
            for v in &s.values {
                d.push_str(&format!("      - {}\n", value_text(v, regex)));
            }
        }
        d.push_str(&format!("  condition: {condition}\n"));
        d.push_str("falsepositives:\n  - Unknown\n");
        let level = match rule.and_then(|r| r.severity) {
            Some(Severity::High) => "high",
            Some(Severity::Low) => "low",
            Some(Severity::Informational) => "informational",
            _ => "medium",
        };
        d.push_str(&format!("level: {level}\n"));
        docs.push(d);
    }
    let head = format!(
        "# Generated by detc from {source}: one Sigma rule per log source.\n# Convert with its pipeline: sigma convert -t kusto -p {pipeline_file} <this file>\n"
    );
    let rules = comments(&head, &ctx.approximations) + "---\n" + &docs.join("---\n");
    let pipeline = pipeline_text(source, &title, &legs, &sources, &ctx);
    Ok(Output {
        rules,
        pipeline,
        approximations: ctx.approximations,
    })
}

fn condition_yaml(ls: &[(&'static str, String)], indent: &str) -> String {
    let mut s = format!("{indent}rule_conditions:\n{indent}  - type: logsource\n");
    for (k, v) in ls {
        s.push_str(&format!("{indent}    {k}: {}\n", yaml_name(v)));
    }
    s
}

fn pipeline_text(
    source: &str,
    title: &str,
    legs: &[Leg],
    sources: &[Vec<(&'static str, String)>],
    ctx: &Ctx,
) -> String {
    let head = format!(
        "# Generated by detc from {source}: pySigma processing pipeline for its Sigma rules.\n# Maps each log source to its table (state query_table, and the query's table prefix for\n# the kusto backend) and resolves each placeholder to its set as a KQL sub-query.\n# For a backend without sub-queries, resolve a placeholder to values instead: a\n# `value_placeholders` transformation with the values under `vars:`.\n"
    );
    let mut p = comments(&head, &ctx.approximations);
    p.push_str(&format!(
        "name: {}\npriority: 20\ntransformations:\n",
        yaml_str(&format!("detc: {title}"))
    ));
    let mut tables: BTreeMap<String, &Vec<(&'static str, String)>> = BTreeMap::new();
    for (l, ls) in legs.iter().zip(sources) {
        tables.insert(l.table.clone(), ls);
    }
    for (i, (t, ls)) in tables.iter().enumerate() {
        p.push_str(&format!(
            "  - id: detc_query_table_{}\n    type: set_state\n    key: query_table\n    val: {}\n",
            i + 1,
            yaml_str(t)
        ));
        p.push_str(&condition_yaml(ls, "    "));
    }
    for ph in &ctx.placeholders {
        p.push_str(&format!(
            "  - id: detc_placeholder_{}\n    type: query_expression_placeholders\n    include:\n      - {}\n    expression: {}\n    mapping:\n      {}: {}\n",
            ph.name,
            ph.name,
            yaml_str(&format!("{{field}} {} ({{id}})", ph.op)),
            ph.name,
            yaml_str(&ph.query)
        ));
    }
    p.push_str("postprocessing:\n");
    for (i, (t, ls)) in tables.iter().enumerate() {
        p.push_str(&format!(
            "  - id: detc_table_prefix_{}\n    type: simple_template\n    template: {}\n",
            i + 1,
            yaml_str(&format!("{}\n| where {{query}}", kql::ident(t)))
        ));
        p.push_str(&condition_yaml(ls, "    "));
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_log_source_names_one_table() {
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(LOGSOURCES).unwrap();
        let mut seen = BTreeMap::new();
        for table in map.keys() {
            let ls = logsource(table).expect("category, product or service");
            if let Some(other) = seen.insert(format!("{ls:?}"), table.clone()) {
                panic!("{table} and {other} share the log source {ls:?}");
            }
        }
        assert_eq!(
            logsource("SigninLogs").unwrap(),
            [
                ("product", "azure".into()),
                ("service", "signinlogs".into())
            ]
        );
    }

    #[test]
    fn term_boundaries_only_at_alphanumeric_ends() {
        assert_eq!(
            term_regex("multi-factor", true, true),
            r"(^|[^0-9A-Za-z])multi\-factor($|[^0-9A-Za-z])"
        );
        assert_eq!(term_regex("-x.", true, true), r"\-x\.");
        assert_eq!(term_regex("ab", true, false), "(^|[^0-9A-Za-z])ab");
        let re = regex::Regex::new(&format!("(?i){}", term_regex("MFA", true, true))).unwrap();
        assert!(re.is_match("MFA denied") && re.is_match("x_mfa") && !re.is_match("NoMFA"));
    }

    #[test]
    fn plain_values_escape_wildcards() {
        assert_eq!(sigma_plain(r"a*b?c\d"), r"a\*b\?c\\d");
        assert!(is_uuid(&stable_uuid("x")));
        assert_eq!(stable_uuid("x"), stable_uuid("x"));
        assert_ne!(stable_uuid("x"), stable_uuid("y"));
    }
}
