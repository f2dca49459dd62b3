"""Load one verified snapshot into its own versioned schema, in one transaction.

Each table goes out of the snapshot's DuckDB file as CSV (DuckDB's writer: NULL unquoted
and empty, an empty string as "", ISO dates) and into Postgres through COPY FROM STDIN,
the fastest way in that keeps exact values. The row count COPY reports is checked against
the manifest before the transaction commits, and `northstar_load` is written last: a
versioned schema exists, committed, only complete. A kill at any point before the commit
leaves nothing (the server rolls back a transaction whose client is gone).
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from northstar.errors import NorthstarError, PostgresTargetError
from northstar.publish.store import Snapshot
from northstar.publish.tables import quote_identifier, quote_literal

LOAD_TABLE = "northstar_load"  # in each versioned schema: what it holds; written last
INFO_TABLE = "northstar_snapshot"  # the snapshot file's one-row table, loaded like the others
COPY_BLOCK = 1 << 20
MAX_IDENTIFIER = 63  # Postgres truncates longer names silently: refuse them instead

_SIMPLE_TYPES = {
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20,0)",
    "HUGEINT": "numeric(39,0)",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "VARCHAR": "text",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "INTERVAL": "interval",
    "UUID": "uuid",
    "JSON": "jsonb",
    # A column dbt made from a bare NULL: no values, so any type holds it.
    '"NULL"': "text",
    "NULL": "text",
}
_DECIMAL = re.compile(r"DECIMAL\((\d+),(\d+)\)")

Hook = Callable[[str], None]


@dataclass(frozen=True)
class LoadedTable:
    name: str
    rows: int
    export_seconds: float  # DuckDB writing the CSV
    copy_seconds: float  # Postgres COPY reading it


def pg_type(duckdb_type: str, where: str) -> str:
    """The Postgres type that holds every value of a DuckDB column exactly."""
    decimal = _DECIMAL.fullmatch(duckdb_type)
    if decimal:
        return f"numeric({decimal[1]},{decimal[2]})"
    try:
        return _SIMPLE_TYPES[duckdb_type]
    except KeyError:
        raise NorthstarError(
            f"{where} is of DuckDB type {duckdb_type}, which the Postgres target does not map "
            f"(known: {', '.join(sorted(t for t in _SIMPLE_TYPES if t[0] != chr(34)))}, DECIMAL)"
        ) from None


def version_schema(read_schema: str, run_id: str) -> str:
    """`<read schema>_v_<run id>` in lowercase with `_` for `-`: a name no BI tool needs
    to quote. Run ids are unique per snapshot directory, so per read schema too."""
    name = f"{read_schema}_v_{run_id.lower().replace('-', '_')}"
    if len(name.encode()) > MAX_IDENTIFIER:
        raise NorthstarError(
            f"the versioned schema name {name!r} is longer than Postgres' {MAX_IDENTIFIER} "
            "bytes: use a shorter $NORTHSTAR_PG_SCHEMA"
        )
    return name


def snapshot_tables(snapshot: Snapshot) -> list[str]:
    """The public tables the manifest lists, then the snapshot's info table."""
    return [*snapshot.manifest.get("tables", {}), INFO_TABLE]


def _columns(source: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return source.execute(
        "select column_name, data_type from duckdb_columns() "
        "where schema_name = 'main' and table_name = ? order by column_index",
        [table],
    ).fetchall()


def load_snapshot(
    conn: Any,
    snapshot: Snapshot,
    schema: str,
    *,
    previous_run_id: str | None,
    hook: Hook,
    progress: Callable[[str], None],
) -> list[LoadedTable]:
    """Create `schema` and COPY every table of `snapshot` into it; commit only complete."""
    from psycopg import sql

    expected = {name: entry["rows"] for name, entry in snapshot.manifest["tables"].items()}
    expected[INFO_TABLE] = 1
    loaded: list[LoadedTable] = []
    source = duckdb.connect(str(snapshot.database), read_only=True)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="northstar-pg-") as scratch,
            conn.transaction(),
            conn.cursor() as cur,
        ):
            cur.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))
            for table in snapshot_tables(snapshot):
                csv = Path(scratch) / f"{table}.csv"
                loaded.append(_load_table(cur, source, schema, table, csv, expected[table], hook))
                done = loaded[-1]
                progress(
                    f"copied {table}: {done.rows} rows (export {done.export_seconds:.2f}s, "
                    f"COPY {done.copy_seconds:.2f}s)"
                )
                csv.unlink()
            _write_load_record(cur, schema, snapshot, previous_run_id, loaded)
            hook("loading:record")
    finally:
        source.close()
    return loaded


def _load_table(
    cur: Any,
    source: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    csv: Path,
    expected_rows: int,
    hook: Hook,
) -> LoadedTable:
    from psycopg import sql

    columns = _columns(source, table)
    if not columns:
        raise NorthstarError(f"the snapshot's DuckDB file has no table {table}")
    target = sql.Identifier(schema, table)
    cur.execute(
        sql.SQL("create table {} ({})").format(
            target,
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(
                    sql.Identifier(name), sql.SQL(pg_type(kind, f"{table}.{name}"))
                )
                for name, kind in columns
            ),
        )
    )
    started = time.monotonic()
    # The snapshot's own names, quoted; the path is a temporary file northstar chose.
    source.execute(
        f"copy main.{quote_identifier(table)} to {quote_literal(str(csv))} "
        "(format csv, header false)"
    )
    exported = time.monotonic()
    with (
        cur.copy(sql.SQL("copy {} from stdin (format csv)").format(target)) as copy,
        csv.open("rb") as handle,
    ):
        first = True
        while block := handle.read(COPY_BLOCK):
            copy.write(block)
            if first:
                hook(f"copying:{table}")  # mid-COPY: tests kill the process here
                first = False
    rows = cur.rowcount
    copied = time.monotonic()
    if rows != expected_rows:
        raise PostgresTargetError(
            f"COPY into {schema}.{table} loaded {rows} rows, the snapshot has {expected_rows}: "
            "nothing was committed"
        )
    cur.execute(sql.SQL("analyze {}").format(target))
    hook(f"copied:{table}")
    return LoadedTable(table, rows, exported - started, copied - exported)


def _write_load_record(
    cur: Any,
    schema: str,
    snapshot: Snapshot,
    previous_run_id: str | None,
    loaded: list[LoadedTable],
) -> None:
    from psycopg import sql

    record = sql.Identifier(schema, LOAD_TABLE)
    cur.execute(
        sql.SQL(
            "create table {} (run_id text not null, previous_run_id text, "
            "published_at text, loaded_at timestamptz not null, tables jsonb not null)"
        ).format(record)
    )
    cur.execute(
        sql.SQL("insert into {} values (%s, %s, %s, %s, %s)").format(record),
        [
            snapshot.run_id,
            previous_run_id,
            snapshot.published_at,
            datetime.now(UTC),
            json.dumps({table.name: table.rows for table in loaded}),
        ],
    )
