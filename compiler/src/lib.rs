//! detc: a detection-as-code compiler.
//!
//! Stages, each a module with a typed hand-off:
//! rule file -> [`rule`] model -> KQL [`syntax`] tree (spans) -> [`lower`] -> typed [`ir`] plan ->
//! native [`eval`] | [`emit`] (KQL, SQL dialects, Sigma). [`engines`] runs emitted SQL on real
//! databases for `detc verify`.

pub mod catalog;
pub mod diagnostics;
// pub mod engines;
// pub mod rule;
pub mod types;
pub mod value;
pub mod syntax;
