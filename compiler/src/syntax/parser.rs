//! Recursive-descent KQL parser with error recovery.
//!
//! Precedence, loosest first: `or`, `and`, comparisons and string operators (`==`, `has`,
//! `in`, `between`, ...), `+ -`, `* / %`, unary `-`, postfix (`.name`, `[i]`, calls).
//! After an error the parser skips to the next `|`, `;` or unmatched closing bracket and
//! goes on, so a query with several mistakes reports each of them.

use super::ast::*;
use super::lexer::{lex, Tok, Token};
use crate::diagnostics::{codes, Diagnostic, Span};

/// Parses a whole query (statements separated by `;`).
pub fn parse(src: &str) -> (Query, Vec<Diagnostic>) {
    let (tokens, mut diags) = lex(src);
    let mut p = Parser {
        depth: 0,
        toks: tokens,
        pos: 0,
        diags: Vec::new(),
    };
    let q = p.query();
    diags.append(&mut p.diags);
    diags.sort_by_key(|d| d.span.map(|s| s.start));
    (q, diags)
}

const STRING_OPS: &[&str] = &[
    "has",
    "has_cs",
    "hasprefix",
    "hasprefix_cs",
    "hassuffix",
    "hassuffix_cs",
    "contains",
    "contains_cs",
    "startswith",
    "startswith_cs",
    "endswith",
    "endswith_cs",
    "notcontains",
    "notcontainscs",
    "like",
    "notlike",
    "likecs",
    "notlikecs",
];
const NEG_STRING_OPS: &[&str] = &[
    "!has",
    "!has_cs",
    "!hasprefix",
    "!hasprefix_cs",
    "!hassuffix",
    "!hassuffix_cs",
    "!contains",
    "!contains_cs",
    "!startswith",
    "!startswith_cs",
    "!endswith",
    "!endswith_cs",
];
const LIST_OPS: &[&str] = &["in", "has_any", "has_all", "has_any_cs", "has_all_cs"];
const OPTION_KEYS: &[&str] = &[
    "kind",
    "isfuzzy",
    "withsource",
    "with_source",
    "with_itemindex",
    "bagexpansion",
    "hint",
];

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    diags: Vec<Diagnostic>,
    /// Nesting depth of parentheses and prefix operators, bounded so that hostile input
    /// gets an error instead of exhausting the stack.
    depth: usize,
}

const MAX_DEPTH: usize = 512;

type PResult<T> = Result<T, ()>;

