//! Stage 3's output: the typed relational plan every consumer reads (the native evaluator, the
//! KQL printer, the SQL dialects, Sigma, `explain`). Nodes carry their output schema;
//! expressions carry their type and refer to input columns by position and name.

pub mod print;

use crate::types::Type;
use crate::value::Value;

#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: Type,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub op: Op,
    /// The output columns, in order.
    pub schema: Vec<Column>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinKind {
    /// KQL's default: deduplicate the left side on the join keys, then inner join.
    InnerUnique,
    Inner,
    LeftOuter,
    RightOuter,
    FullOuter,
    LeftSemi,
    LeftAnti,
    RightSemi,
    RightAnti,
}

impl JoinKind {
    pub fn parse(s: &str) -> Option<JoinKind> {
        Some(match s {
            "innerunique" => JoinKind::InnerUnique,
            "inner" => JoinKind::Inner,
            "leftouter" => JoinKind::LeftOuter,
            "rightouter" => JoinKind::RightOuter,
            "fullouter" => JoinKind::FullOuter,
            "leftsemi" => JoinKind::LeftSemi,
            "leftanti" | "anti" | "leftantisemi" => JoinKind::LeftAnti,
            "rightsemi" => JoinKind::RightSemi,
            "rightanti" | "rightantisemi" => JoinKind::RightAnti,
            _ => return None,
        })
    }
    pub fn kql(self) -> &'static str {
        match self {
            JoinKind::InnerUnique => "innerunique",
            JoinKind::Inner => "inner",
            JoinKind::LeftOuter => "leftouter",
            JoinKind::RightOuter => "rightouter",
            JoinKind::FullOuter => "fullouter",
            JoinKind::LeftSemi => "leftsemi",
            JoinKind::LeftAnti => "leftanti",
            JoinKind::RightSemi => "rightsemi",
            JoinKind::RightAnti => "rightanti",
        }
    }
}

/// Where one output column of [`Op::MvApply`] comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApplySource {
    /// The input column at this index (repeated on each of the row's output rows).
    Input(usize),
    /// The body's column at this index.
    Body(usize),
}

/// The output columns of an `mv-apply`: the kept input columns in order, each replaced by the
/// body's column of the same name if there is one, then the body's other columns. This is
/// how Kusto.Language types the operator (docs/semantics.md).
pub fn mv_apply_output(input: &Node, body: &Node, keep: &[usize]) -> Vec<ApplySource> {
    let by_name = |name: &str| body.schema.iter().position(|c| c.name == name);
    let mut out: Vec<ApplySource> = keep
        .iter()
        .map(|&i| match by_name(&input.schema[i].name) {
            Some(j) => ApplySource::Body(j),
            None => ApplySource::Input(i),
        })
        .collect();
    let rest: Vec<ApplySource> = (0..body.schema.len())
        .map(ApplySource::Body)
        .filter(|s| !out.contains(s))
        .collect();
    out.extend(rest);
    out
}

