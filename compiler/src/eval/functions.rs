//! Native-only scalar functions: each takes its argument values and returns a value; a
//! wrong kind of argument gives null. No SQL target spells these yet.

use crate::ir::Func;
use crate::value::{format_datetime, Value, TICKS_PER_DAY, TICKS_PER_SECOND};
use serde_json::Value as J;
use std::sync::Arc;

fn dynamic(j: J) -> Value {
    Value::Dynamic(Arc::new(j))
}

fn text(v: &Value) -> String {
    v.to_kql_string()
}

fn array(v: &Value) -> Option<&Vec<J>> {
    match v {
        Value::Dynamic(d) => match &**d {
            J::Array(a) => Some(a),
            _ => None,
        },
        _ => None,
    }
}

fn long(v: &Value) -> Option<i64> {
    match v {
        Value::Long(n) => Some(*n),
        Value::Real(x) => Some(*x as i64),
        _ => None,
    }
}

/// Kusto's limit on the elements of `range()`.
const RANGE_LIMIT: usize = 1_048_576;

/// `range(start, stop [, step])` of numbers (step 1 by default), datetimes or timespans (step
/// 1h by default); a zero step or mixed kinds give null.
fn range(a: &[Value]) -> Value {
    const HOUR: i64 = 3600 * TICKS_PER_SECOND;
    let ticks = |start: i64, stop: i64, step: Option<&Value>, json: &dyn Fn(i64) -> J| {
        let step = match step {
            None => HOUR,
            Some(Value::Timespan(s)) => *s,
            _ => return Value::Null,
        };
        let mut out = Vec::new();
        let mut v = start;
        while step != 0 && out.len() < RANGE_LIMIT && (if step > 0 { v <= stop } else { v >= stop })
        {
            out.push(json(v));
            let Some(next) = v.checked_add(step) else {
                break;
            };
            v = next;
        }
        if step == 0 {
            Value::Null
        } else {
            dynamic(J::Array(out))
        }
    };
    match (&a[0], &a[1]) {
        (Value::Long(s), Value::Long(e)) if !matches!(a.get(2), Some(Value::Real(_))) => {
            let step = match a.get(2) {
                None => 1,
                Some(Value::Long(n)) => *n,
                _ => return Value::Null,
            };
            if step == 0 {
                return Value::Null;
            }
            let mut out = Vec::new();
            let mut v = *s;
            while out.len() < RANGE_LIMIT && (if step > 0 { v <= *e } else { v >= *e }) {
                out.push(J::from(v));
                let Some(next) = v.checked_add(step) else {
                    break;
                };
                v = next;
            }
            dynamic(J::Array(out))
        }
        (Value::DateTime(s), Value::DateTime(e)) => {
            ticks(*s, *e, a.get(2), &|t| J::String(format_datetime(t)))
        }
        (Value::Timespan(s), Value::Timespan(e)) => ticks(*s, *e, a.get(2), &|t| {
            J::String(crate::value::format_timespan(t))
        }),
        (x, y) => {
            let num = |v: &Value| match v {
                Value::Long(n) => Some(*n as f64),
                Value::Real(r) => Some(*r),
                _ => None,
            };
            let step = a.get(2).map_or(Some(1.0), num);
            let (Some(s), Some(e), Some(step)) = (num(x), num(y), step) else {
                return Value::Null;
            };
            if step == 0.0 || !step.is_finite() {
                return Value::Null;
            }
            let mut out = Vec::new();
            let mut i = 0.0;
            loop {
                let v = s + i * step;
                if out.len() >= RANGE_LIMIT || (if step > 0.0 { v > e } else { v < e }) {
                    break;
                }
                out.push(J::from(v));
                i += 1.0;
            }
            dynamic(J::Array(out))
        }
    }
}

