//! `detc report`: how far each rule file of a repository gets through detc's stages, and what
//! stops the rest.
//!
//! Stages, in order: `yaml`, `schema`, `parse`, `resolve`, `ir`, `eval`, then one per target in
//! [`Target::all`] order. Each stage of each file is ok, failed (code, message, location) or
//! skipped. Dependencies:
//! - a file that does not load as YAML (`yaml` failed: DY001, or DT001 unreadable) skips
//!   everything else; a bare `.kql` file has no YAML and no metadata, so both are ok;
//! - `schema` gates nothing: the query of a schema-invalid rule still goes through the query
//!   stages; a file without a query skips them (and is not counted in `with_query`);
//! - `parse` -> `resolve` -> `ir` form a chain (a stage after a failed one is skipped);
//! - `eval` and each target need only the plan (`ir` ok): they are alternatives, so a Sigma
//!   failure does not hide whether the SQL dialects can carry the rule.
//!
//! `resolve` is lowering without errors other than DR100 (unsupported), `ir` lowering without
//! any error: lowering stops at the first error of a statement, so an unsupported operator can
//! hide a name error after it. `eval` binds `{{Name}}` parameters to typed dummy values and runs
//! the plan natively on empty tables, then on one synthetic row per table. Targets render the
//! unbound plan, as `detc build` without `--param` does.
//!
//! The first failure of a file is its first failed stage in stage order. Every stage runs under
//! `catch_unwind`: a panic is a failure with code [`codes::INTERNAL`] at the stage it happened
//! in, so one bad rule cannot take the report down (and the panic is a bug to fix).

use crate::catalog::Catalog;
use crate::diagnostics::{codes, Diagnostic, LineIndex};
use crate::engines::Engine;
use crate::eval::{self, compile::Ctx, Data};
use crate::ir::{Column, Expr, ExprKind, Node};
use crate::lower::{lower, Tables};
use crate::pipeline::{self, Source};
use crate::targets::{render, Target};
use crate::types::Type;
use crate::value::{format_datetime, Value, TICKS_PER_DAY};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The stages before the targets, in order.
pub const BASE_STAGES: [&str; 6] = ["yaml", "schema", "parse", "resolve", "ir", "eval"];
const YAML: usize = 0;
const SCHEMA: usize = 1;
const PARSE: usize = 2;
const RESOLVE: usize = 3;
const IR: usize = 4;
const EVAL: usize = 5;
const FIRST_TARGET: usize = 6;

/// Every stage name, in order: the base stages then the targets.
pub fn stage_names() -> Vec<String> {
    BASE_STAGES
        .iter()
        .map(|s| s.to_string())
        .chain(Target::all().iter().map(Target::name))
        .collect()
}

/// Why a stage failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub code: String,
    pub message: String,
    /// `file:line:col`, or the file alone for failures without a position.
    pub location: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Skipped,
    Failed(Failure),
}

/// One file's result: an outcome per stage of [`stage_names`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileReport {
    pub path: String,
    /// The file loaded and has a query (the base of the query stages' percentages).
    pub has_query: bool,
    pub stages: Vec<Outcome>,
}

impl FileReport {
    /// The first failed stage (index into [`stage_names`]) and its failure.
    pub fn first_failure(&self) -> Option<(usize, &Failure)> {
        self.stages.iter().enumerate().find_map(|(i, o)| match o {
            Outcome::Failed(f) => Some((i, f)),
            _ => None,
        })
    }

    /// The unsupported constructs that stop this file: the `ir` stage's DR100 failure and each
    /// target's DX001 failure (targets are alternatives, so each one counts). At most one per
    /// stage; each stage's failure is the first one found there.
    pub fn unsupported(&self) -> impl Iterator<Item = &Failure> {
        self.stages.iter().filter_map(|o| match o {
            Outcome::Failed(f)
                if f.code == codes::UNSUPPORTED || f.code == codes::TARGET_UNSUPPORTED =>
            {
                Some(f)
            }
            _ => None,
        })
    }
}

