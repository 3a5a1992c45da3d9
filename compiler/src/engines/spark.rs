//! Spark SQL through a local Spark (PyPI `pyspark`, local mode on the machine's Java) driven
//! by `spark_driver.py`: one long-lived Python process per detc process, started on first use
//! (a few seconds), answering one JSON request per query. The Python is `$DETC_SPARK_PYTHON`,
//! else the one `scripts/engines.sh` sets up in `.detc-ci/venv`.
//!
//! The driver answers `restart` and exits after an out-of-memory stop of its SparkContext and
//! after every 100 requests (Spark's heap fills over a long run); the next query starts a new one.
//!
//! Tables are temporary views built from the rows (datetimes cast to TIMESTAMP_NTZ, dynamic
//! values parsed into VARIANT) and dropped before the next request.

use super::{EngineError, EngineRows, ErrorKind, TableData};
use crate::engines::Engine;
use crate::types::Type;
use crate::value::{format_datetime, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Mutex;
use std::time::Duration;

const ENGINE: Engine = Engine::Spark;
const DRIVER: &str = include_str!("spark_driver.py");

struct Server {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    version: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

static SERVER: Mutex<Option<Server>> = Mutex::new(None);

fn python() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("DETC_SPARK_PYTHON").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.detc-ci/venv/bin/python");
    if venv.is_file() {
        return Ok(venv);
    }
    Err("no Python with pyspark: set DETC_SPARK_PYTHON (scripts/engines.sh installs pyspark into .detc-ci/venv)".into())
}

fn timeout() -> Duration {
    let secs = std::env::var("DETC_ENGINE_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    Duration::from_secs(secs)
}

fn start() -> Result<Server, String> {
    let py = python()?;
    let script = std::env::temp_dir().join(format!(
        "detc-spark-driver-{:016x}.py",
        xxhash_rust::xxh64::xxh64(DRIVER.as_bytes(), 0)
    ));
    if !script.is_file() {
        let tmp = script.with_extension(format!("{}.tmp", std::process::id()));
        std::fs::write(&tmp, DRIVER).map_err(|e| format!("cannot write the Spark driver: {e}"))?;
        std::fs::rename(&tmp, &script)
            .map_err(|e| format!("cannot write the Spark driver: {e}"))?;
    }
    let mut child = Command::new(&py)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", py.display()))?;
    let stdin = child.stdin.take().expect("piped");
    let stdout = child.stdout.take().expect("piped");
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut server = Server {
        child,
        stdin,
        lines,
        version: String::new(),
    };
    let hello = server.answer(Duration::from_secs(180))?;
    server.version = hello
        .get("version")
        .and_then(|v| v.as_str())
        .map(|v| format!("Spark {v}"))
        .ok_or_else(|| format!("the Spark driver did not start: {hello}"))?;
    Ok(server)
}

impl Server {
    fn answer(&mut self, wait: Duration) -> Result<serde_json::Value, String> {
        match self.lines.recv_timeout(wait) {
            Ok(line) => serde_json::from_str(&line)
                .map_err(|e| format!("unreadable answer from the Spark driver ({e}): {line}")),
            Err(RecvTimeoutError::Timeout) => {
                Err(format!("no answer from Spark within {} s", wait.as_secs()))
            }
            Err(RecvTimeoutError::Disconnected) => Err(
                "the Spark driver exited (is Java 17+ installed, and pyspark in its Python?)"
                    .into(),
            ),
        }
    }
}

/// Runs `f` with the server, starting it when needed; a server that failed is dropped so the
/// next call starts a fresh one.
fn with_server<T>(f: impl FnOnce(&mut Server) -> Result<T, String>) -> Result<T, String> {
    let mut guard = SERVER.lock().unwrap_or_else(|p| p.into_inner());
    if guard.is_none() {
        *guard = Some(start()?);
    }
    let out = f(guard.as_mut().expect("started"));
    let restart = match &out {
        Err(_) => true,
        Ok(_) => guard
            .as_mut()
            .is_some_and(|s| s.child.try_wait().is_ok_and(|e| e.is_some())),
    };
    if restart {
        *guard = None;
    }
    out
}

pub fn version() -> Result<String, String> {
    with_server(|s| Ok(s.version.clone()))
}

pub fn column_type(ty: Type) -> &'static str {
    match ty {
        Type::Bool => "BOOLEAN",
        Type::Int | Type::Long | Type::Timespan => "BIGINT",
        Type::Real | Type::Decimal => "DOUBLE",
        Type::String | Type::Guid => "STRING",
        Type::DateTime => "TIMESTAMP_NTZ",
        Type::Dynamic => "VARIANT",
    }
}

fn cell(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Long(n) | Value::Timespan(n) => J::from(*n),
        Value::Real(x) => serde_json::Number::from_f64(*x).map_or(J::Null, J::Number),
        Value::String(s) => J::String(s.to_string()),
        // TIMESTAMP_NTZ keeps microseconds, like the other engines.
        Value::DateTime(t) => J::String(format_datetime(*t)),
        Value::Dynamic(d) if d.is_null() => J::Null,
        Value::Dynamic(d) => J::String(d.to_string()),
    }
}

pub fn run(tables: &[TableData], query: &str) -> Result<EngineRows, EngineError> {
    let err = |kind, m: String| EngineError::new(ENGINE, kind, m);
    for t in tables {
        if let Some(r) = t.rows.iter().find(|r| r.len() != t.columns.len()) {
            return Err(err(
                ErrorKind::Load,
                format!(
                    "table {}: a row has {} cells for {} columns",
                    t.name,
                    r.len(),
                    t.columns.len()
                ),
            ));
        }
    }
    let request = serde_json::json!({
        "tables": tables.iter().map(|t| serde_json::json!({
            "name": t.name,
            "columns": t.columns.iter().map(|(n, ty)| serde_json::json!([n, column_type(*ty)])).collect::<Vec<_>>(),
            "rows": t.rows.iter().map(|r| r.iter().map(cell).collect::<Vec<_>>()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "sql": query,
    });
    let answer = with_server(|s| {
        writeln!(s.stdin, "{request}")
            .and_then(|_| s.stdin.flush())
            .map_err(|e| format!("cannot write to the Spark driver: {e}"))?;
        let a = s.answer(timeout())?;
        if a.get("restart").is_some() {
            // The driver exits after this answer; wait so the next call sees it gone.
            let _ = s.child.wait();
        }
        Ok(a)
    })
    .map_err(|m| err(ErrorKind::Unavailable, m))?;
    if answer.get("ok") != Some(&serde_json::Value::Bool(true)) {
        let message = answer
            .get("error")
            .and_then(|e| e.as_str())
            .unwrap_or("unknown error")
            .to_string();
        let kind = match answer.get("stage").and_then(|s| s.as_str()) {
            Some("load") => ErrorKind::Load,
            _ => ErrorKind::Query,
        };
        return Err(err(kind, message));
    }
    let strings = |key: &str| -> Vec<String> {
        answer
            .get(key)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .map(|x| x.as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let rows = answer
        .get("rows")
        .and_then(|v| v.as_array())
        .map(|rows| {
            rows.iter()
                .map(|r| r.as_array().cloned().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default();
    Ok(EngineRows {
        columns: strings("columns"),
        types: strings("types"),
        rows,
    })
}