pub fn call(f: Func, a: &[Value], regex: Option<&regex::Regex>) -> Value {
    match f {
        Func::CountOf => {
            let (s, pat) = (text(&a[0]), text(&a[1]));
            let kind_regex = a.get(2).map(|k| text(k) == "regex").unwrap_or(false);
            if pat.is_empty() {
                return Value::Long(0);
            }
            if kind_regex {
                return match regex::Regex::new(&pat) {
                    Ok(re) => Value::Long(re.find_iter(&s).count() as i64),
                    Err(_) => Value::Null,
                };
            }
            // Occurrences may overlap: countof("aaa", "aa") is 2.
            let mut n = 0;
            let mut from = 0;
            while let Some(i) = s[from..].find(&pat) {
                n += 1;
                from += i + s[from + i..].chars().next().map_or(1, |c| c.len_utf8());
            }
            Value::Long(n)
        }
        Func::ParseUrl => parse_url(&text(&a[0])),
        Func::Ipv4IsMatch => {
            let prefix = a.get(2).and_then(long).unwrap_or(32);
            match (ipv4(&text(&a[0])), ipv4(&text(&a[1]))) {
                (Some((x, px)), Some((y, py))) => {
                    let bits = prefix.min(i64::from(px)).min(i64::from(py)).clamp(0, 32) as u32;
                    let mask = if bits == 0 {
                        0
                    } else {
                        u32::MAX << (32 - bits)
                    };
                    Value::Bool(x & mask == y & mask)
                }
                _ => Value::Null,
            }
        }
        // A value that is not a valid code point makes the result null (detc's choice).
        Func::CodepointsToString => {
            let mut out = String::new();
            let mut push = |j: &J| match j
                .as_i64()
                .and_then(|n| u32::try_from(n).ok())
                .and_then(char::from_u32)
            {
                Some(c) => {
                    out.push(c);
                    true
                }
                None => false,
            };
            for v in a {
                let ok = match v {
                    Value::Long(n) => push(&J::from(*n)),
                    Value::Dynamic(d) => match &**d {
                        J::Array(items) => items.iter().all(&mut push),
                        other => push(other),
                    },
                    _ => false,
                };
                if !ok {
                    return Value::Null;
                }
            }
            Value::str(&out)
        }
        // Text that is not base64 gives null (the docs' rule for base64_decode_toguid).
        Func::Base64DecodeToArray => match base64_decode(text(&a[0]).trim()) {
            Some(bytes) => dynamic(J::Array(bytes.into_iter().map(J::from).collect())),
            None => Value::Null,
        },
        Func::Base64Decode => match base64_decode(text(&a[0]).trim()) {
            Some(bytes) => match String::from_utf8(bytes) {
                Ok(s) => Value::str(&s),
                Err(_) => Value::empty_string(),
            },
            None => Value::empty_string(),
        },
        Func::Base64Encode => Value::str(&base64_encode(text(&a[0]).as_bytes())),
        Func::ExtractJson => {
            let json: Option<J> = match &a[1] {
                Value::Dynamic(d) => Some((**d).clone()),
                v => serde_json::from_str(&text(v)).ok(),
            };
            match json.and_then(|j| json_path(&j, &text(&a[0]))) {
                Some(J::String(s)) => Value::str(&s),
                Some(J::Null) | None => Value::empty_string(),
                Some(other) => Value::str(&other.to_string()),
            }
        }
        Func::ExtractAll => {
            let Some(re) = regex else { return Value::Null };
            let s = text(a.last().unwrap());
            let selection = if a.len() == 3 { Some(&a[1]) } else { None };
            let Some(groups) = capture_groups(re, selection) else {
                return Value::Null;
            };
            let group = |c: &regex::Captures, g: usize| {
                J::String(c.get(g).map_or("", |m| m.as_str()).to_string())
            };
            let mut out = Vec::new();
            for c in re.captures_iter(&s) {
                out.push(match groups.as_slice() {
                    [g] => group(&c, *g),
                    _ => J::Array(groups.iter().map(|&g| group(&c, g)).collect()),
                });
            }
            if out.is_empty() {
                Value::Null
            } else {
                dynamic(J::Array(out))
            }
        }
        Func::BagKeys => match &a[0] {
            Value::Dynamic(d) => match &**d {
                J::Object(m) => dynamic(J::Array(m.keys().map(|k| J::String(k.clone())).collect())),
                _ => Value::Null,
            },
            _ => Value::Null,
        },
        Func::UrlDecode => Value::str(&url_decode(&text(&a[0]))),
        Func::UrlEncode => Value::str(&url_encode(&text(&a[0]))),
        Func::TrimStart | Func::TrimEnd => {
            let Some(re) = regex else { return Value::Null };
            let pat = re.as_str();
            let anchored = if f == Func::TrimStart {
                format!("^(?:{pat})+")
            } else {
                format!("(?:{pat})+$")
            };
            match regex::Regex::new(&anchored) {
                Ok(r) => Value::str(&r.replace(&text(&a[1]), "")),
                Err(_) => Value::Null,
            }
        }
        Func::StringSize => Value::Long(text(&a[0]).len() as i64),
        Func::StrcatArray => match array(&a[0]) {
            Some(items) => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|j| match j {
                        J::String(s) => s.clone(),
                        J::Null => String::new(),
                        other => other.to_string(),
                    })
                    .collect();
                Value::str(&parts.join(&text(&a[1])))
            }
            // A string is never null in KQL.
            None => Value::empty_string(),
        },
        Func::SetUnion | Func::SetDifference | Func::SetIntersect => {
            let Some(arrays) = a.iter().map(array).collect::<Option<Vec<_>>>() else {
                return Value::Null;
            };
            let mut out: Vec<J> = Vec::new();
            let push = |out: &mut Vec<J>, j: &J| {
                if !out.contains(j) {
                    out.push(j.clone())
                }
            };
            match f {
                Func::SetUnion => arrays
                    .iter()
                    .flat_map(|x| x.iter())
                    .for_each(|j| push(&mut out, j)),
                Func::SetDifference => arrays[0]
                    .iter()
                    .filter(|j| !arrays[1..].iter().any(|o| o.contains(j)))
                    .for_each(|j| push(&mut out, j)),
                _ => arrays[0]
                    .iter()
                    .filter(|j| arrays[1..].iter().all(|o| o.contains(j)))
                    .for_each(|j| push(&mut out, j)),
            }
            dynamic(J::Array(out))
        }
        Func::Reverse => Value::str(&text(&a[0]).chars().rev().collect::<String>()),
        Func::FormatDatetime => match &a[0] {
            Value::DateTime(t) => Value::str(&format_datetime_kql(*t, &text(&a[1]))),
            _ => Value::empty_string(),
        },
        Func::DatetimePart => match &a[1] {
            Value::DateTime(t) => datetime_part(&text(&a[0]).to_ascii_lowercase(), *t)
                .map(Value::Long)
                .unwrap_or(Value::Null),
            _ => Value::Null,
        },
        Func::DatetimeAdd => match (&a[1], &a[2]) {
            (Value::Long(n), Value::DateTime(t)) => {
                datetime_add(&text(&a[0]).to_ascii_lowercase(), *n, *t)
                    .map(Value::DateTime)
                    .unwrap_or(Value::Null)
            }
            _ => Value::Null,
        },
        Func::Range => range(a),
        Func::ArraySlice => match (array(&a[0]), long(&a[1]), long(&a[2])) {
            (Some(items), Some(s), Some(e)) => {
                let n = items.len() as i64;
                let norm = |i: i64| if i < 0 { n + i } else { i };
                let (s, e) = (norm(s).max(0), norm(e).min(n - 1));
                if s > e || n == 0 {
                    dynamic(J::Array(vec![]))
                } else {
                    dynamic(J::Array(items[s as usize..=e as usize].to_vec()))
                }
            }
            _ => Value::Null,
        },
        Func::Translate => {
            let (from, to, s): (Vec<char>, Vec<char>, String) = (
                text(&a[0]).chars().collect(),
                text(&a[1]).chars().collect(),
                text(&a[2]),
            );
            let out: String = s
                .chars()
                .filter_map(|c| match from.iter().position(|x| *x == c) {
                    // Characters beyond the replacement list map to its last character;
                    // with an empty replacement list they are removed.
                    Some(i) => to.get(i).or(to.last()).copied(),
                    None => Some(c),
                })
                .collect();
            Value::str(&out)
        }
        // detc's rows carry no ingestion metadata (docs/semantics.md).
        Func::IngestionTime => Value::Null,
        Func::SplitAt => {
            let (s, d) = (text(&a[0]), text(&a[1]));
            let parts: Vec<&str> = if d.is_empty() {
                vec![s.as_str()]
            } else {
                s.split(d.as_str()).collect()
            };
            match long(&a[2]) {
                Some(i) if i >= 0 && (i as usize) < parts.len() => {
                    dynamic(J::Array(vec![J::String(parts[i as usize].to_string())]))
                }
                _ => dynamic(J::Array(vec![])),
            }
        }
        Func::ArrayIndexOf => match array(&a[0]) {
            Some(items) => {
                let want = a[1].to_json();
                Value::Long(
                    items
                        .iter()
                        .position(|j| *j == want)
                        .map_or(-1, |i| i as i64),
                )
            }
            None => Value::Null,
        },
        Func::IsAscii => Value::Bool(text(&a[0]).is_ascii()),
        Func::ParseUrlQuery => {
            let mut params = serde_json::Map::new();
            let q = text(&a[0]);
            for kv in q
                .trim_start_matches('?')
                .split('&')
                .filter(|x| !x.is_empty())
            {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                params.insert(url_decode(k), J::String(url_decode(v)));
            }
            let mut m = serde_json::Map::new();
            m.insert("Query Parameters".into(), J::Object(params));
            dynamic(J::Object(m))
        }
        Func::ParsePath => parse_path(&text(&a[0])),
        Func::Hash => {
            let h = match hash_bytes(&a[0]) {
                Some(b) => xxhash_rust::xxh64::xxh64(&b, 0),
                None => return Value::Null,
            };
            match a.get(1) {
                None => Value::Long(h as i64),
                Some(Value::Long(m)) if *m > 0 => Value::Long((h % *m as u64) as i64),
                Some(_) => Value::Null,
            }
        }
        // JSON text with sorted keys (detc's bags are always key-sorted).
        Func::DynamicToJson => match &a[0] {
            Value::Dynamic(d) => Value::str(&d.to_string()),
            Value::Null => Value::str("null"),
            v => Value::str(&v.to_json().to_string()),
        },
        Func::ParseXml => match super::xml::parse_xml(&text(&a[0])) {
            Some(j) => dynamic(j),
            None => Value::Null,
        },
        _ => Value::Null,
    }
}

