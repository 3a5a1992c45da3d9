//! Column naming rules (unique names after a join, union column unification, default names
//! of unnamed expressions) and "did you mean" suggestions.

use crate::ir::{Column, Node, Op};
use crate::syntax::ast::{self, ExprKind as A};
use std::collections::HashSet;

/// Kusto's rule for clashing names: the first occurrence keeps its name; a later duplicate
/// gets the smallest numeric suffix >= 1 not used anywhere in the list (`[c, c, c1]` gives
/// `[c, c2, c1]`).
pub fn unique_names(names: Vec<String>) -> Vec<String> {
    let mut used: HashSet<String> = names.iter().cloned().collect();
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        if seen.insert(n.clone()) {
            out.push(n);
        } else {
            let mut i = 1;
            while used.contains(&format!("{n}{i}")) {
                i += 1;
            }
            let new = format!("{n}{i}");
            used.insert(new.clone());
            seen.insert(new.clone());
            out.push(new);
        }
    }
    out
}

/// `union` (kind=outer): every column of every leg in order of first appearance; a name
/// with several types becomes one column per type, suffixed `_type`.
pub fn union_node(legs: Vec<Node>) -> Node {
    let mut order: Vec<String> = Vec::new();
    let mut types: std::collections::HashMap<String, Vec<crate::types::Type>> = Default::default();
    for leg in &legs {
        for c in &leg.schema {
            let ts = types.entry(c.name.clone()).or_default();
            if ts.is_empty() {
                order.push(c.name.clone());
            }
            if !ts.contains(&c.ty) {
                ts.push(c.ty);
            }
        }
    }
    let mut cols: Vec<(String, crate::types::Type, String)> = Vec::new(); // (out name, type, source name)
    for n in &order {
        let ts = &types[n];
        if ts.len() == 1 {
            cols.push((n.clone(), ts[0], n.clone()));
        } else {
            for t in ts {
                cols.push((format!("{n}_{t}"), *t, n.clone()));
            }
        }
    }
    let names = unique_names(cols.iter().map(|c| c.0.clone()).collect());
    let schema: Vec<Column> = cols
        .iter()
        .zip(&names)
        .map(|((_, ty, _), name)| Column {
            name: name.clone(),
            ty: *ty,
        })
        .collect();
    let legs = legs
        .into_iter()
        .map(|leg| {
            let map = cols
                .iter()
                .map(|(_, ty, src)| leg.column(src).filter(|(_, c)| c.ty == *ty).map(|(i, _)| i))
                .collect();
            (leg, map)
        })
        .collect();
    Node {
        op: Op::Union { legs },
        schema,
    }
}

/// The name Kusto gives an unnamed projected expression, where it has a rule: a column keeps
/// its name; `tostring(x)`, `todatetime(x)` and other conversions take x's name.
pub fn default_name(e: &ast::Expr, _lowered: &crate::ir::Expr) -> Option<String> {
    match &e.kind {
        A::Name(n) => Some(n.clone()),
        // `bin(x, 1h)` and `floor(x, 1h)` take x's name too (Kusto.Language's FirstArgument rule).
        A::Call { name, args }
            if matches!(name.name.as_str(), "bin" | "floor") && !args.is_empty() =>
        {
            default_name(&args[0].value, _lowered)
        }
        A::Call { name, args } if args.len() == 1 => match name.name.as_str() {
            "tostring" | "todatetime" | "tolong" | "toint" | "toreal" | "todouble" | "tobool"
            | "toboolean" | "todynamic" | "totimespan" | "toguid" => {
                default_name(&args[0].value, _lowered)
            }
            _ => None,
        },
        A::Member { expr, name } => {
            let base = default_name(expr, _lowered)?;
            Some(format!("{base}_{}", name.name))
        }
        _ => None,
    }
}

