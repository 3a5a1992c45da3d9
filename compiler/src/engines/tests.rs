//! Engine tests. DuckDB and PostgreSQL tests skip (with a message) when the engine is not
//! available, unless `DETC_REQUIRE_ENGINES=1`, where they fail.

use super::*;
use crate::value::{parse_datetime, TICKS_PER_SECOND};
use serde_json::{json, Value as J};
use std::sync::Arc;

fn usable(engine: Engine) -> bool {
    available_or_skip(engine)
}

fn s(x: &str) -> Value {
    Value::str(x)
}

fn dynamic(j: J) -> Value {
    Value::Dynamic(Arc::new(j))
}

const HOSTILE: &[&str] = &[
    "it's",
    "back\\slash",
    "\\'",
    "trailing backslash\\",
    "\"double\" quotes",
    "line1\nline2\r\nline3",
    "tab\there",
    "\u{1}\u{7f} controls",
    "ü€😀 𝄞 مرحبا",
    "'; DROP TABLE \"Events\"; --",
    "$$ dollar $$ $x$",
    "a;\n.print injected\n;",
    "\\gdesc\n\\q\n",
    "__DETC_DONE__",
    "  spaced  ",
    "NULL",
];

const DT: &str = "2024-01-02T03:04:05.1234567Z";

/// A table with every type, hostile names and values.
fn events() -> TableData {
    let t = parse_datetime(DT).unwrap();
    let mut rows = vec![
        vec![
            Value::Long(1),
            Value::Bool(true),
            Value::Long(-7),
            Value::Real(1.5),
            Value::Real(0.1),
            s("it's"),
            s("0f8fad5b-d9cb-469f-a165-70867728950e"),
            Value::DateTime(t),
            Value::Timespan(-15 * TICKS_PER_SECOND - 3),
            dynamic(json!({"a": [1, "x", null], "b": {"c": true}, "q": "it's \\ \"q\""})),
        ],
        vec![
            Value::Long(2),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            s(""),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
        ],
        vec![
            Value::Long(3),
            Value::Bool(false),
            Value::Long(i64::MAX),
            Value::Real(f64::NAN),
            Value::Long(3),
            s("line1\nline2"),
            s(""),
            Value::DateTime(0),
            Value::Timespan(0),
            dynamic(json!("just a string")),
        ],
        vec![
            Value::Long(4),
            Value::Bool(true),
            Value::Long(i64::MIN),
            Value::Real(f64::INFINITY),
            Value::Real(-2.5e-300),
            s("ü€😀"),
            s("x"),
            Value::DateTime(-1),
            Value::Timespan(i64::MAX),
            dynamic(json!([1, 2.5, "три", []])),
        ],
        vec![
            Value::Long(5),
            Value::Bool(false),
            Value::Long(0),
            Value::Real(f64::NEG_INFINITY),
            Value::Real(1e300),
            s("x"),
            s("y"),
            Value::DateTime(parse_datetime("9999-12-31T23:59:59.9999999Z").unwrap()),
            Value::Timespan(1),
            dynamic(J::Null),
        ],
    ];
    for (i, h) in HOSTILE.iter().enumerate() {
        rows.push(vec![
            Value::Long(100 + i as i64),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            s(h),
            s(h),
            Value::Null,
            Value::Null,
            dynamic(json!({ "s": h })),
        ]);
    }
    TableData {
        name: "Ev\"ents".into(),
        columns: vec![
            ("Id".into(), Type::Long),
            ("Flag".into(), Type::Bool),
            ("Count".into(), Type::Int),
            ("Score".into(), Type::Real),
            ("Amount".into(), Type::Decimal),
            ("Text".into(), Type::String),
            ("we\"ird name".into(), Type::Guid),
            ("Time".into(), Type::DateTime),
            ("Span".into(), Type::Timespan),
            ("Props".into(), Type::Dynamic),
        ],
        rows,
    }
}