/// The bytes `hash()` digests: UTF-8 text; 8 little-endian bytes of a long, of a real's IEEE
/// bits, and of a datetime's .NET ticks (from 0001-01-01) or a timespan's ticks. Strings and
/// datetimes match the documented examples; the other encodings are detc's choice.
/// The capture groups `extract_all` returns: those selected by number or name (its
/// `captureGroups` argument), else every group, else the whole match for a regex without
/// groups. `None` when the selection names a group the regex lacks.
pub fn capture_groups(re: &regex::Regex, selection: Option<&Value>) -> Option<Vec<usize>> {
    let count = re.captures_len() - 1;
    let Some(sel) = selection else {
        return Some(if count == 0 {
            vec![0]
        } else {
            (1..=count).collect()
        });
    };
    let Value::Dynamic(d) = sel else { return None };
    let J::Array(items) = &**d else { return None };
    let groups = items
        .iter()
        .map(|j| match j {
            J::Number(n) => n
                .as_u64()
                .map(|n| n as usize)
                .filter(|n| (1..=count).contains(n)),
            J::String(name) => re.capture_names().position(|c| c == Some(name.as_str())),
            _ => None,
        })
        .collect::<Option<Vec<usize>>>()?;
    (!groups.is_empty()).then_some(groups)
}

