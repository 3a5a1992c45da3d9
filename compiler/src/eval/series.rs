//! Series analysis functions: `series_fit_line`, `series_decompose`,
//! `series_decompose_anomalies`. Each gives several values, returned here as one JSON array
//! that `ExprKind::Field` reads by position.
//!
//! Declared approximations (docs/semantics.md): seasonality autodetection (`-1`) finds no
//! period; the Tukey score's scale and percentile interpolation are detc's choices.

use crate::value::Value;
use serde_json::{json, Value as J};
use std::sync::Arc;

/// The numbers of a dynamic array; elements that are not numbers count as 0. `None` when
/// the value is not an array.
fn numbers(v: &Value) -> Option<Vec<f64>> {
    match v {
        Value::Dynamic(d) => match &**d {
            J::Array(a) => Some(a.iter().map(|x| x.as_f64().unwrap_or(0.0)).collect()),
            _ => None,
        },
        _ => None,
    }
}

fn array(xs: &[f64]) -> J {
    J::Array(xs.iter().map(|x| num(*x)).collect())
}

fn num(x: f64) -> J {
    serde_json::Number::from_f64(x).map_or(J::Null, J::Number)
}

fn tuple(items: Vec<J>) -> Value {
    Value::Dynamic(Arc::new(J::Array(items)))
}

/// Least squares over x = 1..=n (the x-axis of Kusto's documented example).
struct Line {
    slope: f64,
    interception: f64,
}

impl Line {
    fn fit(y: &[f64]) -> Line {
        let n = y.len() as f64;
        if y.is_empty() {
            return Line {
                slope: 0.0,
                interception: 0.0,
            };
        }
        let mx = (n + 1.0) / 2.0;
        let my = y.iter().sum::<f64>() / n;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for (i, v) in y.iter().enumerate() {
            let dx = (i + 1) as f64 - mx;
            sxy += dx * (v - my);
            sxx += dx * dx;
        }
        let slope = if sxx == 0.0 { 0.0 } else { sxy / sxx };
        Line {
            slope,
            interception: my - slope * mx,
        }
    }
    fn at(&self, i: usize) -> f64 {
        self.interception + self.slope * (i + 1) as f64
    }
}

/// Sample variance (n - 1), as in the documented example; 0 for fewer than two points.
fn variance(y: &[f64]) -> f64 {
    if y.len() < 2 {
        return 0.0;
    }
    let m = y.iter().sum::<f64>() / y.len() as f64;
    y.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (y.len() - 1) as f64
}

/// `series_fit_line(y)`: rsquare, slope, variance, rvariance, interception, line_fit.
pub fn fit_line(args: &[Value]) -> Value {
    let Some(y) = args.first().and_then(numbers) else {
        return Value::Null;
    };
    let line = Line::fit(&y);
    let fit: Vec<f64> = (0..y.len()).map(|i| line.at(i)).collect();
    let resid: Vec<f64> = y.iter().zip(&fit).map(|(a, b)| a - b).collect();
    let var = variance(&y);
    let rvar = variance(&resid);
    let ss_tot: f64 = var * (y.len().max(1) - 1) as f64;
    let ss_res: f64 = resid.iter().map(|r| r * r).sum();
    // A constant series is fitted exactly.
    let rsquare = if ss_tot == 0.0 {
        1.0
    } else {
        1.0 - ss_res / ss_tot
    };
    tuple(vec![
        num(rsquare),
        num(line.slope),
        num(var),
        num(rvar),
        num(line.interception),
        array(&fit),
    ])
}

fn median(mut xs: Vec<f64>) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

struct Decomposed {
    baseline: Vec<f64>,
    seasonal: Vec<f64>,
    trend: Vec<f64>,
    residual: Vec<f64>,
}

