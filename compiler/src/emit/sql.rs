//! SQL through one dialect abstraction. Each plan node becomes a CTE with an explicit column
//! list, so names, order and types are exactly the IR's. Dialect differences are data
//! ([`Dialect`]) plus a few per-dialect spellings for JSON and array expansion.
//!
//! Storage conventions (shared with `engines`): strings are never NULL (`''`), datetimes are
//! TIMESTAMP (SQLite: ISO text with 7 fraction digits), timespans are 100 ns ticks, dynamic
//! values are JSON (SQLite: JSON text).

use super::{Approximation, Emitted, Unsupported};
use crate::ir::{BinOp, Expr, ExprKind, Func, JoinKind, Node, Op, StrOp};
use crate::types::Type;
use crate::value::Value;
use std::collections::HashMap;
use std::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialectKind {
    DuckDb,
    Postgres,
    Sqlite,
    Spark,
    Snowflake,
    BigQuery,
}

impl DialectKind {
    /// The dialects that emit only the constructs listed in [`super::sql_core`]; anything
    /// else is reported unsupported rather than spelled by analogy with another dialect.
    pub fn core_only(self) -> bool {
        matches!(
            self,
            DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery
        )
    }
}

/// What differs between SQL dialects, as data.
pub struct Dialect {
    pub kind: DialectKind,
    pub name: &'static str,
    /// SQL type per KQL type, in this order: bool, integer, real, string, datetime, dynamic.
    types: [&'static str; 6],
    /// `{a}` matches the regex `{p}`.
    regex_match: &'static str,
    /// Position of `{b}` in `{a}` (1-based, 0 when absent).
    position: &'static str,
    /// `a` differs from `b`, treating NULL as a value.
    distinct_from: &'static str,
    /// Integer division.
    int_div: &'static str,
    /// Text of a JSON value (`tostring`): bare for JSON strings, '' for null.
    json_to_string: &'static str,
    true_lit: &'static str,
    false_lit: &'static str,
    /// Named parameter placeholder, `{name}` substituted; `None` = positional `$n`.
    param: Option<&'static str>,
    /// The current UTC time as this dialect's datetime.
    now: &'static str,
    /// Datetime `{a}` plus `{t}` ticks.
    dt_add: &'static str,
    /// Ticks from datetime `{b}` to datetime `{a}`.
    dt_diff: &'static str,
    /// Datetime `{a}` rounded down to a multiple of `{s}` ticks since the Unix epoch.
    bin_dt: &'static str,
    /// JSON member `{k}` / element `{i}` of `{a}`.
    get_key: &'static str,
    get_index: &'static str,
    /// The number a JSON value `{a}` holds, or NULL.
    json_number: &'static str,
    /// The dynamic value of JSON text `{a}`.
    json_parse: &'static str,
    /// A datetime literal; `{s}` is `YYYY-MM-DD HH:MM:SS.ffffff`.
    datetime_lit: &'static str,
    /// How identifiers and string literals are spelled (see [`respell`]).
    lexical: Lexical,
}

/// The lexical spelling of a dialect. The emitter writes ANSI SQL (`"ident"`, `'text'` with
/// `''`); [`respell`] turns that into the dialect's own spelling token by token.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Lexical {
    /// The identifier quote (`"` or a backtick); doubled inside the identifier.
    pub ident_quote: char,
    /// String literals read backslash escapes, so a backslash is written `\\` and a quote `\'`.
    pub backslash_escapes: bool,
}

const ANSI: Lexical = Lexical {
    ident_quote: '"',
    backslash_escapes: false,
};

const SQLITE_TICKS: &str = "(CAST(unixepoch(substr({a}, 1, 19)) AS INTEGER) * 10000000 + CAST(substr({a}, 21, 7) AS INTEGER))";
const SQLITE_FROM_TICKS: &str = "(strftime('%Y-%m-%dT%H:%M:%S', ({t}) / 10000000, 'unixepoch') || '.' || substr('0000000' || (({t}) % 10000000), -7, 7) || 'Z')";

pub const DUCKDB: Dialect = Dialect {
    kind: DialectKind::DuckDb,
    name: "duckdb",
    types: ["BOOLEAN", "BIGINT", "DOUBLE", "VARCHAR", "TIMESTAMP", "JSON"],
    regex_match: "regexp_matches({a}, {p})",
    position: "strpos({a}, {b})",
    distinct_from: "{a} IS DISTINCT FROM {b}",
    int_div: "{a} // {b}",
    json_to_string: "COALESCE(CASE WHEN json_type({a}) = 'VARCHAR' THEN json_extract_string({a}, '$') WHEN json_type({a}) = 'NULL' THEN '' ELSE CAST({a} AS VARCHAR) END, '')",
    true_lit: "TRUE",
    false_lit: "FALSE",
    param: Some("${name}"),
    now: "(now() AT TIME ZONE 'UTC')",
    dt_add: "({a} + to_microseconds(({t}) // 10))",
    dt_diff: "((epoch_us({a}) - epoch_us({b})) * 10)",
    bin_dt: "make_timestamp((epoch_us({a}) // (({s}) // 10)) * (({s}) // 10))",
    get_key: "({a} -> {k})",
    get_index: "({a} -> {i})",
    json_number: "(CASE WHEN json_type({a}) IN ('UBIGINT', 'BIGINT', 'DOUBLE') THEN CAST({a} AS DOUBLE) END)",
    json_parse: "CAST({a} AS JSON)",
    datetime_lit: "TIMESTAMP '{s}'",
    lexical: ANSI,
};

pub const POSTGRES: Dialect = Dialect {
    kind: DialectKind::Postgres,
    name: "postgres",
    types: ["BOOLEAN", "BIGINT", "DOUBLE PRECISION", "TEXT", "TIMESTAMP", "JSONB"],
    regex_match: "({a} ~ {p})",
    position: "strpos({a}, {b})",
    distinct_from: "{a} IS DISTINCT FROM {b}",
    int_div: "{a} / {b}",
    json_to_string: "COALESCE(CASE WHEN jsonb_typeof({a}) = 'string' THEN {a} #>> '{}' WHEN jsonb_typeof({a}) = 'null' THEN '' ELSE {a}::text END, '')",
    true_lit: "TRUE",
    false_lit: "FALSE",
    param: None,
    now: "(now() AT TIME ZONE 'UTC')",
    dt_add: "({a} + make_interval(secs => ({t}) / 10000000.0))",
    dt_diff: "CAST(round(extract(epoch FROM ({a} - {b})) * 10000000) AS BIGINT)",
    bin_dt: "(to_timestamp(floor(extract(epoch FROM {a}) * 10000000 / ({s})) * ({s}) / 10000000.0) AT TIME ZONE 'UTC')",
    get_key: "({a} -> {k})",
    get_index: "({a} -> CAST({i} AS INT))",
    json_number: "(CASE WHEN jsonb_typeof({a}) = 'number' THEN CAST({a} #>> '{}' AS DOUBLE PRECISION) END)",
    json_parse: "CAST({a} AS JSONB)",
    datetime_lit: "TIMESTAMP '{s}'",
    lexical: ANSI,
};

pub const SQLITE: Dialect = Dialect {
    kind: DialectKind::Sqlite,
    name: "sqlite",
    types: ["INTEGER", "INTEGER", "REAL", "TEXT", "TEXT", "TEXT"],
    regex_match: "({a} REGEXP {p})",
    position: "instr({a}, {b})",
    distinct_from: "{a} IS NOT {b}",
    int_div: "{a} / {b}",
    json_to_string: "COALESCE(CASE json_type({a}) WHEN 'text' THEN json_extract({a}, '$') WHEN 'null' THEN '' ELSE {a} END, '')",
    true_lit: "1",
    false_lit: "0",
    param: Some(":{name}"),
    now: "(strftime('%Y-%m-%dT%H:%M:%f', 'now') || '0000Z')",
    dt_add: "",
    dt_diff: "",
    bin_dt: "",
    get_key: "({a} -> {k})",
    get_index: "({a} -> {i})",
    json_number: "(CASE WHEN json_type({a}) IN ('integer', 'real') THEN json_extract({a}, '$') END)",
    json_parse: "{a}",
    datetime_lit: "",
    lexical: ANSI,
};

/// Spark SQL 4 (also Databricks): datetimes are TIMESTAMP_NTZ (no session time zone in
/// play), dynamic values are VARIANT. Executed by the tests on a local Spark.
pub const SPARK: Dialect = Dialect {
    kind: DialectKind::Spark,
    name: "spark",
    types: ["BOOLEAN", "BIGINT", "DOUBLE", "STRING", "TIMESTAMP_NTZ", "VARIANT"],
    regex_match: "({a} RLIKE {p})",
    position: "instr({a}, {b})",
    distinct_from: "NOT ({a} <=> {b})",
    int_div: "{a} DIV {b}",
    json_to_string: "COALESCE(CASE WHEN schema_of_variant({a}) = 'STRING' THEN variant_get({a}, '$', 'string') WHEN schema_of_variant({a}) = 'VOID' THEN '' ELSE to_json({a}) END, '')",
    true_lit: "TRUE",
    false_lit: "FALSE",
    param: Some(":{name}"),
    now: "convert_timezone('UTC', current_timestamp())",
    dt_add: "timestampadd(MICROSECOND, ({t}) DIV 10, {a})",
    dt_diff: "(timestampdiff(MICROSECOND, {b}, {a}) * 10)",
    bin_dt: "timestampadd(MICROSECOND, CAST(floor(timestampdiff(MICROSECOND, TIMESTAMP_NTZ '1970-01-01 00:00:00', {a}) / (({s}) DIV 10)) AS BIGINT) * (({s}) DIV 10), TIMESTAMP_NTZ '1970-01-01 00:00:00')",
    get_key: "",
    get_index: "",
    json_number: "(CASE WHEN schema_of_variant({a}) IN ('BIGINT', 'DOUBLE') OR schema_of_variant({a}) LIKE 'DECIMAL%' THEN variant_get({a}, '$', 'double') END)",
    json_parse: "parse_json({a})",
    datetime_lit: "TIMESTAMP_NTZ '{s}'",
    lexical: Lexical {
        ident_quote: '`',
        backslash_escapes: true,
    },
};

/// Snowflake: datetimes are TIMESTAMP_NTZ, dynamic values VARIANT, parameters session
/// variables (`SET name = ...;` then `$name`). Checked by parsing only (sqlglot).
pub const SNOWFLAKE: Dialect = Dialect {
    kind: DialectKind::Snowflake,
    name: "snowflake",
    types: ["BOOLEAN", "BIGINT", "DOUBLE", "VARCHAR", "TIMESTAMP_NTZ", "VARIANT"],
    regex_match: "(REGEXP_INSTR({a}, {p}) > 0)",
    position: "POSITION({b}, {a})",
    distinct_from: "{a} IS DISTINCT FROM {b}",
    int_div: "CAST(TRUNC({a} / {b}) AS BIGINT)",
    json_to_string: "COALESCE(CASE WHEN TYPEOF({a}) = 'VARCHAR' THEN CAST({a} AS VARCHAR) WHEN TYPEOF({a}) = 'NULL_VALUE' THEN '' ELSE TO_JSON({a}) END, '')",
    true_lit: "TRUE",
    false_lit: "FALSE",
    param: Some("${name}"),
    now: "CAST(SYSDATE() AS TIMESTAMP_NTZ)",
    dt_add: "TIMESTAMPADD(MICROSECOND, TRUNC(({t}) / 10), {a})",
    dt_diff: "(TIMESTAMPDIFF(MICROSECOND, {b}, {a}) * 10)",
    bin_dt: "TO_TIMESTAMP_NTZ(CAST(FLOOR(DATE_PART(EPOCH_MICROSECOND, {a}) / TRUNC(({s}) / 10)) * TRUNC(({s}) / 10) AS BIGINT), 6)",
    get_key: "",
    get_index: "",
    json_number: "(CASE WHEN TYPEOF({a}) IN ('INTEGER', 'DECIMAL', 'DOUBLE') THEN CAST({a} AS DOUBLE) END)",
    json_parse: "PARSE_JSON({a})",
    datetime_lit: "CAST('{s}' AS TIMESTAMP_NTZ)",
    lexical: Lexical {
        ident_quote: '"',
        backslash_escapes: true,
    },
};

/// BigQuery (GoogleSQL): datetimes are TIMESTAMP (UTC), dynamic values JSON, parameters
/// named `@name`. Checked by parsing only (sqlglot).
pub const BIGQUERY: Dialect = Dialect {
    kind: DialectKind::BigQuery,
    name: "bigquery",
    types: ["BOOL", "INT64", "FLOAT64", "STRING", "TIMESTAMP", "JSON"],
    regex_match: "REGEXP_CONTAINS({a}, {p})",
    position: "STRPOS({a}, {b})",
    distinct_from: "{a} IS DISTINCT FROM {b}",
    int_div: "DIV({a}, {b})",
    json_to_string: "COALESCE(CASE WHEN JSON_TYPE({a}) = 'string' THEN JSON_VALUE({a}) WHEN JSON_TYPE({a}) = 'null' THEN '' ELSE TO_JSON_STRING({a}) END, '')",
    true_lit: "TRUE",
    false_lit: "FALSE",
    param: Some("@{name}"),
    now: "CURRENT_TIMESTAMP()",
    dt_add: "TIMESTAMP_ADD({a}, INTERVAL DIV({t}, 10) MICROSECOND)",
    dt_diff: "(TIMESTAMP_DIFF({a}, {b}, MICROSECOND) * 10)",
    bin_dt: "TIMESTAMP_MICROS(CAST(FLOOR(UNIX_MICROS({a}) / DIV({s}, 10)) AS INT64) * DIV({s}, 10))",
    get_key: "",
    get_index: "",
    json_number: "(CASE WHEN JSON_TYPE({a}) = 'number' THEN FLOAT64({a}) END)",
    json_parse: "PARSE_JSON({a})",
    datetime_lit: "TIMESTAMP '{s}'",
    lexical: Lexical {
        ident_quote: '`',
        backslash_escapes: true,
    },
};

pub fn dialect(name: &str) -> Option<&'static Dialect> {
    match name {
        "duckdb" => Some(&DUCKDB),
        "postgres" | "postgresql" => Some(&POSTGRES),
        "sqlite" => Some(&SQLITE),
        "spark" | "databricks" => Some(&SPARK),
        "snowflake" => Some(&SNOWFLAKE),
        "bigquery" => Some(&BIGQUERY),
        _ => None,
    }
}

