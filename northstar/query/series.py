"""`northstar query`: one metric's series from the snapshot, by grain, segment and dates.

Every name the user types (metric, grain, segment name and value) is checked against the
values the snapshot actually holds before the query runs, and reaches SQL only as a bound
parameter: nothing typed is ever pasted into a statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from northstar.errors import InvalidInputError, NotFoundError
from northstar.query.catalog import Catalog, rows_as_dicts, shown
from northstar.query.formats import (
    MISSING,
    fmt_change,
    fmt_on_pace,
    fmt_value,
    plain,
    render_csv,
    render_json,
    render_table,
)

DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FORMATS = ("table", "csv", "json")
COLUMNS = (
    "metric_name",
    "grain",
    "period_start",
    "period_end",
    "segment_name",
    "segment_value",
    "value",
    "numerator",
    "denominator",
    "previous_value",
    "change_abs",
    "change_pct",
    "target",
    "gap_to_target",
    "target_kind",
    "target_goal",
    "target_deadline",
    "is_on_pace",
    "status",
    "is_complete_period",
    "definition_version",
)


def parse_date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        if not DATE_PATTERN.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(
            f"{option}: {shown(text)} is not a date; use YYYY-MM-DD, e.g. 2026-09-21"
        ) from None


def parse_segment(text: str | None) -> tuple[str, str | None]:
    """`plan` -> every plan value; `plan=pro` -> one value; none -> the 'all' total."""
    if text is None:
        return "all", "all"
    name, sep, value = text.partition("=")
    if not name:
        raise InvalidInputError(f"--segment: {shown(text)}: use NAME or NAME=VALUE, e.g. plan=pro")
    return name, (value if sep else None)


@dataclass(frozen=True)
class Series:
    metric: dict[str, Any]
    grain: str
    segment_name: str
    segment_value: str | None
    rows: list[dict[str, Any]] = field(repr=False)


def _one_of(kind: str, value: str, allowed: list[str], hint: str) -> str:
    if value not in allowed:
        choices = ", ".join(sorted(allowed)) or "none"
        raise NotFoundError(f"unknown {kind} {shown(value)}: {hint} has {choices}")
    return value


VALUES_TABLE = "fct_metric_values"
HISTORY_TABLE = "fct_metric_values_history"  # earlier definition_versions (publish-made)
VERSION_PATTERN = re.compile(r"^[1-9][0-9]{0,8}$")


def _source(
    con: duckdb.DuckDBPyConnection, definition: dict[str, Any], version: str | None
) -> tuple[str, str | None]:
    """(table, definition_version to filter on): the current values, or an earlier
    version's from the history a definition_version bump keeps."""
    if version is None or version == str(definition.get("definition_version")):
        return VALUES_TABLE, None
    if not VERSION_PATTERN.fullmatch(version):
        raise InvalidInputError(
            f"--definition-version: {shown(version)} is not a version; use 1, 2, ..."
        )
    metric = definition["metric_name"]
    has_history = con.execute(
        "select count(*) from duckdb_tables() where table_name = ?", [HISTORY_TABLE]
    ).fetchall()[0][0]
    kept = []
    if has_history:
        kept = [
            row[0]
            for row in con.execute(
                f"select distinct definition_version from {HISTORY_TABLE} "  # noqa: S608
                "where metric_name = ? order by 1",
                [metric],
            ).fetchall()
        ]
    current = definition.get("definition_version")
    _one_of(
        "definition_version",
        version,
        [*kept, str(current)],
        f"metric {metric} (current version {current}) in this snapshot",
    )
    return HISTORY_TABLE, version


