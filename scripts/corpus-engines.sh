#!/usr/bin/env bash
# Every rule of ../shared/corpus/sentinel whose SQL renders runs on DuckDB, SQLite and
# PostgreSQL (empty tables, then one synthetic row per table) and must return the native
# run's rows: `detc report --engines`. Known failures, each a declared approximation, are
# listed with their reason in tests/corpus-engines.known; any other failure fails the run.
# Needs the engines (scripts/engines.sh) and DETC (a detc binary). Skips without the corpus.
# DETC_CORPUS_ENGINES picks the engines (default duckdb,sqlite,postgres; `scripts/test.sh
# --slow` adds spark, about 13 more minutes).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
corpus=../shared/corpus/sentinel
if [ ! -d "$corpus" ]; then
    echo "corpus engines: skipped ($corpus is absent)"
    exit 0
fi
out=$(mktemp)
trap 'rm -f "$out"' RETURN
"${DETC:-target/debug/detc}" report "$corpus" --format json --engines "${DETC_CORPUS_ENGINES:-duckdb,sqlite,postgres}" >"$out"
python3 - "$out" tests/corpus-engines.known "${DETC_CORPUS_ENGINES:-duckdb,sqlite,postgres}" <<'PY'
import json, sys
report, known_file, engines = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
d = json.load(open(report))
known = {}
for line in open(known_file, encoding="utf-8"):
    line = line.strip()
    if line and not line.startswith("#"):
        engine, path, why = line.split("\t")
        if engine in engines:
            known[(engine, path)] = why
failed = {}
for r in d["rules"]:
    path = r["path"].split("corpus/sentinel/", 1)[-1]
    for stage, outcome in r["stages"].items():
        if stage.startswith("run:") and isinstance(outcome, dict):
            failed[(stage[4:], path)] = outcome["message"]
new = sorted(set(failed) - set(known))
gone = sorted(set(known) - set(failed))
for e in engines:
    ran = d["stages"][f"sql:{e}"]
    print(f"corpus engines: {e}: {d['stages'][f'run:{e}']} of {ran} rules with SQL agree")
for k in gone:
    print(f"corpus engines: known failure now passes (remove it from {known_file}): {k[0]} {k[1]}")
for k in new:
    print(f"corpus engines: NEW FAILURE {k[0]} {k[1]}\n  {failed[k]}")
sys.exit(1 if new else 0)
PY