/// The whole report: files sorted by path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub stages: Vec<String>,
    pub files: Vec<FileReport>,
}

pub struct Options {
    /// Worker threads (at least 1).
    pub jobs: usize,
    /// Engines to run each rule's SQL on (stages `run:<engine>`, after the targets).
    pub engines: Vec<Engine>,
    /// Show `[n/N] path` on stderr while working.
    pub progress: bool,
    /// `now()` for the eval stage and the dummy parameter values, in ticks.
    pub now: i64,
}

/// Checks every file on `opts.jobs` threads. The result does not depend on the job count.
pub fn run(files: &[PathBuf], catalog: &Catalog, opts: &Options) -> Report {
    let total = files.len();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let current = Mutex::new(String::new());
    let results: Mutex<Vec<FileReport>> = Mutex::new(Vec::with_capacity(total));
    let jobs = opts.jobs.clamp(1, total.max(1));

    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(record_panic));
    std::thread::scope(|s| {
        for _ in 0..jobs {
            // A generous stack: deeply nested queries recurse in the parser and the lowerer, and
            // a stack overflow cannot be caught.
            std::thread::Builder::new()
                .name("detc-report".into())
                .stack_size(256 << 20)
                .spawn_scoped(s, || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(i) else { break };
                    if opts.progress {
                        *current.lock().unwrap_or_else(|e| e.into_inner()) =
                            path.display().to_string();
                    }
                    let r = check_file(path, catalog, opts.now, &opts.engines);
                    results.lock().unwrap_or_else(|e| e.into_inner()).push(r);
                    done.fetch_add(1, Ordering::Relaxed);
                })
                .expect("cannot start a worker thread");
        }
        if opts.progress {
            progress(total, &done, &current);
        }
    });
    std::panic::set_hook(previous_hook);

    let mut files = results.into_inner().unwrap_or_else(|e| e.into_inner());
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut stages = stage_names();
    stages.extend(opts.engines.iter().map(|e| run_stage(*e)));
    Report { stages, files }
}

/// `\r[n/N] path` on stderr about ten times a second until every file is done, then cleared.
fn progress(total: usize, done: &AtomicUsize, current: &Mutex<String>) {
    use std::io::Write;
    let mut width: usize = 0;
    loop {
        let n = done.load(Ordering::Relaxed);
        let path = current.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut line = format!("[{n}/{total}] {path}");
        if line.chars().count() > 100 {
            let tail: String = {
                let chars: Vec<char> = path.chars().collect();
                chars[chars.len().saturating_sub(80)..].iter().collect()
            };
            line = format!("[{n}/{total}] ...{tail}");
        }
        let len = line.chars().count();
        let pad = " ".repeat(width.saturating_sub(len));
        width = width.max(len);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}{pad}");
        let _ = err.flush();
        drop(err);
        if n >= total {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r{}\r", " ".repeat(width));
    let _ = err.flush();
}

thread_local! {
    /// The message and source location of the last panic on this thread (set by the report's
    /// panic hook, which prints nothing).
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn record_panic(info: &std::panic::PanicHookInfo<'_>) {
    let msg = payload_text(info.payload());
    let text = match info.location() {
        Some(l) => format!("{msg} (at {}:{}:{})", l.file(), l.line(), l.column()),
        None => msg,
    };
    LAST_PANIC.with(|p| *p.borrow_mut() = Some(text));
}

fn payload_text(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic without a message)".into()
    }
}

/// Runs one stage's work; a panic becomes a [`codes::INTERNAL`] failure.
fn guarded<T>(path: &str, f: impl FnOnce() -> T) -> Result<T, Failure> {
    LAST_PANIC.with(|p| p.borrow_mut().take());
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let msg = LAST_PANIC
            .with(|p| p.borrow_mut().take())
            .unwrap_or_else(|| payload_text(payload.as_ref()));
        Failure {
            code: codes::INTERNAL.into(),
            message: format!("internal error (panic): {msg}"),
            location: path.to_string(),
        }
    })
}