fn fill(tpl: &str, pairs: &[(&str, &str)]) -> String {
    let mut s = tpl.to_string();
    for (k, v) in pairs {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

fn is_text(t: Type) -> bool {
    matches!(t, Type::String | Type::Guid)
}

thread_local! {
    /// While [`emit`] runs: column names whose SQL identifier differs from the name (see
    /// [`sql_names`]).
    static RENAMED: std::cell::RefCell<HashMap<String, String>> = Default::default();
}

/// The quoted SQL identifier of a column (renamed where the dialect needs it, see
/// [`sql_names`]).
pub fn quote_ident(name: &str) -> String {
    let renamed = RENAMED.with(|r| r.borrow().get(name).cloned());
    quote_raw(renamed.as_deref().unwrap_or(name))
}

/// A quoted identifier exactly as given (tables, aliases of the final result).
fn quote_raw(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Column names that need another SQL identifier in this dialect, and that identifier.
/// DuckDB and SQLite match identifiers without regard to case, even quoted, so of names that
/// differ only in case the first (in code-point order) keeps its spelling and the others get
/// `__2`, `__3`, ...; PostgreSQL truncates identifiers to 63 bytes, so longer names become
/// their first 40 bytes and a hash. The result's own columns keep their names.
pub fn sql_names(plan: &Node, d: &Dialect) -> HashMap<String, String> {
    let mut all = std::collections::BTreeSet::new();
    plan.visit(&mut |n: &Node| all.extend(n.schema.iter().map(|c| c.name.clone())));
    for (_, cols) in plan.sources() {
        all.extend(cols.into_iter().map(|c| c.name));
    }
    let mut out = HashMap::new();
    match d.kind {
        DialectKind::Postgres => {
            for name in all.iter().filter(|n| n.len() > 63) {
                let mut cut = 40;
                while !name.is_char_boundary(cut) {
                    cut -= 1;
                }
                let hash = xxhash_rust::xxh64::xxh64(name.as_bytes(), 0);
                out.insert(name.clone(), format!("{}__{hash:016x}", &name[..cut]));
            }
        }
        // Snowflake's quoted identifiers keep case and allow 255 characters.
        DialectKind::Snowflake => {}
        DialectKind::DuckDb | DialectKind::Sqlite | DialectKind::Spark | DialectKind::BigQuery => {
            let mut taken: std::collections::HashSet<String> =
                all.iter().map(|n| n.to_lowercase()).collect();
            let mut first: HashMap<String, &String> = HashMap::new();
            for name in &all {
                let key = name.to_lowercase();
                if first.insert(key.clone(), name).is_none() {
                    continue;
                }
                let mut k = 2;
                let renamed = loop {
                    let candidate = format!("{name}__{k}");
                    if taken.insert(candidate.to_lowercase()) {
                        break candidate;
                    }
                    k += 1;
                };
                out.insert(name.clone(), renamed);
            }
        }
    }
    out
}

pub fn string_lit(s: &str) -> Result<String, Unsupported> {
    if s.contains('\0') {
        return Err(Unsupported {
            construct: "string literal".into(),
            reason: "SQL text cannot hold a NUL character".into(),
        });
    }
    Ok(format!("'{}'", s.replace('\'', "''")))
}

/// Turns the emitter's ANSI spelling into the dialect's, token by token: a `"ident"` gets the
/// dialect's identifier quote, a `'text'` (with `''`) is written with backslash escapes where
/// the dialect's literals read them. Text outside quotes is kept as it is; the emitter writes
/// no comments and no other kind of quoted token.
pub fn respell(sql: &str, lx: Lexical) -> String {
    if lx == ANSI {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + sql.len() / 8);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '"' && c != '\'' {
            out.push(c);
            continue;
        }
        let mut body = String::new();
        while let Some(x) = chars.next() {
            if x == c {
                if chars.peek() == Some(&c) {
                    chars.next();
                } else {
                    break;
                }
            }
            body.push(x);
        }
        if c == '"' {
            let q = lx.ident_quote;
            out.push(q);
            out.push_str(&body.replace(q, &format!("{q}{q}")));
            out.push(q);
        } else if lx.backslash_escapes {
            out.push('\'');
            for x in body.chars() {
                match x {
                    '\\' => out.push_str("\\\\"),
                    '\'' => out.push_str("\\'"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    x => out.push(x),
                }
            }
            out.push('\'');
        } else {
            out.push('\'');
            out.push_str(&body.replace('\'', "''"));
            out.push('\'');
        }
    }
    out
}

/// Regex-escapes a term for every supported engine (RE2, PostgreSQL ARE, Rust regex).
fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The pattern for "`term` is a whole term": the boundary rule of docs/semantics.md, with
/// ASCII letters and digits as term characters (a declared approximation).
fn term_pattern(term: &str, prefix_only: bool, suffix_only: bool) -> String {
    const NOT_TERM: &str = "[^0-9a-z]";
    let first = term.chars().next().is_some_and(|c| c.is_alphanumeric());
    let last = term
        .chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric());
    let mut p = String::new();
    if first && !suffix_only {
        write!(p, "(^|{NOT_TERM})").unwrap();
    }
    if suffix_only {
        p.push_str("[0-9a-z]*");
    }
    p.push_str(&regex_escape(term));
    if prefix_only {
        p.push_str("[0-9a-z]*");
    }
    if last && !prefix_only {
        write!(p, "($|{NOT_TERM})").unwrap();
    }
    p
}

struct Ctx<'d> {
    d: &'d Dialect,
    ctes: Vec<String>,
    approximations: Vec<Approximation>,
    params: Vec<(String, Type)>,
    /// Inside an `mv-apply` body: the CTE of the numbered input rows. Every body node then
    /// carries the row number [`ROW`] and works per row (see [`Ctx::mv_apply`]).
    outer: Option<String>,
    /// `now()` as a fixed datetime (ticks) instead of the engine's clock.
    now: Option<i64>,
    /// A regular expression written in the rule reached the output (for the dialects whose
    /// regex engine differs from KQL's).
    regex_from_rule: bool,
}

/// The input row number that partitions an `mv-apply` body's nodes.
const ROW: &str = "\"__detc_row\"";

/// A row's position in a serialized row set, for the window functions of row functions.
const ORD: &str = "\"__detc_ord\"";

impl Ctx<'_> {
    fn approx(&mut self, construct: &str, how: &str) {
        Approximation::declare(&mut self.approximations, construct, how);
    }

    fn now_sql(&self) -> String {
        match self.now {
            Some(t) => self.datetime_lit(t),
            None => self.d.now.to_string(),
        }
    }

    fn sql_type(&self, t: Type) -> &'static str {
        let i = match t {
            Type::Bool => 0,
            Type::Int | Type::Long | Type::Timespan => 1,
            Type::Real | Type::Decimal => 2,
            Type::String | Type::Guid => 3,
            Type::DateTime => 4,
            Type::Dynamic => 5,
        };
        self.d.types[i]
    }

    /// The missing value of a type: `''` for a string (never null in KQL), NULL otherwise
    /// (a guid can be null).
    fn null_of(&self, t: Type) -> String {
        match t {
            Type::String => "''".into(),
            t => format!("CAST(NULL AS {})", self.sql_type(t)),
        }
    }

    fn push(&mut self, body: String) -> String {
        let name = format!("q{}", self.ctes.len() + 1);
        self.ctes.push(format!(
            "{} AS (\n  {}\n)",
            name,
            body.replace('\n', "\n  ")
        ));
        name
    }

    fn datetime_lit(&self, ticks: i64) -> String {
        let iso = crate::value::format_datetime(ticks);
        match self.d.kind {
            DialectKind::Sqlite => format!("'{iso}'"),
            _ => {
                // TIMESTAMP keeps microseconds: the 7th fraction digit is dropped.
                let s = iso.trim_end_matches('Z').replace('T', " ");
                fill(self.d.datetime_lit, &[("s", &s[..s.len() - 1])])
            }
        }
    }

    fn literal(&mut self, v: &Value, ty: Type) -> Result<String, Unsupported> {
        Ok(match v {
            Value::Null => self.null_of(ty),
            Value::Bool(b) => if *b {
                self.d.true_lit
            } else {
                self.d.false_lit
            }
            .to_string(),
            Value::Long(n) => n.to_string(),
            Value::Real(x) if x.is_finite() => {
                format!("CAST({x:?} AS {})", self.sql_type(Type::Real))
            }
            Value::Real(_) => {
                return Err(unsupported(
                    "non-finite real literal",
                    "no portable SQL spelling",
                ))
            }
            Value::String(s) => string_lit(s)?,
            Value::DateTime(t) => {
                if t % 10 != 0 && self.d.kind != DialectKind::Sqlite {
                    self.approx(
                        "datetime precision",
                        "TIMESTAMP keeps microseconds; the 7th fraction digit is dropped",
                    );
                }
                self.datetime_lit(*t)
            }
            Value::Timespan(t) => t.to_string(),
            Value::Dynamic(j) => {
                let text = string_lit(&j.to_string())?;
                fill(self.d.json_parse, &[("a", &text)])
            }
        })
    }

    fn param(&mut self, name: &str, ty: Type) -> String {
        if !self.params.iter().any(|(n, _)| n == name) {
            self.params.push((name.to_string(), ty));
        }
        let raw = match self.d.param {
            Some(tpl) => tpl.replace("{name}", name),
            None => format!(
                "${}",
                self.params.iter().position(|(n, _)| n == name).unwrap() + 1
            ),
        };
        match (self.d.kind, ty) {
            (DialectKind::Sqlite, _) => raw,
            (_, Type::String) => raw,
            _ => format!("CAST({raw} AS {})", self.sql_type(ty)),
        }
    }

    /// Text a string operator reads from `e`: strings as they are, dynamic values as JSON text.
    fn text_of(&mut self, e: &Expr) -> Result<String, Unsupported> {
        let s = self.expr(e)?;
        Ok(match e.ty {
            Type::Dynamic => {
                if self.d.kind == DialectKind::Postgres {
                    self.approx(
                        "string operator on dynamic",
                        "PostgreSQL's jsonb text puts a space after `,` and `:`",
                    );
                }
                fill(self.d.json_to_string, &[("a", &s)])
            }
            Type::String | Type::Guid => s,
            t => {
                return Err(unsupported(
                    "string operator",
                    &format!("left side of type {t}"),
                ))
            }
        })
    }

    fn lower_if(&self, s: String, ci: bool) -> String {
        if ci {
            format!("lower({s})")
        } else {
            s
        }
    }

    fn literal_text(e: &Expr) -> Option<String> {
        match &e.kind {
            ExprKind::Literal(Value::String(s)) => Some(s.to_string()),
            _ => None,
        }
    }

    fn expr(&mut self, e: &Expr) -> Result<String, Unsupported> {
        super::sql_core::check_expr(self.d, e)?;
        Ok(match &e.kind {
            ExprKind::Column { name, .. } => quote_ident(name),
            ExprKind::Literal(v) => self.literal(v, e.ty)?,
            ExprKind::Param(name) => self.param(name, e.ty),
            ExprKind::Template(t) => {
                return Err(unsupported(
                    "template string",
                    &format!("{t:?} needs --param values to become a literal"),
                ))
            }
            ExprKind::Neg(x) => format!("(-{})", self.expr(x)?),
            ExprKind::Binary { op, lhs, rhs } => {
                if (matches!(lhs.ty, Type::DateTime) || matches!(rhs.ty, Type::DateTime))
                    && matches!(
                        op,
                        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod
                    )
                {
                    return self.datetime_arith(*op, lhs, rhs);
                }
                let compares = matches!(
                    op,
                    BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
                );
                if compares
                    && (lhs.ty == Type::Real || rhs.ty == Type::Real)
                    && self.d.kind != DialectKind::Sqlite
                {
                    self.approx(
                        "comparison of real numbers",
                        "the engine orders NaN above every number and equal to itself; in KQL every comparison with NaN but != is false",
                    );
                }
                let dyn_num =
                    |e: &Expr, other: &Expr| e.ty == Type::Dynamic && other.ty.is_numeric();
                let (a, b) = if dyn_num(lhs, rhs) || dyn_num(rhs, lhs) {
                    // A dynamic number compares as a number (docs/semantics.md).
                    self.approx(
                        "comparison of a dynamic value with a number",
                        "only JSON numbers compare; a JSON string holding digits does not",
                    );
                    let conv = |s: &mut Self, e: &Expr| -> Result<String, Unsupported> {
                        let x = s.expr(e)?;
                        Ok(if e.ty == Type::Dynamic {
                            fill(s.d.json_number, &[("a", &x)])
                        } else {
                            x
                        })
                    };
                    (conv(self, lhs)?, conv(self, rhs)?)
                } else if (lhs.ty == Type::Dynamic) != (rhs.ty == Type::Dynamic) {
                    return Err(unsupported(
                        "comparison with a dynamic value",
                        "not emitted to SQL yet",
                    ));
                } else {
                    (self.expr(lhs)?, self.expr(rhs)?)
                };
                // KQL: `x == y` with one side null is false and `!=` true; with both null,
                // null (docs/semantics.md). A string is never null.
                let never_null = |e: &Expr| {
                    matches!(e.ty, Type::String)
                        || matches!(&e.kind, ExprKind::Literal(v) if !v.is_null())
                };
                let both_null = !never_null(lhs) && !never_null(rhs);
                let null_if_both = |x: String| {
                    if both_null {
                        format!("(CASE WHEN {a} IS NULL AND {b} IS NULL THEN NULL ELSE {x} END)")
                    } else {
                        x
                    }
                };
                match op {
                    BinOp::Ne => null_if_both(fill(self.d.distinct_from, &[("a", &a), ("b", &b)])),
                    BinOp::Eq if !(never_null(lhs) && never_null(rhs)) => {
                        null_if_both(format!("COALESCE({a} = {b}, {})", self.d.false_lit))
                    }
                    BinOp::Div if lhs.ty.is_integer() && rhs.ty.is_integer() => {
                        format!("({})", fill(self.d.int_div, &[("a", &a), ("b", &b)]))
                    }
                    // KQL's real division by zero is IEEE's (NaN, ±infinity); PostgreSQL
                    // raises an error instead.
                    BinOp::Div if self.d.kind == DialectKind::Postgres => format!(
                        "(CASE WHEN {b} = 0 THEN CAST(CASE WHEN {a} > 0 THEN 'Infinity' WHEN {a} < 0 THEN '-Infinity' WHEN {a} = 0 THEN 'NaN' END AS DOUBLE PRECISION) ELSE {a} / {b} END)"
                    ),
                    _ => {
                        // SQL spells these three differently; the rest as KQL does.
                        let sop = match op {
                            BinOp::And => "AND",
                            BinOp::Or => "OR",
                            BinOp::Eq => "=",
                            other => other.kql(),
                        };
                        format!("({a} {sop} {b})")
                    }
                }
            }
            ExprKind::Str {
                op,
                cs,
                negated,
                lhs,
                rhs,
            } => {
                let ci = !*cs;
                let a = self.text_of(lhs)?;
                let a = self.lower_if(a, ci);
                let inner = match op {
                    StrOp::Has if Self::literal_text(rhs).is_none() && is_text(rhs.ty) => {
                        let t = self.expr(rhs)?;
                        let t = self.lower_if(t, ci);
                        let pat = self.runtime_term_pattern(&t);
                        fill(self.d.regex_match, &[("a", &a), ("p", &pat)])
                    }
                    StrOp::Has | StrOp::HasPrefix | StrOp::HasSuffix => {
                        let Some(term) = Self::literal_text(rhs) else {
                            return Err(unsupported(
                                "has with a non-constant term",
                                "the term is compiled into a regular expression",
                            ));
                        };
                        let term = if ci { term.to_lowercase() } else { term };
                        self.term_approx(&term);
                        let pat =
                            term_pattern(&term, *op == StrOp::HasPrefix, *op == StrOp::HasSuffix);
                        fill(self.d.regex_match, &[("a", &a), ("p", &string_lit(&pat)?)])
                    }
                    _ => {
                        let b = self.text_of(rhs)?;
                        let b = self.lower_if(b, ci);
                        match op {
                            StrOp::Equals => format!("({a} = {b})"),
                            StrOp::Contains => format!("({} > 0)", fill(self.d.position, &[("a", &a), ("b", &b)])),
                            StrOp::StartsWith => format!("(substr({a}, 1, length({b})) = {b})"),
                            StrOp::EndsWith => format!("(length({a}) >= length({b}) AND substr({a}, length({a}) - length({b}) + 1) = {b})"),
                            _ => unreachable!(),
                        }
                    }
                };
                if ci {
                    self.approx(
                        "case-insensitive comparison",
                        "lower() of the engine; KQL folds case the same way for ASCII text",
                    );
                }
                if *negated {
                    format!("(NOT {inner})")
                } else {
                    inner
                }
            }
            ExprKind::In {
                lhs,
                items,
                cs,
                negated,
            } => {
                let stringy = matches!(lhs.ty, Type::String | Type::Guid);
                let a = self.expr(lhs)?;
                // A null guid compares as its text, "" (as natively).
                let a = if lhs.ty == Type::Guid {
                    format!("COALESCE({a}, '')")
                } else {
                    a
                };
                let a = self.lower_if(a, !*cs);
                let mut list = Vec::new();
                let mut subs = Vec::new();
                for i in items {
                    if let ExprKind::Subquery {
                        plan,
                        scalar: false,
                    } = &i.kind
                    {
                        let q = self.sub_plan(plan)?;
                        let col = quote_ident(&plan.schema[0].name);
                        if plan.schema[0].ty == Type::Dynamic && !stringy {
                            return Err(unsupported(
                                "in",
                                "a non-string value in a dynamic sub-query column",
                            ));
                        }
                        if plan.schema[0].ty == Type::Dynamic && stringy {
                            // The texts of its values, arrays flattened.
                            let texts =
                                self.element_texts(&format!("s.{col}"), &format!("{q} AS s"));
                            let sel = self.lower_if("x.\"__detc_text\"".into(), !*cs);
                            subs.push(format!("{a} IN (SELECT {sel} FROM ({texts}) AS x)"));
                            continue;
                        }
                        let sel = self.lower_if(col.clone(), !*cs);
                        // KQL ignores null items; SQL's NOT IN would turn them into NULL.
                        subs.push(format!(
                            "{a} IN (SELECT {sel} FROM {q} WHERE {col} IS NOT NULL)"
                        ));
                        continue;
                    }
                    if i.ty == Type::Dynamic && stringy {
                        let x = self.expr(i)?;
                        let texts = self.element_texts(&x, "");
                        let sel = self.lower_if("x.\"__detc_text\"".into(), !*cs);
                        subs.push(format!("{a} IN (SELECT {sel} FROM ({texts}) AS x)"));
                        continue;
                    }
                    // A number in a run-time list: numeric elements compare as numbers, the
                    // others by their text (as natively).
                    if i.ty == Type::Dynamic && lhs.ty.is_numeric() {
                        let x = self.expr(i)?;
                        subs.push(self.number_in_elements(&a, &x));
                        continue;
                    }
                    if i.ty == Type::Dynamic {
                        return Err(unsupported(
                            "in",
                            "a non-string, non-number value in a list computed as a dynamic array at run time",
                        ));
                    }
                    let s = self.expr(i)?;
                    list.push(self.lower_if(s, !*cs));
                }
                let mut tests = subs;
                if !list.is_empty() {
                    tests.insert(0, format!("{a} IN ({})", list.join(", ")));
                }
                if tests.is_empty() {
                    return Ok(if *negated {
                        self.d.true_lit
                    } else {
                        self.d.false_lit
                    }
                    .to_string());
                }
                let any = format!("({})", tests.join(" OR "));
                match (stringy, negated) {
                    (true, false) => any,
                    (true, true) => format!("(NOT {any})"),
                    // KQL: null in (...) is false, null !in (...) is true.
                    (false, false) => format!("COALESCE({any}, {})", self.d.false_lit),
                    (false, true) => format!("({a} IS NULL OR NOT {any})"),
                }
            }
            ExprKind::HasAny {
                lhs,
                terms,
                all,
                cs,
            } => {
                let ci = !*cs;
                let a = self.text_of(lhs)?;
                let a = self.lower_if(a, ci);
                // Terms drawn from a table: an EXISTS over its rows, each term turned into a
                // pattern at run time.
                if !*all {
                    if let Some(ExprKind::Subquery {
                        plan,
                        scalar: false,
                    }) = terms
                        .iter()
                        .map(|t| &t.kind)
                        .find(|k| matches!(k, ExprKind::Subquery { .. }))
                    {
                        if terms.len() == 1 && is_text(plan.schema[0].ty) {
                            let q = self.sub_plan(plan)?;
                            let col = format!("s.{}", quote_ident(&plan.schema[0].name));
                            let t = self.lower_if(col.clone(), ci);
                            let pat = self.runtime_term_pattern(&t);
                            self.term_approx("");
                            return Ok(format!(
                                "EXISTS (SELECT 1 FROM {q} AS s WHERE {col} IS NOT NULL AND {})",
                                fill(self.d.regex_match, &[("a", &a), ("p", &pat)])
                            ));
                        }
                    }
                }
                // Terms in a dynamic array computed at run time: an EXISTS over its elements.
                if let [t] = terms.as_slice() {
                    if t.ty == Type::Dynamic && Self::literal_text(t).is_none() {
                        let x = self.expr(t)?;
                        let texts = self.element_texts(&x, "");
                        let term = self.lower_if("x.\"__detc_text\"".into(), ci);
                        let pat = self.runtime_term_pattern(&term);
                        self.term_approx("");
                        let hit = fill(self.d.regex_match, &[("a", &a), ("p", &pat)]);
                        return Ok(if *all {
                            format!("NOT EXISTS (SELECT 1 FROM ({texts}) AS x WHERE NOT COALESCE({hit}, {}))", self.d.false_lit)
                        } else {
                            format!("EXISTS (SELECT 1 FROM ({texts}) AS x WHERE {hit})")
                        });
                    }
                }
                let mut pats = Vec::new();
                for t in terms {
                    let Some(term) = Self::literal_text(t) else {
                        return Err(unsupported(
                            "has_any with non-constant terms",
                            "terms are compiled into a regular expression",
                        ));
                    };
                    let term = if ci { term.to_lowercase() } else { term };
                    self.term_approx(&term);
                    let p = term_pattern(&term, false, false);
                    if !pats.contains(&p) {
                        pats.push(p);
                    }
                }
                if ci {
                    self.approx(
                        "case-insensitive comparison",
                        "lower() of the engine; KQL folds case the same way for ASCII text",
                    );
                }
                if pats.is_empty() {
                    return Ok(if *all {
                        self.d.true_lit
                    } else {
                        self.d.false_lit
                    }
                    .to_string());
                }
                if *all {
                    let parts: Result<Vec<String>, Unsupported> = pats
                        .iter()
                        .map(|p| {
                            Ok(fill(
                                self.d.regex_match,
                                &[("a", &a), ("p", &string_lit(p)?)],
                            ))
                        })
                        .collect();
                    format!("({})", parts?.join(" AND "))
                } else {
                    let alt = pats
                        .iter()
                        // POSIX regular expressions (Snowflake) have no `(?:`.
                        .map(|p| match self.d.kind {
                            DialectKind::Snowflake => format!("({p})"),
                            _ => format!("(?:{p})"),
                        })
                        .collect::<Vec<_>>()
                        .join("|");
                    fill(self.d.regex_match, &[("a", &a), ("p", &string_lit(&alt)?)])
                }
            }
            ExprKind::Between {
                expr,
                lo,
                hi,
                negated,
            } => {
                let (x, l, h) = (self.expr(expr)?, self.expr(lo)?, self.expr(hi)?);
                format!(
                    "({x} {}BETWEEN {l} AND {h})",
                    if *negated { "NOT " } else { "" }
                )
            }
            ExprKind::Call { func, args } => self.call(*func, args)?,
            ExprKind::Subquery { plan, scalar: true } => {
                let q = self.sub_plan(plan)?;
                format!(
                    "(SELECT {} FROM {q} LIMIT 1)",
                    quote_ident(&plan.schema[0].name)
                )
            }
            ExprKind::Subquery { .. } => {
                return Err(unsupported(
                    "sub-query",
                    "a table used as values outside an `in` list",
                ))
            }
            ExprKind::Field { tuple, .. } => {
                let name = match &tuple.kind {
                    ExprKind::Call { func, .. } => func.kql(),
                    _ => "several-valued expression",
                };
                return Err(unsupported(
                    name,
                    "series analysis is not emitted to SQL yet",
                ));
            }
        })
    }

    /// The whole-term pattern of a term known only at run time (`t` is its SQL): the same
    /// boundary rule as `term_pattern`, with the term regex-escaped by the engine.
    fn runtime_term_pattern(&mut self, t: &str) -> String {
        self.term_approx("");
        let escaped = match self.d.kind {
            DialectKind::Sqlite => format!("regexp_escape({t})"),
            _ => format!("regexp_replace({t}, '([[:punct:]])', '\\\\\\1', 'g')"),
        };
        let starts = fill(self.d.regex_match, &[("a", t), ("p", "'^[0-9a-z]'")]);
        let ends = fill(self.d.regex_match, &[("a", t), ("p", "'[0-9a-z]$'")]);
        format!(
            "((CASE WHEN {starts} THEN '(^|[^0-9a-z])' ELSE '' END) || {escaped} || (CASE WHEN {ends} THEN '($|[^0-9a-z])' ELSE '' END))"
        )
    }

    fn term_approx(&mut self, term: &str) {
        self.approx(
            "has / has_any term boundaries",
            "only ASCII letters and digits count as term characters",
        );
        if !term.is_ascii() {
            self.approx(
                "non-ASCII has term",
                "case folding and term boundaries of non-ASCII text follow the engine, not KQL",
            );
        }
    }

    fn ticks(&self, a: &str) -> String {
        fill(SQLITE_TICKS, &[("a", a)])
    }

    fn dt_add(&self, a: &str, t: &str) -> String {
        match self.d.kind {
            DialectKind::Sqlite => fill(
                SQLITE_FROM_TICKS,
                &[("t", &format!("{} + ({t})", self.ticks(a)))],
            ),
            _ => fill(self.d.dt_add, &[("a", a), ("t", t)]),
        }
    }

    /// Datetime arithmetic: timespans are ticks in every dialect.
    fn datetime_arith(&mut self, op: BinOp, lhs: &Expr, rhs: &Expr) -> Result<String, Unsupported> {
        let (a, b) = (self.expr(lhs)?, self.expr(rhs)?);
        if self.d.kind == DialectKind::Sqlite {
            self.approx(
                "datetime arithmetic in SQLite",
                "datetimes before 1970 are not supported",
            );
        }
        Ok(match (op, lhs.ty, rhs.ty) {
            (BinOp::Sub, Type::DateTime, Type::DateTime) => match self.d.kind {
                DialectKind::Sqlite => format!("({} - {})", self.ticks(&a), self.ticks(&b)),
                _ => fill(self.d.dt_diff, &[("a", &a), ("b", &b)]),
            },
            (BinOp::Add, Type::DateTime, Type::Timespan) => self.dt_add(&a, &b),
            (BinOp::Add, Type::Timespan, Type::DateTime) => self.dt_add(&b, &a),
            (BinOp::Sub, Type::DateTime, Type::Timespan) => self.dt_add(&a, &format!("-({b})")),
            _ => {
                return Err(unsupported(
                    "datetime arithmetic",
                    "this combination is not emitted to SQL",
                ))
            }
        })
    }

    fn call(&mut self, func: Func, args: &[Expr]) -> Result<String, Unsupported> {
        super::sql_core::check_func(self.d, func, args)?;
        if matches!(func, Func::ToLower | Func::ToUpper) && self.d.kind == DialectKind::Sqlite {
            self.approx(
                "tolower/toupper in SQLite",
                "SQLite changes the case of ASCII letters only; KQL of every letter",
            );
        }
        // `parse_path(x).Filename` / `.Extension`, following detc's parse_path.
        if func == Func::GetItem
            && matches!(
                &args[0].kind,
                ExprKind::Call {
                    func: Func::ParsePath,
                    ..
                }
            )
        {
            let (ExprKind::Call { args: inner, .. }, ExprKind::Literal(Value::String(key))) =
                (&args[0].kind, &args[1].kind)
            else {
                return Err(unsupported(
                    "parse_path",
                    "only a constant part of it is emitted to SQL",
                ));
            };
            let x = self.expr(&inner[0])?;
            let has_scheme = fill(self.d.position, &[("a", &x), ("b", "'://'")]);
            let after = self.group(&x, "^.*?://(.*)$")?;
            let rest = format!("(CASE WHEN {has_scheme} > 0 THEN {after} ELSE {x} END)");
            let has_backslash = fill(self.d.position, &[("a", &rest), ("b", "'\\'")]);
            let last_b = self.group(&rest, r"([^\\]*)$")?;
            let last_s = self.group(&rest, "([^/]*)$")?;
            let last = format!("(CASE WHEN {has_backslash} > 0 THEN {last_b} ELSE {last_s} END)");
            let file = self.group(&last, "^([^:]*)")?;
            let part = match &**key {
                "Filename" => file,
                "Extension" => self.group(&file, "\\.([^.]*)$")?,
                other => {
                    return Err(unsupported(
                        "parse_path",
                        &format!("the part `{other}` is not emitted to SQL yet"),
                    ))
                }
            };
            let wrap = match self.d.kind {
                DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => {
                    return Err(core_gap(self.d))
                }
                DialectKind::DuckDb => "to_json",
                DialectKind::Postgres => "to_jsonb",
                DialectKind::Sqlite => "json_quote",
            };
            return Ok(format!("{wrap}({part})"));
        }
        // `parse_url(x)["Host"]` and the other text parts: the part alone, by regular
        // expressions that follow detc's parse_url (the query-parameter bag is not emitted).
        if func == Func::GetItem
            && matches!(
                &args[0].kind,
                ExprKind::Call {
                    func: Func::ParseUrl,
                    ..
                }
            )
        {
            let (ExprKind::Call { args: inner, .. }, ExprKind::Literal(Value::String(key))) =
                (&args[0].kind, &args[1].kind)
            else {
                return Err(unsupported(
                    "parse_url",
                    "only a constant part of it is emitted to SQL",
                ));
            };
            let x = self.expr(&inner[0])?;
            let part = self.url_part(&x, key)?;
            let wrap = match self.d.kind {
                DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => {
                    return Err(core_gap(self.d))
                }
                DialectKind::DuckDb => "to_json",
                DialectKind::Postgres => "to_jsonb",
                DialectKind::Sqlite => "json_quote",
            };
            let has_scheme = fill(self.d.position, &[("a", &x), ("b", "'://'")]);
            return Ok(format!(
                "(CASE WHEN {has_scheme} > 0 THEN {wrap}({part}) END)"
            ));
        }
        let a: Vec<String> = args
            .iter()
            .map(|x| self.expr(x))
            .collect::<Result<_, _>>()?;
        let mut arg_ty = args.first().map(|x| x.ty);
        let mut a = a;
        // A dynamic value where a function reads text is its text (what tostring gives).
        for &i in text_args(func) {
            if args.get(i).is_some_and(|e| e.ty == Type::Dynamic) {
                a[i] = fill(self.d.json_to_string, &[("a", &a[i])]);
                if i == 0 {
                    arg_ty = Some(Type::String);
                }
            }
        }
        if let Some(i) = regex_arg(func) {
            // extract and extract_all unname their groups for PostgreSQL themselves.
            self.check_regex(&args[i], matches!(func, Func::ExtractAll | Func::Extract))?;
            if let (DialectKind::Postgres, ExprKind::Literal(Value::String(pat))) =
                (self.d.kind, &args[i].kind)
            {
                a[i] = string_lit(&postgres_brackets(pat))?;
            }
            // Java spells a named group `(?<name>`; RE2's `(?P<name>` is an error there.
            if let (DialectKind::Spark, ExprKind::Literal(Value::String(pat))) =
                (self.d.kind, &args[i].kind)
            {
                a[i] = string_lit(&java_named_groups(pat))?;
            }
        }
        Ok(match func {
            Func::ToDateTime if arg_ty == Some(Type::String) => self.todatetime_text(&a[0])?,
            // countof(text, s): exact by length arithmetic when s cannot overlap itself (no
            // proper prefix of s is also its suffix), where overlapping and disjoint counts agree.
            Func::CountOf if args.len() == 2 => {
                let ExprKind::Literal(Value::String(needle)) = &args[1].kind else {
                    return Err(unsupported("countof", "the searched text must be a constant"));
                };
                let n = needle.chars().count();
                let chars: Vec<char> = needle.chars().collect();
                let overlaps = (1..n).any(|k| chars[..k] == chars[n - k..]);
                if n == 0 || overlaps {
                    return Err(unsupported("countof", "a searched text that can overlap itself is not emitted to SQL"));
                }
                let t = &a[0];
                format!("CAST((length({t}) - length(replace({t}, {}, ''))) / {n} AS BIGINT)", a[1])
            }
            Func::Base64Decode if self.d.kind == DialectKind::Sqlite => {
                self.approx("base64_decode_tostring in SQLite", "uses detc's function of that name, registered like REGEXP");
                format!("base64_decode_tostring({})", a[0])
            }
            // extract_all: the matches of the selected groups (one group: their texts; several:
            // an array per match), null when nothing matches.
            Func::ExtractAll => {
                let ExprKind::Literal(Value::String(pat)) = &args[0].kind else {
                    return Err(unsupported("extract_all", "the regular expression must be a constant"));
                };
                let Ok(re) = regex::Regex::new(pat) else {
                    return Err(unsupported("extract_all", "the regular expression does not compile"));
                };
                let selection = match args.get(2).map(|_| &args[1].kind) {
                    None => None,
                    Some(ExprKind::Literal(v)) => Some(v),
                    Some(_) => return Err(unsupported("extract_all", "the capture groups must be a constant")),
                };
                let Some(groups) = crate::eval::functions::capture_groups(&re, selection) else {
                    return Ok(self.null_of(Type::Dynamic));
                };
                let t = &a[a.len() - 1];
                let p = &a[0];
                match self.d.kind {
                    DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => return Err(core_gap(self.d)),
                    DialectKind::Sqlite => {
                        self.approx("extract_all in SQLite", "uses detc's regexp_extract_all() function, registered like REGEXP");
                        if selection.is_none() {
                            format!("regexp_extract_all({t}, {p})")
                        } else {
                            let list = groups.iter().map(|g| g.to_string()).collect::<Vec<_>>().join(",");
                            format!("regexp_extract_all({t}, {p}, '[{list}]')")
                        }
                    }
                    DialectKind::DuckDb => {
                        if groups.iter().any(|g| *g > 9) {
                            return Err(unsupported("extract_all", "DuckDB's regexp_extract_all takes groups 0 to 9"));
                        }
                        let lists: Vec<String> = groups.iter().map(|g| format!("regexp_extract_all({t}, {p}, {g})")).collect();
                        let first = &lists[0];
                        if lists.len() == 1 {
                            format!("(CASE WHEN len({first}) > 0 THEN to_json({first}) END)")
                        } else {
                            let items: Vec<String> = lists.iter().map(|l| format!("{l}[i + 1]")).collect();
                            format!("(CASE WHEN len({first}) > 0 THEN to_json(list_transform(range(len({first})), lambda i: [{}])) END)", items.join(", "))
                        }
                    }
                    DialectKind::Postgres => {
                        // PostgreSQL's regular expressions have no named groups: the names go,
                        // the numbering stays. Without groups, the whole match is group 1.
                        let unnamed = unname_groups(&postgres_brackets(pat));
                        let (re_pg, groups) = if groups == [0] {
                            (string_lit(&format!("({unnamed})"))?, vec![1])
                        } else {
                            (string_lit(&unnamed)?, groups)
                        };
                        let item = match groups.as_slice() {
                            [g] => format!("to_jsonb(COALESCE(m.g[{g}], ''))"),
                            _ => format!(
                                "jsonb_build_array({})",
                                groups.iter().map(|g| format!("COALESCE(m.g[{g}], '')")).collect::<Vec<_>>().join(", ")
                            ),
                        };
                        format!("(SELECT jsonb_agg({item} ORDER BY m.i) FROM regexp_matches({t}, {re_pg}, 'g') WITH ORDINALITY AS m(g, i))")
                    }
                }
            }
            Func::ToLong | Func::ToInt if arg_ty == Some(Type::Timespan) => a[0].clone(),
            Func::ToLong | Func::ToInt if arg_ty == Some(Type::Bool) => {
                format!("(CASE WHEN {0} THEN 1 WHEN NOT {0} THEN 0 END)", a[0])
            }
            // max_of/min_of: the engines' greatest/least skip nulls as KQL does; SQLite's
            // two-argument max/min do not, so its aggregate over the arguments does it.
            Func::MaxOf | Func::MinOf => {
                let max = func == Func::MaxOf;
                match self.d.kind {
                    DialectKind::Sqlite => {
                        let rows: Vec<String> = a.iter().map(|x| format!("SELECT {x} AS v")).collect();
                        format!("(SELECT {}(u.v) FROM ({}) AS u)", if max { "max" } else { "min" }, rows.join(" UNION ALL "))
                    }
                    _ => {
                        let items: Vec<String> = a
                            .iter()
                            .map(|x| if self.d.kind == DialectKind::Postgres && arg_ty == Some(Type::String) { format!("{x} COLLATE \"C\"") } else { x.clone() })
                            .collect();
                        format!("{}({})", if max { "greatest" } else { "least" }, items.join(", "))
                    }
                }
            }
            // set_has_element(array, value) for a string or integer value; null for a non-array.
            Func::SetHasElement if matches!(args[1].ty, Type::String | Type::Long | Type::Int) => {
                let (x, v) = (&a[0], &a[1]);
                let text = args[1].ty == Type::String;
                match self.d.kind {
                    DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => return Err(core_gap(self.d)),
                    DialectKind::DuckDb => {
                        let el = if text {
                            "CASE WHEN json_type(e) = 'VARCHAR' THEN json_extract_string(e, '$') END"
                        } else {
                            "CASE WHEN json_type(e) IN ('BIGINT', 'UBIGINT') THEN CAST(e AS BIGINT) END"
                        };
                        format!("(CASE WHEN json_type({x}) = 'ARRAY' THEN list_contains(list_transform(CAST(json_extract({x}, '$[*]') AS JSON[]), lambda e: {el}), {v}) END)")
                    }
                    DialectKind::Postgres => {
                        let test = if text {
                            format!("jsonb_typeof(e) = 'string' AND e #>> '{{}}' = {v}")
                        } else {
                            format!("jsonb_typeof(e) = 'number' AND (e #>> '{{}}') ~ '^-?[0-9]+$' AND CAST(e #>> '{{}}' AS NUMERIC) = {v}")
                        };
                        format!("(CASE WHEN jsonb_typeof({x}) = 'array' THEN EXISTS (SELECT 1 FROM jsonb_array_elements({x}) AS t(e) WHERE {test}) END)")
                    }
                    DialectKind::Sqlite => {
                        let ty = if text { "text" } else { "integer" };
                        format!("(CASE WHEN json_type({x}) = 'array' THEN EXISTS (SELECT 1 FROM json_each({x}) AS t WHERE t.type = '{ty}' AND t.value = {v}) END)")
                    }
                }
            }
            // array_concat(a, b, ...): null unless every argument is an array.
            Func::ArrayConcat => {
                let all = |test: &dyn Fn(&str) -> String| a.iter().map(|x| test(x)).collect::<Vec<_>>().join(" AND ");
                match self.d.kind {
                    DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => return Err(core_gap(self.d)),
                    DialectKind::DuckDb => {
                        let lists: Vec<String> = a.iter().map(|x| format!("CAST(json_extract({x}, '$[*]') AS JSON[])")).collect();
                        format!("(CASE WHEN {} THEN to_json(flatten([{}])) END)", all(&|x| format!("json_type({x}) = 'ARRAY'")), lists.join(", "))
                    }
                    DialectKind::Postgres => format!(
                        "(CASE WHEN {} THEN {} END)",
                        all(&|x| format!("jsonb_typeof({x}) = 'array'")),
                        a.iter().map(|x| format!("({x})")).collect::<Vec<_>>().join(" || ")
                    ),
                    DialectKind::Sqlite => {
                        let parts: Vec<String> = a
                            .iter()
                            .enumerate()
                            .map(|(i, x)| format!("SELECT {i} AS s, t.key AS k, {} AS v FROM json_each({x}) AS t", Self::SQLITE_EACH_JSON))
                            .collect();
                        format!(
                            "(CASE WHEN {} THEN (SELECT json_group_array(json(u.v) ORDER BY u.s, u.k) FROM ({}) AS u) END)",
                            all(&|x| format!("json_type({x}) = 'array'")),
                            parts.join(" UNION ALL ")
                        )
                    }
                }
            }
            // bag_keys(bag): the keys in detc's (sorted) order; null for a non-bag.
            Func::BagKeys => {
                let x = &a[0];
                match self.d.kind {
                    DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => return Err(core_gap(self.d)),
                    DialectKind::DuckDb => format!("(CASE WHEN json_type({x}) = 'OBJECT' THEN to_json(list_sort(json_keys({x}))) END)"),
                    DialectKind::Postgres => format!("(CASE WHEN jsonb_typeof({x}) = 'object' THEN COALESCE((SELECT jsonb_agg(k ORDER BY k COLLATE \"C\") FROM jsonb_object_keys({x}) AS t(k)), '[]'::jsonb) END)"),
                    DialectKind::Sqlite => format!("(CASE WHEN json_type({x}) = 'object' THEN (SELECT json_group_array(t.key ORDER BY t.key) FROM json_each({x}) AS t) END)"),
                }
            }
            // dynamic_to_json(x): JSON text.
            Func::DynamicToJson => {
                self.approx("dynamic_to_json", "keys keep the engine's order (KQL sorts them); PostgreSQL also orders them its own way and adds spaces");
                let x = &a[0];
                match self.d.kind {
                    DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => return Err(core_gap(self.d)),
                    DialectKind::DuckDb => format!("COALESCE(CAST({x} AS VARCHAR), 'null')"),
                    DialectKind::Postgres => format!("COALESCE(CAST({x} AS TEXT), 'null')"),
                    DialectKind::Sqlite => format!("COALESCE(json({x}), 'null')"),
                }
            }
            // make_string / unicode_codepoints_to_string of one array of code points (or of
            // numbers): the characters; null when any value is not a valid code point.
            Func::CodepointsToString if args.len() == 1 && args[0].ty == Type::Dynamic => {
                let x = &a[0];
                let valid_cp = |n: &str, lo: u32| format!("({n} BETWEEN {lo} AND 1114111 AND NOT {n} BETWEEN 55296 AND 57343)");
                match self.d.kind {
                    DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => return Err(core_gap(self.d)),
                    DialectKind::DuckDb => {
                        let ok = format!("json_type(e) IN ('BIGINT', 'UBIGINT') AND {}", valid_cp("TRY_CAST(e AS BIGINT)", 0));
                        let elements = format!("CAST(json_extract({x}, '$[*]') AS JSON[])");
                        format!("(CASE WHEN json_type({x}) = 'ARRAY' THEN (CASE WHEN list_bool_and(list_transform({elements}, lambda e: {ok})) IS NOT FALSE THEN array_to_string(list_transform({elements}, lambda e: chr(TRY_CAST(e AS INTEGER))), '') END) WHEN json_type({x}) IN ('BIGINT', 'UBIGINT') AND {} THEN chr(TRY_CAST({x} AS INTEGER)) END)", valid_cp(&format!("TRY_CAST({x} AS BIGINT)"), 0))
                    }
                    DialectKind::Postgres => {
                        self.approx("unicode_codepoints_to_string", "code point 0: PostgreSQL text cannot hold it, so the result is null");
                        let n = "CAST(t.e #>> '{}' AS NUMERIC)";
                        let bad = format!("NOT (jsonb_typeof(t.e) = 'number' AND (t.e #>> '{{}}') ~ '^[0-9]+$' AND {})", valid_cp(n, 1));
                        let scalar = valid_cp(&format!("CAST({x} #>> '{{}}' AS NUMERIC)"), 1);
                        format!("(CASE WHEN jsonb_typeof({x}) = 'array' THEN (CASE WHEN NOT EXISTS (SELECT 1 FROM jsonb_array_elements({x}) AS t(e) WHERE {bad}) THEN COALESCE((SELECT string_agg(chr(CAST(t.e #>> '{{}}' AS INTEGER)), '' ORDER BY t.i) FROM jsonb_array_elements({x}) WITH ORDINALITY AS t(e, i)), '') END) WHEN jsonb_typeof({x}) = 'number' AND ({x} #>> '{{}}') ~ '^[0-9]+$' THEN (CASE WHEN {scalar} THEN chr(CAST({x} #>> '{{}}' AS INTEGER)) END) END)")
                    }
                    DialectKind::Sqlite => {
                        let bad = format!("NOT (t.type = 'integer' AND {})", valid_cp("t.value", 0));
                        let scalar = valid_cp(&format!("json_extract({x}, '$')"), 0);
                        format!("(CASE WHEN json_type({x}) = 'array' THEN (CASE WHEN NOT EXISTS (SELECT 1 FROM json_each({x}) AS t WHERE {bad}) THEN COALESCE((SELECT group_concat(char(t.value), '' ORDER BY t.key) FROM json_each({x}) AS t), '') END) WHEN json_type({x}) = 'integer' AND {scalar} THEN char(json_extract({x}, '$')) END)")
                    }
                }
            }
            // parse_xml: SQLite only, through detc's own XML-to-JSON conversion.
            Func::ParseXml if self.d.kind == DialectKind::Sqlite => {
                self.approx("parse_xml in SQLite", "uses detc's function of that name, registered like REGEXP");
                format!("parse_xml({})", a[0])
            }
            // base64_decode_toarray(text): the decoded bytes as numbers.
            Func::Base64DecodeToArray => {
                let x = &a[0];
                match self.d.kind {
                    DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => return Err(core_gap(self.d)),
                    DialectKind::Sqlite => {
                        self.approx("base64_decode_toarray in SQLite", "uses detc's function of that name, registered like REGEXP");
                        format!("base64_decode_toarray({x})")
                    }
                    DialectKind::DuckDb => {
                        self.approx("base64_decode_toarray", "text that is not base64 raises an engine error; KQL gives null");
                        let h = format!("hex(from_base64(trim({x})))");
                        let digit = |k: &str| format!("(instr('0123456789ABCDEF', substr({h}, i + {k}, 1)) - 1)");
                        format!("to_json(list_transform(range(0, len({h}), 2), lambda i: {} * 16 + {}))", digit("1"), digit("2"))
                    }
                    DialectKind::Postgres => {
                        self.approx("base64_decode_toarray", "text that is not base64 raises an engine error; KQL gives null");
                        let b = format!("decode(trim({x}), 'base64')");
                        format!("(SELECT COALESCE(jsonb_agg(get_byte({b}, i) ORDER BY i), '[]'::jsonb) FROM generate_series(0, length({b}) - 1) AS g(i))")
                    }
                }
            }
            // trim(regex, text): trim_start then trim_end.
            Func::Trim => {
                let start = self.call(Func::TrimStart, args)?;
                let ExprKind::Literal(Value::String(pat)) = &args[0].kind else { unreachable!("checked by trim_start") };
                let p = string_lit(&format!("(?:{pat})+$"))?;
                format!("regexp_replace({start}, {p}, '')")
            }
            Func::Hash if arg_ty == Some(Type::String) => {
                let h = match self.d.kind {
                    DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => return Err(core_gap(self.d)),
                    DialectKind::DuckDb => {
                        self.approx("hash", "DuckDB's hash(), not Kusto's xxhash64: equal texts give equal values, but the values differ");
                        format!("CAST(hash({}) >> 1 AS BIGINT)", a[0])
                    }
                    DialectKind::Postgres => {
                        self.approx("hash", "PostgreSQL's hashtextextended(), not Kusto's xxhash64: equal texts give equal values, but the values differ");
                        format!("hashtextextended({}, 0)", a[0])
                    }
                    DialectKind::Sqlite => {
                        self.approx("hash in SQLite", "uses detc's xxhash64() function (Kusto's hash), registered like REGEXP");
                        format!("xxhash64({})", a[0])
                    }
                };
                match (a.get(1), self.d.kind) {
                    (None, _) => h,
                    // Kusto's modulo is of the unsigned hash; only SQLite's is that hash.
                    (Some(m), DialectKind::Sqlite) => format!("(CASE WHEN {m} > 0 THEN xxhash64_mod({}, {m}) END)", a[0]),
                    (Some(m), _) => format!("(CASE WHEN {m} > 0 THEN abs({h}) % {m} END)"),
                }
            }
            Func::ExtractJson if args.len() == 2 => {
                let ExprKind::Literal(Value::String(path)) = &args[0].kind else {
                    return Err(unsupported("extract_json", "the path must be a constant"));
                };
                let json = match (arg_ty, self.d.kind) {
                    (_, DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery) => return Err(core_gap(self.d)),
                    (_, _) if args[1].ty == Type::Dynamic => a[1].clone(),
                    (_, DialectKind::DuckDb) => format!("(CASE WHEN json_valid({0}) THEN CAST({0} AS JSON) END)", a[1]),
                    (_, DialectKind::Sqlite) => format!("(CASE WHEN json_valid({0}) THEN json({0}) END)", a[1]),
                    (_, DialectKind::Postgres) => {
                        self.approx("extract_json in PostgreSQL", "text that is not JSON raises an error; KQL gives \"\"");
                        format!("(CASE WHEN {0} <> '' THEN CAST({0} AS JSONB) END)", a[1])
                    }
                };
                let Some(at) = self.json_path(&json, path) else {
                    return Err(unsupported("extract_json", "only paths of members and indexes ($.a[0].b) are emitted to SQL"));
                };
                fill(self.d.json_to_string, &[("a", &at)])
            }
            // range(start, stop, step) of longs; other kinds are not emitted.
            Func::Range => {
                let long = |e: &Expr| matches!(e.ty, Type::Long | Type::Int);
                if !args.iter().all(long) {
                    return Err(unsupported("range", "only ranges of integers are emitted to SQL"));
                }
                let (s, e) = (&a[0], &a[1]);
                let step = a.get(2).cloned().unwrap_or_else(|| "1".into());
                match self.d.kind {
                    DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => return Err(core_gap(self.d)),
                    DialectKind::DuckDb => format!("(CASE WHEN {step} <> 0 THEN to_json(generate_series({s}, {e}, {step})) END)"),
                    DialectKind::Postgres => format!("(CASE WHEN {step} <> 0 THEN (SELECT COALESCE(jsonb_agg(t.g ORDER BY t.o), '[]'::jsonb) FROM generate_series({s}, {e}, {step}) WITH ORDINALITY AS t(g, o)) END)"),
                    DialectKind::Sqlite => return Err(unsupported("range", "SQLite has no series function built in")),
                }
            }
            // substring(s, start, length): a negative start counts from the end; a negative
            // length gives "" (the engines' substr would raise or count backwards).
            Func::Substring => {
                let (x, start) = (&a[0], &a[1]);
                let greatest = match self.d.kind {
                    DialectKind::Sqlite => "max",
                    _ => "greatest",
                };
                let start = match args[1].kind {
                    ExprKind::Literal(Value::Long(n)) if n >= 0 => format!("{}", n + 1),
                    _ => format!("(CASE WHEN {start} < 0 THEN {greatest}(length({x}) + {start}, 0) ELSE {start} END) + 1"),
                };
                match a.get(2) {
                    Some(len) => format!("substr({x}, {start}, {greatest}({len}, 0))"),
                    None => format!("substr({x}, {start})"),
                }
            }
            // array_slice(a, start, end): inclusive, negative indexes count from the end.
            Func::ArraySlice => {
                let (x, lo, hi) = (&a[0], &a[1], &a[2]);
                let n = match self.d.kind {
                    DialectKind::Postgres => format!("jsonb_array_length({x})"),
                    _ => format!("json_array_length({x})"),
                };
                let norm = |i: &str| format!("(CASE WHEN {i} < 0 THEN {n} + {i} ELSE {i} END)");
                let (lo, hi) = (norm(lo), norm(hi));
                match self.d.kind {
                    DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => return Err(core_gap(self.d)),
                    DialectKind::DuckDb => format!(
                        "(CASE WHEN json_type({x}) = 'ARRAY' THEN to_json(list_slice(CAST(json_extract({x}, '$[*]') AS JSON[]), greatest({lo}, 0) + 1, {hi} + 1)) END)"
                    ),
                    DialectKind::Postgres => format!(
                        "(CASE WHEN jsonb_typeof({x}) = 'array' THEN COALESCE((SELECT jsonb_agg(t.e ORDER BY t.i) FROM jsonb_array_elements({x}) WITH ORDINALITY AS t(e, i) WHERE t.i - 1 BETWEEN {lo} AND {hi}), '[]'::jsonb) END)"
                    ),
                    DialectKind::Sqlite => format!(
                        "(CASE WHEN json_type({x}) = 'array' THEN COALESCE((SELECT json_group_array({}) FROM json_each({x}) AS t WHERE t.key BETWEEN {lo} AND {hi}), '[]') END)",
                        Self::SQLITE_EACH_JSON
                    ),
                }
            }
            // strcat_array(a, delimiter): the elements' text joined; '' for a non-array.
            Func::StrcatArray => {
                let (x, d) = (&a[0], &a[1]);
                match self.d.kind {
                    DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => return Err(core_gap(self.d)),
                    DialectKind::DuckDb => {
                        let e = fill(self.d.json_to_string, &[("a", "e")]);
                        format!("(CASE WHEN json_type({x}) = 'ARRAY' THEN array_to_string(list_transform(CAST(json_extract({x}, '$[*]') AS JSON[]), lambda e: {e}), {d}) ELSE '' END)")
                    }
                    DialectKind::Postgres => {
                        let agg = self.json_elements(x, &format!("string_agg({{e}}, {d} ORDER BY t.i)"), "");
                        format!("(CASE WHEN jsonb_typeof({x}) = 'array' THEN COALESCE({agg}, '') ELSE '' END)")
                    }
                    DialectKind::Sqlite => {
                        let agg = self.json_elements(x, &format!("group_concat({{e}}, {d} ORDER BY t.key)"), "");
                        format!("(CASE WHEN json_type({x}) = 'array' THEN COALESCE({agg}, '') ELSE '' END)")
                    }
                }
            }
            // trim_start/trim_end(regex, text): repeated matches removed at that end.
            Func::TrimStart | Func::TrimEnd => {
                let ExprKind::Literal(Value::String(pat)) = &args[0].kind else {
                    return Err(unsupported(func.kql(), "the regular expression must be a constant"));
                };
                let anchored = if func == Func::TrimStart { format!("^(?:{pat})+") } else { format!("(?:{pat})+$") };
                let p = string_lit(&anchored)?;
                format!("regexp_replace({}, {p}, '')", a[1])
            }
            Func::StringSize => match self.d.kind {
                DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => return Err(core_gap(self.d)),
                DialectKind::DuckDb => format!("CAST(strlen({}) AS BIGINT)", a[0]),
                DialectKind::Postgres => format!("CAST(octet_length({}) AS BIGINT)", a[0]),
                DialectKind::Sqlite => format!("length(CAST({} AS BLOB))", a[0]),
            },
            Func::Reverse if self.d.kind != DialectKind::Sqlite && arg_ty == Some(Type::String) => format!("reverse({})", a[0]),
            // Natively, round leaves a value that is not a real as it is.
            Func::Round if arg_ty != Some(Type::Real) => a[0].clone(),
            Func::Round if arg_ty == Some(Type::Real) => {
                let d = a.get(1).cloned().unwrap_or_else(|| "0".into());
                match self.d.kind {
                    DialectKind::Postgres => format!("CAST(round(CAST({} AS NUMERIC), {d}) AS DOUBLE PRECISION)", a[0]),
                    _ => format!("round({}, {d})", a[0]),
                }
            }
            // Timespans are ticks in every dialect.
            Func::ToTimespan if matches!(arg_ty, Some(Type::Timespan | Type::Long | Type::Int)) => a[0].clone(),
            Func::ToHex if arg_ty.is_some_and(|t| t.is_integer()) && args.len() == 1 => match self.d.kind {
                DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => return Err(core_gap(self.d)),
                DialectKind::DuckDb => format!("lower(hex({}))", a[0]),
                DialectKind::Postgres => format!("to_hex({})", a[0]),
                DialectKind::Sqlite => format!("printf('%x', {})", a[0]),
            },
            Func::Base64Decode if self.d.kind != DialectKind::Sqlite => {
                self.approx("base64_decode_tostring", "text that is not base64 or not UTF-8 raises an engine error; KQL gives \"\"");
                match self.d.kind {
                    DialectKind::DuckDb => format!("decode(from_base64({}))", a[0]),
                    _ => format!("convert_from(decode({}, 'base64'), 'UTF8')", a[0]),
                }
            }
            Func::ToLower if arg_ty == Some(Type::String) => format!("lower({})", a[0]),
            Func::ToUpper if arg_ty == Some(Type::String) => format!("upper({})", a[0]),
            Func::ToLower | Func::ToUpper if arg_ty == Some(Type::Dynamic) => format!(
                "{}({})",
                if func == Func::ToLower { "lower" } else { "upper" },
                fill(self.d.json_to_string, &[("a", &a[0])])
            ),
            // Text that is not JSON is the string itself (as DuckDB and SQLite have it).
            Func::ToDynamic if arg_ty == Some(Type::String) => match self.d.kind {
                DialectKind::Spark => format!("(CASE WHEN {0} = '' THEN NULL ELSE COALESCE(try_parse_json({0}), CAST({0} AS VARIANT)) END)", a[0]),
                DialectKind::Snowflake => format!("(CASE WHEN {0} = '' THEN NULL ELSE COALESCE(TRY_PARSE_JSON({0}), TO_VARIANT({0})) END)", a[0]),
                DialectKind::BigQuery => format!("(CASE WHEN {0} = '' THEN NULL ELSE COALESCE(SAFE.PARSE_JSON({0}), TO_JSON({0})) END)", a[0]),
                DialectKind::DuckDb => format!(
                    "(CASE WHEN {0} = '' THEN NULL WHEN json_valid({0}) THEN CAST({0} AS JSON) ELSE to_json({0}) END)",
                    a[0]
                ),
                DialectKind::Sqlite => format!(
                    "(CASE WHEN {0} = '' THEN NULL WHEN json_valid({0}) THEN json({0}) ELSE json_quote({0}) END)",
                    a[0]
                ),
                DialectKind::Postgres => {
                    self.approx("parse_json in PostgreSQL", "text that is not JSON raises an error; KQL returns it as a string");
                    format!("(CASE WHEN {0} = '' THEN NULL ELSE CAST({0} AS JSONB) END)", a[0])
                }
            },
            Func::ToDynamic if arg_ty == Some(Type::Dynamic) => a[0].clone(),
            Func::ToBool if arg_ty == Some(Type::String) => format!(
                "(CASE lower(trim({0})) WHEN 'true' THEN {1} WHEN 'false' THEN {2} END)",
                a[0], self.d.true_lit, self.d.false_lit
            ),
            Func::ToBool if matches!(arg_ty, Some(t) if t.is_numeric()) => format!("({} <> 0)", a[0]),
            Func::ToBool if arg_ty == Some(Type::Bool) => a[0].clone(),
            Func::DatetimeDiff if self.d.kind != DialectKind::DuckDb => {
                let ExprKind::Literal(Value::String(part)) = &args[0].kind else {
                    return Err(unsupported("datetime_diff", "the part must be a constant"));
                };
                let (x, y) = (&a[1], &a[2]);
                let unit_ticks = match part.to_ascii_lowercase().as_str() {
                    "day" => Some(864_000_000_000i64),
                    "hour" => Some(36_000_000_000),
                    "minute" => Some(600_000_000),
                    "second" => Some(10_000_000),
                    "millisecond" => Some(10_000),
                    _ => None,
                };
                match (unit_ticks, self.d.kind) {
                    (Some(u), DialectKind::Sqlite) => {
                        format!("(({} / {u}) - ({} / {u}))", self.ticks(x), self.ticks(y))
                    }
                    (Some(u), _) => format!(
                        "CAST(floor(extract(epoch FROM {x}) * 10000000 / {u}) - floor(extract(epoch FROM {y}) * 10000000 / {u}) AS BIGINT)"
                    ),
                    (None, DialectKind::Postgres) if part.eq_ignore_ascii_case("month") => format!(
                        "CAST((extract(year FROM {x}) * 12 + extract(month FROM {x})) - (extract(year FROM {y}) * 12 + extract(month FROM {y})) AS BIGINT)"
                    ),
                    (None, DialectKind::Postgres) if part.eq_ignore_ascii_case("year") => {
                        format!("CAST(extract(year FROM {x}) - extract(year FROM {y}) AS BIGINT)")
                    }
                    _ => return Err(unsupported("datetime_diff", &format!("part `{part}` is not emitted to SQL ({}) yet", self.d.name))),
                }
            }
            Func::DatetimeDiff => {
                if matches!(&args[0].kind, ExprKind::Literal(Value::String(p)) if p.eq_ignore_ascii_case("week")) {
                    return Err(unsupported("datetime_diff", "DuckDB's weeks start on Monday, KQL's on Sunday"));
                }
                format!("date_diff({}, {}, {})", a[0], a[2], a[1])
            }
            Func::ArrayLength => match self.d.kind {
                DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => return Err(core_gap(self.d)),
                DialectKind::DuckDb => format!("(CASE WHEN json_type({0}) = 'ARRAY' THEN CAST(json_array_length({0}) AS BIGINT) END)", a[0]),
                DialectKind::Postgres => format!("(CASE WHEN jsonb_typeof({0}) = 'array' THEN CAST(jsonb_array_length({0}) AS BIGINT) END)", a[0]),
                DialectKind::Sqlite => format!("(CASE WHEN json_type({0}) = 'array' THEN json_array_length({0}) END)", a[0]),
            },
            Func::ToLong | Func::ToInt | Func::ToReal if matches!(arg_ty, Some(Type::String)) => {
                let (pat, ty) = if func == Func::ToReal {
                    (r"^\s*-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?\s*$", Type::Real)
                } else {
                    (r"^\s*-?[0-9]+\s*$", Type::Long)
                };
                self.approx("tolong/toint/toreal of text", "only plain decimal text converts; other text gives null");
                let test = fill(self.d.regex_match, &[("a", &a[0]), ("p", &string_lit(pat)?)]);
                format!("(CASE WHEN {test} THEN CAST(trim({}) AS {}) END)", a[0], self.sql_type(ty))
            }
            Func::ToLong | Func::ToInt if matches!(arg_ty, Some(t) if t.is_integer()) => a[0].clone(),
            Func::ToLong | Func::ToInt if matches!(arg_ty, Some(Type::Real)) => {
                match self.d.kind {
                    // SQLite's CAST truncates toward zero and it has no trunc().
                    DialectKind::Sqlite => format!("CAST({} AS INTEGER)", a[0]),
                    // Spark's trunc() is for dates; its CAST truncates toward zero.
                    DialectKind::Spark => format!("CAST({} AS BIGINT)", a[0]),
                    _ => format!("CAST(trunc({}) AS {})", a[0], self.sql_type(Type::Long)),
                }
            }
            Func::ToReal if matches!(arg_ty, Some(t) if t.is_numeric()) => {
                format!("CAST({} AS {})", a[0], self.sql_type(Type::Real))
            }
            Func::Coalesce => {
                let parts: Vec<String> = a
                    .iter()
                    .enumerate()
                    .map(|(i, x)| {
                        // KQL's coalesce skips empty strings as well as nulls.
                        if args[i].ty == Type::String && i + 1 < a.len() { format!("NULLIF({x}, '')") } else { x.clone() }
                    })
                    .collect();
                format!("COALESCE({})", parts.join(", "))
            }
            Func::Ipv4IsPrivate if arg_ty == Some(Type::String) => {
                let (valid, ip, _) = self.ipv4(&a[0], false)?;
                format!("(CASE WHEN {valid} THEN ({ip} BETWEEN 167772160 AND 184549375 OR {ip} BETWEEN 2886729728 AND 2887778303 OR {ip} BETWEEN 3232235520 AND 3232301055) END)")
            }
            // ipv4_is_match(a, b[, prefix]): equal in the leading bits of the shortest prefix.
            Func::Ipv4IsMatch if args.iter().take(2).all(|e| e.ty == Type::String) => {
                let (va, ia, pa) = self.ipv4(&a[0], true)?;
                let (vb, ib, pb) = self.ipv4(&a[1], true)?;
                let mut prefixes = vec![pa, pb];
                let (min, max) = match self.d.kind {
                    DialectKind::Sqlite => ("min", "max"),
                    _ => ("least", "greatest"),
                };
                if let Some(p) = a.get(2) {
                    prefixes.push(format!("{max}({min}({p}, 32), 0)"));
                }
                let shift = format!("CAST(32 - {min}({}) AS INTEGER)", prefixes.join(", "));
                format!("(CASE WHEN {va} AND {vb} THEN ({ia} >> {shift}) = ({ib} >> {shift}) END)")
            }
            Func::Split => {
                // A constant, non-empty delimiter only: engines disagree on "" (DuckDB splits
                // into characters).
                let delim = match &args[1].kind {
                    ExprKind::Literal(Value::String(d)) if !d.is_empty() => d.to_string(),
                    _ => return Err(unsupported("split", "the delimiter must be a non-empty constant")),
                };
                let x = &a[0];
                match self.d.kind {
                    DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => return Err(core_gap(self.d)),
                    DialectKind::DuckDb => format!("to_json(string_split({x}, {}))", a[1]),
                    DialectKind::Postgres => format!(
                        "(CASE WHEN {x} = '' THEN '[\"\"]'::jsonb ELSE to_jsonb(string_to_array({x}, {})) END)",
                        a[1]
                    ),
                    DialectKind::Sqlite => {
                        // Build the JSON array text: escape the string, then turn each
                        // (escaped) delimiter into `","`.
                        let esc = |t: &str| t.replace('\\', "\\\\").replace('"', "\\\"");
                        let body = format!(
                            "replace(replace(replace(replace(replace({x}, '\\', '\\\\'), '\"', '\\\"'), char(10), '\\n'), char(13), '\\r'), char(9), '\\t')"
                        );
                        format!(
                            "json('[\"' || replace({body}, {}, '\",\"') || '\"]')",
                            string_lit(&esc(&delim))?
                        )
                    }
                }
            }
            Func::SplitAt => {
                let idx = match &args[2].kind {
                    ExprKind::Literal(Value::Long(i)) if *i >= 0 => *i,
                    _ => return Err(unsupported("split", "the index must be a non-negative constant")),
                };
                // The whole split as JSON, then the one element (or an empty array).
                let whole = self.call(Func::Split, &args[..2])?;
                match self.d.kind {
                    DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => return Err(core_gap(self.d)),
                    DialectKind::DuckDb => format!(
                        "(CASE WHEN json_array_length({whole}) > {idx} THEN json_array({whole} -> {idx}) ELSE '[]'::JSON END)"
                    ),
                    DialectKind::Postgres => format!(
                        "(CASE WHEN jsonb_array_length({whole}) > {idx} THEN jsonb_build_array({whole} -> {idx}) ELSE '[]'::jsonb END)"
                    ),
                    DialectKind::Sqlite => format!(
                        "(CASE WHEN json_array_length({whole}) > {idx} THEN json_array(json({whole} -> {idx})) ELSE '[]' END)"
                    ),
                }
            }
            Func::ReplaceRegex if self.d.kind == DialectKind::Sqlite => {
                self.approx("replace_regex in SQLite", "uses detc's regexp_replace() function, registered like REGEXP");
                format!("regexp_replace({}, {}, {})", a[0], a[1], a[2])
            }
            Func::Extract if self.d.kind == DialectKind::Sqlite => {
                self.approx("extract in SQLite", "uses detc's regexp_extract() function, registered like REGEXP");
                format!("regexp_extract({}, {}, {})", a[2], a[0], a[1])
            }
            Func::ToString => match arg_ty {
                Some(Type::String) => a[0].clone(),
                Some(Type::Dynamic) => {
                    if self.d.kind == DialectKind::Postgres {
                        self.approx(
                            "tostring of dynamic",
                            "an array or bag becomes PostgreSQL's jsonb text, with a space after `,` and `:`",
                        );
                    }
                    fill(self.d.json_to_string, &[("a", &a[0])])
                }
                Some(Type::Long | Type::Int) => format!(
                    "COALESCE(CAST({} AS {}), '')",
                    a[0],
                    self.sql_type(Type::String)
                ),
                // KQL's text of a datetime: ISO 8601 with 7 fraction digits (the 7th is 0 in
                // engines that keep microseconds).
                Some(Type::DateTime) => match self.d.kind {
                    DialectKind::DuckDb => format!("COALESCE(strftime({}, '%Y-%m-%dT%H:%M:%S.%f') || '0Z', '')", a[0]),
                    DialectKind::Postgres => format!("COALESCE(to_char({}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '0Z', '')", a[0]),
                    DialectKind::Sqlite => format!("COALESCE({}, '')", a[0]),
                    DialectKind::Spark => format!("COALESCE(date_format({}, 'yyyy-MM-dd''T''HH:mm:ss.SSSSSS') || '0Z', '')", a[0]),
                    DialectKind::Snowflake => format!("COALESCE(TO_VARCHAR({}, 'YYYY-MM-DD\"T\"HH24:MI:SS.FF6') || '0Z', '')", a[0]),
                    DialectKind::BigQuery => format!("COALESCE(FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%E6S', {}, 'UTC') || '0Z', '')", a[0]),
                },
                Some(Type::Timespan) => self.timespan_text(&a[0]),
                Some(Type::Bool) => format!(
                    "(CASE WHEN {0} THEN 'true' WHEN NOT {0} THEN 'false' ELSE '' END)",
                    a[0]
                ),
                Some(t) => {
                    return Err(unsupported(
                        "tostring",
                        &format!("of {t} is not emitted to SQL yet"),
                    ))
                }
                None => unreachable!(),
            },
            Func::IsEmpty | Func::IsNotEmpty => {
                let test = match arg_ty {
                    Some(Type::String) => format!("({} = '')", a[0]),
                    _ => format!("({} IS NULL)", a[0]),
                };
                if func == Func::IsEmpty {
                    test
                } else {
                    format!("(NOT {test})")
                }
            }
            Func::IsNull => format!("({} IS NULL)", a[0]),
            Func::IsNotNull => format!("({} IS NOT NULL)", a[0]),
            Func::Not => format!("(NOT {})", a[0]),
            Func::Iff => format!("(CASE WHEN {} THEN {} ELSE {} END)", a[0], a[1], a[2]),
            Func::Strlen if arg_ty == Some(Type::String) => format!("length({})", a[0]),
            // Each argument as `tostring` gives it: a dynamic string element is its bare text,
            // a datetime KQL's text (not the engine's cast).
            Func::Strcat => {
                let mut parts = Vec::new();
                for (e, x) in args.iter().zip(&a) {
                    let text = match e.ty {
                        Type::String | Type::Guid => x.clone(),
                        _ => self.expr(&Expr {
                            kind: ExprKind::Call {
                                func: Func::ToString,
                                args: vec![e.clone()],
                            },
                            ty: Type::String,
                        })?,
                    };
                    parts.push(format!("COALESCE({text}, '')"));
                }
                format!("({})", parts.join(" || "))
            }
            Func::Now => self.now_sql(),
            // Rows carry no ingestion metadata (docs/semantics.md), natively or here.
            Func::IngestionTime => self.null_of(Type::DateTime),
            Func::Ago => {
                let now = self.now_sql();
                self.dt_add(&now, &format!("-({})", a[0]))
            }
            // The core dialects take a constant key or a non-negative constant index.
            Func::GetItem if self.d.kind.core_only() => match (&args[1].kind, self.d.kind) {
                (ExprKind::Literal(Value::String(k)), DialectKind::Spark) => {
                    format!("variant_get({}, {})", a[0], string_lit(&format!("$['{}']", k.replace('\\', "\\\\").replace('\'', "\\'")))?)
                }
                (ExprKind::Literal(Value::Long(i)), DialectKind::Spark) => format!("variant_get({}, '$[{i}]')", a[0]),
                (_, DialectKind::Snowflake) => format!("GET({}, {})", a[0], a[1]),
                _ => format!("{}[{}]", a[0], a[1]),
            },
            Func::GetItem => {
                let idx = &args[1];
                if let ExprKind::Literal(Value::Long(n)) = idx.kind {
                    if n < 0 && self.d.kind == DialectKind::Sqlite {
                        return Err(unsupported(
                            "negative array index",
                            "SQLite's -> has no negative index",
                        ));
                    }
                }
                if idx.ty.is_integer() {
                    fill(self.d.get_index, &[("a", &a[0]), ("i", &a[1])])
                } else {
                    fill(self.d.get_key, &[("a", &a[0]), ("k", &a[1])])
                }
            }
            Func::MatchesRegex => {
                let text = match args[0].ty {
                    Type::Dynamic => fill(self.d.json_to_string, &[("a", &a[0])]),
                    _ => a[0].clone(),
                };
                format!(
                    "COALESCE({}, {})",
                    fill(self.d.regex_match, &[("a", &text), ("p", &a[1])]),
                    self.d.false_lit
                )
            }
            Func::Bin => match args[0].ty {
                Type::DateTime => match self.d.kind {
                    DialectKind::Sqlite => {
                        let t = self.ticks(&a[0]);
                        fill(
                            SQLITE_FROM_TICKS,
                            &[("t", &format!("(({t}) / ({s})) * ({s})", s = a[1]))],
                        )
                    }
                    _ => fill(self.d.bin_dt, &[("a", &a[0]), ("s", &a[1])]),
                },
                t if t.is_integer() => format!(
                    "(CAST(floor(CAST({} AS {}) / ({})) AS BIGINT) * ({}))",
                    a[0],
                    self.sql_type(Type::Real),
                    a[1],
                    a[1]
                ),
                Type::Real => format!("(floor({} / ({})) * ({}))", a[0], a[1], a[1]),
                t => {
                    return Err(unsupported(
                        "bin",
                        &format!("of {t} is not emitted to SQL yet"),
                    ))
                }
            },
            Func::Case => {
                let mut s = String::from("(CASE");
                for pair in a[..a.len() - 1].chunks(2) {
                    s.push_str(&format!(" WHEN {} THEN {}", pair[0], pair[1]));
                }
                s.push_str(&format!(" ELSE {} END)", a[a.len() - 1]));
                s
            }
            // DuckDB's regexp_extract takes groups 0 to 9: a later group becomes the only
            // capturing one (the others non-capturing), which matches exactly the same text.
            Func::Extract if self.d.kind == DialectKind::DuckDb && !matches!(args[1].kind, ExprKind::Literal(Value::Long(0..=9))) => {
                let (ExprKind::Literal(Value::String(pat)), ExprKind::Literal(Value::Long(g))) = (&args[0].kind, &args[1].kind) else {
                    return Err(unsupported("extract", "DuckDB's regexp_extract takes a constant group from 0 to 9"));
                };
                let Some(only) = usize::try_from(*g).ok().and_then(|g| only_group(pat, g)) else {
                    return Err(unsupported("extract", "the group is not in the regular expression"));
                };
                format!("regexp_extract({}, {}, 1)", a[2], string_lit(&only)?)
            }
            Func::Extract if self.d.kind == DialectKind::Postgres => {
                let group = match args[1].kind {
                    ExprKind::Literal(Value::Long(n)) => n,
                    _ => return Err(unsupported("extract", "the group must be a constant")),
                };
                // PostgreSQL has no named groups: the names go, the numbering stays.
                if let ExprKind::Literal(Value::String(pat)) = &args[0].kind {
                    a[0] = string_lit(&unname_groups(&postgres_brackets(pat)))?;
                }
                if group == 0 {
                    format!("COALESCE(substring({} FROM {}), '')", a[2], a[0])
                } else {
                    format!("COALESCE((regexp_match({}, {}))[{group}], '')", a[2], a[0])
                }
            }
            // Values inside JSON: datetimes as KQL's text, SQLite's 0/1 as `true`/`false`.
            Func::PackArray | Func::BagPack => {
                let mut items = Vec::new();
                for (i, (e, x)) in args.iter().zip(&a).enumerate() {
                    let value = func == Func::PackArray || i % 2 == 1;
                    items.push(if value { self.as_json(e, x)? } else { x.clone() });
                }
                let tpl = crate::emit::sql_funcs::function(self.d.kind, func).expect("spelled");
                tpl.replace("{*}", &items.join(", "))
            }
            f => match crate::emit::sql_funcs::function(self.d.kind, f) {
                Some(tpl) => {
                    let mut out = tpl.replace("{*}", &a.join(", "));
                    for (i, x) in a.iter().enumerate() {
                        out = out.replace(&format!("{{{i}}}"), x);
                    }
                    if out.contains('{') && tpl.contains("{2}") && a.len() < 3 {
                        // An optional trailing argument that was not given (substring's length).
                        out = out.replace(", {2}", "");
                    }
                    out
                }
                None => {
                    return Err(unsupported(
                        f.kql(),
                        &format!("not emitted to SQL ({}) yet", self.d.name),
                    ))
                }
            },
        })
    }

    /// IPv4 text `x` as (its validity, its value as an integer, its prefix length), by the
    /// grammar of detc's parser: four decimal octets 0-255 without leading zeros; with
    /// `prefixed`, also surrounding spaces and an optional `/n` (n at most 32, default 32).
    fn ipv4(&mut self, x: &str, prefixed: bool) -> Result<(String, String, String), Unsupported> {
        const OCTET: &str = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])";
        let dotted = format!("{OCTET}\\.{OCTET}\\.{OCTET}\\.{OCTET}");
        let pat = if prefixed {
            format!("^\\s*{dotted}\\s*(/\\s*\\+?0*([0-9]|[12][0-9]|3[0-2])\\s*)?$")
        } else {
            format!("^{dotted}$")
        };
        let p = string_lit(&pat)?;
        let valid = fill(self.d.regex_match, &[("a", x), ("p", &p)]);
        let big = self.sql_type(Type::Long);
        let mut octets = Vec::new();
        for g in 1..=4 {
            octets.push(format!("CAST({} AS {big})", self.regex_group(x, &p, g)));
        }
        let ip = format!(
            "({} * 16777216 + {} * 65536 + {} * 256 + {})",
            octets[0], octets[1], octets[2], octets[3]
        );
        let prefix = if prefixed {
            format!(
                "COALESCE(CAST(NULLIF({}, '') AS {big}), 32)",
                self.regex_group(x, &p, 6)
            )
        } else {
            "32".into()
        };
        Ok((valid, ip, prefix))
    }

    /// Group `g` of the regex literal `p` in `s`, '' when it does not match or take part.
    fn regex_group(&mut self, s: &str, p: &str, g: usize) -> String {
        match self.d.kind {
            DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => {
                unreachable!("outside the core dialects' gate (sql_core)")
            }
            DialectKind::DuckDb => format!("regexp_extract({s}, {p}, {g})"),
            DialectKind::Postgres => format!("COALESCE((regexp_match({s}, {p}))[{g}], '')"),
            DialectKind::Sqlite => {
                self.approx(
                    "extract in SQLite",
                    "uses detc's regexp_extract() function, registered like REGEXP",
                );
                format!("regexp_extract({s}, {p}, {g})")
            }
        }
    }

    /// Whether number `a` is among the elements of JSON value `x` (arrays one level deep): a
    /// numeric element equal as a number, another element equal as text.
    fn number_in_elements(&mut self, a: &str, x: &str) -> String {
        self.approx(
            "in with a dynamic list",
            "arrays are flattened one level; KQL flattens nested arrays completely",
        );
        let text = format!("CAST({a} AS {})", self.sql_type(Type::String));
        let elements = self.elements_of(x);
        let t = fill(self.d.json_to_string, &[("a", "e.v")]);
        let test = match self.d.kind {
            DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => unreachable!("outside the core dialects' gate (sql_core)"),
            DialectKind::DuckDb => format!("CASE WHEN json_type(e.v) IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN CAST(e.v AS DOUBLE) = {a} WHEN json_type(e.v) = 'NULL' THEN FALSE ELSE {t} = {text} END"),
            DialectKind::Postgres => format!("CASE WHEN jsonb_typeof(e.v) = 'number' THEN CAST(e.v #>> '{{}}' AS DOUBLE PRECISION) = {a} WHEN jsonb_typeof(e.v) = 'null' THEN FALSE ELSE {t} = {text} END"),
            DialectKind::Sqlite => format!("CASE WHEN e.type IN ('integer', 'real') THEN e.value = {a} WHEN e.type = 'null' THEN 0 WHEN e.type IN ('true', 'false') THEN e.type = {text} ELSE e.value = {text} END"),
        };
        format!("EXISTS (SELECT 1 FROM {elements} WHERE {test})")
    }

    /// A FROM item with one row `e` per element of JSON value `x`: an array's elements (one
    /// level), a scalar as itself, nothing for SQL NULL. DuckDB and PostgreSQL name the
    /// element `e.v`; SQLite's is the json_each row `e`.
    fn elements_of(&self, x: &str) -> String {
        match self.d.kind {
            DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => unreachable!("outside the core dialects' gate (sql_core)"),
            DialectKind::DuckDb => format!("(SELECT unnest(CASE WHEN {x} IS NULL THEN CAST([] AS JSON[]) WHEN json_type({x}) = 'ARRAY' THEN CAST(json_extract({x}, '$[*]') AS JSON[]) ELSE [{x}] END) AS v) AS e"),
            DialectKind::Postgres => format!("jsonb_array_elements(CASE WHEN {x} IS NULL THEN '[]'::jsonb WHEN jsonb_typeof({x}) = 'array' THEN {x} ELSE jsonb_build_array({x}) END) AS e(v)"),
            DialectKind::Sqlite => format!("json_each(CASE WHEN {x} IS NULL THEN '[]' WHEN json_type({x}) = 'array' THEN {x} ELSE json_array(json({x})) END) AS e"),
        }
    }

    /// `SELECT "__detc_text"` of the texts (as `tostring` gives them) of the elements of JSON value `x`
    /// (`from`: the FROM item `x` reads, or "" for none): an array gives its elements, one
    /// level deep; null gives nothing; another value is its own element.
    fn element_texts(&mut self, x: &str, from: &str) -> String {
        self.approx(
            "in with a dynamic list",
            "arrays are flattened one level; KQL flattens nested arrays completely",
        );
        let from = if from.is_empty() {
            String::new()
        } else {
            format!("{from}, ")
        };
        let elements = self.elements_of(x);
        let t = fill(self.d.json_to_string, &[("a", "e.v")]);
        match self.d.kind {
            DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => unreachable!("outside the core dialects' gate (sql_core)"),
            DialectKind::DuckDb => format!("SELECT {t} AS \"__detc_text\" FROM {from}{elements} WHERE json_type(e.v) <> 'NULL'"),
            DialectKind::Postgres => format!("SELECT {t} AS \"__detc_text\" FROM {from}{elements} WHERE jsonb_typeof(e.v) <> 'null'"),
            DialectKind::Sqlite => format!("SELECT CASE e.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(e.value AS TEXT) END AS \"__detc_text\" FROM {from}{elements} WHERE e.type <> 'null'"),
        }
    }

    /// KQL's text of a timespan in ticks: `[-][d.]hh:mm:ss[.fffffff]`, '' for null.
    fn timespan_text(&self, t: &str) -> String {
        let div = |a: &str, b: &str| fill(self.d.int_div, &[("a", a), ("b", b)]);
        let pad = |x: &str, n: usize| match self.d.kind {
            DialectKind::Sqlite => format!("substr('0000000' || ({x}), -{n}, {n})"),
            _ => format!(
                "lpad(CAST({x} AS {}), {n}, '0')",
                self.sql_type(Type::String)
            ),
        };
        let text = |x: &str| format!("CAST({x} AS {})", self.sql_type(Type::String));
        let a = format!("abs({t})");
        let secs = div(&a, "10000000");
        let days = div(&secs, "86400");
        let h = format!("({} % 24)", div(&secs, "3600"));
        let m = format!("({} % 60)", div(&secs, "60"));
        let s = format!("({secs} % 60)");
        let f = format!("({a} % 10000000)");
        format!(
            "COALESCE(CASE WHEN {t} < 0 THEN '-' ELSE '' END || CASE WHEN {days} > 0 THEN {} || '.' ELSE '' END || {} || ':' || {} || ':' || {} || CASE WHEN {f} > 0 THEN '.' || {} ELSE '' END, '')",
            text(&days),
            pad(&h, 2),
            pad(&m, 2),
            pad(&s, 2),
            pad(&f, 7)
        )
    }

    /// A regular expression argument this dialect can read as Rust's `regex` does; only
    /// constant patterns are checked (a pattern computed at run time is the engine's to judge).
    fn check_regex(&mut self, e: &Expr, unnamed: bool) -> Result<(), Unsupported> {
        if matches!(self.d.kind, DialectKind::Spark | DialectKind::Snowflake) {
            self.regex_from_rule = true;
        }
        let ExprKind::Literal(Value::String(pat)) = &e.kind else {
            return Ok(());
        };
        if self.d.kind == DialectKind::Postgres {
            let pat = postgres_brackets(pat);
            let pat = if unnamed { unname_groups(&pat) } else { pat };
            if let Some(why) = postgres_regex_problem(&pat) {
                return Err(unsupported("regular expression", why));
            }
        }
        Ok(())
    }

    /// `todatetime` of text (`x` is its SQL).
    fn todatetime_text(&mut self, x: &str) -> Result<String, Unsupported> {
        Ok(match self.d.kind {
            DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => {
                return Err(core_gap(self.d))
            }
            DialectKind::DuckDb => format!("TRY_CAST(trim({x}) AS TIMESTAMP)"),
            DialectKind::Postgres => {
                let ok = fill(
                    self.d.regex_match,
                    &[
                        ("a", x),
                        (
                            "p",
                            &string_lit(
                                r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?Z?\s*$",
                            )?,
                        ),
                    ],
                );
                self.approx("todatetime in PostgreSQL", "well-formed text naming an impossible date (day 0) raises an engine error; KQL gives null");
                format!("(CASE WHEN {ok} THEN CAST(trim({x}) AS TIMESTAMP) END)")
            }
            DialectKind::Sqlite => {
                self.approx(
                    "todatetime in SQLite",
                    "strftime keeps milliseconds: digits beyond them are dropped",
                );
                format!("(strftime('%Y-%m-%dT%H:%M:%f', trim({x})) || '0000Z')")
            }
        })
    }

    /// The SQL of JSON `x` at a constant JSONPath of members and indexes (`$.a['b'][0]`),
    /// the grammar detc's extract_json reads; `None` for any other path.
    fn json_path(&self, x: &str, path: &str) -> Option<String> {
        let mut out = x.to_string();
        let mut rest = path.trim().strip_prefix('$')?;
        while !rest.is_empty() {
            let (key, index);
            if let Some(r) = rest.strip_prefix('.') {
                let end = r.find(['.', '[']).unwrap_or(r.len());
                (key, index) = (Some(r[..end].to_string()), None);
                rest = &r[end..];
            } else if let Some(r) = rest.strip_prefix('[') {
                let end = r.find(']')?;
                let k = r[..end].trim();
                match k.parse::<u32>() {
                    Ok(i) => (key, index) = (None, Some(i)),
                    Err(_) => (key, index) = (Some(k.trim_matches(['\'', '"']).to_string()), None),
                }
                rest = &r[end + 1..];
            } else {
                return None;
            }
            out = match (key, index) {
                (Some(k), _) => fill(self.d.get_key, &[("a", &out), ("k", &string_lit(&k).ok()?)]),
                (_, Some(i)) => fill(self.d.get_index, &[("a", &out), ("i", &i.to_string())]),
                _ => unreachable!(),
            };
        }
        Some(out)
    }

    /// The elements of JSON array `arr` as text rows, in order, aggregated by `agg` (which
    /// reads `{e}`, an element's KQL text, and `{i}`, its 0-based index).
    fn json_elements(&self, arr: &str, agg: &str, filter: &str) -> String {
        match self.d.kind {
            DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => {
                unreachable!("outside the core dialects' gate (sql_core)")
            }
            DialectKind::DuckDb => unreachable!("DuckDB uses list functions"),
            DialectKind::Postgres => {
                let e = fill(self.d.json_to_string, &[("a", "t.e")]);
                let body = agg.replace("{e}", &e).replace("{i}", "(t.i - 1)");
                let filter = filter.replace("{i}", "(t.i - 1)");
                format!("(SELECT {body} FROM jsonb_array_elements({arr}) WITH ORDINALITY AS t(e, i){filter})")
            }
            DialectKind::Sqlite => {
                let e = "CASE t.type WHEN 'null' THEN '' WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE t.value END";
                let body = agg.replace("{e}", e).replace("{i}", "t.key");
                let filter = filter.replace("{i}", "t.key");
                format!("(SELECT {body} FROM json_each({arr}) AS t{filter})")
            }
        }
    }

    /// Whether JSON value `v` is a string (the core dialects).
    fn json_is_string(&self, v: &str) -> String {
        match self.d.kind {
            DialectKind::Spark => format!("schema_of_variant({v}) = 'STRING'"),
            DialectKind::Snowflake => format!("TYPEOF({v}) = 'VARCHAR'"),
            _ => format!("JSON_TYPE({v}) = 'string'"),
        }
    }

    /// The items `mv-expand` makes of a property bag `c`, as this dialect's array (DuckDB: a
    /// JSON[] list): one-member bags, or `[key, value]` pairs with `bagexpansion=array`.
    fn bag_items(&self, c: &str, pairs: bool) -> String {
        match self.d.kind {
            DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => {
                unreachable!("these expand bags in `mv_expand_core`")
            }
            DialectKind::DuckDb => {
                let item = if pairs {
                    "json_array(e.key, e.value)"
                } else {
                    "json_object(e.key, e.value)"
                };
                format!("list_transform(map_entries(CAST({c} AS MAP(VARCHAR, JSON))), lambda e: {item})")
            }
            DialectKind::Postgres => {
                let item = if pairs {
                    "jsonb_build_array(k.key, k.value)"
                } else {
                    "jsonb_build_object(k.key, k.value)"
                };
                format!(
                    "COALESCE((SELECT jsonb_agg({item}) FROM jsonb_each({c}) AS k), '[]'::jsonb)"
                )
            }
            DialectKind::Sqlite => {
                let v = Self::SQLITE_EACH_JSON.replace("t.", "k.");
                let item = if pairs {
                    format!("json_array(k.key, {v})")
                } else {
                    format!("json_object(k.key, {v})")
                };
                format!("(SELECT json_group_array({item}) FROM json_each({c}) AS k)")
            }
        }
    }

    /// A JSON array element of SQLite's json_each row `t` as JSON (json_each gives booleans
    /// as 0/1 and strings bare).
    const SQLITE_EACH_JSON: &'static str = "json(CASE t.type WHEN 'text' THEN json_quote(t.value) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'null' THEN 'null' ELSE t.value END)";

    /// Group 1 of `pat` in `s`, or '' when it does not match.
    fn group(&mut self, s: &str, pat: &str) -> Result<String, Unsupported> {
        let p = string_lit(pat)?;
        Ok(match self.d.kind {
            DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => {
                return Err(core_gap(self.d))
            }
            DialectKind::DuckDb => format!("regexp_extract({s}, {p}, 1)"),
            DialectKind::Postgres => format!("COALESCE(substring({s} FROM {p}), '')"),
            DialectKind::Sqlite => {
                self.approx(
                    "parse_url parts in SQLite",
                    "uses detc's regexp_extract() function, registered like REGEXP",
                );
                format!("regexp_extract({s}, {p}, 1)")
            }
        })
    }

    fn url_part(&mut self, x: &str, key: &str) -> Result<String, Unsupported> {
        let rest = self.group(x, "^.*?://(.*)$")?;
        let nofrag = self.group(&rest, "^([^#]*)")?;
        let noquery = self.group(&nofrag, "^([^?]*)")?;
        let authority = self.group(&noquery, "^([^/]*)")?;
        let hostport = self.group(&authority, "^(?:.*@)?(.*)$")?;
        let userinfo = self.group(&authority, "^(.*)@")?;
        Ok(match key {
            "Scheme" => self.group(x, "^(.*?)://")?,
            "Fragment" => self.group(&rest, "^[^#]*#(.*)$")?,
            "Path" => self.group(&noquery, "^[^/]*(/.*)$")?,
            "Username" => self.group(&userinfo, "^([^:]*)")?,
            "Password" => self.group(&userinfo, "^[^:]*:(.*)$")?,
            "Port" => self.group(&hostport, "^.*:([0-9]*)$")?,
            "Host" => {
                let with_port = fill(
                    self.d.regex_match,
                    &[("a", &hostport), ("p", "'^.*:[0-9]*$'")],
                );
                let h = self.group(&hostport, "^(.*):[0-9]*$")?;
                format!("(CASE WHEN {with_port} THEN {h} ELSE {hostport} END)")
            }
            other => {
                return Err(unsupported(
                    "parse_url",
                    &format!("the part `{other}` is not emitted to SQL yet"),
                ))
            }
        })
    }

    /// The keys of an `ORDER BY`.
    fn order_by(&mut self, keys: &[crate::ir::SortKey]) -> Result<String, Unsupported> {
        let k: Vec<String> = keys
            .iter()
            .map(|k| self.sort_key(k))
            .collect::<Result<_, _>>()?;
        Ok(k.join(", "))
    }

    fn sort_key(&mut self, k: &crate::ir::SortKey) -> Result<String, Unsupported> {
        Ok(format!(
            "{} {} NULLS {}",
            self.expr(&k.expr)?,
            if k.desc { "DESC" } else { "ASC" },
            if k.nulls_first { "FIRST" } else { "LAST" }
        ))
    }

    /// SQLite has no arg_max, but when a query's only aggregate is one `max()` (or `min()`),
    /// its bare columns come from the row holding that extreme (a documented SQLite rule).
    fn sqlite_arg_extreme(
        &mut self,
        aggs: &[(String, crate::ir::Agg)],
    ) -> Result<Option<Vec<String>>, Unsupported> {
        use crate::ir::AggFunc;
        let Some((_, first)) = aggs.first() else {
            return Ok(None);
        };
        let same = aggs
            .iter()
            .all(|(_, a)| a.func == first.func && a.args.first() == first.args.first());
        if self.d.kind != DialectKind::Sqlite
            || !matches!(first.func, AggFunc::ArgMax | AggFunc::ArgMin)
            || !same
        {
            return Ok(None);
        }
        self.approx("arg_max/arg_min in SQLite", "bare columns beside one max()/min(); a group whose key is all null gives an arbitrary row");
        let f = if first.func == AggFunc::ArgMax {
            "max"
        } else {
            "min"
        };
        let key = self.expr(&first.args[0])?;
        let mut cols = vec![];
        let mut key_done = false;
        for (n, a) in aggs {
            if a.args[1] == a.args[0] && !key_done {
                cols.push(format!("{f}({key}) AS {}", quote_ident(n)));
                key_done = true;
            } else {
                cols.push(format!("{} AS {}", self.expr(&a.args[1])?, quote_ident(n)));
            }
        }
        if !key_done {
            cols.push(format!("{f}({key}) AS \"__detc_extreme\""));
        }
        Ok(Some(cols))
    }

    fn aggregate(&mut self, a: &crate::ir::Agg) -> Result<String, Unsupported> {
        use crate::ir::AggFunc;
        super::sql_core::check_agg(self.d, a)?;
        if a.func == AggFunc::MakeBag {
            return self.make_bag(a);
        }
        // Extremes of booleans and of dynamic values (detc's order: dynamic values by their
        // text); `take_any` is the smallest value natively.
        if matches!(a.func, AggFunc::Min | AggFunc::Max | AggFunc::Any) {
            let least = a.func != AggFunc::Max;
            match a.args[0].ty {
                Type::Bool if self.d.kind == DialectKind::Postgres => {
                    let x = self.expr(&a.args[0])?;
                    return Ok(format!(
                        "{}({x})",
                        if least { "bool_and" } else { "bool_or" }
                    ));
                }
                Type::Dynamic => {
                    let x = self.expr(&a.args[0])?;
                    let key = fill(self.d.json_to_string, &[("a", &x)]);
                    return Ok(match self.d.kind {
                        DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => return Err(core_gap(self.d)),
                        DialectKind::DuckDb => format!("{}({x}, {key})", if least { "arg_min" } else { "arg_max" }),
                        DialectKind::Postgres => format!(
                            "(array_agg({x} ORDER BY {key} COLLATE \"C\" {}) FILTER (WHERE {x} IS NOT NULL))[1]",
                            if least { "ASC" } else { "DESC" }
                        ),
                        DialectKind::Sqlite => format!(
                            "json_extract({}(CASE WHEN {x} IS NOT NULL THEN json_array({key}, json({x})) END), '$[1]')",
                            if least { "min" } else { "max" }
                        ),
                    });
                }
                _ => {}
            }
        }
        // Sets and lists of datetimes hold their text (what a dynamic datetime is in KQL).
        if matches!(
            a.func,
            AggFunc::MakeSet | AggFunc::MakeSetIf | AggFunc::MakeList | AggFunc::MakeListIf
        ) && a.args[0].ty == Type::DateTime
        {
            let mut a = a.clone();
            a.args[0] = Expr {
                kind: ExprKind::Call {
                    func: Func::ToString,
                    args: vec![a.args[0].clone()],
                },
                ty: Type::String,
            };
            return self.aggregate(&a);
        }
        let collects = matches!(
            a.func,
            AggFunc::MakeSet | AggFunc::MakeSetIf | AggFunc::MakeList | AggFunc::MakeListIf
        );
        if collects
            && a.args[0].ty == Type::Dynamic
            && !matches!(
                &a.args[0].kind,
                ExprKind::Call {
                    func: Func::BagPack,
                    ..
                }
            )
        {
            return self.collect_dynamic(a);
        }
        if matches!(a.func, AggFunc::ArgMax | AggFunc::ArgMin) {
            self.approx(
                "arg_max/arg_min ties",
                "among rows tied on the key, the engine picks whose values are returned (KQL picks any too; detc's native run takes the first)",
            );
        }
        if matches!(a.func, AggFunc::MakeList | AggFunc::MakeListIf) {
            let object = matches!(
                &a.args[0].kind,
                ExprKind::Call {
                    func: Func::BagPack,
                    ..
                }
            );
            let scalar = matches!(
                a.args[0].ty,
                Type::String | Type::Long | Type::Int | Type::Real
            ) || (a.args[0].ty == Type::Bool && self.d.kind != DialectKind::Sqlite);
            if !object && !scalar {
                return Err(unsupported(
                    a.func.kql(),
                    &format!("of {} values is not emitted to SQL yet", a.args[0].ty),
                ));
            }
            self.approx(
                "make_list",
                "elements follow the engine's row order, which SQL leaves unspecified (KQL: the input order); with a size limit, which elements are kept is unspecified too",
            );
        }
        if self.d.kind == DialectKind::Sqlite
            && matches!(a.func, AggFunc::ArgMax | AggFunc::ArgMin)
            && !matches!(a.args[0].ty, Type::DateTime | Type::String | Type::Guid)
        {
            return Err(unsupported(
                a.func.kql(),
                "SQLite orders the key as JSON text: only datetime and string keys are emitted",
            ));
        }
        if a.limit.is_some() && self.d.kind == DialectKind::Sqlite {
            self.approx(
                "make_set with a size limit in SQLite",
                "uses detc's json_array_head() function, registered like REGEXP",
            );
        }
        let limited = match a.limit {
            Some(n) => match crate::emit::sql_funcs::make_set_limited(self.d.kind, a.func) {
                Some(tpl) => Some(tpl.replace("{n}", &n.to_string())),
                None => {
                    return Err(unsupported(
                        a.func.kql(),
                        "a size limit is not emitted to SQL yet",
                    ))
                }
            },
            None => None,
        };
        if matches!(a.func, AggFunc::MakeSet | AggFunc::MakeSetIf)
            && !matches!(
                a.args[0].ty,
                Type::String | Type::Long | Type::Int | Type::Real
            )
        {
            return Err(unsupported(
                a.func.kql(),
                &format!("of {} values is not emitted to SQL yet", a.args[0].ty),
            ));
        }
        let Some(tpl) = limited
            .as_deref()
            .or_else(|| crate::emit::sql_funcs::aggregate(self.d.kind, a.func))
        else {
            return Err(unsupported(
                a.func.kql(),
                &format!("not emitted to SQL ({}) yet", self.d.name),
            ));
        };
        let args: Vec<String> = a
            .args
            .iter()
            .map(|e| self.expr(e))
            .collect::<Result<_, _>>()?;
        let pred_at = match a.func {
            AggFunc::CountIf => Some(0),
            AggFunc::DCountIf
            | AggFunc::SumIf
            | AggFunc::MakeSetIf
            | AggFunc::MakeListIf
            | AggFunc::AnyIf => Some(1),
            _ => None,
        };
        let mut out = tpl.to_string();
        if let Some(i) = pred_at {
            out = out.replace("{p}", &args[i]);
        }
        for (i, x) in args.iter().enumerate() {
            out = out.replace(&format!("{{{i}}}"), x);
        }
        if matches!(a.func, AggFunc::Stdev | AggFunc::Variance)
            && self.d.kind == DialectKind::Sqlite
        {
            self.approx(
                "stdev/variance in SQLite",
                "computed from sums of squares (SQLite has no such aggregate): large values with a small spread lose precision; stdev needs sqrt(), which SQLite has only when built with math functions (detc registers one)",
            );
        }
        if a.func == AggFunc::Percentile && self.d.kind == DialectKind::Sqlite {
            self.approx(
                "percentile in SQLite",
                "uses detc's percentile_disc() aggregate (nearest rank), registered like REGEXP",
            );
        }
        if a.func == AggFunc::Percentile {
            self.approx(
                "percentile",
                "the exact nearest-rank value; KQL estimates it",
            );
        }
        if a.func == AggFunc::DCount || a.func == AggFunc::DCountIf {
            self.approx(
                "dcount",
                "exact distinct count; KQL estimates, exactly up to about 1000 values",
            );
        }
        Ok(out)
    }

    fn plain_cols(node: &Node) -> String {
        node.schema
            .iter()
            .map(|c| quote_ident(&c.name))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A node's columns, plus the row number inside an `mv-apply` body.
    fn cols(&self, node: &Node) -> String {
        let mut s = Self::plain_cols(node);
        if self.outer.is_some() {
            s.push_str(", ");
            s.push_str(ROW);
        }
        s
    }

    /// The plan of a sub-query inside an expression: never partitioned by an enclosing
    /// `mv-apply` body.
    fn sub_plan(&mut self, plan: &Node) -> Result<String, Unsupported> {
        let outer = self.outer.take();
        let q = self.node(plan);
        self.outer = outer;
        q
    }

    /// `mv-expand` of several columns, `with_itemindex` or `limit`: each row is repeated for
    /// i in 0 .. the longest array's length, and each column takes its element i (null past
    /// its end). A bag gives its properties, a scalar is one element, as in the one-column form.
    fn mv_expand_indexed(
        &mut self,
        node: &Node,
        input: &Node,
        columns: &[(usize, Option<Type>)],
        with_index: bool,
        limit: Option<u64>,
        bag_array: bool,
    ) -> Result<String, Unsupported> {
        for (_, t) in columns {
            if matches!(t, Some(t) if !matches!(t, Type::String | Type::Long | Type::Int | Type::Real | Type::Bool | Type::Dynamic | Type::DateTime))
            {
                return Err(unsupported(
                    "mv-expand to typeof()",
                    "this type is not emitted to SQL yet",
                ));
            }
        }
        let q = self.node(input)?;
        let kind = self.d.kind;
        let norm = |c: &str| {
            let bag = self.bag_items(c, bag_array);
            match kind {
                DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => unreachable!("outside the core dialects' gate (sql_core)"),
            DialectKind::DuckDb => format!("(CASE WHEN {c} IS NULL THEN '[null]'::JSON WHEN json_type({c}) = 'ARRAY' THEN {c} WHEN json_type({c}) = 'OBJECT' THEN to_json({bag}) ELSE json_array({c}) END)"),
            DialectKind::Postgres => format!("(CASE WHEN {c} IS NULL THEN '[null]'::jsonb WHEN jsonb_typeof({c}) = 'array' THEN {c} WHEN jsonb_typeof({c}) = 'object' THEN {bag} ELSE jsonb_build_array({c}) END)"),
            DialectKind::Sqlite => format!("(CASE WHEN {c} IS NULL THEN '[null]' WHEN json_type({c}) = 'array' THEN {c} WHEN json_type({c}) = 'object' THEN {bag} ELSE json_array(json({c})) END)"),
        }
        };
        let len = |n: &str| match kind {
            DialectKind::Postgres => format!("jsonb_array_length({n})"),
            _ => format!("json_array_length({n})"),
        };
        let norms: Vec<String> = columns
            .iter()
            .map(|(i, _)| norm(&format!("t.{}", quote_ident(&input.schema[*i].name))))
            .collect();
        let lens: Vec<String> = norms.iter().map(|n| len(n)).collect();
        let longest = if lens.len() == 1 {
            lens[0].clone()
        } else {
            match kind {
                DialectKind::Sqlite => format!("max({})", lens.join(", ")),
                _ => format!("greatest({})", lens.join(", ")),
            }
        };
        // The index i, and the FROM that repeats each row for it.
        let (from, i) = match kind {
            DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => return Err(core_gap(self.d)),
            DialectKind::DuckDb => (
                format!("{q} AS t, LATERAL (SELECT generate_series AS i FROM generate_series(0, CAST({longest} AS BIGINT) - 1)) AS g"),
                "g.i".to_string(),
            ),
            DialectKind::Postgres => (
                format!("{q} AS t CROSS JOIN LATERAL generate_series(0, {longest} - 1) AS g(i)"),
                "g.i".to_string(),
            ),
            DialectKind::Sqlite => {
                // json_each over the longest normalised array gives its keys 0 .. n-1.
                let pick = if norms.len() == 1 {
                    norms[0].clone()
                } else {
                    let arms: Vec<String> = norms
                        .iter()
                        .zip(&lens)
                        .map(|(n, l)| format!("WHEN {l} = {longest} THEN {n}"))
                        .collect();
                    format!("(CASE {} END)", arms.join(" "))
                };
                (format!("{q} AS t, json_each({pick}) AS g"), "g.key".to_string())
            }
        };
        let element = |n: &str| -> (String, String) {
            // (the JSON element, its path for SQLite)
            match kind {
                DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => {
                    unreachable!("outside the core dialects' gate (sql_core)")
                }
                DialectKind::DuckDb => (
                    format!("json_extract({n}, '$[' || {i} || ']')"),
                    String::new(),
                ),
                DialectKind::Postgres => (format!("({n} -> CAST({i} AS INT))"), String::new()),
                DialectKind::Sqlite => {
                    let path = format!("('$[' || {i} || ']')");
                    (format!("({n} -> {path})"), path)
                }
            }
        };
        let mut sel = Vec::new();
        for (k, col) in input.schema.iter().enumerate() {
            let Some(pos) = columns.iter().position(|(c, _)| *c == k) else {
                sel.push(format!("t.{}", quote_ident(&col.name)));
                continue;
            };
            let n = &norms[pos];
            let (el, path) = element(n);
            // A datetime is the element's text converted.
            let datetime = columns[pos].1 == Some(Type::DateTime);
            let to_type = if datetime {
                Some(Type::String)
            } else {
                columns[pos].1
            };
            let value = match (to_type, kind) {
                (None | Some(Type::Dynamic), _) => el,
                (Some(Type::String), DialectKind::DuckDb) => format!("CASE WHEN json_type({el}) = 'VARCHAR' THEN json_extract_string({el}, '$') ELSE '' END"),
                (Some(Type::String), DialectKind::Postgres) => format!("CASE WHEN jsonb_typeof({el}) = 'string' THEN {el} #>> '{{}}' ELSE '' END"),
                (Some(Type::String), DialectKind::Sqlite) => format!("CASE WHEN json_type({n}, {path}) = 'text' THEN {n} ->> {path} ELSE '' END"),
                (Some(Type::Long | Type::Int), DialectKind::DuckDb) => format!("CASE WHEN json_type({el}) IN ('BIGINT', 'UBIGINT') THEN CAST({el} AS BIGINT) END"),
                (Some(Type::Long | Type::Int), DialectKind::Postgres) => format!("CASE WHEN jsonb_typeof({el}) = 'number' AND ({el} #>> '{{}}') ~ '^-?[0-9]+$' THEN CAST({el} #>> '{{}}' AS BIGINT) END"),
                (Some(Type::Long | Type::Int), DialectKind::Sqlite) => format!("CASE WHEN json_type({n}, {path}) = 'integer' THEN {n} ->> {path} END"),
                (Some(Type::Real), DialectKind::DuckDb) => format!("CASE WHEN json_type({el}) IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN CAST({el} AS DOUBLE) END"),
                (Some(Type::Real), DialectKind::Postgres) => format!("CASE WHEN jsonb_typeof({el}) = 'number' THEN CAST({el} #>> '{{}}' AS DOUBLE PRECISION) END"),
                (Some(Type::Real), DialectKind::Sqlite) => format!("CASE WHEN json_type({n}, {path}) IN ('integer', 'real') THEN CAST({n} ->> {path} AS REAL) END"),
                (Some(Type::Bool), DialectKind::DuckDb) => format!("CASE WHEN json_type({el}) = 'BOOLEAN' THEN CAST({el} AS BOOLEAN) END"),
                (Some(Type::Bool), DialectKind::Postgres) => format!("CASE WHEN jsonb_typeof({el}) = 'boolean' THEN CAST({el} #>> '{{}}' AS BOOLEAN) END"),
                (Some(Type::Bool), DialectKind::Sqlite) => format!("CASE json_type({n}, {path}) WHEN 'true' THEN 1 WHEN 'false' THEN 0 END"),
                _ => unreachable!("checked above"),
            };
            let value = if datetime {
                self.todatetime_text(&value)?
            } else {
                value
            };
            sel.push(format!("{value} AS {}", quote_ident(&col.name)));
        }
        if with_index {
            let name = &node.schema.last().expect("the index column").name;
            sel.push(format!("CAST({i} AS BIGINT) AS {}", quote_ident(name)));
        }
        sel.extend(self.outer.as_ref().map(|_| format!("t.{ROW}")));
        let mut text = format!("SELECT {} FROM {from}", sel.join(", "));
        if let Some(n) = limit {
            text.push_str(&format!(" WHERE {i} < {n}"));
        }
        Ok(text)
    }

    fn node(&mut self, node: &Node) -> Result<String, Unsupported> {
        if self.outer.is_some() {
            if let Some(op) = match &node.op {
                Op::Pivot { .. } => Some("evaluate pivot"),
                Op::MvApply { .. } => Some("a nested mv-apply"),
                Op::MakeSeries { .. } => Some("make-series"),
                Op::Scan { .. } | Op::External { .. } => Some("a table"),
                Op::Join { .. } => Some("join"),
                Op::Union { .. } => Some("union"),
                Op::Values { .. } => Some("datatable"),
                _ => None,
            } {
                return Err(unsupported(
                    "mv-apply",
                    &format!("{op} inside the body is not emitted to SQL yet"),
                ));
            }
        }
        super::sql_core::check_node(self.d, node)?;
        let body = match &node.op {
            // Summarize by the keys and the pivot value as text, then fold each key's rows
            // into one JSON object (the native run's bag).
            Op::Pivot {
                input,
                column,
                agg,
                by,
            } => {
                let key = match column.ty {
                    Type::String => column.clone(),
                    _ => Expr {
                        kind: ExprKind::Call {
                            func: Func::ToString,
                            args: vec![column.clone()],
                        },
                        ty: Type::String,
                    },
                };
                let mut keys = by.clone();
                keys.push(("__detc_pivot_key".into(), key));
                let mut schema: Vec<crate::ir::Column> = by
                    .iter()
                    .map(|(n, e)| crate::ir::Column {
                        name: n.clone(),
                        ty: e.ty,
                    })
                    .collect();
                schema.push(crate::ir::Column {
                    name: "__detc_pivot_key".into(),
                    ty: Type::String,
                });
                schema.push(crate::ir::Column {
                    name: "__detc_pivot_value".into(),
                    ty: agg.ty,
                });
                let inner = Node {
                    op: Op::Summarize {
                        input: input.clone(),
                        by: keys,
                        aggs: vec![("__detc_pivot_value".into(), agg.clone())],
                    },
                    schema,
                };
                let q = self.node(&inner)?;
                let groups: Vec<String> = by.iter().map(|(n, _)| quote_ident(n)).collect();
                let mut sel = groups.clone();
                sel.push(format!(
                    "{} AS {}",
                    fill(
                        super::sql_funcs::json_object_agg(self.d.kind),
                        &[
                            ("k", "\"__detc_pivot_key\""),
                            ("v", "\"__detc_pivot_value\"")
                        ]
                    ),
                    quote_ident(&node.schema.last().unwrap().name)
                ));
                let mut text = format!("SELECT {} FROM {q}", sel.join(", "));
                if groups.is_empty() {
                    // No keys: an empty input gives no row, as natively.
                    text.push_str(" HAVING count(*) > 0");
                } else {
                    text.push_str(&format!(" GROUP BY {}", groups.join(", ")));
                }
                text
            }
            // The bag stays one JSON column under its hidden name; later names read its keys
            // (the same reading as the native run).
            Op::BagUnpack { input, .. } => {
                let q = self.node(input)?;
                let sel: Vec<String> = input
                    .schema
                    .iter()
                    .zip(&node.schema)
                    .map(|(i, o)| format!("{} AS {}", quote_ident(&i.name), quote_ident(&o.name)))
                    .chain(self.outer.as_ref().map(|_| ROW.to_string()))
                    .collect();
                format!("SELECT {} FROM {q}", sel.join(", "))
            }
            Op::MvApply { input, body, keep } => self.mv_apply(node, input, body, keep)?,
            Op::OuterRow => {
                let Some(outer) = &self.outer else {
                    return Err(unsupported(
                        "mv-apply",
                        "internal: the outer row outside an mv-apply body",
                    ));
                };
                format!("SELECT {} FROM {outer}", self.cols(node))
            }
            Op::MakeSeries { .. } => {
                return Err(unsupported(
                    "make-series",
                    "series aggregation is not emitted to SQL yet",
                ))
            }
            Op::External { name, .. } => {
                self.approx(
                    "externaldata",
                    "read from a table of the same name; nothing is downloaded",
                );
                format!("SELECT {} FROM {}", self.cols(node), quote_raw(name))
            }
            Op::Scan { table } => {
                format!("SELECT {} FROM {}", self.cols(node), quote_raw(table))
            }
            Op::Filter { input, predicate } => {
                let q = self.node(input)?;
                format!(
                    "SELECT {} FROM {q} WHERE {}",
                    self.cols(node),
                    self.expr(predicate)?
                )
            }
            Op::Extend { input, items } => {
                let q = self.node(input)?;
                let mut sel = self.extend_select(input, items)?;
                sel.extend(self.outer.as_ref().map(|_| ROW.to_string()));
                format!("SELECT {} FROM {q}", sel.join(", "))
            }
            Op::Project { input, items } => {
                let q = self.node(input)?;
                let mut sel = self.project_select(items)?;
                sel.extend(self.outer.as_ref().map(|_| ROW.to_string()));
                format!("SELECT {} FROM {q}", sel.join(", "))
            }
            Op::Distinct { input } => {
                let q = self.node(input)?;
                format!("SELECT DISTINCT {} FROM {q}", self.cols(node))
            }
            Op::Take { input, count } if self.outer.is_some() => {
                // Per outer row: number each row's rows, in the sort order when there is one.
                let (inner, order) = match &input.op {
                    Op::Sort { input: inner, keys } => {
                        (inner, format!(" ORDER BY {}", self.order_by(keys)?))
                    }
                    _ => (input, String::new()),
                };
                let q = self.node(inner)?;
                let cols = self.cols(node);
                format!("SELECT {cols} FROM (SELECT {cols}, row_number() OVER (PARTITION BY {ROW}{order}) AS \"__detc_rn\" FROM {q}) AS u WHERE \"__detc_rn\" <= {count}")
            }
            Op::Take { input, count } => match &input.op {
                // Order survives only within one SELECT: sort and limit together.
                Op::Sort { input: inner, keys } => {
                    let q = self.node(inner)?;
                    let k = self.order_by(keys)?;
                    format!(
                        "SELECT {} FROM {q} ORDER BY {k} LIMIT {count}",
                        self.cols(node)
                    )
                }
                _ => {
                    let q = self.node(input)?;
                    format!("SELECT {} FROM {q} LIMIT {count}", self.cols(node))
                }
            },
            Op::Sort { input, keys } => {
                let q = self.node(input)?;
                let k = self.order_by(keys)?;
                format!("SELECT {} FROM {q} ORDER BY {k}", self.cols(node))
            }
            Op::Serialize { input, items } if items.is_empty() => return self.node(input),
            Op::Serialize { input, items } => self.serialize(input, items, false)?,
            Op::Summarize { input, by, aggs } => {
                let q = self.node(input)?;
                let mut sel = Vec::new();
                let mut groups = Vec::new();
                for (n, e) in by {
                    let x = self.expr(e)?;
                    sel.push(format!("{x} AS {}", quote_ident(n)));
                    groups.push(x);
                }
                if let Some(cols) = self.sqlite_arg_extreme(aggs)? {
                    sel.extend(cols);
                } else {
                    for (n, a) in aggs {
                        sel.push(format!("{} AS {}", self.aggregate(a)?, quote_ident(n)));
                    }
                }
                if let Some(outer) = self.outer.clone() {
                    let body = self.summarize_per_row(node, &q, &outer, sel, groups)?;
                    return Ok(self.push(body));
                }
                let mut text = format!("SELECT {} FROM {q}", sel.join(", "));
                if !groups.is_empty() {
                    text.push_str(&format!(" GROUP BY {}", groups.join(", ")));
                }
                text
            }
            Op::Values { rows } if node.schema.is_empty() => {
                // `print`'s empty row; its columns are added by the extend above it.
                format!("SELECT {} AS \"__detc_row\"", rows.len().min(1))
            }
            Op::Values { rows } => {
                let mut parts = Vec::new();
                for r in rows {
                    let cells: Vec<String> = r
                        .iter()
                        .zip(&node.schema)
                        .map(|(v, c)| {
                            Ok(format!(
                                "{} AS {}",
                                self.literal(v, c.ty)?,
                                quote_ident(&c.name)
                            ))
                        })
                        .collect::<Result<_, Unsupported>>()?;
                    parts.push(format!("SELECT {}", cells.join(", ")));
                }
                if parts.is_empty() {
                    let cells: Vec<String> = node
                        .schema
                        .iter()
                        .map(|c| format!("{} AS {}", self.null_of(c.ty), quote_ident(&c.name)))
                        .collect();
                    parts.push(format!("SELECT {} WHERE 1 = 0", cells.join(", ")));
                }
                parts.join("\nUNION ALL\n")
            }
            Op::MvExpand {
                input,
                columns,
                bag_array,
                with_index,
                limit,
            } => {
                if columns.len() != 1 || *with_index || limit.is_some() {
                    let body = self.mv_expand_indexed(
                        node,
                        input,
                        columns,
                        *with_index,
                        *limit,
                        *bag_array,
                    )?;
                    return Ok(self.push(body));
                }
                let (column, to_type) = (&columns[0].0, &columns[0].1);
                if matches!(to_type, Some(t) if !matches!(t, Type::String | Type::Long | Type::Int | Type::Real | Type::Bool | Type::Dynamic | Type::DateTime))
                {
                    return Err(unsupported(
                        "mv-expand to typeof()",
                        "this type is not emitted to SQL yet",
                    ));
                }
                let q = self.node(input)?;
                let c = format!("t.{}", quote_ident(&input.schema[*column].name));
                let bag = if self.d.kind.core_only() {
                    String::new()
                } else {
                    self.bag_items(&c, *bag_array)
                };
                let (from, value) = match self.d.kind {
                    // Arrays give their elements, bags one-member bags (or `[key, value]`),
                    // anything else itself, null one null row.
                    DialectKind::Spark => (
                        format!("{q} AS t, LATERAL variant_explode(CASE WHEN {c} IS NULL THEN parse_json('[null]') WHEN schema_of_variant({c}) LIKE 'ARRAY%' OR schema_of_variant({c}) LIKE 'OBJECT%' THEN {c} ELSE parse_json('[' || to_json({c}) || ']') END) AS e"),
                        if *bag_array {
                            "CASE WHEN e.key IS NULL THEN e.value ELSE parse_json('[' || to_json(CAST(e.key AS VARIANT)) || ',' || to_json(e.value) || ']') END"
                        } else {
                            "CASE WHEN e.key IS NULL THEN e.value ELSE parse_json('{' || to_json(CAST(e.key AS VARIANT)) || ':' || to_json(e.value) || '}') END"
                        }
                        .to_string(),
                    ),
                    DialectKind::Snowflake => (
                        format!("{q} AS t, LATERAL FLATTEN(INPUT => CASE WHEN {c} IS NULL THEN PARSE_JSON('[null]') WHEN IS_ARRAY({c}) OR IS_OBJECT({c}) THEN {c} ELSE PARSE_JSON('[' || TO_JSON({c}) || ']') END) AS e"),
                        format!(
                            "CASE WHEN e.key IS NULL THEN e.value ELSE {} END",
                            if *bag_array {
                                "ARRAY_CONSTRUCT(e.key, e.value)"
                            } else {
                                "OBJECT_CONSTRUCT_KEEP_NULL(e.key, e.value)"
                            }
                        ),
                    ),
                    DialectKind::BigQuery => {
                        let item = if *bag_array {
                            format!("JSON_ARRAY(k, {c}[k])")
                        } else {
                            format!("JSON_OBJECT(k, {c}[k])")
                        };
                        (
                            format!("{q} AS t CROSS JOIN UNNEST(CASE WHEN {c} IS NULL THEN [JSON 'null'] WHEN JSON_TYPE({c}) = 'array' THEN JSON_QUERY_ARRAY({c}) WHEN JSON_TYPE({c}) = 'object' THEN ARRAY(SELECT {item} FROM UNNEST(JSON_KEYS({c}, 1)) AS k ORDER BY k) ELSE [{c}] END) AS v"),
                            "v".to_string(),
                        )
                    }
                    DialectKind::DuckDb => (
                        format!("{q} AS t, LATERAL (SELECT unnest(CASE WHEN {c} IS NULL THEN [NULL::JSON] WHEN json_type({c}) = 'ARRAY' THEN CAST(json_extract({c}, '$[*]') AS JSON[]) WHEN json_type({c}) = 'OBJECT' THEN {bag} ELSE [{c}] END) AS v) AS e"),
                        "e.v".to_string(),
                    ),
                    DialectKind::Postgres => (
                        format!("{q} AS t CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN {c} IS NULL THEN '[null]'::jsonb WHEN jsonb_typeof({c}) = 'array' THEN {c} WHEN jsonb_typeof({c}) = 'object' THEN {bag} ELSE jsonb_build_array({c}) END) AS e(v)"),
                        "e.v".to_string(),
                    ),
                    DialectKind::Sqlite => (
                        format!("{q} AS t, json_each(CASE WHEN {c} IS NULL THEN '[null]' WHEN json_type({c}) = 'array' THEN {c} WHEN json_type({c}) = 'object' THEN {bag} ELSE json_array(json({c})) END) AS e"),
                        "CASE e.type WHEN 'text' THEN json_quote(e.value) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'null' THEN 'null' ELSE e.value END".to_string(),
                    ),
                };
                // `to typeof(T)`: a cast only; elements of another kind are null ("" for string).
                // A datetime is the element's text converted.
                let datetime = *to_type == Some(Type::DateTime);
                let to_type = if datetime {
                    &Some(Type::String)
                } else {
                    to_type
                };
                let value = match (to_type, self.d.kind) {
                    (None | Some(Type::Dynamic), _) => value,
                    (Some(Type::String), DialectKind::DuckDb) => "CASE WHEN json_type(e.v) = 'VARCHAR' THEN json_extract_string(e.v, '$') ELSE '' END".into(),
                    (Some(Type::String), DialectKind::Postgres) => "CASE WHEN jsonb_typeof(e.v) = 'string' THEN e.v #>> '{}' ELSE '' END".into(),
                    (Some(Type::String), DialectKind::Sqlite) => "CASE WHEN e.type = 'text' THEN e.value ELSE '' END".into(),
                    (Some(Type::String), DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery) => {
                        format!("COALESCE(CASE WHEN {} THEN {} END, '')", self.json_is_string(&value), fill(self.d.json_to_string, &[("a", &value)]))
                    }
                    (Some(Type::Long | Type::Int), DialectKind::DuckDb) => "CASE WHEN json_type(e.v) IN ('BIGINT', 'UBIGINT') THEN CAST(e.v AS BIGINT) END".into(),
                    (Some(Type::Long | Type::Int), DialectKind::Postgres) => "CASE WHEN jsonb_typeof(e.v) = 'number' AND (e.v #>> '{}') ~ '^-?[0-9]+$' THEN CAST(e.v #>> '{}' AS BIGINT) END".into(),
                    (Some(Type::Long | Type::Int), DialectKind::Sqlite) => "CASE WHEN e.type = 'integer' THEN e.value END".into(),
                    (Some(Type::Real), DialectKind::DuckDb) => "CASE WHEN json_type(e.v) IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN CAST(e.v AS DOUBLE) END".into(),
                    (Some(Type::Real), DialectKind::Postgres) => "CASE WHEN jsonb_typeof(e.v) = 'number' THEN CAST(e.v #>> '{}' AS DOUBLE PRECISION) END".into(),
                    (Some(Type::Real), DialectKind::Sqlite) => "CASE WHEN e.type IN ('integer', 'real') THEN CAST(e.value AS REAL) END".into(),
                    (Some(Type::Bool), DialectKind::DuckDb) => "CASE WHEN json_type(e.v) = 'BOOLEAN' THEN CAST(e.v AS BOOLEAN) END".into(),
                    (Some(Type::Bool), DialectKind::Postgres) => "CASE WHEN jsonb_typeof(e.v) = 'boolean' THEN CAST(e.v #>> '{}' AS BOOLEAN) END".into(),
                    (Some(Type::Bool), DialectKind::Sqlite) => "CASE e.type WHEN 'true' THEN 1 WHEN 'false' THEN 0 END".into(),
                    _ => unreachable!("checked above"),
                };
                let value = if datetime {
                    self.todatetime_text(&value)?
                } else {
                    value
                };
                let sel: Vec<String> = input
                    .schema
                    .iter()
                    .enumerate()
                    .map(|(i, col)| {
                        if i == *column {
                            format!("{value} AS {}", quote_ident(&col.name))
                        } else {
                            format!("t.{}", quote_ident(&col.name))
                        }
                    })
                    .chain(self.outer.as_ref().map(|_| format!("t.{ROW}")))
                    .collect();
                format!("SELECT {} FROM {from}", sel.join(", "))
            }
            Op::Join {
                kind,
                left,
                right,
                keys,
            } => self.join(node, *kind, left, right, keys)?,
            Op::Union { legs } => {
                let mut parts = Vec::new();
                for (leg, map) in legs {
                    let q = self.node(leg)?;
                    let sel: Vec<String> = map
                        .iter()
                        .zip(&node.schema)
                        .map(|(m, c)| match m {
                            Some(i) => format!(
                                "{} AS {}",
                                quote_ident(&leg.schema[*i].name),
                                quote_ident(&c.name)
                            ),
                            None => format!("{} AS {}", self.null_of(c.ty), quote_ident(&c.name)),
                        })
                        .collect();
                    parts.push(format!("SELECT {} FROM {q}", sel.join(", ")));
                }
                parts.join("\nUNION ALL\n")
            }
        };
        Ok(self.push(body))
    }

    fn extend_select(
        &mut self,
        input: &Node,
        items: &[(String, Option<usize>, Expr)],
    ) -> Result<Vec<String>, Unsupported> {
        let mut sel: Vec<String> = input.schema.iter().map(|c| quote_ident(&c.name)).collect();
        for (name, slot, e) in items {
            let s = format!("{} AS {}", self.expr(e)?, quote_ident(name));
            match slot {
                Some(i) => sel[*i] = s,
                None => sel.push(s),
            }
        }
        Ok(sel)
    }

    fn project_select(&mut self, items: &[(String, Expr)]) -> Result<Vec<String>, Unsupported> {
        items
            .iter()
            .map(|(n, e)| Ok(format!("{} AS {}", self.expr(e)?, quote_ident(n))))
            .collect()
    }

    /// A CTE of `node`'s rows with their serialized position in [`ORD`]: numbered by the
    /// `sort` below, carried through the operators that keep KQL's serialization.
    fn ordered(&mut self, node: &Node) -> Result<String, Unsupported> {
        if self.outer.is_some() {
            return Err(unsupported(
                "row functions",
                "inside an mv-apply body they are not emitted to SQL yet",
            ));
        }
        let cols = Self::plain_cols(node);
        let body = match &node.op {
            Op::Sort { input, keys } => {
                let q = self.node(input)?;
                let k = self.order_by(keys)?;
                format!("SELECT {cols}, row_number() OVER (ORDER BY {k}) AS {ORD} FROM {q}")
            }
            Op::Take { input, count } => match &input.op {
                Op::Sort { input: inner, keys } => {
                    let q = self.node(inner)?;
                    let k = self.order_by(keys)?;
                    format!("SELECT {cols}, row_number() OVER (ORDER BY {k}) AS {ORD} FROM {q} ORDER BY {k} LIMIT {count}")
                }
                _ => {
                    let q = self.ordered(input)?;
                    format!("SELECT {cols}, {ORD} FROM {q} ORDER BY {ORD} LIMIT {count}")
                }
            },
            Op::Filter { input, predicate } => {
                let q = self.ordered(input)?;
                let p = self.expr(predicate)?;
                format!("SELECT {cols}, {ORD} FROM {q} WHERE {p}")
            }
            Op::Extend { input, items } => {
                let q = self.ordered(input)?;
                let sel = self.extend_select(input, items)?;
                format!("SELECT {}, {ORD} FROM {q}", sel.join(", "))
            }
            Op::Project { input, items } => {
                let q = self.ordered(input)?;
                let sel = self.project_select(items)?;
                format!("SELECT {}, {ORD} FROM {q}", sel.join(", "))
            }
            Op::BagUnpack { input, .. } => {
                let q = self.ordered(input)?;
                let sel: Vec<String> = input
                    .schema
                    .iter()
                    .zip(&node.schema)
                    .map(|(i, o)| format!("{} AS {}", quote_ident(&i.name), quote_ident(&o.name)))
                    .collect();
                format!("SELECT {}, {ORD} FROM {q}", sel.join(", "))
            }
            Op::Serialize { input, items } => self.serialize(input, items, true)?,
            Op::MvExpand { .. } => {
                return Err(unsupported(
                    "row functions",
                    "the row order after mv-expand is not emitted to SQL yet",
                ))
            }
            _ => {
                // `T | serialize`: the input has no order of its own.
                self.approx(
                    "serialize",
                    "the SQL engine's row order stands for the input's order, which KQL leaves unspecified for a table or an unsorted result",
                );
                let q = self.node(node)?;
                format!("SELECT {cols}, row_number() OVER () AS {ORD} FROM {q}")
            }
        };
        Ok(self.push(body))
    }

    /// Row functions as window functions over the serialized position; a restart
    /// expression becomes a partition: the running count of restarts so far.
    fn serialize(
        &mut self,
        input: &Node,
        items: &[(String, crate::ir::RowFunc)],
        keep_order: bool,
    ) -> Result<String, Unsupported> {
        use crate::ir::RowFuncKind as K;
        let mut q = self.ordered(input)?;
        let cols = Self::plain_cols(input);
        let mut parts = Vec::new();
        for (k, (_, f)) in items.iter().enumerate() {
            if let Some(r) = &f.restart {
                let r = self.expr(r)?;
                parts.push(format!("sum(CASE WHEN {r} THEN 1 ELSE 0 END) OVER (ORDER BY {ORD} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS \"__detc_part{k}\""));
            }
        }
        if !parts.is_empty() {
            q = self.push(format!(
                "SELECT {cols}, {ORD}, {} FROM {q}",
                parts.join(", ")
            ));
        }
        let mut sel = vec![cols];
        for (k, (name, f)) in items.iter().enumerate() {
            let over = match &f.restart {
                Some(_) => format!("OVER (PARTITION BY \"__detc_part{k}\" ORDER BY {ORD}"),
                None => format!("OVER (ORDER BY {ORD}"),
            };
            let x = match f.kind {
                K::Prev(n) | K::Next(n) => {
                    let func = if matches!(f.kind, K::Prev(_)) { "lag" } else { "lead" };
                    let (v, default) = (self.expr(&f.args[0])?, self.expr(&f.args[1])?);
                    format!("{func}({v}, {n}, {default}) {over})")
                }
                K::RowNumber => format!("(row_number() {over}) + {} - 1)", self.expr(&f.args[0])?),
                K::Cumsum => format!(
                    "CAST(COALESCE(sum({}) {over} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), 0) AS {})",
                    self.expr(&f.args[0])?,
                    self.sql_type(f.ty)
                ),
                K::RankDense | K::RankMin | K::WindowSession => {
                    return Err(unsupported(
                        f.kind.kql(),
                        "this row function is not emitted to SQL yet",
                    ))
                }
            };
            sel.push(format!("{x} AS {}", quote_ident(name)));
        }
        if keep_order {
            sel.push(ORD.to_string());
        }
        Ok(format!("SELECT {} FROM {q}", sel.join(", ")))
    }

    /// `mv-apply`, decorrelated: the input rows are numbered, the body runs once over all of
    /// them with every node keeping the number (grouping, numbering and `take` per number),
    /// and its rows are joined back to their input row. No LATERAL, so every dialect has it.
    fn mv_apply(
        &mut self,
        node: &Node,
        input: &Node,
        body: &Node,
        keep: &[usize],
    ) -> Result<String, Unsupported> {
        let q = self.node(input)?;
        let outer = self.push(format!(
            "SELECT {}, row_number() OVER () AS {ROW} FROM {q}",
            Self::plain_cols(input)
        ));
        let saved = self.outer.replace(outer.clone());
        let b = self.node(body);
        self.outer = saved;
        let b = b?;
        let names = node.schema.iter().map(|c| quote_ident(&c.name));
        let sources = crate::ir::mv_apply_output(input, body, keep)
            .into_iter()
            .map(|s| match s {
                crate::ir::ApplySource::Input(i) => {
                    format!("o.{}", quote_ident(&input.schema[i].name))
                }
                crate::ir::ApplySource::Body(j) => {
                    format!("b.{}", quote_ident(&body.schema[j].name))
                }
            });
        let sel: Vec<String> = sources
            .zip(names)
            .map(|(s, n)| format!("{s} AS {n}"))
            .collect();
        Ok(format!(
            "SELECT {} FROM {outer} AS o JOIN {b} AS b ON o.{ROW} = b.{ROW}",
            sel.join(", ")
        ))
    }

    /// A summarize inside an `mv-apply` body: grouped by the row number too. Without `by`,
    /// every outer row gets one row, as KQL's summarize of an empty table does: the rows
    /// whose sub-table is empty take the aggregates of an empty input.
    fn summarize_per_row(
        &mut self,
        node: &Node,
        q: &str,
        outer: &str,
        mut sel: Vec<String>,
        mut groups: Vec<String>,
    ) -> Result<String, Unsupported> {
        let keyless = groups.is_empty();
        let empty_sel = sel.join(", ");
        sel.push(ROW.to_string());
        groups.push(ROW.to_string());
        let grouped = format!(
            "SELECT {} FROM {q} GROUP BY {}",
            sel.join(", "),
            groups.join(", ")
        );
        if !keyless {
            return Ok(grouped);
        }
        let grouped = self.push(grouped);
        let empty = self.push(format!("SELECT {empty_sel} FROM {q} WHERE 1 = 0"));
        let cols = self.cols(node);
        let from_empty: Vec<String> = node
            .schema
            .iter()
            .map(|c| format!("e.{}", quote_ident(&c.name)))
            .chain(std::iter::once(format!("o.{ROW}")))
            .collect();
        Ok(format!(
            "SELECT {cols} FROM {grouped}\nUNION ALL\nSELECT {} FROM {outer} AS o, {empty} AS e WHERE NOT EXISTS (SELECT 1 FROM {q} AS s WHERE s.{ROW} = o.{ROW})",
            from_empty.join(", ")
        ))
    }

    /// `make_set`/`make_list` (and their `_if` forms) of dynamic values: arrays contribute
    /// their elements, nulls nothing; a set is deduplicated and sorted in detc's order
    /// (nulls, booleans, numbers, strings, then other values by their JSON text).
    fn collect_dynamic(&mut self, a: &crate::ir::Agg) -> Result<String, Unsupported> {
        use crate::ir::AggFunc;
        let set = matches!(a.func, AggFunc::MakeSet | AggFunc::MakeSetIf);
        let x = self.expr(&a.args[0])?;
        let mut filter = format!("{x} IS NOT NULL");
        if matches!(a.func, AggFunc::MakeSetIf | AggFunc::MakeListIf) {
            filter = format!("{filter} AND {}", self.expr(&a.args[1])?);
        }
        Ok(match self.d.kind {
            DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => {
                return Err(core_gap(self.d))
            }
            DialectKind::Sqlite => {
                self.approx(
                    "make_set/make_list of dynamic values in SQLite",
                    "uses detc's json_collect() function, registered like REGEXP",
                );
                let limit = a.limit.map_or(-1, |n| n as i64);
                format!("json_collect(json_group_array(json({x})) FILTER (WHERE {filter}), {}, {limit})", if set { 1 } else { 0 })
            }
            DialectKind::DuckDb => {
                let flat = format!("flatten(list_transform(list({x}) FILTER (WHERE {filter}), lambda v: CASE WHEN json_type(v) = 'ARRAY' THEN CAST(json_extract(v, '$[*]') AS JSON[]) WHEN json_type(v) = 'NULL' THEN CAST([] AS JSON[]) ELSE [v] END))");
                let list = if set {
                    self.approx("make_set of dynamic values", "objects are told apart by their JSON text, so one object with its keys in two orders is kept twice");
                    let key = "struct_pack(r := CASE json_type(e) WHEN 'NULL' THEN 0 WHEN 'BOOLEAN' THEN 1 WHEN 'BIGINT' THEN 2 WHEN 'UBIGINT' THEN 2 WHEN 'DOUBLE' THEN 2 WHEN 'VARCHAR' THEN 3 ELSE 4 END, n := CASE WHEN json_type(e) IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN CAST(e AS DOUBLE) END, s := CASE WHEN json_type(e) = 'VARCHAR' THEN json_extract_string(e, '$') END, j := CAST(e AS VARCHAR), v := e)";
                    format!("list_transform(list_sort(list_distinct(list_transform({flat}, lambda e: {key}))), lambda k: k.v)")
                } else {
                    flat
                };
                let list = match a.limit {
                    Some(n) => format!("list_slice({list}, 1, {n})"),
                    None => list,
                };
                format!("COALESCE(to_json({list}), '[]'::JSON)")
            }
            DialectKind::Postgres => {
                let elements = format!("jsonb_array_elements(jsonb_agg({x}) FILTER (WHERE {filter})) WITH ORDINALITY AS a(v, i) CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(a.v) = 'array' THEN a.v WHEN jsonb_typeof(a.v) = 'null' THEN '[]'::jsonb ELSE jsonb_build_array(a.v) END) WITH ORDINALITY AS b(e, j)");
                let limit = a.limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
                if set {
                    let order = "CASE jsonb_typeof(d.e) WHEN 'null' THEN 0 WHEN 'boolean' THEN 1 WHEN 'number' THEN 2 WHEN 'string' THEN 3 ELSE 4 END, CASE WHEN jsonb_typeof(d.e) = 'number' THEN CAST(d.e #>> '{}' AS DOUBLE PRECISION) END, CASE WHEN jsonb_typeof(d.e) = 'string' THEN d.e #>> '{}' END COLLATE \"C\", CAST(d.e AS TEXT) COLLATE \"C\"";
                    format!("(SELECT COALESCE(jsonb_agg(s.e ORDER BY s.k), '[]'::jsonb) FROM (SELECT d.e, row_number() OVER (ORDER BY {order}) AS k FROM (SELECT DISTINCT b.e FROM {elements}) AS d ORDER BY k{limit}) AS s)")
                } else {
                    format!("(SELECT COALESCE(jsonb_agg(s.e ORDER BY s.i, s.j), '[]'::jsonb) FROM (SELECT b.e, a.i, b.j FROM {elements} ORDER BY a.i, b.j{limit}) AS s)")
                }
            }
        })
    }

    /// `make_bag(bag[, limit])` of whole bags: their properties merged (a repeated key keeps
    /// one value), then the first `limit` keys in key order.
    fn merge_bags(&mut self, a: &crate::ir::Agg) -> Result<String, Unsupported> {
        self.approx(
            "make_bag",
            "a key that several rows give: KQL keeps the first row's value; PostgreSQL and DuckDB keep one of them",
        );
        let x = self.expr(&a.args[0])?;
        let x = if a.args[0].ty == Type::Dynamic {
            x
        } else {
            // Only a bag contributes; a scalar gives nothing.
            return Ok(match self.d.kind {
                DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => {
                    return Err(core_gap(self.d))
                }
                DialectKind::Postgres => "'{}'::jsonb".into(),
                DialectKind::DuckDb => "'{}'::JSON".into(),
                DialectKind::Sqlite => "'{}'".into(),
            });
        };
        Ok(match self.d.kind {
            DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => {
                return Err(core_gap(self.d))
            }
            DialectKind::Sqlite => {
                self.approx(
                    "make_bag of bags in SQLite",
                    "uses detc's json_merge_bags() function, registered like REGEXP",
                );
                let limit = a.limit.map_or(-1, |n| n as i64);
                format!("json_merge_bags(json_group_array(json({x})) FILTER (WHERE {x} IS NOT NULL), {limit})")
            }
            DialectKind::Postgres => {
                let limit = a.limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
                format!("(SELECT COALESCE(jsonb_object_agg(s.k, s.v), '{{}}'::jsonb) FROM (SELECT DISTINCT ON (e.key COLLATE \"C\") e.key AS k, e.value AS v FROM jsonb_array_elements(jsonb_agg({x}) FILTER (WHERE jsonb_typeof({x}) = 'object')) WITH ORDINALITY AS b(o, i), jsonb_each(b.o) AS e ORDER BY e.key COLLATE \"C\", b.i{limit}) AS s)")
            }
            DialectKind::DuckDb => {
                let entries = format!("list_sort(flatten(list_transform(list({x}) FILTER (WHERE json_type({x}) = 'OBJECT'), lambda b: map_entries(CAST(b AS MAP(VARCHAR, JSON))))))");
                let firsts = format!(
                    "list_filter({entries}, lambda e, i: i = 1 OR e.key <> {entries}[i - 1].key)"
                );
                let kept = match a.limit {
                    Some(n) => format!("list_slice({firsts}, 1, {n})"),
                    None => firsts,
                };
                format!("COALESCE(to_json(map_from_entries({kept})), '{{}}'::JSON)")
            }
        })
    }

    /// An expression (`x` is its SQL) as a JSON value for an object or array builder:
    /// dynamic as it is, datetimes and timespans as their text (as in a KQL bag), SQLite's
    /// booleans as JSON.
    fn as_json(&mut self, e: &Expr, x: &str) -> Result<String, Unsupported> {
        Ok(match (e.ty, self.d.kind) {
            (Type::DateTime | Type::Timespan, _) => {
                self.call(Func::ToString, std::slice::from_ref(e))?
            }
            (Type::Dynamic, DialectKind::Sqlite) => format!("json({x})"),
            (Type::Bool, DialectKind::Sqlite) => {
                format!("json(CASE WHEN {x} THEN 'true' WHEN NOT {x} THEN 'false' END)")
            }
            _ => x.to_string(),
        })
    }

    /// `make_bag(bag_pack(key, value))`: one member per row, as a JSON object aggregate.
    /// Other arguments (whole bags to merge) are not emitted yet.
    fn make_bag(&mut self, a: &crate::ir::Agg) -> Result<String, Unsupported> {
        let pair = match &a.args[0].kind {
            ExprKind::Call {
                func: Func::BagPack,
                args,
            } if args.len() == 2 && a.limit.is_none() => Some(args),
            _ => None,
        };
        let Some(args) = pair else {
            return self.merge_bags(a);
        };
        self.approx(
            "make_bag",
            "a key that several rows give: KQL keeps the first row's value; PostgreSQL keeps one of them, DuckDB and SQLite keep every pair in the JSON text (member reads see the first)",
        );
        let k = self.expr(&args[0])?;
        let k = if args[0].ty == Type::String {
            k
        } else {
            self.call(Func::ToString, &args[..1])?
        };
        let v = self.expr(&args[1])?;
        let v = self.as_json(&args[1], &v)?;
        Ok(match self.d.kind {
            DialectKind::Spark | DialectKind::Snowflake | DialectKind::BigQuery => {
                return Err(core_gap(self.d))
            }
            DialectKind::Postgres => format!(
                "COALESCE(jsonb_object_agg({k}, {v}) FILTER (WHERE {k} IS NOT NULL), '{{}}'::jsonb)"
            ),
            // A macro in DuckDB, so no FILTER; keys are text, never null here.
            DialectKind::DuckDb => format!("COALESCE(json_group_object({k}, {v}), '{{}}'::JSON)"),
            DialectKind::Sqlite => format!(
                "COALESCE(json_group_object({k}, {v}) FILTER (WHERE {k} IS NOT NULL), '{{}}')"
            ),
        })
    }

    fn join(
        &mut self,
        node: &Node,
        kind: JoinKind,
        left: &Node,
        right: &Node,
        keys: &[(usize, usize)],
    ) -> Result<String, Unsupported> {
        let mut lq = self.node(left)?;
        let rq = self.node(right)?;
        if kind == JoinKind::InnerUnique {
            // Kusto keeps one left row per key, unspecified which; detc keeps the least by
            // the non-dynamic columns, as the native run does (docs/semantics.md).
            let part = keys
                .iter()
                .map(|(l, _)| quote_ident(&left.schema[*l].name))
                .collect::<Vec<_>>()
                .join(", ");
            let by: Vec<String> = left
                .schema
                .iter()
                .filter(|c| c.ty != Type::Dynamic)
                .map(|c| format!("{} ASC NULLS FIRST", quote_ident(&c.name)))
                .collect();
            let order = if by.is_empty() {
                format!(" ORDER BY {part}")
            } else {
                format!(" ORDER BY {}", by.join(", "))
            };
            let inner = format!(
                "SELECT {}, ROW_NUMBER() OVER (PARTITION BY {part}{order}) AS \"__detc_rn\" FROM {lq}",
                Self::plain_cols(left)
            );
            lq = self.push(format!(
                "SELECT {} FROM (\n  {inner}\n) AS u WHERE \"__detc_rn\" = 1",
                Self::plain_cols(left)
            ));
        }
        let on = keys
            .iter()
            .map(|(l, r)| {
                format!(
                    "l.{} = r.{}",
                    quote_ident(&left.schema[*l].name),
                    quote_ident(&right.schema[*r].name)
                )
            })
            .collect::<Vec<_>>()
            .join(" AND ");
        let outer_fill = |side: &str, c: &crate::ir::Column, out: &str, nullable: bool| {
            if nullable && c.ty == Type::String {
                format!(
                    "COALESCE({side}.{}, '') AS {}",
                    quote_ident(&c.name),
                    quote_ident(out)
                )
            } else {
                format!("{side}.{} AS {}", quote_ident(&c.name), quote_ident(out))
            }
        };
        Ok(match kind {
            JoinKind::LeftSemi | JoinKind::LeftAnti => {
                let not = if kind == JoinKind::LeftAnti {
                    "NOT "
                } else {
                    ""
                };
                format!("SELECT {} FROM {lq} AS l WHERE {not}EXISTS (SELECT 1 FROM {rq} AS r WHERE {on})", Self::prefixed("l", left))
            }
            JoinKind::RightSemi | JoinKind::RightAnti => {
                let not = if kind == JoinKind::RightAnti {
                    "NOT "
                } else {
                    ""
                };
                format!("SELECT {} FROM {rq} AS r WHERE {not}EXISTS (SELECT 1 FROM {lq} AS l WHERE {on})", Self::prefixed("r", right))
            }
            _ => {
                let (jk, lnull, rnull) = match kind {
                    JoinKind::LeftOuter => ("LEFT JOIN", false, true),
                    JoinKind::RightOuter => ("RIGHT JOIN", true, false),
                    JoinKind::FullOuter => ("FULL JOIN", true, true),
                    _ => ("JOIN", false, false),
                };
                let n = left.schema.len();
                let mut sel = Vec::new();
                for (i, c) in left.schema.iter().enumerate() {
                    sel.push(outer_fill("l", c, &node.schema[i].name, lnull));
                }
                for (i, c) in right.schema.iter().enumerate() {
                    sel.push(outer_fill("r", c, &node.schema[n + i].name, rnull));
                }
                format!(
                    "SELECT {} FROM {lq} AS l {jk} {rq} AS r ON {on}",
                    sel.join(", ")
                )
            }
        })
    }

    fn prefixed(p: &str, node: &Node) -> String {
        node.schema
            .iter()
            .map(|c| format!("{p}.{}", quote_ident(&c.name)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `pat` with capturing group `n` (1-based) the only capturing group: every other one made
/// non-capturing `(?:`, names dropped. `None` when the pattern has fewer than `n` groups.
fn only_group(pat: &str, n: usize) -> Option<String> {
    let b = pat.as_bytes();
    let (mut out, mut i, mut k, mut in_class, mut found) = (String::new(), 0, 0, false, false);
    while i < b.len() {
        let c = b[i];
        if c == b'\\' {
            let end = (i + 2).min(b.len());
            out.push_str(&pat[i..end]);
            i = end;
            continue;
        }
        match c {
            b'[' if !in_class => in_class = true,
            b']' if in_class => in_class = false,
            b'(' if !in_class => {
                let named = pat[i..].starts_with("(?P<") || pat[i..].starts_with("(?<");
                if named || b.get(i + 1) != Some(&b'?') {
                    k += 1;
                    // Skip a name: `(?P<name>` / `(?<name>`.
                    let body = if named {
                        pat[i..].find('>').map_or(i + 1, |e| i + e + 1)
                    } else {
                        i + 1
                    };
                    out.push_str(if k == n { "(" } else { "(?:" });
                    found |= k == n;
                    i = body;
                    continue;
                }
            }
            _ => {}
        }
        // Copy one whole character (the pattern is UTF-8).
        let len = pat[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&pat[i..i + len]);
        i += len;
    }
    found.then_some(out)
}

/// A pattern as PostgreSQL reads it the way Rust's `regex` does: inside a bracket, a `-` right
/// after a range or a class escape (`[0-9-.]`, `[\w-.]`) is a literal in Rust, while
/// PostgreSQL reads another range; it is escaped (`\-`), which both read as a literal.
fn postgres_brackets(pat: &str) -> String {
    let c: Vec<char> = pat.chars().collect();
    let mut out = String::with_capacity(pat.len());
    let (mut i, mut in_class, mut first) = (0, false, false);
    // Inside a bracket: the previous item ends a range or is a class escape.
    let mut after_set = false;
    while i < c.len() {
        if c[i] == '\\' && i + 1 < c.len() {
            out.extend([c[i], c[i + 1]]);
            after_set = in_class && matches!(c[i + 1], 'w' | 'd' | 's' | 'W' | 'D' | 'S');
            (i, first) = (i + 2, false);
            continue;
        }
        if !in_class {
            out.push(c[i]);
            if c[i] == '[' {
                (in_class, first, after_set) = (true, true, false);
                if c.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if c.get(i + 1) == Some(&']') {
                    out.push(']');
                    (i, first) = (i + 1, false);
                }
            }
            i += 1;
            continue;
        }
        let next_closes = c.get(i + 1).is_none_or(|n| *n == ']');
        match c[i] {
            ']' => {
                in_class = false;
                out.push(']');
            }
            '-' if first || next_closes => {
                out.push('-');
                after_set = false;
            }
            '-' if after_set => {
                out.push_str("\\-");
                after_set = false;
            }
            '-' => {
                // A range: its end is the next character or escape.
                out.push('-');
                i += 1;
                out.push(c[i]);
                if c[i] == '\\' && i + 1 < c.len() {
                    i += 1;
                    out.push(c[i]);
                }
                after_set = true;
            }
            ch => {
                out.push(ch);
                after_set = false;
            }
        }
        first = false;
        i += 1;
    }
    out
}

/// A pattern with its named groups `(?P<name>...)` made plain groups (numbering unchanged).
/// `(?P<name>` groups as `(?<name>`, the only spelling Java's regex engine reads; an escaped
/// `\(` is left alone.
fn java_named_groups(pat: &str) -> String {
    let mut out = String::with_capacity(pat.len());
    let mut rest = pat;
    while let Some(i) = rest.find("(?P<") {
        let escaped = rest[..i].chars().rev().take_while(|&c| c == '\\').count() % 2 == 1;
        out.push_str(&rest[..i]);
        out.push_str(if escaped { "(?P<" } else { "(?<" });
        rest = &rest[i + 4..];
    }
    out.push_str(rest);
    out
}

fn unname_groups(pat: &str) -> String {
    regex::Regex::new(r"\(\?P?<[A-Za-z_][A-Za-z0-9_]*>")
        .expect("valid")
        .replace_all(pat, "(")
        .into_owned()
}

/// The argument that is a regular expression.
fn regex_arg(f: Func) -> Option<usize> {
    match f {
        Func::Extract | Func::ExtractAll | Func::MatchesRegex => {
            Some(if f == Func::MatchesRegex { 1 } else { 0 })
        }
        Func::ReplaceRegex => Some(1),
        Func::TrimStart | Func::TrimEnd | Func::Trim => Some(0),
        _ => None,
    }
}

/// Why PostgreSQL's regular expressions (ARE) would reject or read differently a pattern
/// that Rust's `regex` accepts; `None` when none of the known differences applies.
pub fn postgres_regex_problem(pat: &str) -> Option<&'static str> {
    let b = pat.as_bytes();
    let mut i = 0;
    let mut in_class = false;
    while i < b.len() {
        match b[i] {
            b'\\' if i + 1 < b.len() => {
                let e = b[i + 1];
                if matches!(e, b'p' | b'P' | b'z' | b'Q' | b'E' | b'x' if e != b'x' || b.get(i + 2) == Some(&b'{'))
                {
                    return Some("an escape PostgreSQL does not have (\\p, \\z, \\Q, \\x{...})");
                }
                if in_class
                    && matches!(e, b'w' | b'd' | b's' | b'W' | b'D' | b'S')
                    && b.get(i + 2) == Some(&b'-')
                    && b.get(i + 3) != Some(&b']')
                {
                    return Some("a class escape at the start of a range (`[\\w-.]`): PostgreSQL reads a range");
                }
                i += 2;
                continue;
            }
            b'[' if !in_class => {
                in_class = true;
                // `[]...]` and `[^]...]`: a leading `]` is a literal.
                if b.get(i + 1) == Some(&b'^') {
                    i += 1;
                }
                if b.get(i + 1) == Some(&b']') {
                    i += 1;
                }
            }
            b']' if in_class => in_class = false,
            // `a-b-c`: Rust reads the second `-` as a literal, PostgreSQL as a range.
            b'-' if in_class
                && i >= 2
                && b[i - 2] == b'-'
                && b.get(i + 1).is_some_and(|c| *c != b']') =>
            {
                return Some("a `-` right after a range in a bracket (`[0-9-.]`): PostgreSQL reads another range");
            }
            b'(' if !in_class && b.get(i + 1) == Some(&b'?') => {
                let next = b.get(i + 2).copied();
                if matches!(next, Some(b'P') | Some(b'<')) {
                    return Some("a named group, which PostgreSQL does not have");
                }
                if i > 0 && next.is_some_and(|c| c.is_ascii_alphabetic() || c == b'-') {
                    return Some(
                        "inline flags after the start, which PostgreSQL takes only at the start",
                    );
                }
            }
            b'{' if !in_class => {
                let end = pat[i..].find('}').map(|e| i + e);
                if let Some(end) = end {
                    let body = &pat[i + 1..end];
                    let counts: Vec<&str> = body.split(',').collect();
                    if counts
                        .iter()
                        .all(|c| c.chars().all(|ch| ch.is_ascii_digit()))
                        && counts
                            .iter()
                            .any(|c| c.parse::<u32>().is_ok_and(|n| n > 255))
                    {
                        return Some("a repetition count above 255, PostgreSQL's limit");
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The arguments a function reads as text (a dynamic value there is its `tostring`).
fn text_args(f: Func) -> &'static [usize] {
    match f {
        Func::ToBool | Func::ToInt | Func::ToLong | Func::ToReal | Func::ToDateTime => &[0],
        Func::Split | Func::SplitAt | Func::Substring | Func::Strlen | Func::StringSize => &[0],
        Func::IndexOf | Func::CountOf => &[0, 1],
        Func::ReplaceString | Func::ReplaceRegex => &[0, 1, 2],
        Func::Extract => &[2],
        Func::TrimStart | Func::TrimEnd | Func::Trim => &[1],
        Func::Reverse | Func::Base64Decode | Func::UrlDecode | Func::UrlEncode => &[0],
        Func::ParseUrl | Func::ParsePath | Func::Ipv4IsPrivate => &[0],
        Func::Ipv4IsMatch => &[0, 1],
        _ => &[],
    }
}

/// A construct outside the core of a dialect that emits only its core ([`super::sql_core`]);
/// the gate reports these first, so this is the fallback's reason.
fn core_gap(d: &Dialect) -> Unsupported {
    unsupported("construct", &format!("not emitted to {} yet", d.name))
}

fn unsupported(construct: &str, reason: &str) -> Unsupported {
    Unsupported {
        construct: construct.into(),
        reason: reason.into(),
    }
}

/// The SQL of a plan in one dialect, plus its declared approximations and parameters.
pub struct SqlOutput {
    pub emitted: Emitted,
    /// Unbound parameters in placeholder order (PostgreSQL: `$1`, `$2`, ...).
    pub params: Vec<(String, Type)>,
}

pub fn emit(plan: &Node, d: &Dialect) -> Result<SqlOutput, Unsupported> {
    emit_at(plan, d, None)
}

/// [`emit`], with `now()` fixed at `now` (ticks) when given: for comparing with a native run.
pub fn emit_at(plan: &Node, d: &Dialect, now: Option<i64>) -> Result<SqlOutput, Unsupported> {
    let renamed = sql_names(plan, d);
    let mut notes: Vec<(String, String)> = renamed
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    notes.sort();
    /// Clears the renaming however emission ends (a panic is caught by `detc report`, and
    /// the thread goes on to the next rule).
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            RENAMED.with(|r| r.borrow_mut().clear());
        }
    }
    RENAMED.with(|r| *r.borrow_mut() = renamed);
    let clear = Clear;
    let out = emit_renamed(plan, d, now);
    drop(clear);
    let mut out = out?;
    if d.kind == DialectKind::Postgres {
        for c in plan.schema.iter().filter(|c| c.name.len() > 63) {
            out.emitted.approximations.push(Approximation {
                construct: format!("result column `{}`", c.name),
                how: "PostgreSQL truncates result column names to 63 bytes".into(),
            });
        }
    }
    for (name, sql) in notes {
        let why = match d.kind {
            DialectKind::Postgres => "PostgreSQL truncates identifiers to 63 bytes",
            _ => "another column's name differs from it only in case, which this dialect's identifiers ignore",
        };
        out.emitted.approximations.push(Approximation {
            construct: format!("column `{name}`"),
            how: format!("named \"{sql}\" inside the query and in the tables it reads: {why}"),
        });
    }
    Ok(out)
}

fn emit_renamed(plan: &Node, d: &Dialect, now: Option<i64>) -> Result<SqlOutput, Unsupported> {
    let mut cx = Ctx {
        d,
        ctes: Vec::new(),
        approximations: Vec::new(),
        params: Vec::new(),
        outer: None,
        now,
        regex_from_rule: false,
    };
    let last = cx.node(plan)?;
    let mut text = String::from("WITH\n");
    text.push_str(&cx.ctes.join(",\n"));
    // The result's columns under their own names.
    let result: Vec<String> = plan
        .schema
        .iter()
        .map(|c| {
            let (sql, own) = (quote_ident(&c.name), quote_raw(&c.name));
            if sql == own {
                own
            } else {
                format!("{sql} AS {own}")
            }
        })
        .collect();
    write!(text, "\nSELECT {} FROM {last}", result.join(", ")).unwrap();
    if d.kind == DialectKind::Sqlite && text.contains(" REGEXP ") {
        cx.approx(
            "regular expressions in SQLite",
            "REGEXP needs a regexp() function (the sqlite3 shell and detc provide one)",
        );
    }
    if cx.regex_from_rule {
        cx.approx(
            "regular expressions",
            match d.kind {
                DialectKind::Spark => "the rule's patterns are passed to Java's regex engine as they are; constructs that differ from KQL's RE2 (possessive quantifiers, \\p classes, lookaround) are read the Java way",
                DialectKind::Snowflake => "the rule's patterns are passed to Snowflake's POSIX extended regex engine as they are; Perl/RE2 constructs (non-capturing groups, lazy quantifiers, \\d) are read the POSIX way",
                _ => unreachable!("set for Spark and Snowflake only"),
            },
        );
    }
    let text = respell(&text, d.lexical);
    Ok(SqlOutput {
        emitted: Emitted {
            text,
            approximations: cx.approximations,
        },
        params: cx.params,
    })
}

#[cfg(test)]
mod tests {
    use super::postgres_regex_problem as problem;

    #[test]
    fn java_named_groups() {
        assert_eq!(
            super::java_named_groups(r"(?P<w>a)\(?P<x)"),
            r"(?<w>a)\(?P<x)"
        );
    }

    #[test]
    fn respell_quotes_for_backtick_dialects() {
        let sql = r#"SELECT "a""b", 'it''s \d' FROM "t""#;
        assert_eq!(
            super::respell(sql, super::SPARK.lexical),
            r#"SELECT `a"b`, 'it\'s \\d' FROM `t`"#
        );
        assert_eq!(super::respell(sql, super::DUCKDB.lexical), sql);
    }

    #[test]
    fn one_capturing_group() {
        use super::only_group;
        assert_eq!(
            only_group(r"(a)(b)(?:c)(d)", 3).as_deref(),
            Some(r"(?:a)(?:b)(?:c)(d)")
        );
        assert_eq!(
            only_group(r"(?P<x>a)\((b)[(]", 2).as_deref(),
            Some(r"(?:a)\((b)[(]")
        );
        assert_eq!(only_group(r"(a)", 2), None);
    }

    #[test]
    fn postgres_brackets_escape_a_dash_after_a_range() {
        use super::postgres_brackets as fix;
        assert_eq!(fix(r"[0-9-.]"), r"[0-9\-.]");
        assert_eq!(fix(r"[\w-.]+@x"), r"[\w\-.]+@x");
        assert_eq!(fix(r"[a-z-]"), r"[a-z-]");
        assert_eq!(fix(r"[-a-z]"), r"[-a-z]");
        assert_eq!(fix(r"[]a-c-e]"), r"[]a-c\-e]");
        assert_eq!(fix(r"[^\d-x]-[a\-b]"), r"[^\d\-x]-[a\-b]");
        assert_eq!(fix(r"a-b[0-9]"), r"a-b[0-9]");
        for p in [r"[0-9-.]", r"[\w-.]", r"[a-c-e]"] {
            assert_eq!(problem(&fix(p)), None, "{p}");
        }
    }

    #[test]
    fn postgres_regex_differences() {
        for ok in [
            r"(?i)^abc",
            r"(?:a|b){2,255}",
            r"[\w.-]+@[\w-]+",
            r"\d{3}-\d{4}",
            r"[a-z\-]",
        ] {
            assert_eq!(problem(ok), None, "{ok}");
        }
        for bad in [
            r"[\w-.]+",
            r"a{1,1000}",
            r"(?P<user>\w+)",
            r"(?<user>\w+)",
            r"\p{L}+",
            r"abc\z",
            r"a(?i)b",
            r"[a-zA-Z0-9-.]+",
        ] {
            assert!(problem(bad).is_some(), "{bad}");
        }
    }
}
