#!/usr/bin/env bash
# The main job on the shipped rules, embedded: no server needed. Lints every rule, runs each
# rule's tests on its fixtures, and builds every target into out/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --quiet --release --bin detc
DETC=target/release/detc
"$DETC" lint rules/
"$DETC" test rules/
"$DETC" build rules/ --out out/
