#!/usr/bin/env bash
# The project's full test command (CI runs it through .ci/run).
#
# Provisions the real engines (scripts/engines.sh: DuckDB CLI from PyPI, a throw-away
# PostgreSQL server; SQLite is bundled), requires them (engine tests fail instead of skipping),
# runs the Rust tests, then the rule suite. The PostgreSQL server is stopped on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/engines.sh
source scripts/engines.sh # sets the EXIT trap detc_engines_stop
trap detc_engines_stop EXIT
export DETC_REQUIRE_ENGINES=1
# The SARIF 2.1.0 schema, for the lint output tests (npm registry).
# shellcheck source=scripts/sarif-schema.sh
source scripts/sarif-schema.sh

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
  --engines duckdb,sqlite,postgres
out=$(mktemp -d)
"$DETC" build rules/ --out "$out"
echo "rule suite: ok ($(ls "$out" | wc -l) target files built)"
rm -rf "$out"

# --- every corpus rule's SQL on the three engines (about 3 minutes; skipped without ../shared) ---
DETC=target/debug/detc bash scripts/corpus-engines.sh

# --- the pre-commit hook, run by the real pre-commit framework ---
bash scripts/precommit-test.sh
