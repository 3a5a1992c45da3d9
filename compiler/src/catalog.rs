//! Typed table schemas: the ones shipped in `schemas/tables/` (embedded at build time) plus
//! any a caller adds. Lookups are by exact, case-sensitive table name, as in KQL.

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

/// Parses one `schemas/tables/<Table>.json` file.
pub fn parse_table_file(text: &str) -> Result<TableSchema, String> {
    let f: TableFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut columns = Vec::with_capacity(f.columns.len());
    for c in f.columns {
        let ty = Type::parse(&c.ty)
            .ok_or_else(|| format!("column {}: unknown type {:?}", c.name, c.ty))?;
        columns.push((c.name, ty));
    }
    Ok(TableSchema {
        name: f.table,
        columns,
    })
}

#[derive(Clone, Debug, Default)]
pub struct Catalog {
    extra: HashMap<String, Arc<TableSchema>>,
}

fn embedded() -> &'static HashMap<&'static str, &'static str> {
    static MAP: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| EMBEDDED_TABLES.iter().copied().collect())
}

fn parsed_embedded(name: &str) -> Option<Arc<TableSchema>> {
    static CACHE: OnceLock<std::sync::Mutex<HashMap<String, Arc<TableSchema>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(t) = cache.lock().unwrap().get(name) {
        return Some(t.clone());
    }
    let text = embedded().get(name)?;
    let t = Arc::new(parse_table_file(text).expect("shipped table schema is valid"));
    cache.lock().unwrap().insert(name.to_string(), t.clone());
    Some(t)
}

impl Catalog {
    /// The shipped tables only.
    pub fn builtin() -> Catalog {
        Catalog::default()
    }

    pub fn add(&mut self, table: TableSchema) {
        self.extra.insert(table.name.clone(), Arc::new(table));
    }

    pub fn table(&self, name: &str) -> Option<Arc<TableSchema>> {
        self.extra
            .get(name)
            .cloned()
            .or_else(|| parsed_embedded(name))
    }

    /// All known table names, sorted (for suggestions).
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = embedded().keys().map(|s| s.to_string()).collect();
        v.extend(self.extra.keys().cloned());
        v.sort();
        v.dedup();
        v
    }
}
