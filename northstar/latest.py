"""The latest complete period of each metric: the one reader behind `northstar alerts`,
the digest, `northstar metrics` and the validation gate's guardrail report.

"Latest complete" is defined here and nowhere else in Python: a series is the rows of
`fct_metric_values` of one metric, grain and segment; its latest complete period is its
row with the greatest `period_start` among those whose `is_complete_period` is true (a
null is not complete). Every series has its own: a cohort metric that completes later is
read at its own last complete period, never at a partial one, and never at another
metric's. The period in progress is a separate thing, returned only when asked for: the
newest incomplete row of a series, when it is newer than the series' latest complete one.

The dbt view `rpt_metric_latest` is the same definition in SQL for BI tools (every
grain, the total segment); tests/python/test_latest.py checks that the two agree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

import duckdb

METRIC_VALUES = "fct_metric_values"
SERIES = "metric_name, grain, segment_name, segment_value"
TOTAL = "segment_name = 'all' and segment_value = 'all'"
_TABLE = re.compile(r"^([a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]*$")


def read_latest(
    con: duckdb.DuckDBPyConnection,
    *,
    grain: str | None = None,
    metrics: Sequence[str] | None = None,
    every_segment: bool = False,
    up_to: date | None = None,
    periods: int = 1,
    with_current: bool = False,
    table: str = METRIC_VALUES,
) -> list[dict[str, Any]]:
    """The rows of each series' latest complete period, ordered by series then period.

    `grain` and `metrics` narrow the series (default: every grain, every metric); only the
    total segment ('all'/'all') unless `every_segment`. `up_to` reads the table as if it
    ended at that period_start; `periods` returns the latest n complete periods instead
    of one; `with_current` adds the period in progress. `table` is the relation to read
    (the snapshot's `fct_metric_values`, or `marts.fct_metric_values` in a warehouse).
    """
    if not _TABLE.match(table):
        raise ValueError(f"not a table name: {table!r}")
    if periods < 1:
        raise ValueError(f"periods must be at least 1, not {periods}")
    if metrics is not None and not metrics:
        return []
    filters, params = ["true"], []
    if grain is not None:
        filters.append("grain = ?")
        params.append(grain)
    if metrics is not None:
        filters.append("list_contains(?, metric_name)")
        params.append(list(metrics))
    if not every_segment:
        filters.append(TOTAL)
    if up_to is not None:
        filters.append("period_start <= ?")
        params.append(up_to)
    cursor = con.execute(
        f"""
        with candidates as (
            select *,
                row_number() over (
                    partition by {SERIES}, is_complete_period order by period_start desc
                ) as _recency,
                max(case when is_complete_period then period_start end) over (
                    partition by {SERIES}
                ) as _latest_complete
            from {table}
            where {" and ".join(filters)}
        )
        select * exclude (_recency, _latest_complete) from candidates
        where (is_complete_period and _recency <= ?)
            or (? and not is_complete_period and _recency = 1
                and (_latest_complete is null or period_start > _latest_complete))
        order by {SERIES}, period_start
        """,  # noqa: S608 (a checked table name and fixed text; values are bound)
        [*params, periods, with_current],
    )
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def by_metric(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """metric_name -> its latest complete row, from rows of one grain and segment read
    without `with_current` (rows come oldest first, so the last one of a metric wins)."""
    return {row["metric_name"]: row for row in rows}
