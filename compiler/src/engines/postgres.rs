//! PostgreSQL through `psql` as a subprocess, connecting to `$DETC_POSTGRES_URL`.
//!
//! Each run is one transaction: it creates its own schema (`detc_<pid>_<counter>_<time>`), puts
//! it first on the search_path, loads the tables, describes the query with `\gdesc` (column
//! names and types in order, also for empty results) and runs it wrapped as
//! `SELECT row_to_json(q.*) FROM (<query>) AS q`, drops the schema and rolls back. On any
//! error psql stops (ON_ERROR_STOP) and the server rolls the transaction back, schema included.
//! psql writes the description and the rows to files (`\o`), NUL-separated.

use super::{
    find_program, json, normalize_number, run_process, timeout, unique_suffix, Engine, EngineError,
    EngineRows, ErrorKind, TempDir,
};
use std::path::{Path, PathBuf};
use std::process::Command;

const ENGINE: Engine = Engine::Postgres;

pub fn psql() -> Result<PathBuf, String> {
    find_program("DETC_PSQL", "psql", &[])
}

pub fn url() -> Result<String, String> {
    match std::env::var("DETC_POSTGRES_URL") {
        Ok(u) if !u.trim().is_empty() => Ok(u),
        _ => {
            Err("DETC_POSTGRES_URL is not set (source scripts/engines.sh to start a server)".into())
        }
    }
}

fn command(psql: &Path, url: &str) -> Command {
    let mut cmd = Command::new(psql);
    cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url])
        .env("PGCONNECT_TIMEOUT", "10")
        .env("PGCLIENTENCODING", "UTF8")
        .env("PGAPPNAME", "detc")
        .env("PGTZ", "UTC")
        .env_remove("PGOPTIONS");
    cmd
}

pub fn version() -> Result<String, String> {
    let url = url()?;
    let psql = psql()?;
    let out = command(&psql, &url)
        .args(["-A", "-t", "-c", "SHOW server_version"])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", psql.display()))?;
    if !out.status.success() {
        return Err(format!(
            "cannot reach the PostgreSQL server at DETC_POSTGRES_URL: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A psql meta-command argument: single-quoted, `'` doubled.
fn meta_arg(p: &Path) -> String {
    format!("'{}'", p.to_string_lossy().replace('\'', "''"))
}

fn driver_script(schema: &str, load: &str, query: &str, desc: &Path, rows: &Path) -> String {
    let timeout_ms = timeout().as_millis();
    format!(
        "\\set ON_ERROR_STOP 1\n\
         \\set VERBOSITY default\n\
         \\set SHOW_CONTEXT never\n\
         \\pset pager off\n\
         BEGIN;\n\
         SET LOCAL client_min_messages = warning;\n\
         SET LOCAL statement_timeout = {timeout_ms};\n\
         SET LOCAL TimeZone = 'UTC';\n\
         SET LOCAL DateStyle = 'ISO, YMD';\n\
         SET LOCAL IntervalStyle = 'postgres';\n\
         CREATE SCHEMA \"{schema}\";\n\
         SET LOCAL search_path TO \"{schema}\";\n\
         {load}\
         \\pset format unaligned\n\
         \\pset tuples_only on\n\
         \\pset fieldsep_zero\n\
         \\pset recordsep_zero\n\
         \\o {desc}\n\
         {query}\n\
         \\gdesc\n\
         \\o {rows}\n\
         SELECT row_to_json(__detc_q.*) FROM (\n{query}\n) AS __detc_q;\n\
         \\o\n\
         DROP SCHEMA \"{schema}\" CASCADE;\n\
         ROLLBACK;\n",
        desc = meta_arg(desc),
        rows = meta_arg(rows),
    )
}

pub fn run(load: &str, query: &str) -> Result<EngineRows, EngineError> {
    let unavailable = |e: String| EngineError::new(ENGINE, ErrorKind::Unavailable, e);
    let url = url().map_err(unavailable)?;
    let psql = psql().map_err(unavailable)?;
    let dir = TempDir::new(ENGINE)
        .map_err(|e| EngineError::new(ENGINE, ErrorKind::Internal, format!("temp dir: {e}")))?;
    let schema = format!("detc_{}", unique_suffix());
    let (script, desc, rows) = (dir.path("script.sql"), dir.path("desc"), dir.path("rows"));
    std::fs::write(&script, driver_script(&schema, load, query, &desc, &rows))
        .map_err(|e| EngineError::new(ENGINE, ErrorKind::Internal, format!("temp file: {e}")))?;
    let mut cmd = command(&psql, &url);
    cmd.arg("-f").arg(&script);
    let out = run_process(ENGINE, cmd, None, &dir)?;

    if !out.status.success() {
        let msg = clean_stderr(&out.stderr, &script);
        let msg = if msg.is_empty() {
            format!("psql failed ({}) without a message", out.status)
        } else {
            msg
        };
        // psql exits with 2 when the connection fails, 3 on an error in the script.
        let kind = if out.status.code() == Some(2) || msg.contains("connection to server") {
            ErrorKind::Unavailable
        } else if desc.exists() {
            ErrorKind::Query
        } else {
            ErrorKind::Load
        };
        return Err(EngineError::new(ENGINE, kind, msg));
    }

    let internal = |e: String| EngineError::new(ENGINE, ErrorKind::Internal, e);
    let read = |p: &Path| {
        std::fs::read(p)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .map_err(|e| internal(format!("reading psql output {}: {e}", p.display())))
    };
    let desc_text = read(&desc)?;
    let fields: Vec<&str> = nul_split(&desc_text);
    if !fields.len().is_multiple_of(2) {
        return Err(internal(format!(
            "unexpected \\gdesc output: {desc_text:?}"
        )));
    }
    let columns: Vec<String> = fields.iter().step_by(2).map(|s| s.to_string()).collect();
    let types: Vec<String> = fields
        .iter()
        .skip(1)
        .step_by(2)
        .map(|s| s.to_string())
        .collect();
    let rows_text = read(&rows)?;
    let mut rows = Vec::new();
    for record in nul_split(&rows_text) {
        let entries = json::parse_objects(record).map_err(internal)?;
        let [entries] = <[_; 1]>::try_from(entries)
            .map_err(|_| internal(format!("unexpected row output: {record:?}")))?;
        if entries.len() != columns.len() {
            return Err(internal(format!(
                "psql printed a row of {} values for {} columns ({columns:?})",
                entries.len(),
                columns.len()
            )));
        }
        rows.push(
            entries
                .into_iter()
                .zip(&types)
                .map(|((_, v), t)| normalize_number(t, v))
                .collect(),
        );
    }
    Ok(EngineRows {
        columns,
        types,
        rows,
    })
}

/// NUL-separated records, without the empty piece after a trailing NUL.
fn nul_split(text: &str) -> Vec<&str> {
    let text = text.strip_suffix('\0').unwrap_or(text);
    if text.is_empty() {
        return Vec::new();
    }
    text.split('\0').collect()
}

/// psql's stderr without the `psql:<script>:<line>: ` prefixes.
fn clean_stderr(stderr: &str, script: &Path) -> String {
    let prefix = format!("psql:{}:", script.display());
    stderr
        .lines()
        .map(|line| match line.strip_prefix(&prefix) {
            Some(rest) => match rest.split_once(": ") {
                Some((n, msg)) if n.chars().all(|c| c.is_ascii_digit()) => msg,
                _ => rest,
            },
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}
