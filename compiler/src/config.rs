//! `detc.toml`: the tables, functions and watchlists of the user's workspace that detc cannot
//! know from its shipped schemas. Found by walking up from a rule file or folder; the first
//! `detc.toml` found wins. The format is documented in `docs/config.md`.
//!
//! ```toml
//! [tables.MyCustomTable_CL]
//! columns = { TimeGenerated = "datetime", Computer = "string", RawData = "string" }
//!
//! [functions.MyParser]
//! columns = [["TimeGenerated", "datetime"], ["User", "string"]]
//! parameters = [{ name = "starttime", type = "datetime", optional = true }]
//!
//! [watchlists.VIPUsers]
//! columns = { SearchKey = "string", Department = "string" }
//! ```
//!
//! Every mistake is a [`Diagnostic`] with code [`codes::CONFIG`], the file, and the byte span
//! of the offending key or value (render it with the file's text in `render::Sources`).

use crate::catalog::{Catalog, FunctionParam, FunctionSchema, TableSchema};
use crate::diagnostics::{codes, Diagnostic, Span};
use crate::types::Type;
use std::path::{Path, PathBuf};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// The file name looked for.
pub const FILE_NAME: &str = "detc.toml";

/// Top-level sections read elsewhere (`[lint]`: `checks::settings`): accepted here without a
/// warning.
pub const RESERVED_SECTIONS: &[&str] = &["lint"];

const TOP_KEYS: &[&str] = &["tables", "functions", "watchlists"];
const TABLE_KEYS: &[&str] = &["columns", "replace"];
const FUNCTION_KEYS: &[&str] = &["columns", "parameters", "replace"];
const WATCHLIST_KEYS: &[&str] = &["columns"];
const PARAM_KEYS: &[&str] = &["name", "type", "optional", "default"];
const TYPE_NAMES: &str =
    "bool, int, long, real, decimal, string, datetime, timespan, guid, dynamic";

/// A table declared in `[tables.<Name>]`.
#[derive(Clone, Debug, PartialEq)]
pub struct TableDecl {
    pub schema: TableSchema,
    /// `replace = true`: the declared columns are the whole table. Otherwise, for a table
    /// detc already knows, they are added to its columns (a same-named column takes the
    /// declared type).
    pub replace: bool,
    /// The span of the section's name.
    pub span: Span,
}

/// A function declared in `[functions.<Name>]`.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionDecl {
    pub schema: FunctionSchema,
    /// As for tables; without it, parameters are merged by name too.
    pub replace: bool,
    pub span: Span,
}

/// The columns of one watchlist, declared in `[watchlists.<Alias>]`.
#[derive(Clone, Debug, PartialEq)]
pub struct WatchlistDecl {
    pub alias: String,
    pub columns: Vec<(String, Type)>,
    pub span: Span,
}

/// A parsed `detc.toml`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    pub tables: Vec<TableDecl>,
    pub functions: Vec<FunctionDecl>,
    pub watchlists: Vec<WatchlistDecl>,
    /// Findings that do not stop loading: an unknown top-level section (ignored).
    pub warnings: Vec<Diagnostic>,
    /// The file's text, for sections read later (`[lint]`) and for rendering diagnostics.
    pub text: String,
}

/// The first `detc.toml` in `start` (a file's folder, or the folder itself) or any folder
/// above it, up to the filesystem root.
pub fn find(start: &Path) -> Option<PathBuf> {
    let abs = if start.is_absolute() {
        start.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(start)
    };
    let abs = abs.canonicalize().unwrap_or(abs);
    let first = if abs.is_dir() {
        abs.as_path()
    } else {
        abs.parent()?
    };
    first
        .ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|p| p.is_file())
}

/// Finds (see [`find`]) and loads the `detc.toml` that applies to `start`. `Ok(None)` when
/// there is none.
pub fn find_and_load(start: &Path) -> Result<Option<(PathBuf, Config)>, Diagnostic> {
    match find(start) {
        None => Ok(None),
        Some(path) => load(&path).map(|c| Some((path, c))),
    }
}

