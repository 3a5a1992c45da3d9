//! Stage 3: syntax tree -> typed IR. Resolves names against table schemas, inlines `let`
//! bindings and let-functions (binding `table(name)` at each call site), types every
//! expression, and turns `{{Name}}` placeholders into typed parameters.

mod expr;
mod names;
mod operators;
mod rows;

use operators::PatternUse;

use crate::catalog::{Catalog, TableSchema};
use crate::diagnostics::{codes, Diagnostic, Span};
use crate::ir::{Column, JoinKind, Node, Op};
use crate::syntax::ast::{self, ExprKind as A, LetValue, OpKind, Statement};
use crate::types::Type;
use std::collections::HashMap;
use std::sync::Arc;

pub use expr::{unpacked_prefix, UNPACKED};
pub use names::unique_names;

/// The closest of `candidates` to `name`, for "did you mean" notes.
pub fn suggest_name<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    names::suggest(name, candidates)
}

/// How a table name resolves: known and present, known but without data (a `detc run` whose
/// data folder lacks its file), or unknown.
pub enum TableLookup {
    Found(Arc<TableSchema>),
    Absent,
    Unknown,
}

/// Where table names come from. `present`, when set, limits the tables that exist to those
/// with data (so that `union isfuzzy=true` drops legs over the others, as Kusto does).
pub struct Tables<'a> {
    pub catalog: &'a Catalog,
    pub present: Option<&'a std::collections::BTreeSet<String>>,
}

impl Tables<'_> {
    fn found(&self, key: &str, schema: Arc<TableSchema>) -> TableLookup {
        match self.present {
            Some(p) if !p.contains(key) => TableLookup::Absent,
            _ => TableLookup::Found(schema),
        }
    }

    /// A name used as a table: a declared function callable without arguments wins over a
    /// table of the same name (ASIM parsers shadow their 2022 tables), then tables.
    fn lookup(&self, name: &str) -> TableLookup {
        if let Some(f) = self.catalog.function(name) {
            if f.params.iter().all(|p| p.optional) {
                return self.found(name, Arc::new(f.result_schema()));
            }
        }
        match self.catalog.table(name) {
            None => TableLookup::Unknown,
            Some(t) => self.found(name, t),
        }
    }
}

/// The table a watchlist is read from: `_GetWatchlist('VIP')` reads `_GetWatchlist_VIP`.
pub fn watchlist_table(alias: &str) -> String {
    format!("{}_{alias}", crate::catalog::GET_WATCHLIST)
}

/// The columns of a source that fixtures may provide rows for: a table, a declared function's
/// result, or a watchlist table (`_GetWatchlist_<alias>`).
pub fn source_schema(catalog: &Catalog, name: &str) -> Option<Arc<TableSchema>> {
    if let Some(f) = catalog.function(name) {
        return Some(Arc::new(f.result_schema()));
    }
    if let Some(t) = catalog.table(name) {
        return Some(t);
    }
    let alias = name.strip_prefix(&format!("{}_", crate::catalog::GET_WATCHLIST))?;
    Some(Arc::new(TableSchema {
        name: name.to_string(),
        columns: catalog.watchlist_columns(alias),
    }))
}

/// The lowered query: its plan (None when lowering failed) and every finding.
pub struct Lowered {
    pub plan: Option<Node>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Clone)]
enum Binding {
    Scalar(crate::ir::Expr),
    Tabular(Arc<Node>),
    /// A tabular `let`, lowered where it is used: a let binds a calculation, not a value, so
    /// a leg of `union isfuzzy=true` over a missing table fails only there.
    LazyTabular(Arc<ast::Expr>, Scope),
    Function(Arc<ast::Function>, Scope),
}

#[derive(Clone, Default)]
/// Names in scope. Shared, copy-on-write: bindings capture their scope, so a plain clone
/// would copy every enclosing scope again (exponential in the number of lets).
struct Scope {
    names: Arc<HashMap<String, Binding>>,
}

impl Scope {
    pub(super) fn insert(&mut self, name: String, b: Binding) {
        Arc::make_mut(&mut self.names).insert(name, b);
    }
}

struct Lowerer<'a> {
    tables: &'a Tables<'a>,
    /// The identifiers of the query text (for open-schema tables, see `scan_schema`).
    idents: &'a std::collections::BTreeSet<String>,
    diags: Vec<Diagnostic>,
    /// Depth of let-function calls, to stop runaway recursion.
    depth: usize,
    /// Set while lowering the call of `(a, b) = f(...)`: a several-valued function is allowed.
    several_values: bool,
}

/// Marker error: the problem has already been pushed as a diagnostic.
#[derive(Debug)]
pub(crate) struct Reported;
pub(crate) type LResult<T> = Result<T, Reported>;

/// Tables whose columns vary by workspace (`AzureDiagnostics` gets one per resource type's
/// field, custom `_CL` tables one per ingested field): a name the query spells that the
/// reference schema lacks, with a Log Analytics type suffix (`_s` string, `_d` real, `_b`
/// bool, `_t` datetime, `_g` guid), is such a field. Returns the columns to add, sorted.
fn open_schema_columns(
    table: &str,
    schema: &[Column],
    idents: &std::collections::BTreeSet<String>,
) -> Vec<(String, Type)> {
    if table != "AzureDiagnostics" && !table.ends_with("_CL") {
        return Vec::new();
    }
    idents
        .iter()
        .filter(|n| !schema.iter().any(|c| &c.name == *n))
        .filter_map(|n| {
            let (stem, suffix) = n.rsplit_once('_')?;
            let ty = match suffix {
                "s" => Type::String,
                "d" => Type::Real,
                "b" => Type::Bool,
                "t" => Type::DateTime,
                "g" => Type::Guid,
                _ => return None,
            };
            (!stem.is_empty()).then(|| (n.clone(), ty))
        })
        .collect()
}

pub fn lower(query: &ast::Query, tables: &Tables) -> Lowered {
    let mut l = Lowerer {
        tables,
        idents: &query.idents,
        diags: Vec::new(),
        several_values: false,
        depth: 0,
    };
    let mut scope = Scope::default();
    let plan = l.statements(&query.statements, &mut scope, None).ok();
    // A function called twice reports its findings twice: keep the first of each.
    let mut seen = std::collections::HashSet::new();
    l.diags
        .retain(|d| seen.insert((d.code, d.span, d.message.clone())));
    let has_error = l.diags.iter().any(|d| d.is_error());
    Lowered {
        plan: if has_error { None } else { plan },
        diagnostics: l.diags,
    }
}

