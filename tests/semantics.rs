//! One assertion per documented behaviour (and per choice recorded in docs/semantics.md):
//! a `print` query evaluated natively and the value it must give, as JSON.

use detc::catalog::Catalog;
use detc::eval::{self, compile::Ctx, Data};
use detc::lower::{lower, Tables};
use serde_json::{json, Value as J};

/// The lowered plan of a query that must parse and lower, with its diagnostics.
fn lowered(q: &str) -> (detc::ir::Node, Vec<detc::diagnostics::Diagnostic>) {
    let lowered = lower_query(q);
    let plan = lowered
        .plan
        .unwrap_or_else(|| panic!("{q}: {:?}", lowered.diagnostics));
    (plan, lowered.diagnostics)
}

/// A query that must parse, lowered against the built-in catalog (plan or errors).
fn lower_query(q: &str) -> detc::lower::Lowered {
    let (ast, d) = detc::syntax::parse(q);
    assert!(d.is_empty(), "{q}: {d:?}");
    let catalog = Catalog::builtin();
    lower(
        &ast,
        &Tables {
            catalog: &catalog,
            present: None,
        },
    )
}

fn eval1(expr: &str) -> J {
    let (plan, _) = lowered(&format!("print r = {expr}"));
    let now = detc::value::parse_datetime("2024-03-03T12:00:00Z").unwrap();
    let rows = eval::run(&plan, &Data::default(), &Ctx { now }).unwrap();
    rows[0][0].to_json()
}

fn query_rows(q: &str) -> Vec<Vec<J>> {
    let (plan, _) = lowered(q);
    let rows = eval::run(&plan, &Data::default(), &Ctx { now: 0 }).unwrap();
    rows.iter()
        .map(|r| r.iter().map(|v| v.to_json()).collect())
        .collect()
}