fn hash_bytes(v: &Value) -> Option<Vec<u8>> {
    /// Ticks from 0001-01-01 to the Unix epoch.
    const DOTNET_EPOCH: i64 = 621_355_968_000_000_000;
    Some(match v {
        Value::Null => return None,
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Long(n) => n.to_le_bytes().to_vec(),
        Value::Real(x) => x.to_bits().to_le_bytes().to_vec(),
        Value::DateTime(t) => (t + DOTNET_EPOCH).to_le_bytes().to_vec(),
        Value::Timespan(t) => t.to_le_bytes().to_vec(),
        Value::Bool(b) => vec![*b as u8],
        Value::Dynamic(d) => d.to_string().into_bytes(),
    })
}

/// `parse_path`: Scheme, RootPath, DirectoryPath, DirectoryName, Filename, Extension and
/// AlternateDataStreamName of a Windows or Unix path or a URL.
fn parse_path(p: &str) -> Value {
    let (scheme, rest) = match p.split_once("://") {
        Some((s, r)) => (s.to_string(), r),
        None => (String::new(), p),
    };
    let sep = if rest.contains('\\') { '\\' } else { '/' };
    let (dir, file) = match rest.rfind(sep) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => ("", rest),
    };
    let root = if rest.len() >= 2 && rest.as_bytes()[1] == b':' {
        rest[..rest.len().min(3)].to_string()
    } else if rest.starts_with(sep) {
        sep.to_string()
    } else {
        String::new()
    };
    let (file, ads) = file.split_once(':').unwrap_or((file, ""));
    let ext = file.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let dir_name = dir.rsplit(sep).next().unwrap_or("");
    let mut m = serde_json::Map::new();
    m.insert("Scheme".into(), J::String(scheme));
    m.insert("RootPath".into(), J::String(root));
    m.insert("DirectoryPath".into(), J::String(dir.to_string()));
    m.insert("DirectoryName".into(), J::String(dir_name.to_string()));
    m.insert("Filename".into(), J::String(file.to_string()));
    m.insert("Extension".into(), J::String(ext.to_string()));
    m.insert("AlternateDataStreamName".into(), J::String(ads.to_string()));
    dynamic(J::Object(m))
}