impl<'a> Lowerer<'a> {
    fn err(&mut self, code: &'static str, span: Span, msg: impl Into<String>) -> Reported {
        self.diags
            .push(Diagnostic::error(code, msg).with_span(span));
        Reported
    }

    fn statements(
        &mut self,
        stmts: &[Statement],
        scope: &mut Scope,
        end: Option<Span>,
    ) -> LResult<Node> {
        let mut result = None;
        let mut failed = false;
        for s in stmts {
            match s {
                Statement::Let { name, value, .. } => {
                    let b = match value {
                        LetValue::Function(f) => {
                            Ok(Binding::Function(Arc::new(f.clone()), scope.clone()))
                        }
                        LetValue::Expr(e) => self.let_value(e, scope),
                    };
                    match b {
                        Ok(b) => {
                            scope.insert(name.name.clone(), b);
                        }
                        Err(Reported) => failed = true,
                    }
                }
                Statement::Directive { .. } => {}
                Statement::Expr(e) => match self.tabular(e, scope) {
                    Ok(n) => result = Some(n),
                    Err(Reported) => failed = true,
                },
            }
        }
        if failed {
            return Err(Reported);
        }
        match result {
            Some(n) => Ok(n),
            None => {
                let span = end.unwrap_or_default();
                Err(self.err(
                    codes::KQL_SYNTAX,
                    span,
                    "the query has no tabular expression to run",
                ))
            }
        }
    }

    /// A `let` right-hand side: tabular if it is a pipeline or names a table; scalar otherwise.
    fn let_value(&mut self, e: &ast::Expr, scope: &Scope) -> LResult<Binding> {
        if self.is_tabular(e, scope) {
            Ok(Binding::LazyTabular(Arc::new(e.clone()), scope.clone()))
        } else {
            Ok(Binding::Scalar(self.scalar(e, None, scope)?))
        }
    }

    pub(super) fn is_tabular(&self, e: &ast::Expr, scope: &Scope) -> bool {
        match &e.kind {
            A::Pipe { .. } | A::Source(_) => true,
            A::Name(n) => match scope.names.get(n) {
                Some(Binding::Tabular(_)) | Some(Binding::LazyTabular(..)) => true,
                Some(_) => false,
                None => !matches!(self.tables.lookup(n), TableLookup::Unknown),
            },
            A::Call { name, .. } => match scope.names.get(&name.name) {
                Some(Binding::Function(f, _)) => f.body.last().is_some_and(|s| match s {
                    Statement::Expr(e) => {
                        matches!(e.kind, A::Pipe { .. } | A::Source(_))
                            || matches!(&e.kind, A::Call { name, .. } if name.name == "table")
                    }
                    _ => false,
                }),
                _ => matches!(name.name.as_str(), "table" | "materialize" | "view"),
            },
            _ => false,
        }
    }

    pub(super) fn tabular(&mut self, e: &ast::Expr, scope: &Scope) -> LResult<Node> {
        match &e.kind {
            A::Name(n) => {
                if let Some(b) = scope.names.get(n) {
                    return match b {
                        Binding::Tabular(node) => Ok(node.as_ref().clone()),
                        Binding::LazyTabular(expr, lscope) => {
                            let (expr, lscope) = (expr.clone(), lscope.clone());
                            self.tabular(&expr, &lscope)
                        }
                        Binding::Function(f, fscope) if f.params.is_empty() => {
                            let (f, fscope) = (f.clone(), fscope.clone());
                            self.call_function(&f, &fscope, &[], e.span, scope)
                        }
                        _ => Err(self.err(
                            codes::TYPE,
                            e.span,
                            format!("`{n}` is a scalar, but a table is expected here"),
                        )),
                    };
                }
                self.scan(n, e.span)
            }
            A::Call { name, args } => self.tabular_call(name, args, e.span, scope),
            A::Pipe { input, op } => {
                let input = self.tabular(input, scope)?;
                self.operator(input, op, scope)
            }
            A::Source(op) => match &op.kind {
                OpKind::Union { options, legs } => self.union(None, options, legs, op.span, scope),
                OpKind::Datatable { columns, values } => {
                    self.datatable(columns, values, op.span, scope)
                }
                OpKind::Print(items) => self.print(items, scope),
                OpKind::ExternalData { columns, uris } => {
                    self.external(columns, uris, op.span, scope)
                }
                _ => Err(self.err(
                    codes::UNSUPPORTED,
                    op.word.span,
                    format!("`{}` is not supported yet", op.word.name),
                )),
            },
            A::Error => Err(Reported),
            _ => Err(self.err(codes::TYPE, e.span, "expected a tabular expression")),
        }
    }

    fn scan(&mut self, name: &str, span: Span) -> LResult<Node> {
        let found = self.tables.lookup(name);
        self.scan_schema(name, found, span)
    }

    /// Arguments of a declared function, matched by position or name. Their values are not
    /// applied: `run` reads the function's result rows from the data folder
    /// (docs/semantics.md).
    fn check_function_args(
        &mut self,
        f: &crate::catalog::FunctionSchema,
        args: &[ast::Arg],
        span: Span,
        scope: &Scope,
    ) -> LResult<()> {
        let mut given = vec![false; f.params.len()];
        for (i, a) in args.iter().enumerate() {
            let idx = match &a.name {
                Some(n) => match f.params.iter().position(|p| p.name == n.name) {
                    Some(k) => k,
                    None => {
                        let mut d = Diagnostic::error(
                            codes::ARGUMENTS,
                            format!("`{}` has no parameter `{}`", f.name, n.name),
                        )
                        .with_span(n.span);
                        if let Some(s) =
                            names::suggest(&n.name, f.params.iter().map(|p| p.name.as_str()))
                        {
                            d = d.with_note(format!("did you mean `{s}`?"));
                        }
                        self.diags.push(d);
                        return Err(Reported);
                    }
                },
                None if i < f.params.len() => i,
                None => {
                    return Err(self.err(
                        codes::ARGUMENTS,
                        a.value.span,
                        format!("`{}` takes {} argument(s)", f.name, f.params.len()),
                    ))
                }
            };
            let v = self.scalar(&a.value, None, scope)?;
            expr::coerce_arg(v, f.params[idx].ty)
                .map_err(|m| self.err(codes::TYPE, a.value.span, m))?;
            given[idx] = true;
        }
        if let Some(p) = f
            .params
            .iter()
            .zip(&given)
            .find(|(p, g)| !p.optional && !**g)
            .map(|(p, _)| p)
        {
            return Err(self.err(
                codes::ARGUMENTS,
                span,
                format!("missing argument `{}` of `{}`", p.name, f.name),
            ));
        }
        Ok(())
    }

