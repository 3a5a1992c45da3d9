use clap::{Parser, Subcommand, ValueEnum};
use detc::catalog::Catalog;
use detc::diagnostics::render::{concise, Sources};
use detc::diagnostics::{codes, Diagnostic, Severity};
use detc::eval::{self, compile::Ctx, data, Data};
use detc::lower::Tables;
use detc::pipeline::{self, Source};
use detc::targets::{render_files, Target};
use detc::value::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "detc",
    version,
    about = "Detection-as-code compiler: lint, run, test and port KQL detection rules"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Format {
    Table,
    Jsonl,
    Csv,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum DiagFormat {
    /// Annotated source lines (stderr).
    Full,
    /// `file:line:col: severity[CODE] message` (stderr).
    Concise,
    /// A JSON array of findings (stdout).
    Json,
    /// SARIF 2.1.0 (stdout).
    Sarif,
    /// GitHub Actions workflow annotations (stdout).
    Github,
    /// JUnit XML, one test case per file (stdout).
    Junit,
}

#[derive(Subcommand)]
enum Cmd {
    /// Check rule files: schema, KQL syntax, names and types.
    Lint {
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "full")]
        output_format: DiagFormat,
        /// Exit 0 even when there are error-level findings.
        #[arg(long)]
        exit_zero: bool,
        /// Exit 1 on warnings too.
        #[arg(long)]
        deny_warnings: bool,
        /// Apply the certain fixes (a repeated list value, a tactic's spelling) and print
        /// their diff; the findings fixed are not reported.
        #[arg(long)]
        fix: bool,
        /// Compare each rule with its text at this git revision: a changed id, or changed
        /// detection logic without a version bump, is an error (Sentinel CI's rules).
        #[arg(long, value_name = "REV")]
        base: Option<String>,
    },
    /// Run a rule (YAML) or a bare .kql file natively over fixture tables.
    Run {
        /// A rule or `.kql` file; with several (or folders), every rule runs over one read of
        /// each table and each output row names its rule (`_rule`).
        #[arg(required = true)]
        rules: Vec<PathBuf>,
        /// Folder with one <Table>.jsonl, <Table>.json (an array) or <Table>.csv per table;
        /// a table without a file is absent.
        #[arg(long)]
        data: PathBuf,
        /// A `{{NAME}}` parameter's value (repeatable).
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// Pin now() and ago() (ISO 8601); default: the current time.
        #[arg(long)]
        now: Option<String>,
    },
    /// Run each rule's tests (<rule>.tests.yaml next to the rule).
    Test { paths: Vec<PathBuf> },
    /// Compile rules to targets: one file per rule and target in --out.
    ///
    /// The sigma target also writes <rule>.sigma-pipeline.yml, the pySigma processing pipeline
    /// that maps its log sources to tables and resolves its placeholders.
    Build {
        paths: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        /// kql, sigma, sql:duckdb, sql:postgres, sql:sqlite, sql:spark, sql:snowflake,
        /// sql:bigquery (repeatable; default: all).
        #[arg(long = "target")]
        targets: Vec<String>,
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// Write nothing; compare the outputs with the files already in --out and print a
        /// unified diff of each difference (exit 1 on any drift): a CI drift check.
        #[arg(long)]
        check: bool,
        /// Refuse every declared approximation: a target that cannot carry a rule exactly is
        /// an error (DX002), and nothing is written.
        #[arg(long)]
        strict: bool,
    },
    /// Run rules natively and on real engines, and compare the rows.
    ///
    /// With --data: one rule on that data folder. With --generate: every rule under PATHS
    /// that compiles, on tables synthesized from the rule (`detc fixtures`); a disagreement
    /// is shrunk to the fewest rows and smallest sub-plan and, with --repro, written as a
    /// reproducer folder. Exit 1 on any disagreement without a declared approximation.
    ///
    /// Rows are compared as multisets by column name. Values are normalised per the rule's
    /// output column types: datetimes to ISO 8601 UTC at microsecond precision (TIMESTAMP
    /// engines keep microseconds), booleans from 0/1, numbers by value (1 == 1.0), dynamic
    /// values as canonical JSON with JSON null equal to SQL NULL.
    Verify {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The data folder (one rule).
        #[arg(
            long,
            conflicts_with = "generate",
            required_unless_present = "generate"
        )]
        data: Option<PathBuf>,
        /// Synthesize each rule's tables instead of reading --data.
        #[arg(long)]
        generate: bool,
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// Comma-separated: duckdb,sqlite,postgres,spark (spark: a local Spark, see README).
        #[arg(long, default_value = "duckdb,sqlite,postgres")]
        engines: String,
        /// `now()` of the runs (default: the clock; with --generate: 2024-03-03T00:00:00Z,
        /// so results do not depend on the day).
        #[arg(long)]
        now: Option<String>,
        /// Seed of the synthesized tables (--generate).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Worker threads (--generate; default 2).
        #[arg(long, default_value_t = 2)]
        jobs: usize,
        /// Write a reproducer folder per disagreement here (--generate).
        #[arg(long)]
        repro: Option<PathBuf>,
        /// --generate output: a text summary, or JSON per rule with totals.
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
    },
    /// Synthesize fixture tables for a rule: rows that drive each of its tests both ways at
    /// the boundaries (a term present, absent, inside a longer word, in another case; a value
    /// at, just inside and just outside a bound; join keys on one side only, differing in case,
    /// repeated; empty and null values). Deterministic for a seed.
    Fixtures {
        rule: PathBuf,
        /// Folder to write `<Table>.jsonl` files into (default: fixtures/<rule>.generated
        /// next to the rule). Existing table files there are replaced.
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Parameter values (default: the same dummy values `detc report` uses).
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        #[arg(long)]
        now: Option<String>,
        /// Also write a tests file here, pointing at the tables and expecting the rule's
        /// current results, for review (refuses to overwrite an existing file).
        #[arg(long)]
        tests: Option<PathBuf>,
    },
    /// Print the rule's IR, its constructs, and how each target carries it: exact,
    /// approximated (how) or unsupported (why).
    Explain {
        rule: PathBuf,
        /// Only these targets (repeatable; default: all).
        #[arg(long = "target")]
        targets: Vec<String>,
    },
    /// Rewrite each rule's query in canonical layout: a statement per line, a line per `|`,
    /// single spaces. Only whitespace changes: lets, comments and literals stay as written
    /// (the result must lex to the same tokens, or the file is left alone).
    Fmt {
        paths: Vec<PathBuf>,
        /// Write nothing; print a unified diff per file that would change (exit 1 if any).
        #[arg(long)]
        check: bool,
    },
    /// Print the rule JSON Schema generated from the rule model.
    Schema,
    /// Explain a lint check: what it finds, why, and an example (no code: list them).
    Rule { code: Option<String> },
    /// How far every rule file gets through each stage and target, and what stops the rest.
    Report {
        paths: Vec<PathBuf>,
        #[arg(long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
        /// Worker threads (default: the available parallelism).
        #[arg(long)]
        jobs: Option<usize>,
        /// Also run each rule's SQL on these engines (comma-separated: duckdb, sqlite,
        /// postgres) on empty tables and on one synthetic row per table, and compare with the
        /// native run: stages `run:<engine>`.
        #[arg(long, default_value = "")]
        engines: String,
    },
}

