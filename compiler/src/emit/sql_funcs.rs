//! Per-dialect spellings of scalar functions and aggregates, as data. `{0}`, `{1}`, ... are
//! the arguments' SQL. `None`: the dialect has no exact spelling (reported as unsupported).

use super::sql::DialectKind::{self, *};
use crate::ir::{AggFunc, Func};

pub fn function(d: DialectKind, f: Func) -> Option<&'static str> {
    Some(match (f, d) {
        (Func::StartOfDay, DuckDb | Postgres) => "date_trunc('day', {0})",
        (Func::StartOfDay, Sqlite) => "strftime('%Y-%m-%dT00:00:00.0000000Z', {0})",
        (Func::EndOfDay, DuckDb) => {
            "(date_trunc('day', {0}) + INTERVAL 1 DAY - INTERVAL 1 MICROSECOND)"
        }
        (Func::EndOfDay, Postgres) => {
            "(date_trunc('day', {0}) + INTERVAL '1 day' - INTERVAL '1 microsecond')"
        }
        (Func::EndOfDay, Sqlite) => "strftime('%Y-%m-%dT23:59:59.9999999Z', {0})",
        (Func::Extract, DuckDb | Spark) => "regexp_extract({2}, {0}, {1})",
        (Func::Extract, Snowflake) => "COALESCE(REGEXP_SUBSTR({2}, {0}, 1, 1, 'e', {1}), '')",
        (Func::PackArray, DuckDb | Sqlite) => "json_array({*})",
        (Func::PackArray, Postgres) => "jsonb_build_array({*})",
        (Func::BagPack, DuckDb | Sqlite) => "json_object({*})",
        (Func::BagPack, Postgres) => "jsonb_build_object({*})",
        (Func::ReplaceString, _) => "replace({0}, {1}, {2})",
        (Func::ReplaceRegex, DuckDb | Postgres) => "regexp_replace({0}, {1}, {2}, 'g')",
        (Func::IndexOf, DuckDb | Postgres) => "(strpos({0}, {1}) - 1)",
        (Func::IndexOf, Sqlite) => "(instr({0}, {1}) - 1)",
        (Func::HourOfDay, DuckDb | Postgres) => "CAST(extract(hour FROM {0}) AS BIGINT)",
        (Func::HourOfDay, Sqlite) => "CAST(strftime('%H', {0}) AS INTEGER)",
        (Func::DayOfWeek, DuckDb | Postgres) => {
            "(CAST(extract(dow FROM {0}) AS BIGINT) * 864000000000)"
        }
        (Func::DayOfWeek, Sqlite) => "(CAST(strftime('%w', {0}) AS INTEGER) * 864000000000)",
        (Func::Abs, _) => "abs({0})",
        (Func::Log10, DuckDb) => "log10({0})",
        (Func::Log10, Postgres) => "log(CAST({0} AS DOUBLE PRECISION))",
        (Func::Strlen, _) => "length({0})",
        _ => return None,
    })
}

/// The JSON object of key `{k}` to value `{v}` over a group's rows.
pub fn json_object_agg(d: DialectKind) -> &'static str {
    match d {
        DuckDb | Sqlite => "json_group_object({k}, {v})",
        Postgres => "jsonb_object_agg({k}, {v})",
        Spark | Snowflake | BigQuery => unreachable!("outside the core dialects' gate (sql_core)"),
    }
}

