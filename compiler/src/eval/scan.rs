//! Reading a large NDJSON table for one plan: the `where` right above the plan's scans of the
//! table runs while the file is read, so rows that no scan keeps are never built.
//!
//! Each line is split into its top-level fields without building a JSON tree; the columns the
//! predicate reads are decoded first, and the rest of the row only when the predicate holds.
//! The file is read in one part per processor; the parts' rows are concatenated in file
//! order, so the result equals [`super::data::read_file`]'s followed by the filter. A line this
//! reader cannot split (bad JSON, escapes in keys, ...) goes through `serde_json` and
//! [`super::data::json_row`], which give the same values and the same errors.
//!
//! One difference, for speed on exported logs: in files of [`LAZY_FROM`] bytes or more, a
//! line the predicate drops is split only up to the last column the predicate reads, so an
//! unknown key or malformed JSON after that point in a dropped line is not reported.

use super::compile::{compile, Compiled, Ctx};
use super::data::{json_row, json_value};
use super::Row;
use crate::catalog::TableSchema;
use crate::diagnostics::{codes, Diagnostic, Span};
use crate::ir::{Expr, ExprKind, Node, Op};
use crate::types::Type;
use crate::value::{parse_datetime, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// Per table: the predicate every scan of it is filtered by (or-ed over the scans), when each
/// scan sits right below a `where` with no sub-query. Column indexes are the table's.
/// Per table, each scan's schema and predicate (`None`: a scan with no `where` to push).
type Sites = BTreeMap<String, Vec<Option<(Vec<crate::ir::Column>, Expr)>>>;

pub fn pushed_predicates(plan: &Node) -> BTreeMap<String, Expr> {
    let mut sites: Sites = BTreeMap::new();
    collect(plan, None, &mut sites);
    sites
        .into_iter()
        .filter_map(|(table, preds)| {
            let preds: Option<Vec<(Vec<crate::ir::Column>, Expr)>> = preds.into_iter().collect();
            let preds = preds?;
            let schema = &preds.first()?.0;
            if preds.iter().any(|(s, _)| s != schema) {
                return None;
            }
            let any = preds
                .into_iter()
                .map(|(_, e)| e)
                .reduce(|a, b| crate::ir::Expr::logic(crate::ir::BinOp::Or, a, b))?;
            Some((table, any))
        })
        .collect()
}

/// Per table: the columns the plan can read (`None`: all of them). A column no operator reads
/// and no output carries is left missing by the reader instead of decoded. Operators this
/// analysis does not model need all their input columns.
pub fn needed_columns(plan: &Node) -> BTreeMap<String, Option<Vec<bool>>> {
    let mut out = BTreeMap::new();
    need(plan, None, &mut out);
    out
}

type Needed = Option<std::collections::BTreeSet<usize>>;

fn cols_of(exprs: &[&Expr], into: &mut std::collections::BTreeSet<usize>) {
    let mut v = Vec::new();
    for e in exprs {
        columns_read(e, &mut v);
    }
    into.extend(v);
}

/// `needed`: the output columns read above `node` (`None`: all).
fn need(node: &Node, needed: Needed, out: &mut BTreeMap<String, Option<Vec<bool>>>) {
    use std::collections::BTreeSet;
    // Sub-queries inside this node's expressions: all their columns.
    for e in node.own_exprs() {
        e.walk(&mut |x| {
            if let ExprKind::Subquery { plan, .. } = &x.kind {
                need(plan, None, out);
            }
        });
    }
    let width = |n: &Node| n.schema.len();
    let all = |n: &Node| -> BTreeSet<usize> { (0..n.schema.len()).collect() };
    let with = |needed: &Needed, n: &Node, extra: &[&Expr]| -> Needed {
        let mut set: BTreeSet<usize> = match needed {
            None => return None,
            Some(s) => s.iter().copied().filter(|&i| i < width(n)).collect(),
        };
        cols_of(extra, &mut set);
        Some(set)
    };
    match &node.op {
        Op::Scan { table } => {
            let entry = out
                .entry(table.clone())
                .or_insert_with(|| Some(vec![false; node.schema.len()]));
            match (entry.as_mut(), needed) {
                (Some(flags), Some(set)) if flags.len() == node.schema.len() => {
                    let n = flags.len();
                    set.into_iter()
                        .filter(|&i| i < n)
                        .for_each(|i| flags[i] = true)
                }
                _ => *entry = None,
            }
        }
        // Operators whose outputs are their input's columns plus their own expressions'.
        Op::Filter { input, .. }
        | Op::Sort { input, .. }
        | Op::Take { input, .. }
        | Op::Extend { input, .. }
        | Op::Serialize { input, .. } => need(input, with(&needed, input, &node.own_exprs()), out),
        Op::Project { input, items } => {
            let exprs: Vec<&Expr> = match &needed {
                None => items.iter().map(|(_, e)| e).collect(),
                Some(set) => set
                    .iter()
                    .filter_map(|&i| items.get(i).map(|(_, e)| e))
                    .collect(),
            };
            let mut set = BTreeSet::new();
            cols_of(&exprs, &mut set);
            need(input, Some(set), out)
        }
        // Outputs computed from their own expressions only (`make-series` defaults are
        // constants).
        Op::Summarize { input, .. } | Op::MakeSeries { input, .. } => {
            let mut set = BTreeSet::new();
            cols_of(&node.own_exprs(), &mut set);
            need(input, Some(set), out)
        }
        Op::Join {
            left, right, keys, ..
        } => {
            let l = left.schema.len();
            let (mut ls, mut rs): (BTreeSet<usize>, BTreeSet<usize>) = match &needed {
                None => (all(left), all(right)),
                Some(set) => (
                    set.iter().copied().filter(|&i| i < l).collect(),
                    set.iter().filter(|&&i| i >= l).map(|&i| i - l).collect(),
                ),
            };
            for &(a, b) in keys {
                ls.insert(a);
                rs.insert(b);
            }
            need(left, Some(ls), out);
            need(right, Some(rs), out);
        }
        Op::Union { legs } => {
            for (leg, map) in legs {
                let set: BTreeSet<usize> = match &needed {
                    None => map.iter().flatten().copied().collect(),
                    Some(set) => set
                        .iter()
                        .filter_map(|&j| map.get(j).copied().flatten())
                        .collect(),
                };
                need(leg, Some(set), out);
            }
        }
        // Expanded columns stay in place; a `with_itemindex` column is appended.
        Op::MvExpand { input, columns, .. } => {
            let needed = with(&needed, input, &[]).map(|mut set| {
                set.extend(columns.iter().map(|(c, _)| *c));
                set
            });
            need(input, needed, out)
        }
        // Not modelled: every input column.
        _ => {
            for i in node.inputs() {
                need(i, None, out);
            }
        }
    }
}

/// A join input that reads one table through `where`s only, where a row of the table can
/// reach the result only if its key occurs on the other side (both sides of inner,
/// innerunique and semi joins; the right side of leftouter and leftanti, the left of
/// rightouter and rightanti). Reading the other side first gives the keys,
/// and rows without one need not be read at all.
#[derive(Debug)]
pub struct Probe {
    pub table: String,
    /// The key column of the table.
    pub column: usize,
    pub other: Node,
    /// The key column of the other side.
    pub other_column: usize,
}

/// The table below `node` when `node` is a scan under `where`s only.
fn filtered_table(node: &Node) -> Option<&str> {
    match &node.op {
        Op::Scan { table } => Some(table),
        Op::Filter { input, .. } => filtered_table(input),
        _ => None,
    }
}

/// Every [`Probe`] of the plan, for tables scanned exactly once.
pub fn probes(plan: &Node) -> Vec<Probe> {
    use crate::ir::JoinKind as K;
    let mut scans: BTreeMap<String, usize> = BTreeMap::new();
    plan.visit(&mut |n| {
        if let Op::Scan { table } = &n.op {
            *scans.entry(table.clone()).or_default() += 1;
        }
    });
    let mut out: Vec<Probe> = Vec::new();
    plan.visit(&mut |n| {
        let Op::Join {
            kind,
            left,
            right,
            keys,
        } = &n.op
        else {
            return;
        };
        let Some(&(lk, rk)) = keys.first() else {
            return;
        };
        // A side can be cut to the other side's keys when its unmatched rows never reach
        // the result.
        let (left_ok, right_ok) = match kind {
            K::Inner | K::InnerUnique | K::LeftSemi | K::RightSemi => (true, true),
            K::LeftOuter | K::LeftAnti => (false, true),
            K::RightOuter | K::RightAnti => (true, false),
            K::FullOuter => (false, false),
        };
        for (ok, side, key, other, other_key) in [
            (left_ok, left, lk, right, rk),
            (right_ok, right, rk, left, lk),
        ] {
            let Some(table) = filtered_table(side).filter(|_| ok) else {
                continue;
            };
            if scans.get(table) != Some(&1)
                || other.tables().iter().any(|t| t == table)
                || out.iter().any(|p| p.table == table)
            {
                continue;
            }
            out.push(Probe {
                table: table.to_string(),
                column: key,
                other: (**other).clone(),
                other_column: other_key,
            });
        }
    });
    // A probe whose other side reads a probed table would need that table first: dropped.
    let probed: Vec<String> = out.iter().map(|p| p.table.clone()).collect();
    out.retain(|p| !p.other.tables().iter().any(|t| probed.contains(t)));
    out
}

/// `predicate and key in (keys)` for a probe whose other side gave `keys` (nulls never join).
pub fn with_keys(
    predicate: Option<Expr>,
    column: &crate::ir::Column,
    index: usize,
    keys: Vec<Value>,
) -> Expr {
    let mut keys: Vec<Value> = keys.into_iter().filter(|v| !v.is_null()).collect();
    keys.sort_by(|a, b| a.total_cmp(b));
    keys.dedup();
    let member = Expr {
        kind: ExprKind::In {
            lhs: Box::new(Expr {
                kind: ExprKind::Column {
                    index,
                    name: column.name.clone(),
                },
                ty: column.ty,
            }),
            items: keys.into_iter().map(|v| Expr::lit(v, column.ty)).collect(),
            cs: true,
            negated: false,
        },
        ty: Type::Bool,
    };
    match predicate {
        None => member,
        Some(p) => crate::ir::Expr::logic(crate::ir::BinOp::And, p, member),
    }
}

/// Walks the plan; `filter` is the conjunction of the `where`s directly above `node`.
fn collect(node: &Node, filter: Option<Expr>, out: &mut Sites) {
    match &node.op {
        Op::Scan { table } => {
            let site = filter.map(|f| (node.schema.clone(), f));
            out.entry(table.clone()).or_default().push(site);
        }
        Op::Filter { input, predicate } => {
            let usable = !predicate.has_subquery();
            let combined = match (filter, usable) {
                (_, false) => None,
                (None, true) => Some(predicate.clone()),
                (Some(f), true) => Some(crate::ir::Expr::logic(
                    crate::ir::BinOp::And,
                    f,
                    predicate.clone(),
                )),
            };
            // A `where` with a sub-query pushes nothing, but the scan below still counts.
            collect(input, combined, out);
            scan_subqueries(node, out);
        }
        _ => {
            for i in node.inputs() {
                collect(i, None, out);
            }
            scan_subqueries(node, out);
        }
    }
}

/// Scans inside sub-queries read the table too; they get no predicate of their own unless a
/// `where` sits on them inside the sub-query.
fn scan_subqueries(node: &Node, out: &mut Sites) {
    for e in node.own_exprs() {
        e.walk(&mut |x| {
            if let ExprKind::Subquery { plan, .. } = &x.kind {
                collect(plan, None, out);
            }
        });
    }
}

/// The columns an expression reads.
fn columns_read(e: &Expr, out: &mut Vec<usize>) {
    e.walk(&mut |x| {
        if let ExprKind::Column { index, .. } = x.kind {
            if !out.contains(&index) {
                out.push(index);
            }
        }
    });
}

/// Files from this size on are read lazily (see [`Reader::lazy`]); smaller ones, fixtures in
/// particular, have every line checked in full.
pub const LAZY_FROM: u64 = 8 << 20;

/// Reads an NDJSON file into rows of `schema`, keeping only the rows where `predicate` is true.
pub fn read_jsonl(
    path: &Path,
    schema: &TableSchema,
    predicate: Option<&Expr>,
    needed: Option<&[bool]>,
    ctx: &Ctx,
) -> Result<Vec<Row>, Diagnostic> {
    let io = |e: std::io::Error| {
        Diagnostic::error(codes::IO, format!("cannot read: {e}")).with_file(path)
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    let pred = predicate.map(|p| compile(p, ctx)).transpose()?;
    let mut pred_cols = Vec::new();
    if let Some(p) = predicate {
        columns_read(p, &mut pred_cols);
    }
    let mut pred_flags = vec![false; schema.columns.len()];
    pred_cols.iter().for_each(|&c| pred_flags[c] = true);
    // Columns nobody reads stay missing; the predicate's are always decoded.
    let mut decode = match needed {
        Some(flags) if flags.len() == schema.columns.len() => flags.to_vec(),
        _ => vec![true; schema.columns.len()],
    };
    pred_cols.iter().for_each(|&c| decode[c] = true);
    let reader = Reader {
        decode,
        lazy: pred.is_some() && len >= LAZY_FROM,
        pred_flags,
        schema,
        index: schema
            .columns
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.as_bytes().to_vec(), i))
            .collect(),
        names: schema.columns.iter().map(|(n, _)| n.as_bytes()).collect(),
        pred,
        pred_cols,
    };
    let parts = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8) as u64;
    // Small files: one part.
    let parts = if len < (8 << 20) { 1 } else { parts };
    let bounds = part_bounds(path, len, parts).map_err(io)?;
    let results: Vec<Result<Vec<Row>, (u64, String)>> = std::thread::scope(|s| {
        let handles: Vec<_> = bounds
            .windows(2)
            .map(|w| {
                let (from, to) = (w[0], w[1]);
                let reader = &reader;
                s.spawn(move || reader.part(path, from, to))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err((0, "reader thread panicked".into())))
            })
            .collect()
    });
    let mut rows = Vec::new();
    for r in results {
        match r {
            Ok(part) => rows.extend(part),
            Err((offset, msg)) => return Err(line_error(path, offset, msg)),
        }
    }
    Ok(rows)
}

