//! detc: a detection-as-code compiler.
//!
//! Stages, each a module with a typed hand-off:
//! rule file -> [`rule`] model -> KQL [`syntax`] tree (spans) -> [`lower`] -> typed [`ir`] plan ->
//! native [`eval`] | [`emit`] (KQL, SQL dialects, Sigma). [`engines`] runs emitted SQL on real
//! databases for `detc verify`.

pub mod bind;
pub mod catalog;
pub mod checks;
pub mod config;
pub mod diagnostics;
pub mod emit;
pub mod engines;
pub mod eval;
pub mod explain;
pub mod fmt;
pub mod ir;
pub mod lower;
pub mod pipeline;
pub mod report;
pub mod rule;
pub mod syntax;
pub mod synth;
pub mod targets;
pub mod testing;
pub mod types;
pub mod value;
pub mod verify;
