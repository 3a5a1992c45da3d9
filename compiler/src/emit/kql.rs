//! Canonical KQL. Parsing the output and lowering it again gives the same IR.

use crate::ir::{AggFunc, BinOp, Expr, ExprKind, Func, Node, Op};
use crate::types::Type;
use crate::value::{format_datetime, Value};
use std::fmt::Write;

const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "by",
    "on",
    "in",
    "has",
    "contains",
    "between",
    "let",
    "true",
    "false",
    "null",
    "union",
    "join",
    "where",
    "project",
    "extend",
    "kind",
    "to",
    "typeof",
    "asc",
    "desc",
    "not",
    "matches",
    "regex",
    "startswith",
    "endswith",
    "hasprefix",
    "hassuffix",
    "has_any",
    "has_all",
    "datetime",
    "timespan",
    "dynamic",
    "guid",
    "limit",
    "table",
    "view",
    "with",
    "isfuzzy",
    "withsource",
    "nulls",
    "first",
    "last",
    "like",
    "set",
    "declare",
    "alias",
    "pattern",
    "restrict",
];

/// A name as KQL needs it written: bare if it is a plain identifier, else `['...']`.
pub fn ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&name);
    if plain {
        name.to_string()
    } else {
        format!("[{}]", string_lit(name))
    }
}

/// A double-quoted KQL string literal.
pub fn string_lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32).unwrap(),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn timespan_lit(ticks: i64) -> String {
    const UNITS: &[(i64, &str)] = &[
        (864_000_000_000, "d"),
        (36_000_000_000, "h"),
        (600_000_000, "m"),
        (10_000_000, "s"),
        (10_000, "ms"),
        (10, "microsecond"),
        (1, "tick"),
    ];
    if ticks == 0 {
        return "0s".into();
    }
    let (sign, t) = if ticks < 0 {
        ("-", -(ticks as i128))
    } else {
        ("", ticks as i128)
    };
    let (n, u) = UNITS.iter().find(|(n, _)| t % (*n as i128) == 0).unwrap();
    format!("{sign}{}{u}", t / (*n as i128))
}

pub fn literal(v: &Value, ty: Type) -> String {
    match v {
        Value::Null => match ty {
            Type::String => "\"\"".into(),
            t => format!("{t}(null)"),
        },
        Value::Bool(b) => b.to_string(),
        Value::Long(n) if ty == Type::Int => format!("int({n})"),
        Value::Long(n) => n.to_string(),
        Value::Real(x) if x.is_finite() => {
            let s = format!("{x:?}");
            if s.contains(['.', 'e', 'E']) {
                s
            } else {
                format!("{s}.0")
            }
        }
        Value::Real(x) => format!("real({})", crate::value::format_real(*x)),
        Value::String(s) if ty == Type::Guid => format!("guid({s})"),
        Value::String(s) => string_lit(s),
        Value::DateTime(t) => format!("datetime({})", format_datetime(*t)),
        Value::Timespan(t) => timespan_lit(*t),
        Value::Dynamic(j) => format!("dynamic({j})"),
    }
}

fn prec(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary { op, .. } => match op {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 3,
            BinOp::Add | BinOp::Sub => 4,
            BinOp::Mul | BinOp::Div | BinOp::Mod => 5,
        },
        ExprKind::Str { .. }
        | ExprKind::In { .. }
        | ExprKind::HasAny { .. }
        | ExprKind::Between { .. } => 3,
        ExprKind::Neg(_) => 6,
        ExprKind::Call {
            func: Func::MatchesRegex,
            ..
        } => 3,
        ExprKind::Literal(Value::Long(n)) if *n < 0 => 6,
        ExprKind::Literal(Value::Real(x)) if *x < 0.0 => 6,
        _ => 7,
    }
}

fn child(e: &Expr, min: u8) -> String {
    let s = expr_text(e);
    if prec(e) < min {
        format!("({s})")
    } else {
        s
    }
}

/// The items of an `in`/`has_any` list. Kusto rejects an empty list `()`; `dynamic([])`
/// contributes no element and lowers to the same empty list.
fn list_text(items: &[Expr]) -> String {
    if items.is_empty() {
        return "dynamic([])".into();
    }
    let items: Vec<String> = items.iter().map(expr_text).collect();
    items.join(", ")
}

