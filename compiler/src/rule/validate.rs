//! YAML text -> JSON value (through yaml_serde), and JSON Schema validation of that value
//! against the rule schema, each finding turned into a located [`Diagnostic`].

use super::model;
use super::yaml_map::{escape_segment, YamlMap};
use crate::diagnostics::{codes, Diagnostic, Span};
use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{JsonType, ValidationError, Validator};
use serde::de::{
    Deserialize, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};
use serde_json::{Map, Number, Value};
use std::fmt;
use std::sync::OnceLock;

/// The compiled rule schema.
struct Compiled {
    validator: Validator,
    schema: Value,
}

fn compiled() -> &'static Compiled {
    static SCHEMA: OnceLock<Compiled> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let schema = model::schema_value();
        let validator = jsonschema::draft202012::new(&schema)
            .unwrap_or_else(|e| panic!("the generated rule schema does not compile: {e}"));
        Compiled { validator, schema }
    })
}

/// Parses one YAML document (no byte order mark) into a JSON value. Duplicate keys keep the
/// last value (they are reported from the YAML map), merge keys (`<<`) are applied, non-string
/// keys are written as strings, and tags are dropped.
pub fn load_value(yaml: &str) -> Result<Value, yaml_serde::Error> {
    yaml_serde::from_str::<Json>(yaml).map(|j| j.0)
}

struct Json(Value);

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        d.deserialize_any(JsonVisitor).map(Json)
    }
}

struct JsonVisitor;

fn key_string(v: Value) -> String {
    match v {
        Value::String(s) => s,
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map(Value::Number).unwrap_or_else(|| {
            Value::String(if v.is_nan() {
                ".nan".into()
            } else if v > 0.0 {
                ".inf".into()
            } else {
                "-.inf".into()
            })
        }))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Json::deserialize(d).map(|j| j.0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Json(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut obj = Map::new();
        let mut merges = Vec::new();
        while let Some(Json(k)) = map.next_key()? {
            let Json(v) = map.next_value()?;
            let k = key_string(k);
            if k == "<<" && (v.is_object() || v.is_array()) {
                merges.push(v);
            } else {
                obj.insert(k, v);
            }
        }
        for m in merges {
            let sources = match m {
                Value::Array(items) => items,
                other => vec![other],
            };
            for source in sources {
                match source {
                    Value::Object(o) => {
                        for (k, v) in o {
                            obj.entry(k).or_insert(v);
                        }
                    }
                    other => {
                        obj.entry("<<").or_insert(other);
                    }
                }
            }
        }
        Ok(Value::Object(obj))
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        // A tagged node (`!Tag value`): keep the value.
        let (_tag, variant) = data.variant::<String>()?;
        variant.newtype_variant::<Json>().map(|j| j.0)
    }
}

/// Validates a rule value against the schema; every finding is located through `map`.
pub fn validate(value: &Value, map: &YamlMap) -> Vec<Diagnostic> {
    let c = compiled();
    let mut leaves = Vec::new();
    for error in c.validator.iter_errors(value) {
        flatten(error, &mut leaves);
    }
    let mut out = Vec::new();
    for leaf in &leaves {
        match leaf {
            Leaf::Error(e) => describe(e, value, map, &c.schema, &mut out),
            Leaf::NoBranch { error, expected } => {
                let ptr = error.instance_path().as_str();
                let msg = format!(
                    "{}: expected {}, found {}",
                    display_path(ptr),
                    join_or(expected),
                    found(error.instance())
                );
                out.push(Diagnostic::error(codes::SCHEMA, msg).with_span(value_span(map, ptr)));
            }
        }
    }
    out
}

enum Leaf<'a> {
    Error(ValidationError<'a>),
    /// An `anyOf`/`oneOf` no branch of which fits the value's type.
    NoBranch {
        error: ValidationError<'a>,
        expected: Vec<String>,
    },
}

/// Replaces `anyOf`/`oneOf` errors by the errors of the one branch that matches the value's
/// type (`Option<Struct>` is `anyOf [struct, null]`; tags are `anyOf [string, map]`).
fn flatten<'a>(error: ValidationError<'a>, out: &mut Vec<Leaf<'a>>) {
    let context = match error.kind() {
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            context
        }
        _ => {
            out.push(Leaf::Error(error));
            return;
        }
    };
    let here = error.instance_path().as_str().to_owned();
    let type_only = |branch: &Vec<ValidationError<'static>>| {
        !branch.is_empty()
            && branch.iter().all(|e| {
                e.instance_path().as_str() == here
                    && matches!(
                        e.kind(),
                        ValidationErrorKind::Type { .. }
                            | ValidationErrorKind::Enum { .. }
                            | ValidationErrorKind::Constant { .. }
                    )
            })
    };
    let fitting: Vec<usize> = (0..context.len())
        .filter(|&i| !type_only(&context[i]))
        .collect();
    if fitting.len() == 1 {
        let i = fitting[0];
        let (ValidationErrorKind::AnyOf { context }
        | ValidationErrorKind::OneOfNotValid { context }) = error.into_parts().kind
        else {
            return;
        };
        for e in context.into_iter().nth(i).unwrap_or_default() {
            flatten(e, out);
        }
        return;
    }
    let mut expected = Vec::new();
    if fitting.is_empty() {
        for branch in context {
            for e in branch {
                match e.kind() {
                    ValidationErrorKind::Type { kind } => {
                        for t in types(kind) {
                            expected.push(type_name(t).to_string());
                        }
                    }
                    ValidationErrorKind::Enum { options } => {
                        expected.push(format!("one of {}", list_options(options)))
                    }
                    ValidationErrorKind::Constant { expected_value } => {
                        expected.push(expected_value.to_string())
                    }
                    _ => {}
                }
            }
        }
    }
    expected.dedup();
    if expected.is_empty() {
        out.push(Leaf::Error(error));
    } else {
        out.push(Leaf::NoBranch { error, expected });
    }
}