    fn scan_schema(&mut self, name: &str, found: TableLookup, span: Span) -> LResult<Node> {
        match found {
            TableLookup::Found(t) => {
                let mut schema: Vec<Column> = t
                    .columns
                    .iter()
                    .map(|(n, ty)| Column { name: n.clone(), ty: *ty })
                    .collect();
                for (col, ty) in open_schema_columns(&t.name, &schema, self.idents) {
                    self.diags.push(
                        Diagnostic::warning(
                            codes::APPROXIMATED,
                            format!(
                                "column `{col}` is not in the reference schema of `{}`: typed {ty} by its suffix, as Log Analytics names the custom fields of this table",
                                t.name
                            ),
                        )
                        .with_span(span),
                    );
                    schema.push(Column { name: col, ty });
                }
                Ok(Node {
                    op: Op::Scan { table: t.name.clone() },
                    schema,
                })
            }
            TableLookup::Absent => Err(self.err(
                codes::MISSING_TABLE,
                span,
                format!("table `{name}` has no data (no {name}.jsonl, .json or .csv in the data folder)"),
            )),
            TableLookup::Unknown => {
                let names = self.tables.catalog.names();
                let mut d = Diagnostic::error(codes::UNKNOWN_TABLE, format!("unknown table `{name}`"))
                    .with_span(span);
                if let Some(s) = names::suggest(name, names.iter().map(|s| s.as_str())) {
                    d = d.with_note(format!("did you mean `{s}`?"));
                }
                self.diags.push(d);
                Err(Reported)
            }
        }
    }

    fn tabular_call(
        &mut self,
        name: &ast::Ident,
        args: &[ast::Arg],
        span: Span,
        scope: &Scope,
    ) -> LResult<Node> {
        if let Some(Binding::Function(f, fscope)) = scope.names.get(&name.name) {
            let (f, fscope) = (f.clone(), fscope.clone());
            return self.call_function(&f, &fscope, args, span, scope);
        }
        // `print(x)`: the print operator with a parenthesised expression.
        if name.name == "print" {
            let items: Vec<ast::NamedExpr> = args.iter().map(ast::Arg::to_named).collect();
            return self.print(&items, scope);
        }
        if name.name == crate::catalog::GET_WATCHLIST {
            let [arg] = args else {
                return Err(self.err(
                    codes::ARGUMENTS,
                    span,
                    "_GetWatchlist() takes the watchlist alias",
                ));
            };
            let v = self.scalar(&arg.value, None, scope)?;
            let crate::ir::ExprKind::Literal(crate::value::Value::String(alias)) = &v.kind else {
                return Err(self.err(
                    codes::TYPE,
                    arg.value.span,
                    "the watchlist alias must be a constant string",
                ));
            };
            let key = watchlist_table(alias);
            let schema = Arc::new(TableSchema {
                name: key.clone(),
                columns: self.tables.catalog.watchlist_columns(alias),
            });
            let scan = self.scan_schema(&key, self.tables.found(&key, schema), arg.value.span)?;
            if self.tables.catalog.watchlist_declared(alias) {
                return Ok(scan);
            }
            // Undeclared: its own columns are the keys of WatchlistItem, read as bag_unpack
            // reads a bag.
            let Some((i, c)) = scan.column("WatchlistItem") else {
                return Ok(scan);
            };
            let item = crate::ir::Expr {
                kind: crate::ir::ExprKind::Column {
                    index: i,
                    name: c.name.clone(),
                },
                ty: Type::Dynamic,
            };
            self.diags.push(
                Diagnostic::warning(
                    codes::APPROXIMATED,
                    format!(
                        "watchlist `{alias}` is not declared: its columns are read from WatchlistItem as dynamic values"
                    ),
                )
                .with_span(arg.value.span)
                .with_note("declare its columns under [watchlists] in detc.toml to type them (docs/config.md)"),
            );
            let hidden = format!("{}WatchlistItem)", expr::UNPACKED);
            return self.extend_items(scan, vec![(hidden, item)]);
        }
        if let Some(f) = self.tables.catalog.function(&name.name) {
            self.check_function_args(&f, args, span, scope)?;
            let schema = Arc::new(f.result_schema());
            return self.scan_schema(&name.name, self.tables.found(&name.name, schema), name.span);
        }
        match name.name.as_str() {
            "table" => {
                let [arg] = args else {
                    return Err(self.err(codes::ARGUMENTS, span, "table() takes one argument"));
                };
                let v = self.scalar(&arg.value, None, scope)?;
                match &v.kind {
                    crate::ir::ExprKind::Literal(crate::value::Value::String(s)) => {
                        let s = s.to_string();
                        self.scan(&s, arg.value.span)
                    }
                    _ => Err(self.err(
                        codes::TYPE,
                        arg.value.span,
                        "table() needs a constant string (a literal or a parameter bound to one)",
                    )),
                }
            }
            "materialize" | "view" if args.len() == 1 => self.tabular(&args[0].value, scope),
            _ => Err(self.err(
                codes::UNKNOWN_FUNCTION,
                name.span,
                format!("unknown tabular function `{}`", name.name),
            )),
        }
    }

    /// The checks every let-function call makes: bounded nesting, not too many arguments.
    pub(super) fn check_call(
        &mut self,
        f: &ast::Function,
        args: &[ast::Arg],
        span: Span,
    ) -> LResult<()> {
        if self.depth > 32 {
            return Err(self.err(
                codes::UNSUPPORTED,
                span,
                "let-function calls nest too deeply (recursion?)",
            ));
        }
        if args.len() > f.params.len() {
            return Err(self.err(
                codes::ARGUMENTS,
                span,
                format!(
                    "the function takes {} argument(s), {} given",
                    f.params.len(),
                    args.len()
                ),
            ));
        }
        Ok(())
    }

