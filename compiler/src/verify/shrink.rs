//! Shrinking a disagreement: the fewest rows, then the smallest sub-plan, that still make
//! native and the engine disagree; written as a reproducer folder (`query.kql`, one
//! `<Table>.jsonl` per table, and `verify.sh`, the command that shows the disagreement).

use crate::engines::Engine;
use crate::eval::{self, compile::Ctx, Data, Row};
use crate::ir::{Node, Op};
use std::path::Path;
use std::sync::Arc;

/// Engine runs one shrink may spend.
const BUDGET: usize = 160;

/// Whether a [`super::check`] error is a difference in rows or columns (not an engine error).
pub fn is_mismatch(msg: &str) -> bool {
    msg.starts_with("native ") || msg.starts_with("columns differ")
}

pub struct Case {
    pub plan: Node,
    pub data: Data,
    /// The difference the shrunk case shows.
    pub diff: String,
}

/// Whether `plan` on `data` still disagrees (native runs, the engine returns other rows).
fn disagrees(plan: &Node, data: &Data, engine: Engine, now: i64) -> Option<String> {
    let native = eval::run(plan, data, &Ctx { now }).ok()?;
    match super::check(plan, data, &native, engine, now) {
        Err(m) if is_mismatch(&m) => Some(m),
        _ => None,
    }
}

/// The smallest case found within the budget (the original if nothing smaller disagrees).
pub fn shrink(plan: &Node, data: &Data, engine: Engine, now: i64) -> Case {
    shrink_with(plan, data, &|p: &Node, d: &Data| {
        disagrees(p, d, engine, now)
    })
}

/// [`shrink`] with any test of disagreement (`Some(difference)` when the case disagrees).
pub fn shrink_with(
    plan: &Node,
    data: &Data,
    fails: &dyn Fn(&Node, &Data) -> Option<String>,
) -> Case {
    let mut budget = BUDGET;
    let mut plan = plan.clone();
    let mut data = data.clone();
    let mut diff = fails(&plan, &data).unwrap_or_default();
    shrink_rows(&plan, &mut data, fails, &mut budget, &mut diff);
    // Descend into the first input that disagrees on its own.
    'descend: while budget > 0 {
        for input in plan.inputs() {
            if has_outer_row(input) {
                continue;
            }
            budget = budget.saturating_sub(1);
            if let Some(d) = fails(input, &data) {
                plan = input.clone();
                diff = d;
                continue 'descend;
            }
        }
        break;
    }
    let mut sub = Data::default();
    for (t, _) in plan.sources() {
        if let Some(rows) = data.tables.get(&t) {
            sub.tables.insert(t, rows.clone());
        }
    }
    shrink_rows(&plan, &mut sub, fails, &mut budget, &mut diff);
    Case {
        plan,
        data: sub,
        diff,
    }
}

/// An `mv-apply` body reads its outer row: it is not a plan of its own.
fn has_outer_row(n: &Node) -> bool {
    let mut found = false;
    n.visit(&mut |x| found |= x.op == Op::OuterRow);
    found
}

/// Removes chunks of rows, halving the chunk size, while the disagreement stays.
fn shrink_rows(
    plan: &Node,
    data: &mut Data,
    fails: &dyn Fn(&Node, &Data) -> Option<String>,
    budget: &mut usize,
    diff: &mut String,
) {
    let mut tables: Vec<String> = data.tables.keys().cloned().collect();
    tables.sort();
    for t in tables {
        let mut rows: Vec<Row> = data.tables[&t].as_ref().clone();
        let mut chunk = rows.len().div_ceil(2).max(1);
        loop {
            let mut i = 0;
            while i < rows.len() && *budget > 0 {
                let mut fewer = rows.clone();
                fewer.drain(i..(i + chunk).min(rows.len()));
                let mut trial = data.clone();
                trial.tables.insert(t.clone(), Arc::new(fewer.clone()));
                *budget -= 1;
                match fails(plan, &trial) {
                    Some(d) => {
                        rows = fewer;
                        *data = trial;
                        *diff = d;
                    }
                    None => i += chunk,
                }
            }
            if chunk == 1 || *budget == 0 {
                break;
            }
            chunk = chunk.div_ceil(2);
        }
    }
}

/// Writes the case to `dir` (replacing what is there).
pub fn write_repro(
    dir: &Path,
    case: &Case,
    engine: Engine,
    now: i64,
    rule: &Path,
) -> std::io::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    let query = crate::emit::kql::plan_text(&case.plan);
    std::fs::write(dir.join("query.kql"), &query)?;
    for (t, columns) in case.plan.sources() {
        let rows = case
            .data
            .tables
            .get(&t)
            .map(|r| r.as_ref().clone())
            .unwrap_or_default();
        std::fs::write(
            dir.join(format!("{t}.jsonl")),
            crate::synth::jsonl(&rows, &columns),
        )?;
    }
    let now = crate::value::format_datetime(now);
    std::fs::write(
        dir.join("verify.sh"),
        format!(
            "#!/bin/sh\n# Shrunk from {} by `detc verify --generate`: native and {} disagree.\n# Expected difference:\n{}\ncd \"$(dirname \"$0\")\" && exec \"${{DETC:-detc}}\" verify query.kql --data . --engines {} --now {now}\n",
            rule.display(),
            engine.name(),
            case.diff
                .lines()
                .take(20)
                .map(|l| format!("#   {l}"))
                .collect::<Vec<_>>()
                .join("\n"),
            engine.name(),
        ),
    )
}