fn types(kind: &TypeKind) -> Vec<JsonType> {
    match kind {
        TypeKind::Single(t) => vec![*t],
        TypeKind::Multiple(set) => set.iter().collect(),
    }
}

fn type_name(t: JsonType) -> &'static str {
    match t {
        JsonType::Array => "a list",
        JsonType::Boolean => "true or false",
        JsonType::Integer => "an integer",
        JsonType::Null => "nothing (null)",
        JsonType::Number => "a number",
        JsonType::Object => "a mapping",
        JsonType::String => "a string",
    }
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

fn list_options(options: &Value) -> String {
    match options {
        Value::Array(items) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string())
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// A value for a message: strings quoted (and shortened), collections by kind.
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let short: String = s.chars().take(60).collect();
            let mut q = serde_json::to_string(&short).unwrap_or_default();
            if short.len() < s.len() {
                q.insert_str(q.len() - 1, "...");
            }
            q
        }
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
        other => other.to_string(),
    }
}

fn found(v: &Value) -> String {
    match v {
        Value::Null => "nothing (null)".into(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(_) => format!("the string {}", show(v)),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

fn unescape_segment(s: &str) -> String {
    s.replace("~1", "/").replace("~0", "~")
}

/// `/entityMappings/0/fieldMappings` -> `entityMappings[0].fieldMappings`; the root is `rule`.
pub(crate) fn display_path(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push('[');
            out.push_str(seg);
            out.push(']');
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&unescape_segment(seg));
        }
    }
    if out.is_empty() {
        "rule".into()
    } else {
        out
    }
}

/// Where a value is: its span, or its key's when the value is empty (`key:` alone), or the
/// nearest indexed ancestor's.
fn value_span(map: &YamlMap, ptr: &str) -> Span {
    match map.nearest(ptr) {
        Some((p, n)) if p == ptr => {
            if n.value.end > n.value.start {
                n.value
            } else {
                n.key.unwrap_or(n.value)
            }
        }
        Some((_, n)) => n.key.unwrap_or(n.value),
        None => Span::empty_at(map.doc_start()),
    }
}

/// Where a key is; falls back to [`value_span`] for keys that are not indexed.
fn key_span(map: &YamlMap, ptr: &str) -> Span {
    map.key_span(ptr).unwrap_or_else(|| value_span(map, ptr))
}

/// Where a mapping is named: its key, the start of the document for the root, or the item
/// itself in a list.
fn object_span(map: &YamlMap, ptr: &str) -> Span {
    if ptr.is_empty() {
        return Span::empty_at(map.doc_start());
    }
    map.key_span(ptr).unwrap_or_else(|| value_span(map, ptr))
}

/// Lowercase letters and digits only: `Initial access` and `InitialAccess` compare equal.
pub(crate) fn normalize(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `word` if it is close enough to be a likely typo.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let w = normalize(word);
    if w.is_empty() {
        return None;
    }
    let limit = match w.chars().count() {
        0..=3 => 0,
        4..=6 => 1,
        7..=12 => 2,
        _ => 3,
    };
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c == word {
            continue;
        }
        let d = levenshtein(&w, &normalize(c));
        if d <= limit && best.is_none_or(|(bd, bc)| (d, c) < (bd, bc)) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// The subschema at a schema path, following `$ref`s met along the way.
fn schema_at<'s>(root: &'s Value, path: &str) -> Option<&'s Value> {
    let mut node = root;
    for seg in path.split('/').skip(1) {
        let seg = unescape_segment(seg);
        if seg == "$ref" {
            let target = node.get("$ref")?.as_str()?;
            node = root.pointer(target.strip_prefix('#')?)?;
            continue;
        }
        node = match node {
            Value::Object(m) => m.get(&seg)?,
            Value::Array(items) => items.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
        // A `$ref` sibling-free node stands for its target.
        while let Some(target) = node.get("$ref").and_then(Value::as_str) {
            if node
                .as_object()
                .is_some_and(|m| m.contains_key("properties"))
            {
                break;
            }
            match root.pointer(target.strip_prefix('#')?) {
                Some(t) => node = t,
                None => break,
            }
        }
    }
    Some(node)
}