impl Cmd {
    fn first_path(&self) -> Option<PathBuf> {
        let p = match self {
            Cmd::Lint { paths, .. } | Cmd::Test { paths } | Cmd::Build { paths, .. } => {
                paths.first()?
            }
            Cmd::Run { rules, .. } => rules.first()?,
            Cmd::Verify { paths, .. } => paths.first()?,
            Cmd::Explain { rule, .. } | Cmd::Fixtures { rule, .. } => rule,
            Cmd::Report { paths, .. } | Cmd::Fmt { paths, .. } => paths.first()?,
            Cmd::Schema | Cmd::Rule { .. } => return None,
        };
        Some(p.clone())
    }
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let mut catalog = Catalog::builtin();
    let mut sources = Sources::default();
    let mut lint_settings = detc::checks::settings::LintSettings::default();
    // detc.toml, found upward from the first path given (or the working folder), declares
    // custom tables, functions and watchlists.
    let start = cli.cmd.first_path().unwrap_or_else(|| PathBuf::from("."));
    match detc::config::find_and_load(&start) {
        Ok(Some((path, cfg))) => {
            sources.add(&path, &cfg.text);
            print_diags(&sources, &cfg.warnings, DiagFormat::Full);
            cfg.apply(&mut catalog);
            match detc::checks::settings::LintSettings::from_toml(&cfg.text, &path) {
                Ok(s) => lint_settings = s,
                Err(d) => {
                    print_diags(&sources, &[d], DiagFormat::Full);
                    return 2;
                }
            }
        }
        Ok(None) => {}
        Err(d) => {
            if let Some(f) = &d.file {
                if let Ok(text) = std::fs::read_to_string(f) {
                    sources.add(f, &text);
                }
            }
            print_diags(&sources, &[d], DiagFormat::Full);
            return 2;
        }
    }
    let r = match cli.cmd {
        Cmd::Lint {
            paths,
            output_format,
            exit_zero,
            deny_warnings,
            fix,
            base,
        } => lint(
            &paths,
            output_format,
            (exit_zero, deny_warnings, fix),
            base.as_deref(),
            &lint_settings,
            &catalog,
            &mut sources,
        ),
        Cmd::Run {
            rules,
            data,
            params,
            format,
            now,
        } => match rules.as_slice() {
            [rule] if !rule.is_dir() => {
                run(rule, &data, &params, format, now, &catalog, &mut sources)
            }
            _ => run_many(&rules, &data, &params, format, now, &catalog, &mut sources),
        },
        Cmd::Test { paths } => test(&paths, &catalog, &mut sources),
        Cmd::Build {
            paths,
            out,
            targets,
            params,
            check,
            strict,
        } => build(
            &paths,
            &out,
            &targets,
            &params,
            (check, strict),
            &catalog,
            &mut sources,
        ),
        Cmd::Verify {
            paths,
            data,
            generate,
            params,
            engines,
            now,
            seed,
            jobs,
            repro,
            format,
        } => match (data, generate) {
            (Some(data), false) if paths.len() == 1 => verify(
                &paths[0],
                &data,
                &params,
                &engines,
                now,
                &catalog,
                &mut sources,
            ),
            (Some(_), _) => {
                eprintln!("detc verify: --data takes one rule");
                Ok(2)
            }
            (None, _) => verify_generate(
                &paths,
                &engines,
                now,
                seed,
                jobs,
                repro,
                format == "json",
                &catalog,
            ),
        },
        Cmd::Fixtures {
            rule,
            out,
            seed,
            params,
            now,
            tests,
        } => fixtures(&rule, out, seed, &params, now, tests, &catalog),
        Cmd::Explain { rule, targets } => explain(&rule, &targets, &catalog, &mut sources),
        Cmd::Fmt { paths, check } => fmt(&paths, check),
        Cmd::Schema => {
            print!("{}", detc::rule::schema_json());
            Ok(0)
        }
        Cmd::Rule { code } => match code {
            None => {
                let mut all: Vec<_> = detc::checks::all_docs().collect();
                all.sort_by_key(|c| c.code);
                for c in all {
                    println!("{}  {}", c.code, c.summary);
                }
                Ok(0)
            }
            Some(code) => match detc::checks::doc(&code) {
                Some(c) => {
                    println!("{}: {}\n\n{}", c.code, c.summary, c.doc);
                    Ok(0)
                }
                None => {
                    eprintln!("detc rule: no check has code {code:?}; `detc rule` lists them");
                    Ok(2)
                }
            },
        },
        Cmd::Report {
            paths,
            format,
            jobs,
            engines,
        } => report(&paths, &format, jobs, &engines, &catalog),
    };
    match r {
        Ok(code) => code,
        Err(diags) => {
            print_diags(&sources, &diags, DiagFormat::Full);
            if diags
                .iter()
                .any(|d| d.code == codes::IO && d.file.is_none())
            {
                2
            } else {
                1
            }
        }
    }
}

type CmdResult = Result<i32, Vec<Diagnostic>>;

fn print_diags(sources: &Sources, diags: &[Diagnostic], f: DiagFormat) {
    let color = detc::diagnostics::render::stderr_color();
    let mut err = std::io::stderr().lock();
    for d in diags {
        let s = match f {
            DiagFormat::Concise => concise(sources, d),
            _ => detc::diagnostics::render::full_styled(sources, d, color),
        };
        let _ = writeln!(err, "{s}");
    }
}