/// The error at the line starting at byte `offset`, with its line number and span.
fn line_error(path: &Path, offset: u64, msg: String) -> Diagnostic {
    let line = std::fs::File::open(path)
        .map(|f| {
            let mut count = 0u64;
            let mut r = BufReader::new(f).take(offset);
            let mut buf = [0u8; 1 << 16];
            while let Ok(n) = r.read(&mut buf) {
                if n == 0 {
                    break;
                }
                count += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
            }
            count + 1
        })
        .unwrap_or(0);
    let mut d = Diagnostic::error(codes::DATA, format!("line {line}: {msg}")).with_file(path);
    d.span = Some(Span::new(offset as usize, offset as usize));
    d
}

/// `parts + 1` offsets: 0, the starts of lines near each equal share, and `len`.
fn part_bounds(path: &Path, len: u64, parts: u64) -> std::io::Result<Vec<u64>> {
    let mut bounds = vec![0];
    let mut f = BufReader::new(std::fs::File::open(path)?);
    for k in 1..parts {
        let guess = len * k / parts;
        if guess <= *bounds.last().expect("non-empty") {
            continue;
        }
        f.seek(SeekFrom::Start(guess))?;
        let mut skipped = Vec::new();
        let n = f.read_until(b'\n', &mut skipped)?;
        let at = guess + n as u64;
        if at < len {
            bounds.push(at);
        }
    }
    bounds.push(len);
    Ok(bounds)
}