    fn call_function(
        &mut self,
        f: &ast::Function,
        fscope: &Scope,
        args: &[ast::Arg],
        span: Span,
        caller: &Scope,
    ) -> LResult<Node> {
        self.check_call(f, args, span)?;
        let mut inner = fscope.clone();
        for (i, p) in f.params.iter().enumerate() {
            let binding = match (args.get(i), &p.ty, &p.default) {
                (Some(a), None, _) => Binding::Tabular(Arc::new(self.tabular(&a.value, caller)?)),
                (Some(a), Some(ty), _) => {
                    let v = self.scalar(&a.value, None, caller)?;
                    let want = Type::parse(&ty.name).ok_or_else(|| {
                        self.err(codes::TYPE, ty.span, format!("unknown type `{}`", ty.name))
                    })?;
                    let v = expr::coerce_arg(v, want)
                        .map_err(|msg| self.err(codes::TYPE, a.value.span, msg))?;
                    Binding::Scalar(v)
                }
                (None, _, Some(d)) => Binding::Scalar(self.scalar(d, None, fscope)?),
                (None, _, None) => {
                    return Err(self.err(
                        codes::ARGUMENTS,
                        span,
                        format!("missing argument `{}`", p.name.name),
                    ))
                }
            };
            inner.insert(p.name.name.clone(), binding);
        }
        self.depth += 1;
        let r = self.statements(&f.body, &mut inner, Some(f.span));
        self.depth -= 1;
        r
    }

    fn operator(&mut self, input: Node, op: &ast::Operator, scope: &Scope) -> LResult<Node> {
        match &op.kind {
            OpKind::Where(e) if rows::has_row_call(e) => {
                let before = input.schema.clone();
                let (input, e) = self.hoist_row_calls(input, e, scope)?;
                let op = ast::Operator {
                    kind: OpKind::Where(e),
                    word: op.word.clone(),
                    span: op.span,
                };
                let filtered = self.operator(input, &op, scope)?;
                self.drop_hidden(&before, filtered, op.span)
            }
            OpKind::Where(e) => {
                let predicate = self.scalar(e, Some(&input), scope)?;
                if predicate.ty != Type::Bool {
                    return Err(self.err(
                        codes::TYPE,
                        e.span,
                        format!("`where` needs a bool predicate, this is {}", predicate.ty),
                    ));
                }
                let schema = input.schema.clone();
                Ok(Node {
                    op: Op::Filter {
                        input: Box::new(input),
                        predicate,
                    },
                    schema,
                })
            }
            OpKind::Extend(items) => self.extend(input, items, scope),
            OpKind::Serialize(items) => self.serialize(input, items, scope),
            OpKind::Project(items) => {
                let mut input = input;
                let mut exprs = Vec::new();
                for item in items {
                    if rows::has_row_call(&item.expr) {
                        let (hoisted, e) = self.hoist_row_calls(input, &item.expr, scope)?;
                        input = hoisted;
                        exprs.push(e);
                    } else {
                        exprs.push(item.expr.clone());
                    }
                }
                let mut out = Vec::new();
                for (i, (item, expr)) in items.iter().zip(&exprs).enumerate() {
                    self.single_name(item)?;
                    let e = self.scalar(expr, Some(&input), scope)?;
                    let name = self.column_name(item, &e, i);
                    out.push((name, e));
                }
                self.project(input, out, op.span)
            }
            OpKind::Distinct(items) => {
                let projected = if matches!(
                    items.as_slice(),
                    [ast::NamedExpr {
                        name: None,
                        expr: ast::Expr { kind: A::Star, .. },
                        ..
                    }]
                ) {
                    input
                } else {
                    let mut out = Vec::new();
                    for (i, item) in items.iter().enumerate() {
                        let e = self.scalar(&item.expr, Some(&input), scope)?;
                        let name = self.column_name(item, &e, i);
                        if e.ty == Type::Dynamic {
                            return Err(self.err(
                                codes::TYPE,
                                item.expr.span,
                                "`distinct` cannot group by a dynamic value",
                            ));
                        }
                        out.push((name, e));
                    }
                    self.project(input, out, op.span)?
                };
                let schema = projected.schema.clone();
                Ok(Node {
                    op: Op::Distinct {
                        input: Box::new(projected),
                    },
                    schema,
                })
            }
            OpKind::MvExpand {
                options,
                items,
                limit,
            } => self.mv_expand(input, options, items, limit.as_ref(), scope),
            OpKind::MvApply {
                options,
                items,
                limit,
                body,
            } => self.mv_apply(input, options, items, limit.as_ref(), body, scope),
            OpKind::Join { options, right, on } => self.join(input, options, right, on, op, scope),
            OpKind::Lookup { options, right, on } => {
                self.lookup(input, options, right, on, op, scope)
            }
            OpKind::Parse { kind, expr, parts } => {
                self.parse_op(input, kind.as_ref(), expr, parts, scope)
            }
            OpKind::Union { options, legs } => {
                self.union(Some(input), options, legs, op.span, scope)
            }
            OpKind::Take(e) => {
                let v = self.scalar(e, None, scope)?;
                let count = match v.kind {
                    crate::ir::ExprKind::Literal(crate::value::Value::Long(n)) if n >= 0 => {
                        n as u64
                    }
                    _ => {
                        return Err(self.err(
                            codes::TYPE,
                            e.span,
                            "take needs a non-negative integer constant",
                        ))
                    }
                };
                let schema = input.schema.clone();
                Ok(Node {
                    op: Op::Take {
                        input: Box::new(input),
                        count,
                    },
                    schema,
                })
            }
            OpKind::Sort(keys) => self.sort(input, keys, scope),
            OpKind::Invoke(call) => {
                let A::Call { name, args } = &call.kind else {
                    return Err(self.err(
                        codes::KQL_SYNTAX,
                        call.span,
                        "invoke needs a function call",
                    ));
                };
                let Some(Binding::Function(f, fscope)) = scope.names.get(&name.name) else {
                    return Err(self.err(
                        codes::UNKNOWN_FUNCTION,
                        name.span,
                        format!("unknown function `{}`", name.name),
                    ));
                };
                let (f, mut fscope) = (f.clone(), fscope.clone());
                let Some(first) = f.params.first().filter(|p| p.ty.is_none()) else {
                    return Err(self.err(
                        codes::TYPE,
                        name.span,
                        "invoke needs a function whose first parameter is a table",
                    ));
                };
                // The input binds the tabular parameter; the call's arguments bind the rest.
                fscope.insert(first.name.name.clone(), Binding::Tabular(Arc::new(input)));
                let rest = ast::Function {
                    params: f.params[1..].to_vec(),
                    body: f.body.clone(),
                    span: f.span,
                };
                self.call_function(&rest, &fscope, args, call.span, scope)
            }
            OpKind::Top { count, by } => {
                let n = self.constant_count(count, scope)?;
                let sorted = self.sort(input, std::slice::from_ref(by), scope)?;
                let schema = sorted.schema.clone();
                Ok(Node {
                    op: Op::Take {
                        input: Box::new(sorted),
                        count: n,
                    },
                    schema,
                })
            }
            OpKind::Summarize { options, aggs, by } => {
                self.summarize(input, options, aggs, by, scope)
            }
            OpKind::MakeSeries {
                options,
                aggs,
                axis,
                from,
                to,
                step,
                in_range,
                by,
            } => self.make_series(
                input,
                options,
                aggs,
                axis,
                (from.as_ref(), to.as_ref(), step, *in_range),
                by,
                scope,
            ),
            OpKind::ProjectAway(p) => self.project_patterns(input, p, PatternUse::Away),
            OpKind::ProjectKeep(p) => self.project_patterns(input, p, PatternUse::Keep),
            OpKind::ProjectReorder(p) => self.project_patterns(input, p, PatternUse::Reorder),
            OpKind::ProjectRename(pairs) => self.project_rename(input, pairs),
            OpKind::Count => {
                let agg = crate::ir::Agg {
                    func: crate::ir::AggFunc::Count,
                    args: vec![],
                    limit: None,
                    ty: Type::Long,
                };
                Ok(Node {
                    op: Op::Summarize {
                        input: Box::new(input),
                        by: vec![],
                        aggs: vec![("Count".into(), agg)],
                    },
                    schema: vec![Column {
                        name: "Count".into(),
                        ty: Type::Long,
                    }],
                })
            }
            OpKind::Evaluate {
                plugin,
                args,
                schema,
            } => self.evaluate(input, plugin, args, schema.is_some(), scope),
            // A chart hint for the UI: it changes no rows (docs/semantics.md).
            OpKind::Other if op.word.name == "render" => Ok(input),
            _ => Err(self.err(
                codes::UNSUPPORTED,
                op.word.span,
                format!("operator `{}` is not supported yet", op.word.name),
            )),
        }
    }