#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// Rows of a table, read with the table's full schema.
    Scan {
        table: String,
    },
    Filter {
        input: Box<Node>,
        predicate: Expr,
    },
    /// Each item either replaces an input column in place (`Some(index)`) or is appended.
    /// Items see the input row only; lowering splits dependent assignments into several nodes.
    Extend {
        input: Box<Node>,
        items: Vec<(String, Option<usize>, Expr)>,
    },
    Project {
        input: Box<Node>,
        items: Vec<(String, Expr)>,
    },
    /// One output row per element of the dynamic columns (replaced in place, zipped, the
    /// shorter padded with null), none when all are empty arrays or bags, one null for null.
    MvExpand {
        input: Box<Node>,
        /// Expanded columns and their `to typeof()` casts.
        columns: Vec<(usize, Option<Type>)>,
        /// `bagexpansion=array`: a bag gives `[key, value]` pairs instead of one-key bags.
        bag_array: bool,
        /// `with_itemindex=Name`: the last output column is the element's index.
        with_index: bool,
        limit: Option<u64>,
    },
    /// `mv-apply`: for each input row, `body` runs over the row's expanded subtable (it
    /// starts at [`Op::OuterRow`]); the output columns are given by [`mv_apply_output`].
    MvApply {
        input: Box<Node>,
        body: Box<Node>,
        /// Input columns repeated on each output row: those not expanded.
        keep: Vec<usize>,
    },
    /// `evaluate bag_unpack(col, prefix)`: the rows unchanged; `col` is renamed
    /// `bag_unpack(col[, 'prefix'])` and later names resolve to its keys (the keys exist only
    /// at run time; see docs/semantics.md).
    BagUnpack {
        input: Box<Node>,
        column: usize,
    },
    /// `evaluate pivot(column, agg, by...)`: one row per `by` group; its last column is a bag
    /// from each value of `column` (as text) to `agg` over that value's rows, read like
    /// `bag_unpack`'s keys (the values exist only at run time).
    Pivot {
        input: Box<Node>,
        column: Expr,
        agg: Agg,
        by: Vec<(String, Expr)>,
    },
    /// The current input row of the enclosing `mv-apply`, as a one-row table.
    OuterRow,
    /// Distinct rows over all input columns.
    Distinct {
        input: Box<Node>,
    },
    /// Output: the left columns then the right columns, names made unique as Kusto does.
    Join {
        kind: JoinKind,
        left: Box<Node>,
        right: Box<Node>,
        keys: Vec<(usize, usize)>,
    },
    /// `legs[i].1[j]` is leg i's input column for output column j (`None`: the leg lacks it).
    Union {
        legs: Vec<(Node, Vec<Option<usize>>)>,
    },
    Take {
        input: Box<Node>,
        count: u64,
    },
    /// Rows ordered by the keys; `true` = descending.
    Sort {
        input: Box<Node>,
        keys: Vec<SortKey>,
    },
    /// Group by the `by` expressions (output first, in order), then the aggregates.
    Summarize {
        input: Box<Node>,
        by: Vec<(String, Expr)>,
        aggs: Vec<(String, Agg)>,
    },
    /// `make-series`: one row per group: the `by` columns, one array per aggregate (a value
    /// per bin, the aggregate's default where a bin has no rows), then the axis column: an
    /// array of the bins' start values.
    MakeSeries {
        input: Box<Node>,
        by: Vec<(String, Expr)>,
        aggs: Vec<SeriesAgg>,
        axis: Expr,
        bins: Box<SeriesBins>,
        /// `kind=nonempty`: an empty input without `by` still gives one row of defaults.
        nonempty: bool,
    },
    /// `serialize` and the row functions: the rows in their input order (which
    /// [`Node::is_serialized`] must hold), each item a row function's value appended.
    Serialize {
        input: Box<Node>,
        items: Vec<(String, RowFunc)>,
    },
    /// Literal rows (`datatable`, `print`).
    Values {
        rows: Vec<Vec<Value>>,
    },
    /// `externaldata`: rows from outside the workspace. detc never downloads them; `run`
    /// reads table `name` (the last path segment of the first URI, without extensions) from
    /// the data folder, with the declared schema.
    External {
        name: String,
        uris: Vec<String>,
    },
}