/// A file's text and line index, for locations.
struct Located<'a> {
    path: &'a str,
    text: &'a str,
    index: LineIndex,
}

impl Located<'_> {
    /// A failure from a diagnostic whose span (if any) is in file offsets.
    fn failure(&self, d: &Diagnostic) -> Failure {
        let location = match d.span {
            Some(s) => {
                let (line, col) = self.index.line_col(self.text, s.start);
                format!("{}:{line}:{col}", self.path)
            }
            None => self.path.to_string(),
        };
        Failure {
            code: d.code.to_string(),
            message: d.message.clone(),
            location,
        }
    }
}

/// The earliest error in the file among `diags` (stable for equal positions).
fn first_error<'d>(
    diags: impl Iterator<Item = &'d Diagnostic>,
    keep: impl Fn(&Diagnostic) -> bool,
) -> Option<&'d Diagnostic> {
    diags
        .filter(|d| d.is_error() && keep(d))
        .enumerate()
        .min_by_key(|(i, d)| (d.span.map_or(usize::MAX, |s| s.start), *i))
        .map(|(_, d)| d)
}

/// Runs every stage on one file. Never panics.
/// The stage that runs a rule's SQL on `e`.
pub fn run_stage(e: Engine) -> String {
    format!("run:{}", e.name())
}

pub fn check_file(path: &Path, catalog: &Catalog, now: i64, engines: &[Engine]) -> FileReport {
    let name = path.display().to_string();
    let n = FIRST_TARGET + Target::all().len() + engines.len();
    let mut stages = vec![Outcome::Skipped; n];
    let mut has_query = false;
    let r = guarded(&name, || {
        check_stages(
            path,
            &name,
            catalog,
            now,
            engines,
            &mut stages,
            &mut has_query,
        )
    });
    if let Err(f) = r {
        // Only reachable if the stage bookkeeping itself panics: blame the first stage not
        // yet decided.
        let i = stages
            .iter()
            .position(|o| *o == Outcome::Skipped)
            .unwrap_or(0);
        stages[i] = Outcome::Failed(f);
    }
    FileReport {
        path: name,
        has_query,
        stages,
    }
}

