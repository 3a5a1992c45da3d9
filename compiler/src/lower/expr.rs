//! Scalar expressions: name resolution, typing, KQL's comparison rules.

use super::{Binding, LResult, Lowerer, Scope};
use crate::diagnostics::{codes, Span};
use crate::ir::{BinOp, Expr, ExprKind, Func, Node, StrOp};
use crate::syntax::ast::{self, ExprKind as A, Lit};
use crate::types::Type;
use crate::value::{parse_datetime, Value};
use std::sync::Arc;

/// Types that may be compared as join keys (after numeric promotion).
pub fn join_compatible(a: Type, b: Type) -> bool {
    a == b || (a.is_numeric() && b.is_numeric()) || (is_stringish(a) && is_stringish(b))
}

fn is_stringish(t: Type) -> bool {
    matches!(t, Type::String | Type::Guid)
}

/// Checks an argument against a declared scalar parameter type. A `{{Name}}` parameter takes
/// the type it is used at.
pub fn coerce_arg(mut v: Expr, want: Type) -> Result<Expr, String> {
    if v.ty == want || (want == Type::Dynamic) {
        return Ok(v);
    }
    if matches!(v.kind, ExprKind::Param(_)) {
        v.ty = want;
        return Ok(v);
    }
    if want.is_numeric() && v.ty.is_numeric() || is_stringish(want) && is_stringish(v.ty) {
        return Ok(v);
    }
    Err(format!("expected a {want} argument, found {}", v.ty))
}

fn lit_string(s: &str) -> Expr {
    Expr::lit(Value::str(s), Type::String)
}

/// A string literal read as a value of type `want` (`EventID == "4688"`, `Flag == "true"`,
/// `Flag == 1`), where it is one.
fn literal_as(e: &Expr, want: Type) -> Option<Expr> {
    let ExprKind::Literal(v) = &e.kind else {
        return None;
    };
    let v = match (v, want) {
        (Value::String(s), t) if t.is_integer() => Value::Long(s.trim().parse().ok()?),
        (Value::String(s), Type::Real | Type::Decimal) => Value::Real(s.trim().parse().ok()?),
        (Value::String(s), Type::Bool) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return None,
        },
        (Value::Long(n @ (0 | 1)), Type::Bool) => Value::Bool(*n == 1),
        (Value::String(s), Type::DateTime) => Value::DateTime(parse_datetime(s)?),
        (Value::String(s), Type::Timespan) => Value::Timespan(crate::value::parse_timespan(s)?),
        _ => return None,
    };
    Some(Expr::lit(
        v,
        if want == Type::Int { Type::Long } else { want },
    ))
}

/// A numeric literal compared with a string column compares as its text (docs/semantics.md).
fn numeric_literal_as_string(e: &Expr) -> Option<Expr> {
    match &e.kind {
        ExprKind::Literal(Value::Long(n)) => Some(lit_string(&n.to_string())),
        ExprKind::Literal(Value::Real(x)) => Some(lit_string(&crate::value::format_real(*x))),
        ExprKind::Neg(inner) => match &inner.kind {
            ExprKind::Literal(Value::Long(n)) => Some(lit_string(&(-n).to_string())),
            _ => None,
        },
        _ => None,
    }
}

/// A string operand: numeric literals become their text (KQL compares them as strings); any
/// other non-string is a type error with `message(type)`.
fn string_operand(
    l: &mut Lowerer,
    v: Expr,
    span: Span,
    message: impl Fn(Type) -> String,
) -> LResult<Expr> {
    let v = if v.ty.is_numeric() {
        match numeric_literal_as_string(&v) {
            Some(t) => {
                warn_number_as_text(l, span);
                t
            }
            None => v,
        }
    } else {
        v
    };
    if !is_stringish(v.ty) {
        return Err(l.err(codes::TYPE, span, message(v.ty)));
    }
    Ok(v)
}

/// DL021 (warning, once per span): a string compared with numeric literals compares their
/// text, so `ResultType in (50074)` is exact-text matching that a reader may not expect.
fn warn_number_as_text(l: &mut Lowerer, span: Span) {
    let dup = l
        .diags
        .iter()
        .any(|d| d.code == codes::NUMBER_AS_TEXT && d.span == Some(span));
    if !dup {
        l.diags.push(
            crate::diagnostics::Diagnostic::warning(
                codes::NUMBER_AS_TEXT,
                "a string is compared with a number: the number is compared as its text",
            )
            .with_span(span)
            .with_note(
                "write the values as strings (\"50074\") to say so; \"050074\" would not match",
            ),
        );
    }
}

/// Requires an argument of type `t` (a parameter takes it).
fn need(l: &mut Lowerer, e: &Expr, t: Type, span: Span) -> LResult<()> {
    if e.ty == t || matches!(e.kind, ExprKind::Param(_)) || (t.is_numeric() && e.ty.is_numeric()) {
        Ok(())
    } else {
        Err(l.err(codes::TYPE, span, format!("expected {t}, found {}", e.ty)))
    }
}

