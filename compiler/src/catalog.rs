//! Typed table schemas and workspace function declarations: the ones shipped in
//! `schemas/tables/` and `schemas/functions/` (embedded at build time) plus any a caller adds
//! (for example from `detc.toml`, see [`crate::config`]). Lookups are by exact, case-sensitive
//! name, as in KQL.
//!
//! Shipped entries are parsed on first use, each at most once per process, without a lock
//! (one `OnceLock` slot per embedded file, found by binary search over the sorted names).

use crate::types::Type;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

include!(concat!(env!("OUT_DIR"), "/embedded_tables.rs"));

#[derive(Clone, Debug, PartialEq)]
pub struct TableSchema {
    pub name: String,
    pub columns: Vec<(String, Type)>,
}

impl TableSchema {
    pub fn column(&self, name: &str) -> Option<(usize, Type)> {
        self.columns
            .iter()
            .position(|(n, _)| n == name)
            .map(|i| (i, self.columns[i].1))
    }
}

/// One parameter of a declared function.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionParam {
    pub name: String,
    pub ty: Type,
    /// The caller may leave it out (it has a default in the function's definition).
    pub optional: bool,
    /// The default value as KQL text (`datetime(null)`, `dynamic([])`, `'*'`), when known.
    pub default: Option<String>,
}

/// A workspace function that returns a table (an ASIM parser, `_GetWatchlist`, a parser
/// declared in `detc.toml`): its parameters and the columns of its result.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionSchema {
    pub name: String,
    pub params: Vec<FunctionParam>,
    pub columns: Vec<(String, Type)>,
}

impl FunctionSchema {
    pub fn column(&self, name: &str) -> Option<(usize, Type)> {
        self.columns
            .iter()
            .position(|(n, _)| n == name)
            .map(|i| (i, self.columns[i].1))
    }

    pub fn param(&self, name: &str) -> Option<&FunctionParam> {
        self.params.iter().find(|p| p.name == name)
    }

    /// The result as a table schema named after the function.
    pub fn result_schema(&self) -> TableSchema {
        TableSchema {
            name: self.name.clone(),
            columns: self.columns.clone(),
        }
    }
}

#[derive(serde::Deserialize)]
struct TableFile {
    table: String,
    columns: Vec<ColumnFile>,
}

#[derive(serde::Deserialize)]
struct ColumnFile {
    name: String,
    #[serde(rename = "type")]
    ty: String,
}

#[derive(serde::Deserialize)]
struct FunctionFile {
    function: String,
    #[serde(default)]
    parameters: Vec<ParamFile>,
    columns: Vec<ColumnFile>,
}

#[derive(serde::Deserialize)]
struct ParamFile {
    name: String,
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    optional: Option<bool>,
    #[serde(default)]
    default: Option<String>,
}

fn parse_columns(cols: Vec<ColumnFile>) -> Result<Vec<(String, Type)>, String> {
    let mut columns = Vec::with_capacity(cols.len());
    for c in cols {
        let ty = Type::parse(&c.ty)
            .ok_or_else(|| format!("column {}: unknown type {:?}", c.name, c.ty))?;
        columns.push((c.name, ty));
    }
    Ok(columns)
}

/// Parses one `schemas/tables/<Table>.json` file.
pub fn parse_table_file(text: &str) -> Result<TableSchema, String> {
    let f: TableFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
    Ok(TableSchema {
        name: f.table,
        columns: parse_columns(f.columns)?,
    })
}

/// Parses one `schemas/functions/<Function>.json` file. A parameter with a default is
/// optional unless the file says otherwise.
pub fn parse_function_file(text: &str) -> Result<FunctionSchema, String> {
    let f: FunctionFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut params = Vec::with_capacity(f.parameters.len());
    for p in f.parameters {
        let ty = Type::parse(&p.ty)
            .ok_or_else(|| format!("parameter {}: unknown type {:?}", p.name, p.ty))?;
        params.push(FunctionParam {
            optional: p.optional.unwrap_or(p.default.is_some()),
            name: p.name,
            ty,
            default: p.default,
        });
    }
    Ok(FunctionSchema {
        name: f.function,
        params,
        columns: parse_columns(f.columns)?,
    })
}