fn check_stages(
    path: &Path,
    name: &str,
    catalog: &Catalog,
    now: i64,
    engines: &[Engine],
    stages: &mut [Outcome],
    has_query: &mut bool,
) {
    let src: Source = match guarded(name, || pipeline::load(path)) {
        Ok(s) => s,
        Err(f) => {
            stages[YAML] = Outcome::Failed(f);
            return;
        }
    };
    let loc = Located {
        path: name,
        text: &src.text,
        index: LineIndex::new(&src.text),
    };
    let is_schema = |d: &Diagnostic| d.code.starts_with("DS");
    if let Some(d) = first_error(src.diagnostics.iter(), |d| !is_schema(d)) {
        stages[YAML] = Outcome::Failed(loc.failure(d));
        return;
    }
    stages[YAML] = Outcome::Ok;
    stages[SCHEMA] = match first_error(src.diagnostics.iter(), is_schema) {
        Some(d) => Outcome::Failed(loc.failure(d)),
        None => Outcome::Ok,
    };

    let Some(q) = &src.query else { return };
    *has_query = true;
    // Query spans -> file spans, as `pipeline::compile` does.
    let locate = |mut d: Diagnostic| {
        if let Some(s) = d.span {
            let start = q.map.to_file(s.start);
            let end = q.map.to_file(s.end.max(s.start)).max(start);
            d.span = Some(crate::diagnostics::Span::new(start, end));
        }
        loc.failure(&d)
    };

    let ast = match guarded(name, || crate::syntax::parse(&q.text)) {
        Err(f) => {
            stages[PARSE] = Outcome::Failed(f);
            return;
        }
        Ok((ast, diags)) => match first_error(diags.iter(), |_| true) {
            Some(d) => {
                stages[PARSE] = Outcome::Failed(locate(d.clone()));
                return;
            }
            None => ast,
        },
    };
    stages[PARSE] = Outcome::Ok;

    let tables = Tables {
        catalog,
        present: None,
    };
    let lowered = match guarded(name, || lower(&ast, &tables)) {
        Ok(l) => l,
        Err(f) => {
            stages[RESOLVE] = Outcome::Failed(f);
            return;
        }
    };
    if let Some(d) = first_error(lowered.diagnostics.iter(), |d| d.code != codes::UNSUPPORTED) {
        stages[RESOLVE] = Outcome::Failed(locate(d.clone()));
        return;
    }
    stages[RESOLVE] = Outcome::Ok;
    let plan = match (
        &lowered.plan,
        first_error(lowered.diagnostics.iter(), |_| true),
    ) {
        (_, Some(d)) => {
            stages[IR] = Outcome::Failed(locate(d.clone()));
            return;
        }
        (None, None) => {
            stages[IR] = Outcome::Failed(Failure {
                code: codes::INTERNAL.into(),
                message: "lowering produced neither a plan nor an error".into(),
                location: name.to_string(),
            });
            return;
        }
        (Some(p), None) => p,
    };
    stages[IR] = Outcome::Ok;

    let at_file = |code: &str, message: String| {
        Outcome::Failed(Failure {
            code: code.to_string(),
            message,
            location: name.to_string(),
        })
    };
    stages[EVAL] = match guarded(name, || eval_check(plan, now)) {
        Ok(Ok(())) => Outcome::Ok,
        Ok(Err((code, message))) => at_file(code, message),
        Err(f) => Outcome::Failed(f),
    };
    for (i, t) in Target::all().into_iter().enumerate() {
        stages[FIRST_TARGET + i] = match guarded(name, || render(t, plan, src.rule.as_ref(), name))
        {
            Ok(Ok(_)) => Outcome::Ok,
            Ok(Err(u)) => at_file(codes::TARGET_UNSUPPORTED, format!("{}: {u}", t.name())),
            Err(f) => Outcome::Failed(f),
        };
    }
    let first_run = FIRST_TARGET + Target::all().len();
    for (k, e) in engines.iter().enumerate() {
        // Only where the dialect renders and the native run works.
        let sql = Target::all()
            .iter()
            .position(|t| t.name() == format!("sql:{}", e.name()))
            .map(|i| FIRST_TARGET + i);
        if stages[EVAL] != Outcome::Ok || sql.is_some_and(|i| stages[i] != Outcome::Ok) {
            continue;
        }
        stages[first_run + k] = match guarded(name, || engine_check(plan, now, *e)) {
            Ok(Ok(())) => Outcome::Ok,
            Ok(Err((code, message))) => at_file(code, format!("{}: {message}", run_stage(*e))),
            Err(f) => Outcome::Failed(f),
        };
    }
}

/// The rule's SQL on a real engine, with the eval stage's dummy parameters, on empty tables
/// and on one synthetic row per table: the engine must accept it and return the native rows.
fn engine_check(plan: &Node, now: i64, engine: Engine) -> Result<(), (&'static str, String)> {
    let (plan, cases) = bound_cases(plan, now)?;
    for (label, data) in &cases {
        let native = eval::run(&plan, data, &Ctx { now }).map_err(|d| (d.code, d.message))?;
        crate::verify::check(&plan, data, &native, engine, now).map_err(|m| {
            let code = if m.starts_with("native ") || m.starts_with("columns differ") {
                codes::VERIFY_MISMATCH
            } else {
                codes::ENGINE
            };
            (code, format!("{label}: {}", shorten_lines(&m, 12)))
        })?;
    }
    Ok(())
}

