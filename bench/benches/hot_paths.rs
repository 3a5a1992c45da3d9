//! Micro-benchmarks of detc's hot paths (bench/README.md, benchmark 4):
//! - NDJSON decoding: detc's field splitter with a pushed-down predicate against the
//!   reference reader (`serde_json` tree per line, every column);
//! - `has_any` with several terms: one Aho-Corasick pass against one search per term;
//! - a hash join of 100,000 rows against 3,000 keys (native evaluator).
//!
//! `cargo bench -p detc-bench` (criterion; reports in target/criterion).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use detc::catalog::{Catalog, TableSchema};
use detc::eval::compile::Ctx;
use detc::eval::{self, data, scan, strings, Data};
use detc::lower::{lower, Tables};
use detc_bench::{identity, signin, Rng};
use std::io::Write;
use std::sync::Arc;

const ROWS: u64 = 20_000;

fn signin_file() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("detc-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("SigninLogs.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut r = Rng(7);
    for i in 0..ROWS {
        writeln!(f, "{}", signin(&mut r, i, ROWS, false)).unwrap();
    }
    path
}

fn schema(catalog: &Catalog, table: &str) -> TableSchema {
    catalog.table(table).unwrap().as_ref().clone()
}

/// The seed's sign-in predicate, lowered against SigninLogs.
fn seed_predicate(catalog: &Catalog) -> detc::ir::Expr {
    let q = r#"SigninLogs | where ResultDescription has_any ("MFA", "second factor", "multi-factor") or ResultType in ("50074", "50076", "50079", "50072", "53004", "500121")"#;
    let (ast, d) = detc::syntax::parse(q);
    assert!(d.is_empty());
    let plan = lower(
        &ast,
        &Tables {
            catalog,
            present: None,
        },
    )
    .plan
    .unwrap();
    match plan.op {
        detc::ir::Op::Filter { predicate, .. } => predicate,
        other => panic!("{other:?}"),
    }
}

fn ndjson(c: &mut Criterion) {
    let catalog = Catalog::builtin();
    let path = signin_file();
    let schema = schema(&catalog, "SigninLogs");
    let pred = seed_predicate(&catalog);
    let ctx = Ctx { now: 0 };
    let mut g = c.benchmark_group("ndjson");
    g.throughput(Throughput::Bytes(std::fs::metadata(&path).unwrap().len()));
    g.sample_size(10);
    g.bench_function("detc_pushed_predicate", |b| {
        b.iter(|| scan::read_jsonl(&path, &schema, Some(&pred), None, &ctx).unwrap())
    });
    g.bench_function("detc_all_rows", |b| {
        b.iter(|| scan::read_jsonl(&path, &schema, None, None, &ctx).unwrap())
    });
    g.bench_function("reference_serde_json", |b| {
        b.iter(|| data::read_file(&path, &schema).unwrap())
    });
    g.finish();
}

fn has_any(c: &mut Criterion) {
    let mut r = Rng(11);
    let texts: Vec<String> = (0..10_000)
        .map(|i| {
            let line = signin(&mut r, i, 10_000, false);
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            v["ResultDescription"].as_str().unwrap().to_string()
        })
        .collect();
    let needles: Vec<String> = [
        "mfa",
        "second factor",
        "multi-factor",
        "strong authentication",
        "proofup",
        "declined",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let terms = strings::TermSet::new(&needles, false).unwrap();
    let mut g = c.benchmark_group("has_any_6_terms");
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.bench_function("aho_corasick", |b| {
        b.iter(|| texts.iter().filter(|t| terms.matches(t, true)).count())
    });
    g.bench_function("one_search_per_term", |b| {
        b.iter(|| {
            texts
                .iter()
                .filter(|t| {
                    let hay = strings::fold(t);
                    needles.iter().any(|n| strings::has_term(&hay, n))
                })
                .count()
        })
    });
    g.finish();
}

fn hash_join(c: &mut Criterion) {
    let catalog = Catalog::builtin();
    let mut data = Data::default();
    let mut r = Rng(3);
    let ids: Vec<Vec<detc::value::Value>> = (0..3_000)
        .map(|u| {
            let v: serde_json::Value =
                serde_json::from_str(&identity(&mut r, u * 33, 1000)).unwrap();
            data::json_row(&v, &schema(&catalog, "IdentityInfo")).unwrap()
        })
        .collect();
    let signins: Vec<Vec<detc::value::Value>> = (0..100_000)
        .map(|i| {
            let v: serde_json::Value =
                serde_json::from_str(&signin(&mut r, i, 100_000, false)).unwrap();
            data::json_row(&v, &schema(&catalog, "SigninLogs")).unwrap()
        })
        .collect();
    data.tables.insert("IdentityInfo".into(), Arc::new(ids));
    data.tables.insert("SigninLogs".into(), Arc::new(signins));
    let q = "IdentityInfo | project UserPrincipalName = tolower(AccountUPN) | join kind=inner (SigninLogs) on UserPrincipalName | count";
    let (ast, _) = detc::syntax::parse(q);
    let plan = lower(
        &ast,
        &Tables {
            catalog: &catalog,
            present: None,
        },
    )
    .plan
    .unwrap();
    let ctx = Ctx { now: 0 };
    let mut g = c.benchmark_group("hash_join");
    g.sample_size(10);
    g.bench_function("100k_probe_3k_build", |b| {
        b.iter_batched(
            || (),
            |_| eval::run(&plan, &data, &ctx).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, ndjson, has_any, hash_join);
criterion_main!(benches);