/// A row function: its value at a row depends on the rows before (or after) it in the
/// serialized order. Its arguments see the input row only.
#[derive(Clone, Debug, PartialEq)]
pub struct RowFunc {
    pub kind: RowFuncKind,
    /// Per kind, see [`RowFuncKind`].
    pub args: Vec<Expr>,
    /// Where true, numbering, sum, rank or session starts again at this row.
    pub restart: Option<Expr>,
    pub ty: Type,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowFuncKind {
    /// `prev(value, offset, default)`: args = [value, default].
    Prev(u64),
    /// `next(value, offset, default)`: args = [value, default].
    Next(u64),
    /// `row_number(start, restart)`: args = [start].
    RowNumber,
    /// `row_cumsum(term, restart)`: args = [term].
    Cumsum,
    /// `row_rank_dense(term, restart)` (and the older `row_rank`): args = [term].
    RankDense,
    /// `row_rank_min(term, restart)`: args = [term].
    RankMin,
    /// `row_window_session(value, max_from_first, max_between, restart)`: args = those three.
    WindowSession,
}

impl RowFuncKind {
    pub fn kql(self) -> &'static str {
        match self {
            RowFuncKind::Prev(_) => "prev",
            RowFuncKind::Next(_) => "next",
            RowFuncKind::RowNumber => "row_number",
            RowFuncKind::Cumsum => "row_cumsum",
            RowFuncKind::RankDense => "row_rank_dense",
            RowFuncKind::RankMin => "row_rank_min",
            RowFuncKind::WindowSession => "row_window_session",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub desc: bool,
    /// KQL's default: nulls first when ascending, last when descending.
    pub nulls_first: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggFunc {
    Count,
    CountIf,
    DCount,
    DCountIf,
    Sum,
    SumIf,
    Avg,
    /// Sample standard deviation and variance (n - 1); 0 for one value.
    Stdev,
    Variance,
    Min,
    Max,
    MakeSet,
    MakeSetIf,
    MakeList,
    MakeListIf,
    /// `any`/`take_any`: some value of the group.
    Any,
    /// `take_anyif(x, predicate)`.
    AnyIf,
    /// One output column of `arg_max(key, cols...)`: args = [key, value].
    ArgMax,
    ArgMin,
    /// Merges property bags; for a key in several rows the first row's value is kept.
    MakeBag,
    /// `percentile(x, p)`: args = [x, p]; the nearest-rank value (exact; Kusto estimates).
    Percentile,
}

impl AggFunc {
    pub fn kql(self) -> &'static str {
        match self {
            AggFunc::Count => "count",
            AggFunc::CountIf => "countif",
            AggFunc::DCount => "dcount",
            AggFunc::DCountIf => "dcountif",
            AggFunc::Sum => "sum",
            AggFunc::SumIf => "sumif",
            AggFunc::Avg => "avg",
            AggFunc::Stdev => "stdev",
            AggFunc::Variance => "variance",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::MakeSet => "make_set",
            AggFunc::MakeSetIf => "make_set_if",
            AggFunc::MakeList => "make_list",
            AggFunc::MakeListIf => "make_list_if",
            AggFunc::Any => "take_any",
            AggFunc::AnyIf => "take_anyif",
            AggFunc::ArgMax => "arg_max",
            AggFunc::ArgMin => "arg_min",
            AggFunc::MakeBag => "make_bag",
            AggFunc::Percentile => "percentile",
        }
    }
}

/// One `make-series` aggregate: its column, the aggregate, and the value of an empty bin
/// (a constant).
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesAgg {
    pub name: String,
    pub agg: Agg,
    pub default: Expr,
}

/// The bins of a `make-series` axis. `start`/`end` absent: taken from the data (the first and
/// last bins holding a row, over all groups, so every series has the same length).
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesBins {
    pub start: Option<Expr>,
    pub end: Option<Expr>,
    pub step: Expr,
    /// `in range(start, stop, step)`: bins aligned by `bin()` and `stop` included; otherwise
    /// bins start at `start` and `end` is excluded.
    pub range_syntax: bool,
}

impl SeriesBins {
    pub fn exprs(&self) -> Vec<&Expr> {
        self.start
            .iter()
            .chain(self.end.iter())
            .chain(std::iter::once(&self.step))
            .collect()
    }
    pub fn exprs_mut(&mut self) -> Vec<&mut Expr> {
        self.start
            .iter_mut()
            .chain(self.end.iter_mut())
            .chain(std::iter::once(&mut self.step))
            .collect()
    }
}

/// One aggregate output column.
#[derive(Clone, Debug, PartialEq)]
pub struct Agg {
    pub func: AggFunc,
    pub args: Vec<Expr>,
    /// Size limit of make_set/make_list, if given.
    pub limit: Option<u64>,
    pub ty: Type,
}

impl Node {
    pub fn column(&self, name: &str) -> Option<(usize, &Column)> {
        self.schema.iter().enumerate().find(|(_, c)| c.name == name)
    }