/// Native-only functions: name, function, arity, result type. Argument types are checked
/// at run time (a wrong kind of value gives null).
const EXTRA: &[(&str, Func, usize, usize, Type)] = &[
    ("countof", Func::CountOf, 2, 3, Type::Long),
    ("parse_url", Func::ParseUrl, 1, 1, Type::Dynamic),
    ("parseurl", Func::ParseUrl, 1, 1, Type::Dynamic),
    ("ipv4_is_match", Func::Ipv4IsMatch, 2, 3, Type::Bool),
    ("range", Func::Range, 2, 3, Type::Dynamic),
    // The range's prefix masks both addresses: the same test as ipv4_is_match.
    ("ipv4_is_in_range", Func::Ipv4IsMatch, 2, 2, Type::Bool),
    (
        "base64_decode_tostring",
        Func::Base64Decode,
        1,
        1,
        Type::String,
    ),
    (
        "base64_decodestring",
        Func::Base64Decode,
        1,
        1,
        Type::String,
    ),
    (
        "base64_encode_tostring",
        Func::Base64Encode,
        1,
        1,
        Type::String,
    ),
    (
        "base64_encodestring",
        Func::Base64Encode,
        1,
        1,
        Type::String,
    ),
    ("extractjson", Func::ExtractJson, 2, 3, Type::String),
    ("extract_json", Func::ExtractJson, 2, 3, Type::String),
    ("extract_all", Func::ExtractAll, 2, 3, Type::Dynamic),
    ("bag_keys", Func::BagKeys, 1, 1, Type::Dynamic),
    ("url_decode", Func::UrlDecode, 1, 1, Type::String),
    ("url_encode", Func::UrlEncode, 1, 1, Type::String),
    ("url_encode_component", Func::UrlEncode, 1, 1, Type::String),
    ("trim_start", Func::TrimStart, 2, 2, Type::String),
    ("trim_end", Func::TrimEnd, 2, 2, Type::String),
    ("string_size", Func::StringSize, 1, 1, Type::Long),
    ("strcat_array", Func::StrcatArray, 2, 2, Type::String),
    ("array_strcat", Func::StrcatArray, 2, 2, Type::String),
    ("set_union", Func::SetUnion, 2, 64, Type::Dynamic),
    ("set_difference", Func::SetDifference, 2, 64, Type::Dynamic),
    ("set_intersect", Func::SetIntersect, 2, 64, Type::Dynamic),
    ("reverse", Func::Reverse, 1, 1, Type::String),
    ("format_datetime", Func::FormatDatetime, 2, 2, Type::String),
    ("datetime_part", Func::DatetimePart, 2, 2, Type::Long),
    ("datepart", Func::DatetimePart, 2, 2, Type::Long),
    ("datetime_add", Func::DatetimeAdd, 3, 3, Type::DateTime),
    ("array_slice", Func::ArraySlice, 3, 3, Type::Dynamic),
    ("translate", Func::Translate, 3, 3, Type::String),
    ("ingestion_time", Func::IngestionTime, 0, 0, Type::DateTime),
    ("array_index_of", Func::ArrayIndexOf, 2, 2, Type::Long),
    ("isascii", Func::IsAscii, 1, 1, Type::Bool),
    ("dynamic_to_json", Func::DynamicToJson, 1, 1, Type::String),
    ("parse_xml", Func::ParseXml, 1, 1, Type::Dynamic),
    ("parse_urlquery", Func::ParseUrlQuery, 1, 1, Type::Dynamic),
    ("parse_path", Func::ParsePath, 1, 1, Type::Dynamic),
    ("hash", Func::Hash, 1, 2, Type::Long),
    (
        "unicode_codepoints_to_string",
        Func::CodepointsToString,
        1,
        64,
        Type::String,
    ),
    ("make_string", Func::CodepointsToString, 1, 64, Type::String),
    (
        "base64_decode_toarray",
        Func::Base64DecodeToArray,
        1,
        1,
        Type::Dynamic,
    ),
    ("hash_xxhash64", Func::Hash, 1, 2, Type::Long),
    // Several values each: only as `(a, b, ...) = f(...)` or a bare `extend f(...)`.
    ("series_fit_line", Func::SeriesFitLine, 1, 1, Type::Dynamic),
    (
        "series_decompose",
        Func::SeriesDecompose,
        1,
        5,
        Type::Dynamic,
    ),
    (
        "series_decompose_anomalies",
        Func::SeriesDecomposeAnomalies,
        1,
        7,
        Type::Dynamic,
    ),
];

/// The column `evaluate bag_unpack` leaves: the bag, under a name no query can collide with.
pub const UNPACKED: &str = "bag_unpack(";

/// `name` read from the bag an `evaluate bag_unpack(col, prefix)` left in `row`: the key's
/// value (dynamic; null where a row lacks it). Keys are known only at run time, so any name
/// with the prefix resolves (a declared approximation, docs/semantics.md).
pub(super) fn unpacked_key(row: &Node, name: &str) -> Option<Expr> {
    let (index, col) = row
        .schema
        .iter()
        .enumerate()
        .rev()
        .find(|(_, c)| c.name.starts_with(UNPACKED))?;
    let prefix = unpacked_prefix(&col.name);
    let key = name.strip_prefix(prefix.as_str())?;
    Some(Expr {
        kind: ExprKind::Call {
            func: Func::GetItem,
            args: vec![
                Expr {
                    kind: ExprKind::Column {
                        index,
                        name: col.name.clone(),
                    },
                    ty: Type::Dynamic,
                },
                Expr::lit(Value::str(key), Type::String),
            ],
        },
        ty: Type::Dynamic,
    })
}

/// Whether `e` reads a key of an unpacked bag (see [`unpacked_key`]).
pub(super) fn is_unpacked_key(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Call { func: Func::GetItem, args }
        if matches!(&args[0].kind, ExprKind::Column { name, .. } if name.starts_with(UNPACKED)))
}

/// `e` converted to `ty` with the matching `to*()` function; a string stays a string for
/// `string`/`guid` and a dynamic value stays dynamic for `dynamic` (text is parsed by
/// `todynamic`). Used for `typeof(T)` captures, typed `parse` columns and unpacked keys.
/// Gives the result values of `iff`/`case` (the arguments at `values`) one type, as
/// Kusto.Language types the call: dynamic values next to typed ones are converted to the typed
/// ones' type (`iff(c, dynamic('a'), 'b')` is a string, docs/semantics.md), and numbers widen
/// (`int` with `long` to `long`, any `real` to `real`). Values whose types still disagree are
/// left for the caller's type check.
fn unify_values(a: &mut [Expr], values: &[usize]) {
    let typed: Vec<Type> = values
        .iter()
        .map(|&i| a[i].ty)
        .filter(|t| *t != Type::Dynamic)
        .collect();
    let Some(&first) = typed.first() else {
        return;
    };
    let target = if typed.iter().all(|t| t.is_numeric()) {
        if typed
            .iter()
            .any(|t| matches!(t, Type::Real | Type::Decimal))
        {
            Type::Real
        } else if typed.iter().any(|t| *t != first) {
            Type::Long
        } else {
            first
        }
    } else if typed.iter().all(|t| comparable(*t, first)) {
        first
    } else {
        return;
    };
    for &i in values {
        if a[i].ty != target {
            a[i] = convert_to(a[i].clone(), target);
        }
    }
}

pub(super) fn convert_to(e: Expr, ty: Type) -> Expr {
    let func = match ty {
        Type::String | Type::Guid if e.ty == Type::String => return e,
        Type::String | Type::Guid => Func::ToString,
        Type::Long => Func::ToLong,
        Type::Int => Func::ToInt,
        Type::Real | Type::Decimal => Func::ToReal,
        Type::DateTime => Func::ToDateTime,
        Type::Bool => Func::ToBool,
        Type::Timespan => Func::ToTimespan,
        Type::Dynamic if e.ty == Type::Dynamic => return e,
        Type::Dynamic => Func::ToDynamic,
    };
    Expr {
        kind: ExprKind::Call {
            func,
            args: vec![e],
        },
        ty,
    }
}

/// The prefix recorded in a `bag_unpack(col, 'prefix')` column name.
pub fn unpacked_prefix(name: &str) -> String {
    match name.find(", '") {
        Some(i) => name[i + 3..name.len() - 2].to_string(),
        None => String::new(),
    }
}

/// Why detc's native run of a series function may differ from Kusto's, if it may.
fn series_approximation(func: Func, args: &[Expr]) -> Option<&'static str> {
    let autodetect = |i: usize| match args.get(i).map(|e| &e.kind) {
        None => true,
        Some(ExprKind::Literal(Value::Long(n))) => *n == -1,
        Some(ExprKind::Neg(x)) => matches!(x.kind, ExprKind::Literal(Value::Long(1))),
        _ => true,
    };
    match func {
        Func::SeriesDecompose if autodetect(1) => {
            Some("seasonality autodetection (-1) finds no period")
        }
        Func::SeriesDecomposeAnomalies if autodetect(2) => Some(
            "seasonality autodetection (-1) finds no period, and the Tukey score's scale is detc's",
        ),
        Func::SeriesDecomposeAnomalies => Some("the Tukey score's scale is detc's"),
        _ => None,
    }
}