/// The expected JSON of a loaded value, as `engine` returns it (before any caller-side
/// normalisation).
fn expected(engine: Engine, ty: Type, v: &Value) -> J {
    match (ty, v) {
        (_, Value::Null) => J::Null,
        (Type::Bool, Value::Bool(b)) if engine == Engine::Sqlite => json!(i64::from(*b)),
        (Type::Real | Type::Decimal, Value::Real(x)) if x.is_nan() && engine == Engine::Sqlite => {
            J::Null
        }
        (Type::Real | Type::Decimal, Value::Real(x)) => json::float(*x),
        (Type::Real | Type::Decimal, Value::Long(n)) => json::float(*n as f64),
        (Type::Timespan, Value::Timespan(t)) => json!(t),
        (Type::Dynamic, Value::Dynamic(d)) if engine == Engine::Sqlite && !d.is_null() => {
            J::String(serde_json::to_string(&**d).unwrap())
        }
        (Type::Dynamic, Value::Dynamic(d)) => (**d).clone(),
        _ => v.to_json(),
    }
}

fn check_round_trip(engine: Engine) {
    let table = events();
    let sql = "SELECT * FROM \"Ev\"\"ents\" ORDER BY \"Id\";";
    let got = run(engine, std::slice::from_ref(&table), sql).unwrap_or_else(|e| {
        panic!(
            "{engine}: {e}\n--- load script:\n{}",
            load_script(engine, std::slice::from_ref(&table))
        )
    });
    let names: Vec<&str> = table.columns.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(got.columns, names, "{engine}: column names");
    assert_eq!(got.types.len(), names.len());
    assert_eq!(got.rows.len(), table.rows.len(), "{engine}: row count");
    for (row, want_row) in got.rows.iter().zip(&table.rows) {
        for ((cell, want), (name, ty)) in row.iter().zip(want_row).zip(&table.columns) {
            if *ty == Type::DateTime {
                let Value::DateTime(ticks) = want else {
                    assert_eq!(cell, &J::Null, "{engine}: {name} of row {row:?}");
                    continue;
                };
                let text = cell
                    .as_str()
                    .unwrap_or_else(|| panic!("{engine}: {name}: {cell}"));
                let got_ticks = parse_datetime(text)
                    .unwrap_or_else(|| panic!("{engine}: unreadable datetime {text:?}"));
                let want_ticks = match engine {
                    Engine::Sqlite => {
                        assert_eq!(text, crate::value::format_datetime(*ticks));
                        *ticks
                    }
                    _ => ticks.div_euclid(10) * 10,
                };
                assert_eq!(got_ticks, want_ticks, "{engine}: {name} = {text:?}");
                continue;
            }
            assert_eq!(
                cell,
                &expected(engine, *ty, want),
                "{engine}: column {name} of {row:?}"
            );
        }
    }
    match engine {
        Engine::DuckDb => assert_eq!(got.types[0], "BIGINT"),
        Engine::Postgres => assert_eq!(got.types[0], "bigint"),
        Engine::Sqlite => assert_eq!(got.types[0], ""),
        Engine::Spark => assert_eq!(got.types[0], "bigint"),
    }
}

#[test]
fn engine_names() {
    for e in Engine::ALL {
        assert_eq!(Engine::parse(e.name()), Some(e));
        assert_eq!(e.to_string(), e.name());
    }
    assert_eq!(Engine::parse("PostgreSQL"), Some(Engine::Postgres));
    assert_eq!(Engine::parse("mysql"), None);
}