    /// The output name of an unnamed projection: a column keeps its name, `tostring(x)` and
    /// similar take x's name; anything else is `Column1`, `Column2`, ... (as Kusto does).
    fn mv_expand(
        &mut self,
        input: Node,
        options: &[ast::OptionKv],
        items: &[ast::MvExpandItem],
        limit: Option<&ast::Expr>,
        scope: &Scope,
    ) -> LResult<Node> {
        let mut bag_array = false;
        let mut index_name = None;
        for o in options {
            match (o.key.name.as_str(), &o.value.kind) {
                ("bagexpansion" | "kind", A::Name(v)) if v == "array" || v == "bag" => {
                    bag_array = v == "array"
                }
                ("with_itemindex", A::Name(v)) => index_name = Some(v.clone()),
                _ => {
                    return Err(self.err(
                        codes::UNSUPPORTED,
                        o.key.span,
                        format!("mv-expand option `{}` is not supported", o.key.name),
                    ))
                }
            }
        }
        let limit = match limit {
            Some(e) => Some(self.constant_count(e, scope)?),
            None => None,
        };
        // Columns computed from expressions (`X = expr`, `a.b`) are added first.
        let mut node = input;
        let mut cols = Vec::new();
        for item in items {
            let to_type = match &item.to_type {
                Some(t) => Some(Type::parse(&t.name).ok_or_else(|| {
                    self.err(codes::TYPE, t.span, format!("unknown type `{}`", t.name))
                })?),
                None => None,
            };
            let column = match (&item.name, &item.expr.kind) {
                (None, A::Name(n)) => match node.column(n) {
                    Some((i, _)) => i,
                    None => return Err(self.unknown_column(n, item.expr.span, &node)),
                },
                _ => {
                    let e = self.scalar(&item.expr, Some(&node), scope)?;
                    // Unnamed: Kusto's default name (`a.b` -> `a_b`).
                    let name = item
                        .name
                        .as_ref()
                        .map(|n| n.name.clone())
                        .or_else(|| names::default_name(&item.expr, &e))
                        .unwrap_or_else(|| "Column1".into());
                    node = self.extend_items(node, vec![(name.clone(), e)])?;
                    node.column(&name).unwrap().0
                }
            };
            if node.schema[column].ty != Type::Dynamic {
                return Err(self.err(
                    codes::TYPE,
                    item.expr.span,
                    "mv-expand needs a dynamic column",
                ));
            }
            cols.push((column, to_type));
        }
        let mut schema = node.schema.clone();
        for (c, t) in &cols {
            schema[*c].ty = t.unwrap_or(Type::Dynamic);
        }
        if let Some(n) = &index_name {
            schema.push(Column {
                name: n.clone(),
                ty: Type::Long,
            });
        }
        Ok(Node {
            op: Op::MvExpand {
                input: Box::new(node),
                columns: cols,
                bag_array,
                with_index: index_name.is_some(),
                limit,
            },
            schema,
        })
    }

    /// `mv-apply`: the items become columns of the input (as in mv-expand); the body runs
    /// over each row's subtable, which holds the expanded columns (and the item index) only.
    fn mv_apply(
        &mut self,
        input: Node,
        options: &[ast::OptionKv],
        items: &[ast::MvExpandItem],
        limit: Option<&ast::Expr>,
        body: &[ast::Operator],
        scope: &Scope,
    ) -> LResult<Node> {
        let expand = self.mv_expand(input, options, items, limit, scope)?;
        let Node {
            op:
                Op::MvExpand {
                    input,
                    columns,
                    bag_array,
                    with_index,
                    limit,
                },
            schema,
        } = expand
        else {
            unreachable!("mv_expand gives an MvExpand node")
        };
        let outer = Node {
            op: Op::OuterRow,
            schema: input.schema.clone(),
        };
        let expanded = Node {
            op: Op::MvExpand {
                input: Box::new(outer),
                columns: columns.clone(),
                bag_array,
                with_index,
                limit,
            },
            schema,
        };
        let mut sub: Vec<usize> = columns.iter().map(|(c, _)| *c).collect();
        if with_index {
            sub.push(expanded.schema.len() - 1);
        }
        let items = sub
            .iter()
            .map(|&i| {
                let c = &expanded.schema[i];
                let e = crate::ir::Expr {
                    kind: crate::ir::ExprKind::Column {
                        index: i,
                        name: c.name.clone(),
                    },
                    ty: c.ty,
                };
                (c.name.clone(), e)
            })
            .collect();
        let mut node = self.project(expanded, items, Span::default())?;
        for op in body {
            node = self.operator(node, op, scope)?;
        }
        let keep: Vec<usize> = (0..input.schema.len())
            .filter(|i| !columns.iter().any(|(c, _)| c == i))
            .collect();
        let schema = crate::ir::mv_apply_output(&input, &node, &keep)
            .into_iter()
            .map(|s| match s {
                crate::ir::ApplySource::Input(i) => input.schema[i].clone(),
                crate::ir::ApplySource::Body(j) => node.schema[j].clone(),
            })
            .collect();
        Ok(Node {
            op: Op::MvApply {
                input,
                body: Box::new(node),
                keep,
            },
            schema,
        })
    }