struct Reader<'a> {
    /// Per column: decode it, or leave it missing (no operator reads it).
    decode: Vec<bool>,
    /// Large files only: a line the predicate drops is split up to its last column the
    /// predicate reads; the rest is not checked (see the module docs).
    lazy: bool,
    pred_flags: Vec<bool>,
    schema: &'a TableSchema,
    index: HashMap<Vec<u8>, usize>,
    names: Vec<&'a [u8]>,
    pred: Option<Compiled>,
    pred_cols: Vec<usize>,
}

impl Reader<'_> {
    /// The rows of the lines starting in `[from, to)`; an error carries its line's offset.
    /// The part is read in blocks and its lines are split in place (no copy per line).
    fn part(&self, path: &Path, from: u64, to: u64) -> Result<Vec<Row>, (u64, String)> {
        const BLOCK: usize = 1 << 20;
        let fail = |e: std::io::Error| (from, format!("cannot read: {e}"));
        let mut f = std::fs::File::open(path).map_err(fail)?;
        f.seek(SeekFrom::Start(from)).map_err(fail)?;
        let mut r = f.take(to - from);
        let mut buf: Vec<u8> = Vec::with_capacity(2 * BLOCK);
        let mut slots: Vec<Option<(usize, usize)>> = vec![None; self.schema.columns.len()];
        let mut order = Vec::new();
        let mut scratch: Row = self
            .schema
            .columns
            .iter()
            .map(|(_, t)| Value::missing(*t))
            .collect();
        let mut rows = Vec::new();
        // The file offset of buf[0].
        let mut base = from;
        loop {
            let filled = buf.len();
            buf.resize(filled + BLOCK, 0);
            let n = r.read(&mut buf[filled..]).map_err(fail)?;
            buf.truncate(filled + n);
            let eof = n == 0;
            let mut start = 0;
            loop {
                let end = match memchr::memchr(b'\n', &buf[start..]) {
                    Some(i) => start + i,
                    None if eof && start < buf.len() => buf.len(),
                    None => break,
                };
                let at = base + start as u64;
                let mut text: &[u8] = &buf[start..end];
                start = (end + 1).min(buf.len());
                if at == 0 {
                    text = text.strip_prefix("\u{feff}".as_bytes()).unwrap_or(text);
                }
                while let [rest @ .., b'\r'] = text {
                    text = rest;
                }
                if text.iter().all(u8::is_ascii_whitespace) {
                    if end == buf.len() {
                        break;
                    }
                    continue;
                }
                let row = self.line(text, &mut order, &mut slots, &mut scratch);
                if let Some(row) = row.map_err(|m| (at, m))? {
                    rows.push(row);
                }
                if end == buf.len() {
                    break;
                }
            }
            if eof {
                break;
            }
            buf.drain(..start);
            base += start as u64;
        }
        Ok(rows)
    }

    /// One line: `None` when the predicate drops it.
    fn line(
        &self,
        text: &[u8],
        order: &mut Vec<usize>,
        slots: &mut [Option<(usize, usize)>],
        scratch: &mut Row,
    ) -> Result<Option<Row>, String> {
        slots.iter_mut().for_each(|s| *s = None);
        let split = |slots: &mut [Option<(usize, usize)>],
                     order: &mut Vec<usize>,
                     resume: Option<(usize, usize)>,
                     wanted: Option<(&[bool], usize)>| {
            split_fields(text, &self.index, &self.names, order, slots, resume, wanted)
        };
        let wanted = self
            .lazy
            .then_some((&self.pred_flags[..], self.pred_cols.len()));
        let Some(first) = split(slots, order, None, wanted) else {
            return self.slow_line(text);
        };
        if let Some(pred) = &self.pred {
            for &c in &self.pred_cols {
                scratch[c] = self.cell(text, slots[c], c)?;
            }
            let keep = matches!(pred(scratch), Value::Bool(true));
            for &c in &self.pred_cols {
                scratch[c] = Value::missing(self.schema.columns[c].1);
            }
            if !keep {
                return Ok(None);
            }
        }
        if let Split::Paused(i, k) = first {
            if split(slots, order, Some((i, k)), None).is_none() {
                return self.slow_line(text);
            }
        }
        let row = (0..slots.len())
            .map(|c| match self.decode[c] {
                true => self.cell(text, slots[c], c),
                false => Ok(Value::missing(self.schema.columns[c].1)),
            })
            .collect::<Result<Row, String>>()?;
        Ok(Some(row))
    }

    /// A line the fast split refused: the reference reader's values and errors.
    fn slow_line(&self, text: &[u8]) -> Result<Option<Row>, String> {
        let v: serde_json::Value =
            serde_json::from_slice(text).map_err(|e| format!("invalid JSON: {e}"))?;
        let row = json_row(&v, self.schema)?;
        let keep = match &self.pred {
            Some(p) => matches!(p(&row), Value::Bool(true)),
            None => true,
        };
        Ok(keep.then_some(row))
    }

    fn cell(&self, text: &[u8], slot: Option<(usize, usize)>, c: usize) -> Result<Value, String> {
        let (name, ty) = &self.schema.columns[c];
        let Some((s, e)) = slot else {
            return Ok(Value::missing(*ty));
        };
        let raw = &text[s..e];
        if let Some(v) = fast_cell(raw, *ty) {
            return Ok(v);
        }
        let j: serde_json::Value =
            serde_json::from_slice(raw).map_err(|e| format!("invalid JSON: {e}"))?;
        json_value(&j, *ty).map_err(|m| format!("column `{name}`: {m}"))
    }
}