/// An aggregate; `{0}` is its argument, `{p}` its predicate (the `*if` forms).
pub fn aggregate(d: DialectKind, f: AggFunc) -> Option<&'static str> {
    Some(match (f, d) {
        (AggFunc::Count, _) => "count(*)",
        // Neither has FILTER (WHERE ...).
        (AggFunc::CountIf, Snowflake) => "COUNT_IF({p})",
        (AggFunc::CountIf, BigQuery) => "COUNTIF({p})",
        (AggFunc::DCountIf, Snowflake | BigQuery) => {
            "count(DISTINCT CASE WHEN {p} THEN {0} END)"
        }
        (AggFunc::SumIf, Snowflake | BigQuery) => {
            "COALESCE(sum(CASE WHEN {p} THEN {0} END), 0)"
        }
        (AggFunc::CountIf, _) => "count(*) FILTER (WHERE {p})",
        (AggFunc::DCount, _) => "count(DISTINCT {0})",
        (AggFunc::DCountIf, _) => "count(DISTINCT {0}) FILTER (WHERE {p})",
        (AggFunc::Sum, _) => "COALESCE(sum({0}), 0)",
        (AggFunc::SumIf, _) => "COALESCE(sum({0}) FILTER (WHERE {p}), 0)",
        (AggFunc::Avg, _) => "avg({0})",
        // Kusto gives 0 for a single value; the engines give NULL.
        (AggFunc::Stdev, DuckDb | Postgres) => {
            "(CASE WHEN count({0}) = 1 THEN 0.0 ELSE stddev_samp({0}) END)"
        }
        (AggFunc::Variance, DuckDb | Postgres) => {
            "(CASE WHEN count({0}) = 1 THEN 0.0 ELSE var_samp({0}) END)"
        }
        // SQLite has neither: from the sums (a declared approximation, see `aggregate`).
        (AggFunc::Stdev, Sqlite) => "(CASE WHEN count({0}) = 1 THEN 0.0 WHEN count({0}) > 1 THEN sqrt(max(0.0, (sum(CAST({0} AS REAL) * {0}) - sum(CAST({0} AS REAL)) * sum({0}) / count({0})) / (count({0}) - 1))) END)",
        (AggFunc::Variance, Sqlite) => "(CASE WHEN count({0}) = 1 THEN 0.0 WHEN count({0}) > 1 THEN max(0.0, (sum(CAST({0} AS REAL) * {0}) - sum(CAST({0} AS REAL)) * sum({0}) / count({0})) / (count({0}) - 1)) END)",
        (AggFunc::Min, _) | (AggFunc::Any, _) => "min({0})",
        (AggFunc::AnyIf, _) => "min({0}) FILTER (WHERE {p})",
        (AggFunc::Max, _) => "max({0})",
        (AggFunc::MakeSet, DuckDb) => "COALESCE(to_json(list(DISTINCT {0} ORDER BY {0}) FILTER (WHERE {0} IS NOT NULL)), '[]')",
        (AggFunc::MakeSet, Postgres) => "COALESCE(to_jsonb(array_agg(DISTINCT {0} ORDER BY {0}) FILTER (WHERE {0} IS NOT NULL)), '[]'::jsonb)",
        (AggFunc::MakeSet, Sqlite) => "json_group_array(DISTINCT {0} ORDER BY {0}) FILTER (WHERE {0} IS NOT NULL)",
        (AggFunc::MakeSetIf, DuckDb) => "COALESCE(to_json(list(DISTINCT {0} ORDER BY {0}) FILTER (WHERE {0} IS NOT NULL AND {p})), '[]')",
        (AggFunc::MakeSetIf, Postgres) => "COALESCE(to_jsonb(array_agg(DISTINCT {0} ORDER BY {0}) FILTER (WHERE {0} IS NOT NULL AND {p})), '[]'::jsonb)",
        (AggFunc::MakeSetIf, Sqlite) => "json_group_array(DISTINCT {0} ORDER BY {0}) FILTER (WHERE {0} IS NOT NULL AND {p})",
        (AggFunc::MakeList, DuckDb) => "COALESCE(to_json(list({0}) FILTER (WHERE {0} IS NOT NULL)), '[]')",
        (AggFunc::MakeList, Postgres) => "COALESCE(to_jsonb(array_agg({0}) FILTER (WHERE {0} IS NOT NULL)), '[]'::jsonb)",
        (AggFunc::MakeList, Sqlite) => "json_group_array({0}) FILTER (WHERE {0} IS NOT NULL)",
        (AggFunc::MakeListIf, DuckDb) => "COALESCE(to_json(list({0}) FILTER (WHERE {0} IS NOT NULL AND {p})), '[]')",
        (AggFunc::MakeListIf, Postgres) => "COALESCE(to_jsonb(array_agg({0}) FILTER (WHERE {0} IS NOT NULL AND {p})), '[]'::jsonb)",
        (AggFunc::MakeListIf, Sqlite) => "json_group_array({0}) FILTER (WHERE {0} IS NOT NULL AND {p})",
        // Nearest rank, as detc's native run; SQLite's is detc's registered aggregate.
        (AggFunc::Percentile, DuckDb | Postgres) => {
            "percentile_disc({1} / 100.0) WITHIN GROUP (ORDER BY {0})"
        }
        (AggFunc::Percentile, Sqlite) => "percentile_disc({0}, {1} / 100.0)",
        (AggFunc::ArgMax, DuckDb) => "arg_max({1}, {0})",
        (AggFunc::ArgMin, DuckDb) => "arg_min({1}, {0})",
        // SQLite: the greatest `[key, value]` JSON text; ISO datetimes and strings order as text.
        (AggFunc::ArgMax, Sqlite) => "json_extract(max(CASE WHEN {0} IS NOT NULL THEN json_array({0}, {1}) END), '$[1]')",
        (AggFunc::ArgMin, Sqlite) => "json_extract(min(CASE WHEN {0} IS NOT NULL THEN json_array({0}, {1}) END), '$[1]')",
        (AggFunc::ArgMax, Postgres) => "(array_agg({1} ORDER BY {0} DESC) FILTER (WHERE {0} IS NOT NULL))[1]",
        (AggFunc::ArgMin, Postgres) => "(array_agg({1} ORDER BY {0} ASC) FILTER (WHERE {0} IS NOT NULL))[1]",
        _ => return None,
    })
}

