#!/usr/bin/env python3
"""Generates schemas/tables/<Table>.json from a `source,table,column,type` CSV.

Usage: python3 schemas/tables/generate.py ../shared/tables/columns.csv

Repeatable: the output depends only on the CSV. Type spellings are normalised to KQL's
(boolean->bool, double->real, int32/integer/sbyte->int, int64/bigint->long, object->dynamic,
date/time->datetime, guid stays guid). Rows whose type is not a type (documentation
placeholders such as `...`) are skipped and listed on stderr. Where a table appears in both
the Log Analytics reference and Sentinel's custom tables, the reference wins.
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


def main(csv_path):
    out_dir = os.path.dirname(os.path.abspath(__file__))
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
    for old in os.listdir(out_dir):
        if old.endswith(".json"):
            os.remove(os.path.join(out_dir, old))
    for table, sources in sorted(by_table.items()):
        source = PREFERRED if PREFERRED in sources else sorted(sources)[0]
        columns, seen = [], set()
        for name, ty in sources[source]:
            if name in seen:  # a duplicated column keeps its first type
                continue
            seen.add(name)
            columns.append({"name": name, "type": ty})
        doc = {"table": table, "source": source, "columns": columns}
        with open(os.path.join(out_dir, table + ".json"), "w", encoding="utf-8", newline="\n") as f:
            f.write('{"table": %s, "source": %s, "columns": [\n' % (json.dumps(table), json.dumps(source)))
            f.write(",\n".join("  " + json.dumps(c) for c in columns))
            f.write("\n]}\n")
    for row in skipped:
        print(f"skipped {row['table']}.{row['column']}: type {row['type']!r}", file=sys.stderr)
    print(f"{len(by_table)} tables written to {out_dir}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/tables/columns.csv")