    /// `evaluate`: only `bag_unpack(col [, prefix])` without an output schema so far.
    fn evaluate(
        &mut self,
        input: Node,
        plugin: &ast::Ident,
        args: &[ast::Arg],
        has_schema: bool,
        scope: &Scope,
    ) -> LResult<Node> {
        if plugin.name == "pivot" && !has_schema {
            return self.pivot(input, plugin, args, scope);
        }
        if plugin.name != "bag_unpack" {
            return Err(self.err(
                codes::UNSUPPORTED,
                plugin.span,
                format!("evaluate plugin `{}` is not supported yet", plugin.name),
            ));
        }
        if has_schema
            || args.len() > 3
            || args
                .iter()
                .skip(1)
                .any(|a| a.name.is_some() && a.name.as_ref().unwrap().name != "columnsConflict")
        {
            return Err(self.err(
                codes::UNSUPPORTED,
                plugin.span,
                "bag_unpack with an output schema or ignoredProperties is not supported yet",
            ));
        }
        let Some(first) = args.first() else {
            return Err(self.err(codes::ARGUMENTS, plugin.span, "bag_unpack() needs a column"));
        };
        let A::Name(col) = &first.value.kind else {
            return Err(self.err(
                codes::UNSUPPORTED,
                first.value.span,
                "bag_unpack of an expression: unpack a column",
            ));
        };
        let Some((column, c)) = input.column(col) else {
            return Err(self.unknown_column(col, first.value.span, &input));
        };
        if c.ty != Type::Dynamic {
            return Err(self.err(
                codes::TYPE,
                first.value.span,
                "bag_unpack needs a dynamic column",
            ));
        }
        let mut prefix = String::new();
        for a in &args[1..] {
            if a.name.is_some() {
                continue; // columnsConflict: existing columns win either way (semantics.md)
            }
            let v = self.scalar(&a.value, None, scope)?;
            match v.kind {
                crate::ir::ExprKind::Literal(crate::value::Value::String(p)) => {
                    prefix = p.to_string()
                }
                _ => {
                    return Err(self.err(
                        codes::TYPE,
                        a.value.span,
                        "the column prefix must be a constant string",
                    ))
                }
            }
        }
        let hidden = if prefix.is_empty() {
            format!("{}{col})", expr::UNPACKED)
        } else {
            format!("{}{col}, '{prefix}')", expr::UNPACKED)
        };
        self.diags.push(
            Diagnostic::warning(
                codes::APPROXIMATED,
                "bag_unpack: the bag's keys are known only at run time; detc resolves each name the query reads to that key (null where a row lacks it), and keys the query never names stay packed",
            )
            .with_span(plugin.span)
            .with_note("see docs/semantics.md; SQL targets do not emit bag_unpack"),
        );
        let mut schema = input.schema.clone();
        schema[column].name = hidden;
        Ok(Node {
            op: Op::BagUnpack {
                input: Box::new(input),
                column,
            },
            schema,
        })
    }

    /// Rejects `(a, b) = f(...)`, which assigns several columns from one expression.
    pub(super) fn single_name(&mut self, item: &ast::NamedExpr) -> LResult<()> {
        match item.more.first() {
            Some(n) => Err(self.err(
                codes::UNSUPPORTED,
                n.span,
                "assigning several columns from one expression (`(a, b) = f(...)`) is not supported yet",
            )),
            None => Ok(()),
        }
    }

    pub(super) fn column_name(
        &mut self,
        item: &ast::NamedExpr,
        e: &crate::ir::Expr,
        i: usize,
    ) -> String {
        if let Some(n) = &item.name {
            return n.name.clone();
        }
        names::default_name(&item.expr, e).unwrap_or_else(|| format!("Column{}", i + 1))
    }

    pub(super) fn project(
        &mut self,
        input: Node,
        items: Vec<(String, crate::ir::Expr)>,
        span: Span,
    ) -> LResult<Node> {
        let mut seen = std::collections::HashSet::new();
        for (n, _) in &items {
            if !seen.insert(n.clone()) {
                return Err(self.err(
                    codes::TYPE,
                    span,
                    format!("column `{n}` is projected twice"),
                ));
            }
        }
        let schema = items
            .iter()
            .map(|(n, e)| Column {
                name: n.clone(),
                ty: e.ty,
            })
            .collect();
        Ok(Node {
            op: Op::Project {
                input: Box::new(input),
                items,
            },
            schema,
        })
    }

