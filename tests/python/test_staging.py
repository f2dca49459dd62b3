"""Staging loses nothing: the raw-defect fixture, a Segment-shaped table, and broken inputs.

Each scenario runs the project's dbt in a subprocess against its own DuckDB file and target
directory under tmp_path, so test runs never touch the default warehouse or each other.
dbt runs cost seconds each, so each build happens once per module and the tests read the
resulting warehouse.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
FIXTURE_DIR = PROJECT_DIR / "tests" / "fixtures" / "raw_defects"
DBT = str(Path(sys.executable).with_name("dbt"))

pytestmark = pytest.mark.dbt

# Pins the boundary rows of the fixture (r23-r28): future limit 2024-07-01 00:00:00 UTC.
FIXTURE_VARS = {
    "northstar__raw_events_path": str(FIXTURE_DIR / "events.csv"),
    "northstar__raw_accounts_path": str(FIXTURE_DIR / "accounts.csv"),
    "northstar__raw_users_path": str(FIXTURE_DIR / "no_users_here.parquet"),
    "northstar__as_of": "2024-06-30T00:00:00Z",
    "northstar__max_future_hours": 24,
    "northstar__start_date": "2024-01-01",
    "northstar__reject_unknown_events": True,
}


QUALITY_DAYS_TEST = "test_fct_event_quality_daily__days_within_accepted_range"


def run_dbt(
    args: list[str], workdir: Path, dbt_vars: dict, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        **extra_env,
        NORTHSTAR_DUCKDB_PATH=str(workdir / "warehouse.duckdb"),
        NORTHSTAR_RAW_DIR=str(workdir / "raw"),
        DBT_TARGET_PATH=str(workdir / "target"),
        DBT_LOG_PATH=str(workdir / "logs"),
        DBT_PROFILES_DIR=str(PROJECT_DIR),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    # JSON is YAML, and it quotes paths and timestamps safely.
    command = [DBT, *args, "--vars", json.dumps(dbt_vars)]
    return subprocess.run(
        command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=False
    )


def assert_dbt_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(sql).fetchall()


def fixture_rows() -> list[dict[str, str]]:
    with (FIXTURE_DIR / "events.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def expected_outcomes() -> dict[str, tuple[str, str | None]]:
    with (FIXTURE_DIR / "expected_outcomes.csv").open(newline="") as handle:
        return {
            row["row_key"]: (row["row_status"], row["reject_reason"] or None)
            for row in csv.DictReader(handle)
        }


@pytest.fixture(scope="module")
def defects(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Staging + the quality mart built on the defect fixture; returns the warehouse file."""
    workdir = tmp_path_factory.mktemp("defects")
    result = run_dbt(
        [
            "build",
            "--select",
            "staging",
            "+marts.quality",
            "path:tests/dbt/singular/staging",
            QUALITY_DAYS_TEST,
        ],
        workdir,
        FIXTURE_VARS,
    )
    assert_dbt_ok(result)
    return workdir / "warehouse.duckdb"


# --- the defect fixture --------------------------------------------------------------


def test_every_raw_row_gets_exactly_the_expected_outcome(defects: Path) -> None:
    rows = query(
        defects,
        "select coalesce(session_id, ''), row_status, reject_reason "
        "from staging.stg_northstar_raw__events_parsed",
    )
    actual = {key: (status, reason) for key, status, reason in rows}
    assert len(actual) == len(rows), "fixture keys must be unique"
    assert actual == expected_outcomes()


def test_rejected_model_keeps_raw_text_and_one_reason_per_row(defects: Path) -> None:
    expected = {k: r for k, (s, r) in expected_outcomes().items() if s == "rejected"}
    rows = query(
        defects,
        "select coalesce(raw_session_id, ''), reject_reason, raw_event_id "
        "from staging.stg_events_rejected",
    )
    assert {key: reason for key, reason, _ in rows} == expected
    raw_ids = {key: raw_id for key, _, raw_id in rows}
    assert len(raw_ids["r15"]) == 10240  # the 10 kB id is kept whole, as text
    assert raw_ids["r14"] == "  undefined "
    assert raw_ids[""] is None  # the all-null row


