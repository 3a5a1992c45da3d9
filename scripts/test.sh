#!/usr/bin/env bash
# The project's full test command (CI runs it through .ci/run).
#
# Provisions the real engines (scripts/engines.sh: DuckDB CLI from PyPI, a throw-away
# PostgreSQL server; SQLite is bundled), requires them (engine tests fail instead of skipping),
# runs the Rust tests, then the rule suite. The PostgreSQL server is stopped on exit.
#
# `--slow` also runs every corpus rule's Spark SQL on the local Spark (about 13 more minutes)
# and the synthesized-table verification of the corpus sample on Spark; CI (.ci/run) passes it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
slow=""
[ "${1:-}" = "--slow" ] && slow=1

# shellcheck source=scripts/engines.sh
source scripts/engines.sh # sets the EXIT trap detc_engines_stop
trap detc_engines_stop EXIT
export DETC_REQUIRE_ENGINES=1
# The SARIF 2.1.0 schema, for the lint output tests (npm registry).
# shellcheck source=scripts/sarif-schema.sh
source scripts/sarif-schema.sh
# Microsoft's Kusto.Language for tests/kusto_check.rs (npm; exports DETC_KUSTO_LS).
# shellcheck source=scripts/kusto-ls.sh
source scripts/kusto-ls.sh
# sigma-cli 3.1.0 + pySigma 1.5.1 + pySigma-backend-kusto 1.0.1 in .detc-ci/sigma-venv, for
# tests/sigma_cli.rs (exports DETC_SIGMA).
# shellcheck source=scripts/sigma-cli.sh
source scripts/sigma-cli.sh

# Debug profile (dependencies at opt-level 1, see Cargo.toml): on 2 cores it builds much
# faster than --release and the tests are small.
cargo test --workspace

# --- rule suite ---
# Every shipped rule: lint clean, its tests pass, and every engine agrees with the native run
# on the rule's fixtures.
cargo build --quiet --bin detc
DETC=target/debug/detc
"$DETC" lint rules/
"$DETC" test rules/
"$DETC" verify rules/privileged-accounts-failed-mfa.yaml \
  --data rules/fixtures/privileged-accounts-failed-mfa \
  --param StartTimeISO=2024-03-01T00:00:00Z --param EndTimeISO=2024-03-02T00:00:00Z \
  --engines duckdb,sqlite,postgres,spark
out=$(mktemp -d)
"$DETC" build rules/ --out "$out"
echo "rule suite: ok ($(ls "$out" | wc -l) target files built)"
rm -rf "$out"

# --- differential verification on synthesized tables: rules/ and a fixed corpus sample ---
verify_engines=duckdb,sqlite,postgres
[ -n "$slow" ] && verify_engines=$verify_engines,spark
DETC=target/debug/detc DETC_VERIFY_ENGINES=$verify_engines bash scripts/verify-generate.sh

# --- every corpus rule's SQL on the three engines (about 3 minutes; skipped without ../shared) ---
engines=duckdb,sqlite,postgres
[ -n "$slow" ] && engines=$engines,spark
DETC=target/debug/detc DETC_CORPUS_ENGINES=$engines bash scripts/corpus-engines.sh

# --- the pre-commit hook, run by the real pre-commit framework ---
bash scripts/precommit-test.sh