/// Rule files under the given paths: YAML rules and .kql files, tests files excluded.
fn collect(paths: &[PathBuf]) -> Vec<PathBuf> {
    fn walk(p: &Path, out: &mut Vec<PathBuf>) {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            entries.sort();
            for e in entries {
                if e.is_dir() && e.file_name().is_some_and(|n| n == "fixtures") {
                    continue;
                }
                walk(&e, out);
            }
        } else {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let is_rule = (name.ends_with(".yaml") || name.ends_with(".yml"))
                && !name.ends_with(".tests.yaml");
            if is_rule || pipeline::is_kql(p) {
                out.push(p.to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_file() {
            out.push(p.clone());
        } else {
            walk(p, &mut out);
        }
    }
    out
}

fn load(path: &Path, sources: &mut Sources) -> Source {
    let s = pipeline::load(path);
    sources.add(&s.path, &s.text);
    s
}

fn parse_params(params: &[String]) -> Result<BTreeMap<String, String>, Vec<Diagnostic>> {
    params
        .iter()
        .map(|p| {
            detc::bind::parse_assignment(p).map_err(|m| vec![Diagnostic::error(codes::PARAM, m)])
        })
        .collect()
}

/// The text of `path` at git revision `rev`; `None` when the file does not exist there (a new
/// file). An error when git cannot resolve the repository or the revision.
fn git_show(rev: &str, path: &Path) -> Result<Option<String>, String> {
    let abs = std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let dir = abs.parent().unwrap_or(Path::new("."));
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .map_err(|e| format!("cannot run git: {e}"))
    };
    let top = git(&["rev-parse", "--show-toplevel"])?;
    if !top.status.success() {
        return Err(format!("{} is not in a git repository", path.display()));
    }
    let top = PathBuf::from(String::from_utf8_lossy(&top.stdout).trim());
    let commit = git(&[
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("{rev}^{{commit}}"),
    ])?;
    if !commit.status.success() {
        return Err(format!("unknown revision `{rev}`"));
    }
    let top = std::fs::canonicalize(&top).unwrap_or(top);
    let rel = abs.strip_prefix(&top).unwrap_or(&abs);
    let spec = format!("{rev}:{}", rel.to_string_lossy().replace('\\', "/"));
    let shown = git(&["show", &spec])?;
    Ok(shown
        .status
        .success()
        .then(|| String::from_utf8_lossy(&shown.stdout).into_owned()))
}

/// `build --check`: each generated file against the one in `out`, as unified diffs on stdout;
/// files that would be new, and generated-looking files in `out` that no rule produces, are
/// listed. 0 when nothing drifted, 1 otherwise. Nothing is written.
/// The file text with its query in canonical layout (unchanged text when it already is).
fn formatted(path: &Path, text: &str) -> Result<String, String> {
    if detc::pipeline::is_kql(path) {
        return detc::fmt::format_kql(text);
    }
    let loaded = detc::rule::load(path);
    let Some(q) = loaded.query else {
        return Ok(text.to_string());
    };
    if !q.map.is_exact() {
        return Err("the query's place in the YAML cannot be mapped exactly".into());
    }
    let body = q.text.trim_end();
    let lead = body.len() - body.trim_start().len();
    if body.trim().is_empty() {
        return Ok(text.to_string());
    }
    let new_query = detc::fmt::format_kql(body)?;
    if new_query.trim_end() == body.trim_start() {
        return Ok(text.to_string());
    }
    // Sentinel refuses a query over 10,000 characters (the rule schema's maxLength).
    const SENTINEL_QUERY_MAX: usize = 10_000;
    let (old_len, new_len) = (q.text.chars().count(), new_query.chars().count());
    if new_len > SENTINEL_QUERY_MAX && new_len > old_len {
        return Err(format!(
            "the formatted query would have {new_len} characters, over Sentinel's limit of {SENTINEL_QUERY_MAX}; left as it is"
        ));
    }
    let start = q.map.to_file(lead);
    let end = q.map.to_file(body.len() - 1);
    let out = detc::fmt::splice_block(text, start, end, &new_query)?;
    // The rewritten file must hold exactly the formatted query.
    let tmp = std::env::temp_dir().join(format!(
        "detc-fmt-{}-{}",
        std::process::id(),
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("rule.yaml")
    ));
    std::fs::write(&tmp, &out).map_err(|e| e.to_string())?;
    let again = detc::rule::load(&tmp);
    let _ = std::fs::remove_file(&tmp);
    match again.query {
        Some(q2) if q2.text.trim() == new_query.trim() => Ok(out),
        _ => Err("the rewritten YAML would not hold the formatted query; left as it is".into()),
    }
}

fn fmt(paths: &[PathBuf], check: bool) -> CmdResult {
    let (mut changed, mut failed) = (0, Vec::new());
    for p in collect(paths) {
        let text = match std::fs::read_to_string(&p) {
            Ok(t) => t,
            Err(e) => {
                failed
                    .push(Diagnostic::error(codes::IO, format!("cannot read: {e}")).with_file(&p));
                continue;
            }
        };
        let new = match formatted(&p, &text) {
            Ok(n) => n,
            Err(why) => {
                failed.push(Diagnostic::error(codes::FMT, why).with_file(&p));
                continue;
            }
        };
        if new == text {
            continue;
        }
        changed += 1;
        let name = p.display().to_string();
        if check {
            print!(
                "{}",
                similar::TextDiff::from_lines(&text, &new)
                    .unified_diff()
                    .header(&name, &format!("{name} (formatted)"))
            );
        } else if let Err(e) = write_atomic(&p, &new) {
            failed.push(Diagnostic::error(codes::IO, format!("cannot write: {e}")).with_file(&p));
        }
    }
    if !failed.is_empty() {
        return Err(failed);
    }
    if check {
        eprintln!("{changed} file(s) would be reformatted");
        return Ok(i32::from(changed > 0));
    }
    eprintln!("{changed} file(s) reformatted");
    Ok(0)
}

fn drift(out: &Path, outputs: &[(PathBuf, String)]) -> i32 {
    let mut drifted = 0;
    for (path, text) in outputs {
        match std::fs::read_to_string(path) {
            Ok(old) if old == *text => {}
            Ok(old) => {
                drifted += 1;
                let name = path.display().to_string();
                print!(
                    "{}",
                    similar::TextDiff::from_lines(&old, text)
                        .unified_diff()
                        .header(&name, &format!("{name} (generated now)"))
                );
            }
            Err(_) => {
                drifted += 1;
                println!("new: {} (not in {})", path.display(), out.display());
            }
        }
    }
    let made: BTreeSet<&PathBuf> = outputs.iter().map(|(p, _)| p).collect();
    let mut stale: Vec<PathBuf> = std::fs::read_dir(out)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    stale.sort();
    for p in stale {
        let generated = std::fs::read_to_string(&p)
            .is_ok_and(|t| t.lines().take(10).any(|l| l.contains("Generated by detc")));
        if generated && !made.contains(&p) {
            drifted += 1;
            println!("stale: {} (no rule produces it)", p.display());
        }
    }
    if drifted == 0 {
        eprintln!("{} file(s) up to date in {}", outputs.len(), out.display());
        0
    } else {
        eprintln!(
            "{drifted} of {} file(s) differ from {}: run `detc build` without --check to update",
            outputs.len(),
            out.display()
        );
        1
    }
}

/// Applies every finding's fix, file by file (overlapping edits: the first wins), prints a
/// unified diff of each changed file to stdout, and returns the findings not fixed. Files are
/// replaced atomically (written beside, then renamed).
fn apply_fixes(diags: Vec<Diagnostic>) -> Result<Vec<Diagnostic>, Vec<Diagnostic>> {
    use std::collections::BTreeMap;
    let mut by_file: BTreeMap<PathBuf, Vec<(detc::diagnostics::Span, String)>> = BTreeMap::new();
    let mut rest = Vec::new();
    for d in diags {
        match (&d.fix, &d.file) {
            (Some(f), Some(file)) => {
                let edits = by_file.entry(file.clone()).or_default();
                let overlaps = f.edits.iter().any(|(s, _)| {
                    edits.iter().any(|(e, _)| {
                        s.start < e.end.max(e.start + 1) && e.start < s.end.max(s.start + 1)
                    })
                });
                if overlaps {
                    rest.push(d);
                } else {
                    edits.extend(f.edits.iter().cloned());
                }
            }
            _ => rest.push(d),
        }
    }
    for (file, mut edits) in by_file {
        let io = |e: std::io::Error| {
            vec![Diagnostic::error(codes::IO, format!("--fix: {e}")).with_file(&file)]
        };
        let before = std::fs::read_to_string(&file).map_err(io)?;
        let mut after = before.clone();
        edits.sort_by_key(|e| std::cmp::Reverse(e.0.start));
        for (span, text) in &edits {
            if span.end <= after.len()
                && after.is_char_boundary(span.start)
                && after.is_char_boundary(span.end)
            {
                after.replace_range(span.start..span.end, text);
            }
        }
        if after == before {
            continue;
        }
        let name = file.display().to_string();
        let diff = similar::TextDiff::from_lines(&before, &after)
            .unified_diff()
            .header(&name, &name)
            .to_string();
        print!("{diff}");
        let tmp = file.with_extension("detc-fix.tmp");
        std::fs::write(&tmp, &after).map_err(io)?;
        std::fs::rename(&tmp, &file).map_err(io)?;
    }
    Ok(rest)
}

/// Drops findings suppressed inline: a line holding `detc: ignore[CODE, ...]` (in a YAML `#`
/// or KQL `//` comment) silences those codes on its own line and the next; `detc: ignore`
/// without a list silences every code there.
fn suppress(sources: &Sources, diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    fn silences(line: &str, code: &str) -> bool {
        let Some(i) = line.find("detc: ignore") else {
            return false;
        };
        let rest = &line[i + "detc: ignore".len()..];
        match rest.strip_prefix('[') {
            Some(list) => list
                .split(']')
                .next()
                .unwrap_or("")
                .split(',')
                .any(|c| c.trim().eq_ignore_ascii_case(code)),
            None => !rest.starts_with('-'),
        }
    }
    diags
        .into_iter()
        .filter(|d| {
            let Some((_, Some((line, _)))) = sources.location(d) else {
                return true;
            };
            let here = sources.line_text(d.file.as_ref(), line);
            let above = if line > 1 {
                sources.line_text(d.file.as_ref(), line - 1)
            } else {
                None
            };
            ![here, above]
                .into_iter()
                .flatten()
                .any(|l| silences(l, d.code))
        })
        .collect()
}

fn lint(
    paths: &[PathBuf],
    f: DiagFormat,
    (exit_zero, deny_warnings, fix): (bool, bool, bool),
    base: Option<&str>,
    settings: &detc::checks::settings::LintSettings,
    catalog: &Catalog,
    sources: &mut Sources,
) -> CmdResult {
    let files = collect(paths);
    if files.is_empty() {
        eprintln!("detc lint: no rule files found");
        return Ok(2);
    }
    // Each file is linted on its own, spread over the available cores; results are merged
    // in file order, so the output does not depend on the scheduling.
    struct Linted {
        path: PathBuf,
        text: String,
        id: Option<String>,
        diags: Vec<Diagnostic>,
        base_error: Option<String>,
    }
    let lint_one = |p: &PathBuf| -> Linted {
        let src = pipeline::load(p);
        let mut diags = src.diagnostics.clone();
        let (plan, found) = pipeline::compile(
            &src,
            &Tables {
                catalog,
                present: None,
            },
        );
        diags.extend(found.into_iter().filter(|d| d.severity != Severity::Info));
        diags.extend(detc::checks::run(&src, plan.as_ref(), catalog));
        let mut base_error = None;
        if let (Some(rev), Some(rule)) = (base, &src.rule) {
            match git_show(rev, &src.path) {
                Ok(Some(old)) => diags.extend(
                    detc::checks::base::check(rule, &src.text, &old, rev)
                        .into_iter()
                        .map(|d| d.with_file(&src.path)),
                ),
                Ok(None) => {}
                Err(m) => base_error = Some(m),
            }
        }
        Linted {
            id: src.rule.as_ref().and_then(|r| r.id.clone()),
            path: src.path,
            text: src.text,
            diags,
            base_error,
        }
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len())
        .max(1);
    let chunk = files.len().div_ceil(workers);
    let linted: Vec<Linted> = std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                // A deep stack, as `report`'s workers: lowering recurses with the query.
                std::thread::Builder::new()
                    .stack_size(256 << 20)
                    .spawn_scoped(scope, move || part.iter().map(lint_one).collect::<Vec<_>>())
                    .expect("spawn a lint worker")
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a lint worker panicked"))
            .collect()
    });
    let mut all = Vec::new();
    let mut ids = Vec::new();
    for l in linted {
        if let Some(m) = l.base_error {
            eprintln!("detc lint --base: {m}");
            return Ok(2);
        }
        sources.add(&l.path, &l.text);
        all.extend(l.diags);
        if let Some(id) = l.id {
            ids.push(detc::checks::unique_ids::RuleId {
                path: l.path,
                id,
                text: l.text,
            });
        }
    }
    all.extend(detc::checks::unique_ids::check(&ids));
    let mut all = settings.apply(suppress(sources, all));
    if fix {
        all = apply_fixes(all)?;
    }
    use detc::diagnostics::formats;
    let describe = |c: &str| {
        detc::checks::doc(c)
            .map(|k| k.summary)
            .unwrap_or_else(|| codes::describe(c))
            .to_string()
    };
    let machine = match f {
        DiagFormat::Full | DiagFormat::Concise => None,
        DiagFormat::Json => Some(formats::json(sources, &all)),
        DiagFormat::Sarif => Some(formats::sarif(sources, &all, &describe)),
        DiagFormat::Github => Some(formats::github(sources, &all)),
        DiagFormat::Junit => Some(formats::junit(sources, &all, &files)),
    };
    match machine {
        Some(text) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
        }
        None => print_diags(sources, &all, f),
    }
    let errors = all.iter().filter(|d| d.is_error()).count();
    let warnings = all.len() - errors;
    eprintln!(
        "{} file(s) checked: {} error(s), {} warning(s)",
        files.len(),
        errors,
        warnings
    );
    let failed = errors > 0 || (deny_warnings && warnings > 0);
    Ok(if failed && !exit_zero { 1 } else { 0 })
}

