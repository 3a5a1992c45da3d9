#!/usr/bin/env bash
# Fetches Microsoft's Kusto.Language (npm @kusto/language-service-next, pinned) into
# target/kusto-ls/package, for tests/kusto_check.rs (through scripts/kusto-check.js) and
# bench/kusto-language.sh. Installs Node.js/npm from Debian when npm is missing. Idempotent:
# a second run does nothing.
#
# Run it: prints the package directory.
# Source it: also exports DETC_KUSTO_LS=<package directory> (read by tests/kusto_check.rs);
#   on failure it prints why and exports nothing (the test then skips, or fails when
#   DETC_REQUIRE_ENGINES=1).
_detc_kls_version=12.4.1
_detc_kls_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_detc_kls_dir="$_detc_kls_root/target/kusto-ls"

_detc_kls_fetch() {
    if [ -f "$_detc_kls_dir/package/Kusto.Language.Bridge.min.js" ] \
        && grep -q "\"version\": \"$_detc_kls_version\"" "$_detc_kls_dir/package/package.json" 2>/dev/null; then
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
        local sudo=""
        [ "$(id -u)" = 0 ] || sudo=sudo
        $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq nodejs npm >/dev/null || return 1
    fi
    mkdir -p "$_detc_kls_dir" || return 1
    local tgz="kusto-language-service-next-$_detc_kls_version.tgz"
    (cd "$_detc_kls_dir" \
        && rm -rf package "$tgz" \
        && npm pack --silent "@kusto/language-service-next@$_detc_kls_version" >/dev/null \
        && tar xzf "$tgz" && rm -f "$tgz") || return 1
    [ -f "$_detc_kls_dir/package/Kusto.Language.Bridge.min.js" ]
}

if _detc_kls_fetch; then
    if [ "${BASH_SOURCE[0]}" = "$0" ]; then
        echo "$_detc_kls_dir/package"
    else
        export DETC_KUSTO_LS="$_detc_kls_dir/package"
    fi
else
    echo "kusto-ls.sh: could not fetch @kusto/language-service-next@$_detc_kls_version" >&2
    if [ "${BASH_SOURCE[0]}" = "$0" ]; then
        exit 1
    fi
fi