/// A row function as KQL: `prev(x, 2, 0)`, `row_number(1, restart)`, ...
pub fn row_func_text(f: &crate::ir::RowFunc) -> String {
    use crate::ir::RowFuncKind as K;
    let mut args: Vec<String> = Vec::new();
    match f.kind {
        K::Prev(offset) | K::Next(offset) => {
            args.push(expr_text(&f.args[0]));
            let default = &f.args[1];
            let no_default = matches!(&default.kind, ExprKind::Literal(v) if *v == crate::value::Value::missing(default.ty));
            if offset != 1 || !no_default {
                args.push(offset.to_string());
            }
            if !no_default {
                args.push(expr_text(default));
            }
        }
        _ => args.extend(f.args.iter().map(expr_text)),
    }
    args.extend(f.restart.iter().map(expr_text));
    format!("{}({})", f.kind.kql(), args.join(", "))
}

/// An IR expression as KQL text.
pub fn expr_text(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Column { name, .. } => ident(name),
        ExprKind::Literal(v) => literal(v, e.ty),
        ExprKind::Param(name) => {
            let p = string_lit(&format!("{{{{{name}}}}}"));
            match e.ty {
                Type::String => p,
                Type::DateTime => format!("todatetime({p})"),
                Type::Timespan => format!("totimespan({p})"),
                Type::Long => format!("tolong({p})"),
                Type::Int => format!("toint({p})"),
                Type::Real => format!("toreal({p})"),
                Type::Bool => format!("tobool({p})"),
                Type::Dynamic => format!("todynamic({p})"),
                _ => format!("{{{{{name}}}}}"),
            }
        }
        ExprKind::Template(t) => string_lit(t),
        ExprKind::Neg(x) => format!("-{}", child(x, 7)),
        ExprKind::Binary { op, lhs, rhs } => {
            let p = prec(e);
            format!("{} {} {}", child(lhs, p), op.kql(), child(rhs, p + 1))
        }
        ExprKind::Str {
            op,
            cs,
            negated,
            lhs,
            rhs,
        } => {
            format!(
                "{} {} {}",
                child(lhs, 4),
                op.kql(*cs, *negated),
                child(rhs, 4)
            )
        }
        ExprKind::In {
            lhs,
            items,
            cs,
            negated,
        } => {
            let op = match (cs, negated) {
                (true, false) => "in",
                (true, true) => "!in",
                (false, false) => "in~",
                (false, true) => "!in~",
            };
            format!("{} {op} ({})", child(lhs, 4), list_text(items))
        }
        ExprKind::HasAny {
            lhs,
            terms,
            all,
            cs,
        } => {
            let op = format!(
                "{}{}",
                if *all { "has_all" } else { "has_any" },
                if *cs { "_cs" } else { "" }
            );
            format!("{} {op} ({})", child(lhs, 4), list_text(terms))
        }
        ExprKind::Between {
            expr,
            lo,
            hi,
            negated,
        } => format!(
            "{} {}between ({} .. {})",
            child(expr, 4),
            if *negated { "!" } else { "" },
            expr_text(lo),
            expr_text(hi)
        ),
        // Lowering puts fields only in `extend` items, which print them as `(a, b) = f(x)`.
        ExprKind::Field { tuple, index } => format!("{}[{index}]", expr_text(tuple)),
        ExprKind::Subquery { plan, scalar } => {
            // Inside a document: a `let`; printed on its own: inline.
            let in_document = !INLINE.with(|i| i.get()) && LETS.with(|l| l.borrow().is_some());
            let text = if in_document {
                plan_text(plan)
            } else {
                inline_text(plan)
            };
            match (in_document.then(|| subquery_name(&text)).flatten(), scalar) {
                (Some(name), true) => format!("toscalar({name})"),
                (Some(name), false) => name,
                (None, true) => format!("toscalar({})", text.trim_end()),
                (None, false) => format!("({})", text.trim_end()),
            }
        }
        // A key of an unpacked bag: the column bag_unpack made, where the data has it.
        ExprKind::Call {
            func: Func::GetItem,
            args,
        } if matches!(&args[0].kind, ExprKind::Column { name, .. } if name.starts_with(crate::lower::UNPACKED)) =>
        {
            let (ExprKind::Column { name, .. }, ExprKind::Literal(Value::String(key))) =
                (&args[0].kind, &args[1].kind)
            else {
                unreachable!("lowering builds bag keys as string literals")
            };
            let prefix = crate::lower::unpacked_prefix(name);
            format!(
                "column_ifexists({}, dynamic(null))",
                string_lit(&format!("{prefix}{key}"))
            )
        }
        ExprKind::Call {
            func: Func::GetItem,
            args,
        } => {
            format!("{}[{}]", child(&args[0], 7), expr_text(&args[1]))
        }
        ExprKind::Call {
            func: Func::MatchesRegex,
            args,
        } => {
            format!(
                "{} matches regex {}",
                child(&args[0], 4),
                child(&args[1], 4)
            )
        }
        ExprKind::Call { func, args } => {
            let a: Vec<String> = args.iter().map(expr_text).collect();
            format!("{}({})", func.kql(), a.join(", "))
        }
    }
}

