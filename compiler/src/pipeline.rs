//! The stages chained for one input file: load (rule YAML or bare `.kql`), parse, lower.
//! Query-stage spans are moved into the file's coordinates here, so every diagnostic the
//! commands print is `file:line:col` in the user's file.

use crate::diagnostics::Diagnostic;
use crate::ir::Node;
use crate::lower::{lower, Tables};
use crate::rule::{self, model::Rule, QuerySource};
use std::path::{Path, PathBuf};

/// An input file after stage 1.
pub struct Source {
    pub path: PathBuf,
    pub text: String,
    pub rule: Option<Rule>,
    pub query: Option<QuerySource>,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn is_kql(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "kql" || e == "csl")
}

/// Loads a rule file, or a bare `.kql` file as a query without metadata.
pub fn load(path: &Path) -> Source {
    if is_kql(path) {
        return match std::fs::read_to_string(path) {
            Ok(text) => Source {
                path: path.to_path_buf(),
                query: Some(QuerySource {
                    text: text.clone(),
                    map: rule::yaml_map::QueryMap::identity(),
                }),
                text,
                rule: None,
                diagnostics: Vec::new(),
            },
            Err(e) => Source {
                path: path.to_path_buf(),
                text: String::new(),
                rule: None,
                query: None,
                diagnostics: vec![Diagnostic::error(
                    crate::diagnostics::codes::IO,
                    format!("cannot read: {e}"),
                )
                .with_file(path)],
            },
        };
    }
    let l = rule::load(path);
    Source {
        path: l.path,
        text: l.text,
        rule: l.rule,
        query: l.query,
        diagnostics: l.diagnostics,
    }
}

/// [`compile`] with every known table present (no `isfuzzy` leg dropped).
pub fn compile_all_tables(
    src: &Source,
    catalog: &crate::catalog::Catalog,
) -> (Option<Node>, Vec<Diagnostic>) {
    compile(
        src,
        &Tables {
            catalog,
            present: None,
        },
    )
}

/// Parses and lowers the query. Diagnostics come back located in the file.
pub fn compile(src: &Source, tables: &Tables) -> (Option<Node>, Vec<Diagnostic>) {
    let Some(q) = &src.query else {
        return (None, Vec::new());
    };
    // A YAML error may have cut the query short: its parse errors would only be noise.
    if src
        .diagnostics
        .iter()
        .any(|d| d.code == crate::diagnostics::codes::YAML_SYNTAX)
    {
        return (None, Vec::new());
    }
    let (ast, mut diags) = crate::syntax::parse(&q.text);
    let mut plan = None;
    if !diags.iter().any(|d| d.is_error()) {
        let lowered = lower(&ast, tables);
        diags.extend(lowered.diagnostics);
        plan = lowered.plan;
    }
    for d in &mut diags {
        d.file = Some(src.path.clone());
        if let Some(s) = d.span {
            let start = q.map.to_file(s.start);
            let end = q.map.to_file(s.end.max(s.start)).max(start);
            d.span = Some(crate::diagnostics::Span::new(start, end));
        }
    }
    (plan, diags)
}
