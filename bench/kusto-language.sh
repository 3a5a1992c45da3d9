#!/usr/bin/env bash
# Benchmark 3, second half (bench/README.md): parse-and-analyse per query, detc against
# Microsoft's Kusto.Language warm in one Node process, on the corpus queries
# (../shared/corpus/sentinel; skipped when absent) and detc's table schemas.
# Installs python3-yaml from Debian when missing; scripts/kusto-ls.sh fetches
# @kusto/language-service-next (and Node.js/npm when missing) into target/kusto-ls.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
corpus=../shared/corpus/sentinel
[ -d "$corpus" ] || { echo "kusto-language: skipped ($corpus is absent)"; exit 0; }
if ! python3 -c "import yaml" 2>/dev/null; then
    apt-get update -qq >/dev/null && apt-get install -y -qq python3-yaml >/dev/null
fi
package=$(bash scripts/kusto-ls.sh)
pkg=target/kusto-ls
python3 - "$corpus" "$pkg/queries.json" <<'PY'
import glob, json, sys, yaml
queries = []
for p in sorted(glob.glob(sys.argv[1] + "/**/*.yaml", recursive=True)):
    try:
        d = yaml.safe_load(open(p, encoding="utf-8-sig"))
    except Exception:
        continue
    if isinstance(d, dict) and isinstance(d.get("query"), str):
        queries.append(d["query"])
json.dump(queries, open(sys.argv[2], "w"))
PY
kusto=$(node bench/kusto_language.js "$package" schemas/tables "$pkg/queries.json")
cargo build --quiet --release -p detc
# detc: the whole `detc lint` process over the same files (YAML, schema, parse, names and
# types, lint checks), median of 5 runs, per file with a query.
lint=$(for _ in 1 2 3 4 5 6; do
    /usr/bin/time -f "%e %U %S" target/release/detc lint --output-format concise --exit-zero "$corpus" 2>&1 >/dev/null | tail -1
done | tail -5 | sort -n | sed -n 3p)
python3 - "$kusto" "$lint" <<'PY'
import json, sys
k = json.loads(sys.argv[1])
wall, user, sys_ = map(float, sys.argv[2].split())
n = k["queries"]
detc_wall, detc_cpu = 1000 * wall / n, 1000 * (user + sys_) / n
print("| per query | detc lint (whole process, 2 cores) | Kusto.Language (warm, one Node process) | ratio |")
print("|---|---:|---:|---:|")
print(f"| wall ms | {detc_wall:.3f} | {k['ms_per_query']:.2f} | {k['ms_per_query'] / detc_wall:.0f}x |")
print(f"| CPU ms | {detc_cpu:.3f} | {k['ms_per_query']:.2f} (one core) | {k['ms_per_query'] / detc_cpu:.0f}x |")
print(f"\n{n} queries; Kusto.Language reported {k['errors']} errors against these schemas; its warm-up pass took {k['warmup_ms'] / 1000:.1f} s.")
PY
