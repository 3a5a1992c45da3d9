#!/usr/bin/env bash
# Benchmark 2, second half (bench/README.md): many rules over the same data in one `detc run`,
# which reads each table once. The rules are corpus rules (../shared/corpus/sentinel; skipped
# when absent) that run on the generated tables alone (SigninLogs,
# AADNonInteractiveUserSignInLogs, IdentityInfo), taken in path order and repeated to make
# 1, 10 and 100 rules. Median of $RUNS hyperfine runs (default 3) over $ROWS rows (default 1M).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS="${RUNS:-3}"
ROWS="${ROWS:-1000000}"
BENCH_DATA="${BENCH_DATA:-target/bench-data}"
corpus=../shared/corpus/sentinel
[ -d "$corpus" ] || { echo "many rules: skipped ($corpus is absent)"; exit 0; }
command -v hyperfine >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null && apt-get install -y -qq hyperfine >/dev/null
}
cargo build --quiet --release -p detc -p detc-bench
DETC=target/release/detc
NOW=2024-03-03T00:00:00Z
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
target/release/gen "$work/small" 1000 >/dev/null
data="$BENCH_DATA/$ROWS"
[ -s "$data/AADNonInteractiveUserSignInLogs.jsonl" ] || target/release/gen "$data" "$ROWS" >&2
# Rules that run on these three tables alone (a rule reading another table fails here).
mapfile -t found < <(grep -rlE "SigninLogs|AADNonInteractiveUserSignInLogs|IdentityInfo" "$corpus" --include='*.yaml' | sort)
rules=()
for r in "${found[@]}"; do
    if "$DETC" run "$r" --data "$work/small" --now "$NOW" --format jsonl >/dev/null 2>&1; then
        rules+=("$r")
    fi
done
echo "${#rules[@]} corpus rules run on the generated tables alone" >&2
echo "| rules in one run | detc median s | s per rule |"
echo "|---|---:|---:|"
for n in 1 10 100; do
    mkdir -p "$work/rules$n"
    for i in $(seq 0 $((n - 1))); do
        cp "${rules[$((i % ${#rules[@]}))]}" "$work/rules$n/r$i.yaml"
    done
    hyperfine --style none --warmup 1 --runs "$RUNS" --export-json "$work/t.json" \
        "$DETC run $work/rules$n --data $data --now $NOW --format jsonl" >&2
    python3 -c "
import json; t = json.load(open('$work/t.json'))['results'][0]['median']
print(f'| $n | {t:.2f} | {t / $n:.3f} |')"
done
echo
echo "${#rules[@]} distinct corpus rules qualify; the 10 and 100 runs repeat them in path order."