/// Loads a rule, lowers it against the tables `present` and binds its parameters. Declared
/// approximations (DR101) change what a run means: they are printed on stderr.
fn bound_plan(
    rule: &Path,
    present: &BTreeSet<String>,
    params: &BTreeMap<String, String>,
    catalog: &Catalog,
    sources: &mut Sources,
) -> Result<(Source, detc::ir::Node), Vec<Diagnostic>> {
    let src = load(rule, sources);
    if src.diagnostics.iter().any(|d| d.is_error()) && src.query.is_none() {
        return Err(src.diagnostics);
    }
    let (plan, diags) = pipeline::compile(
        &src,
        &Tables {
            catalog,
            present: Some(present),
        },
    );
    let Some(plan) = plan else {
        return Err(diags.into_iter().filter(|d| d.is_error()).collect());
    };
    let approximated: Vec<Diagnostic> = diags
        .into_iter()
        .filter(|d| d.code == codes::APPROXIMATED)
        .collect();
    print_diags(sources, &approximated, DiagFormat::Full);
    let plan = detc::bind::bind(&plan, params).map_err(|d| vec![d.with_file(rule)])?;
    Ok((src, plan))
}

/// Loads a data folder and lowers the rule against the tables present in it.
fn prepare(
    rule: &Path,
    dir: &Path,
    params: &[String],
    ctx: &Ctx,
    catalog: &Catalog,
    sources: &mut Sources,
) -> Result<(Source, detc::ir::Node, Data), Vec<Diagnostic>> {
    let files = data::list_dir(dir).map_err(|d| vec![d])?;
    let present: BTreeSet<String> = files.keys().cloned().collect();
    let params = parse_params(params)?;
    let (src, plan) = bound_plan(rule, &present, &params, catalog, sources)?;
    // NDJSON tables are read with the `where` above their scans applied while reading; a
    // table that is one side of a join is read after the other side, keeping only rows whose
    // key the other side has.
    let pushed = eval::scan::pushed_predicates(&plan);
    let probes = eval::scan::probes(&plan);
    let needed = eval::scan::needed_columns(&plan);
    let data = load_tables(
        rule,
        &files,
        dir,
        plan.sources(),
        pushed,
        &needed,
        &probes,
        ctx,
        sources,
    )?;
    Ok((src, plan, data))
}