    fn extend(&mut self, input: Node, items: &[ast::NamedExpr], scope: &Scope) -> LResult<Node> {
        // Items that read a column assigned earlier in the same `extend` start a new node.
        let before = input.schema.clone();
        let mut node = input;
        let mut batch: Vec<(String, crate::ir::Expr)> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if rows::has_row_call(&item.expr) {
                // The calls read the rows as extended so far.
                node = self.extend_items(node, std::mem::take(&mut batch))?;
                let (hoisted, e) = self.hoist_row_calls(node, &item.expr, scope)?;
                node = hoisted;
                self.single_name(item)?;
                let lowered = self.scalar(&e, Some(&node), scope)?;
                let name = self.column_name(item, &lowered, node.schema.len() + i);
                batch.push((name, lowered));
                continue;
            }
            let reads_batch = names::reads_any(&item.expr, batch.iter().map(|(n, _)| n.as_str()));
            if reads_batch {
                node = self.extend_items(node, std::mem::take(&mut batch))?;
            }
            if let Some(fields) = self.several_valued(item, &node, scope)? {
                for (name, e) in fields {
                    batch.retain(|(n, _)| *n != name);
                    batch.push((name, e));
                }
                continue;
            }
            self.single_name(item)?;
            let e = self.scalar(&item.expr, Some(&node), scope)?;
            let name = self.column_name(item, &e, node.schema.len() + i);
            batch.retain(|(n, _)| *n != name);
            batch.push((name, e));
        }
        let node = self.extend_items(node, batch)?;
        let span = items.first().map(|i| i.expr.span);
        self.drop_hidden(&before, node, span.unwrap_or_default())
    }

    /// `(a, b) = f(...)` or a bare `f(...)` of a several-valued function: one column per
    /// value, named by the list or `f_<argument>_<value>` (Kusto's naming). `None` when the
    /// item assigns one value.
    fn several_valued(
        &mut self,
        item: &ast::NamedExpr,
        input: &Node,
        scope: &Scope,
    ) -> LResult<Option<Vec<(String, crate::ir::Expr)>>> {
        let call = match &item.expr.kind {
            A::Call { name, args } if expr::is_several_valued(&name.name) => Some((name, args)),
            _ => None,
        };
        let Some((fname, args)) = call else {
            self.single_name(item)?;
            return Ok(None);
        };
        if item.name.is_some() && item.more.is_empty() {
            // `x = series_fit_line(y)`: reported by the call's lowering.
            return Ok(None);
        }
        self.several_values = true;
        let tuple = self.scalar(&item.expr, Some(input), scope);
        self.several_values = false;
        let tuple = tuple?;
        let crate::ir::ExprKind::Call { func, .. } = &tuple.kind else {
            return Ok(None);
        };
        let fields = func.fields();
        let names: Vec<String> = match &item.name {
            Some(first) => std::iter::once(first)
                .chain(&item.more)
                .map(|n| n.name.clone())
                .collect(),
            None => {
                let arg = match args.first().map(|a| &a.value.kind) {
                    Some(A::Name(n)) => n.clone(),
                    _ => String::new(),
                };
                fields
                    .iter()
                    .map(|(f, _)| format!("{}_{arg}_{f}", fname.name))
                    .collect()
            }
        };
        if names.len() > fields.len() {
            let span = item.more.last().map_or(item.expr.span, |n| n.span);
            return Err(self.err(
                codes::TYPE,
                span,
                format!(
                    "{} names given, but {}() gives {} values",
                    names.len(),
                    fname.name,
                    fields.len()
                ),
            ));
        }
        Ok(Some(
            names
                .into_iter()
                .zip(fields)
                .enumerate()
                .map(|(index, (n, (_, ty)))| {
                    let e = crate::ir::Expr {
                        kind: crate::ir::ExprKind::Field {
                            tuple: Box::new(tuple.clone()),
                            index,
                        },
                        ty: *ty,
                    };
                    (n, e)
                })
                .collect(),
        ))
    }

    pub(super) fn extend_items(
        &mut self,
        input: Node,
        items: Vec<(String, crate::ir::Expr)>,
    ) -> LResult<Node> {
        if items.is_empty() {
            return Ok(input);
        }
        let mut schema = input.schema.clone();
        let mut out = Vec::new();
        for (name, e) in items {
            let slot = input.column(&name).map(|(i, _)| i);
            match slot {
                Some(i) => {
                    schema[i] = Column {
                        name: name.clone(),
                        ty: e.ty,
                    }
                }
                None => schema.push(Column {
                    name: name.clone(),
                    ty: e.ty,
                }),
            }
            out.push((name, slot, e));
        }
        Ok(Node {
            op: Op::Extend {
                input: Box::new(input),
                items: out,
            },
            schema,
        })
    }

    pub(super) fn unknown_column(&mut self, name: &str, span: Span, input: &Node) -> Reported {
        let mut d = Diagnostic::error(codes::UNKNOWN_COLUMN, format!("unknown column `{name}`"))
            .with_span(span);
        if let Some(s) = names::suggest(name, input.schema.iter().map(|c| c.name.as_str())) {
            d = d.with_note(format!("did you mean `{s}`?"));
        }
        self.diags.push(d);
        Reported
    }

    pub(super) fn join(
        &mut self,
        left: Node,
        options: &[ast::OptionKv],
        right: &ast::Expr,
        on: &[ast::Expr],
        op: &ast::Operator,
        scope: &Scope,
    ) -> LResult<Node> {
        let mut kind = if op.word.name == "lookup" {
            JoinKind::LeftOuter
        } else {
            JoinKind::InnerUnique
        };
        for o in options {
            match o.key.name.as_str() {
                "kind" => {
                    let A::Name(k) = &o.value.kind else {
                        return Err(self.err(
                            codes::KQL_SYNTAX,
                            o.value.span,
                            "expected a join kind",
                        ));
                    };
                    kind = JoinKind::parse(k).ok_or_else(|| {
                        self.err(
                            codes::KQL_SYNTAX,
                            o.value.span,
                            format!("unknown join kind `{k}`"),
                        )
                    })?;
                }
                k if k.starts_with("hint.") => {} // hints never change results
                k => {
                    return Err(self.err(
                        codes::KQL_SYNTAX,
                        o.key.span,
                        format!("unknown join option `{k}`"),
                    ))
                }
            }
        }
        let right = self.tabular(right, scope)?;
        let mut keys = Vec::new();
        let mut conds = Vec::new();
        for c in on {
            names::split_and(c, &mut conds);
        }
        for c in conds {
            let pair = match &c.kind {
                A::Name(n) => {
                    let l = left.column(n).map(|(i, _)| i);
                    let r = right.column(n).map(|(i, _)| i);
                    match (l, r) {
                        (Some(l), Some(r)) => (l, r),
                        (None, _) => return Err(self.unknown_column(n, c.span, &left)),
                        (_, None) => return Err(self.unknown_column(n, c.span, &right)),
                    }
                }
                A::Binary { op, lhs, rhs } if op == "==" => {
                    let side = |e: &ast::Expr| match &e.kind {
                        A::JoinSide { right, name } => Some((*right, name.clone())),
                        _ => None,
                    };
                    match (side(lhs), side(rhs)) {
                        (Some((lr, ln)), Some((rr, rn))) if lr != rr => {
                            let (ln, rn) = if lr { (rn, ln) } else { (ln, rn) };
                            let l = left.column(&ln.name).map(|(i, _)| i);
                            let Some(l) = l else {
                                return Err(self.unknown_column(&ln.name, ln.span, &left));
                            };
                            let r = right.column(&rn.name).map(|(i, _)| i);
                            let Some(r) = r else {
                                return Err(self.unknown_column(&rn.name, rn.span, &right));
                            };
                            (l, r)
                        }
                        _ => {
                            return Err(self.err(
                                codes::KQL_SYNTAX,
                                c.span,
                                "a join condition must be `Column` or `$left.A == $right.B`",
                            ))
                        }
                    }
                }
                _ => {
                    return Err(self.err(
                        codes::KQL_SYNTAX,
                        c.span,
                        "a join condition must be `Column` or `$left.A == $right.B`",
                    ))
                }
            };
            let (lt, rt) = (left.schema[pair.0].ty, right.schema[pair.1].ty);
            if lt == Type::Dynamic || rt == Type::Dynamic {
                return Err(self.err(codes::TYPE, c.span, "join keys cannot be dynamic"));
            }
            if !expr::join_compatible(lt, rt) {
                return Err(self.err(
                    codes::TYPE,
                    c.span,
                    format!("join keys have different types: {lt} and {rt}"),
                ));
            }
            if lt == Type::String {
                // Only when one side is folded and the other is a table's column as it is.
                let (lf, rf) = (
                    names::case_folded(&left, pair.0),
                    names::case_folded(&right, pair.1),
                );
                if let (Some(lf), Some(rf)) = (lf, rf) {
                    if lf != rf {
                        let (folded, raw) = if lf {
                            (&left.schema[pair.0].name, &right.schema[pair.1].name)
                        } else {
                            (&right.schema[pair.1].name, &left.schema[pair.0].name)
                        };
                        self.diags.push(
                        Diagnostic::warning(
                            codes::ONE_SIDED_CASE,
                            format!(
                                "join key `{folded}` is lower- or upper-cased on one side only; `{raw}` is compared as it is"
                            ),
                        )
                        .with_span(c.span)
                        .with_note("join keys compare case-sensitively: values that differ in case never match; fold both sides"),
                    );
                    }
                }
            }
            keys.push(pair);
        }
        let _ = op;
        let schema = match kind {
            JoinKind::LeftSemi | JoinKind::LeftAnti => left.schema.clone(),
            JoinKind::RightSemi | JoinKind::RightAnti => right.schema.clone(),
            _ => {
                let all: Vec<Column> = left.schema.iter().chain(&right.schema).cloned().collect();
                let names = unique_names(all.iter().map(|c| c.name.clone()).collect());
                all.into_iter()
                    .zip(names)
                    .map(|(c, name)| Column { name, ty: c.ty })
                    .collect()
            }
        };
        Ok(Node {
            op: Op::Join {
                kind,
                left: Box::new(left),
                right: Box::new(right),
                keys,
            },
            schema,
        })
    }

    fn union(
        &mut self,
        first: Option<Node>,
        options: &[ast::OptionKv],
        legs: &[ast::Expr],
        span: Span,
        scope: &Scope,
    ) -> LResult<Node> {
        let mut fuzzy = false;
        let mut inner = false;
        let mut source_col: Option<String> = None;
        for o in options {
            match (o.key.name.as_str(), &o.value.kind) {
                ("isfuzzy", A::Lit(ast::Lit::Bool(b))) => fuzzy = *b,
                ("kind", A::Name(k)) if k == "outer" || k == "inner" => inner = k == "inner",
                ("withsource" | "with_source", A::Name(c)) => source_col = Some(c.clone()),
                _ => {
                    return Err(self.err(
                        codes::UNSUPPORTED,
                        o.key.span,
                        format!("union option `{}` is not supported yet", o.key.name),
                    ))
                }
            }
        }
        // Each leg with the label `withsource` gives it: the table or function name.
        let mut nodes: Vec<(Node, String)> =
            first.into_iter().map(|n| (n, String::new())).collect();
        for leg in legs {
            if let A::Name(n) = &leg.kind {
                if n.contains('*') {
                    // A wildcard names every known table it matches (present ones, in `run`).
                    let names: Vec<String> = self
                        .tables
                        .catalog
                        .names()
                        .into_iter()
                        .filter(|t| operators::matches_pattern(n, t))
                        .filter(|t| matches!(self.tables.lookup(t), TableLookup::Found(_)))
                        .collect();
                    for t in names {
                        let node = self.scan(&t, leg.span)?;
                        nodes.push((node, t));
                    }
                    continue;
                }
            }
            let label = match &leg.kind {
                A::Name(n) => n.clone(),
                A::Call { name, .. } => name.name.clone(),
                _ => String::new(),
            };
            if fuzzy {
                // A leg that cannot be resolved (a missing table) is dropped, as Kusto does.
                let mark = self.diags.len();
                match self.tabular(leg, scope) {
                    Ok(n) => nodes.push((n, label)),
                    Err(Reported) => {
                        let only_missing = self.diags[mark..].iter().all(|d| {
                            d.code == codes::MISSING_TABLE || d.code == codes::UNKNOWN_TABLE
                        });
                        if only_missing {
                            for d in &mut self.diags[mark..] {
                                d.severity = crate::diagnostics::Severity::Info;
                                d.message =
                                    format!("{} (union isfuzzy=true drops this leg)", d.message);
                            }
                        } else {
                            return Err(Reported);
                        }
                    }
                }
            } else {
                let n = self.tabular(leg, scope)?;
                nodes.push((n, label));
            }
        }
        if nodes.is_empty() {
            return Err(self.err(
                codes::MISSING_TABLE,
                span,
                "no leg of the union resolves to a table",
            ));
        }
        let nodes = match &source_col {
            // The source column comes first in every leg, so it leads the union's columns.
            Some(col) => nodes
                .into_iter()
                .map(|(n, label)| {
                    let mut items = vec![(
                        col.clone(),
                        crate::ir::Expr::lit(crate::value::Value::str(&label), Type::String),
                    )];
                    items.extend(
                        n.schema
                            .iter()
                            .enumerate()
                            .filter(|(_, c)| c.name != *col)
                            .map(|(i, c)| {
                                (
                                    c.name.clone(),
                                    crate::ir::Expr {
                                        kind: crate::ir::ExprKind::Column {
                                            index: i,
                                            name: c.name.clone(),
                                        },
                                        ty: c.ty,
                                    },
                                )
                            }),
                    );
                    self.project(n, items, span)
                })
                .collect::<LResult<Vec<_>>>()?,
            None => nodes.into_iter().map(|(n, _)| n).collect(),
        };
        let node = names::union_node(nodes);
        if !inner {
            return Ok(node);
        }
        // kind=inner: only the columns every leg has, with one type.
        let Op::Union { legs } = &node.op else {
            unreachable!()
        };
        let keep: Vec<usize> = (0..node.schema.len())
            .filter(|&j| legs.iter().all(|(_, m)| m[j].is_some()))
            .collect();
        let items = keep
            .iter()
            .map(|&j| {
                (
                    node.schema[j].name.clone(),
                    crate::ir::Expr {
                        kind: crate::ir::ExprKind::Column {
                            index: j,
                            name: node.schema[j].name.clone(),
                        },
                        ty: node.schema[j].ty,
                    },
                )
            })
            .collect();
        self.project(node, items, span)
    }

    pub(crate) fn scalar(
        &mut self,
        e: &ast::Expr,
        row: Option<&Node>,
        scope: &Scope,
    ) -> LResult<crate::ir::Expr> {
        expr::lower_scalar(self, e, row, scope)
    }
}
