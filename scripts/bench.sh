#!/usr/bin/env bash
# Whole-process benchmarks of the commands users wait for, over the Sentinel corpus in
# ../shared (skipped when it is absent): `detc lint` (issue 4's target: under 1 s wall on this
# 2-core machine) and `detc report`. Uses hyperfine (Debian package), installing it if needed.
# Not part of the test run: timings are reported, never asserted.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
corpus=../shared/corpus/sentinel
if [ ! -d "$corpus" ]; then
    echo "bench: $corpus not found; nothing to measure"
    exit 0
fi
if ! command -v hyperfine >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq hyperfine; else sudo apt-get update -qq && sudo apt-get install -y -qq hyperfine; fi
fi
cargo build --release --quiet --bin detc
hyperfine --warmup 1 --runs 10 \
    "target/release/detc lint --output-format concise --exit-zero $corpus" \
    "target/release/detc report $corpus --format json"
