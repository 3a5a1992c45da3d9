//! Runs SQL on real engines (DuckDB, SQLite, PostgreSQL) against given tables, for `detc verify`.
//!
//! [`run`] creates the tables, loads the rows, runs one query and returns its result with the
//! column names in order. Each run is isolated: a fresh in-memory SQLite database, a fresh
//! in-memory DuckDB process, or a fresh schema inside one PostgreSQL transaction that is rolled
//! back at the end (so nothing is left behind, also on error or if the client dies).
//!
//! How each engine is reached:
//! - SQLite: in-process through rusqlite (bundled SQLite, with its JSON functions).
//! - DuckDB: the `duckdb` CLI as a subprocess: `$DETC_DUCKDB`, else `duckdb` on `PATH`, else the
//!   one `scripts/engines.sh` installs under `.detc-ci/venv` (PyPI package `duckdb-cli`).
//! - PostgreSQL: `psql` (`$DETC_PSQL`, else on `PATH`) as a subprocess, connecting to
//!   `$DETC_POSTGRES_URL` (a libpq URL). `scripts/engines.sh` starts a throw-away server.
//!
//! Subprocesses are killed after `$DETC_ENGINE_TIMEOUT` seconds (default 300).
//!
//! Column types on each engine (the SQL emitter relies on these):
//!
//! | KQL type        | DuckDB    | PostgreSQL       | SQLite                            |
//! |-----------------|-----------|------------------|-----------------------------------|
//! | bool            | BOOLEAN   | BOOLEAN          | INTEGER (0/1)                     |
//! | int, long       | BIGINT    | BIGINT           | INTEGER                           |
//! | real, decimal   | DOUBLE    | DOUBLE PRECISION | REAL                              |
//! | string, guid    | VARCHAR   | TEXT             | TEXT                              |
//! | datetime        | TIMESTAMP | TIMESTAMP        | TEXT `YYYY-MM-DDTHH:MM:SS.fffffffZ` |
//! | timespan        | BIGINT    | BIGINT           | INTEGER (100 ns ticks)            |
//! | dynamic         | JSON      | JSONB            | TEXT (compact JSON)               |
//!
//! TIMESTAMPs are UTC without a zone and hold microseconds: the 7th fractional digit of a KQL
//! datetime is dropped on DuckDB and PostgreSQL. See [`load`] for the literal forms.
//!
//! Result values ([`EngineRows`]) are JSON: NULL is `null`; numbers are numbers (DuckDB's
//! DECIMAL and HUGEINT too) except NaN and infinities, which are the strings `"NaN"`, `"inf"`,
//! `"-inf"`; booleans are booleans (SQLite has none: 0/1); strings are strings; timestamps are
//! the engine's text (DuckDB `2024-01-02 03:04:05.123456`, PostgreSQL
//! `2024-01-02T03:04:05.123456`, fraction left out when zero; SQLite whatever text the query
//! made); JSON/JSONB values are the parsed JSON (on SQLite, JSON is just text); other types
//! (intervals, lists, structs) as the engine writes them in JSON.

mod duckdb;
mod json;
pub mod load;
mod postgres;
mod spark;
mod sqlite;

use crate::types::Type;
use crate::value::Value;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A table to create and fill before the query runs.
#[derive(Clone, Debug)]
pub struct TableData {
    pub name: String,
    pub columns: Vec<(String, Type)>,
    pub rows: Vec<Vec<Value>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Engine {
    DuckDb,
    Sqlite,
    Postgres,
    Spark,
}

impl Engine {
    /// The engines `detc verify` and the tests run by default (Spark is opt-in: it needs Java
    /// and a few seconds to start).
    pub const ALL: [Engine; 3] = [Engine::DuckDb, Engine::Sqlite, Engine::Postgres];

    pub fn name(self) -> &'static str {
        match self {
            Engine::DuckDb => "duckdb",
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
            Engine::Spark => "spark",
        }
    }

    /// `duckdb`, `sqlite` or `postgres` (also `sqlite3`, `postgresql`, `pg`), any case.
    pub fn parse(s: &str) -> Option<Engine> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "duckdb" => Engine::DuckDb,
            "sqlite" | "sqlite3" => Engine::Sqlite,
            "postgres" | "postgresql" | "pg" => Engine::Postgres,
            "spark" => Engine::Spark,
            _ => return None,
        })
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A query result: column names in output order and rows of JSON values (see the module doc).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EngineRows {
    pub columns: Vec<String>,
    /// The engine's type name of each column (`BIGINT`, `timestamp without time zone`, ...),
    /// as DuckDB's DESCRIBE and psql's `\gdesc` give them; empty strings on SQLite, whose
    /// result columns have no type.
    pub types: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
}

