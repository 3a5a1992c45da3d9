//! Readable text form of a plan, for snapshots and `detc explain`.

use super::{Node, Op};
use crate::emit::kql::expr_text;
use std::fmt::Write;

pub fn print(node: &Node) -> String {
    let mut out = String::new();
    node_text(node, 0, &mut out);
    let cols: Vec<String> = node
        .schema
        .iter()
        .map(|c| format!("{}:{}", c.name, c.ty))
        .collect();
    writeln!(out, "output ({} columns): {}", cols.len(), cols.join(", ")).unwrap();
    out
}

fn node_text(node: &Node, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    let schema = &node
        .inputs()
        .first()
        .map(|n| n.schema.clone())
        .unwrap_or_default();
    let _ = schema;
    match &node.op {
        Op::Scan { table } => {
            writeln!(out, "{pad}scan {table} ({} columns)", node.schema.len()).unwrap()
        }
        Op::Filter { input, predicate } => {
            writeln!(out, "{pad}filter {}", expr_text(predicate)).unwrap();
            node_text(input, depth + 1, out);
        }
        Op::Extend { input, items } => {
            let s: Vec<String> = items
                .iter()
                .map(|(n, slot, e)| {
                    let how = if slot.is_some() { " (replaces)" } else { "" };
                    format!("{n}:{} = {}{how}", e.ty, expr_text(e))
                })
                .collect();
            writeln!(out, "{pad}extend {}", s.join(", ")).unwrap();
            node_text(input, depth + 1, out);
        }
        Op::Project { input, items } => {
            let s: Vec<String> = items
                .iter()
                .map(|(n, e)| match &e.kind {
                    // A column kept under its own name is shown by name only.
                    crate::ir::ExprKind::Column { name, .. } if name == n => n.clone(),
                    _ => format!("{n}:{} = {}", e.ty, expr_text(e)),
                })
                .collect();
            writeln!(out, "{pad}project {}", s.join(", ")).unwrap();
            node_text(input, depth + 1, out);
        }
        Op::MvExpand {
            input,
            columns,
            bag_array,
            with_index,
            limit,
        } => {
            let cols: Vec<String> = columns
                .iter()
                .map(|(c, t)| {
                    let t = t.map(|t| format!(" to typeof({t})")).unwrap_or_default();
                    format!("{}{t}", input.schema[*c].name)
                })
                .collect();
            let mut opts = String::new();
            if *bag_array {
                opts.push_str(" bagexpansion=array");
            }
            if *with_index {
                opts.push_str(&format!(
                    " with_itemindex={}",
                    node.schema[node.schema.len() - 1].name
                ));
            }
            if let Some(l) = limit {
                opts.push_str(&format!(" limit {l}"));
            }
            writeln!(out, "{pad}mv-expand {}{opts}", cols.join(", ")).unwrap();
            node_text(input, depth + 1, out);
        }
        Op::Distinct { input } => {
            let cols: Vec<&str> = input.schema.iter().map(|c| c.name.as_str()).collect();
            writeln!(out, "{pad}distinct {}", cols.join(", ")).unwrap();
            node_text(input, depth + 1, out);
        }
        Op::Join {
            kind,
            left,
            right,
            keys,
        } => {
            let k: Vec<String> = keys
                .iter()
                .map(|(l, r)| {
                    format!(
                        "$left.{} == $right.{}",
                        left.schema[*l].name, right.schema[*r].name
                    )
                })
                .collect();
            writeln!(out, "{pad}join kind={} on {}", kind.kql(), k.join(", ")).unwrap();
            node_text(left, depth + 1, out);
            node_text(right, depth + 1, out);
        }
        Op::Union { legs } => {
            writeln!(out, "{pad}union ({} legs)", legs.len()).unwrap();
            for (leg, map) in legs {
                let missing = map.iter().filter(|m| m.is_none()).count();
                writeln!(
                    out,
                    "{pad}  leg: {} of {} output columns",
                    map.len() - missing,
                    map.len()
                )
                .unwrap();
                node_text(leg, depth + 2, out);
            }
        }
        Op::Serialize { input, items } => {
            let s: Vec<String> = items
                .iter()
                .map(|(n, f)| format!("{n}:{} = {}", f.ty, crate::emit::kql::row_func_text(f)))
                .collect();
            writeln!(
                out,
                "{pad}{}",
                format!("serialize {}", s.join(", ")).trim_end()
            )
            .unwrap();
            node_text(input, depth + 1, out);
        }
        Op::Take { input, count } => {
            writeln!(out, "{pad}take {count}").unwrap();
            node_text(input, depth + 1, out);
        }
        Op::Sort { input, keys } => {
            let k: Vec<String> = keys
                .iter()
                .map(|k| {
                    format!(
                        "{} {}{}",
                        expr_text(&k.expr),
                        if k.desc { "desc" } else { "asc" },
                        if k.nulls_first {
                            " nulls first"
                        } else {
                            " nulls last"
                        }
                    )
                })
                .collect();
            writeln!(out, "{pad}sort {}", k.join(", ")).unwrap();
            node_text(input, depth + 1, out);
        }
        Op::Summarize { input, by, aggs } => {
            let a: Vec<String> = aggs
                .iter()
                .map(|(n, a)| {
                    let args: Vec<String> = a.args.iter().map(expr_text).collect();
                    format!("{n}:{} = {}({})", a.ty, a.func.kql(), args.join(", "))
                })
                .collect();
            let b: Vec<String> = by
                .iter()
                .map(|(n, e)| format!("{n}:{} = {}", e.ty, expr_text(e)))
                .collect();
            writeln!(out, "{pad}summarize {} by {}", a.join(", "), b.join(", ")).unwrap();
            node_text(input, depth + 1, out);
        }
        Op::OuterRow => writeln!(out, "{pad}outer row").unwrap(),
        Op::Pivot {
            input,
            column,
            agg,
            by,
        } => {
            let args: Vec<String> = agg.args.iter().map(expr_text).collect();
            let b: Vec<String> = by
                .iter()
                .map(|(n, e)| format!("{n}:{} = {}", e.ty, expr_text(e)))
                .collect();
            writeln!(
                out,
                "{pad}pivot {} with {}({}) by {}",
                expr_text(column),
                agg.func.kql(),
                args.join(", "),
                b.join(", ")
            )
            .unwrap();
            node_text(input, depth + 1, out);
        }
        Op::BagUnpack { input, column } => {
            writeln!(out, "{pad}bag-unpack {}", input.schema[*column].name).unwrap();
            node_text(input, depth + 1, out);
        }
        Op::MvApply { input, body, keep } => {
            let k: Vec<&str> = keep
                .iter()
                .map(|&i| input.schema[i].name.as_str())
                .collect();
            writeln!(out, "{pad}mv-apply keeping {}; per row:", k.join(", ")).unwrap();
            node_text(body, depth + 2, out);
            node_text(input, depth + 1, out);
        }
        Op::MakeSeries {
            input,
            by,
            aggs,
            axis,
            bins,
            nonempty,
        } => {
            let a: Vec<String> = aggs
                .iter()
                .map(|a| {
                    let args: Vec<String> = a.agg.args.iter().map(expr_text).collect();
                    format!(
                        "{}:{}[] = {}({}) default {}",
                        a.name,
                        a.agg.ty,
                        a.agg.func.kql(),
                        args.join(", "),
                        expr_text(&a.default)
                    )
                })
                .collect();
            let b: Vec<String> = by
                .iter()
                .map(|(n, e)| format!("{n}:{} = {}", e.ty, expr_text(e)))
                .collect();
            let bound = |e: &Option<crate::ir::Expr>| {
                e.as_ref().map(expr_text).unwrap_or_else(|| "(data)".into())
            };
            writeln!(
                out,
                "{pad}make-series{} {} on {} bins [{}, {}{} step {} by {}",
                if *nonempty { " nonempty" } else { "" },
                a.join(", "),
                expr_text(axis),
                bound(&bins.start),
                bound(&bins.end),
                if bins.range_syntax {
                    "] (bin-aligned)"
                } else {
                    ")"
                },
                expr_text(&bins.step),
                b.join(", ")
            )
            .unwrap();
            node_text(input, depth + 1, out);
        }
        Op::Values { rows } => writeln!(out, "{pad}values ({} rows)", rows.len()).unwrap(),
        Op::External { name, uris } => writeln!(
            out,
            "{pad}externaldata {name} ({} columns) from {}",
            node.schema.len(),
            uris.join(", ")
        )
        .unwrap(),
    }
}