def test_duplicates_keep_the_earliest_received_copy(defects: Path) -> None:
    kept = query(
        defects,
        "select event_id, properties, session_id from staging.stg_events "
        "where event_id in ('e09', 'e57') order by event_id",
    )
    # e09: earliest received_at wins, a null received_at sorts last;
    # e57: received and occurred tie, so the lower raw_row_id (content order for CSV) wins.
    assert kept == [("e09", '{"copy": "early"}', "r10"), ("e57", '{"v": 1}', "r57b")]

    dropped = query(
        defects,
        """
        select p.session_id, d.kept_raw_row_id = k.raw_row_id
        from staging.stg_events_duplicates as d
        inner join staging.stg_northstar_raw__events_parsed as p on d.raw_row_id = p.raw_row_id
        inner join staging.stg_northstar_raw__events_parsed as k
            on k.event_id = d.event_id and k.row_status = 'accepted'
        order by 1
        """,
    )
    assert dropped == [("r09", True), ("r11", True), ("r57a", True)]


def test_raw_rows_equal_accepted_plus_duplicates_plus_rejected(defects: Path) -> None:
    (counts,) = query(
        defects,
        """
        select
            (select count(*) from staging.stg_events),
            (select count(*) from staging.stg_events_duplicates),
            (select count(*) from staging.stg_events_rejected),
            (select sum(raw_rows) from marts.fct_event_quality_daily),
            (select bool_and(is_reconciled) from marts.fct_event_quality_daily)
        """,
    )
    accepted, duplicates, rejected, mart_raw_rows, every_day_reconciled = counts
    raw_rows = len(fixture_rows())
    assert accepted + duplicates + rejected == raw_rows == mart_raw_rows
    assert every_day_reconciled
    outcomes = list(expected_outcomes().values())
    assert (accepted, duplicates, rejected) == tuple(
        sum(status == wanted for status, _ in outcomes)
        for wanted in ("accepted", "duplicate", "rejected")
    )


def test_quality_mart_counts_rejections_by_reason_per_day(defects: Path) -> None:
    (day,) = query(
        defects,
        "select raw_rows, rejected_rows, rejected_missing_entity_id, reject_rate "
        "from marts.fct_event_quality_daily where event_date = date '2024-03-01'",
    )
    raw_rows, rejected_rows, missing_entity_id, reject_rate = day
    assert missing_entity_id == 2  # r29 and r30
    assert 0 < rejected_rows < raw_rows
    assert reject_rate == pytest.approx(rejected_rows / raw_rows)


def test_quality_mart_days_are_the_accepted_days(defects: Path) -> None:
    """Rejects dated 1970, 2023-12-31 (before the start date) or 2030 and 2099 (in the
    future) are no days of their own with a reject rate of 1.0: each counts, under its
    reason, on its received day inside the range (r63), else on the nearest end of it."""
    ((first, last),) = query(
        defects, "select min(event_date), max(event_date) from staging.stg_events"
    )
    assert (first, last) == (dt.date(2024, 1, 1), dt.date(2024, 7, 1))
    ((lowest, highest, undated),) = query(
        defects,
        "select min(event_date), max(event_date), count(*) filter (where event_date is null) "
        "from marts.fct_event_quality_daily",
    )
    assert (lowest, highest, undated) == (first, last, 1)

    columns = "accepted_rows, rejected_rows, rejected_before_start_date, "
    columns += "rejected_occurred_in_future, out_of_range_rows"
    by_day = {
        row[0]: row[1:]
        for row in query(
            defects,
            f"select event_date, {columns} from marts.fct_event_quality_daily "
            "where event_date in ('2024-01-01', '2024-03-02', '2024-07-01')",
        )
    }
    # 2024-01-01: r27 accepted; r26, r28 (2023-12-31) and r64 (1970) moved to the first day.
    assert by_day[first] == (1, 3, 3, 0, 3)
    # 2024-07-01: r24, r25 accepted; r23 (in range) and r39 (2030, moved) in the future.
    assert by_day[last] == (2, 2, 0, 2, 1)
    # 2024-03-02: r63 (dated 2099) was received that day.
    assert by_day[dt.date(2024, 3, 2)][1:] == (1, 0, 1, 1)

    # Nothing is lost: every reject is still counted once, under its reason.
    reasons = query(
        defects,
        "select reject_reason, count(*) from staging.stg_events_rejected group by 1 order by 1",
    )
    for reason, rejected in reasons:
        ((in_mart,),) = query(
            defects, f"select sum(rejected_{reason}) from marts.fct_event_quality_daily"
        )
        assert in_mart == rejected, reason
    ((moved,),) = query(defects, "select sum(out_of_range_rows) from marts.fct_event_quality_daily")
    assert moved == 5  # r26, r28, r39, r63, r64