/// The keys the object schema owning the failed keyword allows.
fn allowed_keys<'s>(schema: &'s Value, keyword_path: &str) -> Vec<&'s str> {
    let parent = keyword_path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
    schema_at(schema, parent)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|props| props.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

fn describe(
    e: &ValidationError,
    root: &Value,
    map: &YamlMap,
    schema: &Value,
    out: &mut Vec<Diagnostic>,
) {
    let ptr = e.instance_path().as_str();
    let path = display_path(ptr);
    let instance = e.instance();
    let at_value = || value_span(map, ptr);
    let d = match e.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let allowed = allowed_keys(schema, e.schema_path().as_str());
            // Suggest only keys the mapping does not have yet.
            let free: Vec<&str> = match instance.as_object() {
                Some(o) => allowed
                    .iter()
                    .copied()
                    .filter(|k| !o.contains_key(*k))
                    .collect(),
                None => allowed,
            };
            for key in unexpected {
                let key_ptr = format!("{ptr}/{}", escape_segment(key));
                let msg = if ptr.is_empty() {
                    format!("unknown key `{key}`")
                } else {
                    format!("unknown key `{key}` in `{path}`")
                };
                let mut d = Diagnostic::error(codes::SCHEMA_UNKNOWN_KEY, msg)
                    .with_span(key_span(map, &key_ptr));
                if let Some(s) = did_you_mean(key, free.iter().copied()) {
                    d = d.with_note(format!("did you mean `{s}`?"));
                }
                out.push(d);
            }
            return;
        }
        ValidationErrorKind::Required { property } => {
            let name = property
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| property.to_string());
            let mut msg = if ptr.is_empty() {
                format!("missing required key `{name}`")
            } else {
                format!("`{path}` is missing required key `{name}`")
            };
            let sp = e.schema_path().as_str();
            if sp.contains("/allOf/") && sp.contains("/then/") {
                if let Some(kind) = root.get("kind").and_then(Value::as_str) {
                    msg.push_str(&format!(" (required for kind {kind})"));
                }
            }
            Diagnostic::error(codes::SCHEMA_REQUIRED, msg).with_span(object_span(map, ptr))
        }
        ValidationErrorKind::Enum { options } => {
            let msg = format!(
                "{path}: {} is not one of {}",
                show(instance),
                list_options(options)
            );
            let mut d = Diagnostic::error(codes::SCHEMA, msg).with_span(at_value());
            if let (Some(word), Some(opts)) = (instance.as_str(), options.as_array()) {
                if let Some(s) = did_you_mean(word, opts.iter().filter_map(Value::as_str)) {
                    d = d.with_note(format!("did you mean `{s}`?"));
                    // Only case, spaces or punctuation differ: the fix is certain.
                    if normalize(word) == normalize(s) {
                        d = d
                            .with_fix(format!("spell it `{s}`"), vec![(at_value(), s.to_string())]);
                    }
                }
            }
            d
        }
        ValidationErrorKind::Constant { expected_value } => Diagnostic::error(
            codes::SCHEMA,
            format!(
                "{path}: expected {expected_value}, found {}",
                found(instance)
            ),
        )
        .with_span(at_value()),
        ValidationErrorKind::Type { kind } => {
            let mut expected: Vec<JsonType> = types(kind);
            if expected.len() > 1 {
                expected.retain(|t| *t != JsonType::Null);
            }
            let names: Vec<String> = expected.iter().map(|t| type_name(*t).to_string()).collect();
            let msg = format!(
                "{path}: expected {}, found {}",
                join_or(&names),
                found(instance)
            );
            let mut d = Diagnostic::error(codes::SCHEMA, msg).with_span(at_value());
            if expected.contains(&JsonType::String)
                && (instance.is_number() || instance.is_boolean())
            {
                d = d.with_note(format!(
                    "YAML reads {instance} as a {}; quote it to keep it text: \"{instance}\"",
                    if instance.is_number() {
                        "number"
                    } else {
                        "boolean"
                    }
                ));
            }
            d
        }
        ValidationErrorKind::Pattern { pattern } => {
            let what = model::pattern_description(pattern)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("text matching `{pattern}`"));
            Diagnostic::error(
                codes::SCHEMA,
                format!("{path}: {} is not {what}", show(instance)),
            )
            .with_span(at_value())
        }
        ValidationErrorKind::MaxLength { limit } => {
            let n = instance.as_str().map(|s| s.chars().count()).unwrap_or(0);
            Diagnostic::error(
                codes::SCHEMA,
                format!("{path}: too long ({n} characters; at most {limit})"),
            )
            .with_span(at_value())
        }
        ValidationErrorKind::MinLength { limit } => {
            let msg = if *limit <= 1 {
                format!("{path}: must not be empty")
            } else {
                format!("{path}: too short (at least {limit} characters)")
            };
            Diagnostic::error(codes::SCHEMA, msg).with_span(at_value())
        }
        ValidationErrorKind::MaxItems { limit } => {
            let n = instance.as_array().map(Vec::len).unwrap_or(0);
            Diagnostic::error(
                codes::SCHEMA,
                format!("{path}: {n} items; at most {limit} allowed"),
            )
            .with_span(at_value())
        }
        ValidationErrorKind::MinItems { limit } => {
            let msg = if *limit <= 1 {
                format!("{path}: must not be an empty list (leave the key out instead)")
            } else {
                format!("{path}: at least {limit} items needed")
            };
            Diagnostic::error(codes::SCHEMA, msg).with_span(at_value())
        }
        ValidationErrorKind::MaxProperties { limit } => {
            let n = instance.as_object().map(Map::len).unwrap_or(0);
            Diagnostic::error(
                codes::SCHEMA,
                format!("{path}: {n} entries; at most {limit} allowed"),
            )
            .with_span(at_value())
        }
        ValidationErrorKind::Maximum { limit } => Diagnostic::error(
            codes::SCHEMA,
            format!("{path}: {instance} is more than {limit}"),
        )
        .with_span(at_value()),
        ValidationErrorKind::Minimum { limit } => Diagnostic::error(
            codes::SCHEMA,
            format!("{path}: {instance} is less than {limit}"),
        )
        .with_span(at_value()),
        ValidationErrorKind::PropertyNames { error } => {
            let key = error.instance().as_str().unwrap_or_default().to_owned();
            let key_ptr = format!("{ptr}/{}", escape_segment(&key));
            let reason = match error.kind() {
                ValidationErrorKind::MaxLength { limit } => {
                    format!("is longer than {limit} characters")
                }
                ValidationErrorKind::Pattern { pattern } => format!(
                    "is not {}",
                    model::pattern_description(pattern).unwrap_or("a valid key")
                ),
                _ => format!("is not allowed ({error})"),
            };
            Diagnostic::error(codes::SCHEMA, format!("{path}: key `{key}` {reason}"))
                .with_span(key_span(map, &key_ptr))
        }
        _ => Diagnostic::error(codes::SCHEMA, format!("{path}: {e}")).with_span(at_value()),
    };
    out.push(d);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_compiles() {
        let _ = compiled();
    }

    #[test]
    fn json_from_yaml() {
        let v = load_value(
            "a: 1\nb: [x, 2.5, true, ~]\n1: k\nc: {<<: {d: 1, e: 2}, e: 3}\nt: !Foo bar\n",
        )
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "a": 1, "b": ["x", 2.5, true, null], "1": "k",
                "c": {"d": 1, "e": 3}, "t": "bar"
            })
        );
        // Duplicates keep the last value (they are reported elsewhere).
        assert_eq!(
            load_value("a: 1\na: 2\n").unwrap(),
            serde_json::json!({"a": 2})
        );
        assert_eq!(load_value("").unwrap(), Value::Null);
        assert!(load_value("a: [1\n").is_err());
    }

    #[test]
    fn paths_for_people() {
        assert_eq!(display_path(""), "rule");
        assert_eq!(
            display_path("/entityMappings/0/fieldMappings/1/columnName"),
            "entityMappings[0].fieldMappings[1].columnName"
        );
        assert_eq!(display_path("/customDetails/a~1b"), "customDetails.a/b");
    }

    #[test]
    fn suggestions() {
        let keys = ["entityMappings", "tactics", "dataTypes", "queryFrequency"];
        assert_eq!(did_you_mean("entityMapping", keys), Some("entityMappings"));
        assert_eq!(did_you_mean("datatypes", keys), Some("dataTypes"));
        assert_eq!(did_you_mean("tactic", keys), Some("tactics"));
        assert_eq!(did_you_mean("foo", keys), None);
        assert_eq!(
            did_you_mean("Initial access", ["InitialAccess", "Impact"]),
            Some("InitialAccess")
        );
        assert_eq!(
            did_you_mean("Hight", ["High", "Medium", "Low"]),
            Some("High")
        );
    }
}
