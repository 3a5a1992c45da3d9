//! DuckDB through its CLI (`duckdb`, e.g. from the PyPI package `duckdb-cli`) as a subprocess.
//!
//! One in-memory database per run. The script goes in on stdin; the CLI runs it with `-bail`
//! in `jsonlines` mode. Output markers (`.print`) tell how far it got, so a failure is told apart
//! as a load or a query error. Column names and types come from `DESCRIBE <query>` (which also
//! covers empty results and repeated names); the rows from the query itself, run as given, as
//! JSON objects read in key order (see [`super::json`]).

use super::Engine;
use super::{
    find_program, json, normalize_number, run_process, EngineError, EngineRows, ErrorKind, TempDir,
};
use std::path::PathBuf;
use std::process::Command;

const ENGINE: Engine = Engine::DuckDb;
const LOADED: &str = "__DETC_LOADED__";
const DESCRIBED: &str = "__DETC_DESCRIBED__";
const DONE: &str = "__DETC_DONE__";

/// The DuckDB CLI: `$DETC_DUCKDB`, `duckdb` on PATH, or the one in the repo's `.detc-ci/venv`.
pub fn binary() -> Result<PathBuf, String> {
    find_program("DETC_DUCKDB", "duckdb", &venv_binaries())
}

fn venv_binaries() -> Vec<PathBuf> {
    let lib = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.detc-ci/venv/lib");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&lib)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("site-packages/duckdb_cli/duckdb"))
        .collect();
    found.sort();
    found
}

pub fn version() -> Result<String, String> {
    let bin = binary()?;
    let out = Command::new(&bin)
        .arg("-version")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || !text.starts_with('v') {
        return Err(format!(
            "{} -version did not print a DuckDB version: {}{}",
            bin.display(),
            text,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(text)
}

/// The script fed to the CLI.
fn driver_script(load: &str, query: &str) -> String {
    format!(
        ".bail on\n.mode jsonlines\n\
         SET autoinstall_known_extensions = false;\n\
         SET autoload_known_extensions = false;\n\
         SET TimeZone = 'UTC';\n\
         {load}\
         .print {LOADED}\n\
         DESCRIBE {query}\n;\n\
         .print {DESCRIBED}\n\
         {query}\n;\n\
         .print {DONE}\n"
    )
}

pub fn run(load: &str, query: &str) -> Result<EngineRows, EngineError> {
    let bin = binary().map_err(|e| EngineError::new(ENGINE, ErrorKind::Unavailable, e))?;
    let dir = TempDir::new(ENGINE)
        .map_err(|e| EngineError::new(ENGINE, ErrorKind::Internal, format!("temp dir: {e}")))?;
    let script_path = dir.path("script.sql");
    std::fs::write(&script_path, driver_script(load, query))
        .map_err(|e| EngineError::new(ENGINE, ErrorKind::Internal, format!("temp file: {e}")))?;
    let mut cmd = Command::new(&bin);
    cmd.args(["-no-init", "-bail", "-batch", ":memory:"])
        .env("TZ", "UTC");
    let out = run_process(ENGINE, cmd, Some(&script_path), &dir)?;

    let (_, after_loaded) = split_marker(&out.stdout, LOADED);
    let stderr = out.stderr.trim();
    let Some(after_loaded) = after_loaded else {
        let msg = if stderr.is_empty() {
            failure_text(&out)
        } else {
            stderr.to_string()
        };
        return Err(EngineError::new(ENGINE, ErrorKind::Load, msg));
    };
    let (desc_text, after_desc) = split_marker(after_loaded, DESCRIBED);
    let done = after_desc.and_then(|rest| {
        let (rows, after) = split_marker(rest, DONE);
        after.map(|_| rows)
    });
    let Some(rows_text) = done.filter(|_| out.status.success()) else {
        let msg = if stderr.is_empty() {
            failure_text(&out)
        } else {
            stderr.to_string()
        };
        return Err(EngineError::new(ENGINE, ErrorKind::Query, msg));
    };

    let bad = |e: String| EngineError::new(ENGINE, ErrorKind::Internal, e);
    let mut columns = Vec::new();
    let mut types = Vec::new();
    for entries in json::parse_objects(desc_text).map_err(bad)? {
        let field = |k: &str| {
            entries
                .iter()
                .find(|(key, _)| key == k)
                .and_then(|(_, v)| v.as_str())
                .map(str::to_string)
        };
        match (field("column_name"), field("column_type")) {
            (Some(n), Some(t)) => {
                columns.push(n);
                types.push(t);
            }
            _ => return Err(bad(format!("unexpected DESCRIBE output: {desc_text}"))),
        }
    }
    let mut rows = Vec::new();
    for entries in json::parse_objects(rows_text).map_err(bad)? {
        if entries.len() != columns.len() {
            return Err(bad(format!(
                "DuckDB printed a row of {} values for {} columns ({:?})",
                entries.len(),
                columns.len(),
                columns
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

/// Splits `text` at a line consisting of `marker`: (before, Some(after)) or (text, None).
fn split_marker<'a>(text: &'a str, marker: &str) -> (&'a str, Option<&'a str>) {
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end_matches(['\n', '\r']) == marker {
            return (&text[..start], Some(&text[start + line.len()..]));
        }
        start += line.len();
    }
    (text, None)
}

fn failure_text(out: &super::Output) -> String {
    format!(
        "duckdb failed ({}) without a message; output: {}",
        out.status,
        out.stdout.trim()
    )
}
