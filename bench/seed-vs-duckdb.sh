#!/usr/bin/env bash
# Benchmark 1 (bench/README.md): the seed rule run natively by `detc run` against DuckDB
# running detc's own DuckDB SQL for the seed, over the same synthetic NDJSON files.
#
#   bash bench/seed-vs-duckdb.sh [ROWS ...]      # default: 1000000 10000000
#
# For each size: generates SigninLogs and AADNonInteractiveUserSignInLogs with ROWS rows each
# and IdentityInfo with 100,000 rows (bench/src/bin/gen.rs; kept in $BENCH_DATA, default
# target/bench-data, about 1.7 KB a sign-in row), checks that both give the same rows, then
# times both with hyperfine (median of $RUNS runs after a warm-up, default 5) and measures peak
# memory with GNU time (median of $RUNS runs). Installs hyperfine and GNU time from Debian and
# the DuckDB CLI from PyPI (scripts/engines.sh) when missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS="${RUNS:-5}"
BENCH_DATA="${BENCH_DATA:-target/bench-data}"
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1000000 10000000)

# shellcheck source=scripts/engines.sh
source scripts/engines.sh
trap detc_engines_stop EXIT
for tool in hyperfine:hyperfine time:/usr/bin/time; do
    command -v "${tool#*:}" >/dev/null 2>&1 || _detc_apt_install "${tool%%:*}"
done

cargo build --quiet --release -p detc -p detc-bench
DETC=target/release/detc
PARAMS=(--param StartTimeISO=2024-03-01T00:00:00Z --param EndTimeISO=2024-03-03T00:00:00Z)
RULE=rules/privileged-accounts-failed-mfa.yaml
work=$(mktemp -d)
"$DETC" build "$RULE" --target sql:duckdb "${PARAMS[@]}" --out "$work/sql" >/dev/null
sql="$work/sql/privileged-accounts-failed-mfa.duckdb.sql"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "| rows per sign-in table | data | detc median s | DuckDB median s | ratio | detc peak MiB | DuckDB peak MiB | ratio | result rows |"
echo "|---|---|---|---|---|---|---|---|---|"
for rows in "${SIZES[@]}"; do
    data="$BENCH_DATA/$rows"
    if [ ! -s "$data/AADNonInteractiveUserSignInLogs.jsonl" ]; then
        target/release/gen "$data" "$rows" >&2
    fi
    size=$(du -sh "$data" | cut -f1)
    python3 bench/duckdb_views.py "$data" "$sql" > "$work/duck.sql"
    detc_cmd="$DETC run $RULE --data $data ${PARAMS[*]} --format jsonl"
    duck_cmd="$DETC_DUCKDB -c '.read $work/duck.sql'"
    # Same rows: the number, and the (account, IP, result code) of each.
    $detc_cmd 2>/dev/null > "$work/detc.jsonl"
    sed 's|^.output /dev/null$||; s|^.mode csv$|.mode jsonlines|' "$work/duck.sql" | "$DETC_DUCKDB" > "$work/duck.jsonl"
    python3 - "$work/detc.jsonl" "$work/duck.jsonl" <<'PY'
import json, sys
def keys(path):
    return sorted((str(r.get("AccountUPN")), str(r.get("IPCustomEntity")), str(r.get("ResultType")))
                  for r in map(json.loads, filter(str.strip, open(path))))
a, b = keys(sys.argv[1]), keys(sys.argv[2])
if a != b:
    sys.exit(f"detc and DuckDB disagree: {len(a)} vs {len(b)} rows")
PY
    result_rows=$(grep -c . "$work/detc.jsonl" || true)
    hyperfine --style none --warmup 1 --runs "$RUNS" --export-json "$work/t.json" \
        -n detc "$detc_cmd" -n duckdb "$duck_cmd" >&2
    read -r t_detc t_duck < <(python3 -c "
import json; r = {x['command']: x['median'] for x in json.load(open('$work/t.json'))['results']}
print(f\"{r['detc']:.2f} {r['duckdb']:.2f}\")")
    m_detc=$(for _ in $(seq "$RUNS"); do /usr/bin/time -f %M $detc_cmd 2>&1 >/dev/null | tail -1; done | median)
    m_duck=$(for _ in $(seq "$RUNS"); do /usr/bin/time -f %M "$DETC_DUCKDB" -c ".read $work/duck.sql" 2>&1 >/dev/null | tail -1; done | median)
    python3 -c "
t1, t2, m1, m2 = $t_detc, $t_duck, $m_detc / 1024, $m_duck / 1024
print(f'| {$rows:,} | $size | {t1:.2f} | {t2:.2f} | {t1 / t2:.2f} | {m1:.0f} | {m2:.0f} | {m1 / m2:.2f} | $result_rows |')"
done
rm -rf "$work"