type Slots<T> = OnceLock<Box<[OnceLock<Arc<T>>]>>;

static TABLE_SLOTS: Slots<TableSchema> = OnceLock::new();
static FUNCTION_SLOTS: Slots<FunctionSchema> = OnceLock::new();

/// The embedded entry `name` of `files` (sorted by name), parsed once.
fn embedded<T>(
    files: &'static [(&'static str, &'static str)],
    slots: &'static Slots<T>,
    name: &str,
    parse: fn(&str) -> Result<T, String>,
) -> Option<Arc<T>> {
    let i = files.binary_search_by(|(n, _)| (*n).cmp(name)).ok()?;
    let slots = slots.get_or_init(|| files.iter().map(|_| OnceLock::new()).collect());
    let slot = slots[i].get_or_init(|| {
        let (file, text) = files[i];
        Arc::new(
            parse(text).unwrap_or_else(|e| panic!("shipped schema {file}.json is invalid: {e}")),
        )
    });
    Some(slot.clone())
}

fn embedded_names(
    files: &'static [(&'static str, &'static str)],
) -> impl Iterator<Item = &'static str> {
    files.iter().map(|(n, _)| *n)
}

/// The shipped table names, sorted, computed once.
fn shipped_table_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        embedded_names(EMBEDDED_TABLES)
            .map(str::to_string)
            .collect()
    })
}

fn merged_names<'a>(shipped: &[String], extra: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut v: Vec<String> = shipped.to_vec();
    let before = v.len();
    v.extend(extra.cloned());
    if v.len() != before {
        v.sort();
        v.dedup();
    }
    v
}

/// The name `_GetWatchlist` is declared under in `schemas/functions/`.
pub const GET_WATCHLIST: &str = "_GetWatchlist";

#[derive(Clone, Debug, Default)]
pub struct Catalog {
    extra: HashMap<String, Arc<TableSchema>>,
    functions: HashMap<String, Arc<FunctionSchema>>,
    watchlists: HashMap<String, Arc<Vec<(String, Type)>>>,
}

impl Catalog {
    /// The shipped tables and functions only.
    pub fn builtin() -> Catalog {
        Catalog::default()
    }

    /// Adds a table, replacing a shipped or earlier one of the same name.
    pub fn add(&mut self, table: TableSchema) {
        self.extra.insert(table.name.clone(), Arc::new(table));
    }

    pub fn table(&self, name: &str) -> Option<Arc<TableSchema>> {
        match self.extra.get(name) {
            Some(t) => Some(t.clone()),
            None => embedded(EMBEDDED_TABLES, &TABLE_SLOTS, name, parse_table_file),
        }
    }

    /// Whether a shipped table comes from the Sentinel repository's custom-table schemas and
    /// has no `_CL` suffix: those are parser functions' outputs that Sentinel's own validator
    /// loads as tables (`ProofpointPOD`, `afad_parser`), not tables a connector writes.
    pub fn is_parser_table(&self, name: &str) -> bool {
        if self.extra.contains_key(name) || name.ends_with("_CL") {
            return false;
        }
        let Ok(i) = EMBEDDED_TABLES.binary_search_by(|(n, _)| (*n).cmp(name)) else {
            return false;
        };
        EMBEDDED_TABLES[i]
            .1
            .contains("\"source\": \"sentinel-repo-custom-tables")
    }

    /// All known table names, sorted (for suggestions). Cheap: the shipped list is computed
    /// once; only added tables are merged in per call.
    pub fn names(&self) -> Vec<String> {
        merged_names(shipped_table_names(), self.extra.keys())
    }