/// Reads and parses one config file; diagnostics carry `path`.
pub fn load(path: &Path) -> Result<Config, Diagnostic> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Diagnostic::error(codes::IO, format!("cannot read {}: {e}", path.display())).with_file(path)
    })?;
    match parse(&text) {
        Ok(mut c) => {
            for w in &mut c.warnings {
                w.file = Some(path.to_path_buf());
            }
            Ok(c)
        }
        Err(d) => Err(d.with_file(path)),
    }
}

fn span(r: std::ops::Range<usize>) -> Span {
    Span::new(r.start, r.end)
}

fn err(at: std::ops::Range<usize>, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::error(codes::CONFIG, msg).with_span(span(at))
}

fn kind(v: &DeValue) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn unknown_key(key: &Spanned<std::borrow::Cow<str>>, known: &[&str], what: &str) -> Diagnostic {
    let name = key.get_ref().as_ref();
    let mut d = err(key.span(), format!("unknown key `{name}` in {what}"))
        .with_note(format!("expected one of: {}", known.join(", ")));
    if let Some(s) = crate::lower::suggest_name(name, known.iter().copied()) {
        d = d.with_note(format!("did you mean `{s}`?"));
    }
    d
}

fn as_table<'a, 'i>(
    v: &'a Spanned<DeValue<'i>>,
    what: &str,
) -> Result<&'a DeTable<'i>, Diagnostic> {
    match v.get_ref() {
        DeValue::Table(t) => Ok(t),
        other => Err(err(
            v.span(),
            format!("{what} must be a table, found {}", kind(other)),
        )),
    }
}

fn as_str<'a>(v: &'a Spanned<DeValue>, what: &str) -> Result<&'a str, Diagnostic> {
    match v.get_ref() {
        DeValue::String(s) => Ok(s.as_ref()),
        other => Err(err(
            v.span(),
            format!("{what} must be a string, found {}", kind(other)),
        )),
    }
}

fn as_bool(v: &Spanned<DeValue>, what: &str) -> Result<bool, Diagnostic> {
    match v.get_ref() {
        DeValue::Boolean(b) => Ok(*b),
        other => Err(err(
            v.span(),
            format!("{what} must be true or false, found {}", kind(other)),
        )),
    }
}

fn parse_type(v: &Spanned<DeValue>, what: &str) -> Result<Type, Diagnostic> {
    let s = as_str(v, what)?;
    Type::parse(s).ok_or_else(|| {
        let mut d = err(v.span(), format!("unknown type `{s}` for {what}"))
            .with_note(format!("KQL types: {TYPE_NAMES}"));
        let names = TYPE_NAMES.split(", ");
        if let Some(t) = crate::lower::suggest_name(s, names) {
            d = d.with_note(format!("did you mean `{t}`?"));
        }
        d
    })
}

/// `columns = { Name = "type", ... }` or `columns = [["Name", "type"], ...]`.
fn parse_columns(v: &Spanned<DeValue>, owner: &str) -> Result<Vec<(String, Type)>, Diagnostic> {
    let mut out: Vec<(String, Type)> = Vec::new();
    let mut push = |name: &str, at: std::ops::Range<usize>, ty: Type| {
        if name.is_empty() {
            return Err(err(at, format!("empty column name in {owner}")));
        }
        if out.iter().any(|(n, _)| n == name) {
            return Err(err(
                at,
                format!("column `{name}` is declared twice in {owner}"),
            ));
        }
        out.push((name.to_string(), ty));
        Ok(())
    };
    match v.get_ref() {
        DeValue::Table(t) => {
            for (k, ty) in t.iter() {
                let name = k.get_ref().as_ref();
                let ty = parse_type(ty, &format!("column `{name}` of {owner}"))?;
                push(name, k.span(), ty)?;
            }
        }
        DeValue::Array(items) => {
            for item in items.iter() {
                let pair = match item.get_ref() {
                    DeValue::Array(p) if p.len() == 2 => p,
                    _ => {
                        return Err(err(
                            item.span(),
                            format!("each column of {owner} must be a [\"Name\", \"type\"] pair"),
                        ))
                    }
                };
                let name = as_str(&pair[0], "a column name")?;
                let ty = parse_type(&pair[1], &format!("column `{name}` of {owner}"))?;
                push(name, pair[0].span(), ty)?;
            }
        }
        other => {
            return Err(err(
                v.span(),
                format!(
                    "`columns` of {owner} must be a table ({{ Name = \"type\" }}) or an array of [\"Name\", \"type\"] pairs, found {}",
                    kind(other)
                ),
            ))
        }
    }
    Ok(out)
}

