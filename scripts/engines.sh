# shellcheck shell=bash
# Provision the real SQL engines that `detc::engines` tests and `detc verify` run against.
#
#   source scripts/engines.sh      # installs what is missing, starts PostgreSQL, exports:
#     DETC_DUCKDB        path of the DuckDB CLI binary (PyPI package duckdb-cli, in .detc-ci/venv)
#     DETC_POSTGRES_URL  libpq URL of a throw-away PostgreSQL server on 127.0.0.1 (trust auth)
#     DETC_SPARK_PYTHON  python of the same venv, with pyspark (local Spark SQL) and sqlglot
#   detc_engines_stop              # stops the server and removes its data directory
#                                  # (also registered as the EXIT trap unless one is already set)
#
# Idempotent: sourcing it again in the same shell reuses the running server and the venv.
# Quiet unless something fails; prints one line per engine with its version. Outside CI a
# failure only warns (the engine tests then skip); with CI set it returns non-zero.
# SQLite needs nothing: it is built into the crate (rusqlite, bundled).
# Knobs: DETC_DUCKDB_VERSION (duckdb-cli version to install), DETC_PYTHON (python for the venv);
# a DETC_DUCKDB or DETC_POSTGRES_URL already set and working is used as it is.

DETC_DUCKDB_VERSION="${DETC_DUCKDB_VERSION:-1.5.6}"
DETC_PYSPARK_VERSION="${DETC_PYSPARK_VERSION:-4.3.0}"
DETC_SQLGLOT_VERSION="${DETC_SQLGLOT_VERSION:-30.30.0}"
_detc_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

_detc_log() { printf 'engines: %s\n' "$*" >&2; }

# Runs a command quietly; on failure prints its output and returns its status.
_detc_quiet() {
    local out rc
    out="$("$@" 2>&1)" && return 0
    rc=$?
    _detc_log "failed ($rc): $*"
    printf '%s\n' "$out" | tail -n 40 >&2
    return "$rc"
}

_detc_apt_updated=""
_detc_apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    # Update the package lists only when they are missing or the install fails on stale ones.
    if [ -z "$_detc_apt_updated" ] && ! apt-cache show "$@" >/dev/null 2>&1; then
        _detc_quiet apt-get update -qq || return $?
        _detc_apt_updated=1
    fi
    if ! _detc_quiet apt-get install -y -qq --no-install-recommends "$@"; then
        [ -n "$_detc_apt_updated" ] && return 1
        _detc_quiet apt-get update -qq || return $?
        _detc_apt_updated=1
        _detc_quiet apt-get install -y -qq --no-install-recommends "$@" || return $?
    fi
}

_detc_pg_bindir() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            printf '%s\n' "$d"
            return 0
        fi
    done
    command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 &&
        dirname "$(command -v initdb)" && return 0
    return 1
}

_detc_pg_reachable() {
    [ -n "${1:-}" ] && command -v psql >/dev/null 2>&1 &&
        PGCONNECT_TIMEOUT=3 psql -X -q -At -d "$1" -c 'SELECT 1' >/dev/null 2>&1
}

# Runs a command as the PostgreSQL server's user (postgres refuses to run as root).
_detc_as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

_detc_start_postgres() {
    # Reuse a server started by an earlier `source` in this shell, or one given from outside.
    if [ -n "${DETC_POSTGRES_URL:-}" ] && _detc_pg_reachable "$DETC_POSTGRES_URL"; then
        return 0
    fi
    local bindir
    if ! bindir="$(_detc_pg_bindir)" || ! command -v psql >/dev/null 2>&1; then
        if [ "$(id -u)" != 0 ]; then
            _detc_log "postgresql is not installed and we are not root to apt-get install it"
            return 1
        fi
        _detc_apt_install postgresql postgresql-client || return 1
        bindir="$(_detc_pg_bindir)" || { _detc_log "no initdb under /usr/lib/postgresql/*/bin"; return 1; }
    fi
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
        _detc_quiet useradd --system --no-create-home --shell /usr/sbin/nologin postgres || return 1
    fi
    local dir
    # In /tmp when root: the postgres user must be able to reach it.
    if [ "$(id -u)" = 0 ]; then
        dir="$(mktemp -d /tmp/detc-pg.XXXXXX)" || return 1
    else
        dir="$(mktemp -d "${TMPDIR:-/tmp}/detc-pg.XXXXXX")" || return 1
    fi
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    DETC_ENGINES_PGDIR="$dir"
    DETC_ENGINES_PGBIN="$bindir"
    _detc_quiet _detc_as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust \
        -E UTF8 --locale=C.UTF-8 --no-sync --no-instructions || return 1
    local port try
    for try in 1 2 3 4 5 6 7 8; do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        # Something answers there already: pick another port.
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
        if _detc_as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir \
                -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
                -c max_connections=50 -c TimeZone=UTC" start >/dev/null 2>&1; then
            export DETC_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/postgres"
            return 0
        fi
        # A race on the port makes the start fail; anything else fails again the same way.
        if ! grep -qi 'could not bind\|address already in use' "$dir/server.log" 2>/dev/null; then
            break
        fi
    done
    _detc_log "could not start postgres; server log:"
    tail -n 40 "$dir/server.log" >&2 2>/dev/null
    return 1
}

_detc_duckdb_bin() {
    local venv="$1"
    ls "$venv"/lib/python*/site-packages/duckdb_cli/duckdb 2>/dev/null | head -n 1
}

