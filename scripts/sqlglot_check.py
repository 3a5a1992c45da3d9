"""Parses SQL documents with sqlglot for their dialect: the parse-only proof of detc's
Snowflake and BigQuery targets (and a second check of Spark's).

usage: python sqlglot_check.py BATCH.json
BATCH is a JSON list of {"name", "dialect", "sql"}; dialect is a sqlglot dialect name
(spark, snowflake, bigquery). Prints one JSON list: {"name", "dialect", "ok", "error"}.
A document is accepted when sqlglot parses it into exactly one statement with no error
(sqlglot's error level RAISE, which also raises on unparsed trailing tokens).
"""
import json
import sys

import sqlglot
from sqlglot.errors import ErrorLevel


def check(item):
    try:
        statements = [
            s
            for s in sqlglot.parse(item["sql"], read=item["dialect"], error_level=ErrorLevel.RAISE)
            if s is not None
        ]
    except Exception as e:  # noqa: BLE001
        return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    if len(statements) != 1:
        return f"{len(statements)} statements, expected one"
    return None


def main():
    batch = json.load(open(sys.argv[1], encoding="utf-8"))
    out = []
    for item in batch:
        err = check(item)
        out.append({"name": item["name"], "dialect": item["dialect"], "ok": err is None, "error": err})
    json.dump({"sqlglot": sqlglot.__version__, "results": out}, sys.stdout)


if __name__ == "__main__":
    main()