/// The common cells without a JSON tree: plain strings, datetimes and integers.
fn fast_cell(raw: &[u8], ty: Type) -> Option<Value> {
    let plain_string = || -> Option<&str> {
        let inner = raw.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
        if inner.contains(&b'\\') {
            return None;
        }
        std::str::from_utf8(inner).ok()
    };
    match ty {
        Type::String | Type::Guid => plain_string().map(Value::str),
        Type::DateTime => plain_string().and_then(parse_datetime).map(Value::DateTime),
        // JSON integers only: no `+`, no leading zero (those go through serde_json's errors).
        Type::Long | Type::Int => {
            let digits = raw.strip_prefix(b"-").unwrap_or(raw);
            if digits.is_empty()
                || !digits.iter().all(u8::is_ascii_digit)
                || (digits.len() > 1 && digits[0] == b'0')
            {
                return None;
            }
            std::str::from_utf8(raw)
                .ok()?
                .parse::<i64>()
                .ok()
                .map(Value::Long)
        }
        Type::Dynamic if raw == b"null" => Some(Value::Null),
        _ => None,
    }
}

/// How far [`split_fields`] got: the whole object, or paused after the wanted columns at
/// (byte, key number), from where it resumes.
#[derive(Debug, PartialEq)]
enum Split {
    Done,
    Paused(usize, usize),
}

