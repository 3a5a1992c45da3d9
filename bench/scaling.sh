#!/usr/bin/env bash
# Benchmark 2 (bench/README.md): `detc run` of the seed rule as the data grows.
#
#   bash bench/scaling.sh [ROWS ...]      # default: 1000000 2000000 4000000 8000000
#
# Same data generator and folder as bench/seed-vs-duckdb.sh ($BENCH_DATA); median of $RUNS
# hyperfine runs (default 3) per size, and the time per million sign-in rows.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS="${RUNS:-3}"
BENCH_DATA="${BENCH_DATA:-target/bench-data}"
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1000000 2000000 4000000 8000000)
command -v hyperfine >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null && apt-get install -y -qq hyperfine >/dev/null
}
cargo build --quiet --release -p detc -p detc-bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "| rows per sign-in table | data | detc median s | s per million rows (both tables) |"
echo "|---|---|---|---|"
for rows in "${SIZES[@]}"; do
    data="$BENCH_DATA/$rows"
    [ -s "$data/AADNonInteractiveUserSignInLogs.jsonl" ] || target/release/gen "$data" "$rows" >&2
    hyperfine --style none --warmup 1 --runs "$RUNS" --export-json "$work/t.json" \
        "target/release/detc run rules/privileged-accounts-failed-mfa.yaml --data $data --param StartTimeISO=2024-03-01T00:00:00Z --param EndTimeISO=2024-03-03T00:00:00Z --format jsonl" >&2
    python3 -c "
import json; t = json.load(open('$work/t.json'))['results'][0]['median']
print(f'| {$rows:,} | $(du -sh "$data" | cut -f1) | {t:.2f} | {t / (2 * $rows / 1e6):.3f} |')"
done