    /// Every table the plan reads (scans and `externaldata`), sorted and deduplicated.
    pub fn tables(&self) -> Vec<String> {
        self.sources().into_iter().map(|(t, _)| t).collect()
    }

    /// Every table the plan reads with the columns it is read with, sorted by name.
    pub fn sources(&self) -> Vec<(String, Vec<Column>)> {
        let mut out: Vec<(String, Vec<Column>)> = Vec::new();
        self.visit(&mut |n| {
            let name = match &n.op {
                Op::Scan { table } => table,
                Op::External { name, .. } => name,
                _ => return,
            };
            if !out.iter().any(|(t, _)| t == name) {
                out.push((name.clone(), n.schema.clone()));
            }
        });
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Whether row functions may read this node's rows: KQL's serialized row sets (`sort`,
    /// `top`, `serialize`, kept through `where`, `extend`, `project`, `take`, `mv-expand`).
    pub fn is_serialized(&self) -> bool {
        match &self.op {
            Op::Sort { .. } | Op::Serialize { .. } => true,
            Op::Filter { input, .. }
            | Op::Extend { input, .. }
            | Op::Project { input, .. }
            | Op::Take { input, .. }
            | Op::MvExpand { input, .. }
            | Op::BagUnpack { input, .. } => input.is_serialized(),
            _ => false,
        }
    }

    pub fn inputs(&self) -> Vec<&Node> {
        match &self.op {
            Op::Scan { .. } => vec![],
            Op::Filter { input, .. }
            | Op::Extend { input, .. }
            | Op::Project { input, .. }
            | Op::MvExpand { input, .. }
            | Op::Distinct { input }
            | Op::Take { input, .. }
            | Op::Sort { input, .. }
            | Op::Summarize { input, .. }
            | Op::BagUnpack { input, .. }
            | Op::Pivot { input, .. }
            | Op::MakeSeries { input, .. }
            | Op::Serialize { input, .. } => vec![input],
            Op::Values { .. } | Op::External { .. } | Op::OuterRow => vec![],
            Op::MvApply { input, body, .. } => vec![input, body],
            Op::Join { left, right, .. } => vec![left, right],
            Op::Union { legs } => legs.iter().map(|(n, _)| n).collect(),
        }
    }

    /// This node and every node below it, sub-queries inside expressions included.
    pub fn visit(&self, f: &mut dyn FnMut(&Node)) {
        f(self);
        for i in self.inputs() {
            i.visit(f);
        }
        for e in self.own_exprs() {
            e.walk(&mut |x| {
                if let ExprKind::Subquery { plan, .. } = &x.kind {
                    plan.visit(f);
                }
            });
        }
    }

    /// The expressions of this node only (not of its inputs).
    pub fn own_exprs(&self) -> Vec<&Expr> {
        match &self.op {
            Op::Filter { predicate, .. } => vec![predicate],
            Op::Extend { items, .. } => items.iter().map(|(_, _, e)| e).collect(),
            Op::Project { items, .. } => items.iter().map(|(_, e)| e).collect(),
            Op::Sort { keys, .. } => keys.iter().map(|k| &k.expr).collect(),
            Op::Summarize { by, aggs, .. } => by
                .iter()
                .map(|(_, e)| e)
                .chain(aggs.iter().flat_map(|(_, a)| a.args.iter()))
                .collect(),
            Op::Pivot {
                column, agg, by, ..
            } => by
                .iter()
                .map(|(_, e)| e)
                .chain(std::iter::once(column))
                .chain(agg.args.iter())
                .collect(),
            Op::MakeSeries {
                by,
                aggs,
                axis,
                bins,
                ..
            } => by
                .iter()
                .map(|(_, e)| e)
                .chain(aggs.iter().flat_map(|a| a.agg.args.iter()))
                .chain(std::iter::once(axis))
                .chain(bins.exprs())
                .collect(),
            Op::Serialize { items, .. } => items
                .iter()
                .flat_map(|(_, f)| f.args.iter().chain(f.restart.iter()))
                .collect(),
            _ => vec![],
        }
    }

    /// Every expression in the plan (for parameter discovery and rewriting).
    pub fn exprs_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        match &mut self.op {
            Op::Scan { .. } | Op::Values { .. } | Op::External { .. } | Op::OuterRow => {}
            Op::MvApply { input, body, .. } => {
                input.exprs_mut(f);
                body.exprs_mut(f);
            }
            Op::Sort { input, keys } => {
                keys.iter_mut().for_each(|k| f(&mut k.expr));
                input.exprs_mut(f);
            }
            Op::Summarize { input, by, aggs } => {
                by.iter_mut().for_each(|(_, e)| f(e));
                aggs.iter_mut()
                    .for_each(|(_, a)| a.args.iter_mut().for_each(&mut *f));
                input.exprs_mut(f);
            }
            Op::Pivot {
                input,
                column,
                agg,
                by,
            } => {
                by.iter_mut().for_each(|(_, e)| f(e));
                f(column);
                agg.args.iter_mut().for_each(&mut *f);
                input.exprs_mut(f);
            }
            Op::MakeSeries {
                input,
                by,
                aggs,
                axis,
                bins,
                ..
            } => {
                by.iter_mut().for_each(|(_, e)| f(e));
                aggs.iter_mut()
                    .for_each(|a| a.agg.args.iter_mut().for_each(&mut *f));
                f(axis);
                bins.exprs_mut().into_iter().for_each(&mut *f);
                input.exprs_mut(f);
            }
            Op::Filter { input, predicate } => {
                f(predicate);
                input.exprs_mut(f);
            }
            Op::Extend { input, items } => {
                items.iter_mut().for_each(|(_, _, e)| f(e));
                input.exprs_mut(f);
            }
            Op::Project { input, items } => {
                items.iter_mut().for_each(|(_, e)| f(e));
                input.exprs_mut(f);
            }
            Op::Serialize { input, items } => {
                for (_, rf) in items {
                    rf.args.iter_mut().for_each(&mut *f);
                    rf.restart.iter_mut().for_each(&mut *f);
                }
                input.exprs_mut(f);
            }
            Op::MvExpand { input, .. }
            | Op::Distinct { input }
            | Op::Take { input, .. }
            | Op::BagUnpack { input, .. } => input.exprs_mut(f),
            Op::Join { left, right, .. } => {
                left.exprs_mut(f);
                right.exprs_mut(f);
            }
            Op::Union { legs } => legs.iter_mut().for_each(|(n, _)| n.exprs_mut(f)),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BinOp {
    And,
    Or,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl BinOp {
    pub fn kql(self) -> &'static str {
        match self {
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
        }
    }
}

/// String predicates. `cs` = case-sensitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StrOp {
    /// `==` (cs) and `=~`.
    Equals,
    /// Whole-term match.
    Has,
    HasPrefix,
    HasSuffix,
    Contains,
    StartsWith,
    EndsWith,
}

impl StrOp {
    /// The KQL operator word, with `_cs` and `!` applied.
    pub fn kql(self, cs: bool, negated: bool) -> String {
        if self == StrOp::Equals {
            return match (cs, negated) {
                (true, false) => "==",
                (true, true) => "!=",
                (false, false) => "=~",
                (false, true) => "!~",
            }
            .to_string();
        }
        let base = match self {
            StrOp::Equals => unreachable!(),
            StrOp::Has => "has",
            StrOp::HasPrefix => "hasprefix",
            StrOp::HasSuffix => "hassuffix",
            StrOp::Contains => "contains",
            StrOp::StartsWith => "startswith",
            StrOp::EndsWith => "endswith",
        };
        format!(
            "{}{}{}",
            if negated { "!" } else { "" },
            base,
            if cs { "_cs" } else { "" }
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    ToLower,
    ToUpper,
    ToString,
    ToDateTime,
    ToLong,
    ToInt,
    ToReal,
    ToBool,
    ToDynamic,
    Strlen,
    Strcat,
    IsEmpty,
    IsNotEmpty,
    IsNull,
    IsNotNull,
    Iff,
    Coalesce,
    /// `max_of`/`min_of`: the extreme of the non-null arguments (null when all are null).
    MaxOf,
    MinOf,
    Not,
    Now,
    Ago,
    ArrayLength,
    /// `datetime_diff(part, a, b)`: part boundaries crossed from b to a.
    DatetimeDiff,
    // Native-only functions (see eval/functions.rs); SQL reports them unsupported.
    CountOf,
    ParseUrl,
    Ipv4IsMatch,
    Base64Decode,
    Base64Encode,
    ExtractJson,
    ExtractAll,
    BagKeys,
    UrlDecode,
    UrlEncode,
    TrimStart,
    TrimEnd,
    StringSize,
    StrcatArray,
    SetUnion,
    SetDifference,
    SetIntersect,
    Reverse,
    FormatDatetime,
    DatetimePart,
    DatetimeAdd,
    ArraySlice,
    /// `range(start, stop, step)`: the array start, start + step, ... up to stop inclusive.
    Range,
    Translate,
    IngestionTime,
    SplitAt,
    ArrayIndexOf,
    IsAscii,
    ParseXml,
    ParseUrlQuery,
    DynamicToJson,
    ParsePath,
    /// `hash(x [, mod])`: XXH64 (seed 0) of the value's bytes.
    Hash,
    /// `base64_decode_toarray(s)`: the decoded bytes as an array of numbers.
    Base64DecodeToArray,
    /// `unicode_codepoints_to_string(...)` (alias `make_string`): code points, as numbers or
    /// arrays of numbers, to text.
    CodepointsToString,
    /// Several values (read through `ExprKind::Field`); see [`Func::fields`].
    SeriesFitLine,
    SeriesDecompose,
    SeriesDecomposeAnomalies,
    /// `x.name`, `x["name"]`, `x[i]` on a dynamic value (negative i counts from the end).
    GetItem,
    Bin,
    StartOfDay,
    EndOfDay,
    /// `extract(regex, group, text)`.
    Extract,
    Split,
    PackArray,
    BagPack,
    /// `case(p1, v1, p2, v2, ..., else)`.
    Case,
    ToTimespan,
    /// `replace_regex(text, regex, rewrite)` (also `replace`).
    ReplaceRegex,
    ReplaceString,
    Substring,
    Ipv4IsPrivate,
    ArrayConcat,
    SetHasElement,
    Trim,
    IndexOf,
    /// `x matches regex p`.
    MatchesRegex,
    HourOfDay,
    DayOfWeek,
    Floor,
    Abs,
    Log10,
    Round,
    ToHex,
}

impl Func {
    pub fn kql(self) -> &'static str {
        match self {
            Func::ToLower => "tolower",
            Func::ToUpper => "toupper",
            Func::ToString => "tostring",
            Func::ToDateTime => "todatetime",
            Func::ToLong => "tolong",
            Func::ToInt => "toint",
            Func::ToReal => "toreal",
            Func::ToBool => "tobool",
            Func::ToDynamic => "todynamic",
            Func::Strlen => "strlen",
            Func::Strcat => "strcat",
            Func::IsEmpty => "isempty",
            Func::IsNotEmpty => "isnotempty",
            Func::IsNull => "isnull",
            Func::IsNotNull => "isnotnull",
            Func::Iff => "iff",
            Func::Coalesce => "coalesce",
            Func::MaxOf => "max_of",
            Func::MinOf => "min_of",
            Func::Not => "not",
            Func::Now => "now",
            Func::Ago => "ago",
            Func::ArrayLength => "array_length",
            Func::DatetimeDiff => "datetime_diff",
            Func::CountOf => "countof",
            Func::ParseUrl => "parse_url",
            Func::Ipv4IsMatch => "ipv4_is_match",
            Func::Base64Decode => "base64_decode_tostring",
            Func::Base64Encode => "base64_encode_tostring",
            Func::ExtractJson => "extract_json",
            Func::ExtractAll => "extract_all",
            Func::BagKeys => "bag_keys",
            Func::UrlDecode => "url_decode",
            Func::UrlEncode => "url_encode",
            Func::TrimStart => "trim_start",
            Func::TrimEnd => "trim_end",
            Func::StringSize => "string_size",
            Func::StrcatArray => "strcat_array",
            Func::SetUnion => "set_union",
            Func::SetDifference => "set_difference",
            Func::SetIntersect => "set_intersect",
            Func::Reverse => "reverse",
            Func::FormatDatetime => "format_datetime",
            Func::DatetimePart => "datetime_part",
            Func::DatetimeAdd => "datetime_add",
            Func::ArraySlice => "array_slice",
            Func::Range => "range",
            Func::Translate => "translate",
            Func::IngestionTime => "ingestion_time",
            Func::SplitAt => "split",
            Func::ArrayIndexOf => "array_index_of",
            Func::IsAscii => "isascii",
            Func::ParseXml => "parse_xml",
            Func::ParseUrlQuery => "parse_urlquery",
            Func::DynamicToJson => "dynamic_to_json",
            Func::ParsePath => "parse_path",
            Func::Hash => "hash",
            Func::Base64DecodeToArray => "base64_decode_toarray",
            Func::CodepointsToString => "unicode_codepoints_to_string",
            Func::SeriesFitLine => "series_fit_line",
            Func::SeriesDecompose => "series_decompose",
            Func::SeriesDecomposeAnomalies => "series_decompose_anomalies",
            Func::GetItem => "getitem",
            Func::Bin => "bin",
            Func::StartOfDay => "startofday",
            Func::EndOfDay => "endofday",
            Func::Extract => "extract",
            Func::Split => "split",
            Func::PackArray => "pack_array",
            Func::BagPack => "bag_pack",
            Func::Case => "case",
            Func::ToTimespan => "totimespan",
            Func::ReplaceRegex => "replace_regex",
            Func::ReplaceString => "replace_string",
            Func::Substring => "substring",
            Func::Ipv4IsPrivate => "ipv4_is_private",
            Func::ArrayConcat => "array_concat",
            Func::SetHasElement => "set_has_element",
            Func::Trim => "trim",
            Func::IndexOf => "indexof",
            Func::MatchesRegex => "matches regex",
            Func::HourOfDay => "hourofday",
            Func::DayOfWeek => "dayofweek",
            Func::Floor => "floor",
            Func::Abs => "abs",
            Func::Log10 => "log10",
            Func::Round => "round",
            Func::ToHex => "tohex",
        }
    }
}

impl Func {
    /// The names and types of the values a several-valued function gives, in order (the
    /// suffixes of the columns `extend f(x)` names `f_x_<suffix>`); empty for other functions.
    pub fn fields(self) -> &'static [(&'static str, Type)] {
        match self {
            Func::SeriesFitLine => &[
                ("rsquare", Type::Real),
                ("slope", Type::Real),
                ("variance", Type::Real),
                ("rvariance", Type::Real),
                ("interception", Type::Real),
                ("line_fit", Type::Dynamic),
            ],
            Func::SeriesDecompose => &[
                ("baseline", Type::Dynamic),
                ("seasonal", Type::Dynamic),
                ("trend", Type::Dynamic),
                ("residual", Type::Dynamic),
            ],
            Func::SeriesDecomposeAnomalies => &[
                ("ad_flag", Type::Dynamic),
                ("ad_score", Type::Dynamic),
                ("baseline", Type::Dynamic),
            ],
            _ => &[],
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Type,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Column {
        index: usize,
        name: String,
    },
    Literal(Value),
    /// A `{{Name}}` placeholder: a typed parameter bound before running.
    Param(String),
    /// A string literal with `{{...}}` inside other text: a minijinja template over the
    /// parameters, rendered when they are bound.
    Template(String),
    Neg(Box<Expr>),
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Str {
        op: StrOp,
        cs: bool,
        negated: bool,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `in`/`!in` (cs) and `in~`/`!in~`.
    In {
        lhs: Box<Expr>,
        items: Vec<Expr>,
        cs: bool,
        negated: bool,
    },
    /// `has_any` (all = false) / `has_all`.
    HasAny {
        lhs: Box<Expr>,
        terms: Vec<Expr>,
        all: bool,
        cs: bool,
    },
    Between {
        expr: Box<Expr>,
        lo: Box<Expr>,
        hi: Box<Expr>,
        negated: bool,
    },
    Call {
        func: Func,
        args: Vec<Expr>,
    },
    /// Output `index` of a function giving several values (`(a, b) = series_fit_line(y)`):
    /// `tuple` evaluates to an array of them.
    Field {
        tuple: Box<Expr>,
        index: usize,
    },
    /// A tabular sub-query read as values: the first column's values as the items of an
    /// `in`/`has_any` list, or (`scalar`, from `toscalar`) the first row's first column.
    Subquery {
        plan: Box<Node>,
        scalar: bool,
    },
}

impl Expr {
    pub fn lit(v: Value, ty: Type) -> Expr {
        Expr {
            kind: ExprKind::Literal(v),
            ty,
        }
    }

    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Column { .. }
            | ExprKind::Literal(_)
            | ExprKind::Param(_)
            | ExprKind::Template(_)
            | ExprKind::Subquery { .. } => vec![],
            ExprKind::Neg(e) => vec![e],
            ExprKind::Field { tuple, .. } => vec![tuple],
            ExprKind::Binary { lhs, rhs, .. } | ExprKind::Str { lhs, rhs, .. } => vec![lhs, rhs],
            ExprKind::In { lhs, items, .. } => std::iter::once(&**lhs).chain(items).collect(),
            ExprKind::HasAny { lhs, terms, .. } => std::iter::once(&**lhs).chain(terms).collect(),
            ExprKind::Between { expr, lo, hi, .. } => vec![expr, lo, hi],
            ExprKind::Call { args, .. } => args.iter().collect(),
        }
    }

    pub fn children_mut(&mut self) -> Vec<&mut Expr> {
        match &mut self.kind {
            ExprKind::Column { .. }
            | ExprKind::Literal(_)
            | ExprKind::Param(_)
            | ExprKind::Template(_)
            | ExprKind::Subquery { .. } => vec![],
            ExprKind::Neg(e) => vec![e],
            ExprKind::Field { tuple, .. } => vec![tuple],
            ExprKind::Binary { lhs, rhs, .. } | ExprKind::Str { lhs, rhs, .. } => vec![lhs, rhs],
            ExprKind::In { lhs, items, .. } => std::iter::once(&mut **lhs)
                .chain(items.iter_mut())
                .collect(),
            ExprKind::HasAny { lhs, terms, .. } => std::iter::once(&mut **lhs)
                .chain(terms.iter_mut())
                .collect(),
            ExprKind::Between { expr, lo, hi, .. } => vec![expr, lo, hi],
            ExprKind::Call { args, .. } => args.iter_mut().collect(),
        }
    }

    /// `lhs op rhs` for `and`/`or` (and the comparisons): a bool.
    pub fn logic(op: BinOp, lhs: Expr, rhs: Expr) -> Expr {
        Expr {
            kind: ExprKind::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            },
            ty: Type::Bool,
        }
    }

    /// Whether a tabular sub-query occurs in this expression.
    pub fn has_subquery(&self) -> bool {
        let mut found = false;
        self.walk(&mut |x| found |= matches!(x.kind, ExprKind::Subquery { .. }));
        found
    }

    /// This expression and every sub-expression, pre-order.
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        for c in self.children() {
            c.walk(f);
        }
    }

    /// Parameters and templates referenced, in order of first appearance.
    pub fn params(&self, out: &mut Vec<(String, Type)>) {
        if let ExprKind::Param(n) = &self.kind {
            if !out.iter().any(|(m, _)| m == n) {
                out.push((n.clone(), self.ty));
            }
        }
        if let ExprKind::Subquery { plan, .. } = &self.kind {
            let mut p = plan.as_ref().clone();
            p.exprs_mut(&mut |e| e.params(out));
        }
        for c in self.children() {
            c.params(out);
        }
    }
}

/// The typed parameters of a plan, in order of first appearance.
pub fn plan_params(plan: &Node) -> Vec<(String, Type)> {
    let mut out = Vec::new();
    let mut p = plan.clone();
    p.exprs_mut(&mut |e| e.params(&mut out));
    out
}