def test_staged_event_dates_span_only_the_accepted_days(defects: Path) -> None:
    """The staged events' event_date statistics cover the accepted days only, so a scan for
    the days an incremental run touched skips the row groups holding none of them; the
    rejected rows keep their dates (1970 to 2099 here) in rejected_event_date, and the
    views show them as event_date as before."""
    classified = "staging.stg_northstar_raw__events_classified"
    ((first, last),) = query(
        defects, "select min(event_date), max(event_date) from staging.stg_events"
    )
    stats = query(
        defects,
        "select stats from pragma_storage_info('staging.stg_northstar_raw__events_classified') "
        "where column_name = 'event_date' and segment_type = 'DATE'",
    )
    assert stats, "no statistics stored for event_date"
    for (segment,) in stats:
        assert first <= segment["min"] and segment["max"] <= last, segment

    ((lowest, highest),) = query(
        defects,
        f"select min(rejected_event_date), max(rejected_event_date) from {classified}",
    )
    assert lowest < first and highest > last  # the fixture can show the difference

    ((dated_rejects, undated_accepted),) = query(
        defects,
        "select count(*) filter (where reject_reason is not null and event_date is not null), "
        "count(*) filter (where reject_reason is null and rejected_event_date is not null) "
        f"from {classified}",
    )
    assert (dated_rejects, undated_accepted) == (0, 0)

    for view in ("stg_northstar_raw__events_parsed", "stg_events_rejected"):
        mismatched = query(
            defects,
            f"select count(*) from staging.{view} as shown inner join {classified} as staged "
            "on shown.raw_row_id = staged.raw_row_id where staged.reject_reason is not null "
            "and shown.event_date is distinct from staged.rejected_event_date",
        )
        assert mismatched == [(0,)], view


def test_timestamps_are_converted_to_utc(defects: Path) -> None:
    ten = dt.datetime(2024, 3, 1, 10, 0)
    expected = {
        "r01": ten,  # Z
        "r02": ten,  # +02:00
        "r03": ten,  # -0530
        "r04": ten,  # epoch seconds
        "r05": ten + dt.timedelta(milliseconds=123),  # epoch milliseconds
        "r06": ten,  # no zone: UTC
        "r25": dt.datetime(2024, 7, 1),  # offset, at the future boundary
        "r28": dt.datetime(2023, 12, 31, 23, 30),  # offset pushes it before start_date
        "r46": ten,  # lower-case t / z
        "r47": ten,  # named zone
        "r48": ten + dt.timedelta(milliseconds=500),  # fractional epoch seconds
        "r49": dt.datetime(2024, 3, 1),  # date only
    }
    rows = query(
        defects,
        "select session_id, occurred_at from staging.stg_northstar_raw__events_parsed "
        f"where session_id in ({', '.join(repr(k) for k in expected)})",
    )
    assert dict(rows) == expected
    received = dict(
        query(
            defects,
            "select session_id, received_at from staging.stg_events "
            "where session_id in ('r01', 'r43')",
        )
    )
    assert received == {"r01": dt.datetime(2024, 3, 1, 10, 0, 5), "r43": None}


def test_names_ids_and_properties_are_normalized(defects: Path) -> None:
    rows = query(
        defects,
        "select session_id, event_id, event_name, user_id, properties, is_late_arrival "
        "from staging.stg_events",
    )
    by_key = {row[0]: row[1:] for row in rows}
    assert by_key["r07"][1] == "message_sent"
    assert by_key["r08"][1] == "file_shared"
    assert by_key["r52"][1] == "message_sent"
    assert by_key["r44"][0] == "e44"
    assert by_key["r59"][:2] == ("e59", "message_sent")  # tabs trimmed too
    assert by_key["r51"][2] is None
    assert by_key["r34"][3] == by_key["r35"][3] == "{}"
    assert by_key["r53"][3] == '{"a": 1}'
    assert (by_key["r41"][4], by_key["r42"][4]) == (True, False)


