//! Stage 1: a rule file -> the typed rule [`model`], the `query` text with a map back to the
//! file ([`QuerySource`]), and diagnostics located at byte spans of the file.
//!
//! - [`yaml_map`] indexes where every YAML node is (saphyr-parser events), and maps query
//!   offsets to file offsets;
//! - [`validate`] loads the YAML into a JSON value (yaml_serde) and checks it against the JSON
//!   Schema generated from [`model`] ([`schema_json`]).

pub mod model;
pub mod validate;
pub mod yaml_map;

use crate::diagnostics::{codes, Diagnostic, LineIndex, Span};
use serde_json::Value;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

pub use model::Rule;
pub use yaml_map::{QueryMap, YamlMap};

/// The `query` of a rule and where each of its bytes is in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct QuerySource {
    pub text: String,
    pub map: QueryMap,
}

/// The result of loading one rule file.
#[derive(Clone, Debug)]
pub struct LoadedRule {
    pub path: PathBuf,
    /// The file text as read (for invalid UTF-8: the valid prefix).
    pub text: String,
    /// The typed rule; `None` if the YAML does not load into the model.
    pub rule: Option<model::Rule>,
    /// Present whenever the file has a string `query`, even if other fields are invalid.
    pub query: Option<QuerySource>,
    /// YAML and schema findings, with `file` set and spans in file byte offsets, sorted.
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadedRule {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// The JSON Schema (draft 2020-12) of rule files, pretty-printed, ending with a newline.
pub fn schema_json() -> String {
    let mut s = serde_json::to_string_pretty(&model::schema_value())
        .expect("a JSON value always serializes");
    s.push('\n');
    s
}

/// Reads and loads a rule file. An unreadable file is a [`codes::IO`] diagnostic; a file that
/// is not UTF-8 is a located [`codes::YAML_SYNTAX`] diagnostic.
pub fn load(path: &Path) -> LoadedRule {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            return LoadedRule {
                path: path.to_path_buf(),
                text: String::new(),
                rule: None,
                query: None,
                diagnostics: vec![Diagnostic::error(
                    codes::IO,
                    format!("cannot read {}: {e}", path.display()),
                )
                .with_file(path)],
            }
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => load_str(path, &text),
        Err(e) => {
            let bytes = e.as_bytes();
            let valid = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(&bytes[..valid]).into_owned();
            let message = if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
                "the file is UTF-16; rule files must be UTF-8".to_string()
            } else {
                format!("the file is not valid UTF-8 (byte 0x{:02x})", bytes[valid])
            };
            LoadedRule {
                path: path.to_path_buf(),
                rule: None,
                query: None,
                diagnostics: vec![Diagnostic::error(codes::YAML_SYNTAX, message)
                    .with_span(Span::empty_at(text.len()))
                    .with_file(path)],
                text,
            }
        }
    }
}