fn ipv4(s: &str) -> Option<(u32, u8)> {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, p.trim().parse::<u8>().ok().filter(|p| *p <= 32)?),
        None => (s, 32),
    };
    let ip: std::net::Ipv4Addr = addr.trim().parse().ok()?;
    Some((u32::from(ip), prefix))
}

fn parse_url(s: &str) -> Value {
    let Some((scheme, rest)) = s.split_once("://") else {
        return dynamic(J::Object(Default::default()));
    };
    let (rest, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (u, h),
        None => ("", authority),
    };
    let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => (h, p),
        _ => (hostport, ""),
    };
    let mut params = serde_json::Map::new();
    for kv in query.split('&').filter(|x| !x.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        params.insert(url_decode(k), J::String(url_decode(v)));
    }
    let mut m = serde_json::Map::new();
    m.insert("Scheme".into(), J::String(scheme.into()));
    m.insert("Host".into(), J::String(host.into()));
    m.insert("Port".into(), J::String(port.into()));
    m.insert("Path".into(), J::String(path.into()));
    m.insert("Username".into(), J::String(user.into()));
    m.insert("Password".into(), J::String(pass.into()));
    m.insert("Query Parameters".into(), J::Object(params));
    m.insert("Fragment".into(), J::String(fragment.into()));
    dynamic(J::Object(m))
}

fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() && s.is_char_boundary(i + 3) => {
                match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        if c == b'=' {
            break;
        }
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// `$.a.b[0]` and `$['a']` paths.
fn json_path(j: &J, path: &str) -> Option<J> {
    let mut cur = j;
    let p = path.trim().strip_prefix('$')?;
    let mut rest = p;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            cur = cur.get(&r[..end])?;
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let key = r[..end].trim();
            cur = match key.parse::<usize>() {
                Ok(i) => cur.get(i)?,
                Err(_) => cur.get(key.trim_matches(['\'', '"']))?,
            };
            rest = &r[end + 1..];
        } else {
            return None;
        }
    }
    Some(cur.clone())
}