/// `mv-apply cols on (ops)`. The body starts with the expansion lowering built: a project
/// of the expanded columns over an mv-expand of the outer row; the items were added to the
/// input as columns, so they print by name.
fn mv_apply_text(body: &Node, indent: usize) -> String {
    fn head(n: &Node) -> Option<&Node> {
        match &n.op {
            Op::Project { input, .. } if matches!(input.op, Op::MvExpand { .. }) => Some(input),
            _ => n.inputs().first().and_then(|i| head(i)),
        }
    }
    let mut ops = String::new();
    write_node(body, indent + 1, &mut ops);
    let ops = ops.trim_start().trim_start_matches('|').trim_start();
    let ops = if ops.is_empty() { "where true" } else { ops };
    let Some(Node {
        op:
            Op::MvExpand {
                input,
                columns,
                with_index,
                limit,
                ..
            },
        schema,
    }) = head(body)
    else {
        return format!("mv-apply on ({ops})");
    };
    let items: Vec<String> = columns
        .iter()
        .map(|(i, t)| match t {
            Some(t) => format!("{} to typeof({t})", ident(&input.schema[*i].name)),
            None => ident(&input.schema[*i].name),
        })
        .collect();
    let mut text = String::from("mv-apply ");
    if *with_index {
        let n = &schema.last().unwrap().name;
        text.push_str(&format!("with_itemindex={} ", ident(n)));
    }
    text.push_str(&items.join(", "));
    if let Some(n) = limit {
        text.push_str(&format!(" limit {n}"));
    }
    format!("{text} on ({ops})")
}

/// ` by a = x, ...`, or nothing without keys.
fn by_clause(by: &[(String, Expr)]) -> String {
    if by.is_empty() {
        return String::new();
    }
    let b: Vec<String> = by
        .iter()
        .map(|(n, e)| format!("{} = {}", ident(n), expr_text(e)))
        .collect();
    format!(" by {}", b.join(", "))
}

/// `extend` items; consecutive fields 0, 1, ... of one call print as `(a, b, ...) = f(x)`.
fn extend_items(items: &[(String, Option<usize>, Expr)]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < items.len() {
        let (name, _, e) = &items[i];
        if let ExprKind::Field { tuple, index: 0 } = &e.kind {
            let mut names = vec![ident(name)];
            let mut j = i + 1;
            while let Some((n, _, ExprKind::Field { tuple: t, index })) =
                items.get(j).map(|(n, s, e)| (n, s, &e.kind))
            {
                if t != tuple || *index != j - i {
                    break;
                }
                names.push(ident(n));
                j += 1;
            }
            out.push(format!("({}) = {}", names.join(", "), expr_text(tuple)));
            i = j;
            continue;
        }
        out.push(format!("{} = {}", ident(name), expr_text(e)));
        i += 1;
    }
    out
}