def query_series(
    con: duckdb.DuckDBPyConnection,
    metric: str,
    *,
    grain: str = "week",
    segment: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    complete_only: bool = False,
    definition_version: str | None = None,
) -> Series:
    start = parse_date(date_from, "--from")
    end = parse_date(date_to, "--to")
    if start and end and start > end:
        raise InvalidInputError(f"--from {start} is after --to {end}")
    segment_name, segment_value = parse_segment(segment)
    definition = Catalog.load(con).get(metric)
    # The table is one of two constants; every user value below is a bound parameter.
    table, version = _source(con, definition, definition_version)
    of_version = "($version is null or definition_version = $version)"

    def distinct(column: str, where: str, params: dict[str, Any]) -> list[Any]:
        sql = f"select distinct {column} from {table} where {where} and {of_version}"  # noqa: S608
        return [row[0] for row in con.execute(sql, {**params, "version": version}).fetchall()]

    grains = distinct("grain", "metric_name = $metric", {"metric": metric})
    _one_of("grain", grain, grains, f"metric {metric}")
    segments = distinct(
        "segment_name",
        "metric_name = $metric and grain = $grain",
        {"metric": metric, "grain": grain},
    )
    _one_of("segment", segment_name, segments, f"metric {metric} at grain {grain}")
    if segment_value is not None:
        values = distinct(
            "segment_value",
            "metric_name = $metric and grain = $grain and segment_name = $segment_name",
            {"metric": metric, "grain": grain, "segment_name": segment_name},
        )
        _one_of("segment value", segment_value, values, f"segment {segment_name}")

    # A snapshot published before a column existed still answers: null in its place.
    present = {column[0] for column in con.execute(f"select * from {table} limit 0").description}  # noqa: S608
    selected = ", ".join(c if c in present else f"null as {c}" for c in COLUMNS)
    cursor = con.execute(
        f"""
        select {selected}
        from {table}
        where metric_name = $metric
            and {of_version}
            and grain = $grain
            and segment_name = $segment_name
            and ($segment_value is null or segment_value = $segment_value)
            and ($start is null or period_start >= $start)
            and ($end is null or period_start <= $end)
            and (not $complete_only or is_complete_period)
        order by period_start, segment_value
        """,  # noqa: S608 (COLUMNS is a constant; every user value is a bound parameter)
        {
            "metric": metric,
            "grain": grain,
            "segment_name": segment_name,
            "segment_value": segment_value,
            "start": start,
            "end": end,
            "complete_only": complete_only,
            "version": version,
        },
    )
    return Series(definition, grain, segment_name, segment_value, rows_as_dicts(cursor))


def series_payload(series: Series) -> dict[str, Any]:
    """The series as JSON-ready data: `query --format json` and `serve`'s /api/series."""
    return {
        "metric": series.metric["metric_name"],
        "label": series.metric["label"],
        "unit": series.metric["unit"],
        "grain": series.grain,
        "segment_name": series.segment_name,
        "segment_value": series.segment_value,
        "rows": [{key: plain(row[key]) for key in COLUMNS} for row in series.rows],
    }


def render(series: Series, fmt: str) -> str:
    if fmt == "json":
        return render_json(series_payload(series))
    if fmt == "csv":
        return render_csv(COLUMNS, [[row[key] for key in COLUMNS] for row in series.rows])
    unit = series.metric.get("unit")
    by_segment = series.segment_name != "all"
    headers = [
        "period_start",
        *(["segment"] if by_segment else []),
        "value",
        "previous",
        "change",
        "target",
        "on pace",
        "status",
        "complete",
    ]
    rows = []
    for row in series.rows:
        complete = bool(row["is_complete_period"])
        rows.append(
            [
                plain(row["period_start"]),
                *([str(row["segment_value"])] if by_segment else []),
                fmt_value(row["value"], unit),
                fmt_value(row["previous_value"], unit) if complete else MISSING,
                fmt_change(row["change_abs"], row["change_pct"], unit),
                fmt_value(row["target"], unit),
                fmt_on_pace(row["is_on_pace"]),
                row["status"] or MISSING,
                "yes" if complete else "no (partial)",
            ]
        )
    title = f"{series.metric['label']} ({series.metric['metric_name']}), by {series.grain}"
    if by_segment:
        title += f", segment {series.segment_name}"
        if series.segment_value is not None:
            title += f"={series.segment_value}"
    deadlines = {(row["target_goal"], row["target_deadline"]) for row in series.rows}
    for goal, deadline in sorted(d for d in deadlines if d[1] is not None):
        title += f"; time-bound target {fmt_value(goal, unit)} by {plain(deadline)}"
    if not rows:
        return title + "\nno rows match"
    return title + "\n" + render_table(headers, rows)