/// `make_set(x, n)`: the smallest `n` elements of the sorted set (docs/semantics.md);
/// `make_list(x, n)`: the first `n` in the engine's order.
pub fn make_set_limited(d: DialectKind, f: AggFunc) -> Option<&'static str> {
    Some(match (f, d) {
        (AggFunc::MakeList, DuckDb) => "COALESCE(to_json(list_slice(list({0}) FILTER (WHERE {0} IS NOT NULL), 1, {n})), '[]')",
        (AggFunc::MakeList, Postgres) => "COALESCE(to_jsonb((array_agg({0}) FILTER (WHERE {0} IS NOT NULL))[1:{n}]), '[]'::jsonb)",
        (AggFunc::MakeList, Sqlite) => "json_array_head(json_group_array({0}) FILTER (WHERE {0} IS NOT NULL), {n})",
        (AggFunc::MakeListIf, DuckDb) => "COALESCE(to_json(list_slice(list({0}) FILTER (WHERE {0} IS NOT NULL AND {p}), 1, {n})), '[]')",
        (AggFunc::MakeListIf, Postgres) => "COALESCE(to_jsonb((array_agg({0}) FILTER (WHERE {0} IS NOT NULL AND {p}))[1:{n}]), '[]'::jsonb)",
        (AggFunc::MakeListIf, Sqlite) => "json_array_head(json_group_array({0}) FILTER (WHERE {0} IS NOT NULL AND {p}), {n})",
        (AggFunc::MakeSet, DuckDb) => "COALESCE(to_json(list_slice(list(DISTINCT {0} ORDER BY {0}) FILTER (WHERE {0} IS NOT NULL), 1, {n})), '[]')",
        (AggFunc::MakeSet, Postgres) => "COALESCE(to_jsonb((array_agg(DISTINCT {0} ORDER BY {0}) FILTER (WHERE {0} IS NOT NULL))[1:{n}]), '[]'::jsonb)",
        (AggFunc::MakeSetIf, DuckDb) => "COALESCE(to_json(list_slice(list(DISTINCT {0} ORDER BY {0}) FILTER (WHERE {0} IS NOT NULL AND {p}), 1, {n})), '[]')",
        (AggFunc::MakeSetIf, Postgres) => "COALESCE(to_jsonb((array_agg(DISTINCT {0} ORDER BY {0}) FILTER (WHERE {0} IS NOT NULL AND {p}))[1:{n}]), '[]'::jsonb)",
        // SQLite: detc's json_array_head() (registered like REGEXP) keeps the first n.
        (AggFunc::MakeSet, Sqlite) => "json_array_head(json_group_array(DISTINCT {0} ORDER BY {0}) FILTER (WHERE {0} IS NOT NULL), {n})",
        (AggFunc::MakeSetIf, Sqlite) => "json_array_head(json_group_array(DISTINCT {0} ORDER BY {0}) FILTER (WHERE {0} IS NOT NULL AND {p}), {n})",
        _ => return None,
    })
}