/// What went wrong, and at which stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The engine cannot be reached (binary missing, no `DETC_POSTGRES_URL`, server down).
    Unavailable,
    /// The tables could not be created or loaded (bad data, e.g. a NUL in a string).
    Load,
    /// The engine rejected the query or failed running it: the message is the engine's own.
    Query,
    /// Anything else: I/O, a timeout, output we could not read.
    Internal,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineError {
    pub engine: Engine,
    pub kind: ErrorKind,
    /// The engine's own message where there is one (e.g. DuckDB's `Binder Error: ...`).
    pub message: String,
}

impl EngineError {
    fn new(engine: Engine, kind: ErrorKind, message: impl Into<String>) -> Self {
        EngineError {
            engine,
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message.trim_end())
    }
}

impl std::error::Error for EngineError {}

/// Creates the tables with the column types of the module doc, loads the rows, runs `sql` (one
/// SELECT statement, possibly `WITH ...`; a trailing `;` is allowed) and returns its result.
pub fn run(engine: Engine, tables: &[TableData], sql: &str) -> Result<EngineRows, EngineError> {
    let query = trim_query(sql);
    if engine == Engine::Spark {
        if query.is_empty() {
            return Err(EngineError::new(engine, ErrorKind::Query, "empty query"));
        }
        return spark::run(tables, query);
    }
    let script = try_load_script(engine, tables)?;
    if query.is_empty() {
        return Err(EngineError::new(engine, ErrorKind::Query, "empty query"));
    }
    if query.contains('\0') {
        return Err(EngineError::new(
            engine,
            ErrorKind::Query,
            "the query contains a NUL character",
        ));
    }
    match engine {
        Engine::Sqlite => sqlite::run(&script, query),
        Engine::DuckDb => duckdb::run(&script, query),
        Engine::Postgres => postgres::run(&script, query),
        Engine::Spark => unreachable!("handled above"),
    }
}

/// Whether `engine` can be used here; the error says why not.
pub fn available(engine: Engine) -> Result<(), String> {
    version(engine).map(|_| ())
}

/// The engine's version text (e.g. `v1.5.6 (Variegata) 069cc9f9b5`, `15.18 (Debian ...)`),
/// which also checks that it can be used.
pub fn version(engine: Engine) -> Result<String, String> {
    match engine {
        Engine::Sqlite => Ok(rusqlite::version().to_string()),
        Engine::DuckDb => duckdb::version(),
        Engine::Postgres => postgres::version(),
        Engine::Spark => spark::version(),
    }
}

/// The DDL + INSERT text used to load `tables` (deterministic). On bad data it returns an SQL
/// comment saying what is wrong; [`try_load_script`] returns that as an error.
pub fn load_script(engine: Engine, tables: &[TableData]) -> String {
    try_load_script(engine, tables).unwrap_or_else(|e| format!("-- cannot load: {e}\n"))
}

pub fn try_load_script(engine: Engine, tables: &[TableData]) -> Result<String, EngineError> {
    load::script(engine, tables).map_err(|e| EngineError::new(engine, ErrorKind::Load, e))
}

/// `sql` without surrounding whitespace and trailing semicolons.
fn trim_query(sql: &str) -> &str {
    let mut q = sql.trim();
    while let Some(rest) = q.strip_suffix(';') {
        q = rest.trim_end();
    }
    q
}

/// Whether the engine tests must fail rather than skip when an engine is unavailable
/// (`DETC_REQUIRE_ENGINES=1`, which `scripts/test.sh` sets).
pub fn engines_required() -> bool {
    std::env::var("DETC_REQUIRE_ENGINES").is_ok_and(|v| v == "1")
}