fn parse_params(v: &Spanned<DeValue>, owner: &str) -> Result<Vec<FunctionParam>, Diagnostic> {
    let DeValue::Array(items) = v.get_ref() else {
        return Err(err(
            v.span(),
            format!(
                "`parameters` of {owner} must be an array of tables, found {}",
                kind(v.get_ref())
            ),
        ));
    };
    let mut out: Vec<FunctionParam> = Vec::new();
    for item in items.iter() {
        let what = format!("a parameter of {owner}");
        let t = as_table(item, &what)?;
        let (mut name, mut ty, mut optional, mut default) = (None, None, None, None);
        for (k, val) in t.iter() {
            match k.get_ref().as_ref() {
                "name" => name = Some((as_str(val, "a parameter name")?.to_string(), val.span())),
                "type" => ty = Some(val),
                "optional" => optional = Some(as_bool(val, "`optional`")?),
                "default" => default = Some(as_str(val, "`default` (KQL text)")?.to_string()),
                _ => return Err(unknown_key(k, PARAM_KEYS, &what)),
            }
        }
        let Some((name, name_at)) = name else {
            return Err(err(item.span(), format!("{what} has no `name`")));
        };
        let Some(ty) = ty else {
            return Err(err(
                item.span(),
                format!("parameter `{name}` of {owner} has no `type`"),
            ));
        };
        let ty = parse_type(ty, &format!("parameter `{name}` of {owner}"))?;
        if out.iter().any(|p| p.name == name) {
            return Err(err(
                name_at,
                format!("parameter `{name}` is declared twice in {owner}"),
            ));
        }
        out.push(FunctionParam {
            name,
            ty,
            optional: optional.unwrap_or(default.is_some()),
            default,
        });
    }
    Ok(out)
}

