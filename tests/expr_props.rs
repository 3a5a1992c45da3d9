//! Property tests over the expression language: random string, integer and boolean
//! expressions over a small table with empty strings and nulls, run natively and on every
//! engine available (all of them with DETC_REQUIRE_ENGINES=1); the rows must agree, or the
//! SQL must declare an approximation (as `verify --generate` counts them).
//! PROPTEST_CASES sets the number of cases (default 48: each case starts the engines' clients).

use detc::catalog::Catalog;
use detc::engines::Engine;
use detc::eval::{self, compile::Ctx, Data};
use detc::lower::{lower, Tables};
use proptest::prelude::*;

const DATA: &str = r#"datatable(s:string, n:long, b:bool, t:datetime) [
    "MFA denied", 3, true, datetime(2024-03-01),
    "", 0, false, datetime(2024-03-02T12:00:00),
    "mfa", 7, bool(null), datetime(null),
    "x-y Second factor", long(null), true, datetime(2024-03-02),
    "Ümlaut MFA", 12, false, datetime(2024-03-01T00:00:01)
]"#;

const WORDS: &[&str] = &["MFA", "mfa", "x", "", "second", "y", "Ü", "ümlaut"];

fn lit() -> impl Strategy<Value = String> {
    prop::sample::select(WORDS).prop_map(|w| format!("{w:?}"))
}

fn s_expr(depth: u32) -> BoxedStrategy<String> {
    let leaf = prop_oneof![Just("s".to_string()), lit()];
    if depth == 0 {
        return leaf.boxed();
    }
    let s = s_expr(depth - 1);
    prop_oneof![
        2 => leaf,
        1 => s.clone().prop_map(|a| format!("tolower({a})")),
        1 => s.clone().prop_map(|a| format!("toupper({a})")),
        1 => (s.clone(), s.clone()).prop_map(|(a, b)| format!("strcat({a}, {b})")),
        1 => (b_expr(depth - 1), s.clone(), s.clone()).prop_map(|(c, a, b)| format!("iff({c}, {a}, {b})")),
        1 => (s.clone(), 0..4i64, 0..4i64).prop_map(|(a, i, n)| format!("substring({a}, {i}, {n})")),
        1 => n_expr(depth - 1).prop_map(|a| format!("tostring({a})")),
    ]
    .boxed()
}

fn n_expr(depth: u32) -> BoxedStrategy<String> {
    let leaf = prop_oneof![Just("n".to_string()), (0..6i64).prop_map(|i| i.to_string())];
    if depth == 0 {
        return leaf.boxed();
    }
    let n = n_expr(depth - 1);
    prop_oneof![
        2 => leaf,
        1 => (n.clone(), n.clone()).prop_map(|(a, b)| format!("({a} + {b})")),
        1 => (n.clone(), n.clone()).prop_map(|(a, b)| format!("({a} - {b})")),
        1 => (n.clone(), n.clone()).prop_map(|(a, b)| format!("({a} * {b})")),
        1 => (n.clone(), 1..4i64).prop_map(|(a, k)| format!("({a} % {k})")),
        1 => s_expr(depth - 1).prop_map(|a| format!("strlen({a})")),
        1 => (b_expr(depth - 1), n.clone(), n.clone()).prop_map(|(c, a, b)| format!("iff({c}, {a}, {b})")),
    ]
    .boxed()
}

fn b_expr(depth: u32) -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        Just("b".to_string()),
        Just("true".to_string()),
        Just("false".to_string())
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    let (s, n, b) = (s_expr(depth - 1), n_expr(depth - 1), b_expr(depth - 1));
    let str_op = prop::sample::select(vec![
        "has",
        "!has",
        "has_cs",
        "contains",
        "!contains",
        "contains_cs",
        "startswith",
        "!startswith",
        "endswith",
        "hasprefix",
        "hassuffix",
        "=~",
        "!~",
        "==",
        "!=",
    ]);
    let cmp = prop::sample::select(vec!["<", "<=", ">", ">=", "==", "!="]);
    prop_oneof![
        1 => leaf,
        3 => (s.clone(), str_op, lit()).prop_map(|(a, op, w)| format!("{a} {op} {w}")),
        1 => (s.clone(), s.clone()).prop_map(|(a, c)| format!("{a} == {c}")),
        2 => (n.clone(), cmp, n.clone()).prop_map(|(a, op, c)| format!("{a} {op} {c}")),
        1 => (b.clone(), b.clone()).prop_map(|(a, c)| format!("({a} and {c})")),
        1 => (b.clone(), b.clone()).prop_map(|(a, c)| format!("({a} or {c})")),
        1 => b.clone().prop_map(|a| format!("not({a})")),
        1 => s.clone().prop_map(|a| format!("isempty({a})")),
        1 => n.clone().prop_map(|a| format!("isnull({a})")),
        1 => (s.clone(), lit(), lit()).prop_map(|(a, x, y)| format!("{a} in~ ({x}, {y})")),
        1 => (s, lit(), lit()).prop_map(|(a, x, y)| format!("{a} has_any ({x}, {y})")),
    ]
    .boxed()
}

fn engines() -> Vec<Engine> {
    [Engine::Sqlite, Engine::DuckDb, Engine::Postgres]
        .into_iter()
        .filter(|e| detc::engines::available_or_skip(*e))
        .collect()
}

/// Native and each engine on one query; `Err` with the first difference.
fn agree(q: &str, engines: &[Engine]) -> Result<(), String> {
    let catalog = Catalog::builtin();
    let (ast, d) = detc::syntax::parse(q);
    if !d.is_empty() {
        return Err(format!("{q}: does not parse: {d:?}"));
    }
    let out = lower(
        &ast,
        &Tables {
            catalog: &catalog,
            present: None,
        },
    );
    // Ill-typed combinations (a type error) are not this test's subject.
    let Some(plan) = out.plan else { return Ok(()) };
    let now = detc::value::parse_datetime("2024-03-03T00:00:00Z").unwrap();
    let data = Data::default();
    let rows = eval::run(&plan, &data, &Ctx { now }).map_err(|d| format!("{q}: native: {d:?}"))?;
    for e in engines {
        match detc::verify::check(&plan, &data, &rows, *e, now) {
            Ok(_) => {}
            Err(m) if m.starts_with("cannot emit SQL") => {}
            // A difference the SQL declares (SQLite's ASCII-only case folding of "Ümlaut").
            Err(_) if declares_approximations(&plan, *e, now) => {}
            Err(m) => return Err(format!("{}: {q}\n{m}", e.name())),
        }
    }
    Ok(())
}

fn declares_approximations(plan: &detc::ir::Node, e: Engine, now: i64) -> bool {
    detc::emit::sql::emit_at(plan, detc::verify::dialect(e), Some(now))
        .is_ok_and(|o| !o.emitted.approximations.is_empty())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(48),
        ..ProptestConfig::default()
    })]

    #[test]
    fn native_and_engines_agree_on_random_expressions(
        s in s_expr(2),
        n in n_expr(2),
        b in b_expr(2),
        w in b_expr(2),
    ) {
        let engines = engines();
        let q = format!("{DATA}\n| where {w}\n| project a = {s}, c = {n}, e = {b}");
        if let Err(m) = agree(&q, &engines) {
            prop_assert!(false, "{}", m);
        }
    }
}
