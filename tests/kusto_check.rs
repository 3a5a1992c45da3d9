//! detc's KQL target, checked by Microsoft's Kusto.Language (npm
//! `@kusto/language-service-next`, driven from Node by scripts/kusto-check.js): for every rule
//! in rules/ and every rule of ../shared/corpus/sentinel (when present) that reaches the IR,
//! the rendered KQL document must parse and bind with zero errors against detc's schemas, the
//! KQL must lower to the same plan again (the round trip), and the result columns
//! Kusto.Language infers must equal the IR's output schema (names in order;
//! types equal, `int` and `long` apart, see scripts/kusto-check.js). The IR's
//! `bag_unpack(` column stands for the columns `evaluate bag_unpack`/`pivot` make at run time;
//! neither detc nor Kusto.Language knows them and Kusto.Language infers none there, so it is
//! left out of the expected columns. Rules listed in
//! tests/kusto-check.known are expected to fail, each for its stated reason; a listed rule that
//! passes fails the test, so the list cannot rot.
//!
//! The package comes from scripts/kusto-ls.sh (env DETC_KUSTO_LS, else target/kusto-ls/package).
//! Without it or without `node` the test is skipped with a message, unless
//! DETC_REQUIRE_ENGINES=1, where it fails. DETC_KUSTO_CHECK_KEEP=FILE keeps the batch the
//! checker read (every rule's KQL and expected columns), to rerun
//! `node scripts/kusto-check.js PACKAGE schemas FILE` by hand.

use detc::catalog::Catalog;
use detc::ir::Node;
use detc::lower::Tables;
use detc::pipeline;
use detc::targets::{render, Target};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "common/rule_files.rs"]
mod common;
use common::rule_files;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn required() -> bool {
    std::env::var("DETC_REQUIRE_ENGINES").is_ok_and(|v| v == "1")
}

/// The package directory and a working `node`, or why not.
fn provisioned() -> Result<PathBuf, String> {
    let dir = match std::env::var_os("DETC_KUSTO_LS") {
        Some(d) => PathBuf::from(d),
        None => root().join("target/kusto-ls/package"),
    };
    if !dir.join("Kusto.Language.Bridge.min.js").is_file() {
        return Err(format!(
            "{} has no Kusto.Language.Bridge.min.js (run `source scripts/kusto-ls.sh`)",
            dir.display()
        ));
    }
    match Command::new("node").arg("--version").output() {
        Ok(o) if o.status.success() => Ok(dir),
        Ok(o) => Err(format!("`node --version` failed: {}", o.status)),
        Err(e) => Err(format!("cannot run node: {e}")),
    }
}

/// What became of one rule file before the checker.
enum Compiled {
    /// It does not reach the IR (YAML, parse, resolve or lowering error, or no query).
    NoIr,
    /// The KQL target reports it unsupported, with this reason.
    Unsupported(String),
    /// The KQL document, the IR's output columns, the tables it reads with other columns
    /// than their declared schema (open tables' fields, see `open_tables`), and why the KQL
    /// does not lower to the same plan again (None when it does).
    Kql(String, Vec<(String, String)>, Value, Option<String>),
}

/// Loads, parses and lowers one file as `detc report` does (a plan and no error at all), then
/// renders the KQL target.
fn compile(path: &Path, name: &str, catalog: &Catalog) -> Compiled {
    let src = pipeline::load(path);
    if src
        .diagnostics
        .iter()
        .any(|d| d.is_error() && !d.code.starts_with("DS"))
    {
        return Compiled::NoIr;
    }
    let tables = Tables {
        catalog,
        present: None,
    };
    let (plan, diags) = pipeline::compile(&src, &tables);
    let plan: Node = match plan {
        Some(p) if !diags.iter().any(|d| d.is_error()) => p,
        _ => return Compiled::NoIr,
    };
    match render(Target::Kql, &plan, src.rule.as_ref(), name) {
        Ok(kql) => Compiled::Kql(
            kql,
            ir_columns(&plan),
            open_tables(&plan, catalog),
            round_trip(&plan, &tables),
        ),
        Err(u) => Compiled::Unsupported(u.to_string()),
    }
}

/// Why the plan's KQL does not lower to the same plan again, or None when it does.
fn round_trip(plan: &Node, tables: &Tables) -> Option<String> {
    let text = detc::emit::kql::plan_text(plan);
    let (ast, d) = detc::syntax::parse(&text);
    if let Some(d) = d.first() {
        return Some(format!(
            "the KQL output does not parse again: {}",
            d.message
        ));
    }
    let again = detc::lower::lower(&ast, tables);
    match again.plan {
        Some(p) if p == *plan => None,
        Some(_) => Some("the KQL output lowers to another plan".into()),
        None => Some(format!(
            "the KQL output does not lower again: {:?}",
            again.diagnostics.first().map(|d| &d.message)
        )),
    }
}