/// A project that keeps the hidden column of `evaluate bag_unpack`/`pivot` (the columns known
/// only at run time) cannot name it: it prints as the operator it was lowered from, which
/// lowers to the same items. `project-rename x = a` for all columns in input order, some
/// renamed; `project-away a, b` for the input's other columns in input order;
/// `project-reorder a, b` for all of them with a listed prefix, the rest in input order.
/// None when the project is neither, or has no hidden column.
fn open_project_text(input: &Node, items: &[(String, Expr)]) -> Option<String> {
    let hidden = |n: &str| n.starts_with(crate::lower::UNPACKED);
    if !items.iter().any(|(n, _)| hidden(n)) {
        return None;
    }
    let mut picked = Vec::with_capacity(items.len());
    let mut renames = Vec::new();
    for (n, e) in items {
        match &e.kind {
            ExprKind::Column { index, name } if input.schema[*index].name == *name => {
                picked.push(*index);
                if name != n {
                    if hidden(n) || hidden(name) {
                        return None;
                    }
                    renames.push(format!("{} = {}", ident(n), ident(name)));
                }
            }
            _ => return None,
        }
    }
    if !renames.is_empty() {
        let all_in_order = picked.iter().copied().eq(0..input.schema.len());
        return all_in_order.then(|| format!("project-rename {}", renames.join(", ")));
    }
    let names = |idx: &[usize]| -> Option<String> {
        let mut v = Vec::new();
        for &i in idx {
            let n = &input.schema[i].name;
            if hidden(n) || n.contains('*') {
                return None;
            }
            v.push(ident(n));
        }
        Some(v.join(", "))
    };
    let away: Vec<usize> = (0..input.schema.len())
        .filter(|i| !picked.contains(i))
        .collect();
    if picked.windows(2).all(|w| w[0] < w[1]) && !away.is_empty() {
        return Some(format!("project-away {}", names(&away)?));
    }
    let mut sorted = picked.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != picked.len() || !away.is_empty() {
        return None;
    }
    // The shortest listed prefix (at least one column) after which the rest follow in input
    // order.
    let k = (1..picked.len())
        .find(|&k| picked[k..].windows(2).all(|w| w[0] < w[1]))
        .unwrap_or(picked.len());
    Some(format!("project-reorder {}", names(&picked[..k])?))
}

