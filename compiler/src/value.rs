//! Run-time values of the native evaluator, and their text forms.
//!
//! KQL strings are never null: a missing string is `""` (see docs/semantics.md). Every other type
//! has a null. Datetimes and timespans are counted in 100-nanosecond ticks; a datetime counts from
//! the Unix epoch, UTC.

use crate::types::Type;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use std::cmp::Ordering;
use std::sync::Arc;

pub const TICKS_PER_SECOND: i64 = 10_000_000;
pub const TICKS_PER_DAY: i64 = 86_400 * TICKS_PER_SECOND;

#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    Long(i64),
    Real(f64),
    String(Arc<str>),
    DateTime(i64),
    Timespan(i64),
    Dynamic(Arc<serde_json::Value>),
}

impl Value {
    pub fn str(s: &str) -> Value {
        if s.is_empty() {
            return Value::empty_string();
        }
        Value::String(Arc::from(s))
    }

    /// `""`: one shared allocation (most cells of wide tables are empty strings).
    pub fn empty_string() -> Value {
        static EMPTY: std::sync::LazyLock<Arc<str>> = std::sync::LazyLock::new(|| Arc::from(""));
        Value::String(EMPTY.clone())
    }

    /// The value a missing cell of type `ty` has: `""` for strings, null otherwise.
    pub fn missing(ty: Type) -> Value {
        match ty {
            Type::String => Value::empty_string(),
            _ => Value::Null,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The JSON form used by `detc run --format jsonl` and by result comparison: datetimes
    /// as ISO 8601 UTC with 7 fractional digits, timespans as `[-][d.]hh:mm:ss[.fffffff]`,
    /// dynamic values as themselves.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Long(n) => J::from(*n),
            Value::Real(x) => serde_json::Number::from_f64(*x)
                .map(J::Number)
                .unwrap_or_else(|| J::String(format_real(*x))),
            Value::String(s) => J::String(s.to_string()),
            Value::DateTime(t) => J::String(format_datetime(*t)),
            Value::Timespan(t) => J::String(format_timespan(*t)),
            Value::Dynamic(d) => (**d).clone(),
        }
    }

    /// KQL `tostring`: strings as themselves, dynamic strings without quotes, other dynamic
    /// values as compact JSON, null as `""`.
    pub fn to_kql_string(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Long(n) => n.to_string(),
            Value::Real(x) => format_real(*x),
            Value::String(s) => s.to_string(),
            Value::DateTime(t) => format_datetime(*t),
            Value::Timespan(t) => format_timespan(*t),
            Value::Dynamic(d) => match &**d {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            },
        }
    }

    /// Total order used for sorting and for comparing results: null first, then by value.
    pub fn total_cmp(&self, other: &Value) -> Ordering {
        use Value::*;
        match (self, other) {
            (Null, Null) => Ordering::Equal,
            (Null, _) => Ordering::Less,
            (_, Null) => Ordering::Greater,
            (Bool(a), Bool(b)) => a.cmp(b),
            (Long(a), Long(b)) => a.cmp(b),
            (Real(a), Real(b)) => a.total_cmp(b),
            (Long(a), Real(b)) => (*a as f64).total_cmp(b),
            (Real(a), Long(b)) => a.total_cmp(&(*b as f64)),
            (String(a), String(b)) => a.cmp(b),
            (DateTime(a), DateTime(b)) | (Timespan(a), Timespan(b)) => a.cmp(b),
            // A dynamic scalar compares as the value it holds.
            (Dynamic(d), other) | (other, Dynamic(d)) if !matches!(other, Dynamic(_)) => {
                let inner = match &**d {
                    serde_json::Value::Number(n) => match n.as_i64() {
                        Some(i) => Long(i),
                        None => Real(n.as_f64().unwrap_or(f64::NAN)),
                    },
                    serde_json::Value::String(s) => Value::str(s),
                    serde_json::Value::Bool(b) => Bool(*b),
                    _ => return self.to_kql_string().cmp(&other.to_kql_string()),
                };
                if matches!(self, Dynamic(_)) {
                    inner.total_cmp(other)
                } else {
                    other.total_cmp(&inner)
                }
            }
            (a, b) => a.to_kql_string().cmp(&b.to_kql_string()),
        }
    }
}

/// KQL's text form of a real: integral values without a fractional part.
pub fn format_real(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{x}")
    }
}

/// `2024-01-02T03:04:05.0000000Z`, the form KQL prints datetimes in.
pub fn format_datetime(ticks: i64) -> String {
    let secs = ticks.div_euclid(TICKS_PER_SECOND);
    let frac = ticks.rem_euclid(TICKS_PER_SECOND);
    match Utc.timestamp_opt(secs, 0).single() {
        Some(dt) => format!("{}.{frac:07}Z", dt.format("%Y-%m-%dT%H:%M:%S")),
        None => format!("datetime({ticks} ticks)"),
    }
}

