//! `[lint]` in `detc.toml`: which codes to report, at which severity, and where.
//!
//! ```toml
//! [lint]
//! select = ["DS", "DK", "DR", "DL"]   # code prefixes to report (default: all)
//! ignore = ["DL031"]                  # code prefixes never reported
//! [lint.severity]
//! DL020 = "error"                     # error | warning | off
//! [lint.per-path-ignores]
//! "Hunting Queries/**" = ["DL011"]    # globs relative to the detc.toml folder
//! ```

use crate::diagnostics::{codes, Diagnostic, Severity};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LintSettings {
    #[serde(default)]
    pub select: Vec<String>,
    #[serde(default)]
    pub ignore: Vec<String>,
    #[serde(default)]
    pub severity: BTreeMap<String, String>,
    #[serde(default)]
    pub per_path_ignores: BTreeMap<String, Vec<String>>,
    /// The folder of the `detc.toml`, which per-path globs are relative to.
    #[serde(skip)]
    pub root: PathBuf,
}

impl LintSettings {
    /// The `[lint]` table of a `detc.toml` text, if any. A mistake is a DC001 error naming it.
    pub fn from_toml(text: &str, file: &Path) -> Result<LintSettings, Diagnostic> {
        let bad = |m: String| Diagnostic::error(codes::CONFIG, m).with_file(file.to_path_buf());
        let table: toml::Table =
            toml::from_str(text).map_err(|e| bad(format!("detc.toml: {e}")))?;
        let mut s = match table.get("lint") {
            None => LintSettings::default(),
            Some(v) => v
                .clone()
                .try_into()
                .map_err(|e| bad(format!("[lint]: {e}")))?,
        };
        for (code, sev) in &s.severity {
            if !matches!(sev.as_str(), "error" | "warning" | "off") {
                return Err(bad(format!(
                    "[lint.severity] {code} = {sev:?}: use \"error\", \"warning\" or \"off\""
                )));
            }
        }
        s.root = file.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(s)
    }

    /// The findings to report: selected, not ignored (globally or for their path), with
    /// severity overrides applied. Findings without a code prefix match are kept as they are.
    pub fn apply(&self, diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
        let matches = |prefixes: &[String], code: &str| {
            prefixes.iter().any(|p| {
                code.to_ascii_uppercase()
                    .starts_with(&p.to_ascii_uppercase())
            })
        };
        diags
            .into_iter()
            .filter(|d| {
                d.code == codes::CONFIG
                    || d.code == codes::INTERNAL
                    || self.select.is_empty()
                    || matches(&self.select, d.code)
            })
            .filter(|d| !matches(&self.ignore, d.code))
            // Off-by-default codes need to be selected by their full code.
            .filter(|d| {
                !super::OFF_BY_DEFAULT.contains(&d.code)
                    || self.select.iter().any(|s| s.eq_ignore_ascii_case(d.code))
            })
            .filter(|d| {
                let Some(file) = &d.file else { return true };
                let rel = file.strip_prefix(&self.root).unwrap_or(file);
                let rel = rel.to_string_lossy().replace('\\', "/");
                let rel = rel.trim_start_matches("./");
                !self
                    .per_path_ignores
                    .iter()
                    .any(|(glob, codes)| glob_match(glob, rel) && matches(codes, d.code))
            })
            .filter_map(|mut d| {
                match self
                    .severity
                    .iter()
                    .find(|(c, _)| c.eq_ignore_ascii_case(d.code))
                    .map(|(_, s)| s.as_str())
                {
                    Some("off") => return None,
                    Some("error") => d.severity = Severity::Error,
                    Some("warning") => d.severity = Severity::Warning,
                    _ => {}
                }
                Some(d)
            })
            .collect()
    }
}

/// `*` matches within one path segment, `**` any number of segments, `?` one character.
pub fn glob_match(glob: &str, path: &str) -> bool {
    fn go(g: &[u8], p: &[u8]) -> bool {
        match g.first() {
            None => p.is_empty(),
            Some(b'*') if g.get(1) == Some(&b'*') => {
                let rest = g[2..].strip_prefix(b"/").unwrap_or(&g[2..]);
                (0..=p.len())
                    .any(|i| (i == 0 || p[i - 1] == b'/' || i == p.len()) && go(rest, &p[i..]))
            }
            Some(b'*') => (0..=p.len())
                .take_while(|&i| i == 0 || p[i - 1] != b'/')
                .any(|i| go(&g[1..], &p[i..])),
            Some(b'?') => !p.is_empty() && p[0] != b'/' && go(&g[1..], &p[1..]),
            Some(c) => p.first() == Some(c) && go(&g[1..], &p[1..]),
        }
    }
    go(glob.as_bytes(), path.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("Hunting Queries/**", "Hunting Queries/a/b.yaml"));
        assert!(glob_match("**/*.yaml", "x/y/z.yaml"));
        assert!(glob_match("*.yaml", "z.yaml"));
        assert!(!glob_match("*.yaml", "x/z.yaml"));
        assert!(glob_match("rules/?.yaml", "rules/a.yaml"));
        assert!(!glob_match("Detections/**", "Hunting Queries/a.yaml"));
        assert!(!glob_match("**/x.yaml", "ax.yaml/b"));
        assert!(glob_match("**/x.yaml", "a/x.yaml"));
    }

    #[test]
    fn select_ignore_severity_and_paths() {
        let s = LintSettings::from_toml(
            "[lint]\nselect = [\"DL\", \"DS\"]\nignore = [\"DL031\"]\n[lint.severity]\nDL020 = \"error\"\nDS003 = \"off\"\n[lint.per-path-ignores]\n\"hunting/**\" = [\"DL011\"]\n",
            Path::new("repo/detc.toml"),
        )
        .unwrap();
        let d = |code: &'static str, file: &str| {
            Diagnostic::warning(code, "x").with_file(PathBuf::from(file))
        };
        let out = s.apply(vec![
            d("DL020", "repo/a.yaml"),
            d("DL031", "repo/a.yaml"),
            d("DR002", "repo/a.yaml"),
            d("DS003", "repo/a.yaml"),
            d("DL011", "repo/hunting/x/a.yaml"),
            d("DL011", "repo/detections/a.yaml"),
        ]);
        let got: Vec<(&str, Severity)> = out.iter().map(|d| (d.code, d.severity)).collect();
        assert_eq!(
            got,
            [("DL020", Severity::Error), ("DL011", Severity::Warning)]
        );
        let e =
            LintSettings::from_toml("[lint]\nselet = []\n", Path::new("detc.toml")).unwrap_err();
        assert!(e.message.contains("selet"), "{}", e.message);
    }
}