    /// Adds a function declaration, replacing a shipped or earlier one of the same name.
    pub fn add_function(&mut self, f: FunctionSchema) {
        self.functions.insert(f.name.clone(), Arc::new(f));
    }

    /// A tabular function known by name: declared with [`Catalog::add_function`] or shipped.
    pub fn function(&self, name: &str) -> Option<Arc<FunctionSchema>> {
        match self.functions.get(name) {
            Some(f) => Some(f.clone()),
            None => embedded(
                EMBEDDED_FUNCTIONS,
                &FUNCTION_SLOTS,
                name,
                parse_function_file,
            ),
        }
    }

    /// All known function names, sorted.
    pub fn function_names(&self) -> Vec<String> {
        static NAMES: OnceLock<Vec<String>> = OnceLock::new();
        let shipped = NAMES.get_or_init(|| {
            embedded_names(EMBEDDED_FUNCTIONS)
                .map(str::to_string)
                .collect()
        });
        merged_names(shipped, self.functions.keys())
    }

    /// Declares the columns of one watchlist (by alias), beyond the ones every
    /// `_GetWatchlist` result has. A later declaration replaces an earlier one.
    pub fn add_watchlist(&mut self, alias: impl Into<String>, columns: Vec<(String, Type)>) {
        self.watchlists.insert(alias.into(), Arc::new(columns));
    }

    /// The declared columns of a watchlist, if it was declared.
    pub fn watchlist(&self, alias: &str) -> Option<Arc<Vec<(String, Type)>>> {
        self.watchlists.get(alias).cloned()
    }