/// Reads the tables a run needs, each once: `pushed` predicates applied while reading, and
/// each probe's table read after its other side, cut to that side's keys.
#[allow(clippy::too_many_arguments)]
fn load_tables(
    rule: &Path,
    files: &BTreeMap<String, PathBuf>,
    dir: &Path,
    tables: Vec<(String, Vec<detc::ir::Column>)>,
    mut pushed: BTreeMap<String, detc::ir::Expr>,
    needed: &BTreeMap<String, Option<Vec<bool>>>,
    probes: &[eval::scan::Probe],
    ctx: &Ctx,
    sources: &mut Sources,
) -> Result<Data, Vec<Diagnostic>> {
    let mut sources_in_order = tables;
    sources_in_order.sort_by_key(|(t, _)| probes.iter().any(|p| p.table == *t));
    let mut data = Data::default();
    for (t, columns) in sources_in_order {
        if let Some(p) = probes.iter().find(|p| p.table == t) {
            if let Ok(rows) = eval::run(&p.other, &data, ctx) {
                let keys: Vec<Value> = rows
                    .into_iter()
                    .map(|mut r| r.swap_remove(p.other_column))
                    .collect();
                // Text keys are hashed per row; a long list of other keys would cost more
                // than it saves.
                let text = matches!(
                    columns[p.column].ty,
                    detc::types::Type::String | detc::types::Type::Guid
                );
                if text || keys.len() <= 64 {
                    let predicate = pushed.remove(&t);
                    let key = eval::scan::with_keys(predicate, &columns[p.column], p.column, keys);
                    pushed.insert(t.clone(), key);
                }
            }
        }
        let Some(path) = files.get(&t) else {
            return Err(vec![Diagnostic::error(
                codes::MISSING_TABLE,
                format!(
                    "`{t}` has no data file ({t}.jsonl, .json or .csv) in {}",
                    dir.display()
                ),
            )
            .with_file(rule)]);
        };
        let schema = detc::catalog::TableSchema {
            name: t.clone(),
            columns: columns.into_iter().map(|c| (c.name, c.ty)).collect(),
        };
        let rows = match path.extension().and_then(|e| e.to_str()) {
            Some("jsonl") => {
                let decode = needed.get(&t).cloned().flatten();
                eval::scan::read_jsonl(path, &schema, pushed.get(&t), decode.as_deref(), ctx)
            }
            _ => data::read_file(path, &schema),
        };
        let rows = rows.map_err(|d| {
            // The file's text, for showing the bad line.
            let text = std::fs::read_to_string(path).unwrap_or_default();
            sources.add(path, &text);
            vec![d]
        })?;
        data.tables.insert(t.clone(), Arc::new(rows));
    }
    Ok(data)
}

/// Several rules over one data folder: each table is read once, with the or of the rules'
/// pushed predicates (none when a rule reads the table without one); no join-key cuts.
fn run_many(
    paths: &[PathBuf],
    dir: &Path,
    params: &[String],
    format: Format,
    now: Option<String>,
    catalog: &Catalog,
    sources: &mut Sources,
) -> CmdResult {
    let ctx = Ctx {
        now: now_ticks(&now)?,
    };
    let files = data::list_dir(dir).map_err(|d| vec![d])?;
    let present: BTreeSet<String> = files.keys().cloned().collect();
    let bound = parse_params(params)?;
    let mut plans = Vec::new();
    for rule in collect(paths) {
        let (_, plan) = bound_plan(&rule, &present, &bound, catalog, sources)?;
        plans.push((rule, plan));
    }
    // Per table: every rule's pushed predicate, or none if one rule has none.
    let mut merged: BTreeMap<String, Option<detc::ir::Expr>> = BTreeMap::new();
    let mut tables: BTreeMap<String, Vec<detc::ir::Column>> = BTreeMap::new();
    for (rule, plan) in &plans {
        let pushed = eval::scan::pushed_predicates(plan);
        for (t, columns) in plan.sources() {
            // One read serves every rule only if they index the table's columns alike (open
            // schemas, such as AzureDiagnostics fields, differ per rule).
            if tables.get(&t).is_some_and(|c| *c != columns) {
                return Err(vec![Diagnostic::error(
                    codes::DATA,
                    format!("`{t}` is read with other columns than by the rules before this one: run it on its own"),
                )
                .with_file(rule)]);
            }
            tables.entry(t.clone()).or_insert(columns);
            let p = pushed.get(&t).cloned();
            let entry = merged.entry(t).or_insert_with(|| p.clone());
            *entry = match (entry.take(), p) {
                (Some(a), Some(b)) if a != b => {
                    Some(detc::ir::Expr::logic(detc::ir::BinOp::Or, a, b))
                }
                (Some(a), Some(_)) => Some(a),
                _ => None,
            };
        }
    }
    let pushed = merged
        .into_iter()
        .filter_map(|(t, p)| p.map(|p| (t, p)))
        .collect();
    // Columns: those any rule reads.
    let mut needed: BTreeMap<String, Option<Vec<bool>>> = BTreeMap::new();
    for (_, plan) in &plans {
        for (t, flags) in eval::scan::needed_columns(plan) {
            let entry = needed.entry(t).or_insert_with(|| flags.clone());
            *entry = match (entry.take(), flags) {
                (Some(a), Some(b)) if a.len() == b.len() => {
                    Some(a.iter().zip(&b).map(|(x, y)| *x || *y).collect())
                }
                _ => None,
            };
        }
    }
    let first = plans.first().map(|(r, _)| r.clone()).unwrap_or_default();
    let data = load_tables(
        &first,
        &files,
        dir,
        tables.into_iter().collect(),
        pushed,
        &needed,
        &[],
        &ctx,
        sources,
    )?;
    let mut stdout = std::io::stdout().lock();
    let mut total = 0;
    for (rule, plan) in &plans {
        let rows = eval::run(plan, &data, &ctx).map_err(|d| vec![d.with_file(rule)])?;
        total += rows.len();
        let cols: Vec<&str> = plan.schema.iter().map(|c| c.name.as_str()).collect();
        let name = rule.display().to_string();
        let text = rows_text(&cols, &rows, format, Some(&name));
        let _ = stdout.write_all(text.as_bytes());
    }
    eprintln!("{} rule(s), {total} row(s)", plans.len());
    Ok(0)
}

