//! Tokens of KQL. Spans are byte offsets into the query text.

use crate::diagnostics::{codes, Diagnostic, Span};

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Ident(String),
    /// `['name']` or `["name"]`.
    QuotedIdent(String),
    Str(String),
    Long(i64),
    Real(f64),
    /// A timespan literal such as `1d` or `30m`, in ticks.
    Timespan(i64),
    /// `datetime(...)`, `timespan(...)`, `guid(...)` and `typename(null)`: the type word and
    /// the raw text between the parentheses.
    TypedLit(String, String),
    /// `{{Name}}` outside a string literal.
    Placeholder(String),
    Punct(&'static str),
    Eof,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

const PUNCTS: &[&str] = &[
    "!contains_cs",
    "!startswith_cs",
    "!endswith_cs",
    "!hasprefix_cs",
    "!hassuffix_cs",
    "!contains",
    "!startswith",
    "!endswith",
    "!hasprefix",
    "!hassuffix",
    "!between",
    "!has_cs",
    "!has",
    "!in~",
    "!in",
    "..",
    "==",
    "!=",
    "<>",
    "<=",
    ">=",
    "=~",
    "!~",
    "=>",
    "in~",
    "|",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    ":",
    ".",
    "=",
    "<",
    ">",
    "+",
    "-",
    "*",
    "/",
    "%",
    "!",
    "$",
    "@",
    "?",
];

const TYPED_LITERALS: &[&str] = &[
    "datetime",
    "timespan",
    "time",
    "guid",
    "date",
    "bool",
    "boolean",
    "int",
    "long",
    "real",
    "double",
    "decimal",
    "dynamic_null_only",
];

/// Multiplier in ticks of a timespan unit suffix.
pub fn timespan_unit(unit: &str) -> Option<f64> {
    const S: f64 = 10_000_000.0;
    Some(match unit {
        "d" | "day" | "days" => 86_400.0 * S,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600.0 * S,
        "m" | "min" | "minute" | "minutes" => 60.0 * S,
        "s" | "sec" | "second" | "seconds" => S,
        "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 10_000.0,
        "microsecond" | "microseconds" => 10.0,
        "tick" | "ticks" => 1.0,
        _ => return None,
    })
}

pub fn lex(src: &str) -> (Vec<Token>, Vec<Diagnostic>) {
    let mut lx = Lexer {
        src,
        pos: 0,
        out: Vec::new(),
        diags: Vec::new(),
    };
    lx.run();
    (lx.out, lx.diags)
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    out: Vec<Token>,
    diags: Vec<Diagnostic>,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }
    fn peek_at(&self, n: usize) -> Option<char> {
        self.src[self.pos..].chars().nth(n)
    }
    fn push(&mut self, tok: Tok, start: usize) {
        self.out.push(Token {
            tok,
            span: Span::new(start, self.pos),
        });
    }
    fn error(&mut self, message: String, span: Span) {
        self.diags
            .push(Diagnostic::error(codes::KQL_LEX, message).with_span(span));
    }

    fn run(&mut self) {
        while let Some(c) = self.peek() {
            let start = self.pos;
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else if self.src[self.pos..].starts_with("//") {
                while let Some(c) = self.peek() {
                    if c == '\n' {
                        break;
                    }
                    self.pos += c.len_utf8();
                }
            } else if self.src[self.pos..].starts_with("{{") {
                self.placeholder();
            } else if c.is_ascii_digit() {
                self.number();
            } else if (c == '@' || c == 'h' || c == 'H')
                && matches!(self.peek_at(1), Some('"') | Some('\''))
            {
                // @"verbatim" and h"hidden" strings.
                self.pos += 1;
                self.string(start, c == '@');
            } else if c == '"' || c == '\'' {
                self.string(start, false);
            } else if self.src[self.pos..].starts_with("```") {
                self.multiline_string(start);
            } else if c.is_alphabetic() || c == '_' {
                self.ident(start);
            } else if c == '[' && self.at_quoted_ident() {
                self.quoted_ident(start);
            } else if let Some(p) = self.punct() {
                self.pos += p.len();
                self.push(Tok::Punct(p), start);
            } else {
                self.pos += c.len_utf8();
                self.error(
                    format!("unexpected character {c:?}"),
                    Span::new(start, self.pos),
                );
            }
        }
        let end = self.src.len();
        self.out.push(Token {
            tok: Tok::Eof,
            span: Span::new(end, end),
        });
    }

    fn punct(&self) -> Option<&'static str> {
        let rest = &self.src[self.pos..];
        PUNCTS.iter().copied().find(|p| {
            rest.starts_with(p) && {
                // Word-like operators (`!has`) must not run into a longer word (`!hasfoo`).
                let last = p.as_bytes()[p.len() - 1];
                !(last.is_ascii_alphanumeric() || last == b'_')
                    || !rest[p.len()..]
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
            }
        })
    }

    fn placeholder(&mut self) {
        let start = self.pos;
        match self.src[self.pos + 2..].find("}}") {
            Some(end) => {
                let name = self.src[self.pos + 2..self.pos + 2 + end]
                    .trim()
                    .to_string();
                self.pos += end + 4;
                self.push(Tok::Placeholder(name), start);
            }
            None => {
                self.pos = self.src.len();
                self.error(
                    "unterminated `{{` placeholder".into(),
                    Span::new(start, start + 2),
                );
            }
        }
    }

    fn number(&mut self) {
        let start = self.pos;
        let bytes = self.src.as_bytes();
        if self.src[self.pos..].starts_with("0x") || self.src[self.pos..].starts_with("0X") {
            self.pos += 2;
            while self.pos < bytes.len() && bytes[self.pos].is_ascii_hexdigit() {
                self.pos += 1;
            }
            let text = &self.src[start + 2..self.pos];
            match i64::from_str_radix(text, 16) {
                Ok(v) => self.push(Tok::Long(v), start),
                Err(_) => self.error("bad hex literal".into(), Span::new(start, self.pos)),
            }
            return;
        }
        while self.pos < bytes.len() && bytes[self.pos].is_ascii_digit() {
            self.pos += 1;
        }
        let mut is_real = false;
        // A `.` followed by a digit is a fraction; `..` is the range operator.
        if self.pos + 1 < bytes.len()
            && bytes[self.pos] == b'.'
            && bytes[self.pos + 1].is_ascii_digit()
        {
            is_real = true;
            self.pos += 1;
            while self.pos < bytes.len() && bytes[self.pos].is_ascii_digit() {
                self.pos += 1;
            }
        }
        if self.pos < bytes.len() && (bytes[self.pos] == b'e' || bytes[self.pos] == b'E') {
            let save = self.pos;
            self.pos += 1;
            if self.pos < bytes.len() && (bytes[self.pos] == b'+' || bytes[self.pos] == b'-') {
                self.pos += 1;
            }
            if self.pos < bytes.len() && bytes[self.pos].is_ascii_digit() {
                is_real = true;
                while self.pos < bytes.len() && bytes[self.pos].is_ascii_digit() {
                    self.pos += 1;
                }
            } else {
                self.pos = save;
            }
        }
        let num_end = self.pos;
        // Unit suffix: letters directly after the digits.
        let mut unit_end = self.pos;
        while unit_end < bytes.len() && bytes[unit_end].is_ascii_alphabetic() {
            unit_end += 1;
        }
        let text = &self.src[start..num_end];
        if unit_end > num_end {
            let unit = &self.src[num_end..unit_end];
            match (timespan_unit(unit), text.parse::<f64>()) {
                (Some(mult), Ok(v)) => {
                    self.pos = unit_end;
                    self.push(Tok::Timespan((v * mult).round() as i64), start);
                }
                _ => {
                    self.pos = unit_end;
                    self.error(
                        format!("unknown timespan unit `{unit}`"),
                        Span::new(start, self.pos),
                    );
                }
            }
            return;
        }
        if is_real {
            match text.parse::<f64>() {
                Ok(v) => self.push(Tok::Real(v), start),
                Err(_) => self.error("bad number".into(), Span::new(start, self.pos)),
            }
        } else {
            match text.parse::<i64>() {
                Ok(v) => self.push(Tok::Long(v), start),
                Err(_) => match text.parse::<f64>() {
                    Ok(v) => self.push(Tok::Real(v), start),
                    Err(_) => self.error("bad number".into(), Span::new(start, self.pos)),
                },
            }
        }
    }

    fn string(&mut self, start: usize, verbatim: bool) {
        let quote = self.peek().unwrap();
        self.pos += 1;
        let mut value = String::new();
        loop {
            let Some(c) = self.peek() else {
                self.error(
                    "unterminated string literal".into(),
                    Span::new(start, self.pos),
                );
                return;
            };
            if c == '\n' {
                self.error(
                    "unterminated string literal".into(),
                    Span::new(start, self.pos),
                );
                return;
            }
            self.pos += c.len_utf8();
            if c == quote {
                if verbatim && self.peek() == Some(quote) {
                    self.pos += 1;
                    value.push(quote);
                    continue;
                }
                break;
            }
            if c == '\\' && !verbatim {
                let esc_start = self.pos - 1;
                let Some(e) = self.peek() else { continue };
                self.pos += e.len_utf8();
                match e {
                    'n' => value.push('\n'),
                    't' => value.push('\t'),
                    'r' => value.push('\r'),
                    '0' => value.push('\0'),
                    '\\' | '\'' | '"' => value.push(e),
                    'u' => {
                        let hex = self.src.get(self.pos..self.pos + 4).unwrap_or("");
                        match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                            Some(ch) if hex.len() == 4 => {
                                self.pos += 4;
                                value.push(ch);
                            }
                            _ => {
                                self.error("bad \\u escape".into(), Span::new(esc_start, self.pos))
                            }
                        }
                    }
                    other => {
                        // KQL keeps unknown escapes as written (e.g. regex `\d`).
                        value.push('\\');
                        value.push(other);
                    }
                }
                continue;
            }
            value.push(c);
        }
        self.push(Tok::Str(value), start);
    }

    fn multiline_string(&mut self, start: usize) {
        self.pos += 3;
        match self.src[self.pos..].find("```") {
            Some(end) => {
                let value = self.src[self.pos..self.pos + end].to_string();
                self.pos += end + 3;
                self.push(Tok::Str(value), start);
            }
            None => {
                self.pos = self.src.len();
                self.error(
                    "unterminated ``` string".into(),
                    Span::new(start, start + 3),
                );
            }
        }
    }

    /// `['name']`: a `[`, one string literal, then `]`. Anything else (`['a', 'b']`) is an
    /// ordinary bracket.
    fn at_quoted_ident(&self) -> bool {
        let rest = &self.src[self.pos + 1..];
        let Some(q) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            return false;
        };
        let mut escaped = false;
        for (i, c) in rest.char_indices().skip(1) {
            if c == '\n' {
                return false;
            }
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                return rest[i + 1..].trim_start_matches(' ').starts_with(']');
            }
        }
        false
    }

    fn quoted_ident(&mut self, start: usize) {
        self.pos += 1; // [
        let before = self.out.len();
        self.string(self.pos, false);
        if self.out.len() == before {
            return; // error already reported
        }
        let tok = self.out.pop().unwrap();
        while self.peek().is_some_and(|c| c == ' ') {
            self.pos += 1;
        }
        if self.peek() == Some(']') {
            self.pos += 1;
            if let Tok::Str(s) = tok.tok {
                self.push(Tok::QuotedIdent(s), start);
            }
        } else {
            self.error(
                "expected `]` after quoted name".into(),
                Span::new(start, self.pos),
            );
        }
    }

    fn ident(&mut self, start: usize) {
        while let Some(c) = self.peek() {
            if c.is_alphanumeric() || c == '_' {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
        let word = &self.src[start..self.pos];
        if word == "in" && self.peek() == Some('~') {
            self.pos += 1;
            self.push(Tok::Punct("in~"), start);
            return;
        }
        // `datetime(2024-01-01 10:00)`, `guid(...)`, `long(null)`: raw text up to `)`.
        if TYPED_LITERALS.contains(&word) {
            let rest = &self.src[self.pos..];
            let trimmed = rest.trim_start();
            if trimmed.starts_with('(') {
                let open = self.pos + (rest.len() - trimmed.len());
                if let Some(close) = self.src[open..].find(')') {
                    let raw = self.src[open + 1..open + close].trim();
                    let is_null = raw == "null";
                    let keep = matches!(word, "datetime" | "timespan" | "time" | "guid" | "date")
                        || is_null;
                    // A quoted argument (`datetime("...")`) is a string; strip the quotes.
                    if keep && !raw.contains('(') {
                        let raw = raw
                            .strip_prefix(['"', '\''])
                            .and_then(|r| r.strip_suffix(['"', '\'']))
                            .unwrap_or(raw)
                            .to_string();
                        self.pos = open + close + 1;
                        self.push(Tok::TypedLit(word.to_string(), raw), start);
                        return;
                    }
                }
            }
        }
        self.push(Tok::Ident(word.to_string()), start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        let (t, d) = lex(s);
        assert!(d.is_empty(), "{d:?}");
        t.into_iter()
            .map(|t| t.tok)
            .filter(|t| *t != Tok::Eof)
            .collect()
    }

    #[test]
    fn literals() {
        assert_eq!(toks("1d"), vec![Tok::Timespan(864_000_000_000)]);
        assert_eq!(toks("1.5h"), vec![Tok::Timespan(54_000_000_000)]);
        assert_eq!(toks("'a\\'b'"), vec![Tok::Str("a'b".into())]);
        assert_eq!(toks(r#"@"c:\x""#), vec![Tok::Str("c:\\x".into())]);
        assert_eq!(
            toks("datetime(2024-01-01 10:00)"),
            vec![Tok::TypedLit("datetime".into(), "2024-01-01 10:00".into())]
        );
        assert_eq!(
            toks("a..b"),
            vec![
                Tok::Ident("a".into()),
                Tok::Punct(".."),
                Tok::Ident("b".into())
            ]
        );
        assert_eq!(
            toks("1..2"),
            vec![Tok::Long(1), Tok::Punct(".."), Tok::Long(2)]
        );
        assert_eq!(toks("x !has 'a'")[1], Tok::Punct("!has"));
        assert_eq!(toks("{{Start}}"), vec![Tok::Placeholder("Start".into())]);
        assert_eq!(toks("['my col']"), vec![Tok::QuotedIdent("my col".into())]);
    }

    #[test]
    fn errors_are_located() {
        let (_, d) = lex("where x == 'abc");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].span, Some(Span::new(11, 15)));
        let (_, d) = lex("a # b");
        assert_eq!(d[0].span, Some(Span::new(2, 3)));
    }
}
