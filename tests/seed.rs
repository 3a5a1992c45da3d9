//! The seed rule through every stage: snapshots of the IR and of each target's output
//! (reviewed by hand), the KQL round trip, and the native run over the shipped fixtures.

use detc::catalog::Catalog;
use detc::lower::Tables;
use detc::pipeline;
use detc::targets::{render, render_files, Target};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn seed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/privileged-accounts-failed-mfa.yaml")
}

fn plan_with(present: Option<&BTreeSet<String>>) -> detc::ir::Node {
    let catalog = Catalog::builtin();
    let src = pipeline::load(&seed_path());
    assert!(src.diagnostics.is_empty(), "{:?}", src.diagnostics);
    let (plan, diags) = pipeline::compile(
        &src,
        &Tables {
            catalog: &catalog,
            present,
        },
    );
    assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
    plan.expect("seed lowers")
}

#[test]
fn ir_snapshot() {
    insta::assert_snapshot!("seed_ir", detc::ir::print::print(&plan_with(None)));
}

#[test]
fn target_snapshots() {
    let plan = plan_with(None);
    let src = pipeline::load(&seed_path());
    for t in Target::all() {
        let text = render(
            t,
            &plan,
            src.rule.as_ref(),
            "rules/privileged-accounts-failed-mfa.yaml",
        )
        .unwrap_or_else(|u| panic!("{}: {u}", t.name()));
        insta::assert_snapshot!(format!("seed_{}", t.name().replace(':', "_")), text);
    }
    // The Sigma target's second file: the pySigma pipeline that resolves its placeholders.
    let files = render_files(
        Target::Sigma,
        &plan,
        src.rule.as_ref(),
        "rules/privileged-accounts-failed-mfa.yaml",
    )
    .unwrap();
    let names: Vec<&str> = files.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(names, ["sigma.yml", "sigma-pipeline.yml"]);
    insta::assert_snapshot!("seed_sigma_pipeline", files[1].1);
}

/// What each SQL dialect changes, as a unified diff against DuckDB's SQL (the reference):
/// a reviewer sees exactly the per-dialect spellings.
#[test]
fn dialect_diff_snapshots() {
    let plan = plan_with(None);
    let sql =
        |t: Target| render(t, &plan, None, "rules/privileged-accounts-failed-mfa.yaml").unwrap();
    let reference = sql(Target::parse("sql:duckdb").unwrap());
    for t in Target::all() {
        let Target::Sql(d) = t else { continue };
        if d.name == "duckdb" {
            continue;
        }
        let other = sql(t);
        let diff = similar::TextDiff::from_lines(&reference, &other)
            .unified_diff()
            .context_radius(0)
            .header("sql:duckdb", &t.name())
            .to_string();
        assert!(
            !diff.is_empty(),
            "{} is identical to DuckDB's SQL",
            t.name()
        );
        insta::assert_snapshot!(format!("seed_diff_duckdb_{}", d.name), diff);
    }
}

#[test]
fn build_is_deterministic() {
    let plan = plan_with(None);
    for t in Target::all() {
        let a = render(t, &plan, None, "x").unwrap();
        let b = render(t, &plan_with(None), None, "x").unwrap();
        assert_eq!(a, b, "{}", t.name());
    }
}

/// Parsing the emitted KQL and lowering it again gives the same IR.
#[test]
fn kql_round_trip() {
    let catalog = Catalog::builtin();
    let present: BTreeSet<String> = ["IdentityInfo", "SigninLogs"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for p in [None, Some(&present)] {
        let plan = plan_with(p);
        let text = detc::emit::kql::plan_text(&plan);
        let (ast, d) = detc::syntax::parse(&text);
        assert!(d.is_empty(), "{text}\n{d:?}");
        let lowered = detc::lower::lower(
            &ast,
            &Tables {
                catalog: &catalog,
                present: p,
            },
        );
        assert!(
            lowered.diagnostics.iter().all(|d| !d.is_error()),
            "{:?}",
            lowered.diagnostics
        );
        assert_eq!(
            lowered.plan.unwrap(),
            plan,
            "round trip changed the IR:\n{text}"
        );
    }
}

/// An absent sign-in table drops its union leg at lowering, as `isfuzzy=true` does.
#[test]
fn fuzzy_union_drops_absent_leg() {
    let present: BTreeSet<String> = ["IdentityInfo", "SigninLogs"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let plan = plan_with(Some(&present));
    assert_eq!(
        plan.tables(),
        vec!["IdentityInfo".to_string(), "SigninLogs".to_string()]
    );
    let detc::ir::Op::Union { legs } = &plan.op else {
        panic!("not a union")
    };
    assert_eq!(legs.len(), 1);
    let none: BTreeSet<String> = ["IdentityInfo"].iter().map(|s| s.to_string()).collect();
    let catalog = Catalog::builtin();
    let src = pipeline::load(&seed_path());
    let (plan, diags) = pipeline::compile(
        &src,
        &Tables {
            catalog: &catalog,
            present: Some(&none),
        },
    );
    assert!(plan.is_none());
    assert!(
        diags
            .iter()
            .any(|d| d.message.contains("no leg of the union")),
        "{diags:?}"
    );
}

#[test]
fn seed_parameters_are_typed() {
    let params = detc::ir::plan_params(&plan_with(None));
    assert_eq!(
        params,
        vec![
            ("StartTimeISO".to_string(), detc::types::Type::DateTime),
            ("EndTimeISO".to_string(), detc::types::Type::DateTime)
        ]
    );
}
