//! Output targets: one emitter per target, wrapped by its document template from `targets/`.

use crate::emit::{self, Approximation, Unsupported};
use crate::ir::Node;
use crate::rule::model::Rule;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Kql,
    Sigma,
    Sql(&'static emit::sql::Dialect),
}

impl Target {
    pub fn parse(s: &str) -> Option<Target> {
        match s {
            "kql" => Some(Target::Kql),
            "sigma" => Some(Target::Sigma),
            _ => s
                .strip_prefix("sql:")
                .and_then(emit::sql::dialect)
                .map(Target::Sql),
        }
    }
    pub fn name(&self) -> String {
        match self {
            Target::Kql => "kql".into(),
            Target::Sigma => "sigma".into(),
            Target::Sql(d) => format!("sql:{}", d.name),
        }
    }
    pub fn extension(&self) -> String {
        match self {
            Target::Kql => "kql".into(),
            Target::Sigma => "sigma.yml".into(),
            Target::Sql(d) => format!("{}.sql", d.name),
        }
    }
    pub fn all() -> Vec<Target> {
        vec![
            Target::Kql,
            Target::Sigma,
            Target::Sql(&emit::sql::DUCKDB),
            Target::Sql(&emit::sql::POSTGRES),
            Target::Sql(&emit::sql::SQLITE),
            Target::Sql(&emit::sql::SPARK),
            Target::Sql(&emit::sql::SNOWFLAKE),
            Target::Sql(&emit::sql::BIGQUERY),
        ]
    }
}

impl PartialEq for emit::sql::Dialect {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}
impl Eq for emit::sql::Dialect {}
impl std::fmt::Debug for emit::sql::Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

const KQL_DOC: &str = include_str!("../../targets/kql/document.kql.j2");
const SQL_DOC: &str = include_str!("../../targets/sql/document.sql.j2");

fn approx_lines(a: &[Approximation]) -> Vec<String> {
    a.iter()
        .map(|a| format!("{}: {}", a.construct, a.how))
        .collect()
}

/// The finished output document of one rule for one target.
pub fn render(
    target: Target,
    plan: &Node,
    rule: Option<&Rule>,
    source: &str,
) -> Result<String, Unsupported> {
    let name = rule
        .and_then(|r| r.name.clone())
        .unwrap_or_else(|| source.to_string());
    let id = rule.and_then(|r| r.id.clone());
    let env = minijinja::Environment::new();
    let render = |tpl: &str, ctx: minijinja::Value| {
        env.render_str(tpl, ctx).map_err(|e| Unsupported {
            construct: "template".into(),
            reason: e.to_string(),
        })
    };
    match target {
        Target::Kql => {
            let q = emit::kql::plan_text(plan);
            render(
                KQL_DOC,
                minijinja::context! { name, id, source, approximations => Vec::<String>::new(), query => q.trim_end() },
            )
            .map(|s| s.trim_end().to_string() + "\n")
        }
        Target::Sql(d) => {
            let out = emit::sql::emit(plan, d)?;
            let params: Vec<String> = out
                .params
                .iter()
                .enumerate()
                .map(|(i, (n, t))| match d.kind {
                    emit::sql::DialectKind::Postgres => format!("${} = {n} ({t})", i + 1),
                    _ => format!("{n} ({t})"),
                })
                .collect();
            render(
                SQL_DOC,
                minijinja::context! { name, id, source, dialect => d.name, params,
                    approximations => approx_lines(&out.emitted.approximations), query => out.emitted.text },
            )
            .map(|s| s.trim_end().to_string() + "\n")
        }
        Target::Sigma => emit::sigma::emit(plan, rule, source).map(|o| o.rules),
    }
}

/// Every file one rule gives for one target, as (extension, text): the output document, and
/// for Sigma also the pySigma processing pipeline that resolves its log sources and
/// placeholders (`<rule>.sigma-pipeline.yml`).
pub fn render_files(
    target: Target,
    plan: &Node,
    rule: Option<&Rule>,
    source: &str,
) -> Result<Vec<(String, String)>, Unsupported> {
    match target {
        Target::Sigma => {
            let o = emit::sigma::emit(plan, rule, source)?;
            Ok(vec![
                (target.extension(), o.rules),
                ("sigma-pipeline.yml".into(), o.pipeline),
            ])
        }
        _ => Ok(vec![(
            target.extension(),
            render(target, plan, rule, source)?,
        )]),
    }
}

/// The approximations `target` declares for `plan` (none for KQL, which re-parses to the same
/// IR), or why it cannot carry the plan at all. `detc explain` lists them; `--strict` refuses
/// them.
pub fn approximations(target: Target, plan: &Node) -> Result<Vec<Approximation>, Unsupported> {
    match target {
        Target::Kql => Ok(Vec::new()),
        Target::Sigma => emit::sigma::emit(plan, None, "rule").map(|o| o.approximations),
        Target::Sql(d) => emit::sql::emit(plan, d).map(|o| o.emitted.approximations),
    }
}