/// The tables the plan reads with other columns than their shipped schema: detc adds the
/// fields an open table (AzureDiagnostics, `_CL`) is read with (`lower::open_schema_columns`),
/// and the checker must declare the same columns.
fn open_tables(plan: &Node, catalog: &Catalog) -> Value {
    let mut out = serde_json::Map::new();
    for (name, columns) in plan.sources() {
        if catalog.function(&name).is_some() {
            continue;
        }
        let Some(t) = catalog.table(&name) else {
            continue;
        };
        let read: Vec<(String, detc::types::Type)> =
            columns.iter().map(|c| (c.name.clone(), c.ty)).collect();
        if read != t.columns {
            let cols: Vec<(String, String)> = read
                .iter()
                .map(|(n, t)| (n.clone(), t.to_string()))
                .collect();
            out.insert(name, json!(cols));
        }
    }
    Value::Object(out)
}

/// Queries over constructs the emitter prints with care, checked in every run (also without
/// the corpus): an empty `in` list, a timespan parameter, projects next to the columns of
/// `evaluate pivot`/`bag_unpack`, declared functions and a watchlist, an open table's fields.
const CONSTRUCTS: &[&str] = &[
    "let none = dynamic([]); SigninLogs | where UserPrincipalName !in~ (none) and ResultType in (none) and ResultDescription has_any (none) | project UserPrincipalName",
    "SigninLogs | where TimeGenerated > ago(totimespan('{{Lookback}}')) and TimeGenerated < todatetime('{{End}}') | project TimeGenerated",
    "SigninLogs | evaluate pivot(ResultType, count(), UserPrincipalName, IPAddress) | project-away IPAddress | project-rename U = UserPrincipalName | extend n = 1 | project-reorder n",
    "SigninLogs | project UserPrincipalName, LocationDetails | evaluate bag_unpack(LocationDetails) | project-reorder UserPrincipalName | extend c = tostring(column_ifexists('city', ''))",
    "_Im_Dns(starttime=ago(1d), domain_has_any=dynamic(['x.com'])) | where DnsQuery in ((_GetWatchlist('Domains') | project SearchKey)) | summarize n = count() by SrcIpAddr",
    "AzureDiagnostics | where Category == 'x' and clientIP_s != '' | summarize by clientIP_s, requestUri_s",
    "SigninLogs | mv-apply p = ConditionalAccessPolicies on (where tostring(p.result) == 'failure' | project name = tostring(p.displayName)) | summarize make_set(name) by UserPrincipalName",
];

/// The plan of a bare query (no rule file) as for [`compile`].
fn compile_query(q: &str, catalog: &Catalog) -> Value {
    let (ast, d) = detc::syntax::parse(q);
    assert!(d.is_empty(), "{q}: {d:?}");
    let lowered = detc::lower::lower(
        &ast,
        &Tables {
            catalog,
            present: None,
        },
    );
    let plan = lowered
        .plan
        .unwrap_or_else(|| panic!("{q}: {:?}", lowered.diagnostics));
    let kql = render(Target::Kql, &plan, None, "construct").unwrap();
    json!({"name": format!("construct: {q}"), "kql": kql, "columns": ir_columns(&plan),
           "tables": open_tables(&plan, catalog)})
}

/// The IR's output columns as the checker compares them: the `bag_unpack(` column (the
/// columns `evaluate bag_unpack`/`pivot` make at run time) left out.
fn ir_columns(plan: &Node) -> Vec<(String, String)> {
    plan.schema
        .iter()
        .filter(|c| !c.name.starts_with(detc::lower::UNPACKED))
        .map(|c| (c.name.clone(), c.ty.to_string()))
        .collect()
}

/// `name<TAB>reason` lines of tests/kusto-check.known (`#` starts a comment line).
fn known() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(root().join("tests/kusto-check.known")).unwrap();
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, reason) = line
            .split_once('\t')
            .unwrap_or_else(|| panic!("kusto-check.known:{}: want `name<TAB>reason`", i + 1));
        assert!(
            !reason.trim().is_empty(),
            "kusto-check.known:{}: no reason",
            i + 1
        );
        assert!(
            out.insert(name.to_string(), reason.to_string()).is_none(),
            "kusto-check.known:{}: {name} listed twice",
            i + 1
        );
    }
    out
}