fn civil(t: i64) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::TimeZone;
    chrono::Utc
        .timestamp_opt(
            t.div_euclid(TICKS_PER_SECOND),
            (t.rem_euclid(TICKS_PER_SECOND) * 100) as u32,
        )
        .single()
}

fn datetime_part(part: &str, t: i64) -> Option<i64> {
    use chrono::{Datelike, Timelike};
    let d = civil(t)?;
    Some(match part {
        "year" => i64::from(d.year()),
        "quarter" => i64::from(d.month0() / 3 + 1),
        "month" => i64::from(d.month()),
        "weekofyear" | "week_of_year" => i64::from(d.iso_week().week()),
        "day" => i64::from(d.day()),
        "dayofyear" => i64::from(d.ordinal()),
        "hour" => i64::from(d.hour()),
        "minute" => i64::from(d.minute()),
        "second" => i64::from(d.second()),
        "millisecond" => t.rem_euclid(TICKS_PER_SECOND) / 10_000,
        "microsecond" => t.rem_euclid(TICKS_PER_SECOND) / 10,
        "nanosecond" => t.rem_euclid(TICKS_PER_SECOND) * 100,
        _ => return None,
    })
}

fn datetime_add(part: &str, n: i64, t: i64) -> Option<i64> {
    use chrono::Months;
    let fixed = |unit: i64| Some(t + n * unit);
    match part {
        "year" | "quarter" | "month" => {
            let months = n * match part {
                "year" => 12,
                "quarter" => 3,
                _ => 1,
            };
            let d = civil(t)?;
            let m = Months::new(months.unsigned_abs() as u32);
            let moved = if months >= 0 {
                d.checked_add_months(m)?
            } else {
                d.checked_sub_months(m)?
            };
            Some(moved.timestamp() * TICKS_PER_SECOND + t.rem_euclid(TICKS_PER_SECOND))
        }
        "week" => fixed(7 * TICKS_PER_DAY),
        "day" => fixed(TICKS_PER_DAY),
        "hour" => fixed(3600 * TICKS_PER_SECOND),
        "minute" => fixed(60 * TICKS_PER_SECOND),
        "second" => fixed(TICKS_PER_SECOND),
        "millisecond" => fixed(10_000),
        "microsecond" => fixed(10),
        "nanosecond" => Some(t + n / 100),
        _ => None,
    }
}