    /// Declared watchlist aliases, sorted.
    pub fn watchlist_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.watchlists.keys().cloned().collect();
        v.sort();
        v
    }

    /// The columns of `_GetWatchlist('<alias>')`: the standard result columns of
    /// `_GetWatchlist`, then the watchlist's declared columns (a declared column with a
    /// standard name, e.g. `SearchKey`, keeps its place and takes the declared type). For an
    /// undeclared alias, the standard columns only.
    /// Whether `detc.toml` declares the watchlist's columns.
    pub fn watchlist_declared(&self, alias: &str) -> bool {
        self.watchlists.contains_key(alias)
    }

    pub fn watchlist_columns(&self, alias: &str) -> Vec<(String, Type)> {
        let mut cols = self
            .function(GET_WATCHLIST)
            .map(|f| f.columns.clone())
            .unwrap_or_default();
        if let Some(declared) = self.watchlists.get(alias) {
            for (name, ty) in declared.iter() {
                match cols.iter_mut().find(|(n, _)| n == name) {
                    Some(c) => c.1 = *ty,
                    None => cols.push((name.clone(), *ty)),
                }
            }
        }
        cols
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn _assert_send_sync_clone<T: Send + Sync + Clone>() {}

    #[test]
    fn catalog_is_send_sync_clone() {
        _assert_send_sync_clone::<Catalog>();
    }

    #[test]
    fn embedded_lists_are_sorted_for_binary_search() {
        for files in [EMBEDDED_TABLES, EMBEDDED_FUNCTIONS] {
            assert!(files.windows(2).all(|w| w[0].0 < w[1].0));
        }
    }

    #[test]
    fn every_shipped_table_and_function_parses_under_its_file_name() {
        let c = Catalog::builtin();
        for (name, text) in EMBEDDED_TABLES {
            let t = parse_table_file(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&t.name, name);
            assert!(c.table(name).is_some());
        }
        assert!(EMBEDDED_FUNCTIONS.len() >= 30);
        for (name, text) in EMBEDDED_FUNCTIONS {
            let f = parse_function_file(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&f.name, name);
            assert!(!f.columns.is_empty());
            assert!(c.function(name).is_some());
        }
    }

    #[test]
    fn supplemented_columns_are_there() {
        let c = Catalog::builtin();
        let dpe = c.table("DeviceProcessEvents").unwrap();
        assert_eq!(dpe.column("Timestamp").map(|x| x.1), Some(Type::DateTime));
        assert_eq!(
            dpe.column("AccountObjectId").map(|x| x.1),
            Some(Type::String)
        );
        // A column from the reference keeps its place; supplements come after.
        assert!(dpe.column("Timestamp").unwrap().0 > dpe.column("TimeGenerated").unwrap().0);
        assert_eq!(
            c.table("DnsEvents").unwrap().column("Name").map(|x| x.1),
            Some(Type::String)
        );
        let ad = c.table("AzureDiagnostics").unwrap();
        for col in [
            "TimeGenerated",
            "TenantId",
            "ResourceId",
            "userAgent_s",
            "listenerName_s",
        ] {
            assert!(ad.column(col).is_some(), "AzureDiagnostics.{col}");
        }
        assert!(c.table("AuditLogs").unwrap().column("TenantId").is_some());
        assert!(c
            .table("SenservaPro_CL")
            .unwrap()
            .column("TimeGenerated")
            .is_some());
    }

    #[test]
    fn shipped_functions() {
        let c = Catalog::builtin();
        let dns = c.function("_Im_Dns").expect("_Im_Dns is shipped");
        assert_eq!(dns.name, "_Im_Dns");
        let p = dns.param("domain_has_any").unwrap();
        assert_eq!((p.ty, p.optional), (Type::Dynamic, true));
        assert!(dns.params.iter().all(|p| p.optional));
        assert_eq!(
            dns.param("starttime").unwrap().default.as_deref(),
            Some("datetime(null)")
        );
        for (col, ty) in [
            ("DnsQuery", Type::String),
            ("Domain", Type::String),
            ("EventCount", Type::Int),
            ("EventStartTime", Type::DateTime),
            ("EventSchema", Type::String),
            ("Dvc", Type::String),
            ("AdditionalFields", Type::Dynamic),
        ] {
            assert_eq!(dns.column(col).map(|x| x.1), Some(ty), "_Im_Dns.{col}");
        }
        assert!(dns.column("_BilledSize").is_none());
        let asim = c.function("_ASim_Dns").unwrap();
        assert!(asim.params.is_empty());
        assert_eq!(asim.columns, dns.columns);
        let ws = c.function("_Im_WebSession").unwrap();
        assert!(ws.param("httpuseragent_has_any").is_some());
        assert_eq!(ws.column("DstBytes").map(|x| x.1), Some(Type::Long));
        assert!(c
            .function("imRegistry")
            .unwrap()
            .column("RegistryKey")
            .is_some());
        let wl = c.function(GET_WATCHLIST).unwrap();
        assert!(!wl.params[0].optional);
        assert!(c.function("_im_dns").is_none(), "names are case-sensitive");
        assert!(c.function("NoSuchFunction").is_none());
        let names = c.function_names();
        assert!(names.windows(2).all(|w| w[0] < w[1]));
        assert!(names.iter().any(|n| n == "_GetWatchlist"));
    }

    #[test]
    fn added_entries_shadow_shipped_ones_and_join_the_name_lists() {
        let mut c = Catalog::builtin();
        let n = c.names().len();
        c.add(TableSchema {
            name: "My_CL".into(),
            columns: vec![("TimeGenerated".into(), Type::DateTime)],
        });
        c.add(TableSchema {
            name: "Syslog".into(),
            columns: vec![],
        });
        let names = c.names();
        assert_eq!(names.len(), n + 1);
        assert!(names.windows(2).all(|w| w[0] < w[1]));
        assert!(c.table("Syslog").unwrap().columns.is_empty());
        c.add_function(FunctionSchema {
            name: "_Im_Dns".into(),
            params: vec![],
            columns: vec![("X".into(), Type::Long)],
        });
        assert_eq!(c.function("_Im_Dns").unwrap().columns.len(), 1);
        assert!(
            Catalog::builtin()
                .function("_Im_Dns")
                .unwrap()
                .columns
                .len()
                > 100
        );
    }

    #[test]
    fn watchlist_columns() {
        let mut c = Catalog::builtin();
        let std_cols = c.watchlist_columns("VIPUsers");
        assert_eq!(
            std_cols.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            [
                "_DTItemId",
                "LastUpdatedTimeUTC",
                "SearchKey",
                "WatchlistItem"
            ]
        );
        c.add_watchlist(
            "VIPUsers",
            vec![
                ("SearchKey".into(), Type::String),
                ("Department".into(), Type::String),
            ],
        );
        let cols = c.watchlist_columns("VIPUsers");
        assert_eq!(cols.len(), 5);
        assert_eq!(cols[4], ("Department".to_string(), Type::String));
        assert_eq!(c.watchlist_names(), ["VIPUsers"]);
        assert_eq!(c.watchlist_columns("Other").len(), 4);
    }

    /// Rough KQL tokens: identifiers and single punctuation characters; comments, strings
    /// and `{{placeholders}}` dropped.
    fn rough_tokens(q: &str) -> Vec<String> {
        let b = q.as_bytes();
        let (mut i, mut out) = (0, Vec::new());
        while i < b.len() {
            let c = b[i];
            if c == b'/' && b.get(i + 1) == Some(&b'/') {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            } else if c == b'{' && b.get(i + 1) == Some(&b'{') {
                i = q[i..].find("}}").map_or(b.len(), |e| i + e + 2);
            } else if c == b'\'' || c == b'"' {
                let verbatim = i > 0 && b[i - 1] == b'@';
                i += 1;
                while i < b.len() && b[i] != c && b[i] != b'\n' {
                    i += if b[i] == b'\\' && !verbatim { 2 } else { 1 };
                }
                i += 1;
                out.push("\"\"".to_string());
            } else if c.is_ascii_alphabetic() || c == b'_' {
                let s = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                out.push(q[s..i].to_string());
            } else if c.is_ascii_digit() {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                    i += 1;
                }
                out.push("0".to_string());
            } else {
                if !c.is_ascii_whitespace() {
                    out.push((c as char).to_string());
                }
                i += 1;
            }
        }
        out
    }

    /// Names a query reads as tables or tabular functions (rough): an identifier that starts a
    /// tabular expression (query or statement start, after `(`, `let x =`, `union`, `join`,
    /// `lookup`) and is followed by `|`, `;`, `)`, `,` or a call whose result is piped on.
    /// Let-bound names are left out; calls need an upper-case letter (KQL built-ins have none).
    fn source_names(ts: &[String]) -> Vec<String> {
        let lets: std::collections::HashSet<&str> = ts
            .windows(2)
            .filter(|w| w[0] == "let")
            .map(|w| w[1].as_str())
            .collect();
        const KEYWORDS: &[&str] = &[
            "let",
            "where",
            "extend",
            "project",
            "summarize",
            "union",
            "join",
            "kind",
            "on",
            "by",
            "and",
            "or",
            "not",
            "true",
            "false",
            "isfuzzy",
            "withsource",
            "lookup",
            "print",
            "range",
            "datatable",
            "externaldata",
            "materialize",
            "view",
            "toscalar",
            "table",
            "inner",
            "leftouter",
            "leftanti",
            "leftsemi",
            "rightanti",
            "rightsemi",
            "fullouter",
            "innerunique",
            "anti",
            "outer",
            "with",
            "hint",
            "dynamic",
            "datetime",
        ];
        let ident = |s: &str| s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
        let close = |mut j: usize| {
            let mut depth = 0i32;
            while j < ts.len() {
                match ts[j].as_str() {
                    "(" => depth += 1,
                    ")" => {
                        depth -= 1;
                        if depth == 0 {
                            return j;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            j
        };
        let mut out = Vec::new();
        for i in 0..ts.len() {
            let t = ts[i].as_str();
            if !ident(t) || KEYWORDS.contains(&t) || lets.contains(t) {
                continue;
            }
            let prev = if i == 0 { ";" } else { ts[i - 1].as_str() };
            let next = ts.get(i + 1).map_or(";", |s| s.as_str());
            let piped_call = |ok: &[&str]| {
                next == "("
                    && t.chars().any(|c| c.is_ascii_uppercase())
                    && ok.contains(&ts.get(close(i + 1) + 1).map_or(";", |s| s.as_str()))
            };
            let in_union = prev == "union"
                || (prev == "," && ts[i.saturating_sub(12)..i].iter().any(|x| x == "union"));
            let join_kind =
                i >= 3 && matches!(ts[i - 3].as_str(), "join" | "lookup") && ts[i - 2] == "kind";
            let is_source =
                if i == 0 || prev == ";" || (prev == "=" && i >= 3 && ts[i - 3] == "let") {
                    matches!(next, "|" | ";") || piped_call(&["|", ";"])
                } else if prev == "(" {
                    next == "|" || piped_call(&["|"])
                } else if in_union {
                    matches!(next, "|" | ";" | "," | ")") || piped_call(&["|", ";", ",", ")"])
                } else if matches!(prev, "join" | "lookup") || join_kind {
                    matches!(next, "on" | "|" | ")")
                } else {
                    false
                };
            if is_source {
                out.push(t.to_string());
            }
        }
        out
    }

    /// Survey of the rule corpus (skipped when `../shared` beside the repository is absent):
    /// how many distinct names read as tables or tabular functions are known, to tables only
    /// (as before the function catalog) and to tables or functions.
    #[test]
    fn corpus_survey_of_table_and_function_names() {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/sentinel");
        if !root.is_dir() {
            eprintln!("skipped: no corpus at {}", root.display());
            return;
        }
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                    out.push(p);
                }
            }
        }
        let mut files = Vec::new();
        walk(&root, &mut files);
        let c = Catalog::builtin();
        let mut uses: std::collections::BTreeMap<String, usize> = Default::default();
        let mut queries = 0;
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            let text = text.trim_start_matches('\u{feff}');
            let Ok(doc) = yaml_serde::from_str::<yaml_serde::Value>(text) else {
                continue;
            };
            let Some(q) = doc.get("query").and_then(|q| q.as_str()) else {
                continue;
            };
            queries += 1;
            let mut names = source_names(&rough_tokens(q));
            names.sort();
            names.dedup();
            for n in names {
                *uses.entry(n).or_default() += 1;
            }
        }
        let tables = uses.keys().filter(|n| c.table(n).is_some()).count();
        let either = uses
            .keys()
            .filter(|n| c.table(n).is_some() || c.function(n).is_some());
        let either = either.count();
        let unknown: Vec<String> = uses
            .iter()
            .filter(|(n, _)| c.table(n).is_none() && c.function(n).is_none())
            .map(|(n, k)| format!("{n} ({k})"))
            .collect();
        eprintln!(
            "corpus: {queries} queries, {} distinct table/function names; known as tables: {tables} \
             (unknown {}); known as tables or functions: {either} (unknown {})",
            uses.len(),
            uses.len() - tables,
            uses.len() - either
        );
        eprintln!("still unknown (rules): {}", unknown.join(", "));
        assert!(queries > 1000);
        assert!(
            either > tables,
            "the function catalog resolves names tables do not"
        );
        for n in [
            "_Im_Dns",
            "_Im_WebSession",
            "_Im_NetworkSession",
            "imRegistry",
            "_GetWatchlist",
        ] {
            assert!(uses.contains_key(n), "survey finds {n}");
            assert!(c.function(n).is_some());
        }
    }

    #[test]
    fn names_is_cheap() {
        let c = Catalog::builtin();
        let _ = c.names();
        let t = std::time::Instant::now();
        for _ in 0..100 {
            assert!(c.names().len() > 1000);
        }
        // Generous bound (debug build, shared CI machine): the list is precomputed.
        assert!(
            t.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            t.elapsed()
        );
    }
}