/// Splits one JSON object line into its top-level fields: `slots[column] = (start, end)` of
/// the value's text. `None` when the line is not a plain object this splitter handles (the
/// caller then parses it fully), including an unknown key (the full parse reports it).
/// With `wanted` (a flag per column and how many are set), it pauses once it has them all;
/// `resume` continues a paused split.
fn split_fields(
    t: &[u8],
    index: &HashMap<Vec<u8>, usize>,
    names: &[&[u8]],
    order: &mut Vec<usize>,
    slots: &mut [Option<(usize, usize)>],
    resume: Option<(usize, usize)>,
    wanted: Option<(&[bool], usize)>,
) -> Option<Split> {
    // Lines of one file usually list their keys in the same order: the k-th key is first
    // compared with the k-th key of the line before, and looked up only when it differs.
    let (mut i, mut k) = match resume {
        Some(at) => at,
        None => {
            let i = skip_ws(t, 0);
            if t.get(i) != Some(&b'{') {
                return None;
            }
            let i = skip_ws(t, i + 1);
            if t.get(i) == Some(&b'}') {
                return (skip_ws(t, i + 1) == t.len()).then_some(Split::Done);
            }
            (i, 0)
        }
    };
    let mut missing = wanted.map(|(_, n)| n);
    loop {
        if t.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(t, i)?;
        let key = &t[i + 1..key_end - 1];
        if key.contains(&b'\\') {
            return None;
        }
        let col = match order.get(k) {
            Some(&c) if names[c] == key => c,
            _ => {
                let c = *index.get(key)?;
                order.truncate(k);
                order.push(c);
                c
            }
        };
        k += 1;
        i = skip_ws(t, key_end);
        if t.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_ws(t, i + 1);
        let end = value_end(t, start)?;
        if let (Some((flags, _)), Some(n)) = (wanted, missing.as_mut()) {
            if flags[col] && slots[col].is_none() {
                *n -= 1;
            }
        }
        slots[col] = Some((start, end));
        i = skip_ws(t, end);
        match t.get(i) {
            Some(b',') => i = skip_ws(t, i + 1),
            Some(b'}') => return (skip_ws(t, i + 1) == t.len()).then_some(Split::Done),
            _ => return None,
        }
        if missing == Some(0) {
            return Some(Split::Paused(i, k));
        }
    }
}

