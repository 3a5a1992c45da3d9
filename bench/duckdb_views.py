"""Prints the DuckDB statements that expose a data folder's NDJSON files as the tables detc's
SQL reads: one view per table over read_json with the table's columns and types from
schemas/tables (so DuckDB does not sample the files to guess them), then the query.

usage: duckdb_views.py DATA_DIR QUERY.sql
"""
import json
import pathlib
import sys

TYPES = {
    "string": "VARCHAR", "guid": "VARCHAR", "datetime": "TIMESTAMP", "dynamic": "JSON",
    "long": "BIGINT", "int": "INTEGER", "real": "DOUBLE", "decimal": "DOUBLE",
    "bool": "BOOLEAN", "timespan": "BIGINT",
}
root = pathlib.Path(__file__).resolve().parent.parent
data, query = pathlib.Path(sys.argv[1]).resolve(), pathlib.Path(sys.argv[2])
for f in sorted(data.glob("*.jsonl")):
    schema = json.loads((root / "schemas" / "tables" / f"{f.stem}.json").read_text())
    cols = schema["columns"] if isinstance(schema, dict) else schema
    struct = ", ".join(f"'{c['name']}': '{TYPES[c['type'].lower()]}'" for c in cols)
    print(
        f"CREATE VIEW \"{f.stem}\" AS SELECT * FROM read_json('{f}', "
        f"format = 'newline_delimited', columns = {{{struct}}});"
    )
print(".mode csv")
print(".output /dev/null")
print(query.read_text().strip().rstrip(";") + ";")
