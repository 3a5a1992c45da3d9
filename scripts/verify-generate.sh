#!/usr/bin/env bash
# Differential verification on synthesized tables (`detc verify --generate`):
#   1. every rule of rules/;
#   2. the corpus sample: every 4th rule file of ../shared/corpus/sentinel in byte order of
#      path (`LC_ALL=C sort`), 282 of the 1,128 files (skipped without the corpus).
# Every rule must agree with the native run on every engine, or differ only where its SQL
# declares an approximation; a disagreement fails the run and is shrunk to a reproducer
# under $DETC_REPRO (default target/verify-repro). Known disagreements, each with its reason,
# are listed in tests/verify-generate.known.
# Needs the engines (scripts/engines.sh) and DETC (a detc binary). DETC_VERIFY_ENGINES picks
# the engines (default duckdb,sqlite,postgres; `scripts/test.sh --slow` adds spark).
# The whole corpus is one command (about 2 minutes with a release build):
#   detc verify --generate ../shared/corpus/sentinel --engines duckdb,sqlite,postgres
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DETC=${DETC:-target/debug/detc}
engines=${DETC_VERIFY_ENGINES:-duckdb,sqlite,postgres}
repro=${DETC_REPRO:-target/verify-repro}
rm -rf "$repro"

"$DETC" verify --generate rules/ --engines "$engines" --repro "$repro"

corpus=../shared/corpus/sentinel
if [ ! -d "$corpus" ]; then
    echo "verify --generate: corpus sample skipped ($corpus is absent)"
    exit 0
fi
out=$(mktemp)
list=$(mktemp)
trap 'rm -f "$out" "$list"' EXIT
find "$corpus" -type f \( -name '*.yaml' -o -name '*.yml' \) | LC_ALL=C sort | awk 'NR % 4 == 1' >"$list"
mapfile -t sample <"$list"
set +e
"$DETC" verify --generate "${sample[@]}" --engines "$engines" --repro "$repro" --format json >"$out"
status=$?
set -e
if [ "$status" -gt 1 ]; then
    echo "verify --generate: the corpus sample run failed (exit $status)"
    exit "$status"
fi
PYTHONPATH=scripts python3 - "$out" tests/verify-generate.known "$engines" <<'PY'
import json, sys
import known_failures as kf
report, known_file, engines = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
d = json.load(open(report))
known = kf.load(known_file, engines)
failed = {}
for r in d["rules"]:
    for e, v in r["engines"].items():
        if v["verdict"] == "disagreed":
            failed[(e, kf.corpus_path(r["path"]))] = v["diff"]
print(f"verify --generate: corpus sample: {d['files']} files, {d['compared']} compared on synthesized tables")
for e in engines:
    t = d["totals"][e]
    print(f"verify --generate: {e}: {t['agreed']} agreed, {t['approximated']} differ as declared, "
          f"{t['disagreed']} disagreed, {t['skipped']} unsupported")
sys.exit(kf.judge("verify --generate", failed, known, known_file))
PY
