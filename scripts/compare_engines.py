"""Compare a Spark build of the project with a DuckDB build of the same raw data.

    python scripts/compare_engines.py --duckdb x.duckdb --spark-warehouse spark/spark-warehouse

Reads both sides with DuckDB: the DuckDB warehouse file (read-only) and the Parquet files that
dbt-spark (`method: session`) wrote under its warehouse directory (`<schema>.db/<table>/`).
So it needs no Spark session of its own and runs in the main venv in about a second.

Every table model present on both sides is compared as a multiset of rows: same columns,
same row count, every value equal; floating point values within a relative 1e-9 (1e-6 for a
column that one engine stores as a 4-byte FLOAT, whose own precision is about 1e-7). Views
(rpt_*, fct_entity_activity_daily) have no files on the Spark side and are not compared;
they are plain selects over compared tables, and dbt's tests ran on them on both engines.

Normalized before comparing, because the engines spell the same value differently:
- raw_file: Spark's input_file_name() is a URI (file:///tmp/...), DuckDB's a path (/tmp/...);
- integers and decimals compare as numbers (DuckDB sums are HUGEINT, Spark's BIGINT).

Exit 0 when every compared table matches, 1 on any difference (with examples), 2 when a
required table is missing on either side.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import re
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import duckdb

# The tables the engine comparison must cover (the public marts and the reject log).
REQUIRED = (
    "marts.fct_metric_values",
    "marts.fct_aha_moments",
    "marts.dim_metrics",
    "staging.stg_events_rejected",
)
SCHEMAS = ("staging", "intermediate", "marts")
FLOAT32_TYPES = {"FLOAT", "REAL", "FLOAT4"}
URI_PREFIX = re.compile(r"^file:/+")


def spark_tables(warehouse: Path) -> dict[str, Path]:
    found = {}
    for schema in SCHEMAS:
        for table_dir in sorted((warehouse / f"{schema}.db").glob("*")):
            if table_dir.is_dir():
                found[f"{schema}.{table_dir.name}"] = table_dir
    return found


def duckdb_tables(con: duckdb.DuckDBPyConnection, views: bool = False) -> set[str]:
    kinds = ("BASE TABLE", "VIEW") if views else ("BASE TABLE",)
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_type in ? and table_schema in ?",
        [list(kinds), list(SCHEMAS)],
    ).fetchall()
    return {f"{schema}.{name}" for schema, name in rows}


def read(con: duckdb.DuckDBPyConnection, relation: str):
    """(column names, {column: type}, rows) of a relation expression.

    The relation is a table name from information_schema or a read_parquet() of paths this
    script globbed, never user text: building the query from it is safe.
    """
    described = con.execute(f"describe select * from {relation}").fetchall()  # noqa: S608
    names = [row[0].lower() for row in described]
    types = {row[0].lower(): str(row[1]).upper() for row in described}
    rows = con.execute(f"select * from {relation}").fetchall()  # noqa: S608
    return names, types, rows


# Bookkeeping, not data: the id of the run that staged a row or a file (milliseconds of its
# start, docs/incremental.md), or that built and tested a mart (marts._northstar_mart_checks),
# and when it ran differ between any two builds.
RUN_COLUMNS = {"_northstar_load_id", "load_id", "loaded_at", "invocation_id", "recorded_at"}


def normalize(value, column: str):
    if value is None or column in RUN_COLUMNS:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, Decimal)):
        return float(value)
    if isinstance(value, float):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    if isinstance(value, str) and column == "raw_file":
        return URI_PREFIX.sub("/", value)
    return value


def sort_key(row: tuple) -> tuple:
    key = []
    for value in row:
        if value is None:
            key.append((0, ""))
        elif isinstance(value, bool):
            key.append((1, str(value)))
        elif isinstance(value, float):
            key.append((2, "nan" if math.isnan(value) else f"{value:.6g}"))
        else:
            key.append((3, str(value)))
    return tuple(key)


def values_equal(left, right, tolerance: float) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        if math.isnan(left) or math.isnan(right):
            return math.isnan(left) and math.isnan(right)
        return math.isclose(left, right, rel_tol=tolerance, abs_tol=1e-12)
    return left == right


def compare_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    spark_dir: Path,
    rel_tol: float,
    verbose: bool = False,
) -> list[str]:
    """Problems found (empty when the table matches); prints a one-line summary."""
    duck = read(con, table)
    files = sorted(spark_dir.glob("*.parquet"))
    if not files:
        spark = (duck[0], duck[1], [])
    else:
        spark = read(con, "read_parquet(" + repr([str(path) for path in files]) + ")")
    return compare_relation(table, duck, spark, rel_tol, verbose, other_name="spark")


def compare_relation(
    table: str,
    duck: tuple,
    other: tuple,
    rel_tol: float,
    verbose: bool = False,
    other_name: str = "spark",
) -> list[str]:
    """Problems found between two (names, types, rows) of one relation, DuckDB's first;
    prints a one-line summary."""
    duck_names, duck_types, duck_rows = duck
    spark_names, spark_types, spark_rows = other

    problems = []
    if set(duck_names) != set(spark_names):
        problems.append(
            f"columns differ: only on duckdb {sorted(set(duck_names) - set(spark_names))}, "
            f"only on {other_name} {sorted(set(spark_names) - set(duck_names))}"
        )
        print(f"  {table}: DIFFERENT ({problems[-1]})")
        return problems

    order = [spark_names.index(name) for name in duck_names]
    left = sorted(
        (tuple(normalize(v, c) for v, c in zip(row, duck_names, strict=True)) for row in duck_rows),
        key=sort_key,
    )
    right = sorted(
        (
            tuple(normalize(row[i], c) for i, c in zip(order, duck_names, strict=True))
            for row in spark_rows
        ),
        key=sort_key,
    )
    tolerances = [
        1e-6 if duck_types[name] in FLOAT32_TYPES or spark_types[name] in FLOAT32_TYPES else rel_tol
        for name in duck_names
    ]
    if len(left) != len(right):
        # Pairing rows in order would blame every row after the first missing one: show the
        # rows found on one side only instead.
        left_keys = Counter(sort_key(row) for row in left)
        right_keys = Counter(sort_key(row) for row in right)
        only_duck = [row for row in left if (left_keys - right_keys)[sort_key(row)]][:3]
        only_spark = [row for row in right if (right_keys - left_keys)[sort_key(row)]][:3]
        problems.append(
            f"row counts differ: duckdb {len(left)}, {other_name} {len(right)}; "
            f"e.g. only on duckdb {only_duck}, only on {other_name} {only_spark}"
        )
        print(f"  {table}: DIFFERENT, {len(left)} rows duckdb / {len(right)} {other_name}")
        print(f"      {problems[-1]}")
        return problems

    max_rel = 0.0
    differing = 0
    examples = []
    for lrow, rrow in zip(left, right, strict=False):
        bad = []
        for name, lval, rval, tol in zip(duck_names, lrow, rrow, tolerances, strict=True):
            if isinstance(lval, float) and isinstance(rval, float) and lval != rval:
                scale = max(abs(lval), abs(rval))
                if scale and not (math.isnan(lval) or math.isnan(rval)):
                    max_rel = max(max_rel, abs(lval - rval) / scale)
            if not values_equal(lval, rval, tol):
                bad.append(f"{name}: duckdb {lval!r} {other_name} {rval!r}")
        if bad:
            differing += 1
            if len(examples) < 5:
                where = ", ".join(f"{n}={v!r}" for n, v in zip(duck_names[:5], lrow, strict=False))
                examples.append(f"[{where}] " + "; ".join(bad[:4]))
    if differing:
        problems.append(f"{differing} of {len(left)} rows differ, e.g. " + " | ".join(examples))

    type_notes = sorted(
        f"{name} {duck_types[name]}/{spark_types[name]}"
        for name in duck_names
        if duck_types[name] != spark_types[name]
        and not {duck_types[name], spark_types[name]} <= {"VARCHAR"}
    )
    status = "DIFFERENT" if problems else "same"
    note = f", max float rel. diff {max_rel:.1e}" if max_rel else ""
    print(f"  {table}: {status}, {len(left)} rows duckdb / {len(right)} {other_name}{note}")
    for problem in problems:
        print(f"      {problem}")
    if type_notes and verbose:
        print(f"      types (duckdb/{other_name}): {', '.join(type_notes)}")
    return problems


def reject_counts(con: duckdb.DuckDBPyConnection, spark_dir: Path) -> bool:
    query = "select reject_reason, count(*) from {} group by 1 order by 1"
    duck = dict(con.execute(query.format("staging.stg_events_rejected")).fetchall())
    files = [str(path) for path in sorted(spark_dir.glob("*.parquet"))]
    spark = dict(con.execute(query.format(f"read_parquet({files!r})")).fetchall()) if files else {}
    print("  stg_events_rejected per reject_reason (duckdb / spark):")
    for reason in sorted(set(duck) | set(spark)):
        marker = "" if duck.get(reason) == spark.get(reason) else "   <-- differs"
        print(f"      {reason:<28} {duck.get(reason, 0):>5} / {spark.get(reason, 0):<5}{marker}")
    return duck == spark


def print_reject_counts(duck: tuple, other: tuple, other_name: str) -> bool:
    """stg_events_rejected's rows per reject_reason on both sides; True when equal."""

    def counts(relation: tuple) -> Counter:
        position = relation[0].index("reject_reason")
        return Counter(row[position] for row in relation[2])

    left, right = counts(duck), counts(other)
    print(f"  stg_events_rejected per reject_reason (duckdb / {other_name}):")
    for reason in sorted(set(left) | set(right)):
        marker = "" if left[reason] == right[reason] else "   <-- differs"
        print(f"      {reason:<28} {left[reason]:>5} / {right[reason]:<5}{marker}")
    return left == right


