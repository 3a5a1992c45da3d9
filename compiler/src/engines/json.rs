//! A small JSON reader for engine output.
//!
//! Why not `serde_json::from_str`: the rows come as JSON objects whose key order is the column
//! order (and keys may repeat: `SELECT a, a`), while `serde_json::Map` sorts and dedups keys
//! unless the crate-wide `preserve_order` feature is on; DuckDB writes bare `NaN`, `Infinity`
//! and `-Infinity`, which are not JSON; and serde_json's default float parsing can be one ulp
//! off. This reader keeps top-level object entries in order, maps the non-finite numbers to the
//! strings `"NaN"`, `"inf"`, `"-inf"` (KQL's text forms, as [`crate::value::Value::to_json`]
//! writes them) and parses numbers with `str::parse` (correctly rounded).

use serde_json::{Map, Number, Value as J};

/// The entries of one JSON object, in document order, duplicates kept.
pub type Entries = Vec<(String, J)>;

/// Reads a sequence of JSON objects separated by whitespace (JSON Lines, or objects whose
/// values span lines). Also accepts one top-level array of objects.
pub fn parse_objects(text: &str) -> Result<Vec<Entries>, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let mut out = Vec::new();
    p.ws();
    if p.peek() == Some(b'[') {
        p.i += 1;
        p.ws();
        if p.peek() == Some(b']') {
            p.i += 1;
        } else {
            loop {
                p.ws();
                out.push(p.object_entries()?);
                p.ws();
                match p.next() {
                    Some(b',') => continue,
                    Some(b']') => break,
                    _ => return Err(p.err("expected ',' or ']'")),
                }
            }
        }
        p.ws();
    }
    while p.peek().is_some() {
        out.push(p.object_entries()?);
        p.ws();
    }
    Ok(out)
}

/// Reads one JSON value (any kind), with the same number rules.
#[cfg(test)]
pub fn parse_value(text: &str) -> Result<J, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.peek().is_some() {
        return Err(p.err("trailing characters"));
    }
    Ok(v)
}

/// A JSON number from its text: integers as i64/u64 when they fit, else f64.
pub fn number(text: &str) -> Option<J> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if t == "-0" {
        return Some(float(-0.0));
    }
    if !t.contains(['.', 'e', 'E']) {
        if let Ok(n) = t.parse::<i64>() {
            return Some(J::from(n));
        }
        if let Ok(n) = t.parse::<u64>() {
            return Some(J::from(n));
        }
    }
    let x: f64 = match t {
        "NaN" | "nan" => f64::NAN,
        "Infinity" | "inf" | "infinity" => f64::INFINITY,
        "-Infinity" | "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => t.parse().ok()?,
    };
    Some(float(x))
}