/// `[-][d.]hh:mm:ss[.fffffff]`, the form KQL prints timespans in.
pub fn format_timespan(ticks: i64) -> String {
    let sign = if ticks < 0 { "-" } else { "" };
    let t = ticks.unsigned_abs();
    let tps = TICKS_PER_SECOND as u64;
    let frac = t % tps;
    let secs = t / tps;
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let mut out = String::from(sign);
    if d > 0 {
        out.push_str(&format!("{d}."));
    }
    out.push_str(&format!("{h:02}:{m:02}:{s:02}"));
    if frac > 0 {
        out.push_str(&format!(".{frac:07}"));
    }
    out
}

/// Parses the datetime forms KQL's `todatetime` and `datetime(...)` accept that matter for
/// rules and fixtures: ISO 8601 with `T` or a space, optional fraction (up to 7 digits),
/// optional `Z` or offset, or a bare date. Returns ticks since the Unix epoch, UTC.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(to_ticks(dt.with_timezone(&Utc).naive_utc()));
    }
    let body = s.strip_suffix('Z').unwrap_or(s);
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(body, fmt) {
            return Some(to_ticks(dt));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(body, "%Y-%m-%d") {
        return Some(to_ticks(d.and_hms_opt(0, 0, 0)?));
    }
    None
}

/// Parses a timespan: `[-][d.]hh:mm[:ss[.fffffff]]` or a literal such as `1d`, `30m`, `1.5h`.
pub fn parse_timespan(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let ticks = if body.contains(':') {
        let (days, clock) = match body.split_once('.') {
            Some((d, rest)) if !d.contains(':') => (d.parse::<i64>().ok()?, rest),
            _ => (0, body),
        };
        let parts: Vec<&str> = clock.split(':').collect();
        if parts.len() < 2 || parts.len() > 3 {
            return None;
        }
        let h: i64 = parts[0].parse().ok()?;
        let m: i64 = parts[1].parse().ok()?;
        let secs: f64 = parts.get(2).map(|p| p.parse().ok()).unwrap_or(Some(0.0))?;
        days * TICKS_PER_DAY
            + (h * 3600 + m * 60) * TICKS_PER_SECOND
            + (secs * TICKS_PER_SECOND as f64).round() as i64
    } else {
        let split = body.find(|c: char| c.is_ascii_alphabetic())?;
        let (num, unit) = body.split_at(split);
        let mult = crate::syntax::lexer::timespan_unit(unit)?;
        (num.parse::<f64>().ok()? * mult).round() as i64
    };
    Some(if neg { -ticks } else { ticks })
}

fn to_ticks(dt: NaiveDateTime) -> i64 {
    let utc = dt.and_utc();
    utc.timestamp() * TICKS_PER_SECOND + i64::from(utc.timestamp_subsec_nanos()) / 100
}

/// Structural equality (same variant, same value; reals bitwise), for comparing plans.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Long(a), Long(b)) => a == b,
            (Real(a), Real(b)) => a.to_bits() == b.to_bits(),
            (String(a), String(b)) => a == b,
            (DateTime(a), DateTime(b)) | (Timespan(a), Timespan(b)) => a == b,
            (Dynamic(a), Dynamic(b)) => a == b,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_round_trip() {
        let t = parse_datetime("2024-03-01T10:00:00Z").unwrap();
        assert_eq!(format_datetime(t), "2024-03-01T10:00:00.0000000Z");
        let t = parse_datetime("2024-03-01 10:00:00.1234567").unwrap();
        assert_eq!(format_datetime(t), "2024-03-01T10:00:00.1234567Z");
        assert_eq!(
            parse_datetime("2024-03-01"),
            parse_datetime("2024-03-01T00:00:00Z")
        );
        assert_eq!(
            parse_datetime("2024-03-01T12:00:00+02:00"),
            parse_datetime("2024-03-01T10:00:00Z")
        );
        assert!(parse_datetime("yesterday").is_none());
        assert_eq!(format_datetime(-1), "1969-12-31T23:59:59.9999999Z");
    }

    #[test]
    fn timespan_text() {
        assert_eq!(
            format_timespan(TICKS_PER_DAY + 3_600 * TICKS_PER_SECOND),
            "1.01:00:00"
        );
        assert_eq!(format_timespan(-TICKS_PER_SECOND / 2), "-00:00:00.5000000");
    }

    #[test]
    fn tostring_of_dynamic() {
        let d = Value::Dynamic(Arc::new(serde_json::json!("Global Administrator")));
        assert_eq!(d.to_kql_string(), "Global Administrator");
        let a = Value::Dynamic(Arc::new(serde_json::json!(["a", "b"])));
        assert_eq!(a.to_kql_string(), r#"["a","b"]"#);
    }
}