/// Runs the checker once on the whole batch; one result object per item, in order.
fn run_checker(package: &Path, items: &[Value]) -> Vec<Value> {
    let batch = std::env::temp_dir().join(format!("detc-kusto-check-{}.json", std::process::id()));
    std::fs::write(&batch, serde_json::to_vec(items).unwrap()).unwrap();
    let out = Command::new("node")
        .arg(root().join("scripts/kusto-check.js"))
        .arg(package)
        .arg(root().join("schemas"))
        .arg(&batch)
        .output()
        .expect("cannot run node");
    // DETC_KUSTO_CHECK_KEEP=FILE keeps the batch (every rule's KQL and IR columns) there.
    match std::env::var_os("DETC_KUSTO_CHECK_KEEP") {
        Some(keep) => {
            std::fs::rename(&batch, &keep)
                .or_else(|_| std::fs::copy(&batch, &keep).map(|_| ()))
                .unwrap();
        }
        None => {
            let _ = std::fs::remove_file(&batch);
        }
    }
    assert!(
        out.status.success(),
        "kusto-check.js failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).expect("kusto-check.js output");
    assert_eq!(results.len(), items.len(), "one result per item");
    results
}

/// Why one result fails, or None when it passes.
fn failure(r: &Value) -> Option<String> {
    // Copied from the item by the test (the checker ignores it).
    if let Some(why) = r["round_trip"].as_str() {
        return Some(format!("round trip: {why}"));
    }
    let errors = r["errors"].as_array().unwrap();
    if let Some(e) = errors.first() {
        return Some(format!(
            "{} Kusto.Language error(s), first at {}:{}: {} {}",
            errors.len(),
            e["line"],
            e["col"],
            e["code"].as_str().unwrap_or(""),
            e["message"].as_str().unwrap_or("")
        ));
    }
    if r["columns_match"] != json!(true) {
        return Some(format!(
            "result columns differ: {}",
            r["mismatch"].as_str().unwrap_or("")
        ));
    }
    None
}

/// What a self-test expects of its result.
type Expect = fn(&Value) -> bool;

/// Whether the checker reported an error with this Kusto.Language code.
fn error_code(r: &Value, code: &str) -> bool {
    r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["code"] == code)
}

/// Queries whose outcome is known, checked in the same run: the checker must report an
/// unknown column, an unknown function, a bad function argument and every kind of column
/// mismatch, and accept correct queries (with comments, and calls of declared functions).
fn self_tests() -> Vec<(Value, Expect)> {
    let item = |name: &str, kql: &str, cols: &[(&str, &str)]| json!({"name": name, "kql": kql, "columns": cols});
    vec![
        (
            item(
                "self-test: unknown column",
                "SigninLogs\n| project NoSuchColumn",
                &[("NoSuchColumn", "string")],
            ),
            |r| error_code(r, "KS142"),
        ),
        (
            item(
                "self-test: unknown function",
                "SigninLogs | extend x = no_such_function(1)",
                &[],
            ),
            |r| error_code(r, "KS211"),
        ),
        (
            item(
                "self-test: column type differs",
                "SigninLogs | project UserPrincipalName",
                &[("UserPrincipalName", "long")],
            ),
            |r| failure(r).is_some_and(|f| f.contains("result columns differ")),
        ),
        (
            item(
                "self-test: column name differs",
                "SigninLogs | project UserPrincipalName, IPAddress",
                &[("IPAddress", "string"), ("UserPrincipalName", "string")],
            ),
            |r| failure(r).is_some_and(|f| f.contains("result columns differ")),
        ),
        (
            item(
                "self-test: column missing",
                "SigninLogs | project UserPrincipalName",
                &[("UserPrincipalName", "string"), ("IPAddress", "string")],
            ),
            |r| failure(r).is_some_and(|f| f.contains("result columns differ")),
        ),
        (
            item(
                "self-test: accepted",
                "// a comment\nSigninLogs | project UserPrincipalName, n = toint(1), m = 1",
                &[("UserPrincipalName", "string"), ("n", "int"), ("m", "long")],
            ),
            |r| failure(r).is_none(),
        ),
        (
            item(
                "self-test: int is not long",
                "SigninLogs | project n = toint(1)",
                &[("n", "long")],
            ),
            |r| failure(r).is_some_and(|f| f.contains("result columns differ")),
        ),
        (
            item(
                "self-test: declared functions",
                "_Im_Dns(starttime=datetime(2024-01-01)) | project DnsQuery\n\
                 | union (_GetWatchlist(\"VIP\") | project DnsQuery = SearchKey)\n\
                 | union (imDns | project DnsQuery)",
                &[("DnsQuery", "string")],
            ),
            |r| failure(r).is_none(),
        ),
        (
            item(
                "self-test: wrong function argument",
                "_Im_Dns(nosuchparameter=1) | project DnsQuery",
                &[("DnsQuery", "string")],
            ),
            |r| !r["errors"].as_array().unwrap().is_empty(),
        ),
    ]
}