/// The first `n` lines of `s`.
fn shorten_lines(s: &str, n: usize) -> String {
    let mut lines: Vec<&str> = s.lines().take(n + 1).collect();
    if lines.len() > n {
        lines.truncate(n);
        lines.push("...");
    }
    lines.join("\n")
}

/// Runs the plan with dummy parameters on empty tables, then on one synthetic row per table
/// (`externaldata` sources included: detc never downloads).
fn eval_check(plan: &Node, now: i64) -> Result<(), (&'static str, String)> {
    let (plan, cases) = bound_cases(plan, now)?;
    for (label, data) in &cases {
        eval::run(&plan, data, &Ctx { now })
            .map_err(|d| (d.code, format!("{label}: {}", d.message)))?;
    }
    Ok(())
}

/// Labelled data sets a plan is checked on.
type Cases = [(&'static str, Data); 2];

/// The plan with the dummy parameters bound, and the data it is checked on: empty tables,
/// then one synthetic row per table (scans and `externaldata` alike, each with the columns it
/// is read with).
fn bound_cases(plan: &Node, now: i64) -> Result<(Node, Cases), (&'static str, String)> {
    let params = dummy_params(plan, now);
    let plan = crate::bind::bind(plan, &params).map_err(|d| (d.code, d.message))?;
    let mut empty = Data::default();
    let mut one = Data::default();
    for (t, columns) in plan.sources() {
        empty.tables.insert(t.clone(), Arc::new(Vec::new()));
        one.tables
            .insert(t, Arc::new(vec![synthetic_row(&columns, now)]));
    }
    Ok((
        plan,
        [("on empty tables", empty), ("on one row per table", one)],
    ))
}

/// A plausible non-null value for every column.
pub fn synthetic_row(columns: &[Column], now: i64) -> Vec<Value> {
    columns
        .iter()
        .map(|c| crate::synth::default_value(c.ty, now))
        .collect()
}

/// Typed dummy values for the plan's `{{Name}}` parameters (datetimes: a one-day window ending
/// now, the end being a parameter whose name contains "end"), and `"x"` for names that only
/// appear in template strings.
pub fn dummy_params(plan: &Node, now: i64) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, ty) in crate::ir::plan_params(plan) {
        let v = match ty {
            Type::String | Type::Guid => "x".to_string(),
            Type::Bool => "true".into(),
            Type::Int | Type::Long => "1".into(),
            Type::Real | Type::Decimal => "1.5".into(),
            Type::DateTime if name.to_ascii_lowercase().contains("end") => format_datetime(now),
            Type::DateTime => format_datetime(now - TICKS_PER_DAY),
            Type::Timespan => "1h".into(),
            Type::Dynamic => r#"{"a":"x"}"#.into(),
        };
        out.insert(name, v);
    }
    let mut templates = Vec::new();
    plan.clone()
        .exprs_mut(&mut |e| template_names(e, &mut templates));
    for n in templates {
        out.entry(n).or_insert_with(|| "x".to_string());
    }
    out
}

fn template_names(e: &Expr, out: &mut Vec<String>) {
    if let ExprKind::Template(t) = &e.kind {
        let mut rest = t.as_str();
        while let Some(i) = rest.find("{{") {
            rest = &rest[i + 2..];
            let body = rest.trim_start_matches(['-', ' ', '\t']);
            let name: String = body
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && !out.contains(&name) {
                out.push(name);
            }
        }
    }
    for c in e.children() {
        template_names(c, out);
    }
}

/// Per-stage totals.
pub struct Totals {
    pub files: usize,
    pub with_query: usize,
    /// ok, failed, skipped per stage.
    pub stages: Vec<(usize, usize, usize)>,
    /// First failures by code, most frequent first: (code, count, example file's failure).
    pub failures: Vec<(String, usize, Failure)>,
    /// Unsupported-construct messages (one per file and stage), most frequent first.
    pub constructs: Vec<(String, usize)>,
}

