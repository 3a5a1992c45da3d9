//! DL070: the scheduling rules of Sentinel's CI that a JSON Schema cannot express:
//! `queryFrequency` and `queryPeriod` each from 5m to 14d, `queryPeriod` at least
//! `queryFrequency`, and `queryFrequency` at least 1h when `queryPeriod` is 2d or more.
//! Durations are `<n>m`, `<n>h` or `<n>d`; other spellings are the schema's finding.

use super::CheckDoc;
use crate::diagnostics::{codes, Diagnostic, Span};
use crate::rule::model::Rule;
use crate::rule::yaml_map::YamlMap;

pub const DOC: CheckDoc = CheckDoc {
    code: codes::SCHEDULE,
    summary: "queryFrequency / queryPeriod outside Sentinel's limits",
    doc: concat!(
        "What: `queryFrequency` and `queryPeriod` must each be 5m to 14d; `queryPeriod` must be\n",
        "at least `queryFrequency`; with a `queryPeriod` of 2d or more, `queryFrequency` must be\n",
        "at least 1h.\n",
        "Why: Sentinel refuses to deploy such a scheduled rule; its repository CI checks the same.\n",
        "Example:\n",
        "  queryFrequency: 1d\n",
        "  queryPeriod: 1h      # DL070: the period is shorter than the frequency\n",
    ),
};

/// Minutes of `<n>m`, `<n>h` or `<n>d`.
fn minutes(s: &str) -> Option<u64> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.len().checked_sub(1)?);
    let n: u64 = n.parse().ok()?;
    Some(match unit {
        "m" => n,
        "h" => n * 60,
        "d" => n * 1440,
        _ => return None,
    })
}

pub fn check(rule: &Rule, map: &YamlMap) -> Vec<Diagnostic> {
    let freq = rule.query_frequency.as_deref().and_then(minutes);
    let period = rule.query_period.as_deref().and_then(minutes);
    if freq.is_none() && period.is_none() {
        return Vec::new();
    }
    let at = |ptr: &str| map.value_span(ptr).unwrap_or(Span::empty_at(0));
    let err = |ptr: &str, m: String| Diagnostic::error(codes::SCHEDULE, m).with_span(at(ptr));
    let mut out = Vec::new();
    for (ptr, name, v) in [
        ("/queryFrequency", "queryFrequency", freq),
        ("/queryPeriod", "queryPeriod", period),
    ] {
        if let Some(v) = v {
            if !(5..=14 * 1440).contains(&v) {
                out.push(err(ptr, format!("{name} must be from 5m to 14d")));
            }
        }
    }
    if let (Some(f), Some(p)) = (freq, period) {
        if p < f {
            out.push(err(
                "/queryPeriod",
                "queryPeriod is shorter than queryFrequency: part of the data is never queried"
                    .into(),
            ));
        }
        if p >= 2 * 1440 && f < 60 {
            out.push(err(
                "/queryFrequency",
                "with a queryPeriod of 2d or more, queryFrequency must be at least 1h".into(),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(f: &str, p: &str) -> Vec<String> {
        let text = format!("queryFrequency: {f}\nqueryPeriod: {p}\n");
        let rule: Rule = yaml_serde::from_str(&text).unwrap();
        check(&rule, &YamlMap::parse(&text))
            .into_iter()
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn limits() {
        assert!(run("1h", "1d").is_empty());
        assert!(run("5m", "14d").len() == 1, "2d+ period needs 1h frequency");
        assert_eq!(run("1d", "1h").len(), 1);
        assert_eq!(run("4m", "15d").len(), 3);
        assert_eq!(minutes("90m"), Some(90));
        assert_eq!(minutes("PT1H"), None);
    }
}
