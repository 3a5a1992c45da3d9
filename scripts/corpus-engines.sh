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
PYTHONPATH=scripts python3 - "$out" tests/corpus-engines.known "${DETC_CORPUS_ENGINES:-duckdb,sqlite,postgres}" <<'PY'
import json, sys
import known_failures as kf
report, known_file, engines = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
d = json.load(open(report))
known = kf.load(known_file, engines)
failed = {}
for r in d["rules"]:
    for stage, outcome in r["stages"].items():
        if stage.startswith("run:") and isinstance(outcome, dict):
            failed[(stage[4:], kf.corpus_path(r["path"]))] = outcome["message"]
for e in engines:
    ran = d["stages"][f"sql:{e}"]
    print(f"corpus engines: {e}: {d['stages'][f'run:{e}']} of {ran} rules with SQL agree")
sys.exit(kf.judge("corpus engines", failed, known, known_file, stale_ok=True))
PY
