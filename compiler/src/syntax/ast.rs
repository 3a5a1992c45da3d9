//! The KQL syntax tree. Close to the text: names are unresolved, every node has a span.

use crate::diagnostics::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub statements: Vec<Statement>,
    /// Every identifier the query text spells (plain or quoted): the column names it can
    /// read, for tables whose schema is open (see `lower`'s suffix-typed columns).
    pub idents: std::collections::BTreeSet<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    Let {
        name: Ident,
        value: LetValue,
        span: Span,
    },
    /// `set`, `declare`, `alias`, ...: parsed and ignored, with the word kept for messages.
    Directive {
        word: Ident,
        span: Span,
    },
    Expr(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub enum LetValue {
    Expr(Expr),
    Function(Function),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    pub params: Vec<Param>,
    pub body: Vec<Statement>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Ident,
    /// A scalar type name, or `None` for a tabular parameter (`T:(*)` / `T:(a:string)`).
    pub ty: Option<Ident>,
    pub default: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    Str(String),
    Long(i64),
    Real(f64),
    Bool(bool),
    Timespan(i64),
    /// `datetime(...)` etc.: type word and raw text.
    Typed(String, String),
    Null,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Name(String),
    Lit(Lit),
    /// `{{Name}}` outside a string.
    Placeholder(String),
    /// `dynamic(...)`, already parsed into JSON.
    Dynamic(serde_json::Value),
    Binary {
        op: String,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// Unary minus or plus.
    Unary {
        op: String,
        expr: Box<Expr>,
    },
    Call {
        name: Ident,
        args: Vec<Arg>,
    },
    Member {
        expr: Box<Expr>,
        name: Ident,
    },
    Index {
        expr: Box<Expr>,
        index: Box<Expr>,
    },
    Between {
        expr: Box<Expr>,
        lo: Box<Expr>,
        hi: Box<Expr>,
        negated: bool,
    },
    /// `in`, `!in`, `in~`, `!in~`, `has_any`, `has_all`, `has_any_cs`...: the operator word and the list.
    List {
        op: String,
        expr: Box<Expr>,
        items: Vec<Expr>,
    },
    /// `$left.X` / `$right.X`.
    JoinSide {
        right: bool,
        name: Ident,
    },
    Star,
    Pipe {
        input: Box<Expr>,
        op: Box<Operator>,
    },
    /// A source operator with no input: `union ...`, `print ...`, `datatable(...)[...]`.
    Source(Box<Operator>),
    /// A placeholder left by error recovery.
    Error,
}

impl Expr {
    /// The scalar sub-expressions (not the operators of a sub-query).
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Binary { lhs, rhs, .. } => vec![lhs, rhs],
            ExprKind::Unary { expr, .. } | ExprKind::Member { expr, .. } => vec![expr],
            ExprKind::Index { expr, index } => vec![expr, index],
            ExprKind::Call { args, .. } => args.iter().map(|a| &a.value).collect(),
            ExprKind::Between { expr, lo, hi, .. } => vec![expr, lo, hi],
            ExprKind::List { expr, items, .. } => std::iter::once(&**expr).chain(items).collect(),
            _ => vec![],
        }
    }

    /// [`Expr::children`], mutable.
    pub fn children_mut(&mut self) -> Vec<&mut Expr> {
        match &mut self.kind {
            ExprKind::Binary { lhs, rhs, .. } => vec![lhs, rhs],
            ExprKind::Unary { expr, .. } | ExprKind::Member { expr, .. } => vec![expr],
            ExprKind::Index { expr, index } => vec![expr, index],
            ExprKind::Call { args, .. } => args.iter_mut().map(|a| &mut a.value).collect(),
            ExprKind::Between { expr, lo, hi, .. } => vec![expr, lo, hi],
            ExprKind::List { expr, items, .. } => std::iter::once(&mut **expr)
                .chain(items.iter_mut())
                .collect(),
            _ => vec![],
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
}

impl Arg {
    /// `name = value` as an operator item (`print(x)`, `evaluate pivot(..., by...)`).
    pub fn to_named(&self) -> NamedExpr {
        NamedExpr {
            name: self.name.clone(),
            more: Vec::new(),
            expr: self.value.clone(),
        }
    }
}

/// `Name = expr` or a bare `expr` in `extend`, `project`, `summarize`, ...
/// `(a, b) = f(...)` assigns several names: the first is in `name`, the rest in `more`.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedExpr {
    pub name: Option<Ident>,
    pub more: Vec<Ident>,
    pub expr: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ParsePart {
    /// `*`: skip anything.
    Star,
    /// A string literal to match (a regular expression in `kind=regex`).
    Lit(String),
    /// A column to extract, with an optional type.
    Column(Ident, Option<Ident>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct OptionKv {
    pub key: Ident,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub desc: bool,
    pub nulls_first: Option<bool>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MvExpandItem {
    pub name: Option<Ident>,
    pub expr: Expr,
    pub to_type: Option<Ident>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Operator {
    pub kind: OpKind,
    /// The operator word, e.g. `mv-expand`.
    pub word: Ident,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum OpKind {
    Where(Expr),
    Extend(Vec<NamedExpr>),
    /// `serialize [name = row_function(...), ...]`.
    Serialize(Vec<NamedExpr>),
    Project(Vec<NamedExpr>),
    ProjectAway(Vec<Expr>),
    ProjectKeep(Vec<Expr>),
    ProjectRename(Vec<(Ident, Ident)>),
    ProjectReorder(Vec<Expr>),
    Distinct(Vec<NamedExpr>),
    MvExpand {
        options: Vec<OptionKv>,
        items: Vec<MvExpandItem>,
        limit: Option<Expr>,
    },
    /// `mv-apply items [limit n] on (operators)`: the operators run over each row's expanded
    /// subtable.
    MvApply {
        options: Vec<OptionKv>,
        items: Vec<MvExpandItem>,
        limit: Option<Expr>,
        body: Vec<Operator>,
    },
    Join {
        options: Vec<OptionKv>,
        right: Expr,
        on: Vec<Expr>,
    },
    Lookup {
        options: Vec<OptionKv>,
        right: Expr,
        on: Vec<Expr>,
    },
    Union {
        options: Vec<OptionKv>,
        legs: Vec<Expr>,
    },
    Summarize {
        options: Vec<OptionKv>,
        aggs: Vec<NamedExpr>,
        by: Vec<NamedExpr>,
    },
    /// `make-series [kind=nonempty] agg [default = v], ... on Axis (from a to b step s |
    /// in range(a, b, s)) [by ...]`
    MakeSeries {
        options: Vec<OptionKv>,
        aggs: Vec<(NamedExpr, Option<Expr>)>,
        axis: Expr,
        from: Option<Expr>,
        to: Option<Expr>,
        step: Expr,
        /// The deprecated `in range(start, stop, step)` form: bins by `bin()`, `stop` included.
        in_range: bool,
        by: Vec<NamedExpr>,
    },
    Take(Expr),
    Sort(Vec<SortKey>),
    Top {
        count: Expr,
        by: SortKey,
    },
    Count,
    /// `datatable (a:string, ...) [ values... ]`
    Datatable {
        columns: Vec<(Ident, Ident)>,
        values: Vec<Expr>,
    },
    /// `externaldata (a:string, ...) [ uris... ] with (...)`: detc never downloads; `run`
    /// reads the rows from the data folder.
    ExternalData {
        columns: Vec<(Ident, Ident)>,
        uris: Vec<Expr>,
    },
    /// `print a = 1, b = "x"`
    Print(Vec<NamedExpr>),
    /// `range x from a to b step c`
    Range {
        name: Ident,
        from: Expr,
        to: Expr,
        step: Expr,
    },
    /// `parse [kind=simple|regex] expr with * "lit" Col:type ...`
    Parse {
        kind: Option<Ident>,
        expr: Expr,
        parts: Vec<ParsePart>,
    },
    /// `invoke f(args)`: a let-function whose first parameter is tabular, applied to the input.
    Invoke(Expr),
    /// `evaluate plugin(args) [: (schema)]`
    Evaluate {
        plugin: Ident,
        args: Vec<Arg>,
        schema: Option<Vec<(Ident, Ident)>>,
    },
    /// An operator the parser knows only by name; its tokens were skipped.
    Other,
}