#[test]
fn load_script_is_deterministic_and_quoted() {
    let table = events();
    for e in Engine::ALL {
        let a = load_script(e, std::slice::from_ref(&table));
        assert_eq!(a, load_script(e, std::slice::from_ref(&table)));
        assert!(a.contains("CREATE TABLE \"Ev\"\"ents\" ("), "{a}");
        assert!(a.contains("\"we\"\"ird name\""), "{a}");
        assert!(a.contains("'it''s'"), "{a}");
        assert!(a.contains("'back\\slash'"), "{a}");
    }
    let duck = load_script(Engine::DuckDb, std::slice::from_ref(&table));
    assert!(
        duck.contains("TIMESTAMP '2024-01-02 03:04:05.123456'"),
        "{duck}"
    );
    assert!(duck.contains("\"Props\" JSON"));
    let pg = load_script(Engine::Postgres, std::slice::from_ref(&table));
    assert!(pg.starts_with("SET standard_conforming_strings = on;"));
    assert!(pg.contains("'NaN'::double precision"));
    assert!(pg.contains("\"Score\" DOUBLE PRECISION"));
    let lite = load_script(Engine::Sqlite, std::slice::from_ref(&table));
    assert!(lite.contains(&format!("'{DT}'")), "{lite}");
}

#[test]
fn bad_data_is_a_load_error() {
    let mut table = events();
    table.rows[0][5] = s("nul\0byte");
    for e in Engine::ALL {
        let err = run(e, std::slice::from_ref(&table), "SELECT 1").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Load, "{e}: {err}");
        assert!(err.to_string().contains("NUL"), "{err}");
        assert!(load_script(e, std::slice::from_ref(&table)).starts_with("-- cannot load:"));
    }
    let mut table = events();
    table.rows[0][2] = s("not a number");
    let err = run(Engine::Sqlite, &[table], "SELECT 1").unwrap_err();
    assert_eq!(err.kind, ErrorKind::Load);
    assert!(err.message.contains("\"Count\""), "{err}");
    let mut table = events();
    table.rows[0].pop();
    assert_eq!(
        run(Engine::Sqlite, &[table], "SELECT 1").unwrap_err().kind,
        ErrorKind::Load
    );
}

/// Shared checks beyond the round trip: empty results keep their columns, repeated names,
/// errors are the engine's and classified, aggregates come back as numbers.
fn check_queries(engine: Engine) {
    let tables = [events()];
    let t = "\"Ev\"\"ents\"";

    let empty = run(
        engine,
        &tables,
        &format!("SELECT \"Id\", \"Text\" AS \"Out\" FROM {t} WHERE 1 = 0"),
    )
    .unwrap();
    assert_eq!(empty.columns, ["Id", "Out"]);
    assert!(empty.rows.is_empty());

    let dup = run(
        engine,
        &tables,
        &format!("SELECT \"Id\" AS a, \"Text\" AS a, \"Id\" AS b FROM {t} WHERE \"Id\" = 2"),
    )
    .unwrap();
    assert_eq!(dup.columns, ["a", "a", "b"]);
    assert_eq!(dup.rows, vec![vec![json!(2), json!(""), json!(2)]]);

    // NULL string vs empty string, and a WITH query with a comment at the end.
    let nulls = run(
        engine,
        &tables,
        &format!(
            "WITH x AS (SELECT * FROM {t})\nSELECT \"Text\", \"we\"\"ird name\" FROM x \
             WHERE \"Id\" IN (2, 3) ORDER BY \"Id\" -- trailing comment"
        ),
    )
    .unwrap();
    assert_eq!(
        nulls.rows,
        vec![
            vec![json!(""), J::Null],
            vec![json!("line1\nline2"), json!("")]
        ]
    );

    let agg = run(
        engine,
        &tables,
        &format!("SELECT count(*) AS n, sum(\"Id\") AS total, min(\"Amount\") AS m FROM {t}"),
    )
    .unwrap();
    let n = 5 + HOSTILE.len() as i64;
    let total: i64 = 15 + (0..HOSTILE.len() as i64).map(|i| 100 + i).sum::<i64>();
    assert_eq!(
        agg.rows,
        vec![vec![json!(n), json!(total), json!(-2.5e-300)]],
        "{agg:?}"
    );

    let err = run(
        engine,
        &tables,
        &format!("SELECT \"NoSuchColumn\" FROM {t}"),
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Query, "{err}");
    assert!(err.message.contains("NoSuchColumn"), "{err}");
    eprintln!("{engine} error text: {err}");

    // No tables at all.
    let one = run(engine, &[], "SELECT 1 AS one, 'x' AS two, NULL AS three").unwrap();
    assert_eq!(one.columns, ["one", "two", "three"]);
    assert_eq!(one.rows, vec![vec![json!(1), json!("x"), J::Null]]);
}

