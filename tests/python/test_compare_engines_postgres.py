"""scripts/compare_engines.py --postgres, the judge of scripts/check_postgres.sh: it passes
identical relations, and fails, naming the relation and the value, on each kind of
difference the check must catch. A throwaway Postgres server (scripts/pg_throwaway.py,
about a second to start) and a DuckDB file hold a few rows of the required tables.

The check's own run (the demo built on both engines) is scripts/test.sh's; this covers
that its verdict can be "different" at all. Outside CI, a machine without the PostgreSQL
server binaries skips these tests, as test.sh skips the check.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import duckdb
import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
sys.path.insert(0, str(SCRIPTS))
import compare_engines  # noqa: E402
import pg_throwaway  # noqa: E402

psycopg = pytest.importorskip("psycopg")

# The same DDL on both engines: one row-level table of each kind the comparison reads
# (text, timestamp, double, a 4-byte float, bigint) and the required tables.
TABLES = {
    "marts.fct_metric_values": (
        "(metric_name varchar, period_start date, value double precision, rate real)"
    ),
    "marts.fct_aha_moments": "(entity_id varchar, aha_at timestamp)",
    "marts.dim_metrics": "(metric_name varchar, definition_version bigint)",
    "staging.stg_events_rejected": "(raw_row_id bigint, reject_reason varchar)",
}
ROWS = {
    "marts.fct_metric_values": [
        ("messages_sent", dt.date(2026, 3, 2), 1234.5, 0.25),
        ("new_teams", dt.date(2026, 3, 2), 7.0, None),
    ],
    "marts.fct_aha_moments": [("t1", dt.datetime(2026, 3, 3, 10, 0, 0, 250000))],
    "marts.dim_metrics": [("messages_sent", 1)],
    "staging.stg_events_rejected": [(1, "missing_event_id"), (2, "unknown_event_name")],
}


def _postgres_available() -> bool:
    try:
        pg_throwaway.find_binary("initdb")
    except pg_throwaway.PostgresUnavailable:
        return False
    return True


pytestmark = pytest.mark.skipif(
    not _postgres_available() and not os.environ.get("CI"),
    reason="needs the PostgreSQL server binaries (apt-get install postgresql)",
)


@pytest.fixture(scope="module")
def server():
    with pg_throwaway.throwaway_postgres() as pg:
        yield pg


@pytest.fixture
def sides(server, tmp_path):
    """(DuckDB file, Postgres DSN) holding the same rows, in a fresh database per test."""
    dbname = f"compare_{os.getpid()}_{tmp_path.name.replace('-', '_')}"[:60].lower()
    with psycopg.connect(server.dsn, autocommit=True) as admin:
        admin.execute(f'create database "{dbname}"')
    dsn = server.dsn.rsplit("/", 1)[0] + "/" + dbname
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as duck, psycopg.connect(dsn, autocommit=True) as pg:
        for schema in ("staging", "marts"):
            duck.execute(f"create schema {schema}")
            pg.execute(f"create schema {schema}")
        for table, columns in TABLES.items():
            duck.execute(f"create table {table} {columns}")
            pg.execute(f"create table {table} {columns}")
            for row in ROWS[table]:
                duck.execute(f"insert into {table} values ({', '.join(['?'] * len(row))})", row)
                pg.execute(f"insert into {table} values ({', '.join(['%s'] * len(row))})", row)
    return warehouse, dsn


def _postgres(dsn: str, statement: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as pg:
        pg.execute(statement)


def test_identical_relations_pass(sides, capsys):
    warehouse, dsn = sides
    assert compare_engines.main(["--duckdb", str(warehouse), "--postgres", dsn]) == 0
    out = capsys.readouterr().out
    assert "all 4 tables and views identical" in out
    assert "marts.fct_metric_values: same, 2 rows duckdb / 2 postgres" in out


def test_a_different_value_fails_naming_table_and_column(sides, capsys):
    warehouse, dsn = sides
    _postgres(dsn, "update marts.fct_metric_values set value = 1234.6 where value = 1234.5")
    assert compare_engines.compare_with_postgres(warehouse, dsn) == 1
    out = capsys.readouterr().out
    assert "marts.fct_metric_values: DIFFERENT" in out
    assert "value: duckdb 1234.5 postgres 1234.6" in out


def test_a_timestamp_off_by_a_microsecond_fails(sides, capsys):
    warehouse, dsn = sides
    _postgres(dsn, "update marts.fct_aha_moments set aha_at = aha_at + interval '1 microsecond'")
    assert compare_engines.compare_with_postgres(warehouse, dsn) == 1
    assert "marts.fct_aha_moments: DIFFERENT" in capsys.readouterr().out


def test_a_missing_row_and_a_different_reject_count_fail(sides, capsys):
    warehouse, dsn = sides
    _postgres(dsn, "delete from staging.stg_events_rejected where raw_row_id = 2")
    assert compare_engines.compare_with_postgres(warehouse, dsn) == 1
    out = capsys.readouterr().out
    assert "row counts differ: duckdb 2, postgres 1" in out
    assert "unknown_event_name" in out and "<-- differs" in out


def test_a_relation_on_one_side_fails_unless_it_is_bookkeeping(sides, capsys):
    warehouse, dsn = sides
    _postgres(dsn, "create table marts._northstar_mart_checks (x int)")
    assert compare_engines.compare_with_postgres(warehouse, dsn) == 0
    _postgres(dsn, "create view marts.rpt_extra as select 1 as x")
    assert compare_engines.compare_with_postgres(warehouse, dsn) == 1
    assert "on one side only (not compared): marts._northstar_mart_checks, marts.rpt_extra" in (
        capsys.readouterr().out
    )


def test_a_missing_required_table_is_exit_2(sides, capsys):
    warehouse, dsn = sides
    _postgres(dsn, "drop table marts.dim_metrics")
    assert compare_engines.compare_with_postgres(warehouse, dsn) == 2
    assert "required tables missing: marts.dim_metrics" in capsys.readouterr().err