/// Whether an expression reads any of `names` as a column, by name or through
/// `column_ifexists("name", ...)`.
pub fn reads_any<'a>(e: &ast::Expr, names: impl Iterator<Item = &'a str> + Clone) -> bool {
    let mut found = false;
    walk(e, &mut |x| {
        let read = match &x.kind {
            A::Name(n) => Some(n.as_str()),
            A::Call { name, args }
                if matches!(name.name.as_str(), "column_ifexists" | "columnifexists") =>
            {
                match args.first().map(|a| &a.value.kind) {
                    Some(A::Lit(ast::Lit::Str(s))) => Some(s.as_str()),
                    _ => None,
                }
            }
            _ => None,
        };
        if read.is_some_and(|n| names.clone().any(|m| m == n)) {
            found = true;
        }
    });
    found
}

/// `e` and every scalar sub-expression, pre-order.
pub(super) fn walk(e: &ast::Expr, f: &mut dyn FnMut(&ast::Expr)) {
    f(e);
    for c in e.children() {
        walk(c, f);
    }
}

/// Splits `a and b and c` into its conjuncts.
pub fn split_and<'a>(e: &'a ast::Expr, out: &mut Vec<&'a ast::Expr>) {
    match &e.kind {
        A::Binary { op, lhs, rhs } if op == "and" => {
            split_and(lhs, out);
            split_and(rhs, out);
        }
        _ => out.push(e),
    }
}

/// The closest candidate within a small edit distance, for "did you mean".
pub fn suggest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let lower = name.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = if c.to_lowercase() == lower {
            0
        } else {
            levenshtein(&lower, &c.to_lowercase())
        };
        let limit = (name.chars().count() / 3).clamp(1, 3);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Whether column `col` of `node` holds `tolower(...)`/`toupper(...)` of something (`Some(true)`)
/// or a table's column unchanged (`Some(false)`), followed through the operators that pass a
/// column on; `None` when it cannot tell (other expressions, joins, unions, series).
pub(crate) fn case_folded(node: &crate::ir::Node, col: usize) -> Option<bool> {
    use crate::ir::{ExprKind, Func, Op};
    let through = |input: &crate::ir::Node, e: &crate::ir::Expr| match &e.kind {
        ExprKind::Column { index, .. } => case_folded(input, *index),
        ExprKind::Call {
            func: Func::ToLower | Func::ToUpper,
            ..
        } => Some(true),
        _ => None,
    };
    match &node.op {
        Op::Scan { .. } => Some(false),
        Op::Extend { input, items } => {
            let n = input.schema.len();
            let mut appended = 0;
            for (_, slot, e) in items {
                let here = match slot {
                    Some(i) => *i,
                    None => {
                        appended += 1;
                        n + appended - 1
                    }
                };
                if here == col {
                    return through(input, e);
                }
            }
            if col < n {
                case_folded(input, col)
            } else {
                None
            }
        }
        Op::Project { input, items } => items.get(col).and_then(|(_, e)| through(input, e)),
        Op::Summarize { input, by, .. } => by.get(col).and_then(|(_, e)| through(input, e)),
        Op::Filter { input, .. }
        | Op::Sort { input, .. }
        | Op::Take { input, .. }
        | Op::Distinct { input } => case_folded(input, col),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kusto_unique_names() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(unique_names(v(&["c", "c", "c1"])), v(&["c", "c2", "c1"]));
        assert_eq!(
            unique_names(v(&["Key", "Value", "Key", "Value"])),
            v(&["Key", "Value", "Key1", "Value1"])
        );
    }

    #[test]
    fn suggestions() {
        let c = ["AccountUPN", "AssignedRoles"];
        assert_eq!(
            suggest("AccountUpn", c.iter().copied()).as_deref(),
            Some("AccountUPN")
        );
        assert_eq!(
            suggest("AsignedRoles", c.iter().copied()).as_deref(),
            Some("AssignedRoles")
        );
        assert_eq!(suggest("Zebra", c.iter().copied()), None);
    }
}
