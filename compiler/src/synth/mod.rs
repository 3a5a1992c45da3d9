//! Fixture synthesis: tables whose rows drive every test the plan makes of its source cells
//! both ways, at the test's boundaries. `detc fixtures` writes them; `detc verify --generate`
//! runs every target on them.
//!
//! How: [`probes`] finds the constants each source cell is tested against and the cells that
//! are matched with each other (join keys, `in (sub-query)`), following lineage through the
//! plan ([`origin`]). Each table gets a base row whose cells pass as many of their tests as
//! one value can (matched cells share a value), then one row per boundary value of each test
//! ([`variants`]): that cell changed, the rest as in the base row, so one test at a time flips
//! while the others keep passing. Matched cells also get a value differing only in case, a
//! value present in one table only, and a repeated base row (`innerunique` vs `inner`).
//!
//! Deterministic: the same plan, `now` and seed give the same rows. The seed picks which
//! rows are kept when a table would exceed [`MAX_ROWS`], and rotates ties between base values.
//!
//! Not covered (the rows are still valid, just not aimed): values computed from several
//! columns (`strcat(a, b) has "x"`), regular expressions, and cells reached only through
//! `bag_unpack`/`pivot` keys.

pub mod origin;
pub mod probes;
pub mod variants;

use crate::eval::{Data, Row};
use crate::ir::{Column, Node};
use crate::types::Type;
use crate::value::{Value, TICKS_PER_SECOND};
use origin::{Origin, Step};
use probes::Probe;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Boundary rows per table at most (rows a count threshold asks for come on top, at most 100
/// per threshold).
pub const MAX_ROWS: usize = 200;

/// The synthesized tables of a plan (parameters bound), read with the columns the plan
/// reads them with.
pub fn synthesize(plan: &Node, now: i64, seed: u64) -> Data {
    let found = probes::collect(plan, now);
    let groups = Groups::new(&found);
    let mut data = Data::default();
    for (table, columns) in plan.sources() {
        let rows = table_rows(&table, &columns, &found, &groups, now, seed);
        data.tables.insert(table, Arc::new(rows));
    }
    data
}

/// Cells matched with each other, as groups sharing one value.
struct Groups {
    /// Each origin's group number.
    of: BTreeMap<Origin, usize>,
    /// A value per group, from the first probe of any member.
    value: Vec<Option<Value>>,
}

impl Groups {
    fn new(found: &probes::Probes) -> Groups {
        let mut of: BTreeMap<Origin, usize> = BTreeMap::new();
        let mut n = 0;
        for (a, b) in &found.links {
            match (of.get(a).copied(), of.get(b).copied()) {
                (Some(x), Some(y)) if x != y => {
                    for g in of.values_mut() {
                        if *g == y {
                            *g = x;
                        }
                    }
                }
                (Some(x), None) => {
                    of.insert(b.clone(), x);
                }
                (None, Some(y)) => {
                    of.insert(a.clone(), y);
                }
                (None, None) => {
                    of.insert(a.clone(), n);
                    of.insert(b.clone(), n);
                    n += 1;
                }
                _ => {}
            }
        }
        let mut value = vec![None; n];
        for p in &found.probes {
            if let Some(&g) = of.get(&p.origin) {
                if value[g].is_none() && !matches!(p.test, probes::Test::Emptiness) {
                    value[g] = Some(p.value.clone());
                }
            }
        }
        for (g, v) in value.iter_mut().enumerate() {
            if v.is_none() {
                *v = Some(Value::str(&format!("key{g}")));
            }
        }
        Groups { of, value }
    }

    fn value(&self, o: &Origin) -> Option<&Value> {
        self.of.get(o).and_then(|&g| self.value[g].as_ref())
    }
}

/// The type of the value at `path` in a cell of type `ty`: the cell's own type at the root,
/// else whatever the probes put there (dynamic values hold any scalar).
fn leaf_type(ty: Type, path: &[Step], probes: &[&Probe]) -> Type {
    if path.is_empty() && ty != Type::Dynamic {
        return ty;
    }
    probes
        .iter()
        .find_map(|p| match &p.value {
            Value::Long(_) => Some(Type::Long),
            Value::Real(_) => Some(Type::Real),
            Value::Bool(_) => Some(Type::Bool),
            Value::String(_) => Some(Type::String),
            Value::DateTime(_) => Some(Type::DateTime),
            _ => None,
        })
        .unwrap_or(Type::String)
}

/// The default value of a cell nothing tests: plausible, non-null.
pub fn default_value(ty: Type, now: i64) -> Value {
    match ty {
        Type::String | Type::Guid => Value::str("x"),
        Type::Bool => Value::Bool(true),
        Type::Int | Type::Long => Value::Long(1),
        Type::Real | Type::Decimal => Value::Real(1.5),
        Type::DateTime => Value::DateTime(now - 3600 * TICKS_PER_SECOND),
        Type::Timespan => Value::Timespan(3600 * TICKS_PER_SECOND),
        Type::Dynamic => Value::Dynamic(Arc::new(serde_json::json!({"a": "x"}))),
    }
}

/// One tested place: a column, a path into it, its tests and its matched value.
struct Cell<'a> {
    column: usize,
    path: Vec<Step>,
    ty: Type,
    probes: Vec<&'a Probe>,
    group: Option<Value>,
}