thread_local! {
    /// The `let` statements of the document being printed: (name, tabular text), in the
    /// order they must be declared. `None` outside [`plan_text`].
    static LETS: std::cell::RefCell<Option<Vec<(String, String)>>> =
        const { std::cell::RefCell::new(None) };
    /// Set by [`inline_text`]: sub-queries stay inline.
    static INLINE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The plan as one query with its sub-queries inline (no `let` statements): for embedding
/// in other text, as Sigma's pipeline does.
pub fn inline_text(node: &Node) -> String {
    let before = INLINE.with(|i| i.replace(true));
    let text = plan_text(node);
    INLINE.with(|i| i.set(before));
    text
}

/// The whole plan as one KQL document. Every sub-query (`in (...)`, `toscalar(...)`) is printed
/// once as a `let` statement before the query and referred to by name, as rule authors
/// write them; identical sub-queries share one. Lowering inlines such lets, so the printed
/// document lowers to the same plan. (Printed inline, a sub-query made of a union of
/// make-series fails Kusto.Language's binder, tests/kusto_check.rs.)
pub fn plan_text(node: &Node) -> String {
    if INLINE.with(|i| i.get()) {
        let mut out = String::new();
        write_node(node, 0, &mut out);
        out.push('\n');
        return out;
    }
    let outermost = LETS.with(|l| {
        let mut l = l.borrow_mut();
        let fresh = l.is_none();
        if fresh {
            *l = Some(Vec::new());
        }
        fresh
    });
    let mut out = String::new();
    write_node(node, 0, &mut out);
    out.push('\n');
    if !outermost {
        return out;
    }
    let lets = LETS.with(|l| l.borrow_mut().take()).unwrap_or_default();
    let mut doc = String::new();
    for (name, text) in lets {
        writeln!(doc, "let {name} = {};", text.trim_end()).unwrap();
    }
    doc.push_str(&out);
    doc
}

/// The name the sub-query `text` is declared under (declared now if it is new); `None`
/// outside [`plan_text`] (an expression printed on its own keeps its sub-queries inline).
fn subquery_name(text: &str) -> Option<String> {
    if INLINE.with(|i| i.get()) {
        return None;
    }
    LETS.with(|l| {
        let mut l = l.borrow_mut();
        let lets = l.as_mut()?;
        if let Some((name, _)) = lets.iter().find(|(_, t)| t == text) {
            return Some(name.clone());
        }
        let name = format!("_subquery{}", lets.len() + 1);
        lets.push((name.clone(), text.to_string()));
        Some(name)
    })
}

fn write_node(node: &Node, indent: usize, out: &mut String) {
    let pad = "    ".repeat(indent);
    let pipe = |out: &mut String, text: String| {
        write!(out, "\n{pad}| {text}").unwrap();
    };
    // The expansion at the bottom of an mv-apply body is carried by the `mv-apply` line.
    let over_outer =
        |n: &Node| matches!(&n.op, Op::MvExpand { input, .. } if input.op == Op::OuterRow);
    match &node.op {
        Op::MvExpand { .. } if over_outer(node) => return,
        Op::Project { input, .. } if over_outer(input) => return,
        _ => {}
    }
    match &node.op {
        Op::Scan { table } => match table
            .strip_prefix(crate::catalog::GET_WATCHLIST)
            .and_then(|t| t.strip_prefix('_'))
        {
            Some(alias) => out.push_str(&format!(
                "{}({})",
                crate::catalog::GET_WATCHLIST,
                string_lit(alias)
            )),
            None => out.push_str(&ident(table)),
        },
        // The source of an mv-apply body: printed by `mv_apply_text`.
        Op::OuterRow => {}
        Op::Pivot {
            input,
            column,
            agg,
            by,
        } => {
            write_node(input, indent, out);
            let mut args = vec![expr_text(column)];
            let a: Vec<String> = agg.args.iter().map(expr_text).collect();
            args.push(format!("{}({})", agg.func.kql(), a.join(", ")));
            args.extend(by.iter().map(|(_, e)| expr_text(e)));
            pipe(out, format!("evaluate pivot({})", args.join(", ")));
        }
        Op::BagUnpack { input, column } => {
            write_node(input, indent, out);
            let prefix = crate::lower::unpacked_prefix(&node.schema[*column].name);
            let col = ident(&input.schema[*column].name);
            pipe(
                out,
                if prefix.is_empty() {
                    format!("evaluate bag_unpack({col})")
                } else {
                    format!("evaluate bag_unpack({col}, {})", string_lit(&prefix))
                },
            );
        }
        Op::MvApply { input, body, .. } => {
            write_node(input, indent, out);
            pipe(out, mv_apply_text(body, indent));
        }
        Op::Filter { input, predicate } => {
            write_node(input, indent, out);
            pipe(out, format!("where {}", expr_text(predicate)));
        }
        Op::Serialize { input, items } => {
            write_node(input, indent, out);
            let s: Vec<String> = items
                .iter()
                .map(|(n, f)| format!("{} = {}", ident(n), row_func_text(f)))
                .collect();
            pipe(
                out,
                format!("serialize {}", s.join(", ")).trim_end().to_string(),
            );
        }
        Op::Extend { input, items } => {
            let s = extend_items(items);
            // `print` lowers to an extend over one empty row.
            if matches!(&input.op, Op::Values { rows } if rows.len() == 1 && input.schema.is_empty())
            {
                out.push_str(&format!("print {}", s.join(", ")));
                return;
            }
            write_node(input, indent, out);
            pipe(out, format!("extend {}", s.join(", ")));
        }
        Op::Project { input, items } => {
            write_node(input, indent, out);
            if let Some(text) = open_project_text(input, items) {
                pipe(out, text);
                return;
            }
            let s: Vec<String> = items
                .iter()
                .map(|(n, e)| match &e.kind {
                    ExprKind::Column { name, .. } if name == n => ident(n),
                    _ => format!("{} = {}", ident(n), expr_text(e)),
                })
                .collect();
            pipe(out, format!("project {}", s.join(", ")));
        }
        Op::MvExpand {
            input,
            columns,
            bag_array,
            with_index,
            limit,
        } => {
            write_node(input, indent, out);
            let mut text = String::from("mv-expand ");
            if *bag_array {
                text.push_str("bagexpansion=array ");
            }
            if *with_index {
                text.push_str(&format!(
                    "with_itemindex={} ",
                    ident(&node.schema[node.schema.len() - 1].name)
                ));
            }
            let cols: Vec<String> = columns
                .iter()
                .map(|(c, t)| {
                    let t = t.map(|t| format!(" to typeof({t})")).unwrap_or_default();
                    format!("{}{t}", ident(&input.schema[*c].name))
                })
                .collect();
            text.push_str(&cols.join(", "));
            if let Some(l) = limit {
                text.push_str(&format!(" limit {l}"));
            }
            pipe(out, text);
        }
        Op::Distinct { input } => {
            // `project` + `distinct *` re-lowers to the same nodes as `distinct a, b`.
            write_node(input, indent, out);
            pipe(out, "distinct *".into());
        }
        Op::Join {
            kind,
            left,
            right,
            keys,
        } => {
            write_node(left, indent, out);
            let mut r = String::new();
            write_node(right, indent + 1, &mut r);
            let k: Vec<String> = keys
                .iter()
                .map(|(l, rr)| {
                    format!(
                        "$left.{} == $right.{}",
                        ident(&left.schema[*l].name),
                        ident(&right.schema[*rr].name)
                    )
                })
                .collect();
            pipe(
                out,
                format!(
                    "join kind={} (\n{pad}    {r}\n{pad}    ) on {}",
                    kind.kql(),
                    k.join(", ")
                ),
            );
        }
        Op::Union { legs } => {
            out.push_str("union\n");
            let parts: Vec<String> = legs
                .iter()
                .map(|(leg, _)| {
                    let mut s = String::new();
                    write_node(leg, indent + 1, &mut s);
                    format!("{pad}    ({s})")
                })
                .collect();
            out.push_str(&parts.join(",\n"));
        }
        Op::Take { input, count } => {
            write_node(input, indent, out);
            pipe(out, format!("take {count}"));
        }
        Op::Sort { input, keys } => {
            write_node(input, indent, out);
            let k: Vec<String> = keys
                .iter()
                .map(|k| {
                    format!(
                        "{} {} nulls {}",
                        expr_text(&k.expr),
                        if k.desc { "desc" } else { "asc" },
                        if k.nulls_first { "first" } else { "last" }
                    )
                })
                .collect();
            pipe(out, format!("sort by {}", k.join(", ")));
        }
        Op::Summarize { input, by, aggs } => {
            write_node(input, indent, out);
            let mut parts = Vec::new();
            let mut i = 0;
            while i < aggs.len() {
                let (name, a) = &aggs[i];
                if matches!(a.func, AggFunc::ArgMax | AggFunc::ArgMin) {
                    // Consecutive columns of one arg_max share its key.
                    let mut cols = Vec::new();
                    let mut j = i + 1;
                    while j < aggs.len()
                        && aggs[j].1.func == a.func
                        && aggs[j].1.args[0] == a.args[0]
                        && aggs[j].1.args[1] != a.args[0]
                    {
                        cols.push(format!(
                            "{} = {}",
                            ident(&aggs[j].0),
                            expr_text(&aggs[j].1.args[1])
                        ));
                        j += 1;
                    }
                    let mut args = vec![expr_text(&a.args[0])];
                    args.extend(cols);
                    parts.push(format!(
                        "{} = {}({})",
                        ident(name),
                        a.func.kql(),
                        args.join(", ")
                    ));
                    i = j;
                    continue;
                }
                let mut args: Vec<String> = a.args.iter().map(expr_text).collect();
                if let Some(n) = a.limit {
                    args.push(n.to_string());
                }
                parts.push(format!(
                    "{} = {}({})",
                    ident(name),
                    a.func.kql(),
                    args.join(", ")
                ));
                i += 1;
            }
            let mut text = format!("summarize {}", parts.join(", "));
            text.push_str(&by_clause(by));
            pipe(out, text);
        }
        Op::MakeSeries {
            input,
            by,
            aggs,
            axis,
            bins,
            nonempty,
        } => {
            write_node(input, indent, out);
            let parts: Vec<String> = aggs
                .iter()
                .map(|a| {
                    let args: Vec<String> = a.agg.args.iter().map(expr_text).collect();
                    format!(
                        "{} = {}({}) default = {}",
                        ident(&a.name),
                        a.agg.func.kql(),
                        args.join(", "),
                        expr_text(&a.default)
                    )
                })
                .collect();
            let mut text = format!(
                "make-series {}{} on {}",
                if *nonempty { "kind=nonempty " } else { "" },
                parts.join(", "),
                expr_text(axis)
            );
            match (bins.range_syntax, &bins.start, &bins.end) {
                (true, Some(a), Some(b)) => text.push_str(&format!(
                    " in range({}, {}, {})",
                    expr_text(a),
                    expr_text(b),
                    expr_text(&bins.step)
                )),
                _ => {
                    if let Some(a) = &bins.start {
                        text.push_str(&format!(" from {}", expr_text(a)));
                    }
                    if let Some(b) = &bins.end {
                        text.push_str(&format!(" to {}", expr_text(b)));
                    }
                    text.push_str(&format!(" step {}", expr_text(&bins.step)));
                }
            }
            text.push_str(&by_clause(by));
            pipe(out, text);
        }
        Op::External { uris, .. } => {
            let cols: Vec<String> = node
                .schema
                .iter()
                .map(|c| format!("{}:{}", ident(&c.name), c.ty))
                .collect();
            let u: Vec<String> = uris.iter().map(|u| string_lit(u)).collect();
            out.push_str(&format!(
                "externaldata({}) [{}]",
                cols.join(", "),
                u.join(", ")
            ));
        }
        Op::Values { rows } => {
            let cols: Vec<String> = node
                .schema
                .iter()
                .map(|c| format!("{}:{}", ident(&c.name), c.ty))
                .collect();
            // The column types say what the values are: an `int` column's values print
            // bare (`int(1)` is not a constant to detc's reader).
            let vals: Vec<String> = rows
                .iter()
                .flat_map(|r| {
                    r.iter().zip(&node.schema).map(|(v, c)| match v {
                        Value::Long(n) if c.ty == Type::Int => n.to_string(),
                        _ => literal(v, c.ty),
                    })
                })
                .collect();
            out.push_str(&format!(
                "datatable({}) [{}]",
                cols.join(", "),
                vals.join(", ")
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::Catalog;
    use crate::lower::{lower, Tables};

    /// The plan of `q`, its KQL, and the plan of that KQL, which must be the same.
    fn round_trip(q: &str) -> String {
        let catalog = Catalog::builtin();
        let tables = Tables {
            catalog: &catalog,
            present: None,
        };
        let (ast, d) = crate::syntax::parse(q);
        assert!(d.is_empty(), "{q}: {d:?}");
        let lowered = lower(&ast, &tables);
        let plan = lowered
            .plan
            .unwrap_or_else(|| panic!("{q}: {:?}", lowered.diagnostics));
        let text = super::plan_text(&plan);
        let (ast2, d2) = crate::syntax::parse(&text);
        assert!(d2.is_empty(), "{text}: {d2:?}");
        let again = lower(&ast2, &tables);
        assert_eq!(
            again.plan.as_ref(),
            Some(&plan),
            "{q}\n--- printed ---\n{text}\n{:?}",
            again.diagnostics
        );
        text
    }

    #[test]
    fn empty_lists_print_as_an_empty_dynamic_array() {
        // Kusto rejects `in ()`.
        let t = round_trip(
            "let none = dynamic([]); SigninLogs | where UserPrincipalName !in~ (none) \
             and ResultType in (none) and ResultDescription has_any (none) | project UserPrincipalName",
        );
        assert!(t.contains("!in~ (dynamic([]))"), "{t}");
        assert!(t.contains(" in (dynamic([]))"), "{t}");
        assert!(t.contains("has_any (dynamic([]))"), "{t}");
        assert!(!t.contains("()"), "{t}");
    }

    #[test]
    fn datatable_int_columns_print_bare_values() {
        let t = round_trip("datatable(s:string, n:int) [\"a\", 1, \"b\", 2, \"c\", int(null)]");
        assert!(t.contains("[\"a\", 1, \"b\", 2, \"c\", int(null)]"), "{t}");
    }

    #[test]
    fn timespan_parameters_print_as_totimespan() {
        let t = round_trip("SigninLogs | where TimeGenerated > ago(totimespan('{{Lookback}}'))");
        assert!(t.contains("ago(totimespan(\"{{Lookback}}\"))"), "{t}");
    }

    #[test]
    fn projects_over_unpacked_columns_never_name_the_hidden_column() {
        for (q, op) in [
            (
                "SigninLogs | evaluate pivot(ResultType, count(), UserPrincipalName, IPAddress) \
                 | project-away IPAddress",
                "| project-away IPAddress",
            ),
            (
                "SigninLogs | evaluate pivot(ResultType, count(), UserPrincipalName, IPAddress) \
                 | project-rename U = UserPrincipalName",
                "| project-rename U = UserPrincipalName",
            ),
            (
                "SigninLogs | evaluate pivot(ResultType, count(), UserPrincipalName, IPAddress) \
                 | extend n = 1 | project-reorder n, IPAddress",
                "| project-reorder n, IPAddress",
            ),
            (
                "SigninLogs | project UserPrincipalName, LocationDetails \
                 | evaluate bag_unpack(LocationDetails) | project-reorder UserPrincipalName",
                "| project-reorder UserPrincipalName",
            ),
        ] {
            let t = round_trip(q);
            assert!(t.contains(op), "{q}\n{t}");
            assert!(!t.contains("[\"bag_unpack("), "{q}\n{t}");
        }
    }
}