#[test]
fn string_operators() {
    let cases: &[(&str, J)] = &[
        (r#""North America" has "america""#, json!(true)),
        (r#""North America" has "amer""#, json!(false)),
        (r#""North America" has_cs "america""#, json!(false)),
        (r#""KustoExplorerQueryRun" has "Explorer""#, json!(false)),
        (
            r#""KustoExplorerQueryRun" contains "explorer""#,
            json!(true),
        ),
        (
            r#""KustoExplorerQueryRun" contains_cs "explorer""#,
            json!(false),
        ),
        (
            r#""use second factor now" has "Second Factor""#,
            json!(true),
        ),
        (r#""multifactor" has "multi-factor""#, json!(false)),
        (r#""hello_world" has "world""#, json!(true)),
        (r#""North America" hasprefix "ame""#, json!(true)),
        (r#""North America" hassuffix "ica""#, json!(true)),
        (r#""abc" startswith "AB""#, json!(true)),
        (r#""abc" startswith_cs "AB""#, json!(false)),
        (r#""abc" endswith "BC""#, json!(true)),
        (r#""abc" == "ABC""#, json!(false)),
        (r#""abc" =~ "ABC""#, json!(true)),
        (r#""abc" !~ "ABC""#, json!(false)),
        (r#""abc" in ("ABC", "x")"#, json!(false)),
        (r#""abc" in~ ("ABC", "x")"#, json!(true)),
        (r#""abc" !in ("x")"#, json!(true)),
        (r#""50074" in (50074, 1)"#, json!(true)),
        (r#""050074" in (50074)"#, json!(false)),
        (r#""a b" has_any ("x", "b")"#, json!(true)),
        (r#""a b" has_all ("a", "x")"#, json!(false)),
        (r#""abc" matches regex "^a.c$""#, json!(true)),
        (r#""ABC" matches regex "^a""#, json!(false)),
        (
            r#"dynamic(["Global Administrator"]) contains "Admin""#,
            json!(true),
        ),
        (
            r#"dynamic(["Global Administrator"]) has "Admin""#,
            json!(false),
        ),
        (
            r#"dynamic(["Global Administrator"]) startswith "Global""#,
            json!(false),
        ),
        (r#""x" in (dynamic(["a", ["x"]]))"#, json!(true)),
    ];
    for (e, want) in cases {
        assert_eq!(&eval1(e), want, "{e}");
    }
}

#[test]
fn nulls_and_empty_strings() {
    let cases: &[(&str, J)] = &[
        ("isempty(\"\")", json!(true)),
        ("isnull(\"\")", json!(false)),
        ("isempty(long(null))", json!(true)),
        ("isnotempty(dynamic([]))", json!(true)),
        ("long(null) == long(null)", J::Null),
        ("long(null) == 1", json!(false)),
        ("long(null) != 1", json!(true)),
        ("long(null) > 1", J::Null),
        ("long(null) !in (1, 2)", json!(true)),
        ("long(null) in (1, 2)", json!(false)),
        ("not(long(null) == 5)", json!(true)),
        ("tostring(long(null))", json!("")),
        ("coalesce(\"\", \"b\")", json!("b")),
        ("coalesce(long(null), 2)", json!(2)),
        ("iff(bool(null), 1, 2)", json!(2)),
        ("strlen(\"\")", json!(0)),
        ("parse_json(\"\")", J::Null),
        ("isempty(parse_json(\"\"))", json!(true)),
    ];
    for (e, want) in cases {
        assert_eq!(&eval1(e), want, "{e}");
    }
}

#[test]
fn conversions_and_types() {
    let cases: &[(&str, J)] = &[
        ("tostring(dynamic(\"x\"))", json!("x")),
        ("tostring(dynamic([1, \"a\"]))", json!("[1,\"a\"]")),
        ("tolong(\"42\")", json!(42)),
        ("tolong(\"4x\")", J::Null),
        ("toint(3.9)", json!(3)),
        ("toreal(\"1.5\")", json!(1.5)),
        ("tobool(\"True\")", json!(true)),
        (
            "todatetime(\"2024-03-01\")",
            json!("2024-03-01T00:00:00.0000000Z"),
        ),
        ("todatetime(\"not a date\")", J::Null),
        ("totimespan(\"1.02:03:04\")", json!("1.02:03:04")),
        ("parse_json('{\"a\": [1, 2]}').a[1]", json!(2)),
        ("parse_json('[1, 2, 3]')[-1]", json!(3)),
        ("parse_json('{\"a\": 1}').b", J::Null),
        ("array_length(dynamic([1, 2]))", json!(2)),
        ("array_length(dynamic({}))", J::Null),
    ];
    for (e, want) in cases {
        assert_eq!(&eval1(e), want, "{e}");
    }
}

#[test]
fn datetimes() {
    let cases: &[(&str, J)] = &[
        (
            "datetime(2024-03-01 10:00) between (datetime(2024-03-01) .. 10h)",
            json!(true),
        ),
        (
            "datetime(2024-03-01 10:00:01) between (datetime(2024-03-01) .. 10h)",
            json!(false),
        ),
        (
            "datetime(2024-03-01) between (datetime(2024-03-01) .. datetime(2024-03-02))",
            json!(true),
        ),
        ("ago(1d)", json!("2024-03-02T12:00:00.0000000Z")),
        ("now() - datetime(2024-03-03)", json!("12:00:00")),
        (
            "bin(datetime(1970-05-11 13:45:07), 1d)",
            json!("1970-05-11T00:00:00.0000000Z"),
        ),
        ("bin(7, 5)", json!(5)),
        (
            "startofday(datetime(2024-03-01 13:00))",
            json!("2024-03-01T00:00:00.0000000Z"),
        ),
        (
            "datetime_diff('year', datetime(2017-01-01), datetime(2000-12-31))",
            json!(17),
        ),
        (
            "datetime_diff('day', datetime(2024-03-02 00:00), datetime(2024-03-01 23:59))",
            json!(1),
        ),
        ("hourofday(datetime(2024-03-01 13:30))", json!(13)),
        ("dayofweek(datetime(2024-03-03))", json!("00:00:00")),
        (
            "format_datetime(datetime(2024-03-01 07:08:09), 'yyyy-MM-dd HH:mm')",
            json!("2024-03-01 07:08"),
        ),
    ];
    for (e, want) in cases {
        assert_eq!(&eval1(e), want, "{e}");
    }
}

#[test]
fn strings_and_regex() {
    let cases: &[(&str, J)] = &[
        ("extract(\"([0-9]+)\", 1, \"ab 123 cd\")", json!("123")),
        ("extract(\"([0-9]+)\", 1, \"none\")", json!("")),
        (
            "extract_all(\"([a-z])([0-9])\", \"a1 b2\")",
            json!([["a", "1"], ["b", "2"]]),
        ),
        ("replace_regex(\"a1b22\", \"[0-9]+\", \"#\")", json!("a#b#")),
        ("replace_string(\"aaa\", \"a\", \"b\")", json!("bbb")),
        ("split(\"a,b,,c\", \",\")", json!(["a", "b", "", "c"])),
        ("split(\"a,b,c\", \",\", 1)", json!(["b"])),
        ("substring(\"abcdef\", 2, 3)", json!("cde")),
        ("strcat(\"a\", 1, \"b\")", json!("a1b")),
        ("tolower(\"ÄBC\")", json!("äbc")),
        ("trim(\"-\", \"--a--\")", json!("a")),
        ("indexof(\"abcd\", \"cd\")", json!(2)),
        ("countof(\"aaa\", \"aa\")", json!(2)),
        ("indexof(\"abcabc\", \"c\", 3)", json!(5)),
        ("double(\"2.5\")", json!(2.5)),
        (
            "extract(\"n=([0-9]+)\", 1, \"n=42\", typeof(long)) + 1",
            json!(43),
        ),
        (
            "dynamic_to_json(dynamic({\"b\": 1, \"a\": [2]}))",
            json!("{\"a\":[2],\"b\":1}"),
        ),
        ("case(1 > 2, \"a\", 2 > 1, \"b\", \"c\")", json!("b")),
        ("ipv4_is_private(\"172.16.0.1\")", json!(true)),
        ("ipv4_is_private(\"172.32.0.1\")", json!(false)),
        (
            "parse_url(\"https://h.com:8080/p?q=1\").Port",
            json!("8080"),
        ),
        ("base64_decode_tostring(\"aGk=\")", json!("hi")),
        ("set_has_element(dynamic([1, 2]), 2)", json!(true)),
        (
            "array_concat(dynamic([1]), dynamic([2, 3]))",
            json!([1, 2, 3]),
        ),
        (
            "bag_pack(\"a\", 1, \"b\", \"x\")",
            json!({"a": 1, "b": "x"}),
        ),
    ];
    for (e, want) in cases {
        assert_eq!(&eval1(e), want, "{e}");
    }
}

#[test]
fn tabular_operators() {
    // mv-expand: one row per element, none for an empty array, one null row for null.
    let rows = query_rows("datatable(a:long, d:dynamic) [1, dynamic([1, 2]), 2, dynamic([]), 3, dynamic(null)] | mv-expand d");
    assert_eq!(
        rows,
        vec![
            vec![json!(1), json!(1)],
            vec![json!(1), json!(2)],
            vec![json!(3), J::Null]
        ]
    );
    // summarize without `by` on empty input gives one row of defaults.
    let rows = query_rows("datatable(a:long) [] | summarize count(), sum(a), make_set(a), max(a)");
    assert_eq!(rows, vec![vec![json!(0), json!(0), json!([]), J::Null]]);
    // innerunique keeps one left row per key; inner keeps all.
    let l = "datatable(k:string, v:long) [\"a\", 1, \"a\", 2]";
    let r = "datatable(k:string, w:long) [\"a\", 10]";
    assert_eq!(query_rows(&format!("{l} | join ({r}) on k")).len(), 1);
    assert_eq!(
        query_rows(&format!("{l} | join kind=inner ({r}) on k")).len(),
        2
    );
    // Clashing right-side names get a numeric suffix; both keys are kept.
    let rows = query_rows(&format!(
        "{l} | join kind=inner ({r}) on k | project k, k1, w"
    ));
    assert_eq!(rows[0], vec![json!("a"), json!("a"), json!(10)]);
    // leftouter fills unmatched string columns with "" and others with null.
    let rows = query_rows(&format!("{l} | join kind=leftouter (datatable(k:string, s:string, n:long) [\"z\", \"q\", 1]) on k | project s, n"));
    assert_eq!(
        rows,
        vec![vec![json!(""), J::Null], vec![json!(""), J::Null]]
    );
    // leftanti / leftsemi
    assert_eq!(
        query_rows(&format!("{l} | join kind=leftanti ({r}) on k")).len(),
        0
    );
    assert_eq!(
        query_rows(&format!("{l} | join kind=leftsemi ({r}) on k")).len(),
        2
    );
    // sort defaults to descending; top
    let rows = query_rows("datatable(a:long) [2, 3, 1] | sort by a");
    assert_eq!(rows, vec![vec![json!(3)], vec![json!(2)], vec![json!(1)]]);
    let rows = query_rows("datatable(a:long) [2, 3, 1] | top 1 by a asc");
    assert_eq!(rows, vec![vec![json!(1)]]);
    // union kind=outer: a name with two types becomes two columns.
    let rows = query_rows(
        "union (datatable(x:long) [1]), (datatable(x:string) [\"a\"]) | project x_long, x_string",
    );
    assert_eq!(rows.len(), 2);
    // Scalar let-functions are inlined with their arguments.
    let rows = query_rows("let norm = (s:string, suffix:string = \"!\") { let t = tolower(s); strcat(t, suffix) }; datatable(a:string) [\"AB\"] | extend b = norm(a), c = norm(a, \"?\")");
    assert_eq!(rows, vec![vec![json!("AB"), json!("ab!"), json!("ab?")]]);
    // invoke applies a function with a tabular first parameter to the input.
    let rows = query_rows("let top1 = (T:(a:long), n:long) { T | where a > n }; datatable(a:long) [1, 5] | invoke top1(2)");
    assert_eq!(rows, vec![vec![json!(5)]]);
    // Several mv-expand columns are zipped, the shorter padded with null; index and limit.
    let rows = query_rows("print a = dynamic([1, 2, 3]), b = dynamic([\"x\"]) | mv-expand with_itemindex=i a, b limit 2");
    assert_eq!(
        rows,
        vec![
            vec![json!(1), json!("x"), json!(0)],
            vec![json!(2), J::Null, json!(1)]
        ]
    );
    let rows = query_rows("print d = dynamic({\"k\": 1}) | mv-expand bagexpansion=array d");
    assert_eq!(rows, vec![vec![json!(["k", 1])]]);
    // `by bin(T, 1h)` keeps T's name.
    let rows = query_rows("datatable(T:datetime) [datetime(2024-01-01 10:30)] | summarize count() by bin(T, 1h) | project T");
    assert_eq!(rows, vec![vec![json!("2024-01-01T10:00:00.0000000Z")]]);
    // take_anyif picks among the rows where the predicate holds.
    let rows = query_rows("datatable(g:string, v:long) [\"a\", 1, \"a\", 7, \"a\", 9] | summarize take_anyif(v, v > 5) by g");
    assert_eq!(rows, vec![vec![json!("a"), json!(7)]]);
    // withsource labels legs; kind=inner keeps the common columns.
    let rows = query_rows("let A = datatable(x:long, y:long) [1, 2]; let B = datatable(x:long) [3]; union withsource=T kind=inner A, B | sort by x asc");
    assert_eq!(
        rows,
        vec![vec![json!("A"), json!(1)], vec![json!("B"), json!(3)]]
    );
    // parse
    let rows = query_rows("datatable(s:string) [\"user=bob id=7\", \"junk\"] | parse s with \"user=\" U \" id=\" Id:long | project U, Id");
    assert_eq!(
        rows,
        vec![vec![json!("bob"), json!(7)], vec![json!(""), J::Null]]
    );
    // arg_max(*) keeps the other columns
    let rows = query_rows("datatable(g:string, t:long, v:string) [\"a\", 1, \"x\", \"a\", 5, \"y\"] | summarize arg_max(t, *) by g");
    assert_eq!(rows, vec![vec![json!("a"), json!(5), json!("y")]]);
    // extend of an existing column replaces it in place
    let rows = query_rows("datatable(a:long, b:long) [1, 2] | extend a = a * 10");
    assert_eq!(rows, vec![vec![json!(10), json!(2)]]);
}

/// Every query above survives the KQL round trip: printing the plan and lowering the text
/// again gives the same plan.
#[test]
fn kql_round_trip_of_operator_plans() {
    let catalog = Catalog::builtin();
    for q in [
        "print r = 1 + 2, s = \"a\", d = iff(true, dynamic([1]), \"x\"), e = case(false, dynamic(1), 2.5)",
        "datatable(a:long, d:dynamic) [1, dynamic([1, 2])] | mv-expand d",
        "print a = dynamic([1]), b = dynamic({\"k\": 2}) | mv-expand bagexpansion=array with_itemindex=ix a to typeof(long), b limit 5",
        "datatable(k:string, v:long) [\"a\", 1] | join kind=leftouter (datatable(k:string, w:long) [\"a\", 2]) on k",
        "datatable(g:string, t:long, v:string) [\"a\", 1, \"x\"] | summarize arg_max(t, *), n = count(), s = make_set(v, 5) by g",
        "datatable(g:string, t:long) [\"a\", 1] | summarize x = max(t) - min(t) by g | sort by x asc nulls last | take 3",
        "datatable(s:string) [\"user=bob\"] | parse s with \"user=\" U | project-away s | project-rename V = U",
        "datatable(s:string) [\"a\"] | where s in~ ((datatable(t:string) [\"A\"] | project t)) | extend n = toscalar(datatable(x:long) [5] | project x)",
        "datatable(s:string, n:long) [\"a\", 1] | sort by s asc | extend p = prev(s, 2, \"-\"), c = row_cumsum(n, s != prev(s)) | where next(n) > n",
        "datatable(t:datetime) [datetime(2024-01-01)] | serialize r = row_number(), w = row_window_session(t, 1h, 5m) | project x = row_rank_min(r), y = row_rank_dense(w, r > 1)",
    ] {
        let (ast, d) = detc::syntax::parse(q);
        assert!(d.is_empty(), "{q}: {d:?}");
        let plan = lower(&ast, &Tables { catalog: &catalog, present: None }).plan.unwrap();
        let text = detc::emit::kql::plan_text(&plan);
        let (ast2, d2) = detc::syntax::parse(&text);
        assert!(d2.is_empty(), "{text}: {d2:?}");
        let again = lower(&ast2, &Tables { catalog: &catalog, present: None });
        assert_eq!(again.plan.as_ref(), Some(&plan), "{q}\n--- printed ---\n{text}\n{:?}", again.diagnostics);
    }
}

const SERIES_ROWS: &str = r#"datatable(T:datetime, U:string, N:long) [
    datetime(2024-01-01 01:10), "a", 5,
    datetime(2024-01-01 01:20), "a", 7,
    datetime(2024-01-01 03:59), "a", 1,
    datetime(2024-01-01 02:00), "b", 2,
    datetime(2023-12-31 23:00), "b", 9,
    datetime(2024-01-01 04:00), "b", 9,
    datetime(null), "b", 9]"#;

#[test]
fn make_series_bins_from_start_and_excludes_end() {
    // from/to: bins start at `from`; rows outside [from, to) and null axes are skipped;
    // empty bins take the default; by columns first, then the series, then the axis.
    let rows = query_rows(&format!(
        "{SERIES_ROWS} | make-series c = count(), s = sum(N) default = -1 on T \
         from datetime(2024-01-01) to datetime(2024-01-01 04:00) step 1h by U"
    ));
    let hours = json!([
        "2024-01-01T00:00:00.0000000Z",
        "2024-01-01T01:00:00.0000000Z",
        "2024-01-01T02:00:00.0000000Z",
        "2024-01-01T03:00:00.0000000Z"
    ]);
    assert_eq!(
        rows,
        vec![
            vec![
                json!("a"),
                json!([0, 2, 0, 1]),
                json!([-1, 12, -1, 1]),
                hours.clone()
            ],
            vec![
                json!("b"),
                json!([0, 0, 1, 0]),
                json!([-1, -1, 2, -1]),
                hours
            ],
        ]
    );
}

#[test]
fn make_series_without_bounds_spans_the_data_and_range_includes_stop() {
    // No from/to: every series spans the bins of the whole input (bin() aligned).
    let rows = query_rows(&format!("{SERIES_ROWS} | make-series count() on T step 1d"));
    assert_eq!(
        rows,
        vec![vec![
            json!([1, 5]),
            json!([
                "2023-12-31T00:00:00.0000000Z",
                "2024-01-01T00:00:00.0000000Z"
            ])
        ]]
    );
    // `in range(a, b, step)`: bins by bin(), b's bin included.
    let rows = query_rows(&format!(
        "{SERIES_ROWS} | make-series c = dcount(U) on T in range(datetime(2024-01-01 00:30), datetime(2024-01-01 02:10), 1h)"
    ));
    assert_eq!(rows[0][0], json!([0, 1, 1]));
    // Empty input: no rows, unless kind=nonempty (and no by).
    let empty = format!("{SERIES_ROWS} | where N > 100");
    assert!(query_rows(&format!("{empty} | make-series count() on T from datetime(2024-01-01) to datetime(2024-01-02) step 12h")).is_empty());
    assert_eq!(
        query_rows(&format!("{empty} | make-series kind=nonempty count() on T from datetime(2024-01-01) to datetime(2024-01-02) step 12h"))[0][0],
        json!([0, 0])
    );
}

#[test]
fn several_valued_series_functions() {
    let rows = query_rows(
        "print y = dynamic([2, 5, 6, 8, 11, 15, 17, 18, 25, 26, 30, 30]) \
         | extend (RSquare, Slope) = series_fit_line(y) | extend series_decompose(y) \
         | project Slope, series_decompose_y_seasonal",
    );
    let slope = rows[0][0].as_f64().unwrap();
    assert!((slope - 2.7307).abs() < 1e-3, "{slope}");
    assert_eq!(rows[0][1], J::Array(vec![json!(0.0); 12]));
}

#[test]
fn stdev_and_variance_are_sample_statistics() {
    let rows = query_rows(
        "datatable(g:string, x:long) [\"a\", 2, \"a\", 4, \"a\", 4, \"a\", 4, \"a\", 5, \"a\", 5, \"a\", 7, \"a\", 9, \"b\", 3]
         | summarize stdev(x), v = variance(x) by g",
    );
    // Sample variance of 2,4,4,4,5,5,7,9 is 32/7; one value gives 0.
    assert_eq!(rows[0][0], json!("a"));
    assert!((rows[0][1].as_f64().unwrap() - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
    assert!((rows[0][2].as_f64().unwrap() - 32.0 / 7.0).abs() < 1e-12);
    assert_eq!(rows[1][1..], [json!(0.0), json!(0.0)]);
}

#[test]
fn mv_apply_runs_the_body_per_row() {
    let rows = query_rows(
        r#"datatable(Id:string, Data:dynamic) [
            "1", dynamic([{"n":"a","v":1},{"n":"b","v":2}]),
            "2", dynamic([{"n":"c","v":3}]),
            "3", dynamic([])]
        | mv-apply d = Data on (where d.n != "c" | summarize s = sum(tolong(d.v)), k = count())"#,
    );
    // A computed item is not a source column, so every source column is kept. summarize
    // without `by` gives one row even for an empty subtable (rows 2 and 3).
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0][2..], [json!(3), json!(2)]);
    assert_eq!(rows[1][2..], [json!(0), json!(0)]);
    let rows = query_rows(
        r#"datatable(Id:string, Data:dynamic) ["1", dynamic([3, 1, 2]), "2", dynamic([])]
        | mv-apply with_itemindex=i Data to typeof(long) on (top 2 by Data)"#,
    );
    // The expanded source column is not repeated; rows whose body gives no rows vanish.
    assert_eq!(
        rows,
        vec![
            vec![json!("1"), json!(3), json!(0)],
            vec![json!("1"), json!(2), json!(2)]
        ]
    );
}

#[test]
fn bag_unpack_resolves_the_keys_the_query_reads() {
    let rows = query_rows(
        r#"datatable(Id:string, EventData:dynamic) [
            "1", dynamic({"User":"bob","Target":"alice"}),
            "2", dynamic({"User":"eve"})]
        | evaluate bag_unpack(EventData, "e_")
        | project Id, U = tostring(e_User), T = column_ifexists("e_Target", "none")"#,
    );
    assert_eq!(
        rows,
        vec![
            vec![json!("1"), json!("bob"), json!("alice")],
            vec![json!("2"), json!("eve"), json!("none")]
        ]
    );
}

#[test]
fn an_undeclared_watchlist_reads_its_columns_from_watchlist_item() {
    let q = "_GetWatchlist('Cfg') | where wl_Rule == 'R1' | project T = todouble(wl_Threshold)";
    let (plan, diagnostics) = lowered(q);
    assert!(diagnostics.iter().any(|d| d.code == "DR101"));
    let mut data = Data::default();
    let item = |rule: &str, t: &str| {
        detc::value::Value::Dynamic(std::sync::Arc::new(
            json!({"wl_Rule": rule, "wl_Threshold": t}),
        ))
    };
    use detc::value::Value as V;
    data.tables.insert(
        "_GetWatchlist_Cfg".into(),
        std::sync::Arc::new(vec![
            vec![V::str("1"), V::Null, V::str("R1"), item("R1", "2.5")],
            vec![V::str("2"), V::Null, V::str("R2"), item("R2", "9")],
        ]),
    );
    let rows = eval::run(&plan, &data, &Ctx { now: 0 }).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0].to_json(), json!(2.5));
}

#[test]
fn pivot_turns_values_into_columns_the_query_reads() {
    let rows = query_rows(
        r#"datatable(Id:long, Key:string, Value:string) [
            1, "Image", "a.exe", 1, "User", "bob", 2, "Image", "b.exe", 2, "Image", "c.exe"]
        | evaluate pivot(Key, min(Value), Id)
        | project Id, Image = tostring(Image), User = column_ifexists("User", "none")"#,
    );
    assert_eq!(
        rows,
        vec![
            vec![json!(1), json!("a.exe"), json!("bob")],
            vec![json!(2), json!("b.exe"), json!("none")]
        ]
    );
    // The default aggregate is count().
    let rows = query_rows(
        r#"datatable(K:string) ["x", "x", "y"] | evaluate pivot(K) | project x = tolong(x), y = tolong(y)"#,
    );
    assert_eq!(rows, vec![vec![json!(2), json!(1)]]);
}

#[test]
fn hash_is_xxhash64_as_documented() {
    assert_eq!(eval1(r#"hash("World")"#), json!(1846988464401551951i64));
    assert_eq!(eval1(r#"hash_xxhash64("World", 100)"#), json!(51));
    assert_eq!(
        eval1(r#"hash(datetime(2015-01-01))"#),
        json!(1380966698541616202i64)
    );
}

#[test]
fn base64_decode_toarray_gives_bytes() {
    assert_eq!(
        eval1(r#"base64_decode_toarray("S3VzdG8=")"#),
        json!([75, 117, 115, 116, 111])
    );
}

#[test]
fn parse_simple_fails_the_row_on_a_bad_typed_column_relaxed_does_not() {
    let rows = query_rows(
        r#"datatable(s:string) ["a=1;b=x", "a=z;b=y"]
        | parse s with "a=" A:long ";b=" B
        | parse kind=relaxed s with "a=" A2:long ";b=" B2
        | project A, B, A2, B2"#,
    );
    assert_eq!(
        rows,
        vec![
            vec![json!(1), json!("x"), json!(1), json!("x")],
            vec![J::Null, json!(""), J::Null, json!("y")]
        ]
    );
}

#[test]
fn codepoints_to_string_and_deprecated_argmax_names() {
    assert_eq!(
        eval1("unicode_codepoints_to_string(75, 117, 115, 116, 111)"),
        json!("Kusto")
    );
    assert_eq!(eval1("make_string(dynamic([75, 117]), 115)"), json!("Kus"));
    // The deprecated argmax names its columns max_<key> and max_<key>_<column>.
    let rows = query_rows(
        r#"datatable(k:long, a:string, g:string) [1, "x", "g", 2, "y", "g"]
        | summarize argmax(k, a) by g
        | project max_k, max_k_a"#,
    );
    assert_eq!(rows, vec![vec![json!(2), json!("y")]]);
}

/// AzureDiagnostics and `_CL` tables get a column per custom field: a name the query spells
/// with a Log Analytics type suffix is typed by it, with a DR101 warning; other tables and
/// names without a suffix are not widened.
#[test]
fn open_schema_columns_are_typed_by_suffix() {
    use detc::types::Type;
    let (plan, diags) = lowered(
        "AzureDiagnostics | where server_principal_name_s != \"\" and affected_rows_d > 1 | project server_principal_name_s, affected_rows_d, ok = succeeded_b",
    );
    let types: Vec<(String, Type)> = plan.schema.iter().map(|c| (c.name.clone(), c.ty)).collect();
    assert_eq!(
        types,
        [
            ("server_principal_name_s".to_string(), Type::String),
            ("affected_rows_d".to_string(), Type::Real),
            ("ok".to_string(), Type::Bool),
        ]
    );
    let warned: Vec<&str> = diags
        .iter()
        .filter(|d| d.code == "DR101")
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(warned.len(), 3, "{warned:?}");
    assert!(warned[0].contains("typed"), "{warned:?}");

    // Not an open-schema table, or no type suffix: still unknown.
    for q in [
        "SigninLogs | project server_principal_name_s",
        "AzureDiagnostics | project server_principal_name",
    ] {
        let (ast, _) = detc::syntax::parse(q);
        let catalog = Catalog::builtin();
        let l = lower(
            &ast,
            &Tables {
                catalog: &catalog,
                present: None,
            },
        );
        assert!(l.plan.is_none(), "{q}");
        assert!(l.diagnostics.iter().any(|d| d.code == "DR002"), "{q}");
    }
}

/// `column_ifexists(name, default)` with the name in a `let`: resolved like a literal.
#[test]
fn column_ifexists_through_a_let() {
    let rows = query_rows(
        "let c = \"a\"; let m = \"missing\"; print a = 5 | extend x = column_ifexists(c, 0), y = column_ifexists(m, -1)",
    );
    assert_eq!(rows, vec![vec![json!(5), json!(5), json!(-1)]]);
}

/// `max_of`/`min_of`: nulls are ignored (null only when all are), integers beside reals
/// compare as reals, and arguments of different kinds are a type error.
#[test]
fn max_of_and_min_of() {
    assert_eq!(eval1("max_of(1, 5, 3)"), json!(5));
    assert_eq!(eval1("min_of(2, 1.5)"), json!(1.5));
    assert_eq!(eval1("max_of(long(null), 4)"), json!(4));
    assert_eq!(eval1("max_of(long(null), long(null))"), json!(null));
    assert_eq!(eval1("min_of(\"b\", \"a\", \"c\")"), json!("a"));
    let l = lower_query("print r = max_of(1, \"a\")");
    assert!(l.plan.is_none());
    assert!(
        l.diagnostics.iter().any(|d| d.code == "DR006"),
        "{:?}",
        l.diagnostics
    );
}

/// `has_any`/`has_all` with a constant array (a `dynamic` literal or a constant `toscalar`):
/// its elements are the terms.
#[test]
fn has_any_with_a_constant_array() {
    assert_eq!(
        eval1("\"code 50074 MFA\" has_any (dynamic([\"mfa\", \"x\"]))"),
        json!(true)
    );
    assert_eq!(
        eval1("\"code 50074 MFA\" has_all (dynamic([\"mfa\", \"x\"]))"),
        json!(false)
    );
    assert_eq!(
        eval1("\"code MFA\" has_all (dynamic([\"mfa\", \"code\"]))"),
        json!(true)
    );
    let rows = query_rows(
        "let t = toscalar(datatable(w:string) [\"MFA\", \"pw\"] | summarize make_set(w)); print a = \"need MFA now\" has_any (t), b = \"none\" has_any (t)",
    );
    assert_eq!(rows, vec![vec![json!(true), json!(false)]]);
}

/// The examples of the docs' pages for row_cumsum, row_number, row_rank_dense,
/// row_window_session, prev and next.
#[test]
fn row_functions_follow_the_docs_examples() {
    let rows = query_rows(
        "datatable (a:long) [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
         | where a % 2 == 0 | serialize cs = row_cumsum(a) | project cs",
    );
    assert_eq!(
        rows,
        vec![
            [json!(2)],
            [json!(6)],
            [json!(12)],
            [json!(20)],
            [json!(30)]
        ]
    );
    let rows = query_rows(
        r#"datatable (name:string, month:int, salary:long)
           ["Alice", 1, 1000, "Bob", 1, 1000, "Alice", 2, 2000, "Bob", 2, 1950, "Alice", 3, 1400, "Bob", 3, 1450]
         | order by name asc, month asc
         | extend total = row_cumsum(salary, name != prev(name)) | project total"#,
    );
    let totals: Vec<J> = rows.into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(
        totals,
        [1000, 3000, 4400, 1000, 2950, 4400].map(|n| json!(n))
    );
    let rows = query_rows(
        r#"datatable (Airport:string, Airline:string, Departures:long)
           ["TLV", "LH", 1, "TLV", "LY", 100, "SEA", "LH", 1, "SEA", "BA", 2, "SEA", "LY", 0]
         | sort by Airport asc, Departures desc
         | extend Rank = row_number(1, prev(Airport) != Airport), Seven = row_number(7)
         | project Airport, Departures, Rank, Seven"#,
    );
    let want = [
        ("SEA", 2, 1, 7),
        ("SEA", 1, 2, 8),
        ("SEA", 0, 3, 9),
        ("TLV", 100, 1, 10),
        ("TLV", 1, 2, 11),
    ];
    let want: Vec<Vec<J>> = want
        .iter()
        .map(|(a, d, r, s)| vec![json!(a), json!(d), json!(r), json!(s)])
        .collect();
    assert_eq!(rows, want);
    let rows = query_rows(
        r#"datatable (Airport:string, Airline:string, Departures:long)
           ["SEA", "LH", 3, "SEA", "LY", 100, "SEA", "UA", 3, "SEA", "BA", 2, "SEA", "EL", 3, "AMS", "EL", 1, "AMS", "BA", 1]
         | sort by Airport desc, Departures asc
         | extend Rank = row_rank_dense(Departures, prev(Airport) != Airport), Min = row_rank_min(Departures)
         | project Departures, Rank, Min"#,
    );
    let got: Vec<(J, J, J)> = rows
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
        .collect();
    let want = [
        (2, 1, 1),
        (3, 2, 2),
        (3, 2, 2),
        (3, 2, 2),
        (100, 3, 5),
        (1, 1, 6),
        (1, 1, 6),
    ];
    let want: Vec<(J, J, J)> = want
        .iter()
        .map(|(d, r, m)| (json!(d), json!(r), json!(m)))
        .collect();
    assert_eq!(got, want);
    let rows = query_rows(
        r#"datatable (ID:string, Timestamp:datetime) [
             "1", datetime(2024-04-11 10:00:00), "2", datetime(2024-04-11 10:18:00),
             "1", datetime(2024-04-11 11:00:00), "3", datetime(2024-04-11 11:30:00),
             "2", datetime(2024-04-11 13:30:00), "2", datetime(2024-04-11 10:16:00)]
         | sort by ID asc, Timestamp asc
         | extend SessionStarted = row_window_session(Timestamp, 1h, 5m, ID != prev(ID))
         | project ID, SessionStarted"#,
    );
    let t = |s: &str| json!(format!("2024-04-11T{s}:00.0000000Z"));
    let want = vec![
        vec![json!("1"), t("10:00")],
        vec![json!("1"), t("11:00")],
        vec![json!("2"), t("10:16")],
        vec![json!("2"), t("10:16")],
        vec![json!("2"), t("13:30")],
        vec![json!("3"), t("11:30")],
    ];
    assert_eq!(rows, want);
    // prev/next: offsets, defaults, and a string's missing value "" past the edges.
    let rows = query_rows(
        r#"datatable (n:long, s:string) [1, "a", 2, "b", 3, "c"]
         | serialize | extend p = prev(n), p2 = prev(n, 2, -1), nx = next(s), w = next(s, 1, "end")
         | where prev(n) != 2 | project n, p, p2, nx, w"#,
    );
    assert_eq!(
        rows,
        vec![
            vec![json!(1), json!(null), json!(-1), json!("b"), json!("b")],
            vec![json!(2), json!(1), json!(-1), json!("c"), json!("c")],
        ]
    );
}

#[test]
fn row_functions_need_serialized_rows() {
    let code = |q: &str| lower_query(q).diagnostics.first().map(|d| d.code);
    assert_eq!(
        code("datatable (a:long) [1, 2] | summarize by a | extend n = row_number()"),
        Some("DR007")
    );
    assert_eq!(
        code("datatable (a:long) [1, 2] | serialize | summarize n = max(prev(a))"),
        Some("DR100")
    );
    let (_, diags) =
        lowered("datatable (a:long) [1, 2] | sort by a | project a, n = row_number() + 1");
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn percentiles_are_nearest_rank() {
    let rows = query_rows(
        "datatable (x:long, g:string) [1, 'a', 2, 'a', 3, 'a', 4, 'a', 5, 'a', 6, 'a', 7, 'a', 8, 'a', 9, 'a', 10, 'a', long(null), 'a', 7, 'b']
         | summarize percentile(x, 95), percentiles(x, 0, 50, 99.5), p10 = percentile(x, 10), n = count_distinct(x) by g
         | project-away g",
    );
    assert_eq!(
        rows,
        vec![
            vec![
                json!(10),
                json!(1),
                json!(5),
                json!(10),
                json!(1),
                json!(10)
            ],
            vec![json!(7), json!(7), json!(7), json!(7), json!(7), json!(1)],
        ]
    );
    let (plan, _) =
        lowered("datatable (x:long) [1] | summarize percentiles(x, 50, 99.5), count_distinct(x)");
    let names: Vec<&str> = plan.schema.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["percentile_x_50", "percentile_x_99_5", "count_distinct_x"]
    );
    let rows = query_rows("print a = toscalar(1 + 2), b = now(1d) - now()");
    assert_eq!(rows, vec![vec![json!(3), json!("1.00:00:00")]]);
}

#[test]
fn ipv4_ranges() {
    let rows = query_rows(
        r#"print a = ipv4_is_in_range("10.1.2.3", "10.0.0.0/8"), b = ipv4_is_in_range("11.1.2.3", "10.0.0.0/8"),
                 c = ipv4_is_in_any_range("192.168.1.7", "10.0.0.0/8", "192.168.0.0/16"),
                 d = ipv4_is_in_any_range("172.16.0.1", dynamic(["10.0.0.0/8", "192.168.0.0/16"])),
                 e = ipv4_is_in_range("not an ip", "10.0.0.0/8"), f = ipv4_is_in_range("10.0.0.1", "10.0.0.1")"#,
    );
    assert_eq!(
        rows,
        vec![vec![
            json!(true),
            json!(false),
            json!(true),
            json!(false),
            json!(null),
            json!(true)
        ]]
    );
}

#[test]
fn range_function() {
    let rows = query_rows(
        "print a = range(1, 5, 2), b = range(5, 1, -2), c = range(1, 3), d = range(1, 2, 0.5), e = range(datetime(2024-01-01), datetime(2024-01-01 02:00)), f = range(1, 0), g = range(1, 5, 0)",
    );
    assert_eq!(
        rows,
        vec![vec![
            json!([1, 3, 5]),
            json!([5, 3, 1]),
            json!([1, 2, 3]),
            json!([1.0, 1.5, 2.0]),
            json!([
                "2024-01-01T00:00:00.0000000Z",
                "2024-01-01T01:00:00.0000000Z",
                "2024-01-01T02:00:00.0000000Z"
            ]),
            json!([]),
            json!(null)
        ]]
    );
}

#[test]
fn extract_with_a_pattern_computed_per_row() {
    let rows = query_rows(
        r#"datatable (p:string, s:string) ["b+", "abbbc", "[", "x", "c(d)", "acd"]
         | project e = extract(p, 0, s), f = extract(strcat_array(dynamic(["z", "c"]), "|"), 0, s)"#,
    );
    assert_eq!(
        rows,
        vec![
            vec![json!("bbb"), json!("c")],
            vec![json!(""), json!("")],
            vec![json!("cd"), json!("c")],
        ]
    );
}

#[test]
fn substring_follows_the_docs_examples() {
    let rows = query_rows(
        r#"print a = substring("123456", 1), b = substring("123456", 2, 2), c = substring("ABCD", 0, 2), d = substring("123456", -2, 2), e = substring("123456", 1, -2), f = substring("123456", -9, 2), g = substring("123456", 9)"#,
    );
    assert_eq!(
        rows,
        vec![vec![
            json!("23456"),
            json!("34"),
            json!("AB"),
            json!("56"),
            json!(""),
            json!("12"),
            json!("")
        ]]
    );
}

#[test]
fn adjacent_strings_in_dynamic_and_patterns_with_digits() {
    let rows = query_rows(r#"print d = dynamic(["a" "b", "c"]), x1 = 1, y = 2 | project-away *1"#);
    assert_eq!(rows, vec![vec![json!(["ab", "c"]), json!(2)]]);
}

/// `iff`/`case` with dynamic and typed values take the typed values' type, the dynamic ones
/// converted (a JSON string loses its quotes), as Kusto.Language types them
/// (docs/semantics.md); typed values that disagree stay an error.
#[test]
fn iff_and_case_convert_dynamic_values_to_the_typed_ones() {
    use detc::types::Type;
    let q = "print s = iff(true, dynamic(\"a\"), \"b\"), t = iff(false, \"b\", dynamic([1])), n = case(false, 1, true, dynamic(2), 3.5), d = iff(true, dynamic([1]), dynamic(null))";
    let (plan, _) = lowered(q);
    let types: Vec<Type> = plan.schema.iter().map(|c| c.ty).collect();
    assert_eq!(
        types,
        [Type::String, Type::String, Type::Real, Type::Dynamic]
    );
    assert_eq!(
        query_rows(q),
        vec![vec![json!("a"), json!("[1]"), json!(2.0), json!([1])]]
    );
    let catalog = Catalog::builtin();
    let (ast, _) = detc::syntax::parse("print x = iff(true, 1, \"a\")");
    let out = lower(
        &ast,
        &Tables {
            catalog: &catalog,
            present: None,
        },
    );
    assert!(
        out.plan.is_none(),
        "mixed long/string branches must not type"
    );
}

/// A body column of `mv-apply` named like a kept input column replaces it in place, value and
/// type, as Kusto.Language types the operator (docs/semantics.md).
#[test]
fn mv_apply_body_column_replaces_the_input_column_of_its_name() {
    use detc::types::Type;
    let q = "print a = 7, b = 2, d = dynamic([\"x\", \"y\"]) | mv-apply d on (project a = tostring(d), c = 1)";
    let (plan, _) = lowered(q);
    let cols: Vec<(String, Type)> = plan.schema.iter().map(|c| (c.name.clone(), c.ty)).collect();
    assert_eq!(
        cols,
        [
            ("a".to_string(), Type::String),
            ("b".to_string(), Type::Long),
            ("c".to_string(), Type::Long),
        ]
    );
    assert_eq!(
        query_rows(q),
        vec![
            vec![json!("x"), json!(2), json!(1)],
            vec![json!("y"), json!(2), json!(1)]
        ]
    );
}

/// An `extend` item reads the columns earlier items of the same `extend` assigned, also
/// through `column_ifexists("name", ...)`.
#[test]
fn column_ifexists_reads_a_column_assigned_earlier_in_the_extend() {
    let rows = query_rows(
        "datatable(a:string) [\"x\"] | extend a = \"y\", b = column_ifexists(\"a\", \"\"), c = a",
    );
    assert_eq!(rows, vec![vec![json!("y"), json!("y"), json!("y")]]);
}

/// Comparisons with NaN follow IEEE 754: all false but `!=`.
#[test]
fn nan_compares_false() {
    let rows = query_rows(
        "print n = 0.0 / 0 | project a = n < 70, b = n > 70, c = n == n, d = n != n, e = n >= 0.0",
    );
    assert_eq!(
        rows,
        vec![vec![
            json!(false),
            json!(false),
            json!(false),
            json!(true),
            json!(false)
        ]]
    );
}