#[test]
fn kql_target_passes_kusto_language() {
    let package = match provisioned() {
        Ok(p) => p,
        Err(why) if required() => {
            panic!("Kusto.Language is required (DETC_REQUIRE_ENGINES=1): {why}")
        }
        Err(why) => {
            eprintln!("kusto_check: skipped: {why}");
            return;
        }
    };
    let root = root();
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    let mut rules = Vec::new();
    rule_files(&root.join("rules"), &mut rules);
    assert!(!rules.is_empty(), "rules/ has rules");
    files.extend(rules.into_iter().map(|p| {
        let n = format!(
            "rules/{}",
            p.strip_prefix(root.join("rules")).unwrap().display()
        );
        (n, p)
    }));
    let corpus = root.join("../shared/corpus/sentinel");
    let corpus_present = corpus.is_dir();
    if corpus_present {
        let mut c = Vec::new();
        rule_files(&corpus, &mut c);
        files.extend(c.into_iter().map(|p| {
            let n = format!("sentinel/{}", p.strip_prefix(&corpus).unwrap().display());
            (n, p)
        }));
    } else {
        eprintln!(
            "kusto_check: corpus part skipped ({} is absent)",
            corpus.display()
        );
    }

    // Compile on a thread with a large stack: deeply nested corpus queries recurse deeply in
    // the parser and the lowerer (as `detc report` does).
    let compiled: Vec<(String, Compiled)> = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let catalog = Catalog::builtin();
            files
                .iter()
                .map(|(n, p)| (n.clone(), compile(p, n, &catalog)))
                .collect()
        })
        .unwrap()
        .join()
        .unwrap();

    let tests = self_tests();
    let mut items: Vec<Value> = tests.iter().map(|(i, _)| i.clone()).collect();
    let catalog = Catalog::builtin();
    items.extend(CONSTRUCTS.iter().map(|q| compile_query(q, &catalog)));
    let constructs = CONSTRUCTS.len();
    let mut no_ir = 0;
    let mut unsupported = Vec::new();
    for (name, c) in &compiled {
        match c {
            Compiled::NoIr => no_ir += 1,
            Compiled::Unsupported(why) => unsupported.push(format!("{name}: {why}")),
            Compiled::Kql(kql, columns, tables, round_trip) => items.push(
                json!({"name": name, "kql": kql, "columns": columns, "tables": tables,
                       "round_trip": round_trip}),
            ),
        }
    }
    let mut problems = Vec::new();
    let started = std::time::Instant::now();
    let results = run_checker(&package, &items);
    let elapsed = started.elapsed();

    for ((item, expect), r) in tests.iter().zip(&results) {
        assert!(expect(r), "the checker got {} wrong: {r}", item["name"]);
    }

    let known = known();
    let mut passed = 0;
    // Of them in rules/: checked, passed.
    let mut rules = (0, 0);
    let mut known_failed: BTreeMap<&str, usize> = BTreeMap::new();
    let mut seen = std::collections::BTreeSet::new();
    for r in &results[tests.len()..tests.len() + constructs] {
        if let Some(f) = failure(r) {
            problems.push(format!("{}: {f}", r["name"].as_str().unwrap()));
        }
    }
    for (item, r) in items[tests.len() + constructs..]
        .iter()
        .zip(&results[tests.len() + constructs..])
    {
        let mut r = r.clone();
        r["round_trip"] = item["round_trip"].clone();
        let r = &r;
        let name = r["name"].as_str().unwrap();
        if name.starts_with("rules/") {
            rules.0 += 1;
        }
        seen.insert(name.to_string());
        match (failure(r), known.get(name)) {
            (None, None) => {
                passed += 1;
                if name.starts_with("rules/") {
                    rules.1 += 1;
                }
            }
            (None, Some(_)) => problems.push(format!(
                "{name}: listed in tests/kusto-check.known but passes now: remove it"
            )),
            (Some(f), None) => problems.push(format!("{name}: {f}")),
            (Some(_), Some(reason)) => *known_failed.entry(reason.as_str()).or_default() += 1,
        }
    }
    for name in known.keys() {
        let in_reach = name.starts_with("rules/") || corpus_present;
        if in_reach && !seen.contains(name) {
            problems.push(format!(
                "{name}: listed in tests/kusto-check.known but not checked (no such rule, or it does not reach the IR)"
            ));
        }
    }
    let checked = results.len() - tests.len() - constructs;
    eprintln!(
        "kusto_check: {} self-tests, {constructs} construct queries; {} files, {no_ir} do not reach \
         the IR, {} KQL unsupported, {checked} checked by Kusto.Language in {:.1} s: {passed} pass, \
         {} known failures, {} unexpected (rules/: {} checked, {} pass)",
        tests.len(),
        compiled.len(),
        unsupported.len(),
        elapsed.as_secs_f64(),
        known_failed.values().sum::<usize>(),
        problems.len(),
        rules.0,
        rules.1
    );
    for (reason, n) in &known_failed {
        eprintln!("  known ({n}): {reason}");
    }
    // The KQL target renders every plan: an unsupported report is a finding too.
    problems.extend(unsupported);
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