def test_stg_events_has_the_contract_columns_and_types(defects: Path) -> None:
    columns = query(defects, "select column_name, column_type from (describe staging.stg_events)")
    assert columns == [
        ("event_id", "VARCHAR"),
        ("event_name", "VARCHAR"),
        ("occurred_at", "TIMESTAMP"),
        ("received_at", "TIMESTAMP"),
        ("event_date", "DATE"),
        ("user_id", "VARCHAR"),
        ("account_id", "VARCHAR"),
        ("entity_id", "VARCHAR"),
        ("session_id", "VARCHAR"),
        ("platform", "VARCHAR"),
        ("country", "VARCHAR"),
        ("properties", "VARCHAR"),
        ("is_late_arrival", "BOOLEAN"),
        ("_northstar_load_id", "BIGINT"),
    ]


def test_accounts_are_deduplicated_and_users_are_optional(defects: Path) -> None:
    accounts = query(
        defects, "select account_id, created_at, plan, country from staging.stg_accounts order by 1"
    )
    assert accounts == [
        ("a1", dt.datetime(2024, 1, 2), "free", "US"),  # earliest created_at of two rows
        ("a2", dt.datetime(2024, 1, 2), "free", "DE"),  # padded id and value, epoch seconds
        ("a3", None, "team", None),
    ]
    assert query(defects, "select count(*) from staging.stg_users") == [(0,)]
    user_columns = query(defects, "select column_name from (describe staging.stg_users)")
    assert [name for (name,) in user_columns] == [
        "user_id",
        "account_id",
        "created_at",
        "country",
        "platform",
    ]


def test_reconciliation_test_fails_when_a_row_goes_missing(defects: Path, tmp_path: Path) -> None:
    """The dbt test behind the invariant can fail: drop one rejected row and rerun it."""
    workdir = tmp_path / "tampered"
    workdir.mkdir()
    shutil.copy(defects, workdir / "warehouse.duckdb")
    with duckdb.connect(str(workdir / "warehouse.duckdb")) as con:
        con.execute(
            "delete from staging.stg_events_rejected "
            "where raw_row_id = (select min(raw_row_id) from staging.stg_events_rejected)"
        )
    result = run_dbt(
        ["test", "--select", "test_stg_events__reconciles_with_raw"], workdir, FIXTURE_VARS
    )
    assert result.returncode != 0
    assert "FAIL" in result.stdout and "test_stg_events__reconciles_with_raw" in result.stdout


# --- a Segment-shaped warehouse table, typed columns, column mapping ------------------


