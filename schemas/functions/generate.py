#!/usr/bin/env python3
"""Generates schemas/functions/<Name>.json from source.toml and the table schemas in
schemas/tables/.

Usage: python3 schemas/functions/generate.py   (after schemas/tables/generate.py)

Repeatable: the output depends only on source.toml and schemas/tables/*.json. Each output file:
  {"function": NAME, "source": TEXT,
   "parameters": [{"name": ..., "type": ..., "optional": bool, "default": KQL-or-null}, ...],
   "columns": [{"name": ..., "type": ...}, ...]}
A parameter with a default is optional; `default` is the KQL text of the default value.
"""
import json
import os
import sys
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
TABLES = os.path.join(HERE, "..", "tables")
KQL_TYPES = {"string", "datetime", "real", "decimal", "int", "long", "bool", "dynamic", "guid", "timespan"}


def table_columns(name):
    path = os.path.join(TABLES, name + ".json")
    if not os.path.exists(path):
        sys.exit(f"source.toml: no table schema {name!r} in schemas/tables")
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    return doc["source"], [(c["name"], c["type"]) for c in doc["columns"]]


def params(raw):
    out = []
    for p in raw:
        if p["type"] not in KQL_TYPES:
            sys.exit(f"source.toml: parameter {p['name']}: unknown type {p['type']!r}")
        default = p.get("default")
        out.append({"name": p["name"], "type": p["type"],
                    "optional": bool(p.get("optional", default is not None)), "default": default})
    return out


def check_columns(cols, where):
    for name, ty in cols:
        if ty not in KQL_TYPES:
            sys.exit(f"{where}: column {name}: unknown type {ty!r}")


def write(name, source, parameters, columns):
    with open(os.path.join(HERE, name + ".json"), "w", encoding="utf-8", newline="\n") as f:
        f.write('{"function": %s, "source": %s,\n' % (json.dumps(name), json.dumps(source)))
        f.write(' "parameters": [%s],\n' % ",".join("\n  " + json.dumps(p) for p in parameters))
        f.write(' "columns": [\n')
        f.write(",\n".join("  " + json.dumps({"name": n, "type": t}) for n, t in columns))
        f.write("\n]}\n")


def main():
    with open(os.path.join(HERE, "source.toml"), "rb") as f:
        src = tomllib.load(f)
    common = src["asim_common"]
    check_columns(common["columns"], "asim_common")
    exclude = set(common["exclude"])
    for old in os.listdir(HERE):
        if old.endswith(".json"):
            os.remove(os.path.join(HERE, old))
    written = []
    for schema, s in sorted(src["schemas"].items()):
        types = dict(table_columns(s["types_from"])[1])
        # A name that differs from another only in case is one column spelled two ways (the
        # 2022 sample tables have e.g. `SrcUserName` beside the schema's `SrcUsername`): the
        # spelling of `types_from` wins, else the first seen. SQL engines could not hold both.
        spelling = {n.lower(): n for n in types}
        columns, seen, origins = [], set(), []
        for table in s["tables"]:
            origin, cols = table_columns(table)
            origins.append(f"schemas/tables/{table}.json ({origin})")
            for name, ty in cols:
                name = spelling.setdefault(name.lower(), name)
                if name in exclude or name in seen:
                    continue
                seen.add(name)
                columns.append((name, types.get(name, ty)))
        extra = s.get("extra_columns", [])
        check_columns(extra, f"schemas.{schema}.extra_columns")
        for name, ty in list(common["columns"]) + list(extra):
            if name not in seen:
                seen.add(name)
                columns.append((name, ty))
        source = (f"ASIM {schema} schema. Columns: the union of " + ", ".join(origins)
                  + f"; names and types of {s['types_from']} win where they disagree (names"
                  " that differ only in case are one column); plus ASIM common fields"
                  + (" and the schema's aliases " + ", ".join(n for n, _ in extra) if extra else "")
                  + f" ({common['source']}). Parameters: the ASIM {schema} parsers' filtering"
                    " parameters (ASIM documentation), all optional; _ASim_/ASim parsers take none.")
        ps = params(s["parameters"])
        for name in s["filtering"]:
            write(name, source, ps, columns)
            written.append(name)
        for name in s["plain"]:
            write(name, source, [], columns)
            written.append(name)
    for name, f in sorted(src.get("functions", {}).items()):
        check_columns(f["columns"], f"functions.{name}")
        write(name, f["source"], params(f.get("parameters", [])), [tuple(c) for c in f["columns"]])
        written.append(name)
    print(f"{len(written)} functions written to {HERE}", file=sys.stderr)


if __name__ == "__main__":
    main()
