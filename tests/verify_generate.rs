//! Fixture synthesis (`detc fixtures`) and differential verification on synthesized tables
//! (`detc verify --generate`): the rows aim at each test's boundaries, are deterministic for a
//! seed, shrinking finds the fewest rows and the smallest sub-plan, and every rule of rules/
//! agrees on every engine available (all of them with DETC_REQUIRE_ENGINES=1). And the KQL
//! round trip on the corpus: detc's KQL output of every rule that reaches the IR lowers to the
//! same plan, and runs to the same rows as the original on the rule's synthesized tables.

use detc::catalog::Catalog;
use detc::eval::{self, compile::Ctx, Data};
use detc::ir::{Node, Op};
use detc::lower::{lower, Tables};
use detc::value::{parse_datetime, Value, TICKS_PER_DAY};
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "common/rule_files.rs"]
mod common;

fn now() -> i64 {
    parse_datetime("2024-03-03T00:00:00Z").unwrap()
}

fn plan(q: &str) -> Node {
    let catalog = Catalog::builtin();
    let (ast, d) = detc::syntax::parse(q);
    assert!(d.is_empty(), "{q}: {d:?}");
    let out = lower(
        &ast,
        &Tables {
            catalog: &catalog,
            present: None,
        },
    );
    out.plan
        .unwrap_or_else(|| panic!("{q}: {:?}", out.diagnostics))
}

/// The values of one column of one synthesized table.
fn column(data: &Data, plan: &Node, table: &str, col: &str) -> Vec<Value> {
    let sources = plan.sources();
    let (_, cols) = sources.iter().find(|(t, _)| t == table).unwrap();
    let i = cols.iter().position(|c| c.name == col).unwrap();
    data.tables[table].iter().map(|r| r[i].clone()).collect()
}

const QUERY: &str = "SigninLogs
| where ResultDescription has \"MFA\" and TimeGenerated > ago(1d) and ConditionalAccessStatus in (\"failure\", \"notApplied\")
| join kind=innerunique (IdentityInfo | where isnotempty(AccountUPN)) on $left.UserPrincipalName == $right.AccountUPN
| project UserPrincipalName, ResultDescription, TimeGenerated";

#[test]
fn synthesized_rows_drive_each_test_at_its_boundaries() {
    let p = plan(QUERY);
    let data = detc::synth::synthesize(&p, now(), 1);
    let texts: Vec<String> = column(&data, &p, "SigninLogs", "ResultDescription")
        .iter()
        .map(|v| v.to_kql_string())
        .collect();
    // The term, in another case, glued into a longer word, as a term among others, punctuated.
    for want in ["MFA", "mfa", "zzMFA", "MFAzz", "zz MFA zz", "-MFA-", ""] {
        assert!(texts.iter().any(|t| t == want), "no {want:?} in {texts:?}");
    }
    // The time bound, just inside and just outside it (one microsecond).
    let bound = now() - TICKS_PER_DAY;
    let times = column(&data, &p, "SigninLogs", "TimeGenerated");
    for t in [bound, bound - 10, bound + 10] {
        assert!(times.contains(&Value::DateTime(t)), "no {t} in {times:?}");
    }
    // Each `in` value.
    let status = column(&data, &p, "SigninLogs", "ConditionalAccessStatus");
    for want in ["failure", "notApplied"] {
        assert!(status.contains(&Value::str(want)));
    }
    // Join keys: shared, differing in case only, on one side only.
    let left = column(&data, &p, "SigninLogs", "UserPrincipalName");
    let right = column(&data, &p, "IdentityInfo", "AccountUPN");
    let shared: Vec<&Value> = left.iter().filter(|v| right.contains(v)).collect();
    assert!(!shared.is_empty(), "no key on both sides");
    let key = shared[0].to_kql_string();
    let swapped = Value::str(&detc::synth::variants::swap_case(&key));
    assert!(left.contains(&swapped) && right.contains(&swapped));
    assert!(left.iter().any(|v| !right.contains(v)));
    // Repeated keys on the innerunique side.
    assert!(right.iter().filter(|v| v.to_kql_string() == key).count() > 1);
    // And the rows make the query return rows, but not the near misses.
    let rows = eval::run(&p, &data, &Ctx { now: now() }).unwrap();
    let got: Vec<String> = rows.iter().map(|r| r[1].to_kql_string()).collect();
    assert!(got.iter().any(|t| t == "MFA" || t == "mfa"), "{got:?}");
    assert!(!got.iter().any(|t| t == "zzMFA" || t == "MFAzz"), "{got:?}");
}

