#!/usr/bin/env python3
"""Generates schemas/tables/<Table>.json from a `source,table,column,type` CSV plus the reviewed
supplements beside this script.

Usage: python3 schemas/tables/generate.py ../shared/tables/columns.csv

Repeatable: the output depends only on the CSV, `merge.csv` and `supplement.csv`. Type spellings
are normalised to KQL's (boolean->bool, double->real, int32/integer/sbyte->int,
int64/bigint->long, object->dynamic, date/time->datetime, guid stays guid). Rows whose type is
not a type (documentation placeholders such as `...`) are skipped and listed on stderr. Where a
table appears in both the Log Analytics reference and Sentinel's custom tables, the reference
wins.

Then, in this order (a column a table already has is never added again, whatever its case of
origin; the first type seen wins):
1. `merge.csv` (`table,source,reason`): the table also takes the columns it has under a second
   source of the CSV (for catch-all tables such as AzureDiagnostics).
2. `supplement.csv` (`table,column,type,source`): single facts, each with where it comes from.
   `table` is a table name or a selector: `@reference` (every table taken from the Log Analytics
   reference) or `@custom_log` (every table whose name ends in `_CL`).
Added columns are appended after the table's own columns and marked `"via"` in the output
(`"merge"` or `"supplement"`). See README.md for the groups and their sources.
"""
import csv
import json
import os
import sys
from collections import OrderedDict

TYPES = {
    "string": "string", "datetime": "datetime", "date/time": "datetime",
    "real": "real", "double": "real", "float": "real", "decimal": "decimal",
    "int": "int", "int32": "int", "integer": "int", "sbyte": "int",
    "long": "long", "int64": "long", "bigint": "long",
    "bool": "bool", "boolean": "bool", "dynamic": "dynamic", "object": "dynamic",
    "guid": "guid", "timespan": "timespan",
}
PREFERRED = "log-analytics-reference-2026-06"
HERE = os.path.dirname(os.path.abspath(__file__))


def read_csv(name):
    path = os.path.join(HERE, name)
    if not os.path.exists(path):
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def selected(selector, table, source):
    if selector == "@reference":
        return source == PREFERRED
    if selector == "@custom_log":
        return table.endswith("_CL")
    if selector.startswith("@"):
        sys.exit(f"supplement.csv: unknown selector {selector!r}")
    return selector == table


def main(csv_path):
    by_table = OrderedDict()
    skipped = []
    with open(csv_path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            ty = TYPES.get(row["type"].strip().lower())
            if ty is None:
                skipped.append(row)
                continue
            by_table.setdefault(row["table"], OrderedDict()).setdefault(row["source"], []).append(
                (row["column"], ty))

    merges = read_csv("merge.csv")
    supplement = read_csv("supplement.csv")
    for row in supplement:
        if TYPES.get(row["type"].strip().lower()) != row["type"]:
            sys.exit(f"supplement.csv: {row['table']}.{row['column']}: type {row['type']!r} is not a KQL type name")
        if not row["source"].strip():
            sys.exit(f"supplement.csv: {row['table']}.{row['column']}: no source")
        if not row["table"].startswith("@") and row["table"] not in by_table:
            sys.exit(f"supplement.csv: unknown table {row['table']!r}")
    for row in merges:
        if row["source"] not in by_table.get(row["table"], {}):
            sys.exit(f"merge.csv: table {row['table']!r} has no source {row['source']!r}")

    for old in os.listdir(HERE):
        if old.endswith(".json"):
            os.remove(os.path.join(HERE, old))
    added = {"merge": 0, "supplement": 0}
    for table, sources in sorted(by_table.items()):
        source = PREFERRED if PREFERRED in sources else sorted(sources)[0]
        columns, seen = [], set()

        def add(name, ty, via=None):
            if name in seen:  # a duplicated column keeps its first type
                return
            seen.add(name)
            c = {"name": name, "type": ty}
            if via:
                c["via"] = via
                added[via] += 1
            columns.append(c)

        for name, ty in sources[source]:
            add(name, ty)
        for m in merges:
            if m["table"] == table and m["source"] != source:
                for name, ty in sources[m["source"]]:
                    add(name, ty, "merge")
        for s in supplement:
            if selected(s["table"], table, source):
                add(s["column"], s["type"], "supplement")
        with open(os.path.join(HERE, table + ".json"), "w", encoding="utf-8", newline="\n") as f:
            f.write('{"table": %s, "source": %s, "columns": [\n' % (json.dumps(table), json.dumps(source)))
            f.write(",\n".join("  " + json.dumps(c) for c in columns))
            f.write("\n]}\n")
    for row in skipped:
        print(f"skipped {row['table']}.{row['column']}: type {row['type']!r}", file=sys.stderr)
    print(f"{len(by_table)} tables written to {HERE}; columns added: "
          f"{added['merge']} by merge.csv, {added['supplement']} by supplement.csv", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/tables/columns.csv")