fn skip_ws(t: &[u8], mut i: usize) -> usize {
    while i < t.len() && matches!(t[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

/// The end (exclusive) of the string starting at `t[i] == '"'`.
fn string_end(t: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        let k = j + memchr::memchr2(b'"', b'\\', &t[j..])?;
        if t[k] == b'"' {
            return Some(k + 1);
        }
        j = k + 2;
        if j > t.len() {
            return None;
        }
    }
}

/// The end (exclusive) of the JSON value starting at `t[i]`; nested values are skipped by
/// bracket depth, strings by their quotes. Scalars end at the next delimiter; their syntax is
/// checked when (and if) the cell is decoded.
fn value_end(t: &[u8], i: usize) -> Option<usize> {
    match *t.get(i)? {
        b'"' => string_end(t, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < t.len() {
                match t[j] {
                    b'"' => {
                        j = string_end(t, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let mut j = i;
            while j < t.len() && !matches!(t[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n')
            {
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

#[cfg(test)]
mod reader_tests {
    use super::*;
    use crate::ir::BinOp;

    fn schema() -> TableSchema {
        TableSchema {
            name: "T".into(),
            columns: vec![
                ("s".into(), Type::String),
                ("n".into(), Type::Long),
                ("t".into(), Type::DateTime),
                ("d".into(), Type::Dynamic),
            ],
        }
    }

    fn file(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("detc-scan-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("T.jsonl");
        std::fs::write(&p, text).unwrap();
        p
    }

    /// `n > 1`
    fn n_above_one() -> Expr {
        Expr {
            kind: ExprKind::Binary {
                op: BinOp::Gt,
                lhs: Box::new(Expr {
                    kind: ExprKind::Column {
                        index: 1,
                        name: "n".into(),
                    },
                    ty: Type::Long,
                }),
                rhs: Box::new(Expr::lit(Value::Long(1), Type::Long)),
            },
            ty: Type::Bool,
        }
    }

    #[test]
    fn same_rows_as_the_reference_reader() {
        let text = "\u{feff}{\"s\": \"a\\\"b\", \"n\": 1, \"t\": \"2024-03-01T00:00:00Z\", \"d\": {\"k\": [1, \"}\"]}}\r\n\
            \n\
            {\"n\": 2, \"s\": null, \"d\": null}\n\
            {\"d\": [1,2], \"s\": \"\\u00e9\", \"n\": 3, \"t\": null}\n\
            {\"s\": \"x\", \"s\": \"y\", \"n\": -4}";
        let path = file("same", text);
        let ctx = Ctx { now: 0 };
        let reference = super::super::data::read_file(&path, &schema()).unwrap();
        assert_eq!(
            read_jsonl(&path, &schema(), None, None, &ctx).unwrap(),
            reference
        );
        let kept: Vec<Row> = reference
            .into_iter()
            .filter(|r| matches!(r[1], Value::Long(n) if n > 1))
            .collect();
        let filtered = read_jsonl(&path, &schema(), Some(&n_above_one()), None, &ctx).unwrap();
        assert_eq!(filtered, kept);
        assert_eq!(kept.len(), 2);
    }

    #[test]
    fn errors_name_the_line() {
        let ctx = Ctx { now: 0 };
        for (name, text, want) in [
            (
                "key",
                "{\"n\": 1}\n{\"n\": 2, \"x\": 1}\n",
                "line 2: table `T` has no column `x`",
            ),
            (
                "json",
                "{\"n\": 1}\n\n{\"n\": 2,}\n",
                "line 3: invalid JSON",
            ),
            (
                "type",
                "{\"n\": \"1\"}\n",
                "line 1: column `n`: expected long",
            ),
            ("zero", "{\"n\": 01}\n", "line 1: invalid JSON"),
        ] {
            let path = file(name, text);
            let err = read_jsonl(&path, &schema(), Some(&n_above_one()), None, &ctx).unwrap_err();
            assert!(err.message.starts_with(want), "{name}: {}", err.message);
        }
    }

    #[test]
    fn large_files_check_dropped_lines_only_up_to_the_predicate() {
        // n comes first: a dropped line's bad tail goes unchecked; a kept line's does not.
        let line = format!("{{\"n\": 1, \"s\": \"{}\"}}\n", "x".repeat(1000));
        let mut text = line.repeat((LAZY_FROM as usize / line.len()) + 1);
        text.push_str("{\"n\": 0, \"unknown\": 1}\n{\"n\": 5, \"s\": \"kept\"}\n");
        let path = file("lazy", &text);
        let ctx = Ctx { now: 0 };
        let rows = read_jsonl(&path, &schema(), Some(&n_above_one()), None, &ctx).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][0], Value::str("kept"));
        text.push_str("{\"n\": 7, \"unknown\": 1}\n");
        let path = file("lazy2", &text);
        let err = read_jsonl(&path, &schema(), Some(&n_above_one()), None, &ctx).unwrap_err();
        assert!(
            err.message.contains("has no column `unknown`"),
            "{}",
            err.message
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_top_level_fields() {
        let index: HashMap<Vec<u8>, usize> =
            [(b"a".to_vec(), 0), (b"b".to_vec(), 1), (b"c".to_vec(), 2)].into();
        let t = br#"{"a": "x\"}", "b":{"k":[1,{"z":"]"}]}, "c": -1.5e3 }"#;
        let mut slots = vec![None; 3];
        let names: Vec<&[u8]> = vec![b"a", b"b", b"c"];
        let mut order = Vec::new();
        assert_eq!(
            split_fields(t, &index, &names, &mut order, &mut slots, None, None),
            Some(Split::Done)
        );
        assert_eq!(order, [0, 1, 2]);
        // The same keys in another order: looked up again.
        let t2 = br#"{"c": 1, "a": "y"}"#;
        let mut slots2 = vec![None; 3];
        assert_eq!(
            split_fields(t2, &index, &names, &mut order, &mut slots2, None, None),
            Some(Split::Done)
        );
        // Pausing after the wanted column, then resuming.
        let mut slots3 = vec![None; 3];
        let wanted = [true, false, false];
        let paused = split_fields(
            t,
            &index,
            &names,
            &mut order,
            &mut slots3,
            None,
            Some((&wanted, 1)),
        );
        let Some(Split::Paused(i, k)) = paused else {
            panic!("{paused:?}")
        };
        assert_eq!((slots3[0], slots3[1]), (slots[0], None));
        let done = split_fields(
            t,
            &index,
            &names,
            &mut order,
            &mut slots3,
            Some((i, k)),
            None,
        );
        assert_eq!((done, slots3), (Some(Split::Done), slots.clone()));
        assert_eq!(
            (slots2[0], slots2[1], slots2[2]),
            (Some((14, 17)), None, Some((6, 7)))
        );
        let text = |s: Option<(usize, usize)>| {
            let (a, b) = s.unwrap();
            std::str::from_utf8(&t[a..b]).unwrap()
        };
        assert_eq!(text(slots[0]), r#""x\"}""#);
        assert_eq!(text(slots[1]), r#"{"k":[1,{"z":"]"}]}"#);
        assert_eq!(text(slots[2]), "-1.5e3");
        for bad in [
            &br#"{"d": 1}"#[..],
            br#"{"a": 1"#,
            br#"{"a": 1} x"#,
            br#"["a"]"#,
            br#"{"a\u0041": 1}"#,
        ] {
            let mut slots = vec![None; 3];
            let mut order = Vec::new();
            assert_eq!(
                split_fields(bad, &index, &names, &mut order, &mut slots, None, None),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
