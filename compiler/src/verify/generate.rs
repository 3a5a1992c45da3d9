//! `detc verify --generate`: differential verification on synthesized fixtures. For every
//! rule that compiles: synthesize its tables ([`crate::synth`]), run the plan natively, run
//! each SQL dialect on its real engine, and compare the rows as multisets by column name.
//! A disagreement is shrunk ([`super::shrink`]) and written as a reproducer.

use super::shrink;
use crate::catalog::Catalog;
use crate::engines::Engine;
use crate::eval::{self, compile::Ctx, Data};
use crate::ir::Node;
use crate::pipeline;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

pub struct Options {
    pub engines: Vec<Engine>,
    /// `now()` of every run, native and SQL.
    pub now: i64,
    pub seed: u64,
    /// Worker threads (at least 1).
    pub jobs: usize,
    /// Where reproducers of disagreements are written (none when `None`).
    pub repro: Option<PathBuf>,
    /// Print progress on stderr.
    pub progress: bool,
}

/// What became of one rule on one engine.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Same rows (this many).
    Agreed(usize),
    /// Different rows, where the SQL declares approximations (listed).
    Approximated { how: String, diff: String },
    /// Different rows (or an engine error) with no approximation declared.
    Disagreed {
        diff: String,
        /// The reproducer's folder, when one was written.
        repro: Option<String>,
    },
    /// Not compared, and why (the target reports the rule unsupported).
    Skipped(String),
}

#[derive(Clone, Debug)]
pub struct RuleResult {
    pub path: String,
    /// Why the rule was not compared at all (it does not compile, or the native run fails).
    pub skipped: Option<String>,
    /// Rows synthesized over all tables, and rows of the native result.
    pub fixture_rows: usize,
    pub native_rows: usize,
    pub engines: Vec<(Engine, Verdict)>,
}

/// The rule's plan (every table present) with `given` parameter values and the report's
/// dummy values for the others bound, and the values bound; or why not.
pub fn compile_rule(
    path: &Path,
    catalog: &Catalog,
    now: i64,
    given: &std::collections::BTreeMap<String, String>,
) -> Result<(Node, std::collections::BTreeMap<String, String>), String> {
    let src = pipeline::load(path);
    if src.query.is_none() {
        return Err("no query".into());
    }
    let (plan, diags) = pipeline::compile_all_tables(&src, catalog);
    let Some(plan) = plan else {
        let first = diags
            .iter()
            .find(|d| d.is_error())
            .map(|d| format!("{}: {}", d.code, d.message))
            .unwrap_or_else(|| "no plan".into());
        return Err(format!("does not compile: {first}"));
    };
    let mut params = crate::report::dummy_params(&plan, now);
    params.extend(given.iter().map(|(k, v)| (k.clone(), v.clone())));
    let plan =
        crate::bind::bind(&plan, &params).map_err(|d| format!("{}: {}", d.code, d.message))?;
    Ok((plan, params))
}

/// Checks every file on `opts.jobs` threads; results in file order.
pub fn run(files: &[PathBuf], catalog: &Catalog, opts: &Options) -> Vec<RuleResult> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<RuleResult>>> = Mutex::new(vec![None; files.len()]);
    std::thread::scope(|s| {
        for _ in 0..opts.jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(path) = files.get(i) else { break };
                let r = check_guarded(path, catalog, opts);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
                let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                if opts.progress {
                    eprint!("\rverify --generate: {n}/{} rules", files.len());
                }
            });
        }
    });
    if opts.progress {
        eprintln!();
    }
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every file is checked"))
        .collect()
}

/// [`check_rule`], with a panic reported as the rule's failure on every engine.
fn check_guarded(path: &Path, catalog: &Catalog, opts: &Options) -> RuleResult {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        check_rule(path, catalog, opts)
    }));
    r.unwrap_or_else(|payload| {
        let msg = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into());
        RuleResult {
            path: path.display().to_string(),
            skipped: None,
            fixture_rows: 0,
            native_rows: 0,
            engines: opts
                .engines
                .iter()
                .map(|e| {
                    (
                        *e,
                        Verdict::Disagreed {
                            diff: format!("internal error (panic): {msg}"),
                            repro: None,
                        },
                    )
                })
                .collect(),
        }
    })
}

pub fn check_rule(path: &Path, catalog: &Catalog, opts: &Options) -> RuleResult {
    let mut result = RuleResult {
        path: path.display().to_string(),
        skipped: None,
        fixture_rows: 0,
        native_rows: 0,
        engines: Vec::new(),
    };
    let plan = match compile_rule(path, catalog, opts.now, &Default::default()) {
        Ok((p, _)) => p,
        Err(why) => {
            result.skipped = Some(why);
            return result;
        }
    };
    let data = crate::synth::synthesize(&plan, opts.now, opts.seed);
    result.fixture_rows = data.tables.values().map(|t| t.len()).sum();
    let native = match eval::run(&plan, &data, &Ctx { now: opts.now }) {
        Ok(rows) => rows,
        Err(d) => {
            result.skipped = Some(format!("native run fails: {}: {}", d.code, d.message));
            return result;
        }
    };
    result.native_rows = native.len();
    for &engine in &opts.engines {
        let v = compare(&plan, &data, &native, engine, opts, path);
        result.engines.push((engine, v));
    }
    result
}

/// One engine's verdict on one rule.
fn compare(
    plan: &Node,
    data: &Data,
    native: &[eval::Row],
    engine: Engine,
    opts: &Options,
    path: &Path,
) -> Verdict {
    let emitted = match crate::emit::sql::emit_at(plan, super::dialect(engine), Some(opts.now)) {
        Ok(o) => o,
        Err(u) => return Verdict::Skipped(format!("unsupported: {u}")),
    };
    let msg = match super::check_emitted(plan, data, native, engine, &emitted) {
        Ok(n) => return Verdict::Agreed(n),
        Err(m) => m,
    };
    let approximations = &emitted.emitted.approximations;
    // Declared approximations cover the engine's errors too (PostgreSQL's parse_json of
    // text that is not JSON fails, as declared).
    if !approximations.is_empty() {
        let how = approximations
            .iter()
            .map(|a| format!("{}: {}", a.construct, a.how))
            .collect::<Vec<_>>()
            .join("; ");
        return Verdict::Approximated { how, diff: msg };
    }
    let repro = opts.repro.as_ref().and_then(|dir| {
        if !shrink::is_mismatch(&msg) {
            return None;
        }
        let case = shrink::shrink(plan, data, engine, opts.now);
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("rule")
            .to_string();
        let out = dir.join(format!("{stem}.{}", engine.name()));
        match shrink::write_repro(&out, &case, engine, opts.now, path) {
            Ok(()) => Some(out.display().to_string()),
            Err(e) => Some(format!("(could not write {}: {e})", out.display())),
        }
    });
    Verdict::Disagreed { diff: msg, repro }
}

/// Totals per engine: agreed, approximated, disagreed, skipped.
pub fn totals(results: &[RuleResult], engine: Engine) -> [usize; 4] {
    let mut t = [0; 4];
    for r in results {
        for (e, v) in &r.engines {
            if *e != engine {
                continue;
            }
            t[match v {
                Verdict::Agreed(_) => 0,
                Verdict::Approximated { .. } => 1,
                Verdict::Disagreed { .. } => 2,
                Verdict::Skipped(_) => 3,
            }] += 1;
        }
    }
    t
}