_detc_install_duckdb() {
    local venv="$_detc_root/.detc-ci/venv" bin py
    # A DuckDB CLI given from outside wins.
    if [ -n "${DETC_DUCKDB:-}" ] && "$DETC_DUCKDB" -version >/dev/null 2>&1; then
        return 0
    fi
    bin="$(_detc_duckdb_bin "$venv")"
    if [ -n "$bin" ] && [ -x "$bin" ] &&
        [ "$("$bin" -version 2>/dev/null | awk '{print $1}')" = "v$DETC_DUCKDB_VERSION" ]; then
        export DETC_DUCKDB="$bin"
        return 0
    fi
    py="${DETC_PYTHON:-$(command -v python3 || true)}"
    if [ -z "$py" ] || ! "$py" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && [ -z "${DETC_PYTHON:-}" ]; then
            _detc_apt_install python3 python3-venv || return 1
            py="$(command -v python3)"
        else
            _detc_log "need python3 with the venv module to install duckdb-cli"
            return 1
        fi
    fi
    mkdir -p "$_detc_root/.detc-ci"
    if [ ! -x "$venv/bin/pip" ]; then
        rm -rf "$venv"
        _detc_quiet "$py" -m venv "$venv" || return 1
    fi
    _detc_quiet "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input \
        "duckdb-cli==$DETC_DUCKDB_VERSION" || return 1
    bin="$(_detc_duckdb_bin "$venv")"
    if [ -z "$bin" ] || ! "$bin" -version >/dev/null 2>&1; then
        _detc_log "duckdb-cli installed but its binary does not run: ${bin:-not found}"
        return 1
    fi
    export DETC_DUCKDB="$bin"
}

# Spark SQL (local mode) and sqlglot, in the same venv as the DuckDB CLI: pyspark needs Java 17+
# (Debian's openjdk-17-jre-headless when missing). Exports DETC_SPARK_PYTHON, the venv's python,
# which the Spark engine and the sqlglot parse checks run.
_detc_install_spark() {
    local venv="$_detc_root/.detc-ci/venv"
    if [ -n "${DETC_SPARK_PYTHON:-}" ] &&
        "$DETC_SPARK_PYTHON" -c 'import pyspark, sqlglot' >/dev/null 2>&1; then
        return 0
    fi
    if ! command -v java >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ]; then
            _detc_apt_install openjdk-17-jre-headless || return 1
        else
            _detc_log "java is not installed and we are not root to apt-get install it"
            return 1
        fi
    fi
    [ -x "$venv/bin/pip" ] || { _detc_log "no venv at $venv (the DuckDB step makes it)"; return 1; }
    if ! "$venv/bin/python" -c "import pyspark, sqlglot; assert pyspark.__version__ == '$DETC_PYSPARK_VERSION' and sqlglot.__version__ == '$DETC_SQLGLOT_VERSION'" >/dev/null 2>&1; then
        _detc_quiet "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input \
            "pyspark==$DETC_PYSPARK_VERSION" "sqlglot==$DETC_SQLGLOT_VERSION" || return 1
    fi
    export DETC_SPARK_PYTHON="$venv/bin/python"
}

detc_engines_stop() {
    if [ -n "${DETC_ENGINES_PGDIR:-}" ]; then
        if [ -f "$DETC_ENGINES_PGDIR/data/postmaster.pid" ]; then
            _detc_as_pg "$DETC_ENGINES_PGBIN/pg_ctl" -D "$DETC_ENGINES_PGDIR/data" \
                -m immediate -w stop >/dev/null 2>&1 || true
        fi
        rm -rf "$DETC_ENGINES_PGDIR"
        unset DETC_ENGINES_PGDIR DETC_ENGINES_PGBIN DETC_POSTGRES_URL
    fi
}

detc_engines_start() {
    local failed=0 v
    if _detc_install_duckdb; then
        v="$("$DETC_DUCKDB" -version 2>/dev/null | awk '{print $1}' || true)"
        printf 'engines: duckdb %s (%s)\n' "${v#v}" "$DETC_DUCKDB"
    else
        _detc_log "duckdb: NOT AVAILABLE"
        failed=1
    fi
    if _detc_start_postgres; then
        v="$(PGCONNECT_TIMEOUT=5 psql -X -q -At -d "$DETC_POSTGRES_URL" -c 'SHOW server_version' 2>/dev/null || true)"
        printf 'engines: postgres %s (%s)\n' "${v%% *}" "$DETC_POSTGRES_URL"
    else
        _detc_log "postgres: NOT AVAILABLE"
        failed=1
    fi
    printf 'engines: sqlite (bundled with rusqlite)\n'
    if _detc_install_spark; then
        printf 'engines: spark %s, sqlglot %s (%s)\n' "$DETC_PYSPARK_VERSION" "$DETC_SQLGLOT_VERSION" "$DETC_SPARK_PYTHON"
    else
        _detc_log "spark: NOT AVAILABLE"
        failed=1
    fi
    if [ "$failed" = 1 ]; then
        if [ -n "${CI:-}" ]; then
            _detc_log "an engine could not be provisioned and CI is set: failing"
            return 1
        fi
        _detc_log "continuing without it: its tests will skip (they fail when DETC_REQUIRE_ENGINES=1)"
    fi
    return 0
}

if [ -z "$(trap -p EXIT)" ]; then
    trap detc_engines_stop EXIT
elif ! trap -p EXIT | grep -q detc_engines_stop; then
    _detc_log "an EXIT trap is already set: call detc_engines_stop yourself when done"
fi
detc_engines_start
