"""The one reader of "the latest complete period" (northstar/latest.py), on a hand-built
table whose metrics complete at different periods, with periods in progress, a stale
incomplete row, a null completeness flag and segments that run ahead of the total."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from northstar.latest import by_metric, read_latest

# metric, grain, period_start, segment_name, segment_value, is_complete_period
ROWS = [
    # steady: complete to 09-21, 09-28 in progress
    ("steady", "week", "2026-09-07", "all", "all", True),
    ("steady", "week", "2026-09-14", "all", "all", True),
    ("steady", "week", "2026-09-21", "all", "all", True),
    ("steady", "week", "2026-09-28", "all", "all", False),
    ("steady", "month", "2026-08-01", "all", "all", True),
    ("steady", "month", "2026-09-01", "all", "all", False),
    # a segment that is complete later than the total: never the total's period
    ("steady", "week", "2026-09-21", "plan", "pro", True),
    ("steady", "week", "2026-09-28", "plan", "pro", True),
    ("steady", "week", "2026-09-14", "plan", "free", True),
    ("steady", "week", "2026-09-21", "plan", "free", False),
    # a cohort metric: complete to 09-14 only; two periods still maturing
    ("cohort", "week", "2026-09-07", "all", "all", True),
    ("cohort", "week", "2026-09-14", "all", "all", True),
    ("cohort", "week", "2026-09-21", "all", "all", False),
    ("cohort", "week", "2026-09-28", "all", "all", False),
    # nothing complete yet
    ("young", "week", "2026-09-28", "all", "all", False),
    # an incomplete row older than the complete one is not the period in progress; a null
    # flag is not complete
    ("stale", "week", "2026-09-07", "all", "all", False),
    ("stale", "week", "2026-09-14", "all", "all", True),
    ("stale", "week", "2026-09-21", "all", "all", None),
]


@pytest.fixture(scope="module")
def con():
    con = duckdb.connect()
    con.execute(
        "create table fct_metric_values (metric_name varchar, grain varchar, "
        "period_start date, segment_name varchar, segment_value varchar, "
        "is_complete_period boolean, value double)"
    )
    for index, row in enumerate(ROWS):
        con.execute("insert into fct_metric_values values (?, ?, ?, ?, ?, ?, ?)", [*row, index])
    con.execute("create schema marts")
    con.execute("create table marts.fct_metric_values as select * from fct_metric_values")
    yield con
    con.close()


def periods(rows) -> list[tuple]:
    return [
        (
            row["metric_name"],
            row["grain"],
            row["segment_value"],
            row["period_start"].isoformat(),
            row["is_complete_period"],
        )
        for row in rows
    ]


def test_each_metric_reads_its_own_latest_complete_period(con) -> None:
    assert periods(read_latest(con, grain="week")) == [
        ("cohort", "week", "all", "2026-09-14", True),
        ("stale", "week", "all", "2026-09-14", True),
        ("steady", "week", "all", "2026-09-21", True),
    ]


def test_the_whole_row_comes_back(con) -> None:
    [row] = read_latest(con, grain="week", metrics=["steady"])
    assert row["value"] == ROWS.index(("steady", "week", "2026-09-21", "all", "all", True))
    assert set(row) == {
        "metric_name",
        "grain",
        "period_start",
        "segment_name",
        "segment_value",
        "is_complete_period",
        "value",
    }


def test_every_grain_unless_one_is_asked_for(con) -> None:
    assert periods(read_latest(con, metrics=["steady"])) == [
        ("steady", "month", "all", "2026-08-01", True),
        ("steady", "week", "all", "2026-09-21", True),
    ]


def test_segments_only_when_asked_and_each_its_own(con) -> None:
    assert periods(read_latest(con, grain="week", metrics=["steady"], every_segment=True)) == [
        ("steady", "week", "all", "2026-09-21", True),
        ("steady", "week", "free", "2026-09-14", True),
        ("steady", "week", "pro", "2026-09-28", True),
    ]


def test_the_period_in_progress_only_when_newer_than_the_latest_complete(con) -> None:
    assert periods(read_latest(con, grain="week", with_current=True)) == [
        ("cohort", "week", "all", "2026-09-14", True),
        ("cohort", "week", "all", "2026-09-28", False),  # the newest, not 09-21
        ("stale", "week", "all", "2026-09-14", True),  # not its older 09-07, nor the null
        ("steady", "week", "all", "2026-09-21", True),
        ("steady", "week", "all", "2026-09-28", False),
        ("young", "week", "all", "2026-09-28", False),  # nothing complete: in progress alone
    ]


def test_up_to_and_several_periods(con) -> None:
    assert periods(read_latest(con, grain="week", up_to=date(2026, 9, 14))) == [
        ("cohort", "week", "all", "2026-09-14", True),
        ("stale", "week", "all", "2026-09-14", True),
        ("steady", "week", "all", "2026-09-14", True),
    ]
    assert periods(read_latest(con, grain="week", metrics=["steady", "cohort"], periods=2)) == [
        ("cohort", "week", "all", "2026-09-07", True),
        ("cohort", "week", "all", "2026-09-14", True),
        ("steady", "week", "all", "2026-09-14", True),
        ("steady", "week", "all", "2026-09-21", True),
    ]
    latest = by_metric(read_latest(con, grain="week", periods=2))
    assert {name: row["period_start"].isoformat() for name, row in latest.items()} == {
        "cohort": "2026-09-14",
        "stale": "2026-09-14",
        "steady": "2026-09-21",
    }


def test_no_metrics_no_rows_and_tables_are_checked(con) -> None:
    assert read_latest(con, metrics=[]) == []
    assert read_latest(con, grain="week", metrics=["young"]) == []
    qualified = read_latest(con, grain="week", table="marts.fct_metric_values")
    assert periods(qualified) == periods(read_latest(con, grain="week"))
    for table in ("fct_metric_values; drop table x", "a.b.c", '"quoted"'):
        with pytest.raises(ValueError, match="not a table name"):
            read_latest(con, table=table)
    with pytest.raises(ValueError, match="periods"):
        read_latest(con, periods=0)


def test_the_reporting_view_is_the_same_definition(demo) -> None:
    """rpt_metric_latest (dbt, for BI tools) and the reader agree on the demo build."""
    with duckdb.connect(str(demo.warehouse), read_only=True) as con:
        view = con.execute(
            "select metric_name, grain, period_start, value, status from marts.rpt_metric_latest"
        ).fetchall()
        rows = read_latest(con, table="marts.fct_metric_values")
    reader = [
        (r["metric_name"], r["grain"], r["period_start"], r["value"], r["status"]) for r in rows
    ]
    assert len(reader) > 10
    # the demo has metrics whose latest complete weeks differ (cohorts complete later)
    weeks = {r["period_start"] for r in rows if r["grain"] == "week"}
    assert len(weeks) > 1
    assert sorted(view, key=repr) == sorted(reader, key=repr)