/// Random doubles, extreme longs and hostile strings survive loading exactly.
fn check_exact_values(engine: Engine) {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut reals = Vec::new();
    while reals.len() < 600 {
        let x = match reals.len() % 3 {
            0 => f64::from_bits(next()),
            1 => (next() >> 11) as f64 / (1u64 << 53) as f64,
            _ => ((next() >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 2e6,
        };
        if x.is_finite() {
            reals.push(x);
        }
    }
    reals.extend([
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        -0.0,
        0.1 + 0.2,
        1e23,
        9007199254740993.0,
    ]);
    let rows = reals
        .iter()
        .enumerate()
        .map(|(i, x)| {
            vec![
                Value::Long(i as i64),
                Value::Real(*x),
                Value::Long(next() as i64),
            ]
        })
        .collect::<Vec<_>>();
    let table = TableData {
        name: "reals".into(),
        columns: vec![
            ("i".into(), Type::Long),
            ("x".into(), Type::Real),
            ("n".into(), Type::Long),
        ],
        rows: rows.clone(),
    };
    let got = run(
        engine,
        &[table],
        "SELECT \"x\", \"n\" FROM \"reals\" ORDER BY \"i\"",
    )
    .unwrap();
    let mut bad = Vec::new();
    for (r, want) in got.rows.iter().zip(&rows) {
        let Value::Real(x) = want[1] else {
            unreachable!()
        };
        if r[0].as_f64().map(f64::to_bits) != Some(x.to_bits()) && !(x == 0.0 && r[0] == json!(0.0))
        {
            bad.push(format!("{x:?} -> {}", r[0]));
        }
        let Value::Long(n) = want[2] else {
            unreachable!()
        };
        assert_eq!(r[1], json!(n));
    }
    assert!(
        bad.is_empty(),
        "{engine}: {} of {} reals changed: {:?}",
        bad.len(),
        reals.len(),
        &bad[..bad.len().min(5)]
    );
}

#[test]
fn sqlite_round_trip() {
    check_round_trip(Engine::Sqlite);
}

#[test]
fn sqlite_queries() {
    check_queries(Engine::Sqlite);
    // SQLite's JSON functions are there.
    let got = run(
        Engine::Sqlite,
        &[events()],
        "SELECT json_extract(\"Props\", '$.b.c') AS c, \"Props\" ->> '$.a[1]' AS a1 FROM \"Ev\"\"ents\" WHERE \"Id\" = 1",
    )
    .unwrap();
    assert_eq!(got.rows, vec![vec![json!(1), json!("x")]]);
}

#[test]
fn sqlite_exact_values() {
    check_exact_values(Engine::Sqlite);
}

#[test]
fn duckdb_round_trip() {
    if usable(Engine::DuckDb) {
        check_round_trip(Engine::DuckDb);
    }
}

#[test]
fn duckdb_queries() {
    if !usable(Engine::DuckDb) {
        return;
    }
    check_queries(Engine::DuckDb);
    let err = run(Engine::DuckDb, &[], "SELECT nosuch").unwrap_err();
    assert!(err.message.starts_with("Binder Error:"), "{err}");
    // JSON values come back parsed, also when the JSON text spans lines; DECIMAL and HUGEINT
    // as numbers; NaN/inf as KQL's strings; timestamps in DuckDB's text.
    let got = run(
        Engine::DuckDb,
        &[events()],
        "SELECT \"Props\" -> 'b' AS b, '{ \"k\" :\n [1, 2] }'::JSON AS ml, 1.25 AS dec, \
         CAST(170141183460469231731687303715884105727 AS HUGEINT) AS huge, \
         \"Score\" AS score, \"Time\" AS t, [1, 2] AS list \
         FROM \"Ev\"\"ents\" WHERE \"Id\" IN (1, 3) ORDER BY \"Id\"",
    )
    .unwrap();
    assert_eq!(got.types[0], "JSON");
    assert_eq!(got.rows[0][0], json!({"c": true}));
    assert_eq!(got.rows[0][1], json!({"k": [1, 2]}));
    assert_eq!(got.rows[0][2], json!(1.25));
    assert_eq!(got.rows[0][3], json!(1.7014118346046923e38));
    assert_eq!(got.rows[1][4], json!("NaN"));
    assert_eq!(got.rows[0][5], json!("2024-01-02 03:04:05.123456"));
    assert_eq!(got.rows[1][5], json!("1970-01-01 00:00:00"));
    assert_eq!(got.rows[0][6], json!([1, 2]));
}

#[test]
fn duckdb_exact_values() {
    if usable(Engine::DuckDb) {
        check_exact_values(Engine::DuckDb);
    }
}

#[test]
fn postgres_round_trip() {
    if usable(Engine::Postgres) {
        check_round_trip(Engine::Postgres);
    }
}

#[test]
fn postgres_queries() {
    if !usable(Engine::Postgres) {
        return;
    }
    check_queries(Engine::Postgres);
    let got = run(
        Engine::Postgres,
        &[events()],
        "SELECT \"Props\" -> 'b' AS b, '{\"k\": [1, 2]}'::json AS j, 1.25::numeric AS dec, \
         \"Score\" AS score, \"Time\" AS t, ARRAY[1, 2] AS arr, q.q \
         FROM \"Ev\"\"ents\", (SELECT 7 AS q) AS q WHERE \"Id\" IN (1, 4) ORDER BY \"Id\"",
    )
    .unwrap();
    assert_eq!(
        got.types[..4],
        ["jsonb", "json", "numeric", "double precision"]
    );
    assert_eq!(got.rows[0][0], json!({"c": true}));
    assert_eq!(got.rows[0][1], json!({"k": [1, 2]}));
    assert_eq!(got.rows[0][2], json!(1.25));
    assert_eq!(got.rows[1][3], json!("inf"));
    assert_eq!(got.rows[0][4], json!("2024-01-02T03:04:05.123456"));
    assert_eq!(got.rows[0][5], json!([1, 2]));
    assert_eq!(got.rows[0][6], json!(7));
    // A dynamic string with NUL (\u0000) is valid JSON but jsonb refuses it: a load error.
    let table = TableData {
        name: "j".into(),
        columns: vec![("d".into(), Type::Dynamic)],
        rows: vec![vec![dynamic(json!("a\u{0}b"))]],
    };
    let err = run(Engine::Postgres, &[table], "SELECT * FROM j").unwrap_err();
    assert_eq!(err.kind, ErrorKind::Load, "{err}");
}

#[test]
fn postgres_exact_values() {
    if usable(Engine::Postgres) {
        check_exact_values(Engine::Postgres);
    }
}

#[test]
fn postgres_leaves_no_schema() {
    if !usable(Engine::Postgres) {
        return;
    }
    let _ = run(
        Engine::Postgres,
        &[events()],
        "SELECT * FROM \"Ev\"\"ents\"",
    )
    .unwrap();
    let _ = run(
        Engine::Postgres,
        &[events()],
        "SELECT nosuch FROM \"Ev\"\"ents\"",
    )
    .unwrap_err();
    let left = run(
        Engine::Postgres,
        &[],
        "SELECT count(*) AS n FROM pg_namespace WHERE nspname LIKE 'detc\\_%' \
         AND nspname <> current_schema()",
    )
    .unwrap();
    assert_eq!(left.rows, vec![vec![json!(0)]]);
}

#[test]
fn unavailable_engines_say_why() {
    // Only checks the error text shape; availability itself depends on the machine.
    for e in [Engine::DuckDb, Engine::Postgres] {
        if let Err(why) = available(e) {
            assert!(!why.is_empty());
        }
    }
    assert!(available(Engine::Sqlite).is_ok());
}
