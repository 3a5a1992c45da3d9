// Parse-and-analyse of every corpus query with Microsoft's Kusto.Language (npm
// @kusto/language-service-next), warm in one Node process, against detc's table schemas
// (schemas/tables/*.json). Benchmark 3 of bench/README.md; run by bench/kusto-language.sh.
//
// usage: node kusto_language.js PACKAGE_DIR SCHEMAS_DIR QUERIES.json
// Prints one JSON object: queries, warm-up and timed pass milliseconds, errors per query.
const fs = require("fs");
const path = require("path");
const [pkg, schemas, queriesFile] = process.argv.slice(2);
require(path.resolve(pkg, "bridge.min.js"));
require(path.resolve(pkg, "Kusto.Language.Bridge.min.js"));
const K = Kusto.Language;

const kqlType = (t) => ({ guid: "guid", timespan: "timespan", decimal: "decimal" })[t] || t;
const tables = [];
for (const f of fs.readdirSync(schemas).filter((f) => f.endsWith(".json")).sort()) {
  const s = JSON.parse(fs.readFileSync(path.join(schemas, f), "utf8"));
  const cols = (s.columns || s).map((c) => `['${c.name.replace(/'/g, "\\'")}']:${kqlType(c.type.toLowerCase())}`);
  tables.push(new K.Symbols.TableSymbol.$ctor7(f.replace(/\.json$/, ""), `(${cols.join(", ")})`, null));
}
const globals = K.GlobalState.Default.WithDatabase(new K.Symbols.DatabaseSymbol.ctor("db", tables));
const queries = JSON.parse(fs.readFileSync(queriesFile, "utf8"));

function pass() {
  let errors = 0;
  const t0 = process.hrtime.bigint();
  for (const q of queries) {
    const code = K.KustoCode.ParseAndAnalyze(q, globals);
    const it = Bridge.getEnumerator(code.GetDiagnostics());
    while (it.moveNext()) {
      if (String(it.Current.Severity) === "Error") errors++;
    }
  }
  return [Number(process.hrtime.bigint() - t0) / 1e6, errors];
}
const [warm] = pass();
const [timed, errors] = pass();
console.log(JSON.stringify({ queries: queries.length, warmup_ms: warm, timed_ms: timed, ms_per_query: timed / queries.length, errors }));