/// KQL's `format_datetime` specifiers: yyyy, yy, MM, M, dd, d, HH, H, hh, h, mm, m, ss, s,
/// f..fffffff, tt; other characters are copied.
fn format_datetime_kql(t: i64, fmt: &str) -> String {
    use chrono::{Datelike, Timelike};
    let Some(d) = civil(t) else {
        return format_datetime(t);
    };
    let frac = t.rem_euclid(TICKS_PER_SECOND);
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let mut n = 1;
        while i + n < chars.len() && chars[i + n] == c {
            n += 1;
        }
        let h12 = if d.hour() % 12 == 0 {
            12
        } else {
            d.hour() % 12
        };
        let piece = match (c, n) {
            ('y', 4) => format!("{:04}", d.year()),
            ('y', 2) => format!("{:02}", d.year() % 100),
            ('M', 2) => format!("{:02}", d.month()),
            ('M', 1) => d.month().to_string(),
            ('d', 2) => format!("{:02}", d.day()),
            ('d', 1) => d.day().to_string(),
            ('H', 2) => format!("{:02}", d.hour()),
            ('H', 1) => d.hour().to_string(),
            ('h', 2) => format!("{h12:02}"),
            ('h', 1) => h12.to_string(),
            ('m', 2) => format!("{:02}", d.minute()),
            ('m', 1) => d.minute().to_string(),
            ('s', 2) => format!("{:02}", d.second()),
            ('s', 1) => d.second().to_string(),
            ('f', k) if k <= 7 => format!("{frac:07}")[..k].to_string(),
            ('t', 2) => (if d.hour() < 12 { "AM" } else { "PM" }).to_string(),
            _ => std::iter::repeat_n(c, n).collect(),
        };
        out.push_str(&piece);
        i += n;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::str(v)
    }

    /// The documentation's examples of extract_all's capture-group selection.
    #[test]
    fn extract_all_selects_groups() {
        let id = s("82b8be2d-dfa7-4bd1-8f63-24ad26d31449");
        let re = regex::Regex::new(r"(\w)(\w+)(\w)").unwrap();
        let sel = |j: &str| Value::Dynamic(Arc::new(serde_json::from_str(j).unwrap()));
        let run = |groups: Value| {
            call(
                Func::ExtractAll,
                &[Value::Null, groups, id.clone()],
                Some(&re),
            )
            .to_kql_string()
        };
        assert_eq!(
            run(sel("[1, 3]")),
            r#"[["8","d"],["d","7"],["4","1"],["8","3"],["2","9"]]"#
        );
        assert_eq!(run(sel("[3]")), r#"["d","7","1","3","9"]"#);
        let named = regex::Regex::new(r"(?P<first>\w)(\w+)(?P<last>\w)").unwrap();
        let v = call(
            Func::ExtractAll,
            &[Value::Null, sel(r#"["last", 1]"#), id.clone()],
            Some(&named),
        );
        assert_eq!(
            v.to_kql_string(),
            r#"[["d","8"],["7","d"],["1","4"],["3","8"],["9","2"]]"#
        );
        // A group the regex lacks: null.
        assert_eq!(run(sel("[4]")), "");
        assert!(run(sel(r#"["nope"]"#)).is_empty());
    }

    #[test]
    fn conversions() {
        assert_eq!(call(Func::Base64Decode, &[s("aGVsbG8=")], None), s("hello"));
        assert_eq!(call(Func::Base64Encode, &[s("hello")], None), s("aGVsbG8="));
        assert_eq!(call(Func::UrlDecode, &[s("a%20b%2Fc")], None), s("a b/c"));
        assert_eq!(
            call(Func::CountOf, &[s("aaa"), s("aa")], None),
            Value::Long(2)
        );
        assert_eq!(call(Func::Reverse, &[s("abc")], None), s("cba"));
        assert_eq!(
            call(
                Func::Ipv4IsMatch,
                &[s("10.1.2.3"), s("10.1.0.0"), Value::Long(16)],
                None
            ),
            Value::Bool(true)
        );
        assert_eq!(
            call(Func::Ipv4IsMatch, &[s("10.1.2.3"), s("10.2.0.0/16")], None),
            Value::Bool(false)
        );
        let u = call(
            Func::ParseUrl,
            &[s("https://u:p@host.com:8080/a/b?x=1&y=2#f")],
            None,
        );
        assert_eq!(u.to_json()["Host"], "host.com");
        assert_eq!(u.to_json()["Query Parameters"]["y"], "2");
        assert_eq!(
            call(
                Func::ExtractJson,
                &[s("$.a[1].b"), s(r#"{"a":[0,{"b":"x"}]}"#)],
                None
            ),
            s("x")
        );
        let t = crate::value::parse_datetime("2024-03-05T07:08:09.1234567Z").unwrap();
        assert_eq!(
            call(
                Func::FormatDatetime,
                &[Value::DateTime(t), s("yyyy-MM-dd HH:mm:ss.fff")],
                None
            ),
            s("2024-03-05 07:08:09.123")
        );
        assert_eq!(
            call(Func::DatetimePart, &[s("Day"), Value::DateTime(t)], None),
            Value::Long(5)
        );
        let feb = call(
            Func::DatetimeAdd,
            &[s("month"), Value::Long(-1), Value::DateTime(t)],
            None,
        );
        assert_eq!(
            feb,
            Value::DateTime(crate::value::parse_datetime("2024-02-05T07:08:09.1234567Z").unwrap())
        );
    }
}