/// Loads a rule from its text. Never panics.
pub fn load_str(path: &Path, text: &str) -> LoadedRule {
    let mut diagnostics = Vec::new();
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };

    let mut map = index(text, bom);
    // libyaml takes time quadratic in the nesting depth of flow collections; saphyr stops at
    // 255 levels, and so does this (without asking libyaml).
    let too_deep = map
        .error
        .as_ref()
        .filter(|e| e.message.contains("recursion limit"));
    let loaded = match too_deep {
        Some(e) => Ok(Err(Diagnostic::error(
            codes::YAML_SYNTAX,
            "collections nested too deeply (more than 255 levels)",
        )
        .with_span(Span::empty_at(e.offset)))),
        None => catch_unwind(AssertUnwindSafe(|| validate::load_value(&text[bom..])))
            .map(|r| r.map_err(|e| yaml_error(text, bom, &map, &e))),
    };

    let value = match loaded {
        Ok(Ok(v)) => Some(v),
        Ok(Err(d)) => {
            diagnostics.push(d);
            None
        }
        Err(_) => {
            diagnostics.push(
                Diagnostic::error(codes::YAML_SYNTAX, "internal error in the YAML parser")
                    .with_span(Span::empty_at(bom)),
            );
            None
        }
    };
    if value.is_some() && map.error.is_some() {
        // saphyr rejects a tab after an indicator (`key:<TAB>value`), which YAML 1.2 and
        // libyaml accept. Spaces in their place keep every offset.
        if let Some(spaced) = tabs_after_indicators(text) {
            let retry = index(&spaced, bom);
            if retry.error.is_none() {
                map = retry;
            }
        }
        if let Some(e) = &map.error {
            // yaml_serde (libyaml) accepted what saphyr did not: locations past this point
            // fall back to the nearest located ancestor.
            diagnostics.push(
                Diagnostic::warning(
                    codes::YAML_SYNTAX,
                    format!("YAML that not every parser accepts: {}", e.message),
                )
                .with_span(Span::empty_at(e.offset)),
            );
        }
    }
    if !map.duplicates.is_empty() {
        let index = LineIndex::new(text);
        for d in &map.duplicates {
            let (line, col) = index.line_col(text, d.first.start);
            let message = if d.mapping.is_empty() {
                format!("duplicate key `{}`", d.key)
            } else {
                format!(
                    "duplicate key `{}` in `{}`",
                    d.key,
                    validate::display_path(&d.mapping)
                )
            };
            diagnostics.push(
                Diagnostic::error(codes::YAML_SYNTAX, message)
                    .with_span(d.second)
                    .with_note(format!(
                        "first defined at line {line}, column {col}; the last one is used"
                    )),
            );
        }
    }

    if let Some(v) = &value {
        diagnostics.extend(validate::validate(v, &map));
    }
    let rule = value
        .as_ref()
        .filter(|v| v.is_object())
        .and_then(|v| serde_json::from_value::<model::Rule>(v.clone()).ok());

    let query_text = match &value {
        Some(v) => v.get("query").and_then(Value::as_str).map(str::to_owned),
        None => map.node("/query").and_then(|n| n.scalar.clone()),
    };
    let query = query_text.map(|q| {
        let map = match map.node("/query") {
            Some(node) => QueryMap::for_node(text, node, &q),
            None => QueryMap::constant(map.doc_start()),
        };
        QuerySource { text: q, map }
    });

    for d in &mut diagnostics {
        d.file = Some(path.to_path_buf());
        if let Some(s) = &mut d.span {
            s.start = s.start.min(text.len());
            s.end = s.end.clamp(s.start, text.len());
        }
    }
    diagnostics.sort_by(|a, b| {
        (a.span, a.code, &a.message, &a.notes).cmp(&(b.span, b.code, &b.message, &b.notes))
    });
    diagnostics.dedup();

    LoadedRule {
        path: path.to_path_buf(),
        text: text.to_string(),
        rule,
        query,
        diagnostics,
    }
}

/// The position index of `text`, never panicking.
fn index(text: &str, bom: usize) -> YamlMap {
    catch_unwind(|| YamlMap::parse(text)).unwrap_or_else(|_| {
        let mut m = YamlMap::default();
        m.error = Some(yaml_map::YamlError {
            message: "internal error in the YAML position index".into(),
            offset: bom,
        });
        m
    })
}

/// `text` with tabs that follow `:`, `-`, `?` or `,` replaced by spaces; `None` if it has none.
fn tabs_after_indicators(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out: Option<Vec<u8>> = None;
    let mut after_indicator = false;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\t' && after_indicator {
            out.get_or_insert_with(|| bytes.to_vec())[i] = b' ';
            continue;
        }
        after_indicator = matches!(b, b':' | b'-' | b'?' | b',');
    }
    // Only ASCII tabs became ASCII spaces, so the bytes are still UTF-8.
    out.and_then(|o| String::from_utf8(o).ok())
}

/// A yaml_serde error as a located diagnostic.
fn yaml_error(text: &str, bom: usize, map: &YamlMap, e: &yaml_serde::Error) -> Diagnostic {
    let mut message = e.to_string();
    let span = match e.location() {
        Some(loc) => {
            let suffix = format!(" at line {} column {}", loc.line(), loc.column());
            if let Some(i) = message.find(&suffix) {
                message.replace_range(i..i + suffix.len(), "");
            }
            let mut at = (loc.index() + bom).min(text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            Span::empty_at(at)
        }
        None => match map.extra_document {
            Some(doc) if message.contains("more than one document") => {
                message = "a rule file holds one YAML document; this starts a second one".into();
                doc
            }
            _ => match &map.error {
                Some(err) => Span::empty_at(err.offset),
                None => Span::empty_at(map.doc_start()),
            },
        },
    };
    Diagnostic::error(codes::YAML_SYNTAX, message).with_span(span)
}

#[cfg(test)]
mod tests;