fn table_rows(
    table: &str,
    columns: &[Column],
    found: &probes::Probes,
    groups: &Groups,
    now: i64,
    seed: u64,
) -> Vec<Row> {
    let all = &found.probes;
    // Every tested place of this table, in column order, then path order.
    let mut places: BTreeMap<(usize, Vec<Step>), Vec<&Probe>> = BTreeMap::new();
    for p in all.iter().filter(|p| p.origin.table == table) {
        if let Some(i) = columns.iter().position(|c| c.name == p.origin.column) {
            places
                .entry((i, p.origin.path.clone()))
                .or_default()
                .push(p);
        }
    }
    for o in groups.of.keys().filter(|o| o.table == table) {
        if let Some(i) = columns.iter().position(|c| c.name == o.column) {
            places.entry((i, o.path.clone())).or_default();
        }
    }
    let cells: Vec<Cell> = places
        .into_iter()
        .filter(|((i, path), _)| path.is_empty() || columns[*i].ty == Type::Dynamic)
        .map(|((i, path), probes)| {
            let origin = Origin {
                table: table.to_string(),
                column: columns[i].name.clone(),
                path: path.clone(),
            };
            let ty = leaf_type(columns[i].ty, &path, &probes);
            Cell {
                column: i,
                group: groups.value(&origin).and_then(|v| variants::coerce(v, ty)),
                path,
                ty,
                probes,
            }
        })
        .collect();

    let mut base: Row = columns.iter().map(|c| default_value(c.ty, now)).collect();
    // Dynamic columns with tested paths start empty, then get each path's value.
    for c in &cells {
        if columns[c.column].ty == Type::Dynamic && !c.path.is_empty() {
            base[c.column] = Value::Dynamic(Arc::new(serde_json::Value::Null));
        }
    }
    for (k, c) in cells.iter().enumerate() {
        let v = best_value(c, seed.wrapping_add(k as u64), now);
        set(&mut base, c, v);
    }

    let mut rows = vec![base.clone()];
    for c in &cells {
        let mut values: Vec<Value> = Vec::new();
        for p in &c.probes {
            values.extend(variants::boundary(p, c.ty));
        }
        if let Some(g) = &c.group {
            // Matched cells: repeated, differing in case, present on one side only.
            rows.push(base.clone());
            if let Value::String(s) = g {
                values.push(Value::str(&variants::swap_case(s)));
                values.push(Value::str(&format!("{s}_{table}_only")));
            }
            values.push(Value::Null);
        }
        if c.path.is_empty() && c.ty == Type::Dynamic || !c.path.is_empty() {
            values.push(Value::Null);
        }
        for v in values {
            let mut r = base.clone();
            set(&mut r, c, v);
            rows.push(r);
        }
    }
    // Dynamic columns: also empty containers and null as a whole.
    for (i, col) in columns.iter().enumerate() {
        if col.ty == Type::Dynamic && cells.iter().any(|c| c.column == i) {
            for j in [
                serde_json::json!([]),
                serde_json::json!({}),
                serde_json::Value::Null,
            ] {
                let mut r = base.clone();
                r[i] = Value::Dynamic(Arc::new(j));
                rows.push(r);
            }
        }
    }
    // A KQL string is never null: a missing string is empty (as the fixture loader has it).
    for r in &mut rows {
        for (v, c) in r.iter_mut().zip(columns) {
            if v.is_null() {
                *v = Value::missing(c.ty);
            }
        }
    }
    dedupe(&mut rows);
    if rows.len() > MAX_ROWS {
        // Keep the base row; sample the others with the seed.
        let mut rng = Rng::new(seed ^ 0x9e37_79b9_7f4a_7c15);
        let mut rest = rows.split_off(1);
        for i in (1..rest.len()).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            rest.swap(i, j);
        }
        rest.truncate(MAX_ROWS - 1);
        rows.extend(rest);
    }
    // Thresholds on counts: the base row repeated, or with as many distinct values.
    for c in found
        .copies
        .iter()
        .filter(|c| c.tables.iter().any(|t| t == table))
    {
        let target = c
            .distinct
            .as_ref()
            .filter(|o| o.table == table)
            .and_then(|o| {
                let i = columns.iter().position(|col| col.name == o.column)?;
                Some(Cell {
                    column: i,
                    path: o.path.clone(),
                    ty: if o.path.is_empty() {
                        columns[i].ty
                    } else {
                        Type::String
                    },
                    probes: vec![],
                    group: None,
                })
            });
        for k in 1..c.n {
            let mut r = base.clone();
            if let Some(cell) = &target {
                let v = match (&base[cell.column], cell.ty) {
                    (Value::Long(n), _) => Value::Long(n + k as i64),
                    (_, Type::String | Type::Guid) | (Value::Dynamic(_), _) => {
                        Value::str(&format!("{}{k}", base[cell.column].to_kql_string()))
                    }
                    _ => continue,
                };
                set(&mut r, cell, v);
            }
            rows.push(r);
        }
    }
    rows
}

