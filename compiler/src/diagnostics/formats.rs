//! Machine-readable renderings of a whole lint run: JSON, SARIF 2.1.0, GitHub workflow
//! annotations and JUnit XML. Each takes every diagnostic at once (SARIF and JUnit group them)
//! and is deterministic: the same diagnostics give the same bytes.

use super::render::Sources;
use super::{Diagnostic, Severity};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A diagnostic's location: file, then 1-based start and end (line, column), if it has a span.
struct Located {
    file: Option<String>,
    start: Option<(usize, usize)>,
    end: Option<(usize, usize)>,
}

fn locate(sources: &Sources, d: &Diagnostic) -> Located {
    let file = d.file.as_ref().map(|f| f.display().to_string());
    let (start, end) = match d.span {
        Some(span) => (
            sources.line_col(d.file.as_ref(), span.start),
            sources.line_col(d.file.as_ref(), span.end.max(span.start)),
        ),
        None => (None, None),
    };
    Located { file, start, end }
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// One JSON object per diagnostic, in order.
pub fn json(sources: &Sources, diags: &[Diagnostic]) -> String {
    let items: Vec<Value> = diags
        .iter()
        .map(|d| {
            let l = locate(sources, d);
            json!({
                "code": d.code,
                "severity": severity(d.severity),
                "message": d.message,
                "file": l.file,
                "line": l.start.map(|p| p.0),
                "column": l.start.map(|p| p.1),
                "end_line": l.end.map(|p| p.0),
                "end_column": l.end.map(|p| p.1),
                "notes": d.notes,
            })
        })
        .collect();
    serde_json::to_string_pretty(&items).unwrap() + "\n"
}

/// SARIF 2.1.0: one run of the `detc` tool, its rules being the codes that occur.
pub fn sarif(sources: &Sources, diags: &[Diagnostic], describe: &dyn Fn(&str) -> String) -> String {
    let codes: std::collections::BTreeSet<&str> = diags.iter().map(|d| d.code).collect();
    let rules: Vec<Value> = codes
        .iter()
        .map(|c| json!({"id": c, "shortDescription": {"text": describe(c)}}))
        .collect();
    let index: BTreeMap<&str, usize> = codes.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    let results: Vec<Value> = diags
        .iter()
        .map(|d| {
            let l = locate(sources, d);
            let mut text = d.message.clone();
            for n in &d.notes {
                text.push('\n');
                text.push_str(n);
            }
            let mut result = json!({
                "ruleId": d.code,
                "ruleIndex": index[d.code],
                "level": match d.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                    Severity::Info => "note",
                },
                "message": {"text": text},
            });
            if let Some(file) = &l.file {
                let mut phys = json!({"artifactLocation": {"uri": uri(file)}});
                if let (Some((sl, sc)), Some((el, ec))) = (l.start, l.end) {
                    phys["region"] = json!({
                        "startLine": sl, "startColumn": sc, "endLine": el, "endColumn": ec
                    });
                }
                result["locations"] = json!([{"physicalLocation": phys}]);
            }
            result
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "detc",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&doc).unwrap() + "\n"
}

/// A relative path as a URI reference: forward slashes, reserved characters escaped.
fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.replace('\\', "/").bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// GitHub Actions workflow commands (`::error file=...,line=...::message`).
pub fn github(sources: &Sources, diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let l = locate(sources, d);
        let kind = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = vec![format!("title={}", gh_property(d.code))];
        if let Some(f) = &l.file {
            props.insert(0, format!("file={}", gh_property(f)));
        }
        if let (Some((sl, sc)), Some((el, ec))) = (l.start, l.end) {
            props.push(format!("line={sl}"));
            props.push(format!("col={sc}"));
            props.push(format!("endLine={el}"));
            if el == sl {
                props.push(format!("endColumn={ec}"));
            }
        }
        let mut msg = d.message.clone();
        for n in &d.notes {
            msg.push('\n');
            msg.push_str(n);
        }
        out.push_str(&format!(
            "::{kind} {}::{}\n",
            props.join(","),
            gh_data(&msg)
        ));
    }
    out
}

fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// JUnit XML: one test case per linted file, failing with its error-level findings.
pub fn junit(sources: &Sources, diags: &[Diagnostic], files: &[PathBuf]) -> String {
    let mut by_file: BTreeMap<String, Vec<&Diagnostic>> = files
        .iter()
        .map(|f| (f.display().to_string(), Vec::new()))
        .collect();
    for d in diags {
        let f = d
            .file
            .as_ref()
            .map(|f| f.display().to_string())
            .unwrap_or_default();
        by_file.entry(f).or_default().push(d);
    }
    let failures = by_file
        .values()
        .filter(|ds| ds.iter().any(|d| d.is_error()))
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"detc lint\" tests=\"{}\" failures=\"{failures}\">\n",
        by_file.len()
    ));
    out.push_str(&format!(
        "  <testsuite name=\"detc lint\" tests=\"{}\" failures=\"{failures}\">\n",
        by_file.len()
    ));
    for (file, ds) in &by_file {
        out.push_str(&format!(
            "    <testcase classname=\"detc.lint\" name=\"{}\"",
            xml(file)
        ));
        let errors: Vec<&&Diagnostic> = ds.iter().filter(|d| d.is_error()).collect();
        if errors.is_empty() {
            out.push_str("/>\n");
            continue;
        }
        out.push_str(">\n");
        let text: Vec<String> = errors
            .iter()
            .map(|d| {
                let l = locate(sources, d);
                match l.start {
                    Some((line, col)) => format!("{file}:{line}:{col}: {} {}", d.code, d.message),
                    None => format!("{file}: {} {}", d.code, d.message),
                }
            })
            .collect();
        out.push_str(&format!(
            "      <failure message=\"{} error(s)\" type=\"{}\">{}</failure>\n",
            errors.len(),
            xml(errors[0].code),
            xml(&text.join("\n"))
        ));
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn xml(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {
                out.push_str(&format!("\\u{{{:04x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_escapes_data_and_properties() {
        assert_eq!(gh_data("50% a\nb"), "50%25 a%0Ab");
        assert_eq!(gh_property("a:b,c"), "a%3Ab%2Cc");
    }

    #[test]
    fn xml_and_uri_escaping() {
        assert_eq!(
            xml("a<b & \"c\"\u{1}"),
            "a&lt;b &amp; &quot;c&quot;\\u{0001}"
        );
        assert_eq!(
            uri("Hunting Queries/a b.yaml"),
            "Hunting%20Queries/a%20b.yaml"
        );
    }
}