/// A function giving several values (`(a, b) = f(...)`).
pub(super) fn is_several_valued(name: &str) -> bool {
    EXTRA
        .iter()
        .any(|e| e.0 == name && !e.1.fields().is_empty())
}

fn func_by_name(name: &str) -> Option<Func> {
    Some(match name {
        "tolower" => Func::ToLower,
        "toupper" => Func::ToUpper,
        "tostring" => Func::ToString,
        "todatetime" => Func::ToDateTime,
        "tolong" => Func::ToLong,
        "toint" => Func::ToInt,
        "toreal" | "todouble" => Func::ToReal,
        "tobool" | "toboolean" => Func::ToBool,
        "todynamic" | "parse_json" => Func::ToDynamic,
        "strlen" => Func::Strlen,
        "strcat" => Func::Strcat,
        "isempty" => Func::IsEmpty,
        "isnotempty" => Func::IsNotEmpty,
        "isnull" => Func::IsNull,
        "isnotnull" => Func::IsNotNull,
        "iff" | "iif" => Func::Iff,
        "coalesce" => Func::Coalesce,
        "max_of" => Func::MaxOf,
        "min_of" => Func::MinOf,
        "not" => Func::Not,
        "now" => Func::Now,
        "ago" => Func::Ago,
        "array_length" | "arraylength" => Func::ArrayLength,
        "datetime_diff" => Func::DatetimeDiff,
        "todecimal" => Func::ToReal,
        "bin" | "floor" => Func::Bin,
        "startofday" => Func::StartOfDay,
        "endofday" => Func::EndOfDay,
        "extract" => Func::Extract,
        "split" => Func::Split,
        "pack_array" => Func::PackArray,
        "pack" | "bag_pack" => Func::BagPack,
        "case" => Func::Case,
        "totimespan" | "totime" => Func::ToTimespan,
        "replace" | "replace_regex" => Func::ReplaceRegex,
        "replace_string" => Func::ReplaceString,
        "substring" => Func::Substring,
        "ipv4_is_private" => Func::Ipv4IsPrivate,
        "array_concat" => Func::ArrayConcat,
        "set_has_element" => Func::SetHasElement,
        "trim" => Func::Trim,
        "indexof" => Func::IndexOf,
        // Typed conversion spellings: `double(x)`, `int(x)`, `long(x)` on a non-literal.
        "double" | "real" => Func::ToReal,
        "int" => Func::ToInt,
        "long" => Func::ToLong,
        "hourofday" => Func::HourOfDay,
        "dayofweek" => Func::DayOfWeek,
        "abs" => Func::Abs,
        "log10" => Func::Log10,
        "round" => Func::Round,
        "tohex" => Func::ToHex,
        "parsejson" => Func::ToDynamic,
        "notempty" => Func::IsNotEmpty,
        "empty" => Func::IsEmpty,
        _ => return None,
    })
}

/// A scalar let-function call, inlined: parameters bind to the caller's argument
/// expressions (which may read the caller's row), then the body's result is lowered.
fn scalar_function(
    l: &mut Lowerer,
    f: &ast::Function,
    fscope: &Scope,
    args: &[ast::Arg],
    span: Span,
    row: Option<&Node>,
    caller: &Scope,
) -> LResult<Expr> {
    l.check_call(f, args, span)?;
    let mut inner = fscope.clone();
    for (i, p) in f.params.iter().enumerate() {
        let v = match (args.get(i), &p.default) {
            (Some(a), _) => lower_scalar(l, &a.value, row, caller)?,
            (None, Some(d)) => lower_scalar(l, d, None, fscope)?,
            (None, None) => {
                return Err(l.err(
                    codes::ARGUMENTS,
                    span,
                    format!("missing argument `{}`", p.name.name),
                ))
            }
        };
        let v = match &p.ty {
            Some(ty) => {
                let want = Type::parse(&ty.name).ok_or_else(|| {
                    l.err(codes::TYPE, ty.span, format!("unknown type `{}`", ty.name))
                })?;
                coerce_arg(v, want).map_err(|m| l.err(codes::TYPE, span, m))?
            }
            None => return Err(l.err(codes::TYPE, span, "a tabular parameter in a scalar call")),
        };
        inner.insert(p.name.name.clone(), Binding::Scalar(v));
    }
    l.depth += 1;
    let mut result = None;
    for st in &f.body {
        match st {
            ast::Statement::Let { name, value, .. } => {
                let b = match value {
                    ast::LetValue::Function(g) => {
                        Binding::Function(Arc::new(g.clone()), inner.clone())
                    }
                    ast::LetValue::Expr(e) => Binding::Scalar(lower_scalar(l, e, None, &inner)?),
                };
                inner.insert(name.name.clone(), b);
            }
            ast::Statement::Expr(e) => result = Some(lower_scalar(l, e, None, &inner)),
            ast::Statement::Directive { .. } => {}
        }
    }
    l.depth -= 1;
    match result {
        Some(r) => r,
        None => Err(l.err(
            codes::TYPE,
            span,
            "the function body has no result expression",
        )),
    }
}

/// A tabular expression read as values (its first column).
fn subquery(l: &mut Lowerer, e: &ast::Expr, scope: &Scope, scalar: bool) -> LResult<Expr> {
    let plan = l.tabular(e, scope)?;
    let Some(first) = plan.schema.first() else {
        return Err(l.err(codes::TYPE, e.span, "the sub-query has no columns"));
    };
    let ty = first.ty;
    Ok(Expr {
        kind: ExprKind::Subquery {
            plan: Box::new(plan),
            scalar,
        },
        ty,
    })
}

/// `x.name`, `x["name"]`, `x[i]`: the base must be dynamic.
fn get_item(l: &mut Lowerer, base: Expr, idx: Expr, span: Span) -> LResult<Expr> {
    // A string column read as dynamic is parsed as JSON first (docs/semantics.md): several
    // tables turned dynamic columns into strings after the rules were written.
    let base = match base.ty {
        Type::Dynamic => base,
        Type::String => Expr {
            kind: ExprKind::Call {
                func: Func::ToDynamic,
                args: vec![base],
            },
            ty: Type::Dynamic,
        },
        t => {
            return Err(l.err(
                codes::TYPE,
                span,
                format!("property access needs a dynamic value, found {t}"),
            ))
        }
    };
    if !(is_stringish(idx.ty) || idx.ty.is_integer()) {
        return Err(l.err(
            codes::TYPE,
            span,
            format!("an index must be a string or an integer, found {}", idx.ty),
        ));
    }
    Ok(Expr {
        kind: ExprKind::Call {
            func: Func::GetItem,
            args: vec![base, idx],
        },
        ty: Type::Dynamic,
    })
}

/// A constant regular expression must compile (the Rust regex dialect, which Kusto uses).
fn check_regex(l: &mut Lowerer, e: &Expr, span: Span) -> LResult<()> {
    if let ExprKind::Literal(Value::String(p)) = &e.kind {
        if let Err(x) = regex::Regex::new(p) {
            return Err(l.err(
                codes::TYPE,
                span,
                format!("invalid regular expression: {x}"),
            ));
        }
    }
    Ok(())
}

