// Checks KQL queries with Microsoft's Kusto.Language (npm @kusto/language-service-next, fetched
// by scripts/kusto-ls.sh): parse and bind against detc's schemas, report the errors and the
// result columns Kusto.Language infers, and compare those with the columns expected (the IR's
// output schema). Used by tests/kusto_check.rs, which runs it once per batch.
//
// usage: node kusto-check.js PACKAGE_DIR SCHEMAS_DIR BATCH.json
//   PACKAGE_DIR  the package directory (bridge.min.js, Kusto.Language.Bridge.min.js)
//   SCHEMAS_DIR  detc's schemas/ (tables/*.json and functions/*.json are declared)
//   BATCH.json   [{"name": ..., "kql": ..., "columns": [[name, type], ...],
//                  "tables": {name: [[column, type], ...]} (optional, see globalsFor)}, ...]
// Prints one JSON array, one object per item, in order:
//   {"name", "errors": [{"code", "message", "offset", "line", "col"}],
//    "columns": [[name, type], ...] (null when the query has no tabular result),
//    "columns_match": bool, "mismatch": text or null}
//
// Declarations, as detc resolves names (compiler/src/catalog.rs, lower/mod.rs):
// - every schemas/tables/<T>.json as a table T;
// - every schemas/functions/<F>.json as a database function F with its parameter list
//   (types and default values as declared) and a body `datatable(<its columns>) []`, so a
//   call binds to a tabular result with exactly the declared columns. Kusto.Language accepts
//   `F` without parentheses when every parameter has a default, as Kusto does.
// - A name that is both a table and a function (imDns, ASimDns, ...) is declared as the
//   function only: detc resolves such a name to the function (its columns are a superset),
//   and one database cannot hold a table and a function of the same name.
//
// Type comparison: exact, by Kusto's type names (bool, int, long, real, decimal, string,
// datetime, timespan, guid, dynamic), and names equal and in the same order. No normalisation,
// not even int vs long: detc runs both as one 64-bit integer (compiler/src/types.rs), but the
// IR keeps them apart to say what a schema says, and on every rule of rules/ and the 1,019
// corpus rules that reach the IR the IR's int/long agree with Kusto.Language's (measured
// 2026-11), so an int/long difference is reported like any other.
"use strict";
const fs = require("fs");
const path = require("path");

const [pkg, schemas, batchFile] = process.argv.slice(2);
if (!pkg || !schemas || !batchFile) {
  console.error("usage: node kusto-check.js PACKAGE_DIR SCHEMAS_DIR BATCH.json");
  process.exit(2);
}
require(path.resolve(pkg, "bridge.min.js"));
require(path.resolve(pkg, "Kusto.Language.Bridge.min.js"));
const K = Kusto.Language;

const bracket = (name) => `['${name.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}']`;
const schemaText = (columns) => `(${columns.map((c) => `${bracket(c.name)}:${c.type}`).join(", ")})`;
const readDir = (dir) =>
  fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")))
    .filter((s) => s && Array.isArray(s.columns));

const symbols = [];
const functionNames = new Set();
for (const f of readDir(path.join(schemas, "functions"))) {
  const params = (f.parameters || []).map(
    (p) => `${p.name}:${p.type}` + (p.optional !== false && p.default != null ? `=${p.default}` : ""),
  );
  const body = `{ datatable${schemaText(f.columns)} [] }`;
  symbols.push(new K.Symbols.FunctionSymbol.$ctor16(f.function, `(${params.join(", ")})`, body, null));
  functionNames.add(f.function);
}
for (const t of readDir(path.join(schemas, "tables"))) {
  if (functionNames.has(t.table)) continue;
  symbols.push(new K.Symbols.TableSymbol.$ctor7(t.table, schemaText(t.columns), null));
}
const withDatabase = (syms) => K.GlobalState.Default.WithDatabase(new K.Symbols.DatabaseSymbol.ctor("db", syms));
const globals = withDatabase(symbols);

// An item's own table schemas (`tables`: {name: [[column, type], ...]}) replace the declared
// ones for that item: detc reads the Log Analytics fields of open tables (AzureDiagnostics,
// custom `_CL` tables) that a query names with a type suffix (`Foo_s`) as extra columns.
function globalsFor(item) {
  const own = item.tables || {};
  if (Object.keys(own).length === 0) return globals;
  const table = (name) =>
    new K.Symbols.TableSymbol.$ctor7(name, schemaText(own[name].map(([n, t]) => ({ name: n, type: t }))), null);
  const syms = symbols.map((s) => (Object.prototype.hasOwnProperty.call(own, s.Name) ? table(s.Name) : s));
  for (const name of Object.keys(own)) {
    if (!symbols.some((s) => s.Name === name)) syms.push(table(name));
  }
  return withDatabase(syms);
}

const list = (l) => {
  const out = [];
  const it = Bridge.getEnumerator(l);
  while (it.moveNext()) out.push(it.Current);
  return out;
};

function lineCol(text, offset) {
  const before = text.slice(0, offset).split("\n");
  return [before.length, before[before.length - 1].length + 1];
}

function check(item) {
  const code = K.KustoCode.ParseAndAnalyze(item.kql, globalsFor(item));
  const errors = list(code.GetDiagnostics())
    .filter((d) => String(d.Severity) === "Error")
    .map((d) => {
      const [line, col] = lineCol(item.kql, d.Start);
      return { code: d.Code, message: d.Message, offset: d.Start, line, col };
    });
  const rt = code.ResultType;
  const columns = rt && rt.Columns ? list(rt.Columns).map((c) => [c.Name, c.Type.Name]) : null;
  const expected = item.columns || [];
  let mismatch = null;
  if (columns === null) {
    mismatch = "Kusto.Language infers no tabular result";
  } else {
    const show = (c) => (c ? `${c[0]}:${c[1]}` : "nothing");
    const n = Math.max(columns.length, expected.length);
    for (let i = 0; i < n; i++) {
      const [got, want] = [columns[i], expected[i]];
      if (!got || !want || got[0] !== want[0] || got[1] !== want[1]) {
        mismatch = `column ${i + 1}: ${show(got)}, expected ${show(want)}`;
        if (columns.length !== expected.length) {
          mismatch += ` (${columns.length} columns, expected ${expected.length})`;
        }
        break;
      }
    }
  }
  return { name: item.name, errors, columns, columns_match: mismatch === null, mismatch };
}

const batch = JSON.parse(fs.readFileSync(batchFile, "utf8"));
process.stdout.write(JSON.stringify(batch.map(check)) + "\n");
