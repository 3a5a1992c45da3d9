# shellcheck shell=bash
# Provisions sigma-cli (pySigma) with the Kusto backend in .detc-ci/sigma-venv, for the Sigma
# target's tests (tests/sigma_cli.rs): `sigma check` on the output and the seed's round trip
# through `sigma convert -t kusto`. Source it; idempotent (an installed venv with the pinned
# versions is reused); exports DETC_SIGMA, the path of the `sigma` command.
# Knobs: DETC_PYTHON (python for the venv). Outside CI a failure only warns (the tests then
# skip); with CI set it returns non-zero.
_detc_sigma_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_detc_sigma_venv="$_detc_sigma_root/.detc-ci/sigma-venv"
_detc_sigma_pins=("sigma-cli==3.1.0" "pySigma==1.5.1" "pySigma-backend-kusto==1.0.1")

_detc_sigma_ready() {
    [ -x "$_detc_sigma_venv/bin/sigma" ] &&
        "$_detc_sigma_venv/bin/python" - "${_detc_sigma_pins[@]}" <<'PY' >/dev/null 2>&1
import sys
from importlib.metadata import version
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    if version(name) != want:
        sys.exit(1)
PY
}

_detc_sigma_install() {
    local py="${DETC_PYTHON:-python3}" out
    if ! "$py" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null 2>&1
        apt-get install -y -qq --no-install-recommends python3-venv >/dev/null 2>&1 || return 1
    fi
    rm -rf "$_detc_sigma_venv"
    out="$("$py" -m venv "$_detc_sigma_venv" 2>&1 &&
        "$_detc_sigma_venv/bin/pip" install -q --disable-pip-version-check "${_detc_sigma_pins[@]}" 2>&1)" || {
        printf 'sigma-cli.sh: install failed:\n%s\n' "$(printf '%s\n' "$out" | tail -n 20)" >&2
        return 1
    }
}

if _detc_sigma_ready || { _detc_sigma_install && _detc_sigma_ready; }; then
    export DETC_SIGMA="$_detc_sigma_venv/bin/sigma"
    printf 'sigma-cli: %s\n' "$("$_detc_sigma_venv/bin/python" -c \
        'from importlib.metadata import version as v; print("sigma-cli", v("sigma-cli"), "pySigma", v("pySigma"), "kusto backend", v("pySigma-backend-kusto"))')" >&2
else
    echo "sigma-cli.sh: sigma-cli is not available; the Sigma tests will skip" >&2
    [ -n "${CI:-}" ] && return 1
fi
true