pub(super) fn lower_scalar(
    l: &mut Lowerer,
    e: &ast::Expr,
    row: Option<&Node>,
    scope: &Scope,
) -> LResult<Expr> {
    let err = |l: &mut Lowerer, code, span: Span, msg: String| Err(l.err(code, span, msg));
    match &e.kind {
        A::Name(n) => {
            if let Some((index, c)) = row.and_then(|r| r.column(n)) {
                return Ok(Expr {
                    kind: ExprKind::Column {
                        index,
                        name: n.clone(),
                    },
                    ty: c.ty,
                });
            }
            match scope.names.get(n) {
                Some(Binding::Scalar(v)) => Ok(v.clone()),
                Some(Binding::Tabular(_)) | Some(Binding::LazyTabular(..)) => err(
                    l,
                    codes::TYPE,
                    e.span,
                    format!("`{n}` is a table, but a scalar is expected here"),
                ),
                Some(Binding::Function(..)) => err(
                    l,
                    codes::TYPE,
                    e.span,
                    format!("`{n}` is a function; call it with `{n}(...)`"),
                ),
                None => match row {
                    Some(r) => match unpacked_key(r, n) {
                        Some(v) => Ok(v),
                        None => Err(l.unknown_column(n, e.span, r)),
                    },
                    None => err(
                        l,
                        codes::UNKNOWN_NAME,
                        e.span,
                        format!("unknown name `{n}`"),
                    ),
                },
            }
        }
        A::Lit(lit) => literal(l, lit, e.span),
        A::Placeholder(name) => Ok(Expr {
            kind: ExprKind::Param(name.clone()),
            ty: Type::String,
        }),
        A::Dynamic(j) => Ok(Expr::lit(
            Value::Dynamic(Arc::new(j.clone())),
            Type::Dynamic,
        )),
        A::Unary { op, expr } => {
            let v = lower_scalar(l, expr, row, scope)?;
            if !(v.ty.is_numeric() || v.ty == Type::Timespan) {
                return err(
                    l,
                    codes::TYPE,
                    e.span,
                    format!("unary `{op}` needs a number, found {}", v.ty),
                );
            }
            if op == "+" {
                return Ok(v);
            }
            let ty = v.ty;
            Ok(Expr {
                kind: ExprKind::Neg(Box::new(v)),
                ty,
            })
        }
        A::Binary { op, lhs, rhs } => binary(l, op, lhs, rhs, e.span, row, scope),
        A::Between {
            expr,
            lo,
            hi,
            negated,
        } => {
            let x = lower_scalar(l, expr, row, scope)?;
            let lo = lower_scalar(l, lo, row, scope)?;
            let mut hi = lower_scalar(l, hi, row, scope)?;
            // `d between (start .. 3d)` means [start, start + 3d].
            if x.ty == Type::DateTime && lo.ty == Type::DateTime && hi.ty == Type::Timespan {
                hi = Expr {
                    kind: ExprKind::Binary {
                        op: BinOp::Add,
                        lhs: Box::new(lo.clone()),
                        rhs: Box::new(hi),
                    },
                    ty: Type::DateTime,
                };
            }
            for b in [&lo, &hi] {
                let ok = (x.ty.is_numeric() && b.ty.is_numeric()) || x.ty == b.ty;
                if !ok {
                    return err(
                        l,
                        codes::TYPE,
                        e.span,
                        format!("`between` compares {} with {}", x.ty, b.ty),
                    );
                }
            }
            if !(x.ty.is_numeric() || matches!(x.ty, Type::DateTime | Type::Timespan)) {
                return err(
                    l,
                    codes::TYPE,
                    expr.span,
                    format!(
                        "`between` needs a number, datetime or timespan, found {}",
                        x.ty
                    ),
                );
            }
            Ok(Expr {
                kind: ExprKind::Between {
                    expr: Box::new(x),
                    lo: Box::new(lo),
                    hi: Box::new(hi),
                    negated: *negated,
                },
                ty: Type::Bool,
            })
        }
        A::List { op, expr, items } => list(l, op, expr, items, e.span, row, scope),
        A::Call { name, args } => call(l, name, args, e.span, row, scope),
        A::JoinSide { .. } => err(
            l,
            codes::KQL_SYNTAX,
            e.span,
            "`$left`/`$right` only appear in join conditions".into(),
        ),
        A::Member { expr, name } => {
            let base = lower_scalar(l, expr, row, scope)?;
            get_item(l, base, lit_string(&name.name), e.span)
        }
        A::Index { expr, index } => {
            let base = lower_scalar(l, expr, row, scope)?;
            let idx = lower_scalar(l, index, row, scope)?;
            get_item(l, base, idx, e.span)
        }
        A::Star => err(
            l,
            codes::KQL_SYNTAX,
            e.span,
            "`*` is not allowed here".into(),
        ),
        A::Pipe { .. } | A::Source(_) => err(
            l,
            codes::TYPE,
            e.span,
            "a tabular expression cannot be used as a scalar".into(),
        ),
        A::Error => Err(super::Reported),
    }
}

fn literal(l: &mut Lowerer, lit: &Lit, span: Span) -> LResult<Expr> {
    Ok(match lit {
        Lit::Str(s) => {
            let t = s.trim();
            if let Some(inner) = t.strip_prefix("{{").and_then(|r| r.strip_suffix("}}")) {
                if t == s && !inner.contains("{{") && !inner.contains("}}") {
                    return Ok(Expr {
                        kind: ExprKind::Param(inner.trim().to_string()),
                        ty: Type::String,
                    });
                }
            }
            if s.contains("{{") {
                return Ok(Expr {
                    kind: ExprKind::Template(s.clone()),
                    ty: Type::String,
                });
            }
            lit_string(s)
        }
        Lit::Long(n) => Expr::lit(Value::Long(*n), Type::Long),
        Lit::Real(x) => Expr::lit(Value::Real(*x), Type::Real),
        Lit::Bool(b) => Expr::lit(Value::Bool(*b), Type::Bool),
        Lit::Timespan(t) => Expr::lit(Value::Timespan(*t), Type::Timespan),
        Lit::Null => Expr::lit(Value::Null, Type::Dynamic),
        Lit::Typed(word, raw) => {
            let ty = Type::parse(word).unwrap_or(Type::String);
            if raw == "null" {
                return Ok(Expr::lit(Value::Null, ty));
            }
            match ty {
                Type::DateTime => match parse_datetime(raw) {
                    Some(t) => Expr::lit(Value::DateTime(t), Type::DateTime),
                    None => {
                        return Err(l.err(
                            codes::TYPE,
                            span,
                            format!("bad datetime literal `{raw}`"),
                        ))
                    }
                },
                Type::Guid => Expr::lit(Value::str(raw), Type::Guid),
                Type::Timespan => match crate::value::parse_timespan(raw) {
                    Some(t) => Expr::lit(Value::Timespan(t), Type::Timespan),
                    None => {
                        return Err(l.err(
                            codes::TYPE,
                            span,
                            format!("bad timespan literal `{raw}`"),
                        ))
                    }
                },
                _ => {
                    return Err(l.err(
                        codes::UNSUPPORTED,
                        span,
                        format!("`{word}(...)` literals are not supported yet"),
                    ))
                }
            }
        }
    })
}