#[test]
fn synthesis_is_deterministic_and_strings_are_never_null() {
    let p = plan(QUERY);
    let text = |seed| {
        let data = detc::synth::synthesize(&p, now(), seed);
        p.sources()
            .iter()
            .map(|(t, cols)| detc::synth::jsonl(&data.tables[t], cols))
            .collect::<String>()
    };
    assert_eq!(text(7), text(7));
    let data = detc::synth::synthesize(&p, now(), 7);
    for (t, cols) in p.sources() {
        for r in data.tables[&t].iter() {
            for (v, c) in r.iter().zip(&cols) {
                assert!(
                    !(c.ty == detc::types::Type::String && v.is_null()),
                    "{t}.{} is null",
                    c.name
                );
            }
        }
    }
}

/// Shrinking with a stand-in for an engine that "disagrees" whenever a row of user `bob`
/// reaches the plan's output: the case shrinks to the one `bob` row and to the scan.
#[test]
fn shrinking_finds_the_fewest_rows_and_the_smallest_sub_plan() {
    let p = plan("SigninLogs | where UserPrincipalName != \"\" | extend n = 1 | project UserPrincipalName, n");
    let data = detc::synth::synthesize(&p, now(), 1);
    let mut rows = data.tables["SigninLogs"].as_ref().clone();
    let (_, cols) = p.sources().into_iter().next().unwrap();
    let upn = cols
        .iter()
        .position(|c| c.name == "UserPrincipalName")
        .unwrap();
    for (i, r) in rows.iter_mut().enumerate() {
        r[upn] = Value::str(if i == 3 { "bob" } else { "alice" });
    }
    let extra = rows.clone();
    rows.extend(extra.into_iter().map(|mut r| {
        r[upn] = Value::str("carol");
        r
    }));
    let mut data = Data::default();
    data.tables
        .insert("SigninLogs".into(), std::sync::Arc::new(rows));
    let fails = |p: &Node, d: &Data| {
        let out = eval::run(p, d, &Ctx { now: now() }).ok()?;
        out.iter()
            .any(|r| r.contains(&Value::str("bob")))
            .then(|| "bob".to_string())
    };
    let case = detc::verify::shrink::shrink_with(&p, &data, &fails);
    assert_eq!(case.data.tables["SigninLogs"].len(), 1);
    assert_eq!(case.data.tables["SigninLogs"][0][upn], Value::str("bob"));
    assert!(
        matches!(case.plan.op, Op::Scan { .. }),
        "{:?}",
        case.plan.op
    );
    assert_eq!(case.diff, "bob");
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every rule of rules/ agrees with the native run on its synthesized tables, on every
/// engine available.
#[test]
fn rules_agree_on_synthesized_tables() {
    use detc::engines::Engine;
    use detc::verify::generate::{self, Verdict};
    let engines: Vec<Engine> = [Engine::DuckDb, Engine::Sqlite, Engine::Postgres]
        .into_iter()
        .filter(|e| detc::engines::available_or_skip(*e))
        .collect();
    let files: Vec<PathBuf> = std::fs::read_dir(root().join("rules"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "yaml")
                && !p.to_string_lossy().ends_with(".tests.yaml")
        })
        .collect();
    assert!(!files.is_empty());
    let opts = generate::Options {
        engines: engines.clone(),
        now: now(),
        seed: 1,
        jobs: 2,
        repro: None,
        progress: false,
    };
    let results = generate::run(&files, &Catalog::builtin(), &opts);
    for r in &results {
        assert_eq!(r.skipped, None, "{}", r.path);
        assert!(
            r.native_rows > 0,
            "{}: the synthesized rows select nothing",
            r.path
        );
        for (e, v) in &r.engines {
            assert!(
                matches!(v, Verdict::Agreed(n) if *n == r.native_rows),
                "{}: {}: {v:?}",
                r.path,
                e.name()
            );
        }
    }
}