/// For tests: `true` if `engine` is available; otherwise prints `skipping: ...` and returns
/// `false`, or panics when [`engines_required`].
pub fn available_or_skip(engine: Engine) -> bool {
    match available(engine) {
        Ok(()) => true,
        Err(why) if engines_required() => {
            panic!("{engine} is required (DETC_REQUIRE_ENGINES=1) but unavailable: {why}")
        }
        Err(why) => {
            eprintln!("skipping: {engine} unavailable: {why}");
            false
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Subprocess plumbing shared by the DuckDB and PostgreSQL drivers.

/// A unique temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(engine: Engine) -> std::io::Result<TempDir> {
        let base = std::env::temp_dir();
        loop {
            let path = base.join(format!("detc-{}-{}", engine.name(), unique_suffix()));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(TempDir(path)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `<pid>_<counter>_<nanoseconds>`: unique within and across processes.
fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}_{}_{}", std::process::id(), n, t % 1_000_000_000_000)
}

struct Output {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

fn timeout() -> Duration {
    let secs = std::env::var("DETC_ENGINE_TIMEOUT")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|&s| s > 0)
        .unwrap_or(300);
    Duration::from_secs(secs)
}

/// Runs `cmd` with stdin from `stdin` (or nothing), stdout and stderr into files of `dir` (no
/// pipe can fill up), killing it after [`timeout`].
fn run_process(
    engine: Engine,
    mut cmd: Command,
    stdin: Option<&Path>,
    dir: &TempDir,
) -> Result<Output, EngineError> {
    let io_err = |what: &str, e: std::io::Error| {
        EngineError::new(engine, ErrorKind::Internal, format!("{what}: {e}"))
    };
    let out_path = dir.path("stdout");
    let err_path = dir.path("stderr");
    let out = std::fs::File::create(&out_path).map_err(|e| io_err("creating a temp file", e))?;
    let err = std::fs::File::create(&err_path).map_err(|e| io_err("creating a temp file", e))?;
    cmd.stdout(out).stderr(err);
    match stdin {
        Some(p) => {
            let f = std::fs::File::open(p).map_err(|e| io_err("opening the script", e))?;
            cmd.stdin(f);
        }
        None => {
            cmd.stdin(Stdio::null());
        }
    }
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd.spawn().map_err(|e| {
        EngineError::new(
            engine,
            ErrorKind::Unavailable,
            format!("cannot run {program}: {e}"),
        )
    })?;
    let started = Instant::now();
    let limit = timeout();
    let mut pause = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(io_err("waiting for the engine", e));
            }
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(EngineError::new(
                engine,
                ErrorKind::Internal,
                format!(
                    "{} did not finish within {} s (DETC_ENGINE_TIMEOUT); killed",
                    engine.name(),
                    limit.as_secs()
                ),
            ));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    };
    let read = |p: &Path| -> Result<String, EngineError> {
        let bytes = std::fs::read(p).map_err(|e| io_err("reading engine output", e))?;
        Ok(String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    };
    Ok(Output {
        status,
        stdout: read(&out_path)?,
        stderr: read(&err_path)?,
    })
}

/// Finds an executable: the path in env var `var` if set, else `name` on `PATH`, else the
/// `fallbacks` that exist.
fn find_program(var: &str, name: &str, fallbacks: &[PathBuf]) -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os(var).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if p.components().count() > 1 && !p.is_file() {
            return Err(format!("{var}={} does not exist", p.display()));
        }
        return Ok(p);
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let p = dir.join(name);
            if is_executable(&p) {
                return Ok(p);
            }
        }
    }
    for p in fallbacks {
        if is_executable(p) {
            return Ok(p.clone());
        }
    }
    Err(format!(
        "{name} not found: set {var} or put {name} on PATH (scripts/engines.sh installs it)"
    ))
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

/// Normalises numbers by the column's engine type: DuckDB writes DECIMAL and HUGEINT values as
/// JSON strings (made numbers here), PostgreSQL writes non-finite floats as `"Infinity"` (made
/// `"inf"`, as DuckDB's and KQL's) and integral floats without a fraction (made floats, so a
/// DOUBLE column gives JSON floats on every engine).
fn normalize_number(engine_type: &str, v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    let t = engine_type.trim().to_ascii_uppercase();
    let float = matches!(
        t.as_str(),
        "DOUBLE" | "FLOAT" | "REAL" | "DOUBLE PRECISION" | "FLOAT4" | "FLOAT8"
    );
    let numeric = float
        || t.starts_with("DECIMAL")
        || t.starts_with("NUMERIC")
        || matches!(
            t.as_str(),
            "HUGEINT" | "UHUGEINT" | "UBIGINT" | "BIGINT" | "INTEGER" | "SMALLINT" | "TINYINT"
        );
    let v = match v {
        J::String(s) if numeric => json::number(&s).unwrap_or(J::String(s)),
        v => v,
    };
    match v {
        J::Number(n) if float && !n.is_f64() => n.as_f64().map(json::float).unwrap_or(J::Number(n)),
        v => v,
    }
}

#[cfg(test)]
mod tests;
