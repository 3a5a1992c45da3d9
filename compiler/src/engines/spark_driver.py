"""detc's Spark SQL driver: one local Spark session serving requests on stdin.

Each request is one JSON line: {"tables": [{"name", "columns": [[name, type]], "rows": [[...]]}],
"sql": "..."}. Column types are detc's SQL types for Spark (BOOLEAN, BIGINT, DOUBLE, STRING,
TIMESTAMP_NTZ, VARIANT). Datetimes arrive as ISO text and dynamic values as JSON text; both are
converted inside Spark (CAST, parse_json). Each answer is one JSON line on stdout:
{"ok": true, "columns", "types", "rows"} or {"ok": false, "stage": "load"|"query", "error"}.
Temporary views of a request are dropped before the next one.
"""
import datetime
import decimal
import json
import math
import os
import sys

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql.types import (  # noqa: E402
    BooleanType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
)

RAW = {
    "BOOLEAN": BooleanType(),
    "BIGINT": LongType(),
    "DOUBLE": DoubleType(),
}


def session():
    return (
        SparkSession.builder.master("local[2]")
        .appName("detc")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )


def quote(name):
    return "`" + name.replace("`", "``") + "`"


def load(spark, table):
    fields, select = [], []
    for name, ty in table["columns"]:
        fields.append(StructField(name, RAW.get(ty, StringType()), True))
        col = quote(name)
        if ty == "TIMESTAMP_NTZ":
            select.append(f"CAST({col} AS TIMESTAMP_NTZ) AS {col}")
        elif ty == "VARIANT":
            select.append(f"parse_json({col}) AS {col}")
        else:
            select.append(col)
    rows = [tuple(r) for r in table["rows"]]
    raw = "__detc_raw_" + str(len(VIEWS))
    spark.createDataFrame(rows, StructType(fields)).createOrReplaceTempView(raw)
    VIEWS.append(raw)
    spark.sql(f"CREATE OR REPLACE TEMP VIEW {quote(table['name'])} AS SELECT {', '.join(select)} FROM {raw}")
    VIEWS.append(table["name"])


def cell(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if isinstance(v, decimal.Decimal):
        return float(v) if v != v.to_integral_value() else int(v)
    if isinstance(v, datetime.datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%S.%f")
    if hasattr(v, "toJson"):
        return json.loads(v.toJson())
    if isinstance(v, (int, str)):
        return v
    return str(v)


VIEWS = []

# The driver's heap fills over many queries (plans and metadata Spark keeps); a fresh driver
# after this many requests keeps a long corpus run from running out of memory.
RECYCLE_AFTER = int(os.environ.get("DETC_SPARK_RECYCLE", "100"))


def serve():
    spark = session()
    spark.sparkContext.setLogLevel("OFF")
    out = sys.stdout
    print(json.dumps({"ok": True, "version": spark.version}), file=out, flush=True)
    served = 0
    while True:
        line = sys.stdin.readline()
        if not line:
            break
        req = json.loads(line)
        for v in VIEWS:
            spark.catalog.dropTempView(v)
        VIEWS.clear()
        try:
            for t in req["tables"]:
                load(spark, t)
        except Exception as e:  # noqa: BLE001
            print(json.dumps({"ok": False, "stage": "load", "error": first_line(e)}), file=out, flush=True)
            continue
        try:
            df = spark.sql(req["sql"])
            rows = [[cell(v) for v in r] for r in df.collect()]
            answer = {
                "ok": True,
                "columns": df.columns,
                "types": [f.dataType.simpleString() for f in df.schema.fields],
                "rows": rows,
            }
        except Exception as e:  # noqa: BLE001
            answer = {"ok": False, "stage": "query", "error": first_line(e)}
            # An out-of-memory error stops the SparkContext: every later query would fail.
            # Answer, then exit; detc starts a fresh driver for the next query.
            if spark.sparkContext._jsc.sc().isStopped():
                answer["restart"] = True
                print(json.dumps(answer), file=out, flush=True)
                sys.exit(3)
        served += 1
        if served >= RECYCLE_AFTER:
            answer["restart"] = True
            print(json.dumps(answer), file=out, flush=True)
            sys.exit(0)
        print(json.dumps(answer), file=out, flush=True)


def first_line(e):
    # A Py4J error's own text is "An error occurred while calling o34.sql."; the Java
    # exception says what went wrong.
    java = getattr(e, "java_exception", None)
    text = (str(java) if java is not None else str(e)).strip()
    return text.splitlines()[0] if text else type(e).__name__


if __name__ == "__main__":
    serve()
