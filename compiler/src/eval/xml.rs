//! `parse_xml`: XML text to a dynamic value, the way Kusto maps it: an element is a property
//! named after it; attributes become `@name` properties and text `#text`; an element with
//! only text is that string; repeated child elements become an array. Invalid XML is null.

use serde_json::{Map, Value as J};

struct P<'a> {
    s: &'a str,
    i: usize,
}

pub fn parse_xml(s: &str) -> Option<J> {
    let mut p = P { s, i: 0 };
    p.skip_misc();
    let (name, value) = p.element(0)?;
    p.skip_misc();
    if p.i != p.s.len() {
        return None;
    }
    let mut m = Map::new();
    m.insert(name, value);
    Some(J::Object(m))
}

fn unescape(t: &str) -> String {
    if !t.contains('&') {
        return t.to_string();
    }
    let mut out = String::new();
    let mut rest = t;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let Some(end) = tail.find(';') else {
            out.push_str(tail);
            return out;
        };
        let ent = &tail[1..end];
        let ch = match ent {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => out.push(c),
            None => out.push_str(&tail[..=end]),
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

impl<'a> P<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.i..]
    }

    fn skip_ws(&mut self) {
        let r = self.rest();
        self.i += r.len() - r.trim_start().len();
    }

    /// Whitespace, the XML declaration, processing instructions, comments and a doctype.
    fn skip_misc(&mut self) {
        loop {
            self.skip_ws();
            let r = self.rest();
            let end = if r.starts_with("<?") {
                r.find("?>").map(|e| e + 2)
            } else if r.starts_with("<!--") {
                r.find("-->").map(|e| e + 3)
            } else if r.starts_with("<!DOCTYPE") {
                r.find('>').map(|e| e + 1)
            } else {
                return;
            };
            match end {
                Some(e) => self.i += e,
                None => {
                    self.i = self.s.len();
                    return;
                }
            }
        }
    }

    fn name(&mut self) -> Option<String> {
        let r = self.rest();
        let n = r
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/' || c == '=')
            .unwrap_or(r.len());
        if n == 0 {
            return None;
        }
        self.i += n;
        Some(r[..n].to_string())
    }

    fn element(&mut self, depth: usize) -> Option<(String, J)> {
        if depth > 200 || !self.rest().starts_with('<') {
            return None;
        }
        self.i += 1;
        let name = self.name()?;
        let mut attrs = Map::new();
        loop {
            self.skip_ws();
            let r = self.rest();
            if r.starts_with("/>") {
                self.i += 2;
                let v = if attrs.is_empty() {
                    J::Null
                } else {
                    J::Object(attrs)
                };
                return Some((name, v));
            }
            if r.starts_with('>') {
                self.i += 1;
                break;
            }
            let key = self.name()?;
            self.skip_ws();
            if !self.rest().starts_with('=') {
                return None;
            }
            self.i += 1;
            self.skip_ws();
            let q = self
                .rest()
                .chars()
                .next()
                .filter(|c| *c == '"' || *c == '\'')?;
            self.i += 1;
            let end = self.rest().find(q)?;
            let val = unescape(&self.rest()[..end]);
            self.i += end + 1;
            attrs.insert(format!("@{key}"), J::String(val));
        }
        let mut children: Map<String, J> = Map::new();
        let mut text = String::new();
        loop {
            let r = self.rest();
            if r.is_empty() {
                return None;
            }
            if let Some(body) = r.strip_prefix("<![CDATA[") {
                let end = body.find("]]>")?;
                text.push_str(&body[..end]);
                self.i += 9 + end + 3;
            } else if r.starts_with("<!--") {
                self.i += r.find("-->")? + 3;
            } else if let Some(close) = r.strip_prefix("</") {
                let end = close.find('>')?;
                if close[..end].trim() != name {
                    return None;
                }
                self.i += 2 + end + 1;
                break;
            } else if r.starts_with('<') {
                let (cname, cval) = self.element(depth + 1)?;
                match children.get_mut(&cname) {
                    Some(J::Array(a)) => a.push(cval),
                    Some(existing) => {
                        let prev = existing.take();
                        *existing = J::Array(vec![prev, cval]);
                    }
                    None => {
                        children.insert(cname, cval);
                    }
                }
            } else {
                let end = r.find('<').unwrap_or(r.len());
                text.push_str(&unescape(&r[..end]));
                self.i += end;
            }
        }
        let text = text.trim();
        if attrs.is_empty() && children.is_empty() {
            return Some((
                name,
                if text.is_empty() {
                    J::Null
                } else {
                    J::String(text.to_string())
                },
            ));
        }
        let mut m = attrs;
        m.extend(children);
        if !text.is_empty() {
            m.insert("#text".into(), J::String(text.to_string()));
        }
        Some((name, J::Object(m)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kusto_mapping() {
        assert_eq!(
            parse_xml("<?xml version=\"1.0\"?><e a=\"1\"><n>Jane</n><k>x</k><k>y &amp; z</k><t b='2'>txt</t></e>"),
            Some(json!({"e": {"@a": "1", "n": "Jane", "k": ["x", "y & z"], "t": {"@b": "2", "#text": "txt"}}}))
        );
        assert_eq!(parse_xml("<a><b/></a>"), Some(json!({"a": {"b": null}})));
        assert_eq!(parse_xml("<a><b></a>"), None);
        assert_eq!(parse_xml("not xml"), None);
    }
}