@pytest.fixture(scope="module")
def segment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Events from a Segment `tracks` table declared as the source (TIMESTAMP-typed, a
    struct of properties, other column names), users from Parquet with mapped names, no
    accounts table at all, and the user as the entity."""
    workdir = tmp_path_factory.mktemp("segment")
    warehouse = workdir / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema segment_raw")
        con.execute(
            """
            create table segment_raw.tracks as
            select * from (values
                ('m1', timestamptz '2024-03-01 12:00:00+02', timestamp '2024-03-01 10:00:07',
                 'Order Completed', 'anon-1', {'plan': 'pro', 'mrr': 49.5}, '10.0.0.1'),
                ('m2', null, null, 'order_completed', 'anon-1', {'plan': 'x', 'mrr': 1.0}, null),
                ('m3', timestamptz '2024-03-02 00:00:00+00', null,
                 'order_completed', null, {'plan': 'x', 'mrr': 1.0}, null)
            ) as t (message_id, "timestamp", received_at, event, anonymous_id, properties,
                    context_ip)
            """
        )
        con.execute(
            f"""
            copy (select * from (values
                ('anon-1', timestamp '2024-02-01 08:00:00', 'SE'),
                ('anon-1', timestamp '2024-02-03 08:00:00', 'NO')
            ) as t (id, first_seen, country))
            to '{workdir / "users.parquet"}' (format parquet)
            """
        )
    spec = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]["northstar"]
    spec["entity"] = "user"
    dbt_vars = {
        "northstar": spec,
        "northstar__raw_events_path": "",
        "northstar__raw_accounts_path": "",
        "northstar__raw_users_path": str(workdir / "users.parquet"),
        "northstar__raw_schema": "segment_raw",
        "northstar__raw_events_table": "tracks",
        "northstar__raw_event_columns": {
            "event_id": "message_id",
            "occurred_at": "timestamp",
            "event_name": "event",
            "user_id": "anonymous_id",
        },
        "northstar__raw_user_columns": {"user_id": "id", "created_at": "first_seen"},
        "northstar__reject_unknown_events": False,
        "northstar__as_of": "2024-06-30T00:00:00Z",
    }
    # A non-UTC machine zone (DuckDB's session TimeZone follows TZ) must not shift anything.
    result = run_dbt(["build", "--select", "staging"], workdir, dbt_vars, TZ="America/New_York")
    assert_dbt_ok(result)
    return warehouse


def test_segment_table_maps_onto_the_contract(segment: Path) -> None:
    rows = query(
        segment,
        "select event_id, event_name, occurred_at, received_at, user_id, account_id, "
        "entity_id, session_id, properties from staging.stg_events",
    )
    assert rows == [
        (
            "m1",
            "order_completed",
            dt.datetime(2024, 3, 1, 10, 0),
            dt.datetime(2024, 3, 1, 10, 0, 7),
            "anon-1",
            None,
            "anon-1",
            None,
            '{"plan":"pro","mrr":49.5}',
        )
    ]
    rejected = query(
        segment, "select raw_event_id, reject_reason from staging.stg_events_rejected order by 1"
    )
    assert rejected == [("m2", "missing_occurred_at"), ("m3", "missing_entity_id")]


def test_absent_accounts_table_gives_an_empty_model_and_users_are_mapped(segment: Path) -> None:
    assert query(segment, "select count(*) from staging.stg_accounts") == [(0,)]
    account_columns = query(segment, "select column_name from (describe staging.stg_accounts)")
    assert [name for (name,) in account_columns][:2] == ["account_id", "created_at"]
    users = query(segment, "select user_id, created_at, country from staging.stg_users")
    assert users == [("anon-1", dt.datetime(2024, 2, 1, 8, 0), "SE")]


# --- inputs that must fail, with a message that says what is wrong -------------------


def test_missing_events_path_fails_naming_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "events" / "*.parquet"
    dbt_vars = {**FIXTURE_VARS, "northstar__raw_events_path": str(missing)}
    result = run_dbt(["run", "--select", "stg_northstar_raw__events_parsed"], tmp_path, dbt_vars)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert str(missing) in output
    assert "Expected files with the contract columns" in output
    assert "northstar__raw_events_path" in output
    assert "northstar__raw_events_reader: {format: csv | parquet | json | ndjson}" in output


def test_missing_required_column_fails_naming_the_column(tmp_path: Path) -> None:
    events = tmp_path / "events.csv"
    events.write_text("event_id,occurred_at,account_id,properties\ne1,2024-03-01T10:00:00Z,a1,{}\n")
    dbt_vars = {**FIXTURE_VARS, "northstar__raw_events_path": str(events)}
    result = run_dbt(["run", "--select", "stg_northstar_raw__events_parsed"], tmp_path, dbt_vars)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "required contract column(s) event_name" in output
    assert str(events) in output
    assert "northstar__raw_event_columns" in output


def test_unreadable_parquet_fails_naming_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "raw" / "events" / "part-0.parquet"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"this is not parquet")
    dbt_vars = {**FIXTURE_VARS, "northstar__raw_events_path": str(broken.parent / "*.parquet")}
    result = run_dbt(["run", "--select", "stg_northstar_raw__events_parsed"], tmp_path, dbt_vars)
    assert result.returncode != 0
    assert str(broken) in result.stdout + result.stderr


EVENTS_HEADER = (
    "event_id,occurred_at,received_at,user_id,account_id,event_name,properties,"
    "session_id,platform,country\n"
)


def test_an_over_long_csv_line_is_a_reject_not_a_failed_build(tmp_path: Path) -> None:
    """DuckDB's CSV reader stops at lines over 2 MB by default, which failed the whole
    build; such a row is now rejected (row_too_long) and the raw count still reconciles."""
    events = tmp_path / "events.csv"
    long_value = '"{""blob"": ""' + "x" * 3_000_000 + '""}"'
    events.write_text(
        EVENTS_HEADER
        + "e1,2024-03-01T10:00:00Z,,u1,a1,message_sent,{},r1,web,US\n"
        + f"e2,2024-03-01T11:00:00Z,,u1,a1,message_sent,{long_value},r2,web,US\n"
        + "e3,2024-03-01T12:00:00Z,,u1,a1,message_sent,{},r3,web,US\n"
    )
    dbt_vars = {**FIXTURE_VARS, "northstar__raw_events_path": str(events)}
    result = run_dbt(
        ["build", "--select", "staging", "+marts.quality", "path:tests/dbt/singular/staging"],
        tmp_path,
        dbt_vars,
    )
    assert_dbt_ok(result)
    warehouse = tmp_path / "warehouse.duckdb"
    assert query(warehouse, "select event_id from staging.stg_events order by 1") == [
        ("e1",),
        ("e3",),
    ]
    ((reason, event_id, properties, session_id),) = query(
        warehouse,
        "select reject_reason, raw_event_id, raw_properties, raw_session_id "
        "from staging.stg_events_rejected",
    )
    assert (reason, event_id, session_id) == ("row_too_long", "e2", "r2")
    # The evidence is the row's start (the whole row stays in its file), not 3 MB of text.
    assert properties.startswith('{"blob": "xxx') and len(properties) == 1024
    assert query(
        warehouse,
        "select sum(raw_rows), sum(rejected_row_too_long) from marts.fct_event_quality_daily",
    ) == [(3, 1)]


def test_an_over_long_parquet_row_is_a_reject_too(tmp_path: Path) -> None:
    """The same rule whatever the format: a Parquet row of 3 MB is row_too_long."""
    events = tmp_path / "events.parquet"
    with duckdb.connect() as con:
        con.execute(
            "copy (select * from (values "
            "('e1', '2024-03-01T10:00:00Z', 'a1', 'message_sent', '{}'), "
            "('e2', '2024-03-01T11:00:00Z', 'a1', 'message_sent', "
            "'{\"blob\": \"' || repeat('x', 3000000) || '\"}')"
            ") as t (event_id, occurred_at, account_id, event_name, properties)) "
            f"to '{events}' (format parquet)"
        )
    dbt_vars = {**FIXTURE_VARS, "northstar__raw_events_path": str(events)}
    # The parsed model is a view over the classified table: build what it reads too.
    result = run_dbt(["run", "--select", "+stg_northstar_raw__events_parsed"], tmp_path, dbt_vars)
    assert_dbt_ok(result)
    rows = query(
        tmp_path / "warehouse.duckdb",
        "select event_id, row_status, reject_reason, length(raw_properties) "
        "from staging.stg_northstar_raw__events_parsed order by 1",
    )
    assert rows == [("e1", "accepted", None, None), ("e2", "rejected", "row_too_long", 1024)]


def test_header_only_events_file_fails_early_saying_it_is_empty(tmp_path: Path) -> None:
    events = tmp_path / "events.csv"
    events.write_text(EVENTS_HEADER)
    dbt_vars = {**FIXTURE_VARS, "northstar__raw_events_path": str(events)}
    result = run_dbt(["build", "--select", "staging", "+marts.quality"], tmp_path, dbt_vars)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert f"the raw events at northstar__raw_events_path = '{events}' hold no rows" in output
    # It fails in the on-run-start check: no model ran, no unrelated test failed.
    assert "START sql table model" not in output
    assert "FAIL" not in output


def test_events_parquet_files_without_rows_fail_early_saying_so(tmp_path: Path) -> None:
    folder = tmp_path / "raw" / "events"
    folder.mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute(
            "copy (select 'e1' as event_id, '2024-03-01' as occurred_at, 'a1' as account_id, "
            f"'message_sent' as event_name where false) to '{folder / 'part-0.parquet'}' "
            "(format parquet)"
        )
    pattern = str(folder / "*.parquet")
    dbt_vars = {**FIXTURE_VARS, "northstar__raw_events_path": pattern}
    result = run_dbt(["build", "--select", "staging"], tmp_path, dbt_vars)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert f"northstar__raw_events_path = '{pattern}' hold no rows (1 file" in output
    assert "START sql table model" not in output