fn ranked<T>(m: HashMap<String, (usize, T)>) -> Vec<(String, usize, T)> {
    let mut v: Vec<(String, usize, T)> = m.into_iter().map(|(k, (n, t))| (k, n, t)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

impl Report {
    pub fn totals(&self) -> Totals {
        let mut stages = vec![(0, 0, 0); self.stages.len()];
        let mut failures: HashMap<String, (usize, Failure)> = HashMap::new();
        let mut constructs: HashMap<String, (usize, ())> = HashMap::new();
        for f in &self.files {
            for (i, o) in f.stages.iter().enumerate() {
                match o {
                    Outcome::Ok => stages[i].0 += 1,
                    Outcome::Failed(_) => stages[i].1 += 1,
                    Outcome::Skipped => stages[i].2 += 1,
                }
            }
            if let Some((_, fail)) = f.first_failure() {
                // Files are sorted: the example is the first file with the code.
                failures
                    .entry(fail.code.clone())
                    .or_insert_with(|| (0, fail.clone()))
                    .0 += 1;
            }
            for u in f.unsupported() {
                constructs.entry(u.message.clone()).or_default().0 += 1;
            }
        }
        Totals {
            files: self.files.len(),
            with_query: self.files.iter().filter(|f| f.has_query).count(),
            stages,
            failures: ranked(failures),
            constructs: ranked(constructs)
                .into_iter()
                .map(|(k, n, ())| (k, n))
                .collect(),
        }
    }

    /// The report as one JSON object, keys in a fixed order (stages in stage order, failures
    /// and constructs most frequent first), one line per rule.
    pub fn to_json(&self) -> String {
        let t = self.totals();
        let s = |x: &str| serde_json::to_string(x).expect("strings serialize");
        let mut out = String::from("{\n");
        let _ = writeln!(out, "  \"files\": {},", t.files);
        let _ = writeln!(out, "  \"with_query\": {},", t.with_query);
        let stages: Vec<String> = self
            .stages
            .iter()
            .zip(&t.stages)
            .map(|(name, (ok, _, _))| format!("{}: {ok}", s(name)))
            .collect();
        let _ = writeln!(out, "  \"stages\": {{{}}},", stages.join(", "));
        let obj = |items: Vec<String>| {
            if items.is_empty() {
                "{}".to_string()
            } else {
                format!("{{\n    {}\n  }}", items.join(",\n    "))
            }
        };
        let failures = t
            .failures
            .iter()
            .map(|(code, n, _)| format!("{}: {n}", s(code)))
            .collect();
        let _ = writeln!(out, "  \"failures\": {},", obj(failures));
        let constructs = t
            .constructs
            .iter()
            .map(|(m, n)| format!("{}: {n}", s(m)))
            .collect();
        let _ = writeln!(out, "  \"constructs\": {},", obj(constructs));
        let failure = |f: &Failure| {
            format!(
                "{{\"code\": {}, \"message\": {}, \"location\": {}}}",
                s(&f.code),
                s(&f.message),
                s(&f.location)
            )
        };
        let rules: Vec<String> = self
            .files
            .iter()
            .map(|f| {
                let stages: Vec<String> = self
                    .stages
                    .iter()
                    .zip(&f.stages)
                    .map(|(name, o)| {
                        let v = match o {
                            Outcome::Ok => s("ok"),
                            Outcome::Skipped => s("skipped"),
                            Outcome::Failed(x) => failure(x),
                        };
                        format!("{}: {v}", s(name))
                    })
                    .collect();
                let first = match f.first_failure() {
                    None => "null".to_string(),
                    Some((i, x)) => format!(
                        "{{\"stage\": {}, \"code\": {}, \"message\": {}, \"location\": {}}}",
                        s(&self.stages[i]),
                        s(&x.code),
                        s(&x.message),
                        s(&x.location)
                    ),
                };
                format!(
                    "{{\"path\": {}, \"stages\": {{{}}}, \"first_failure\": {first}}}",
                    s(&f.path),
                    stages.join(", ")
                )
            })
            .collect();
        if rules.is_empty() {
            out.push_str("  \"rules\": []\n}\n");
        } else {
            let _ = write!(
                out,
                "  \"rules\": [\n    {}\n  ]\n}}\n",
                rules.join(",\n    ")
            );
        }
        out
    }

    /// Per-stage totals, the top failure codes with an example, the top unsupported constructs.
    pub fn to_table(&self) -> String {
        let t = self.totals();
        let pct = |n: usize, of: usize| {
            if of == 0 {
                "-".to_string()
            } else {
                format!("{:.1}%", n as f64 * 100.0 / of as f64)
            }
        };
        let mut out = String::new();
        let clean = self
            .files
            .iter()
            .filter(|f| f.first_failure().is_none())
            .count();
        let _ = writeln!(
            out,
            "{} file(s), {} with a query; {} pass every stage that applies\n",
            t.files, t.with_query, clean
        );
        let _ = writeln!(
            out,
            "{:<14} {:>7} {:>7} {:>7} {:>7}  of",
            "stage", "ok", "failed", "skipped", "ok %"
        );
        for (i, (name, (ok, failed, skipped))) in self.stages.iter().zip(&t.stages).enumerate() {
            let (base, of) = if i <= SCHEMA {
                (t.files, "files")
            } else {
                (t.with_query, "with_query")
            };
            let _ = writeln!(
                out,
                "{name:<14} {ok:>7} {failed:>7} {skipped:>7} {:>7}  {of}",
                pct(*ok, base)
            );
        }
        let _ = writeln!(out, "\nfirst failure per file, by code (top 15):");
        if t.failures.is_empty() {
            let _ = writeln!(out, "  (none)");
        }
        for (code, n, ex) in t.failures.iter().take(15) {
            let _ = writeln!(
                out,
                "{n:>7}  {code:<6} e.g. {}: {}",
                ex.location,
                shorten(&ex.message, 120)
            );
        }
        let _ = writeln!(
            out,
            "\nunsupported constructs, by the number of files they stop (DR100 at ir; DX001 per target; top 15):"
        );
        if t.constructs.is_empty() {
            let _ = writeln!(out, "  (none)");
        }
        for (m, n) in t.constructs.iter().take(15) {
            let _ = writeln!(out, "{n:>7}  {}", shorten(m, 140));
        }
        out
    }
}

/// One line, at most `max` characters.
fn shorten(s: &str, max: usize) -> String {
    let one: String = s.replace(['\n', '\r'], " ");
    if one.chars().count() <= max {
        one
    } else {
        one.chars().take(max - 3).collect::<String>() + "..."
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_order() {
        assert_eq!(
            stage_names(),
            [
                "yaml",
                "schema",
                "parse",
                "resolve",
                "ir",
                "eval",
                "kql",
                "sigma",
                "sql:duckdb",
                "sql:postgres",
                "sql:sqlite",
                "sql:spark",
                "sql:snowflake",
                "sql:bigquery"
            ]
        );
    }

    #[test]
    fn template_names_are_found() {
        let e = Expr {
            kind: ExprKind::Template("from {{ Start }} to {{End}}, {{-x}}".into()),
            ty: Type::String,
        };
        let mut out = Vec::new();
        template_names(&e, &mut out);
        assert_eq!(out, ["Start", "End", "x"]);
    }

    #[test]
    fn a_panic_is_a_located_internal_failure() {
        let f = guarded("r.yaml", || -> () { panic!("boom") }).unwrap_err();
        assert_eq!(f.code, codes::INTERNAL);
        assert!(f.message.contains("boom"), "{}", f.message);
        assert_eq!(f.location, "r.yaml");
    }
}