fn binary(
    l: &mut Lowerer,
    op: &str,
    lhs: &ast::Expr,
    rhs: &ast::Expr,
    span: Span,
    row: Option<&Node>,
    scope: &Scope,
) -> LResult<Expr> {
    let a = lower_scalar(l, lhs, row, scope)?;
    let b = lower_scalar(l, rhs, row, scope)?;
    let type_err = |l: &mut Lowerer, msg: String| Err(l.err(codes::TYPE, span, msg));
    let bin = |op, a: Expr, b: Expr, ty| Expr {
        kind: ExprKind::Binary {
            op,
            lhs: Box::new(a),
            rhs: Box::new(b),
        },
        ty,
    };
    match op {
        "and" | "or" => {
            if a.ty != Type::Bool || b.ty != Type::Bool {
                return type_err(
                    l,
                    format!("`{op}` needs bool operands, found {} and {}", a.ty, b.ty),
                );
            }
            Ok(bin(
                if op == "and" { BinOp::And } else { BinOp::Or },
                a,
                b,
                Type::Bool,
            ))
        }
        "==" | "!=" => {
            let negated = op == "!=";
            if is_stringish(a.ty) {
                let b = if b.ty.is_numeric() {
                    match numeric_literal_as_string(&b) {
                        Some(t) => {
                            warn_number_as_text(l, span);
                            t
                        }
                        None => b,
                    }
                } else {
                    b
                };
                if is_stringish(b.ty) || b.ty == Type::Dynamic {
                    return Ok(str_op(StrOp::Equals, true, negated, a, b));
                }
                return type_err(l, format!("cannot compare {} with {}", a.ty, b.ty));
            }
            // A dynamic value compared with a string compares as its text.
            if a.ty == Type::Dynamic && is_stringish(b.ty) {
                return Ok(str_op(StrOp::Equals, true, negated, a, b));
            }
            // A string literal compared with a number or bool is read as one (docs/semantics.md).
            let b = literal_as(&b, a.ty).unwrap_or(b);
            if !(comparable(a.ty, b.ty) || a.ty == Type::Dynamic || b.ty == Type::Dynamic) {
                return type_err(l, format!("cannot compare {} with {}", a.ty, b.ty));
            }
            Ok(bin(
                if negated { BinOp::Ne } else { BinOp::Eq },
                a,
                b,
                Type::Bool,
            ))
        }
        "<" | "<=" | ">" | ">=" => {
            let b = literal_as(&b, a.ty).unwrap_or(b);
            let dynamic_number = (a.ty == Type::Dynamic
                && (b.ty.is_numeric() || b.ty == Type::Dynamic))
                || (b.ty == Type::Dynamic && a.ty.is_numeric());
            if !(comparable(a.ty, b.ty) || dynamic_number) || a.ty == Type::Bool {
                return type_err(l, format!("`{op}` cannot compare {} with {}", a.ty, b.ty));
            }
            let op = match op {
                "<" => BinOp::Lt,
                "<=" => BinOp::Le,
                ">" => BinOp::Gt,
                _ => BinOp::Ge,
            };
            Ok(bin(op, a, b, Type::Bool))
        }
        "+" | "-" | "*" | "/" | "%" => {
            let ty = arith_type(op, a.ty, b.ty);
            let Some(ty) = ty else {
                return type_err(
                    l,
                    format!("`{op}` is not defined for {} and {}", a.ty, b.ty),
                );
            };
            let op = match op {
                "+" => BinOp::Add,
                "-" => BinOp::Sub,
                "*" => BinOp::Mul,
                "/" => BinOp::Div,
                _ => BinOp::Mod,
            };
            Ok(bin(op, a, b, ty))
        }
        "matches regex" => {
            if !(is_stringish(a.ty) || a.ty == Type::Dynamic) || !is_stringish(b.ty) {
                return type_err(
                    l,
                    format!("`matches regex` needs strings, found {} and {}", a.ty, b.ty),
                );
            }
            check_regex(l, &b, span)?;
            Ok(Expr {
                kind: ExprKind::Call {
                    func: Func::MatchesRegex,
                    args: vec![a, b],
                },
                ty: Type::Bool,
            })
        }
        _ => {
            let (negated, word) = match op.strip_prefix('!') {
                Some(w) => (true, w),
                None => (false, op),
            };
            let (word, cs) = match word.strip_suffix("_cs") {
                Some(w) => (w, true),
                None => (word, false),
            };
            let (sop, negated, cs) = match word {
                "=~" => (StrOp::Equals, false, false),
                "~" => (StrOp::Equals, true, false), // `!~`
                "has" => (StrOp::Has, negated, cs),
                "hasprefix" => (StrOp::HasPrefix, negated, cs),
                "hassuffix" => (StrOp::HasSuffix, negated, cs),
                "contains" => (StrOp::Contains, negated, cs),
                "notcontains" => (StrOp::Contains, true, false),
                "notcontainscs" => (StrOp::Contains, true, true),
                "startswith" => (StrOp::StartsWith, negated, cs),
                "endswith" => (StrOp::EndsWith, negated, cs),
                _ => {
                    return Err(l.err(
                        codes::UNSUPPORTED,
                        span,
                        format!("operator `{op}` is not supported yet"),
                    ))
                }
            };
            if !(is_stringish(a.ty) || a.ty == Type::Dynamic) {
                return type_err(
                    l,
                    format!("`{op}` needs a string on its left, found {}", a.ty),
                );
            }
            let b = string_operand(l, b, span, |t| {
                format!("`{op}` needs a string on its right, found {t}")
            })?;
            Ok(str_op(sop, cs, negated, a, b))
        }
    }
}

fn str_op(op: StrOp, cs: bool, negated: bool, a: Expr, b: Expr) -> Expr {
    Expr {
        kind: ExprKind::Str {
            op,
            cs,
            negated,
            lhs: Box::new(a),
            rhs: Box::new(b),
        },
        ty: Type::Bool,
    }
}

fn comparable(a: Type, b: Type) -> bool {
    a == b || (a.is_numeric() && b.is_numeric()) || (is_stringish(a) && is_stringish(b))
}

fn arith_type(op: &str, a: Type, b: Type) -> Option<Type> {
    use Type::*;
    if a.is_numeric() && b.is_numeric() {
        return Some(if a == Real || b == Real || a == Decimal || b == Decimal {
            Real
        } else if a == Int && b == Int {
            Int
        } else {
            Long
        });
    }
    match (op, a, b) {
        ("-", DateTime, DateTime) => Some(Timespan),
        ("+" | "-", DateTime, Timespan) => Some(DateTime),
        ("+", Timespan, DateTime) => Some(DateTime),
        ("+" | "-", Timespan, Timespan) => Some(Timespan),
        ("*" | "/", Timespan, Long | Int | Real) => Some(Timespan),
        ("/", Timespan, Timespan) => Some(Real),
        _ => None,
    }
}

