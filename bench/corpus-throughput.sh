#!/usr/bin/env bash
# Benchmark 3 (bench/README.md): `detc lint` and `detc build` (all targets) over the Sentinel
# corpus (../shared/corpus/sentinel; skipped when absent). Median of $RUNS hyperfine runs
# (default 5) after a warm-up.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS="${RUNS:-5}"
corpus=../shared/corpus/sentinel
[ -d "$corpus" ] || { echo "corpus throughput: skipped ($corpus is absent)"; exit 0; }
command -v hyperfine >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null && apt-get install -y -qq hyperfine >/dev/null
}
cargo build --quiet --release -p detc
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# `detc build` compiles every rule to every target, then exits 1 without writing: some rules do
# not compile to every target (docs/corpus.md), and build writes all or nothing.
hyperfine --style basic --warmup 1 --runs "$RUNS" -i --export-json "$out/t.json" \
    -n "detc lint (1,128 files)" "target/release/detc lint --output-format concise --exit-zero $corpus" \
    -n "detc build, all 5 targets (1,128 files)" "rm -rf $out/b && target/release/detc build $corpus --out $out/b" >&2
python3 - "$out/t.json" <<'PY'
import json, sys
print("| command | median s | min s | max s |")
print("|---|---:|---:|---:|")
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"| {r['command']} | {r['median']:.3f} | {r['min']:.3f} | {r['max']:.3f} |")
PY
