"""The whole dbt project on PostgreSQL, compared table by table with DuckDB.

    python scripts/check_postgres.py --raw DIR --work DIR [--as-of ISO] [--no-compare]

Called by scripts/check_postgres.sh, which generates the demo data first. Steps:
1. a throwaway PostgreSQL server (scripts/pg_throwaway.py: initdb in a temporary directory,
   a loopback port, stopped and deleted on exit, also when a step fails);
2. a database `northstar` with the C collation, so text sorts by code point as on DuckDB
   and Spark (rows of a source table are numbered by their content, docs/engines.md);
3. the raw Parquet files loaded into tables northstar_raw.events / accounts / users with
   COPY: the documented warehouse-table way of feeding the project
   (docs/raw-event-contract.md, "A table in your warehouse");
4. `dbt build --target postgres` (profiles.yml's postgres target, driven by the libpq
   environment PGHOST/PGPORT/PGUSER/PGDATABASE: no password in any file);
5. the same tables loaded into a fresh DuckDB warehouse and the same `dbt build` there;
6. every table and view of staging, intermediate and marts compared
   (scripts/compare_engines.py).
Prints each step's wall time; exits non-zero on any failure or difference.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare_engines
from pg_throwaway import PostgresUnavailable, throwaway_postgres

ANSI = re.compile(r"\x1b\[[0-9;]*m")
PROJECT_DIR = Path(__file__).resolve().parents[1]
DATABASE = "northstar"
RAW_SCHEMA = "northstar_raw"
# The raw inputs and where their Parquet files are under the generated directory.
RAW_FILES = {
    "events": "events/*.parquet",
    "accounts": "accounts.parquet",
    "users": "users.parquet",
}
# Parquet (as DuckDB describes it) -> Postgres column types, for the demo's raw files.
PG_TYPES = {
    "VARCHAR": "text",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "DOUBLE": "double precision",
    "BOOLEAN": "boolean",
    "DATE": "date",
}
# Both builds read the raw inputs from tables, so both number rows the same way.
DBT_VARS = (
    "{northstar__raw_events_path: '', northstar__raw_accounts_path: '',"
    f" northstar__raw_users_path: '', northstar__raw_schema: {RAW_SCHEMA},"
    " northstar__raw_manifest_path: ''}"
)


class Timings:
    def __init__(self) -> None:
        self.started = time.monotonic()
        self.rows: list[tuple[str, float]] = []

    def step(self, name: str):
        timings = self

        class _Step:
            def __enter__(self):
                print(f"==> {name}", flush=True)
                self.start = time.monotonic()

            def __exit__(self, *exc):
                seconds = time.monotonic() - self.start
                if exc[0] is None:
                    timings.rows.append((name, seconds))
                    print(f"    done in {seconds:.1f} s", flush=True)

        return _Step()

    def report(self) -> None:
        print("==> timings")
        for name, seconds in self.rows:
            print(f"    {name:<38} {seconds:7.1f} s")
        total = time.monotonic() - self.started
        print(f"    {'total (this script)':<38} {total:7.1f} s")


def raw_columns(raw_dir: Path, kind: str) -> list[tuple[str, str]]:
    with duckdb.connect() as con:
        described = con.execute(
            "describe select * from read_parquet(?)", [str(raw_dir / RAW_FILES[kind])]
        ).fetchall()
    columns = []
    for name, data_type, *_ in described:
        if data_type not in PG_TYPES:
            raise SystemExit(f"check_postgres: no Postgres type for {kind}.{name} ({data_type})")
        columns.append((name, data_type))
    return columns


def load_postgres(dsn: str, raw_dir: Path) -> dict[str, int]:
    """COPY every raw input into northstar_raw.<kind>; rows loaded per input."""
    counts = {}
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(sql.SQL("create schema {}").format(sql.Identifier(RAW_SCHEMA)))
        for kind, pattern in RAW_FILES.items():
            columns = raw_columns(raw_dir, kind)
            table = sql.Identifier(RAW_SCHEMA, kind)
            con.execute(
                sql.SQL("create table {} ({})").format(
                    table,
                    sql.SQL(", ").join(
                        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(PG_TYPES[kind_type]))
                        for name, kind_type in columns
                    ),
                )
            )
            with duckdb.connect() as duck:
                rows = duck.execute(
                    "select * from read_parquet(?)", [str(raw_dir / pattern)]
                ).fetchall()
            copy = sql.SQL("copy {} ({}) from stdin").format(
                table, sql.SQL(", ").join(sql.Identifier(name) for name, _ in columns)
            )
            with con.cursor() as cur, cur.copy(copy) as writer:
                for row in rows:
                    writer.write_row(row)
            counts[kind] = len(rows)
            con.execute(sql.SQL("analyze {}").format(table))
    return counts


def load_duckdb(path: Path, raw_dir: Path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(f"create schema {RAW_SCHEMA}")
        for kind, pattern in RAW_FILES.items():
            con.execute(
                f"create table {RAW_SCHEMA}.{kind} as select * from read_parquet(?)",  # noqa: S608
                [str(raw_dir / pattern)],
            )


def dbt_build(target: str, work: Path, env: dict[str, str], log: Path) -> None:
    env = {
        **os.environ,
        **env,
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    dbt = Path(sys.executable).with_name("dbt")
    command = [str(dbt), "build", "--target", target, "--vars", DBT_VARS]
    with log.open("w") as out:
        done = subprocess.run(
            command, cwd=PROJECT_DIR, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    # dbt's own lines (a timestamp first), colours removed.
    summary = [
        line
        for line in ANSI.sub("", log.read_text(errors="replace")).splitlines()
        if line[:2].isdigit() and line[2:3] == ":"
    ]
    if done.returncode != 0:
        print("\n".join(summary[-40:]))
        raise SystemExit(f"check_postgres: dbt build on {target} failed; full log: {log}")
    for line in summary:
        if "Done. " in line or "Finished running" in line:
            print(f"    {line}")


def _stop_on_sigterm() -> None:
    """A SIGTERM (a CI timeout, `kill`) unwinds like an exception, so the server is
    stopped; by default Python would exit without running `finally`."""

    def handler(signum, frame):
        raise SystemExit(f"check_postgres: stopped by signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def run(args: argparse.Namespace, timings: Timings) -> int:
    with timings.step("start PostgreSQL (initdb, throwaway)"):
        stack = contextlib.ExitStack()
        pg = stack.enter_context(throwaway_postgres())
    with stack:
        with psycopg.connect(pg.dsn, autocommit=True) as con:
            con.execute(
                f"create database {DATABASE} template template0 encoding 'UTF8'"
                " lc_collate 'C' lc_ctype 'C'"
            )
        dsn = pg.dsn.rsplit("/", 1)[0] + "/" + DATABASE
        with timings.step("load raw tables (COPY)"):
            counts = load_postgres(dsn, args.raw)
            print("    " + ", ".join(f"{kind} {n} rows" for kind, n in counts.items()))
        pg_work = args.work / "postgres"
        pg_work.mkdir(parents=True, exist_ok=True)
        # PGTZ: dbt's sessions in UTC, as DuckDB's timestamps are (docs/engines.md).
        pg_env = {**pg.env(), "PGDATABASE": DATABASE, "PGTZ": "UTC"}
        with timings.step("dbt build (postgres)"):
            dbt_build("postgres", pg_work, pg_env, pg_work / "build.log")
        if args.no_compare:
            return 0
        duck_work = args.work / "duckdb"
        duck_work.mkdir(parents=True, exist_ok=True)
        warehouse = duck_work / "northstar.duckdb"
        with timings.step("load raw tables (duckdb)"):
            load_duckdb(warehouse, args.raw)
        with timings.step("dbt build (duckdb)"):
            env = {"NORTHSTAR_DUCKDB_PATH": str(warehouse)}
            dbt_build("duckdb", duck_work, env, duck_work / "build.log")
        with timings.step("compare every table and view"):
            return compare_engines.compare_with_postgres(warehouse, dsn)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw", required=True, type=Path, help="generated demo data")
    parser.add_argument("--work", required=True, type=Path, help="logs, targets, DuckDB file")
    parser.add_argument("--no-compare", action="store_true", help="the Postgres build only")
    args = parser.parse_args(argv)
    if not (args.raw / "events").is_dir():
        raise SystemExit(f"check_postgres: no raw events under {args.raw} (northstar generate)")
    if not os.environ.get("NORTHSTAR_AS_OF"):
        raise SystemExit("check_postgres: set NORTHSTAR_AS_OF (the demo's clock)")
    _stop_on_sigterm()
    timings = Timings()
    try:
        status = run(args, timings)
    except PostgresUnavailable as error:
        raise SystemExit(f"check_postgres: {error}") from error
    timings.report()
    return status


if __name__ == "__main__":
    sys.exit(main())
