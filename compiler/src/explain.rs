//! `detc explain`: the IR, the constructs it is made of, then per target whether it carries
//! the plan exactly, with declared approximations (how), or not at all (why).

use crate::ir::{Expr, ExprKind, Node, Op};
use crate::targets::{approximations, Target};
use std::collections::BTreeSet;

/// The operators and functions of a plan, by their KQL names, sorted.
pub fn constructs(plan: &Node) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    plan.visit(&mut |n: &Node| {
        out.insert(op_name(&n.op).to_string());
        for e in n.own_exprs() {
            expr_constructs(e, &mut out);
        }
        if let Op::Summarize { aggs, .. } = &n.op {
            for (_, a) in aggs {
                out.insert(format!("{}()", a.func.kql()));
            }
        }
    });
    out
}

fn expr_constructs(e: &Expr, out: &mut BTreeSet<String>) {
    match &e.kind {
        ExprKind::Call { func, .. } => {
            out.insert(format!("{}()", func.kql()));
        }
        ExprKind::Str {
            op, cs, negated, ..
        } => {
            out.insert(op.kql(*cs, *negated));
        }
        ExprKind::In { cs, negated, .. } => {
            out.insert(format!(
                "{}in{}",
                if *negated { "!" } else { "" },
                if *cs { "" } else { "~" }
            ));
        }
        ExprKind::HasAny { all, .. } => {
            out.insert(if *all { "has_all" } else { "has_any" }.to_string());
        }
        ExprKind::Between { .. } => {
            out.insert("between".to_string());
        }
        ExprKind::Subquery { .. } => {
            out.insert("sub-query".to_string());
        }
        _ => {}
    }
    for c in e.children() {
        expr_constructs(c, out);
    }
}

fn op_name(op: &Op) -> &'static str {
    match op {
        Op::Scan { .. } => "table",
        Op::Filter { .. } => "where",
        Op::Extend { .. } => "extend",
        Op::Project { .. } => "project",
        Op::MvExpand { .. } => "mv-expand",
        Op::MvApply { .. } | Op::OuterRow => "mv-apply",
        Op::BagUnpack { .. } => "evaluate bag_unpack",
        Op::Pivot { .. } => "evaluate pivot",
        Op::Distinct { .. } => "distinct",
        Op::Join { .. } => "join",
        Op::Union { .. } => "union",
        Op::Take { .. } => "take",
        Op::Sort { .. } => "sort",
        Op::Summarize { .. } => "summarize",
        Op::MakeSeries { .. } => "make-series",
        Op::Serialize { .. } => "serialize",
        Op::Values { .. } => "datatable",
        Op::External { .. } => "externaldata",
    }
}

/// The explanation for `targets` (all when empty).
pub fn explain(plan: &Node, targets: &[Target]) -> String {
    let mut out = String::from("== IR ==\n");
    out.push_str(&crate::ir::print::print(plan));
    out.push_str("\n== constructs ==\n");
    out.push_str(&constructs(plan).into_iter().collect::<Vec<_>>().join(", "));
    out.push_str("\n\n== targets ==\n");
    let all = Target::all();
    let targets = if targets.is_empty() {
        &all[..]
    } else {
        targets
    };
    for &t in targets {
        let line = match approximations(t, plan) {
            Ok(a) if a.is_empty() && t == Target::Kql => {
                "exact (canonical KQL; re-parses to the same IR)".to_string()
            }
            Ok(a) if a.is_empty() => "exact".to_string(),
            Ok(a) => format!(
                "approximated ({} construct(s); the rest exact):\n{}",
                a.len(),
                a.iter()
                    .map(|a| format!("    - {}: {}", a.construct, a.how))
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
            Err(u) => format!("unsupported: {} ({})", u.construct, u.reason),
        };
        out.push_str(&format!("{}: {line}\n", t.name()));
    }
    out
}