/// The documented order: seasonal (median of the points of one phase), subtracted; trend of
/// the rest (`avg`, `linefit` or `none`); baseline = seasonal + trend; residual = y - baseline.
/// The last `test_points` points are left out of learning and forecast.
fn decompose(y: &[f64], period: i64, trend: &str, test_points: usize) -> Option<Decomposed> {
    let n = y.len();
    let learn = n.saturating_sub(test_points);
    let train = &y[..learn];
    // Autodetection (-1) is a declared approximation: no period is found.
    let period = if period > 1 && (period as usize) < learn {
        period as usize
    } else {
        0
    };
    let seasonal: Vec<f64> = if period == 0 {
        vec![0.0; n]
    } else {
        let phases: Vec<f64> = (0..period)
            .map(|p| median(train.iter().skip(p).step_by(period).copied().collect()))
            .collect();
        (0..n).map(|i| phases[i % period]).collect()
    };
    let deseason: Vec<f64> = train.iter().zip(&seasonal).map(|(a, s)| a - s).collect();
    let trend: Vec<f64> = match trend {
        "avg" => {
            let m = if deseason.is_empty() {
                0.0
            } else {
                deseason.iter().sum::<f64>() / deseason.len() as f64
            };
            vec![m; n]
        }
        "linefit" => {
            let line = Line::fit(&deseason);
            (0..n).map(|i| line.at(i)).collect()
        }
        "none" => vec![0.0; n],
        _ => return None,
    };
    let baseline: Vec<f64> = seasonal.iter().zip(&trend).map(|(s, t)| s + t).collect();
    let residual = y.iter().zip(&baseline).map(|(a, b)| a - b).collect();
    Some(Decomposed {
        baseline,
        seasonal,
        trend,
        residual,
    })
}

fn int_arg(args: &[Value], i: usize, default: i64) -> Option<i64> {
    match args.get(i) {
        None | Some(Value::Null) => Some(default),
        Some(Value::Long(n)) => Some(*n),
        Some(Value::Real(x)) => Some(*x as i64),
        _ => None,
    }
}

fn real_arg(args: &[Value], i: usize, default: f64) -> Option<f64> {
    match args.get(i) {
        None | Some(Value::Null) => Some(default),
        Some(Value::Long(n)) => Some(*n as f64),
        Some(Value::Real(x)) => Some(*x),
        _ => None,
    }
}

fn str_arg(args: &[Value], i: usize, default: &str) -> String {
    match args.get(i) {
        Some(Value::String(s)) if !s.is_empty() => s.to_string(),
        _ => default.to_string(),
    }
}

/// `series_decompose(y, [seasonality, trend, test_points, seasonality_threshold])`.
pub fn decompose_fn(args: &[Value]) -> Value {
    let Some(y) = args.first().and_then(numbers) else {
        return Value::Null;
    };
    let (Some(period), Some(test)) = (int_arg(args, 1, -1), int_arg(args, 3, 0)) else {
        return Value::Null;
    };
    match decompose(&y, period, &str_arg(args, 2, "avg"), test.max(0) as usize) {
        Some(d) => tuple(vec![
            array(&d.baseline),
            array(&d.seasonal),
            array(&d.trend),
            array(&d.residual),
        ]),
        None => Value::Null,
    }
}

/// Linear-interpolated percentile of sorted values, `p` in 0..=100.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = p / 100.0 * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Tukey scores: the distance beyond the [low, high] percentile range in units of that range
/// (a zero range counts as 1); 0 inside it.
fn outlier_scores(x: &[f64], low: f64, high: f64) -> Vec<f64> {
    let mut sorted = x.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (ql, qh) = (percentile(&sorted, low), percentile(&sorted, high));
    let range = if qh - ql > 0.0 { qh - ql } else { 1.0 };
    x.iter()
        .map(|&v| {
            if v > qh {
                (v - qh) / range
            } else if v < ql {
                (v - ql) / range
            } else {
                0.0
            }
        })
        .collect()
}

