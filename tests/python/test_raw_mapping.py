"""Foreign exports onboarded by configuration alone (docs/raw-event-contract.md, "Mapping by
configuration"): no preprocessing script, only the reader and column-mapping vars.

Each scenario writes a few raw rows into a tmp dir and builds staging only (plus its
reconciliation test) against its own DuckDB file, as test_staging.py does, so a scenario
costs one dbt invocation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import duckdb
import pytest
from test_staging import assert_dbt_ok, query, run_dbt

pytestmark = pytest.mark.dbt

STAGING = ["build", "--select", "staging", "test_stg_events__reconciles_with_raw"]

# A bare order log, as exported by an old retail system: columns aligned with spaces, a
# .txt name, dates as YYYYMMDD, no event id, one kind of event, the amount in a column.
ORDERS_TXT = """\
customer   date        quantity   amount
00001      19970101    1          11.77
00002      19970112    2          12.00
00002      19970112    2          12.00
00003      19970102    5          77.00
00003      19970102    5          n/a
00004      199701      1          1.00
null       19970105    1          3.00
"""

# Everything the order log needs, and nothing else.
ORDERS_VARS = {
    "northstar__raw_events_reader": {"format": "csv", "delimiter": "whitespace"},
    "northstar__raw_event_columns": {
        "event_id": None,
        "event_name": {"value": "order"},
        "occurred_at": {"column": "date", "time_zone": "America/New_York"},
        "account_id": "customer",
        "properties": {
            "columns": {
                "amount": {"column": "amount", "type": "number"},
                "items": {"column": "quantity", "type": "integer"},
            }
        },
    },
    "northstar__start_date": "1997-01-01",
    "northstar__as_of": "1998-07-01T00:00:00Z",
    "northstar__reject_unknown_events": False,
}


def write_orders(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "orders.txt"
    path.write_text(ORDERS_TXT)
    return path


def derived_id(row: dict[str, str]) -> str:
    """The documented derivation, recomputed: md5 of every column in name order, each
    written as <length>:<value>."""
    text = "".join(f"{len(row[name])}:{row[name]}" for name in sorted(row))
    return hashlib.md5(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def orders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("orders")
    path = write_orders(workdir / "export")
    result = run_dbt(STAGING, workdir, {**ORDERS_VARS, "northstar__raw_events_path": str(path)})
    assert_dbt_ok(result)
    return workdir / "warehouse.duckdb"


def test_order_log_is_staged_without_preprocessing(orders: Path) -> None:
    rows = query(
        orders,
        "select account_id, event_name, occurred_at, properties from staging.stg_events "
        "order by account_id, properties",
    )
    midnight_new_york = dt.datetime(1997, 1, 1, 5, 0)  # 8 digits: a date, never epoch
    assert rows == [
        ("00001", "order", midnight_new_york, '{"amount":11.77,"items":1}'),
        ("00002", "order", dt.datetime(1997, 1, 12, 5, 0), '{"amount":12.0,"items":2}'),
        ("00003", "order", dt.datetime(1997, 1, 2, 5, 0), '{"amount":77.0,"items":5}'),
        # An amount that is no number is a JSON null, not a failed build.
        ("00003", "order", dt.datetime(1997, 1, 2, 5, 0), '{"amount":null,"items":5}'),
    ]
    # Typed: the amount is a JSON number, which a `sum` measure reads.
    ((total,),) = query(
        orders,
        "select sum(cast(json_extract(properties, '$.amount') as double)) from staging.stg_events",
    )
    assert total == pytest.approx(11.77 + 12.0 + 77.0)


def test_derived_event_ids_count_exact_copies_as_duplicates(orders: Path) -> None:
    ids = dict(
        query(orders, "select account_id || '/' || properties, event_id from staging.stg_events")
    )
    row = {"customer": "00002", "date": "19970112", "quantity": "2", "amount": "12.00"}
    assert ids['00002/{"amount":12.0,"items":2}'] == derived_id(row)
    # Rows that differ in one column (the amount) are two events, not copies.
    assert len({ids[key] for key in ids if key.startswith("00003")}) == 2

    duplicates = query(
        orders,
        "select d.event_id, d.kept_raw_row_id = k.raw_row_id "
        "from staging.stg_events_duplicates as d "
        "inner join staging.stg_northstar_raw__events_parsed as k "
        "on k.event_id = d.event_id and k.row_status = 'accepted'",
    )
    assert duplicates == [(derived_id(row), True)]


def test_order_log_rejects_keep_their_reasons_and_nothing_is_lost(orders: Path) -> None:
    rejected = query(
        orders,
        "select raw_account_id, raw_occurred_at, reject_reason from staging.stg_events_rejected "
        "order by 1",
    )
    assert rejected == [
        ("00004", "199701", "unparseable_occurred_at"),  # 6 digits: no unambiguous reading
        ("null", "19970105", "missing_entity_id"),
    ]
    ((accepted, duplicates, rejected_rows),) = query(
        orders,
        "select (select count(*) from staging.stg_events), "
        "(select count(*) from staging.stg_events_duplicates), "
        "(select count(*) from staging.stg_events_rejected)",
    )
    raw_rows = len(ORDERS_TXT.strip().splitlines()) - 1  # the header is no row
    assert (accepted, duplicates, rejected_rows) == (4, 1, 2)
    assert accepted + duplicates + rejected_rows == raw_rows


def test_all_rows_before_start_date_stop_the_build_naming_the_setting(tmp_path: Path) -> None:
    """The order log against the default northstar__start_date (2020-01-01): the build stops
    in staging, with the counts by reason, instead of a metric test failing downstream."""
    path = write_orders(tmp_path / "export")
    dbt_vars = {**ORDERS_VARS, "northstar__raw_events_path": str(path)}
    del dbt_vars["northstar__start_date"]
    result = run_dbt(
        ["build", "--select", "stg_northstar_raw__events_classified+"], tmp_path, dbt_vars
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "none of the 7 raw event rows of this load was accepted" in output
    assert "before_start_date: 6 row(s), occurred_at from 1997-01-01 05:00:00" in output
    assert "northstar__start_date = '2020-01-01'" in output
    assert "set it on or before 1997-01-01" in output
    assert "unparseable_occurred_at: 1 row(s), values such as '199701'" in output
    # Stopped in staging: no model downstream of it ran, no metric test failed.
    assert "OK created sql view model staging.stg_events" not in output
    assert "ERROR=1 " in output and "FAIL" not in output


def test_a_reject_share_above_the_configured_one_stops_the_build(tmp_path: Path) -> None:
    """2 of the 7 rows rejected (29%) is more than northstar__max_reject_share = 0.2."""
    path = write_orders(tmp_path / "export")
    dbt_vars = {
        **ORDERS_VARS,
        "northstar__raw_events_path": str(path),
        "northstar__max_reject_share": 0.2,
    }
    result = run_dbt(
        ["run", "--select", "stg_northstar_raw__events_classified"], tmp_path, dbt_vars
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert (
        "2 of the 7 raw event rows of this load were rejected, "
        "more than var northstar__max_reject_share = 0.2" in output
    )
    assert "missing_entity_id: 1 row(s), occurred_at from 1997-01-05 05:00:00" in output
    assert "unparseable_occurred_at: 1 row(s), values such as '199701'" in output


def test_a_txt_file_without_a_format_fails_naming_the_format_setting(tmp_path: Path) -> None:
    path = write_orders(tmp_path / "export")
    dbt_vars = {**ORDERS_VARS, "northstar__raw_events_path": str(path)}
    del dbt_vars["northstar__raw_events_reader"]
    result = run_dbt(
        ["run", "--select", "stg_northstar_raw__events_classified"], tmp_path, dbt_vars
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert (
        f"cannot tell the format of the raw events at northstar__raw_events_path = '{path}'"
        in output
    )
    assert "Set the format in var northstar__raw_events_reader, e.g. {format: csv}" in output
    assert "Expected Parquet" not in output
    assert "START sql" not in output  # the on-run-start check stopped it


# --- NDJSON: an expression for the name, epoch digits, a formatted local timestamp --------

NDJSON_ROWS = [
    # 10 digits: epoch seconds; received in Paris local time with its own format.
    {"id": "n1", "ts": 1709287200, "status": "Paid", "acct": "a1", "user": "u1",
     "received": "01/03/2024 11:00:05", "props": {"plan": "pro"}},
    # 13 digits: epoch milliseconds, as text.
    {"id": "n2", "ts": "1709287200123", "status": "refunded", "acct": "a1", "user": "u2",
     "received": "01/03/2024 11:00:06"},
    # 11 digits: neither; with a received_at that does not match its format (kept null).
    {"id": "n3", "ts": "17092872001", "status": "paid", "acct": "a2", "user": "u3",
     "received": "2024-03-01 11:00:06"},
]  # fmt: skip

NDJSON_VARS = {
    "northstar__raw_event_columns": {
        "event_id": "id",
        "occurred_at": "ts",
        "event_name": {"sql": "'order_' || status"},
        "account_id": "acct",
        "user_id": "user",
        "received_at": {
            "column": "received",
            "format": "%d/%m/%Y %H:%M:%S",
            "time_zone": "Europe/Paris",
        },
        "properties": "props",
    },
    "northstar__start_date": "2024-01-01",
    "northstar__as_of": "2024-06-30T00:00:00Z",
    "northstar__reject_unknown_events": False,
}


@pytest.fixture(scope="module")
def ndjson(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("ndjson")
    path = workdir / "export" / "events.ndjson"
    path.parent.mkdir()
    path.write_text("".join(json.dumps(row) + "\n" for row in NDJSON_ROWS))
    result = run_dbt(STAGING, workdir, {**NDJSON_VARS, "northstar__raw_events_path": str(path)})
    assert_dbt_ok(result)
    return workdir / "warehouse.duckdb"


def test_ndjson_events_map_by_configuration(ndjson: Path) -> None:
    ten = dt.datetime(2024, 3, 1, 10, 0)
    rows = query(
        ndjson,
        "select event_id, event_name, occurred_at, received_at, user_id, properties "
        "from staging.stg_events order by 1",
    )
    assert rows == [
        ("n1", "order_paid", ten, ten + dt.timedelta(seconds=5), "u1", '{"plan":"pro"}'),
        (
            "n2",
            "order_refunded",
            ten + dt.timedelta(milliseconds=123),
            ten + dt.timedelta(seconds=6),
            "u2",
            "{}",
        ),
    ]
    assert query(
        ndjson,
        "select raw_event_id, raw_occurred_at, reject_reason from staging.stg_events_rejected",
    ) == [("n3", "17092872001", "unparseable_occurred_at")]


def test_a_bad_mapping_fails_naming_the_key(tmp_path: Path) -> None:
    """Settings are checked before anything is read: the var and the key are named."""
    dbt_vars = {
        **NDJSON_VARS,
        "northstar__raw_event_columns": {
            **NDJSON_VARS["northstar__raw_event_columns"],
            "event_name": {"sql": "status; drop table x"},
        },
    }
    result = run_dbt(["parse"], tmp_path, dbt_vars)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "northstar__raw_event_columns.event_name.sql must be one SQL expression" in output


def test_configured_format_reads_csv_under_any_name(tmp_path: Path) -> None:
    """The extension is only a default: a ';'-separated file named .dat reads as CSV."""
    path = tmp_path / "export" / "events.dat"
    path.parent.mkdir()
    path.write_text(
        "id;when;what;team\n"
        "d1;2024-03-01T10:00:00Z;Message Sent;t1\n"
        "d2;2024-03-02T10:00:00Z;message_sent;t1\n"
    )
    dbt_vars = {
        "northstar__raw_events_path": str(path),
        "northstar__raw_events_reader": {"format": "csv", "delimiter": ";", "header": True},
        "northstar__raw_event_columns": {
            "event_id": "id",
            "occurred_at": "when",
            "event_name": "what",
            "account_id": "team",
        },
        "northstar__as_of": "2024-06-30T00:00:00Z",
        "northstar__start_date": "2024-01-01",
    }
    result = run_dbt(["run", "--select", "+stg_events"], tmp_path, dbt_vars)
    assert_dbt_ok(result)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        rows = con.sql("select event_id, event_name from staging.stg_events order by 1").fetchall()
    assert rows == [("d1", "message_sent"), ("d2", "message_sent")]


# --- a warehouse table: the same settings as for files ----------------------------------


def test_a_source_table_maps_by_configuration_too(tmp_path: Path) -> None:
    """A typed table without an event id or a JSON column: derived ids (an exact copy is a
    duplicate), a name from an expression, properties from typed columns, local dates."""
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema shop")
        con.execute(
            """
            create table shop.orders as
            select * from (values
                ('c1', date '2024-03-01', 'PAID', 49.5::double, 2),
                ('c1', date '2024-03-01', 'PAID', 49.5::double, 2),
                ('c2', date '2024-03-02', 'refunded', 10.0::double, 1)
            ) as t (customer, ordered_on, status, total, items)
            """
        )
    dbt_vars = {
        "northstar__raw_events_path": "",
        "northstar__raw_accounts_path": "",
        "northstar__raw_users_path": "",
        "northstar__raw_schema": "shop",
        "northstar__raw_events_table": "orders",
        "northstar__raw_event_columns": {
            "event_id": None,
            "event_name": {"sql": "'order_' || status"},
            "occurred_at": {"column": "ordered_on", "time_zone": "Asia/Tokyo"},
            "account_id": "customer",
            "properties": {"columns": {"total": {"column": "total", "type": "number"}}},
        },
        "northstar__reject_unknown_events": False,
        "northstar__start_date": "2024-01-01",
        "northstar__as_of": "2024-06-30T00:00:00Z",
    }
    result = run_dbt(STAGING, tmp_path, dbt_vars)
    assert_dbt_ok(result)
    rows = query(
        warehouse,
        "select account_id, event_name, occurred_at, properties from staging.stg_events order by 1",
    )
    assert rows == [
        ("c1", "order_paid", dt.datetime(2024, 2, 29, 15, 0), '{"total":49.5}'),
        ("c2", "order_refunded", dt.datetime(2024, 3, 1, 15, 0), '{"total":10.0}'),
    ]
    assert query(warehouse, "select count(*) from staging.stg_events_duplicates") == [(1,)]