/// `detc fixtures` writes the same bytes twice, and a tests file that `detc test` passes.
#[test]
fn fixtures_command_is_deterministic_and_its_tests_file_passes() {
    let dir = std::env::temp_dir().join(format!("detc-fixtures-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let rule = root().join("rules/privileged-accounts-failed-mfa.yaml");
    let run = |out: &Path, tests: Option<&Path>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_detc"));
        c.arg("fixtures").arg(&rule).arg("--out").arg(out);
        if let Some(t) = tests {
            c.arg("--tests").arg(t);
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let (a, b) = (dir.join("a"), dir.join("b"));
    std::fs::create_dir_all(&dir).unwrap();
    // The tests file lives next to a copy of the rule, as `detc test` expects.
    std::fs::copy(&rule, dir.join("seed.yaml")).unwrap();
    run(&a, Some(&dir.join("seed.tests.yaml")));
    run(&b, None);
    let mut names: Vec<_> = std::fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert!(names.len() >= 2, "{names:?}");
    for n in &names {
        assert_eq!(
            std::fs::read(a.join(n)).unwrap(),
            std::fs::read(b.join(n)).unwrap(),
            "{n:?} differs between two runs"
        );
    }
    let o = Command::new(env!("CARGO_BIN_EXE_detc"))
        .arg("test")
        .arg(dir.join("seed.yaml"))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    // It refuses to overwrite the tests file.
    let o = Command::new(env!("CARGO_BIN_EXE_detc"))
        .arg("fixtures")
        .arg(&rule)
        .arg("--out")
        .arg(&b)
        .arg("--tests")
        .arg(dir.join("seed.tests.yaml"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// For every rule of rules/ and of ../shared/corpus/sentinel (when present) that reaches the
/// IR: printing the plan as KQL and lowering that text gives the same plan, and the two plans
/// return the same rows on the synthesized tables.
#[test]
fn kql_round_trip_holds_on_synthesized_tables() {
    let catalog = Catalog::builtin();
    let mut files = Vec::new();
    common::rule_files(&root().join("rules"), &mut files);
    let corpus = root().join("../shared/corpus/sentinel");
    if corpus.is_dir() {
        common::rule_files(&corpus, &mut files);
    } else {
        eprintln!("kql round trip: ../shared/corpus/sentinel absent; rules/ only");
    }
    let (mut compiled, mut same, mut rows_checked) = (0, 0, 0);
    let mut failures = Vec::new();
    for f in &files {
        let Ok((p, _)) =
            detc::verify::generate::compile_rule(f, &catalog, now(), &Default::default())
        else {
            continue;
        };
        compiled += 1;
        let text = detc::emit::kql::plan_text(&p);
        let (ast, d) = detc::syntax::parse(&text);
        if !d.is_empty() {
            failures.push(format!(
                "{}: the KQL output does not parse: {d:?}",
                f.display()
            ));
            continue;
        }
        let again = lower(
            &ast,
            &Tables {
                catalog: &catalog,
                present: None,
            },
        );
        let Some(p2) = again.plan else {
            failures.push(format!(
                "{}: the KQL output does not lower: {:?}",
                f.display(),
                again.diagnostics
            ));
            continue;
        };
        if p2 == p {
            same += 1;
        } else {
            failures.push(format!(
                "{}: the KQL output lowers to another plan",
                f.display()
            ));
        }
        let data = detc::synth::synthesize(&p, now(), 1);
        let ctx = Ctx { now: now() };
        let (Ok(a), Ok(b)) = (eval::run(&p, &data, &ctx), eval::run(&p2, &data, &ctx)) else {
            continue;
        };
        rows_checked += 1;
        let lines = |rows: &[Vec<Value>], plan: &Node| {
            let cols: Vec<String> = plan.schema.iter().map(|c| c.name.clone()).collect();
            detc::testing::lines(rows, &cols)
        };
        if lines(&a, &p) != lines(&b, &p2) {
            failures.push(format!(
                "{}: the reprinted query returns other rows on the synthesized tables",
                f.display()
            ));
        }
    }
    eprintln!(
        "kql round trip: {same} of {compiled} plans identical after printing and lowering, {rows_checked} compared on synthesized tables"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A threshold on a count (`count() > 5`, `dcount(x) >= 3`) gets enough rows, or enough
/// distinct values, in one group for the rule to fire.
#[test]
fn count_thresholds_get_enough_rows() {
    for q in [
        "SigninLogs | where ResultType == \"50126\" | summarize n = count() by UserPrincipalName | where n > 5",
        "SigninLogs | summarize d = dcount(IPAddress) by UserPrincipalName | where d >= 3",
        "SigninLogs | summarize n = countif(ResultType != \"0\") by UserPrincipalName | extend m = n | where m >= 4",
    ] {
        let p = plan(q);
        let data = detc::synth::synthesize(&p, now(), 1);
        let rows = eval::run(&p, &data, &Ctx { now: now() }).unwrap();
        assert!(!rows.is_empty(), "{q}: no group reaches the threshold");
    }
}