/// Lowers the rule against the data folder's tables, binds parameters and runs it natively.
fn run_native(
    rule: &Path,
    dir: &Path,
    params: &[String],
    now: &Option<String>,
    catalog: &Catalog,
    sources: &mut Sources,
) -> Result<(detc::ir::Node, Data, Vec<eval::Row>), Vec<Diagnostic>> {
    let ctx = Ctx {
        now: now_ticks(now)?,
    };
    let (_, plan, data) = prepare(rule, dir, params, &ctx, catalog, sources)?;
    let rows = eval::run(&plan, &data, &ctx).map_err(|d| vec![d.with_file(rule)])?;
    Ok((plan, data, rows))
}

fn now_ticks(now: &Option<String>) -> Result<i64, Vec<Diagnostic>> {
    match now {
        Some(s) => detc::value::parse_datetime(s).ok_or_else(|| {
            vec![Diagnostic::error(
                codes::PARAM,
                format!("--now: {s:?} is not a datetime"),
            )]
        }),
        None => Ok(detc::testing::current_ticks()),
    }
}

fn run(
    rule: &Path,
    dir: &Path,
    params: &[String],
    format: Format,
    now: Option<String>,
    catalog: &Catalog,
    sources: &mut Sources,
) -> CmdResult {
    let (plan, _, rows) = run_native(rule, dir, params, &now, catalog, sources)?;
    let cols: Vec<&str> = plan.schema.iter().map(|c| c.name.as_str()).collect();
    let out = rows_text(&cols, &rows, format, None);
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    eprintln!("{} row(s)", rows.len());
    Ok(0)
}

/// Rows in an output format. With `rule` (a run of several rules), each JSON line and CSV row
/// starts with `_rule` and a table gets a heading.
fn rows_text(cols: &[&str], rows: &[eval::Row], format: Format, rule: Option<&str>) -> String {
    let mut out = String::new();
    match format {
        Format::Jsonl => {
            for r in rows {
                let mut fields: Vec<String> = rule
                    .map(|n| format!("\"_rule\":{}", serde_json::to_string(n).unwrap()))
                    .into_iter()
                    .collect();
                fields.extend(cols.iter().zip(r).map(|(c, v)| {
                    format!(
                        "{}:{}",
                        serde_json::to_string(c).unwrap(),
                        serde_json::to_string(&v.to_json()).unwrap()
                    )
                }));
                out.push_str(&format!("{{{}}}\n", fields.join(",")));
            }
        }
        Format::Csv => {
            let lead = |cells: Vec<String>, first: &str| -> String {
                let mut all: Vec<String> = rule.map(|_| csv_cell(first)).into_iter().collect();
                all.extend(cells);
                all.join(",") + "\n"
            };
            out.push_str(&lead(cols.iter().map(|c| csv_cell(c)).collect(), "_rule"));
            for r in rows {
                let cells = r.iter().map(|v| csv_cell(&cell_text(v))).collect();
                out.push_str(&lead(cells, rule.unwrap_or_default()));
            }
        }
        Format::Table => match rule {
            None => out = table(cols, rows),
            Some(n) => out = format!("== {n} ({} row(s))\n{}\n", rows.len(), table(cols, rows)),
        },
    }
    out
}

fn cell_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Dynamic(d) => d.to_string(),
        other => other.to_kql_string(),
    }
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A text table of the columns that have at least one non-empty value.
fn table(cols: &[&str], rows: &[Vec<Value>]) -> String {
    let keep: Vec<usize> = (0..cols.len())
        .filter(|&i| rows.iter().any(|r| !cell_text(&r[i]).is_empty()))
        .collect();
    let keep = if keep.is_empty() {
        (0..cols.len().min(8)).collect()
    } else {
        keep
    };
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            keep.iter()
                .map(|&i| cell_text(&r[i]).replace('\n', " "))
                .collect()
        })
        .collect();
    let widths: Vec<usize> = keep
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            cells
                .iter()
                .map(|r| r[k].chars().count())
                .chain([cols[i].chars().count()])
                .max()
                .unwrap_or(0)
                .min(60)
        })
        .collect();
    let fmt_row = |vals: Vec<String>| {
        vals.iter()
            .zip(&widths)
            .map(|(v, w)| {
                let v: String = v.chars().take(*w).collect();
                format!("{v:<w$}", w = *w)
            })
            .collect::<Vec<_>>()
            .join(" | ")
            .trim_end()
            .to_string()
    };
    let mut out = fmt_row(keep.iter().map(|&i| cols[i].to_string()).collect()) + "\n";
    out.push_str(
        &widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-"),
    );
    out.push('\n');
    for r in cells {
        out.push_str(&fmt_row(r));
        out.push('\n');
    }
    let hidden = cols.len() - keep.len();
    if hidden > 0 {
        out.push_str(&format!(
            "({hidden} column(s) empty in every row are not shown; --format jsonl shows all)\n"
        ));
    }
    out
}