/// `series_decompose_anomalies(y, [threshold, seasonality, trend, test_points, ad_method,
/// seasonality_threshold])`: ad_flag (+1, -1, 0), ad_score, baseline.
pub fn decompose_anomalies(args: &[Value]) -> Value {
    let Some(y) = args.first().and_then(numbers) else {
        return Value::Null;
    };
    let (Some(k), Some(period), Some(test)) = (
        real_arg(args, 1, 1.5),
        int_arg(args, 2, -1),
        int_arg(args, 4, 0),
    ) else {
        return Value::Null;
    };
    let Some(d) = decompose(
        &y,
        period,
        &str_arg(args, 3, "linefit"),
        test.max(0) as usize,
    ) else {
        return Value::Null;
    };
    let (low, high) = match str_arg(args, 5, "ctukey").as_str() {
        "tukey" => (25.0, 75.0),
        "ctukey" => (10.0, 90.0),
        _ => return Value::Null,
    };
    let scores = outlier_scores(&d.residual, low, high);
    let flags: Vec<J> = scores
        .iter()
        .map(|s| {
            json!(if *s > k {
                1
            } else if *s < -k {
                -1
            } else {
                0
            })
        })
        .collect();
    tuple(vec![J::Array(flags), array(&scores), array(&d.baseline)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dynamic(j: J) -> Value {
        Value::Dynamic(Arc::new(j))
    }

    fn field(v: &Value, i: usize) -> J {
        match v {
            Value::Dynamic(d) => d[i].clone(),
            _ => panic!("not a tuple"),
        }
    }

    #[test]
    fn fit_line_matches_the_documented_example() {
        let y = dynamic(json!([2, 5, 6, 8, 11, 15, 17, 18, 25, 26, 30, 30]));
        let out = fit_line(&[y]);
        let f = |i| field(&out, i).as_f64().unwrap();
        // Docs (truncated to 3 decimals): 0.982, 2.730, 98.628, 1.686, -1.666, 1.064...
        assert!((f(0) - 0.982).abs() < 1e-3, "rsquare {}", f(0));
        assert!((f(1) - 2.730).abs() < 1e-3);
        assert!((f(2) - 98.628).abs() < 1e-3);
        assert!((f(3) - 1.686).abs() < 1e-3);
        assert!((f(4) + 1.666).abs() < 1e-3);
        let fit = field(&out, 5);
        assert!((fit[0].as_f64().unwrap() - 1.064).abs() < 1e-3);
        assert!((fit[11].as_f64().unwrap() - 31.102).abs() < 1e-3);
    }

    #[test]
    fn fit_line_of_a_non_array_is_null() {
        assert!(fit_line(&[Value::str("x")]).is_null());
        assert!(fit_line(&[Value::Null]).is_null());
    }

    #[test]
    fn decompose_with_a_period_takes_phase_medians() {
        // Period 2: phases [1, 1, 1] and [5, 5, 9]; trend none.
        let y = dynamic(json!([1, 5, 1, 5, 1, 9]));
        let out = decompose_fn(&[y, Value::Long(2), Value::str("none")]);
        assert_eq!(field(&out, 1), json!([1.0, 5.0, 1.0, 5.0, 1.0, 5.0]));
        assert_eq!(field(&out, 3), json!([0.0, 0.0, 0.0, 0.0, 0.0, 4.0]));
    }

    #[test]
    fn decompose_avg_trend_is_the_mean() {
        let y = dynamic(json!([1, 2, 3, 6]));
        let out = decompose_fn(&[y, Value::Long(0)]);
        assert_eq!(field(&out, 0), json!([3.0, 3.0, 3.0, 3.0]));
        assert_eq!(field(&out, 3), json!([-2.0, -1.0, 0.0, 3.0]));
    }

    #[test]
    fn a_spike_in_a_flat_series_is_a_rise_anomaly() {
        let mut y = vec![json!(10); 20];
        y[13] = json!(60);
        let out = decompose_anomalies(&[dynamic(J::Array(y)), Value::Real(1.5)]);
        let flags = field(&out, 0);
        assert_eq!(flags[13], json!(1));
        let others: i64 = (0..20)
            .filter(|&i| i != 13)
            .map(|i| flags[i].as_i64().unwrap().abs())
            .sum();
        assert_eq!(others, 0, "{flags}");
        assert!(field(&out, 1)[13].as_f64().unwrap() > 1.5);
    }

    #[test]
    fn a_dip_is_a_decline_anomaly_and_bad_arguments_give_null() {
        let mut y = vec![json!(10); 20];
        y[5] = json!(-40);
        let out = decompose_anomalies(&[dynamic(J::Array(y.clone())), Value::Real(1.5)]);
        assert_eq!(field(&out, 0)[5], json!(-1));
        let bad = decompose_anomalies(&[
            dynamic(J::Array(y)),
            Value::Real(1.5),
            Value::Long(-1),
            Value::str("cubic"),
        ]);
        assert!(bad.is_null());
    }
}