impl Parser {
    // ---- token helpers -------------------------------------------------------------------
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }
    fn peek_n(&self, n: usize) -> &Tok {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].tok
    }
    fn span(&self) -> Span {
        self.toks[self.pos].span
    }
    fn prev_end(&self) -> usize {
        if self.pos == 0 {
            0
        } else {
            self.toks[self.pos - 1].span.end
        }
    }
    fn bump(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }
    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }
    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == w)
    }
    fn eat_punct(&mut self, p: &str) -> bool {
        if self.is_punct(p) {
            self.bump();
            true
        } else {
            false
        }
    }
    fn eat_word(&mut self, w: &str) -> bool {
        if self.is_word(w) {
            self.bump();
            true
        } else {
            false
        }
    }
    fn describe(tok: &Tok) -> String {
        match tok {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::QuotedIdent(s) => format!("`['{s}']`"),
            Tok::Str(_) => "a string".into(),
            Tok::Long(_) | Tok::Real(_) => "a number".into(),
            Tok::Timespan(_) => "a timespan".into(),
            Tok::TypedLit(w, _) => format!("`{w}(...)`"),
            Tok::Placeholder(n) => format!("`{{{{{n}}}}}`"),
            Tok::Punct(p) => format!("`{p}`"),
            Tok::Eof => "the end of the query".into(),
        }
    }
    fn error_here(&mut self, expected: &str) {
        let found = Self::describe(self.peek());
        let span = self.span();
        self.diags.push(
            Diagnostic::error(
                codes::KQL_SYNTAX,
                format!("expected {expected}, found {found}"),
            )
            .with_span(span),
        );
    }
    fn expect_punct(&mut self, p: &str) -> PResult<Span> {
        if self.is_punct(p) {
            Ok(self.bump().span)
        } else {
            self.error_here(&format!("`{p}`"));
            Err(())
        }
    }
    fn ident(&mut self) -> PResult<Ident> {
        match self.peek().clone() {
            Tok::Ident(name) | Tok::QuotedIdent(name) => {
                let span = self.bump().span;
                Ok(Ident { name, span })
            }
            _ => {
                self.error_here("a name");
                Err(())
            }
        }
    }
    fn expect_word(&mut self, w: &str) -> PResult<()> {
        if self.eat_word(w) {
            Ok(())
        } else {
            self.error_here(&format!("`{w}`"));
            Err(())
        }
    }

    /// Skips to a recovery point: `|` or `;` at this nesting depth, or an unmatched closer.
    fn sync(&mut self) {
        let mut depth = 0i32;
        loop {
            match self.peek() {
                Tok::Eof => return,
                Tok::Punct("(") | Tok::Punct("[") | Tok::Punct("{") => depth += 1,
                Tok::Punct(")") | Tok::Punct("]") | Tok::Punct("}") => {
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                }
                Tok::Punct("|") | Tok::Punct(";") if depth == 0 => return,
                _ => {}
            }
            self.bump();
        }
    }

    // ---- statements ----------------------------------------------------------------------
    fn query(&mut self) -> Query {
        let idents = self
            .toks
            .iter()
            .filter_map(|t| match &t.tok {
                Tok::Ident(s) | Tok::QuotedIdent(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        let statements = self.statements(true);
        Query { statements, idents }
    }

    fn statements(&mut self, top: bool) -> Vec<Statement> {
        let mut out = Vec::new();
        loop {
            while self.eat_punct(";") {}
            if matches!(self.peek(), Tok::Eof) || (!top && self.is_punct("}")) {
                break;
            }
            let before = self.pos;
            match self.statement() {
                Ok(s) => out.push(s),
                Err(()) => self.sync(),
            }
            if matches!(self.peek(), Tok::Eof) || (!top && self.is_punct("}")) {
                break;
            }
            if !self.eat_punct(";") {
                self.error_here("`;` or `|`");
                self.sync();
                if self.is_punct(")") || self.is_punct("]") || (top && self.is_punct("}")) {
                    self.bump();
                }
                self.eat_punct(";");
                if self.pos == before {
                    self.bump();
                }
            }
        }
        out
    }

    fn statement(&mut self) -> PResult<Statement> {
        let start = self.span().start;
        if self.is_word("let") {
            self.bump();
            let name = self.ident()?;
            self.expect_punct("=")?;
            let value = if self.at_function_literal() {
                LetValue::Function(self.function()?)
            } else {
                LetValue::Expr(self.pipe_expr()?)
            };
            return Ok(Statement::Let {
                name,
                value,
                span: Span::new(start, self.prev_end()),
            });
        }
        if ["set", "declare", "alias", "pattern", "restrict"]
            .iter()
            .any(|w| self.is_word(w))
        {
            let word = self.ident()?;
            self.sync();
            return Ok(Statement::Directive {
                word,
                span: Span::new(start, self.prev_end()),
            });
        }
        Ok(Statement::Expr(self.pipe_expr()?))
    }

    fn at_function_literal(&self) -> bool {
        let mut n = 0;
        if matches!(self.peek(), Tok::Ident(w) if w == "view") {
            n = 1;
        }
        matches!(self.peek_n(n), Tok::Punct("("))
            && (matches!(self.peek_n(n + 1), Tok::Punct(")"))
                && matches!(self.peek_n(n + 2), Tok::Punct("{"))
                || matches!(self.peek_n(n + 1), Tok::Ident(_))
                    && matches!(self.peek_n(n + 2), Tok::Punct(":")))
    }

    fn function(&mut self) -> PResult<Function> {
        let start = self.span().start;
        self.eat_word("view");
        self.expect_punct("(")?;
        let mut params = Vec::new();
        while !self.is_punct(")") {
            let name = self.ident()?;
            self.expect_punct(":")?;
            let ty = if self.eat_punct("(") {
                // Tabular parameter: `(*)` or `(col:type, ...)`; the shape is not checked.
                let mut depth = 1;
                while depth > 0 && !matches!(self.peek(), Tok::Eof) {
                    match self.bump().tok {
                        Tok::Punct("(") => depth += 1,
                        Tok::Punct(")") => depth -= 1,
                        _ => {}
                    }
                }
                None
            } else {
                Some(self.ident()?)
            };
            let default = if self.eat_punct("=") {
                Some(self.unary()?)
            } else {
                None
            };
            params.push(Param { name, ty, default });
            if !self.eat_punct(",") {
                break;
            }
        }
        self.expect_punct(")")?;
        self.expect_punct("{")?;
        let body = self.statements(false);
        self.expect_punct("}")?;
        Ok(Function {
            params,
            body,
            span: Span::new(start, self.prev_end()),
        })
    }

    // ---- tabular pipelines ---------------------------------------------------------------
    fn pipe_expr(&mut self) -> PResult<Expr> {
        let mut input = if self.is_punct("|") {
            // `| where ...` with no input: an error, but keep parsing the operators.
            self.error_here("a table or expression before `|`");
            Expr {
                kind: ExprKind::Error,
                span: self.span(),
            }
        } else {
            self.expr()?
        };
        while self.is_punct("|") {
            self.bump();
            let op = match self.operator() {
                Ok(op) => op,
                Err(()) => {
                    self.sync();
                    continue;
                }
            };
            let span = input.span.to(op.span);
            input = Expr {
                kind: ExprKind::Pipe {
                    input: Box::new(input),
                    op: Box::new(op),
                },
                span,
            };
        }
        Ok(input)
    }

    /// The operator word, joining hyphenated names such as `mv-expand`.
    fn operator_word(&mut self) -> PResult<Ident> {
        let mut word = match self.peek() {
            Tok::Ident(_) => self.ident()?,
            _ => {
                self.error_here("an operator name");
                return Err(());
            }
        };
        while self.is_punct("-") && self.span().start == word.span.end {
            if let Tok::Ident(next) = self.peek_n(1).clone() {
                if self.toks[self.pos + 1].span.start == self.span().end {
                    self.bump();
                    let t = self.bump();
                    word.name = format!("{}-{}", word.name, next);
                    word.span = word.span.to(t.span);
                    continue;
                }
            }
            break;
        }
        Ok(word)
    }

    fn operator(&mut self) -> PResult<Operator> {
        let word = self.operator_word()?;
        let kind = match word.name.as_str() {
            "where" | "filter" => OpKind::Where(self.expr()?),
            "extend" => OpKind::Extend(self.named_list()?),
            "serialize" => OpKind::Serialize(if self.at_op_end() {
                Vec::new()
            } else {
                self.named_list()?
            }),
            "project" => OpKind::Project(self.named_list()?),
            "project-away" => OpKind::ProjectAway(self.pattern_list()?),
            "project-keep" => OpKind::ProjectKeep(self.pattern_list()?),
            "project-reorder" => OpKind::ProjectReorder(self.pattern_list()?),
            "project-rename" => {
                let mut pairs = Vec::new();
                loop {
                    let new = self.ident()?;
                    self.expect_punct("=")?;
                    let old = self.ident()?;
                    pairs.push((new, old));
                    if !self.eat_punct(",") {
                        break;
                    }
                }
                OpKind::ProjectRename(pairs)
            }
            "distinct" => {
                if self.is_punct("*") {
                    let span = self.bump().span;
                    OpKind::Distinct(vec![NamedExpr {
                        name: None,
                        more: Vec::new(),
                        expr: Expr {
                            kind: ExprKind::Star,
                            span,
                        },
                    }])
                } else {
                    OpKind::Distinct(self.named_list()?)
                }
            }
            "mv-expand" | "mvexpand" | "mv-apply" => {
                let options = self.options()?;
                let mut items = Vec::new();
                loop {
                    let named = self.named_expr()?;
                    let to_type = if self.eat_word("to") {
                        self.expect_word("typeof")?;
                        self.expect_punct("(")?;
                        let t = self.ident()?;
                        self.expect_punct(")")?;
                        Some(t)
                    } else {
                        None
                    };
                    items.push(MvExpandItem {
                        name: named.name,
                        expr: named.expr,
                        to_type,
                    });
                    if !self.eat_punct(",") {
                        break;
                    }
                }
                let limit = if self.eat_word("limit") {
                    Some(self.expr()?)
                } else {
                    None
                };
                if word.name == "mv-apply" {
                    self.expect_word("on")?;
                    self.expect_punct("(")?;
                    let mut body = vec![self.operator()?];
                    while self.eat_punct("|") {
                        body.push(self.operator()?);
                    }
                    self.expect_punct(")")?;
                    OpKind::MvApply {
                        options,
                        items,
                        limit,
                        body,
                    }
                } else {
                    OpKind::MvExpand {
                        options,
                        items,
                        limit,
                    }
                }
            }
            "join" | "lookup" => {
                let options = self.options()?;
                let right = self.unary()?;
                self.expect_word("on")?;
                let mut on = Vec::new();
                loop {
                    on.push(self.expr()?);
                    if !self.eat_punct(",") {
                        break;
                    }
                }
                if word.name == "join" {
                    OpKind::Join { options, right, on }
                } else {
                    OpKind::Lookup { options, right, on }
                }
            }
            "union" => self.union_body()?,
            "summarize" => {
                let options = self.options()?;
                let aggs = if self.is_word("by") || self.at_op_end() {
                    Vec::new()
                } else {
                    self.named_list()?
                };
                let by = if self.eat_word("by") {
                    self.named_list()?
                } else {
                    Vec::new()
                };
                OpKind::Summarize { options, aggs, by }
            }
            "make-series" => self.make_series()?,
            "evaluate" => {
                self.options()?;
                let call = self.postfix()?;
                let ExprKind::Call { name, args } = call.kind else {
                    self.error_here("a plugin call");
                    return Err(());
                };
                let schema = if self.eat_punct(":") {
                    Some(self.schema()?)
                } else {
                    None
                };
                OpKind::Evaluate {
                    plugin: name,
                    args,
                    schema,
                }
            }
            "take" | "limit" => OpKind::Take(self.expr()?),
            "sort" | "order" => {
                self.expect_word("by")?;
                OpKind::Sort(self.sort_keys()?)
            }
            "top" => {
                let count = self.expr()?;
                self.expect_word("by")?;
                let mut keys = self.sort_keys()?;
                OpKind::Top {
                    count,
                    by: keys.remove(0),
                }
            }
            "count" => OpKind::Count,
            "invoke" => OpKind::Invoke(self.postfix()?),
            "parse" => {
                let mut kind = None;
                while matches!(self.peek(), Tok::Ident(w) if w == "kind" || w == "flags")
                    && self.is_punct_at(1, "=")
                {
                    let key = self.ident()?;
                    self.bump();
                    let v = self.ident()?;
                    if key.name == "kind" {
                        kind = Some(v);
                    }
                }
                let expr = self.additive()?;
                self.expect_word("with")?;
                let mut parts = Vec::new();
                loop {
                    match self.peek().clone() {
                        Tok::Punct("*") => {
                            self.bump();
                            parts.push(ParsePart::Star);
                        }
                        Tok::Str(v) => {
                            self.bump();
                            parts.push(ParsePart::Lit(v));
                        }
                        Tok::Ident(_) | Tok::QuotedIdent(_) => {
                            let name = self.ident()?;
                            let ty = if self.eat_punct(":") {
                                Some(self.ident()?)
                            } else {
                                None
                            };
                            parts.push(ParsePart::Column(name, ty));
                        }
                        _ => break,
                    }
                }
                OpKind::Parse { kind, expr, parts }
            }
            _ => {
                // Known by name only: skip its arguments; lowering reports it as unsupported.
                self.sync();
                OpKind::Other
            }
        };
        if !self.at_op_end() {
            self.error_here("`|` or the end of the statement");
            return Err(());
        }
        let span = word.span.to(Span::empty_at(self.prev_end()));
        Ok(Operator { kind, word, span })
    }

    fn make_series(&mut self) -> PResult<OpKind> {
        let options = self.options()?;
        let mut aggs = Vec::new();
        loop {
            let agg = self.named_expr()?;
            let default = if self.is_word("default") && self.is_punct_at(1, "=") {
                self.bump();
                self.bump();
                Some(self.additive()?)
            } else {
                None
            };
            aggs.push((agg, default));
            if !self.eat_punct(",") {
                break;
            }
        }
        self.expect_word("on")?;
        // Not `expr()`: `Axis in range(...)` must not parse as an `in` list.
        let axis = self.additive()?;
        let (from, to, step, in_range) = if self.eat_word("in") {
            self.expect_word("range")?;
            self.expect_punct("(")?;
            let a = self.expr()?;
            self.expect_punct(",")?;
            let b = self.expr()?;
            self.expect_punct(",")?;
            let c = self.expr()?;
            self.expect_punct(")")?;
            (Some(a), Some(b), c, true)
        } else {
            let from = if self.eat_word("from") {
                Some(self.additive()?)
            } else {
                None
            };
            let to = if self.eat_word("to") {
                Some(self.additive()?)
            } else {
                None
            };
            self.expect_word("step")?;
            (from, to, self.additive()?, false)
        };
        let by = if self.eat_word("by") {
            self.named_list()?
        } else {
            Vec::new()
        };
        Ok(OpKind::MakeSeries {
            options,
            aggs,
            axis,
            from,
            to,
            step,
            in_range,
            by,
        })
    }

    fn at_op_end(&self) -> bool {
        matches!(
            self.peek(),
            Tok::Eof | Tok::Punct("|") | Tok::Punct(";") | Tok::Punct(")") | Tok::Punct("}")
        )
    }

    fn union_body(&mut self) -> PResult<OpKind> {
        let options = self.options()?;
        let mut legs = Vec::new();
        loop {
            legs.push(self.union_leg()?);
            if !self.eat_punct(",") {
                break;
            }
        }
        Ok(OpKind::Union { options, legs })
    }

    fn union_leg(&mut self) -> PResult<Expr> {
        // A table wildcard such as `Device*` or `Device*Events`: adjacent names and stars.
        let wild = matches!(self.peek(), Tok::Ident(_) | Tok::Punct("*"))
            && matches!(self.peek_n(1), Tok::Punct("*") | Tok::Ident(_))
            && self.toks[self.pos + 1].span.start == self.span().end
            && (matches!(self.peek(), Tok::Punct("*"))
                || matches!(self.peek_n(1), Tok::Punct("*")));
        if wild {
            let start = self.span();
            let mut end = start;
            let mut text = String::new();
            loop {
                let adjacent = text.is_empty() || self.span().start == end.end;
                match self.peek().clone() {
                    Tok::Ident(s) if adjacent => text.push_str(&s),
                    Tok::Punct("*") if adjacent => text.push('*'),
                    _ => break,
                }
                end = self.bump().span;
            }
            return Ok(Expr {
                kind: ExprKind::Name(text),
                span: start.to(end),
            });
        }
        self.unary()
    }

    fn options(&mut self) -> PResult<Vec<OptionKv>> {
        let mut out = Vec::new();
        while let Tok::Ident(w) = self.peek().clone() {
            if !OPTION_KEYS.contains(&w.as_str()) {
                break;
            }
            let hinted = w == "hint" && self.is_punct_at(1, ".");
            if !hinted && !self.is_punct_at(1, "=") {
                break;
            }
            let mut key = self.ident()?;
            if hinted {
                self.bump();
                let sub = self.ident()?;
                key = Ident {
                    name: format!("hint.{}", sub.name),
                    span: key.span.to(sub.span),
                };
            }
            self.expect_punct("=")?;
            // A plain word or literal: `kind=inner (...)` must not read as a call.
            let value = match self.peek().clone() {
                Tok::Ident(w) if w != "true" && w != "false" => {
                    let span = self.bump().span;
                    Expr {
                        kind: ExprKind::Name(w),
                        span,
                    }
                }
                _ => self.primary()?,
            };
            out.push(OptionKv { key, value });
        }
        Ok(out)
    }

    fn is_punct_at(&self, n: usize, p: &str) -> bool {
        matches!(self.peek_n(n), Tok::Punct(q) if *q == p)
    }

    fn sort_keys(&mut self) -> PResult<Vec<SortKey>> {
        let mut keys = Vec::new();
        loop {
            let expr = self.expr()?;
            let mut desc = true; // KQL sorts descending by default.
            if self.eat_word("asc") {
                desc = false;
            } else {
                self.eat_word("desc");
            }
            let mut nulls_first = None;
            if self.eat_word("nulls") {
                if self.eat_word("first") {
                    nulls_first = Some(true);
                } else {
                    self.expect_word("last")?;
                    nulls_first = Some(false);
                }
            }
            keys.push(SortKey {
                expr,
                desc,
                nulls_first,
            });
            if !self.eat_punct(",") {
                break;
            }
        }
        Ok(keys)
    }

    fn named_list(&mut self) -> PResult<Vec<NamedExpr>> {
        let mut out = vec![self.named_expr()?];
        while self.eat_punct(",") {
            out.push(self.named_expr()?);
        }
        Ok(out)
    }

    fn named_expr(&mut self) -> PResult<NamedExpr> {
        let is_named =
            matches!(self.peek(), Tok::Ident(_) | Tok::QuotedIdent(_)) && self.is_punct_at(1, "=");
        if is_named {
            let n = self.ident()?;
            self.bump();
            return Ok(NamedExpr {
                name: Some(n),
                more: Vec::new(),
                expr: self.expr()?,
            });
        }
        if self.is_punct("(") && self.at_tuple_assignment() {
            self.bump();
            let mut names = vec![self.ident()?];
            while self.eat_punct(",") {
                names.push(self.ident()?);
            }
            self.expect_punct(")")?;
            self.expect_punct("=")?;
            let first = names.remove(0);
            return Ok(NamedExpr {
                name: Some(first),
                more: names,
                expr: self.expr()?,
            });
        }
        Ok(NamedExpr {
            name: None,
            more: Vec::new(),
            expr: self.expr()?,
        })
    }

    /// `(a, b, c) =` ahead.
    fn at_tuple_assignment(&self) -> bool {
        let mut n = 1;
        loop {
            if !matches!(self.peek_n(n), Tok::Ident(_) | Tok::QuotedIdent(_)) {
                return false;
            }
            match self.peek_n(n + 1) {
                Tok::Punct(",") => n += 2,
                Tok::Punct(")") => return matches!(self.peek_n(n + 2), Tok::Punct("=")),
                _ => return false,
            }
        }
    }

    fn source_operator_ahead(&self) -> bool {
        match self.peek() {
            Tok::Ident(w) => match w.as_str() {
                "datatable" | "externaldata" => {
                    self.is_punct_at(1, "(") || matches!(self.peek_n(1), Tok::Ident(_))
                }
                "print" => !self.is_punct_at(1, "(") && !self.is_punct_at(1, "="),
                "range" => {
                    matches!(self.peek_n(1), Tok::Ident(_))
                        && matches!(self.peek_n(2), Tok::Ident(f) if f == "from")
                }
                _ => false,
            },
            _ => false,
        }
    }

    /// `(name:type, ...)`
    fn schema(&mut self) -> PResult<Vec<(Ident, Ident)>> {
        self.expect_punct("(")?;
        let mut cols = Vec::new();
        while !self.is_punct(")") {
            let name = self.ident()?;
            self.expect_punct(":")?;
            let ty = self.ident()?;
            cols.push((name, ty));
            if !self.eat_punct(",") {
                break;
            }
        }
        self.expect_punct(")")?;
        Ok(cols)
    }

    /// `[ expr, ... ]`
    fn bracket_list(&mut self) -> PResult<Vec<Expr>> {
        if let Tok::QuotedIdent(v) = self.peek().clone() {
            // `["one"]`: the lexer read it as a quoted name.
            let span = self.bump().span;
            return Ok(vec![Expr {
                kind: ExprKind::Lit(Lit::Str(v)),
                span,
            }]);
        }
        self.expect_punct("[")?;
        let mut out = Vec::new();
        while !self.is_punct("]") {
            out.push(self.expr()?);
            if !self.eat_punct(",") {
                break;
            }
        }
        self.expect_punct("]")?;
        Ok(out)
    }

    /// Source operators that start a pipeline: `datatable`, `externaldata`, `print`, `range`.
    fn source_operator(&mut self) -> PResult<Expr> {
        let word = self.ident()?;
        let kind = match word.name.as_str() {
            "datatable" | "externaldata" => {
                // Options such as `kind=...` before the schema are skipped.
                while matches!(self.peek(), Tok::Ident(_)) && self.is_punct_at(1, "=") {
                    self.bump();
                    self.bump();
                    self.bump();
                }
                let columns = self.schema()?;
                let values = self.bracket_list()?;
                if word.name == "datatable" {
                    OpKind::Datatable { columns, values }
                } else {
                    if self.eat_word("with") {
                        self.expect_punct("(")?;
                        let mut depth = 1;
                        while depth > 0 && !matches!(self.peek(), Tok::Eof) {
                            match self.bump().tok {
                                Tok::Punct("(") => depth += 1,
                                Tok::Punct(")") => depth -= 1,
                                _ => {}
                            }
                        }
                    }
                    OpKind::ExternalData {
                        columns,
                        uris: values,
                    }
                }
            }
            "print" => OpKind::Print(self.named_list()?),
            _ => {
                let name = self.ident()?;
                self.expect_word("from")?;
                let from = self.expr()?;
                self.expect_word("to")?;
                let to = self.expr()?;
                self.expect_word("step")?;
                let step = self.expr()?;
                OpKind::Range {
                    name,
                    from,
                    to,
                    step,
                }
            }
        };
        let span = word.span.to(Span::empty_at(self.prev_end()));
        Ok(Expr {
            kind: ExprKind::Source(Box::new(Operator { kind, word, span })),
            span,
        })
    }

    /// Column names with optional `*` wildcards (`project-away Foo*, Bar`).
    fn pattern_list(&mut self) -> PResult<Vec<Expr>> {
        let mut out = Vec::new();
        loop {
            let start = self.span();
            let mut text = String::new();
            let mut end = start;
            loop {
                let adjacent = text.is_empty() || self.span().start == end.end;
                if !adjacent {
                    break;
                }
                match self.peek().clone() {
                    Tok::Ident(s) | Tok::QuotedIdent(s) => text.push_str(&s),
                    Tok::Punct("*") => text.push('*'),
                    // `*1`: the digits lex as a number.
                    Tok::Long(n) if !text.is_empty() => text.push_str(&n.to_string()),
                    _ => break,
                }
                end = self.bump().span;
            }
            if text.is_empty() {
                self.error_here("a column name");
                return Err(());
            }
            out.push(Expr {
                kind: ExprKind::Name(text),
                span: start.to(end),
            });
            if !self.eat_punct(",") {
                break;
            }
        }
        Ok(out)
    }

    // ---- scalar expressions --------------------------------------------------------------
    fn expr(&mut self) -> PResult<Expr> {
        self.or()
    }

    fn binary(lhs: Expr, op: &str, rhs: Expr) -> Expr {
        let span = lhs.span.to(rhs.span);
        Expr {
            kind: ExprKind::Binary {
                op: op.to_string(),
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            },
            span,
        }
    }

    fn or(&mut self) -> PResult<Expr> {
        let mut lhs = self.and()?;
        while self.eat_word("or") {
            let rhs = self.and()?;
            lhs = Self::binary(lhs, "or", rhs);
        }
        Ok(lhs)
    }

    fn and(&mut self) -> PResult<Expr> {
        let mut lhs = self.comparison()?;
        while self.eat_word("and") {
            let rhs = self.comparison()?;
            lhs = Self::binary(lhs, "and", rhs);
        }
        Ok(lhs)
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let mut lhs = self.additive()?;
        loop {
            let tok = self.peek().clone();
            match tok {
                Tok::Punct(p @ ("==" | "!=" | "<>" | "<" | "<=" | ">" | ">=" | "=~" | "!~")) => {
                    self.bump();
                    let rhs = self.additive()?;
                    lhs = Self::binary(lhs, if p == "<>" { "!=" } else { p }, rhs);
                }
                Tok::Punct(p) if NEG_STRING_OPS.contains(&p) => {
                    self.bump();
                    let rhs = self.additive()?;
                    lhs = Self::binary(lhs, p, rhs);
                }
                Tok::Punct(p @ ("!in" | "in~" | "!in~")) => {
                    self.bump();
                    lhs = self.list_rest(lhs, p)?;
                }
                Tok::Punct("!between") => {
                    self.bump();
                    lhs = self.between_rest(lhs, true)?;
                }
                Tok::Ident(w) if STRING_OPS.contains(&w.as_str()) => {
                    self.bump();
                    let rhs = self.additive()?;
                    lhs = Self::binary(lhs, &w, rhs);
                }
                Tok::Ident(w) if LIST_OPS.contains(&w.as_str()) => {
                    self.bump();
                    lhs = self.list_rest(lhs, &w)?;
                }
                Tok::Ident(w) if w == "between" => {
                    self.bump();
                    lhs = self.between_rest(lhs, false)?;
                }
                Tok::Ident(w) if w == "matches" => {
                    self.bump();
                    self.expect_word("regex")?;
                    let rhs = self.additive()?;
                    lhs = Self::binary(lhs, "matches regex", rhs);
                }
                _ => return Ok(lhs),
            }
        }
    }

    fn list_rest(&mut self, lhs: Expr, op: &str) -> PResult<Expr> {
        self.expect_punct("(")?;
        let mut items = Vec::new();
        if !self.is_punct(")") {
            loop {
                items.push(self.pipe_expr()?);
                if !self.eat_punct(",") {
                    break;
                }
            }
        }
        let end = self.expect_punct(")")?;
        let span = lhs.span.to(end);
        Ok(Expr {
            kind: ExprKind::List {
                op: op.to_string(),
                expr: Box::new(lhs),
                items,
            },
            span,
        })
    }

    fn between_rest(&mut self, lhs: Expr, negated: bool) -> PResult<Expr> {
        self.expect_punct("(")?;
        let lo = self.additive()?;
        self.expect_punct("..")?;
        let hi = self.additive()?;
        let end = self.expect_punct(")")?;
        let span = lhs.span.to(end);
        Ok(Expr {
            kind: ExprKind::Between {
                expr: Box::new(lhs),
                lo: Box::new(lo),
                hi: Box::new(hi),
                negated,
            },
            span,
        })
    }

    fn additive(&mut self) -> PResult<Expr> {
        let mut lhs = self.multiplicative()?;
        loop {
            let op = match self.peek() {
                Tok::Punct(p @ ("+" | "-")) => *p,
                _ => return Ok(lhs),
            };
            self.bump();
            let rhs = self.multiplicative()?;
            lhs = Self::binary(lhs, op, rhs);
        }
    }

    fn multiplicative(&mut self) -> PResult<Expr> {
        let mut lhs = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Punct(p @ ("*" | "/" | "%")) => *p,
                _ => return Ok(lhs),
            };
            self.bump();
            let rhs = self.unary()?;
            lhs = Self::binary(lhs, op, rhs);
        }
    }

    fn unary(&mut self) -> PResult<Expr> {
        if let Tok::Punct(p @ ("-" | "+")) = self.peek().clone() {
            let start = self.bump().span;
            let expr = self.unary()?;
            let span = start.to(expr.span);
            return Ok(Expr {
                kind: ExprKind::Unary {
                    op: p.to_string(),
                    expr: Box::new(expr),
                },
                span,
            });
        }
        self.postfix()
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let mut e = self.primary()?;
        loop {
            if self.is_punct(".") && self.is_punct_at(1, "[") {
                // `x.[0]` is `x[0]`.
                self.bump();
            } else if self.is_punct(".") {
                self.bump();
                let name = self.ident()?;
                let span = e.span.to(name.span);
                e = Expr {
                    kind: ExprKind::Member {
                        expr: Box::new(e),
                        name,
                    },
                    span,
                };
            } else if let Tok::QuotedIdent(key) = self.peek().clone() {
                // `x['key']`: the lexer reads `['key']` as a quoted name.
                let t = self.bump();
                let index = Expr {
                    kind: ExprKind::Lit(Lit::Str(key)),
                    span: t.span,
                };
                let span = e.span.to(t.span);
                e = Expr {
                    kind: ExprKind::Index {
                        expr: Box::new(e),
                        index: Box::new(index),
                    },
                    span,
                };
            } else if self.is_punct("[") {
                self.bump();
                let index = self.expr()?;
                let end = self.expect_punct("]")?;
                let span = e.span.to(end);
                e = Expr {
                    kind: ExprKind::Index {
                        expr: Box::new(e),
                        index: Box::new(index),
                    },
                    span,
                };
            } else {
                return Ok(e);
            }
        }
    }

    fn primary(&mut self) -> PResult<Expr> {
        if self.depth >= MAX_DEPTH {
            let span = self.span();
            self.diags.push(
                Diagnostic::error(
                    codes::KQL_SYNTAX,
                    format!("expressions nest more than {MAX_DEPTH} levels deep"),
                )
                .with_span(span),
            );
            self.pos = self.toks.len() - 1;
            return Err(());
        }
        self.depth += 1;
        let r = self.primary_inner();
        self.depth -= 1;
        r
    }

    fn primary_inner(&mut self) -> PResult<Expr> {
        let tok = self.peek().clone();
        let span = self.span();
        let lit = |kind| Ok(Expr { kind, span });
        match tok {
            Tok::Str(mut s) => {
                self.bump();
                let mut end = span;
                // Adjacent string literals concatenate.
                while let Tok::Str(more) = self.peek().clone() {
                    end = self.bump().span;
                    s.push_str(&more);
                }
                Ok(Expr {
                    kind: ExprKind::Lit(Lit::Str(s)),
                    span: span.to(end),
                })
            }
            Tok::Long(v) => {
                self.bump();
                lit(ExprKind::Lit(Lit::Long(v)))
            }
            Tok::Real(v) => {
                self.bump();
                lit(ExprKind::Lit(Lit::Real(v)))
            }
            Tok::Timespan(v) => {
                self.bump();
                lit(ExprKind::Lit(Lit::Timespan(v)))
            }
            Tok::TypedLit(w, raw) => {
                self.bump();
                lit(ExprKind::Lit(Lit::Typed(w, raw)))
            }
            Tok::Placeholder(name) => {
                self.bump();
                lit(ExprKind::Placeholder(name))
            }
            Tok::Punct("(") => {
                self.bump();
                let inner = self.pipe_expr()?;
                let end = self.expect_punct(")")?;
                Ok(Expr {
                    kind: inner.kind,
                    span: span.to(end),
                })
            }
            Tok::Punct("*") => {
                self.bump();
                lit(ExprKind::Star)
            }
            Tok::Punct("$") => {
                self.bump();
                let side = self.ident()?;
                let right = match side.name.as_str() {
                    "left" => false,
                    "right" => true,
                    _ => {
                        self.diags.push(
                            Diagnostic::error(codes::KQL_SYNTAX, "expected `$left` or `$right`")
                                .with_span(side.span),
                        );
                        return Err(());
                    }
                };
                self.expect_punct(".")?;
                let name = self.ident()?;
                let span = span.to(name.span);
                Ok(Expr {
                    kind: ExprKind::JoinSide { right, name },
                    span,
                })
            }
            Tok::QuotedIdent(name) => {
                self.bump();
                lit(ExprKind::Name(name))
            }
            Tok::Ident(_) if self.source_operator_ahead() => self.source_operator(),
            Tok::Ident(w) => match w.as_str() {
                // Kusto also accepts `True`/`False`/`TRUE`/`FALSE`.
                "true" | "false" | "True" | "False" | "TRUE" | "FALSE" => {
                    self.bump();
                    lit(ExprKind::Lit(Lit::Bool(w.eq_ignore_ascii_case("true"))))
                }
                "null" => {
                    self.bump();
                    lit(ExprKind::Lit(Lit::Null))
                }
                "dynamic" if self.is_punct_at(1, "(") => self.dynamic(),
                "union" => {
                    let word = self.ident()?;
                    let kind = self.union_body()?;
                    let op_span = word.span.to(Span::empty_at(self.prev_end()));
                    Ok(Expr {
                        kind: ExprKind::Source(Box::new(Operator {
                            kind,
                            word,
                            span: op_span,
                        })),
                        span: op_span,
                    })
                }
                _ => {
                    let name = self.ident()?;
                    if self.is_punct("(") {
                        self.bump();
                        let mut args = Vec::new();
                        if !self.is_punct(")") {
                            loop {
                                let named = matches!(self.peek(), Tok::Ident(_))
                                    && self.is_punct_at(1, "=");
                                let arg_name = if named {
                                    let n = self.ident()?;
                                    self.bump();
                                    Some(n)
                                } else {
                                    None
                                };
                                let value = self.pipe_expr()?;
                                args.push(Arg {
                                    name: arg_name,
                                    value,
                                });
                                if !self.eat_punct(",") {
                                    break;
                                }
                            }
                        }
                        let end = self.expect_punct(")")?;
                        let span = name.span.to(end);
                        Ok(Expr {
                            kind: ExprKind::Call { name, args },
                            span,
                        })
                    } else {
                        Ok(Expr {
                            kind: ExprKind::Name(name.name),
                            span: name.span,
                        })
                    }
                }
            },
            _ => {
                self.error_here("an expression");
                Err(())
            }
        }
    }

    fn dynamic(&mut self) -> PResult<Expr> {
        let start = self.bump().span; // `dynamic`
        self.expect_punct("(")?;
        let value = self.json_value()?;
        let end = self.expect_punct(")")?;
        Ok(Expr {
            kind: ExprKind::Dynamic(value),
            span: start.to(end),
        })
    }

    fn json_value(&mut self) -> PResult<serde_json::Value> {
        use serde_json::Value as J;
        let tok = self.peek().clone();
        let neg = if self.is_punct("-") {
            self.bump();
            true
        } else {
            false
        };
        let tok = if neg { self.peek().clone() } else { tok };
        let v = match tok {
            Tok::Str(mut s) => {
                // Adjacent string literals concatenate here too.
                while let Tok::Str(more) = self.peek_n(1).clone() {
                    self.bump();
                    s.push_str(&more);
                }
                J::String(s)
            }
            Tok::Long(n) => J::from(if neg { -n } else { n }),
            Tok::Real(x) => serde_json::Number::from_f64(if neg { -x } else { x })
                .map(J::Number)
                .unwrap_or(J::Null),
            Tok::Ident(w) if w == "true" || w == "false" => J::Bool(w == "true"),
            Tok::Ident(w) if w == "null" => J::Null,
            Tok::TypedLit(_, raw) => J::String(raw),
            // `dynamic(['a'])`: the lexer read the one-element array as a quoted name.
            Tok::QuotedIdent(s) => J::Array(vec![J::String(s)]),
            Tok::Punct("[") => {
                self.bump();
                let mut items = Vec::new();
                while !self.is_punct("]") {
                    items.push(self.json_value()?);
                    if !self.eat_punct(",") {
                        break;
                    }
                }
                self.expect_punct("]")?;
                return Ok(J::Array(items));
            }
            Tok::Punct("{") => {
                self.bump();
                let mut map = serde_json::Map::new();
                while !self.is_punct("}") {
                    let key = match self.peek().clone() {
                        Tok::Str(s) | Tok::Ident(s) => {
                            self.bump();
                            s
                        }
                        _ => {
                            self.error_here("a property name");
                            return Err(());
                        }
                    };
                    self.expect_punct(":")?;
                    map.insert(key, self.json_value()?);
                    if !self.eat_punct(",") {
                        break;
                    }
                }
                self.expect_punct("}")?;
                return Ok(J::Object(map));
            }
            _ => {
                self.error_here("a dynamic literal value");
                return Err(());
            }
        };
        self.bump();
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(src: &str) -> Query {
        let (q, d) = parse(src);
        assert!(d.is_empty(), "{src}: {d:?}");
        q
    }

    #[test]
    fn parses_seed_shapes() {
        ok("let f = (t:string){ table(t) | where A between(s..e) | where B has_any (\"x\", \"y\") or C in (1, 2) }; union isfuzzy=true f(\"a\"), f(\"b\")");
        ok("T | mv-expand X | extend R = tostring(X), U = tolower(U) | distinct R, U");
        ok("T | join kind=inner (U | where x == 1) on $left.A == $right.B | extend t = TimeGenerated");
        ok("T | summarize count() by bin(TimeGenerated, 1h), U | sort by count_ desc | take 10");
        ok("T | where X !has 'a' and Y !in~ ('b') and Z matches regex @'\\d+' | project-away Foo*, Bar");
        ok("T | where D == dynamic({\"a\": [1, -2, null]})");
    }

    #[test]
    fn recovers_and_reports_each_error() {
        let (q, d) = parse("T | where (A == | extend B = 1 | where C ==");
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(q.statements.len(), 1);
        let (_, d) = parse("let x = ; T | take 1");
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].span.unwrap().start, 8);
    }

    #[test]
    fn hyphenated_operator_words() {
        let q = ok("T | project-away A");
        let Statement::Expr(Expr {
            kind: ExprKind::Pipe { op, .. },
            ..
        }) = &q.statements[0]
        else {
            panic!()
        };
        assert_eq!(op.word.name, "project-away");
    }
}

#[cfg(test)]
mod bracket_tests {
    use super::*;

    #[test]
    fn brackets_are_names_or_lists_or_indexes() {
        for q in [
            "T | where X in (dynamic(['a', 'b']))",
            "T | extend H = tostring(P['Host']), N = P[\"Name\"][0]",
            "T | project ['my col']",
        ] {
            let (_, d) = parse(q);
            assert!(d.is_empty(), "{q}: {d:?}");
        }
    }
}