fn list(
    l: &mut Lowerer,
    op: &str,
    lhs: &ast::Expr,
    items: &[ast::Expr],
    span: Span,
    row: Option<&Node>,
    scope: &Scope,
) -> LResult<Expr> {
    let a = lower_scalar(l, lhs, row, scope)?;
    let mut vals = Vec::new();
    for it in items {
        if l.is_tabular(it, scope) {
            vals.push(subquery(l, it, scope, false)?);
            continue;
        }
        let v = lower_scalar(l, it, row, scope)?;
        // A dynamic array literal contributes its elements (nested arrays are flattened).
        if let ExprKind::Literal(Value::Dynamic(j)) = &v.kind {
            flatten_json(j, &mut vals);
            continue;
        }
        vals.push(v);
    }
    // A dynamic left side compares as its text, as string operators do (docs/semantics.md).
    let a = if a.ty == Type::Dynamic && op.contains("in") && !op.starts_with("has") {
        Expr {
            kind: ExprKind::Call {
                func: Func::ToString,
                args: vec![a],
            },
            ty: Type::String,
        }
    } else {
        a
    };
    match op {
        "in" | "!in" | "in~" | "!in~" => {
            let cs = !op.ends_with('~');
            let negated = op.starts_with('!');
            if is_stringish(a.ty) {
                let mut out = Vec::new();
                for v in vals {
                    if v.ty == Type::Dynamic {
                        out.push(v); // an array computed at run time: its elements
                        continue;
                    }
                    out.push(string_operand(l, v, span, |t| {
                        format!("`{op}` compares a string with {t}")
                    })?);
                }
                vals = out;
            } else if !cs {
                return Err(l.err(
                    codes::TYPE,
                    span,
                    format!("`{op}` needs a string on its left, found {}", a.ty),
                ));
            } else if a.ty == Type::Dynamic {
                return Err(l.err(codes::UNSUPPORTED, span, "`in` with a dynamic left side is undefined in KQL's documentation; use set_has_element() or has"));
            } else {
                vals = vals
                    .into_iter()
                    .map(|v| literal_as(&v, a.ty).unwrap_or(v))
                    .collect();
                for v in &vals {
                    if !comparable(a.ty, v.ty) && v.ty != Type::Dynamic {
                        return Err(l.err(
                            codes::TYPE,
                            span,
                            format!("`{op}` compares {} with {}", a.ty, v.ty),
                        ));
                    }
                }
            }
            Ok(Expr {
                kind: ExprKind::In {
                    lhs: Box::new(a),
                    items: vals,
                    cs,
                    negated,
                },
                ty: Type::Bool,
            })
        }
        _ => {
            let all = op.starts_with("has_all");
            let cs = op.ends_with("_cs");
            if !(is_stringish(a.ty) || a.ty == Type::Dynamic) {
                return Err(l.err(
                    codes::TYPE,
                    span,
                    format!("`{op}` needs a string or dynamic left side, found {}", a.ty),
                ));
            }
            let mut terms = Vec::new();
            for v in vals {
                if v.ty == Type::Dynamic {
                    terms.push(v);
                    continue;
                }
                terms.push(string_operand(l, v, span, |t| {
                    format!("`{op}` terms must be strings, found {t}")
                })?);
            }
            Ok(Expr {
                kind: ExprKind::HasAny {
                    lhs: Box::new(a),
                    terms,
                    all,
                    cs,
                },
                ty: Type::Bool,
            })
        }
    }
}

fn flatten_json(j: &serde_json::Value, out: &mut Vec<Expr>) {
    match j {
        serde_json::Value::Array(items) => items.iter().for_each(|i| flatten_json(i, out)),
        serde_json::Value::String(s) => out.push(lit_string(s)),
        serde_json::Value::Number(n) => out.push(match n.as_i64() {
            Some(i) => Expr::lit(Value::Long(i), Type::Long),
            None => Expr::lit(Value::Real(n.as_f64().unwrap_or(f64::NAN)), Type::Real),
        }),
        serde_json::Value::Bool(b) => out.push(Expr::lit(Value::Bool(*b), Type::Bool)),
        other => out.push(Expr::lit(
            Value::Dynamic(Arc::new(other.clone())),
            Type::Dynamic,
        )),
    }
}

