#!/usr/bin/env bash
# Fetches the SARIF 2.1.0 JSON Schema (from the npm package @microsoft/jest-sarif, which ships
# the OASIS schema file) into .detc-ci/sarif and exports DETC_SARIF_SCHEMA, so the lint output
# tests validate `--output-format sarif` against it. Source it; idempotent.
_detc_sarif_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_detc_sarif_dir="$_detc_sarif_root/.detc-ci/sarif"
_detc_sarif_file="$_detc_sarif_dir/sarif-2.1.0-rtm.5.json"
if [ ! -s "$_detc_sarif_file" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ]; then
            apt-get update -qq >/dev/null && apt-get install -y -qq npm >/dev/null
        else
            sudo apt-get update -qq >/dev/null && sudo apt-get install -y -qq npm >/dev/null
        fi
    fi
    mkdir -p "$_detc_sarif_dir"
    (cd "$_detc_sarif_dir" && npm pack --silent @microsoft/jest-sarif@1.0.0-beta.0 >/dev/null \
        && tar xzf microsoft-jest-sarif-1.0.0-beta.0.tgz package/lib/schemas/sarif-2.1.0-rtm.5.json \
        && mv package/lib/schemas/sarif-2.1.0-rtm.5.json . && rm -rf package ./*.tgz)
fi
if [ -s "$_detc_sarif_file" ]; then
    export DETC_SARIF_SCHEMA="$_detc_sarif_file"
else
    echo "sarif-schema.sh: could not fetch the SARIF schema" >&2
fi