/// Parses the text of a `detc.toml`. The diagnostic has no file; [`load`] adds it.
pub fn parse(text: &str) -> Result<Config, Diagnostic> {
    let doc = DeTable::parse(text).map_err(|e| {
        let d = Diagnostic::error(
            codes::CONFIG,
            format!("detc.toml is not valid TOML: {}", e.message()),
        );
        match e.span() {
            Some(r) => d.with_span(span(r)),
            None => d,
        }
    })?;
    let mut config = Config {
        text: text.to_string(),
        ..Config::default()
    };
    for (key, value) in doc.get_ref().iter() {
        let section = key.get_ref().as_ref();
        match section {
            "tables" | "functions" | "watchlists" => {
                let entries = as_table(value, &format!("`[{section}]`"))?;
                for (name_key, body) in entries.iter() {
                    let name = name_key.get_ref().as_ref();
                    if name.is_empty() {
                        return Err(err(name_key.span(), format!("empty name in [{section}]")));
                    }
                    let owner = format!("[{section}.{name}]");
                    let body = as_table(body, &owner)?;
                    let known = match section {
                        "tables" => TABLE_KEYS,
                        "functions" => FUNCTION_KEYS,
                        _ => WATCHLIST_KEYS,
                    };
                    let (mut columns, mut params, mut replace) = (None, Vec::new(), false);
                    for (k, v) in body.iter() {
                        match k.get_ref().as_ref() {
                            "columns" if known.contains(&"columns") => {
                                columns = Some(parse_columns(v, &owner)?)
                            }
                            "parameters" if known.contains(&"parameters") => {
                                params = parse_params(v, &owner)?
                            }
                            "replace" if known.contains(&"replace") => {
                                replace = as_bool(v, "`replace`")?
                            }
                            _ => return Err(unknown_key(k, known, &owner)),
                        }
                    }
                    let Some(columns) = columns else {
                        return Err(err(name_key.span(), format!("{owner} has no `columns`")));
                    };
                    let at = span(name_key.span());
                    match section {
                        "tables" => config.tables.push(TableDecl {
                            schema: TableSchema {
                                name: name.to_string(),
                                columns,
                            },
                            replace,
                            span: at,
                        }),
                        "functions" => config.functions.push(FunctionDecl {
                            schema: FunctionSchema {
                                name: name.to_string(),
                                params,
                                columns,
                            },
                            replace,
                            span: at,
                        }),
                        _ => config.watchlists.push(WatchlistDecl {
                            alias: name.to_string(),
                            columns,
                            span: at,
                        }),
                    }
                }
            }
            s if RESERVED_SECTIONS.contains(&s) => {}
            s => {
                let mut d = Diagnostic::warning(
                    codes::CONFIG,
                    format!("unknown section `{s}` in detc.toml (ignored)"),
                )
                .with_span(span(key.span()))
                .with_note(format!(
                    "detc reads: {}",
                    TOP_KEYS
                        .iter()
                        .chain(RESERVED_SECTIONS)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                if let Some(t) = crate::lower::suggest_name(s, TOP_KEYS.iter().copied()) {
                    d = d.with_note(format!("did you mean `{t}`?"));
                }
                config.warnings.push(d);
            }
        }
    }
    Ok(config)
}

/// `base` with `extra` merged in: same-named entries take the new value in place, new ones
/// are appended.
fn merge<T: Clone>(base: &[T], extra: &[T], same: impl Fn(&T, &T) -> bool) -> Vec<T> {
    let mut out = base.to_vec();
    for e in extra {
        match out.iter_mut().find(|b| same(b, e)) {
            Some(b) => *b = e.clone(),
            None => out.push(e.clone()),
        }
    }
    out
}

impl Config {
    /// Adds the declared tables, functions and watchlists to `catalog`. A declaration for a
    /// name the catalog already knows extends it unless it says `replace = true`.
    pub fn apply(&self, catalog: &mut Catalog) {
        for t in &self.tables {
            let schema = match catalog.table(&t.schema.name) {
                Some(old) if !t.replace => TableSchema {
                    name: t.schema.name.clone(),
                    columns: merge(&old.columns, &t.schema.columns, |a, b| a.0 == b.0),
                },
                _ => t.schema.clone(),
            };
            catalog.add(schema);
        }
        for f in &self.functions {
            let schema = match catalog.function(&f.schema.name) {
                Some(old) if !f.replace => FunctionSchema {
                    name: f.schema.name.clone(),
                    params: merge(&old.params, &f.schema.params, |a, b| a.name == b.name),
                    columns: merge(&old.columns, &f.schema.columns, |a, b| a.0 == b.0),
                },
                _ => f.schema.clone(),
            };
            catalog.add_function(schema);
        }
        for w in &self.watchlists {
            catalog.add_watchlist(w.alias.clone(), w.columns.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::LineIndex;

    fn line_col(text: &str, d: &Diagnostic) -> (usize, usize) {
        LineIndex::new(text).line_col(text, d.span.expect("a span").start)
    }

    const GOOD: &str = r#"
# Workspace-specific schemas.
[tables.MyCustomTable_CL]
columns = { TimeGenerated = "datetime", Computer = "string", RawData = "string" }

[tables.Ordered_CL]
columns = [["b", "long"], ["a", "dynamic"]]

[tables.Syslog]
columns = { MyExtra_s = "string" }

[tables.Replaced]
replace = true
columns = { X = "int" }

[functions.MyParser]
columns = { TimeGenerated = "datetime", User = "string" }
parameters = [
  { name = "starttime", type = "datetime", optional = true },
  { name = "user", type = "string", default = "'*'" },
  { name = "required", type = "long" },
]

[functions._Im_Dns]
columns = { MyDnsExtra = "string" }

[watchlists.VIPUsers]
columns = { SearchKey = "string", Department = "string" }

[lint]
select = ["DR001"]
"#;

    #[test]
    fn good_file() {
        let c = parse(GOOD).unwrap();
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(c.tables.len(), 4);
        let t = &c.tables[0];
        assert_eq!(t.schema.name, "MyCustomTable_CL");
        assert_eq!(
            t.schema.columns,
            vec![
                ("TimeGenerated".to_string(), Type::DateTime),
                ("Computer".to_string(), Type::String),
                ("RawData".to_string(), Type::String)
            ]
        );
        assert_eq!(&GOOD[t.span.start..t.span.end], "MyCustomTable_CL");
        assert_eq!(c.tables[1].schema.columns[0], ("b".to_string(), Type::Long));
        assert!(c.tables[3].replace && !c.tables[0].replace);
        let f = &c.functions[0].schema;
        assert_eq!(f.params.len(), 3);
        assert!(f.params[0].optional && f.params[1].optional && !f.params[2].optional);
        assert_eq!(f.params[1].default.as_deref(), Some("'*'"));
        assert_eq!(c.watchlists[0].alias, "VIPUsers");

        let mut cat = Catalog::builtin();
        let syslog_cols = cat.table("Syslog").unwrap().columns.len();
        c.apply(&mut cat);
        assert!(cat
            .table("MyCustomTable_CL")
            .unwrap()
            .column("RawData")
            .is_some());
        let syslog = cat.table("Syslog").unwrap();
        assert_eq!(syslog.columns.len(), syslog_cols + 1);
        assert!(syslog.column("SyslogMessage").is_some() && syslog.column("MyExtra_s").is_some());
        assert_eq!(cat.table("Replaced").unwrap().columns.len(), 1);
        assert_eq!(cat.function("MyParser").unwrap().params.len(), 3);
        let dns = cat.function("_Im_Dns").unwrap();
        assert!(dns.column("DnsQuery").is_some() && dns.column("MyDnsExtra").is_some());
        assert!(dns.param("domain_has_any").is_some());
        assert!(cat.names().iter().any(|n| n == "MyCustomTable_CL"));
        assert!(cat.function_names().iter().any(|n| n == "MyParser"));
        let wl = cat.watchlist_columns("VIPUsers");
        assert!(wl.iter().any(|(n, _)| n == "Department"));
        assert!(wl.iter().any(|(n, _)| n == "_DTItemId"));
    }

    #[test]
    fn bad_type_is_located() {
        let text = "[tables.T]\ncolumns = { A = \"string\", B = \"strng\" }\n";
        let d = parse(text).unwrap_err();
        assert_eq!(d.code, codes::CONFIG);
        assert!(d.message.contains("unknown type `strng`"), "{}", d.message);
        assert_eq!(line_col(text, &d), (2, 31));
        assert!(d.notes.iter().any(|n| n.contains("did you mean `string`")));

        let text = "[functions.F]\ncolumns = [[\"A\", \"long\"]]\nparameters = [{ name = \"p\", type = \"datetme\" }]\n";
        let d = parse(text).unwrap_err();
        assert!(
            d.message
                .contains("unknown type `datetme` for parameter `p`"),
            "{}",
            d.message
        );
        assert_eq!(line_col(text, &d).0, 3);
    }

    #[test]
    fn unknown_key_is_located() {
        let text = "[tables.T]\ncolumns = { A = \"string\" }\ncolums = 1\n";
        let d = parse(text).unwrap_err();
        assert_eq!(d.message, "unknown key `colums` in [tables.T]");
        assert_eq!(line_col(text, &d), (3, 1));
        assert!(d.notes.iter().any(|n| n.contains("did you mean `columns`")));

        let text = "[watchlists.W]\ncolumns = { A = \"string\" }\nreplace = true\n";
        assert!(parse(text)
            .unwrap_err()
            .message
            .contains("unknown key `replace`"));

        let text = "[functions.F]\ncolumns = {}\nparameters = [{ name = \"p\", type = \"int\", opt = true }]\n";
        let d = parse(text).unwrap_err();
        assert!(d.message.contains("unknown key `opt`"), "{}", d.message);
        assert_eq!(line_col(text, &d), (3, 43));
    }

    #[test]
    fn other_mistakes() {
        let missing = parse("[tables.T]\nreplace = true\n").unwrap_err();
        assert!(missing.message.contains("has no `columns`"));
        let twice =
            parse("[tables.T]\ncolumns = [[\"A\", \"int\"], [\"A\", \"long\"]]\n").unwrap_err();
        assert!(twice.message.contains("declared twice"));
        let shape = parse("[tables.T]\ncolumns = \"A\"\n").unwrap_err();
        assert!(shape.message.contains("must be a table"));
        let pair = parse("[tables.T]\ncolumns = [[\"A\"]]\n").unwrap_err();
        assert!(pair.message.contains("pair"));
        let not_toml = "[tables.T\ncolumns = {}\n";
        let d = parse(not_toml).unwrap_err();
        assert!(
            d.message.starts_with("detc.toml is not valid TOML"),
            "{}",
            d.message
        );
        assert_eq!(line_col(not_toml, &d).0, 1);
        let top = parse("tables = 3\n").unwrap_err();
        assert!(top.message.contains("must be a table"));
    }

    #[test]
    fn unknown_sections_are_ignored_with_a_warning_reserved_ones_silently() {
        let c = parse("[lint]\nselect = [\"X\"]\n[tabels.T]\ncolumns = {}\n").unwrap();
        assert!(c.tables.is_empty());
        assert_eq!(c.warnings.len(), 1);
        assert!(!c.warnings[0].is_error());
        assert!(c.warnings[0]
            .notes
            .iter()
            .any(|n| n.contains("did you mean `tables`")));
    }

    #[test]
    fn find_walks_up_and_stops_at_the_first() {
        let root = std::env::temp_dir().join(format!("detc-config-test-{}", std::process::id()));
        let deep = root.join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(root.join(FILE_NAME), "[tables.Outer]\ncolumns = {}\n").unwrap();
        std::fs::write(
            root.join("a").join(FILE_NAME),
            "[tables.Inner]\ncolumns = {}\n",
        )
        .unwrap();
        let rule = deep.join("rule.yaml");
        std::fs::write(&rule, "").unwrap();
        let (path, c) = find_and_load(&rule).unwrap().unwrap();
        assert_eq!(path, root.join("a").join(FILE_NAME).canonicalize().unwrap());
        assert_eq!(c.tables[0].schema.name, "Inner");
        let (_, c) = find_and_load(&root).unwrap().unwrap();
        assert_eq!(c.tables[0].schema.name, "Outer");
        std::fs::write(
            root.join(FILE_NAME),
            "[tables.Outer]\ncolumns = { A = \"nope\" }\n",
        )
        .unwrap();
        let d = find_and_load(&root).unwrap_err();
        assert_eq!(
            d.file.as_deref(),
            Some(root.join(FILE_NAME).canonicalize().unwrap().as_path())
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