/// A finite float as a JSON number, a non-finite one as `"NaN"`, `"inf"` or `"-inf"`.
pub fn float(x: f64) -> J {
    match Number::from_f64(x) {
        Some(n) => J::Number(n),
        None => J::String(crate::value::format_real(x)),
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

const MAX_DEPTH: usize = 512;

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek();
        self.i += usize::from(c.is_some());
        c
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn err(&self, what: &str) -> String {
        let start = self.i.saturating_sub(40);
        let end = (self.i + 40).min(self.s.len());
        format!(
            "bad JSON from the engine at byte {}: {what} (near {:?})",
            self.i,
            String::from_utf8_lossy(&self.s[start..end])
        )
    }

    fn eat(&mut self, word: &str) -> bool {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    fn object_entries(&mut self) -> Result<Entries, String> {
        if self.next() != Some(b'{') {
            self.i = self.i.saturating_sub(1);
            return Err(self.err("expected '{'"));
        }
        let mut entries = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(entries);
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected a key"));
            }
            let key = self.string()?;
            self.ws();
            if self.next() != Some(b':') {
                return Err(self.err("expected ':'"));
            }
            self.ws();
            let v = self.value(1)?;
            entries.push((key, v));
            self.ws();
            match self.next() {
                Some(b',') => continue,
                Some(b'}') => return Ok(entries),
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<J, String> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        match self.peek() {
            Some(b'{') => {
                let entries = self.object_entries_nested(depth)?;
                Ok(J::Object(entries))
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(J::Array(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.next() {
                        Some(b',') => continue,
                        Some(b']') => return Ok(J::Array(items)),
                        _ => return Err(self.err("expected ',' or ']'")),
                    }
                }
            }
            Some(b'"') => Ok(J::String(self.string()?)),
            Some(b't') if self.eat("true") => Ok(J::Bool(true)),
            Some(b'f') if self.eat("false") => Ok(J::Bool(false)),
            Some(b'n') if self.eat("null") => Ok(J::Null),
            Some(b'N') if self.eat("NaN") => Ok(float(f64::NAN)),
            Some(b'I') if self.eat("Infinity") => Ok(float(f64::INFINITY)),
            Some(b'-') if self.eat("-Infinity") => Ok(float(f64::NEG_INFINITY)),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.i;
                while matches!(
                    self.peek(),
                    Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                ) {
                    self.i += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                number(text).ok_or_else(|| self.err("bad number"))
            }
            _ => Err(self.err("expected a value")),
        }
    }

    fn object_entries_nested(&mut self, depth: usize) -> Result<Map<String, J>, String> {
        self.i += 1; // '{'
        let mut map = Map::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(map);
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected a key"));
            }
            let key = self.string()?;
            self.ws();
            if self.next() != Some(b':') {
                return Err(self.err("expected ':'"));
            }
            self.ws();
            let v = self.value(depth + 1)?;
            map.insert(key, v);
            self.ws();
            match self.next() {
                Some(b',') => continue,
                Some(b'}') => return Ok(map),
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let h = self
            .s
            .get(self.i..self.i + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| self.err("bad \\u escape"))?;
        self.i += 4;
        Ok(h)
    }

    fn string(&mut self) -> Result<String, String> {
        self.i += 1; // opening quote
        let mut buf: Vec<u8> = Vec::new();
        loop {
            let start = self.i;
            while !matches!(self.peek(), Some(b'"' | b'\\') | None) {
                self.i += 1;
            }
            buf.extend_from_slice(&self.s[start..self.i]);
            match self.next() {
                Some(b'"') => break,
                Some(b'\\') => {
                    let c = self.next().ok_or_else(|| self.err("unterminated string"))?;
                    let ch = match c {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            if (0xD800..0xDC00).contains(&hi)
                                && self.s[self.i..].starts_with(b"\\u")
                            {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                                        .unwrap_or('\u{FFFD}')
                                } else {
                                    self.i = save;
                                    '\u{FFFD}'
                                }
                            } else {
                                char::from_u32(hi).unwrap_or('\u{FFFD}')
                            }
                        }
                        _ => return Err(self.err("bad escape")),
                    };
                    let mut tmp = [0u8; 4];
                    buf.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                }
                _ => return Err(self.err("unterminated string")),
            }
        }
        Ok(match String::from_utf8(buf) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_order_and_duplicates() {
        let rows = parse_objects(
            "{\"b\":1,\"a\":2,\"b\":\"x\"}\n{\"b\":null,\"a\":[1,{\"z\":1,\"y\":2}],\"b\":\"\"}\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        let keys: Vec<&str> = rows[0].iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["b", "a", "b"]);
        assert_eq!(rows[0][2].1, json!("x"));
        assert_eq!(rows[1][0].1, J::Null);
        assert_eq!(rows[1][2].1, json!(""));
        assert_eq!(rows[1][1].1, json!([1, {"y": 2, "z": 1}]));
    }

    #[test]
    fn non_finite_and_numbers() {
        let rows = parse_objects(
            r#"{"a":NaN,"b":Infinity,"c":-Infinity,"d":-0.0,"e":18446744073709551615,"f":-9223372036854775808,"g":0.30000000000000004,"h":1e400}"#,
        )
        .unwrap();
        let v: Vec<&J> = rows[0].iter().map(|(_, v)| v).collect();
        assert_eq!(v[0], &json!("NaN"));
        assert_eq!(v[1], &json!("inf"));
        assert_eq!(v[2], &json!("-inf"));
        assert_eq!(v[3].as_f64(), Some(0.0));
        assert_eq!(v[4], &json!(u64::MAX));
        assert_eq!(v[5], &json!(i64::MIN));
        assert_eq!(v[6].as_f64(), Some(0.30000000000000004));
        assert_eq!(v[7], &json!("inf"));
    }

    #[test]
    fn strings_and_arrays() {
        let rows = parse_objects(
            "[{\"s\":\"a\\\"b\\\\c\\n\\u0001\\ud83d\\ude00\u{e9}\",\"j\":{ \"a\" :\n 1 }},\n{\"s\":\"\",\"j\":[]}]",
        )
        .unwrap();
        assert_eq!(rows[0][0].1, json!("a\"b\\c\n\u{1}\u{1F600}\u{e9}"));
        assert_eq!(rows[0][1].1, json!({"a": 1}));
        assert_eq!(rows[1][0].1, json!(""));
        assert_eq!(parse_objects("[]").unwrap().len(), 0);
        assert_eq!(parse_objects("").unwrap().len(), 0);
        assert!(parse_objects("{\"a\":}").is_err());
        assert!(parse_objects("{\"a\":1").is_err());
        assert_eq!(parse_value(" [1, \"x\"] ").unwrap(), json!([1, "x"]));
    }
}