/// The value for a cell's base row: the candidate passing most of its tests (the matched
/// value first among equals; `seed` rotates other ties).
fn best_value(c: &Cell, seed: u64, now: i64) -> Value {
    let mut candidates: Vec<Value> = c.group.iter().cloned().collect();
    candidates.extend(c.probes.iter().filter_map(|p| variants::passing(p, c.ty)));
    if candidates.is_empty() {
        return default_value(c.ty, now);
    }
    let score = |v: &Value| c.probes.iter().filter(|p| variants::passes(p, v)).count();
    let best = candidates.iter().map(score).max().unwrap_or(0);
    let ties: Vec<&Value> = candidates.iter().filter(|v| score(v) == best).collect();
    if c.group.is_some() && score(&candidates[0]) == best {
        return candidates[0].clone();
    }
    ties[(seed % ties.len() as u64) as usize].clone()
}

/// Puts `v` at the cell's place in `row` (into the dynamic value at its path).
fn set(row: &mut Row, c: &Cell, v: Value) {
    if c.path.is_empty() {
        row[c.column] = match (&row[c.column], c.ty, &v) {
            (Value::Dynamic(_), Type::Dynamic, Value::Null) => v,
            (Value::Dynamic(_), _, Value::Dynamic(_)) => v,
            (Value::Dynamic(_), _, _) => Value::Dynamic(Arc::new(v.to_json())),
            _ => v,
        };
        return;
    }
    let mut json = match &row[c.column] {
        Value::Dynamic(d) => (**d).clone(),
        _ => serde_json::Value::Null,
    };
    put(&mut json, &c.path, v.to_json());
    row[c.column] = Value::Dynamic(Arc::new(json));
}

fn put(j: &mut serde_json::Value, path: &[Step], leaf: serde_json::Value) {
    let Some((first, rest)) = path.split_first() else {
        *j = leaf;
        return;
    };
    match first {
        Step::Key(k) => {
            if !j.is_object() {
                *j = serde_json::Value::Object(Default::default());
            }
            let slot = j
                .as_object_mut()
                .expect("made an object above")
                .entry(k.clone())
                .or_insert(serde_json::Value::Null);
            put(slot, rest, leaf);
        }
        Step::Element => {
            if !j.is_array() {
                *j = serde_json::Value::Array(vec![serde_json::Value::Null]);
            }
            let a = j.as_array_mut().expect("made an array above");
            if a.is_empty() {
                a.push(serde_json::Value::Null);
            }
            put(&mut a[0], rest, leaf);
        }
    }
}

fn dedupe(rows: &mut Vec<Row>) {
    let mut seen = std::collections::HashSet::new();
    rows.retain(|r| {
        // Repeated base rows are intended (they tell `innerunique` from `inner`): keep two.
        let k = format!("{r:?}");
        if seen.contains(&k) {
            let twice = format!("{k}#2");
            seen.insert(twice)
        } else {
            seen.insert(k)
        }
    });
}

/// xorshift64*: a small deterministic generator (no dependency, same on every platform).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// The rows of `data`'s tables as JSON lines, by column name, in the columns' order.
pub fn jsonl(rows: &[Row], columns: &[Column]) -> String {
    let mut out = String::new();
    for r in rows {
        let mut m = serde_json::Map::new();
        for (c, v) in columns.iter().zip(r) {
            m.insert(c.name.clone(), v.to_json());
        }
        out.push_str(&serde_json::Value::Object(m).to_string());
        out.push('\n');
    }
    out
}