/// `ipv4_is_in_any_range(ip, ranges...)`: `ipv4_is_in_range` of each range, or-ed; the
/// ranges are strings or a constant dynamic array of them.
fn ipv4_in_any_range(
    l: &mut Lowerer,
    args: &[ast::Arg],
    row: Option<&Node>,
    scope: &Scope,
) -> LResult<Expr> {
    let ip = lower_scalar(l, &args[0].value, row, scope)?;
    let mut ranges = Vec::new();
    for a in &args[1..] {
        let r = lower_scalar(l, &a.value, row, scope)?;
        match (&r.kind, r.ty) {
            (_, Type::String) => ranges.push(r),
            (ExprKind::Literal(crate::value::Value::Dynamic(d)), _) if d.is_array() => {
                for e in d.as_array().expect("checked") {
                    let text = match e {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    ranges.push(Expr::lit(crate::value::Value::str(&text), Type::String));
                }
            }
            _ => {
                return Err(l.err(
                    codes::UNSUPPORTED,
                    a.value.span,
                    "ipv4_is_in_any_range() with ranges computed at run time is not supported yet",
                ))
            }
        }
    }
    let tests = ranges.into_iter().map(|r| Expr {
        kind: ExprKind::Call {
            func: Func::Ipv4IsMatch,
            args: vec![ip.clone(), r],
        },
        ty: Type::Bool,
    });
    let any = tests.reduce(|a, b| crate::ir::Expr::logic(crate::ir::BinOp::Or, a, b));
    Ok(any.unwrap_or_else(|| Expr::lit(crate::value::Value::Bool(false), Type::Bool)))
}

fn call(
    l: &mut Lowerer,
    name: &ast::Ident,
    args: &[ast::Arg],
    span: Span,
    row: Option<&Node>,
    scope: &Scope,
) -> LResult<Expr> {
    if let Some(Binding::Function(f, fscope)) = scope.names.get(&name.name) {
        let (f, fscope) = (f.clone(), fscope.clone());
        return scalar_function(l, &f, &fscope, args, span, row, scope);
    }
    // `extract(re, g, text, typeof(T))` and `extract_json(path, json, typeof(T))`: the
    // string result converted to T.
    let typed_at = match name.name.as_str() {
        "extract" => Some(3),
        "extractjson" | "extract_json" => Some(2),
        _ => None,
    };
    if let Some(n) = typed_at.filter(|n| args.len() == n + 1) {
        if let A::Call {
            name: tn,
            args: targs,
        } = &args[n].value.kind
        {
            if let (
                true,
                [ast::Arg {
                    value:
                        ast::Expr {
                            kind: A::Name(t), ..
                        },
                    ..
                }],
            ) = (tn.name == "typeof", targs.as_slice())
            {
                let ty = Type::parse(t).ok_or_else(|| {
                    l.err(
                        codes::TYPE,
                        args[n].value.span,
                        format!("unknown type `{t}`"),
                    )
                })?;
                let inner = ast::Expr {
                    kind: A::Call {
                        name: name.clone(),
                        args: args[..n].to_vec(),
                    },
                    span,
                };
                let e = lower_scalar(l, &inner, row, scope)?;
                return Ok(convert_to(e, ty));
            }
        }
    }
    if name.name == "toscalar" && args.len() == 1 {
        if l.is_tabular(&args[0].value, scope) {
            return subquery(l, &args[0].value, scope, true);
        }
        // `toscalar(scalar)`: the value itself.
        return lower_scalar(l, &args[0].value, row, scope);
    }
    if name.name == "ipv4_is_in_any_range" && !args.is_empty() {
        return ipv4_in_any_range(l, args, row, scope);
    }
    if name.name == "now" && args.len() == 1 {
        // `now(offset)` is `now() + offset`.
        let offset = lower_scalar(l, &args[0].value, row, scope)?;
        need(l, &offset, Type::Timespan, args[0].value.span)?;
        let now = Expr {
            kind: ExprKind::Call {
                func: Func::Now,
                args: Vec::new(),
            },
            ty: Type::DateTime,
        };
        return Ok(Expr {
            kind: ExprKind::Binary {
                op: crate::ir::BinOp::Add,
                lhs: Box::new(now),
                rhs: Box::new(offset),
            },
            ty: Type::DateTime,
        });
    }
    if matches!(name.name.as_str(), "column_ifexists" | "columnifexists") && args.len() == 2 {
        // Resolved at compile time: the column if the row has it, else the default. The name
        // is a string literal or a `let` bound to one.
        let named = match &args[0].value.kind {
            A::Lit(Lit::Str(col)) => Some(col.clone()),
            A::Name(n) => match scope.names.get(n) {
                Some(super::Binding::Scalar(Expr {
                    kind: ExprKind::Literal(crate::value::Value::String(s)),
                    ..
                })) => Some(s.to_string()),
                _ => None,
            },
            _ => None,
        };
        if let Some(col) = &named {
            if let Some((index, c)) = row.and_then(|r| r.column(col)) {
                return Ok(Expr {
                    kind: ExprKind::Column {
                        index,
                        name: col.clone(),
                    },
                    ty: c.ty,
                });
            }
            let default = lower_scalar(l, &args[1].value, row, scope)?;
            // After `evaluate bag_unpack`: the key's value where a row has it.
            if let Some(v) = row.and_then(|r| unpacked_key(r, col)) {
                if default.ty == Type::Dynamic {
                    return Ok(v);
                }
                let conv = convert_to(v.clone(), default.ty);
                let missing = Expr {
                    kind: ExprKind::Call {
                        func: Func::IsNull,
                        args: vec![v],
                    },
                    ty: Type::Bool,
                };
                let ty = default.ty;
                return Ok(Expr {
                    kind: ExprKind::Call {
                        func: Func::Iff,
                        args: vec![missing, default, conv],
                    },
                    ty,
                });
            }
            return Ok(default);
        }
    }
    if let Some((_, func, lo, hi, ty)) = EXTRA.iter().find(|e| e.0 == name.name) {
        let several = std::mem::take(&mut l.several_values);
        if !func.fields().is_empty() && !several {
            return Err(l.err(
                codes::TYPE,
                span,
                format!(
                    "{}() gives several values: assign them with `({}) = {}(...)`",
                    name.name,
                    func.fields()
                        .iter()
                        .map(|f| f.0)
                        .collect::<Vec<_>>()
                        .join(", "),
                    name.name
                ),
            ));
        }
        let mut a = Vec::new();
        for arg in args {
            a.push(lower_scalar(l, &arg.value, row, scope)?);
        }
        if let Some(why) = series_approximation(*func, &a) {
            l.diags.push(
                crate::diagnostics::Diagnostic::warning(
                    codes::APPROXIMATED,
                    format!("{}() runs natively as an approximation: {why}", name.name),
                )
                .with_span(span)
                .with_note("see docs/semantics.md; SQL targets do not emit series functions"),
            );
        }
        if a.len() < *lo || a.len() > *hi {
            return Err(l.err(
                codes::ARGUMENTS,
                span,
                format!(
                    "{}() takes {lo} to {hi} argument(s), {} given",
                    name.name,
                    a.len()
                ),
            ));
        }
        if matches!(func, Func::ExtractAll | Func::TrimStart | Func::TrimEnd) {
            check_regex(l, &a[0], span)?;
        }
        return Ok(Expr {
            kind: ExprKind::Call {
                func: *func,
                args: a,
            },
            ty: *ty,
        });
    }
    if name.name == "split" && args.len() == 3 {
        let mut a = Vec::new();
        for arg in args {
            a.push(lower_scalar(l, &arg.value, row, scope)?);
        }
        return Ok(Expr {
            kind: ExprKind::Call {
                func: Func::SplitAt,
                args: a,
            },
            ty: Type::Dynamic,
        });
    }
    if super::rows::is_row_function(&name.name) {
        return Err(l.err(
            codes::UNSUPPORTED,
            name.span,
            format!(
                "`{}` is a row function: detc supports it in `extend`, `project`, `where` and `serialize`",
                name.name
            ),
        ));
    }
    let Some(func) = func_by_name(&name.name) else {
        return Err(l.err(
            codes::UNKNOWN_FUNCTION,
            name.span,
            format!("unknown function `{}`", name.name),
        ));
    };
    let mut a = Vec::new();
    for arg in args {
        a.push(lower_scalar(l, &arg.value, row, scope)?);
    }
    let arity = |l: &mut Lowerer, lo: usize, hi: usize| -> LResult<()> {
        if a.len() < lo || a.len() > hi {
            let want = if lo == hi {
                format!("{lo}")
            } else {
                format!("{lo} to {hi}")
            };
            return Err(l.err(
                codes::ARGUMENTS,
                span,
                format!(
                    "{}() takes {want} argument(s), {} given",
                    name.name,
                    a.len()
                ),
            ));
        }
        Ok(())
    };
    use Func::*;
    let ty = match func {
        ToLower | ToUpper => {
            arity(l, 1, 1)?;
            Type::String
        }
        ToString => {
            arity(l, 1, 1)?;
            Type::String
        }
        ToDateTime | ToLong | ToInt | ToReal | ToBool | ToDynamic => {
            arity(l, 1, 1)?;
            let ty = match func {
                ToDateTime => Type::DateTime,
                ToLong => Type::Long,
                ToInt => Type::Int,
                ToReal => Type::Real,
                ToBool => Type::Bool,
                _ => Type::Dynamic,
            };
            // `todatetime('{{Start}}')`: the placeholder is a typed parameter.
            if let ExprKind::Param(_) = a[0].kind {
                let mut p = a.pop().unwrap();
                p.ty = ty;
                return Ok(p);
            }
            ty
        }
        Strlen => {
            arity(l, 1, 1)?;
            Type::Long
        }
        Strcat => {
            arity(l, 1, 64)?;
            Type::String
        }
        IsEmpty | IsNotEmpty | IsNull | IsNotNull => {
            arity(l, 1, 1)?;
            Type::Bool
        }
        Not => {
            arity(l, 1, 1)?;
            if a[0].ty != Type::Bool {
                return Err(l.err(
                    codes::TYPE,
                    span,
                    format!("not() needs a bool, found {}", a[0].ty),
                ));
            }
            Type::Bool
        }
        Iff => {
            arity(l, 3, 3)?;
            if a[0].ty != Type::Bool {
                return Err(l.err(
                    codes::TYPE,
                    args[0].value.span,
                    format!("iff() needs a bool condition, found {}", a[0].ty),
                ));
            }
            unify_values(&mut a, &[1, 2]);
            if !comparable(a[1].ty, a[2].ty) {
                return Err(l.err(
                    codes::TYPE,
                    span,
                    format!(
                        "iff() branches have different types: {} and {}",
                        a[1].ty, a[2].ty
                    ),
                ));
            }
            a[1].ty
        }
        Coalesce => {
            arity(l, 1, 64)?;
            a[0].ty
        }
        // Arguments of one type; integers beside reals compare as reals.
        MaxOf | MinOf => {
            arity(l, 2, 64)?;
            if a.iter().all(|x| x.ty.is_numeric()) && a.iter().any(|x| x.ty == Type::Real) {
                for x in a.iter_mut().filter(|x| x.ty != Type::Real) {
                    *x = convert_to(x.clone(), Type::Real);
                }
            }
            let ty = a[0].ty;
            if let Some(other) = a.iter().find(|x| x.ty != ty) {
                return Err(l.err(
                    codes::TYPE,
                    span,
                    format!(
                        "{}() needs arguments of one type, found {} and {}",
                        func.kql(),
                        ty,
                        other.ty
                    ),
                ));
            }
            ty
        }
        Now => {
            arity(l, 0, 0)?;
            Type::DateTime
        }
        Ago => {
            arity(l, 1, 1)?;
            if let ExprKind::Param(_) = a[0].kind {
                a[0].ty = Type::Timespan;
            }
            if a[0].ty != Type::Timespan {
                return Err(l.err(
                    codes::TYPE,
                    span,
                    format!("ago() needs a timespan, found {}", a[0].ty),
                ));
            }
            Type::DateTime
        }
        ArrayLength => {
            arity(l, 1, 1)?;
            Type::Long
        }
        GetItem | MatchesRegex => unreachable!("not callable by name"),
        CountOf
        | ParseUrl
        | Ipv4IsMatch
        | Base64Decode
        | Base64Encode
        | ExtractJson
        | ExtractAll
        | BagKeys
        | UrlDecode
        | UrlEncode
        | TrimStart
        | TrimEnd
        | StringSize
        | StrcatArray
        | SetUnion
        | SetDifference
        | SetIntersect
        | Reverse
        | FormatDatetime
        | DatetimePart
        | DatetimeAdd
        | ArraySlice
        | Range
        | Translate
        | IngestionTime
        | SplitAt
        | ArrayIndexOf
        | IsAscii
        | ParseXml
        | ParseUrlQuery
        | ParsePath
        | DynamicToJson
        | SeriesFitLine
        | SeriesDecompose
        | SeriesDecomposeAnomalies
        | Hash
        | Base64DecodeToArray
        | CodepointsToString => {
            unreachable!("lowered from the EXTRA table")
        }
        DatetimeDiff => {
            arity(l, 3, 3)?;
            need(l, &a[0], Type::String, span)?;
            need(l, &a[1], Type::DateTime, span)?;
            need(l, &a[2], Type::DateTime, span)?;
            Type::Long
        }
        Bin => {
            arity(l, 2, 2)?;
            let ok = (a[0].ty.is_numeric() && a[1].ty.is_numeric())
                || (matches!(a[0].ty, Type::DateTime | Type::Timespan)
                    && a[1].ty == Type::Timespan);
            if !ok {
                return Err(l.err(
                    codes::TYPE,
                    span,
                    format!("bin() of {} by {}", a[0].ty, a[1].ty),
                ));
            }
            a[0].ty
        }
        StartOfDay | EndOfDay => {
            arity(l, 1, 1)?;
            need(l, &a[0], Type::DateTime, span)?;
            Type::DateTime
        }
        Extract => {
            arity(l, 3, 3)?;
            need(l, &a[0], Type::String, span)?;
            check_regex(l, &a[0], span)?;
            Type::String
        }
        Split => {
            arity(l, 2, 2)?;
            Type::Dynamic
        }
        PackArray | ArrayConcat => Type::Dynamic,
        BagPack => {
            if a.len() % 2 != 0 {
                return Err(l.err(codes::ARGUMENTS, span, "bag_pack() takes key, value pairs"));
            }
            Type::Dynamic
        }
        Case => {
            if a.len() < 3 || a.len() % 2 == 0 {
                return Err(l.err(
                    codes::ARGUMENTS,
                    span,
                    "case() takes predicate, value pairs and an else value",
                ));
            }
            for i in (0..a.len() - 1).step_by(2) {
                need(l, &a[i], Type::Bool, span)?;
            }
            let values: Vec<usize> = (1..a.len()).step_by(2).chain([a.len() - 1]).collect();
            unify_values(&mut a, &values);
            let t = a[1].ty;
            for i in (1..a.len()).step_by(2).chain([a.len() - 1]) {
                if !comparable(t, a[i].ty) {
                    return Err(l.err(
                        codes::TYPE,
                        span,
                        format!("case() values have different types: {t} and {}", a[i].ty),
                    ));
                }
            }
            t
        }
        ToTimespan => {
            arity(l, 1, 1)?;
            if let ExprKind::Param(_) = a[0].kind {
                let mut p = a.pop().unwrap();
                p.ty = Type::Timespan;
                return Ok(p);
            }
            Type::Timespan
        }
        ReplaceRegex => {
            arity(l, 3, 3)?;
            // `replace(regex, rewrite, text)` (legacy order) -> (text, regex, rewrite).
            if name.name == "replace" {
                let text = a.pop().unwrap();
                a.insert(0, text);
            }
            check_regex(l, &a[1], span)?;
            Type::String
        }
        ReplaceString => {
            arity(l, 3, 3)?;
            Type::String
        }
        Substring => {
            arity(l, 2, 3)?;
            Type::String
        }
        Ipv4IsPrivate => {
            arity(l, 1, 1)?;
            Type::Bool
        }
        SetHasElement => {
            arity(l, 2, 2)?;
            Type::Bool
        }
        Trim => {
            arity(l, 2, 2)?;
            check_regex(l, &a[0], span)?;
            Type::String
        }
        IndexOf => {
            arity(l, 2, 3)?;
            Type::Long
        }
        HourOfDay => {
            arity(l, 1, 1)?;
            need(l, &a[0], Type::DateTime, span)?;
            Type::Int
        }
        DayOfWeek => {
            arity(l, 1, 1)?;
            need(l, &a[0], Type::DateTime, span)?;
            Type::Timespan
        }
        Floor => unreachable!("floor is bin"),
        Abs => {
            arity(l, 1, 1)?;
            a[0].ty
        }
        Log10 => {
            arity(l, 1, 1)?;
            Type::Real
        }
        Round => {
            arity(l, 1, 2)?;
            a[0].ty
        }
        ToHex => {
            arity(l, 1, 2)?;
            Type::String
        }
    };
    Ok(Expr {
        kind: ExprKind::Call { func, args: a },
        ty,
    })
}
