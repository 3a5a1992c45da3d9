//! Binding `{{Name}}` parameters: typed parameters become literals; template strings are
//! rendered with minijinja over the same values.

use crate::diagnostics::{codes, Diagnostic};
use crate::ir::{ExprKind, Node};
use crate::types::Type;
use crate::value::{parse_datetime, Value};
use std::collections::BTreeMap;

/// Parses `NAME=VALUE`.
pub fn parse_assignment(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected NAME=VALUE, found {s:?}")),
    }
}

/// A parameter's text as a value of its type.
pub fn parse_param(name: &str, text: &str, ty: Type) -> Result<Value, Diagnostic> {
    let bad = |what: &str| {
        Diagnostic::error(
            codes::PARAM,
            format!("parameter `{name}`: {text:?} is not {what}"),
        )
    };
    Ok(match ty {
        Type::String | Type::Guid => Value::str(text),
        Type::DateTime => Value::DateTime(
            parse_datetime(text)
                .ok_or_else(|| bad("a datetime (use ISO 8601, e.g. 2024-03-01T00:00:00Z)"))?,
        ),
        Type::Long | Type::Int => Value::Long(text.trim().parse().map_err(|_| bad("an integer"))?),
        Type::Real | Type::Decimal => {
            Value::Real(text.trim().parse().map_err(|_| bad("a number"))?)
        }
        Type::Bool => match text.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad("true or false")),
        },
        Type::Timespan => {
            let (toks, diags) = crate::syntax::lexer::lex(text.trim());
            match (toks.first().map(|t| &t.tok), diags.is_empty(), toks.len()) {
                (Some(crate::syntax::lexer::Tok::Timespan(t)), true, 2) => Value::Timespan(*t),
                _ => return Err(bad("a timespan such as 1d or 30m")),
            }
        }
        Type::Dynamic => Value::Dynamic(std::sync::Arc::new(
            serde_json::from_str(text).map_err(|_| bad("JSON"))?,
        )),
    })
}

/// Replaces every parameter and template in the plan by its value. Errors name the first
/// parameter that has no value or a bad one.
pub fn bind(plan: &Node, params: &BTreeMap<String, String>) -> Result<Node, Diagnostic> {
    let mut plan = plan.clone();
    let mut err = None;
    plan.exprs_mut(&mut |e| bind_expr(e, params, &mut err));
    match err {
        Some(d) => Err(d),
        None => Ok(plan),
    }
}

fn bind_expr(
    e: &mut crate::ir::Expr,
    params: &BTreeMap<String, String>,
    err: &mut Option<Diagnostic>,
) {
    if err.is_some() {
        return;
    }
    match &e.kind {
        ExprKind::Param(name) => match params.get(name) {
            Some(text) => match parse_param(name, text, e.ty) {
                Ok(v) => e.kind = ExprKind::Literal(v),
                Err(d) => *err = Some(d),
            },
            None => {
                *err = Some(Diagnostic::error(
                    codes::PARAM,
                    format!(
                        "parameter `{name}` ({}) has no value; pass --param {name}=VALUE",
                        e.ty
                    ),
                ))
            }
        },
        ExprKind::Template(t) => {
            let mut env = minijinja::Environment::new();
            env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
            match env.render_str(t, params) {
                Ok(s) => e.kind = ExprKind::Literal(Value::str(&s)),
                Err(x) => {
                    *err = Some(Diagnostic::error(
                        codes::PARAM,
                        format!("template {t:?}: {x}"),
                    ))
                }
            }
        }
        ExprKind::Subquery { .. } => {
            if let ExprKind::Subquery { plan, .. } = &mut e.kind {
                plan.exprs_mut(&mut |x| bind_expr(x, params, err));
            }
        }
        _ => {
            for c in e.children_mut() {
                bind_expr(c, params, err);
            }
        }
    }
}