fn test(paths: &[PathBuf], catalog: &Catalog, sources: &mut Sources) -> CmdResult {
    let files = collect(paths);
    let (mut passed, mut failed, mut errors) = (0, 0, 0);
    for p in &files {
        if !detc::testing::tests_path(p).exists() {
            continue;
        }
        let src = load(p, sources);
        match detc::testing::run_tests(p, &src, catalog) {
            Ok(outcomes) => {
                for o in outcomes {
                    match o.failure {
                        None => {
                            passed += 1;
                            println!("PASS {} :: {}", p.display(), o.name);
                        }
                        Some(msg) => {
                            failed += 1;
                            println!("FAIL {} :: {}\n{msg}", p.display(), o.name);
                        }
                    }
                }
            }
            Err(diags) => {
                errors += 1;
                print_diags(sources, &diags, DiagFormat::Full);
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed > 0 || errors > 0 { 1 } else { 0 })
}

/// Writes a file atomically: a temporary file in the same folder, then a rename.
fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension(format!(
        "{}.detc-tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// The targets named on the command line (all when none); `None` after printing the usage
/// error for an unknown name.
fn parse_targets(names: &[String], cmd: &str) -> Option<Vec<Target>> {
    if names.is_empty() {
        return Some(Target::all());
    }
    let mut v = Vec::new();
    for t in names {
        match Target::parse(t) {
            Some(t) => v.push(t),
            None => {
                let known: Vec<String> = Target::all().iter().map(|t| t.name()).collect();
                eprintln!("detc {cmd}: unknown target `{t}` ({})", known.join(", "));
                return None;
            }
        }
    }
    Some(v)
}

fn build(
    paths: &[PathBuf],
    out: &Path,
    targets: &[String],
    params: &[String],
    (check, strict): (bool, bool),
    catalog: &Catalog,
    sources: &mut Sources,
) -> CmdResult {
    let Some(targets) = parse_targets(targets, "build") else {
        return Ok(2);
    };
    let params = parse_params(params)?;
    if !check {
        std::fs::create_dir_all(out).map_err(|e| {
            vec![Diagnostic::error(
                codes::IO,
                format!("cannot create {}: {e}", out.display()),
            )]
        })?;
    }
    let mut diags = Vec::new();
    let mut outputs: Vec<(PathBuf, String)> = Vec::new();
    for p in collect(paths) {
        let src = load(&p, sources);
        let (plan, d) = pipeline::compile(
            &src,
            &Tables {
                catalog,
                present: None,
            },
        );
        diags.extend(d.into_iter().filter(|d| d.is_error()));
        let Some(mut plan) = plan else { continue };
        if !params.is_empty() {
            match detc::bind::bind(&plan, &params) {
                Ok(b) => plan = b,
                Err(d) => {
                    diags.push(d.with_file(&p));
                    continue;
                }
            }
        }
        let stem = p
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("rule")
            .to_string();
        for t in &targets {
            if strict {
                match detc::targets::approximations(*t, &plan) {
                    Ok(a) if !a.is_empty() => {
                        let list: Vec<String> = a
                            .iter()
                            .map(|a| format!("{}: {}", a.construct, a.how))
                            .collect();
                        diags.push(
                            Diagnostic::error(
                                codes::TARGET_APPROXIMATED,
                                format!(
                                    "{} (--strict): approximated: {}",
                                    t.name(),
                                    list.join("; ")
                                ),
                            )
                            .with_file(&p),
                        );
                        continue;
                    }
                    _ => {}
                }
            }
            match render_files(*t, &plan, src.rule.as_ref(), &p.display().to_string()) {
                Ok(files) => outputs.extend(
                    files
                        .into_iter()
                        .map(|(ext, text)| (out.join(format!("{stem}.{ext}")), text)),
                ),
                Err(u) => diags.push(
                    Diagnostic::error(codes::TARGET_UNSUPPORTED, format!("{}: {u}", t.name()))
                        .with_file(&p),
                ),
            }
        }
    }
    // Nothing is written when any rule fails: no half-built output folder.
    if diags.iter().any(|d| d.is_error()) {
        return Err(diags);
    }
    if check {
        return Ok(drift(out, &outputs));
    }
    for (path, text) in &outputs {
        write_atomic(path, text).map_err(|e| {
            vec![Diagnostic::error(
                codes::IO,
                format!("cannot write {}: {e}", path.display()),
            )]
        })?;
    }
    eprintln!("{} file(s) written to {}", outputs.len(), out.display());
    Ok(0)
}

fn explain(rule: &Path, targets: &[String], catalog: &Catalog, sources: &mut Sources) -> CmdResult {
    let Some(targets) = parse_targets(targets, "explain") else {
        return Ok(2);
    };
    let src = load(rule, sources);
    let (plan, diags) = pipeline::compile_all_tables(&src, catalog);
    let Some(plan) = plan else {
        return Err(diags.into_iter().filter(|d| d.is_error()).collect());
    };
    let targets = if targets.len() == Target::all().len() {
        Vec::new()
    } else {
        targets
    };
    println!("{}", detc::explain::explain(&plan, &targets));
    Ok(0)
}

fn report(
    paths: &[PathBuf],
    format: &str,
    jobs: Option<usize>,
    engine_names: &str,
    catalog: &Catalog,
) -> CmdResult {
    use std::io::IsTerminal;
    if jobs == Some(0) {
        eprintln!("detc report: --jobs must be at least 1");
        return Ok(2);
    }
    let mut engines = Vec::new();
    for name in engine_names
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let Some(e) = detc::engines::Engine::parse(name) else {
            eprintln!("detc report: unknown engine `{name}` (duckdb, sqlite, postgres)");
            return Ok(2);
        };
        if let Err(why) = detc::engines::available(e) {
            eprintln!("detc report: engine `{name}` is not available: {why}");
            return Ok(2);
        }
        engines.push(e);
    }
    let files = collect(paths);
    if files.is_empty() {
        eprintln!("detc report: no rule files found");
        return Ok(2);
    }
    let opts = detc::report::Options {
        jobs: jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        progress: std::io::stderr().is_terminal(),
        now: detc::testing::current_ticks(),
        engines,
    };
    let r = detc::report::run(&files, catalog, &opts);
    let text = if format == "json" {
        r.to_json()
    } else {
        r.to_table()
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(0)
}

fn verify(
    rule: &Path,
    dir: &Path,
    params: &[String],
    engines: &str,
    now: Option<String>,
    catalog: &Catalog,
    sources: &mut Sources,
) -> CmdResult {
    // One clock for the native run and the SQL.
    let now = now_ticks(&now)?;
    let pinned = Some(detc::value::format_datetime(now));
    let (plan, data, rows) = run_native(rule, dir, params, &pinned, catalog, sources)?;
    let mut failures = 0;
    for name in engines.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let Some(engine) = detc::engines::Engine::parse(name) else {
            eprintln!("detc verify: unknown engine `{name}` (duckdb, sqlite, postgres)");
            return Ok(2);
        };
        match detc::verify::check(&plan, &data, &rows, engine, now) {
            Ok(n) => println!("{name}: agree ({n} row(s))"),
            Err(msg) => {
                failures += 1;
                println!("{name}: DISAGREE\n{msg}");
            }
        }
    }
    Ok(if failures > 0 { 1 } else { 0 })
}

/// The `now()` of generated runs: fixed, so results do not depend on the day.
const GENERATE_NOW: &str = "2024-03-03T00:00:00Z";

#[allow(clippy::too_many_arguments)]
fn verify_generate(
    paths: &[PathBuf],
    engines: &str,
    now: Option<String>,
    seed: u64,
    jobs: usize,
    repro: Option<PathBuf>,
    json: bool,
    catalog: &Catalog,
) -> CmdResult {
    use detc::verify::generate::{self, Verdict};
    let now = now_ticks(&Some(now.unwrap_or_else(|| GENERATE_NOW.into())))?;
    let mut list = Vec::new();
    for name in engines.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match detc::engines::Engine::parse(name) {
            Some(e) => list.push(e),
            None => {
                eprintln!("detc verify: unknown engine `{name}` (duckdb, sqlite, postgres, spark)");
                return Ok(2);
            }
        }
    }
    for e in &list {
        if let Err(why) = detc::engines::available(*e) {
            eprintln!("detc verify: {} is not available: {why}", e.name());
            return Ok(2);
        }
    }
    let files = collect(paths);
    let opts = generate::Options {
        engines: list.clone(),
        now,
        seed,
        jobs,
        repro,
        progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    let results = generate::run(&files, catalog, &opts);
    let compared = results.iter().filter(|r| r.skipped.is_none()).count();
    let mut disagreed = 0;
    if json {
        let rules: Vec<serde_json::Value> = results
            .iter()
            .map(|r| {
                let engines: serde_json::Map<String, serde_json::Value> = r
                    .engines
                    .iter()
                    .map(|(e, v)| {
                        let j = match v {
                            Verdict::Agreed(n) => serde_json::json!({"verdict": "agreed", "rows": n}),
                            Verdict::Approximated { how, diff } => serde_json::json!({"verdict": "approximated", "how": how, "diff": diff}),
                            Verdict::Disagreed { diff, repro } => serde_json::json!({"verdict": "disagreed", "diff": diff, "repro": repro}),
                            Verdict::Skipped(why) => serde_json::json!({"verdict": "skipped", "why": why}),
                        };
                        (e.name().to_string(), j)
                    })
                    .collect();
                serde_json::json!({
                    "path": r.path,
                    "skipped": r.skipped,
                    "fixture_rows": r.fixture_rows,
                    "native_rows": r.native_rows,
                    "engines": engines,
                })
            })
            .collect();
        let totals: serde_json::Map<String, serde_json::Value> = list
            .iter()
            .map(|e| {
                let [a, p, d, s] = generate::totals(&results, *e);
                (
                    e.name().to_string(),
                    serde_json::json!({"agreed": a, "approximated": p, "disagreed": d, "skipped": s}),
                )
            })
            .collect();
        disagreed = list.iter().map(|e| generate::totals(&results, *e)[2]).sum();
        let doc = serde_json::json!({
            "rules": rules,
            "files": results.len(),
            "compared": compared,
            "totals": totals,
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        for r in &results {
            for (e, v) in &r.engines {
                match v {
                    Verdict::Disagreed { diff, repro } => {
                        disagreed += 1;
                        println!("{}: {}: DISAGREE", r.path, e.name());
                        for l in diff.lines().take(12) {
                            println!("    {l}");
                        }
                        if let Some(dir) = repro {
                            println!("    reproducer: {dir}");
                        }
                    }
                    Verdict::Approximated { how, .. } => {
                        println!("{}: {}: differs as declared ({how})", r.path, e.name());
                    }
                    _ => {}
                }
            }
        }
        let skipped = results.len() - compared;
        println!(
            "{} file(s): {compared} compared on synthesized tables, {skipped} skipped (no query or not compiled)",
            results.len()
        );
        for e in &list {
            let [a, p, d, s] = generate::totals(&results, *e);
            println!(
                "{}: {a} agreed, {p} differ as declared, {d} disagreed, {s} unsupported",
                e.name()
            );
        }
    }
    Ok(if disagreed > 0 { 1 } else { 0 })
}

#[allow(clippy::too_many_arguments)]
fn fixtures(
    rule: &Path,
    out: Option<PathBuf>,
    seed: u64,
    params: &[String],
    now: Option<String>,
    tests: Option<PathBuf>,
    catalog: &Catalog,
) -> CmdResult {
    let now = now_ticks(&Some(now.unwrap_or_else(|| GENERATE_NOW.into())))?;
    let given = parse_params(params)?;
    let (plan, values) = detc::verify::generate::compile_rule(rule, catalog, now, &given)
        .map_err(|why| vec![Diagnostic::error(codes::IO, why).with_file(rule)])?;
    let data = detc::synth::synthesize(&plan, now, seed);
    let stem = rule
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("rule")
        .to_string();
    let dir = out.unwrap_or_else(|| {
        rule.parent()
            .unwrap_or(Path::new("."))
            .join("fixtures")
            .join(format!("{stem}.generated"))
    });
    let io = |e: std::io::Error, p: &Path| {
        vec![Diagnostic::error(codes::IO, format!("cannot write: {e}")).with_file(p)]
    };
    std::fs::create_dir_all(&dir).map_err(|e| io(e, &dir))?;
    let mut total = 0;
    for (t, columns) in plan.sources() {
        let rows = data
            .tables
            .get(&t)
            .map(|r| r.as_ref().clone())
            .unwrap_or_default();
        total += rows.len();
        let path = dir.join(format!("{t}.jsonl"));
        write_atomic(&path, &detc::synth::jsonl(&rows, &columns)).map_err(|e| io(e, &path))?;
    }
    eprintln!(
        "{total} row(s) in {} table(s) written to {}",
        plan.sources().len(),
        dir.display()
    );
    if let Some(tests) = tests {
        if tests.exists() {
            return Err(vec![Diagnostic::error(
                codes::IO,
                "the tests file exists; refusing to overwrite it",
            )
            .with_file(&tests)]);
        }
        let rows = eval::run(&plan, &data, &Ctx { now }).map_err(|d| vec![d.with_file(rule)])?;
        let text = tests_file(rule, &plan, &tests, &dir, &values, now, &rows);
        write_atomic(&tests, &text).map_err(|e| io(e, &tests))?;
        eprintln!(
            "tests file with {} expected row(s) written to {}",
            rows.len(),
            tests.display()
        );
    }
    Ok(0)
}

/// A tests file for review: the synthesized tables by path and the current results.
fn tests_file(
    rule: &Path,
    plan: &detc::ir::Node,
    tests: &Path,
    dir: &Path,
    params: &BTreeMap<String, String>,
    now: i64,
    rows: &[eval::Row],
) -> String {
    let base = tests.parent().unwrap_or(Path::new("."));
    let rel = |p: &Path| {
        p.strip_prefix(base)
            .map(|r| r.to_path_buf())
            .unwrap_or_else(|_| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()))
            .display()
            .to_string()
    };
    let mut tables = serde_json::Map::new();
    for (t, _) in plan.sources() {
        tables.insert(t.clone(), rel(&dir.join(format!("{t}.jsonl"))).into());
    }
    let expect: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let m: serde_json::Map<String, serde_json::Value> = plan
                .schema
                .iter()
                .zip(r)
                .map(|(c, v)| (c.name.clone(), v.to_json()))
                .collect();
            serde_json::Value::Object(m)
        })
        .collect();
    let doc = serde_json::json!({
        "tests": [{
            "name": "synthesized fixtures (detc fixtures): review the expected rows",
            "params": params,
            "now": detc::value::format_datetime(now),
            "tables": tables,
            "expect": {"rows": expect},
        }]
    });
    let body = yaml_serde::to_string(&doc).unwrap_or_default();
    format!(
        "# Generated by `detc fixtures {}`: the rule's results on synthesized tables, as
# they are now. Review them before relying on this test.
{body}",
        rule.display()
    )
}