def postgres_relations(pg) -> set[str]:
    """Tables and views of the project's schemas in a Postgres database."""
    rows = pg.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema = any(%s)",
        [list(SCHEMAS)],
    ).fetchall()
    return {f"{schema}.{name}" for schema, name in rows}


def read_postgres(pg, relation: str):
    """(column names, {column: type}, rows) of a Postgres relation; type names as
    Postgres spells them (FLOAT4, FLOAT8, NUMERIC, TEXT...). The relation is a
    schema.name from information_schema, quoted here."""
    import psycopg  # only this path needs it

    schema, name = relation.split(".", 1)
    query = psycopg.sql.SQL("select * from {}").format(psycopg.sql.Identifier(schema, name))
    with pg.cursor() as cur:
        cur.execute(query)
        names = [column.name.lower() for column in cur.description]
        types = {}
        for column in cur.description:
            info = pg.adapters.types.get(column.type_code)
            types[column.name.lower()] = (info.name if info else str(column.type_code)).upper()
        rows = cur.fetchall()
    return names, types, rows


def compare_with_postgres(duckdb_path: Path, dsn: str, rel_tol: float = 1e-9, verbose=False) -> int:
    """Every table and view of staging, intermediate and marts, DuckDB against Postgres.
    Exit status as main()'s."""
    import psycopg

    con = duckdb.connect(str(duckdb_path), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    duck = duckdb_tables(con, views=True)
    with psycopg.connect(dsn) as pg:
        pg.execute("set timezone = 'UTC'")
        postgres = postgres_relations(pg)
        missing = [t for t in REQUIRED if t not in postgres or t not in duck]
        if missing:
            names = ", ".join(missing)
            print(f"compare_engines: required tables missing: {names}", file=sys.stderr)
            return 2
        tables = sorted(postgres & duck)
        only = sorted(postgres ^ duck)
        print(f"comparing {len(tables)} tables and views (DuckDB {duckdb_path} vs Postgres)")
        failures = {}
        rejected = {}
        for table in tables:
            pair = read(con, table), read_postgres(pg, table)
            if table == "staging.stg_events_rejected":
                rejected = pair
            problems = compare_relation(table, *pair, rel_tol, verbose, other_name="postgres")
            if problems:
                failures[table] = problems
    same_rejects = print_reject_counts(*rejected, "postgres")
    if only:
        print(f"  relations on one side only (not compared): {', '.join(only)}")
    # Bookkeeping of one engine's features (DuckDB's incremental file log, its mart
    # checks record) exists there only; any other relation on one side is a difference.
    unexpected = [name for name in only if not name.split(".", 1)[1].startswith("_northstar")]
    if failures or not same_rejects or unexpected:
        print(f"compare_engines: {len(failures)} of {len(tables)} relations differ")
        return 1
    print(f"compare_engines: all {len(tables)} tables and views identical")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duckdb", required=True, type=Path, help="the DuckDB warehouse file")
    other = parser.add_mutually_exclusive_group(required=True)
    other.add_argument("--spark-warehouse", type=Path, help="spark.sql.warehouse.dir of the build")
    other.add_argument("--postgres", metavar="DSN", help="the Postgres database of the build")
    parser.add_argument("--rel-tol", type=float, default=1e-9)
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also list column type differences"
    )
    args = parser.parse_args(argv)
    if args.postgres:
        return compare_with_postgres(args.duckdb, args.postgres, args.rel_tol, args.verbose)

    con = duckdb.connect(str(args.duckdb), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    spark = spark_tables(args.spark_warehouse)
    duck = duckdb_tables(con)
    missing = [t for t in REQUIRED if t not in spark or t not in duck]
    if missing:
        print(f"compare_engines: required tables missing: {', '.join(missing)}", file=sys.stderr)
        return 2

    tables = sorted(set(spark) & set(duck))
    only = sorted(set(spark) ^ set(duck))
    print(f"comparing {len(tables)} tables (DuckDB {args.duckdb} vs Spark {args.spark_warehouse})")
    failures = {}
    for table in tables:
        problems = compare_table(con, table, spark[table], args.rel_tol, args.verbose)
        if problems:
            failures[table] = problems
    same_rejects = reject_counts(con, spark["staging.stg_events_rejected"])
    if only:
        print(f"  tables on one side only (not compared): {', '.join(only)}")
    if failures or not same_rejects:
        print(f"compare_engines: {len(failures)} of {len(tables)} tables differ")
        return 1
    print(f"compare_engines: all {len(tables)} tables identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
