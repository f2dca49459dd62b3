"""The DataFrames the suites run on: a table as it is, or a view derived from it in pandas.

Some rules are about relations between rows (consecutive periods, change versus the
previous period, a day versus its history) or between tables (a metric's role in the
catalog). Great Expectations' built-in expectations test one row at a time, so each such
rule gets a derived column computed here, and the suite holds the plain expectation on
that column ("periods_since_previous is exactly 1"). A suite's JSON names its frame and
the frame's parameters (`meta.northstar.frame`, `meta.northstar.params`); this module is
the only code between the warehouse and the suite. docs/validation.md lists every frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from northstar.validation.warehouse import Warehouse

DIM_METRICS = "marts.dim_metrics"
METRIC_VALUES = "marts.fct_metric_values"
AHA_MOMENTS = "marts.fct_aha_moments"
EVENT_QUALITY = "marts.fct_event_quality_daily"
ACCEPTED_EVENTS = "staging.stg_events"
DUPLICATE_EVENTS = "staging.stg_events_duplicates"
REJECTED_EVENTS = "staging.stg_events_rejected"

# The quality mart's columns (models/marts/quality/, staging owner). Named once here.
QUALITY_DAY = "event_date"
QUALITY_RAW = "raw_rows"
QUALITY_ACCEPTED = "accepted_rows"
QUALITY_DUPLICATES = "duplicate_rows"
QUALITY_REJECTED = "rejected_rows"

SERIES_KEYS = ["metric_name", "grain", "segment_name", "segment_value"]
NUMBER_COLUMNS = ("value", "numerator", "denominator")
# What a number column holds in a row, as metric_numbers reports it.
NUMBER, NULL, NAN, PLUS_INF, MINUS_INF = "number", "null", "nan", "+inf", "-inf"
GRAIN_KEYS = ("metric_name", "grain", "period_start", "segment_name", "segment_value")


@dataclass(frozen=True)
class RunContext:
    """What a frame may know besides the tables: the reference date for "fresh"."""

    as_of: date


@dataclass(frozen=True)
class Frame:
    reads: tuple[str, ...]  # must exist and hold rows
    build: Callable[[Warehouse, dict[str, Any], RunContext], pd.DataFrame]
    doc: str
    keys: tuple[str, ...]  # columns that name a row in a failure message
    may_be_empty: tuple[str, ...] = ()  # must exist; no rows is a valid state

    @property
    def tables(self) -> tuple[str, ...]:
        return self.reads + self.may_be_empty


def _period_index(starts: pd.Series, grains: pd.Series) -> pd.Series:
    """Periods counted from a fixed origin, so consecutive periods differ by exactly 1.

    A start that is not on its grain's boundary (a Tuesday for an ISO week, the 2nd for a
    month) gets a fractional index, so it also fails the "exactly 1" expectations.
    """
    days = (starts - pd.Timestamp("1970-01-05")).dt.days.astype("float64")  # a Monday
    months = (starts.dt.year * 12 + starts.dt.month - 1).astype("float64")
    months = months + (starts.dt.day - 1) / 31.0
    index = pd.Series(float("nan"), index=starts.index)
    index = index.mask(grains == "day", days)
    index = index.mask(grains == "week", days / 7.0)
    return index.mask(grains == "month", months)


def table_as_is(name: str) -> Callable[[Warehouse, dict[str, Any], RunContext], pd.DataFrame]:
    def build(warehouse: Warehouse, params: dict[str, Any], run: RunContext) -> pd.DataFrame:
        return warehouse.table(name)

    return build


def _threshold_text(value: Any) -> str:
    return "none" if value is None or pd.isna(value) else f"{float(value):.12g}"


def metric_signature(
    name: str, role: str, direction: str, warn: float | None, breach: float | None
) -> str:
    """One comparable string per catalog row: what the spec declares about a metric's
    place and health rule. The suite generator writes the spec's signatures with this
    same function, so both sides format numbers alike."""
    return (
        f"{name}:{role}:{direction}:warn={_threshold_text(warn)}:breach={_threshold_text(breach)}"
    )


def dim_metrics(warehouse: Warehouse, params: dict[str, Any], run: RunContext) -> pd.DataFrame:
    frame = warehouse.table(DIM_METRICS).copy()
    signature = ["metric_name", "role", "direction", "warn_threshold", "breach_threshold"]
    warehouse.table(DIM_METRICS, signature)  # fails plainly if the contract is broken
    frame["metric_signature"] = [
        metric_signature(*row) for row in frame[signature].itertuples(index=False)
    ]
    return frame


def metric_values_spine(
    warehouse: Warehouse, params: dict[str, Any], run: RunContext
) -> pd.DataFrame:
    columns = [*SERIES_KEYS, "period_start", "period_end"]
    frame = warehouse.table(METRIC_VALUES, columns)
    starts = pd.to_datetime(frame["period_start"])
    ends = pd.to_datetime(frame["period_end"])
    frame["period_index"] = _period_index(starts, frame["grain"])
    frame["period_length_in_grains"] = _period_index(ends, frame["grain"]) - frame["period_index"]
    frame = frame.sort_values([*SERIES_KEYS, "period_index"], kind="stable")
    series = frame.groupby(SERIES_KEYS, dropna=False, sort=False)["period_index"]
    frame["periods_since_previous"] = series.diff()
    # the tail of each series must reach the latest period of its grain: a series that
    # stops early has a missing period that no gap inside it would show
    latest_of_grain = frame.groupby("grain")["period_index"].transform("max")
    is_last = series.transform("max") == frame["period_index"]
    frame["periods_behind_latest"] = (latest_of_grain - frame["period_index"]).where(is_last)
    return frame.reset_index(drop=True)


def metric_status(warehouse: Warehouse, params: dict[str, Any], run: RunContext) -> pd.DataFrame:
    """fct_metric_values' status next to the status its value and thresholds give.

    The thresholds come from the suite (params.thresholds, generated from the spec), so a
    moved threshold is a reviewed change to the suite file. Reaching a threshold counts:
    a lower-is-better value equal to its breach threshold is a breach.
    """
    columns = [*GRAIN_KEYS, "value", "status"]
    frame = warehouse.table(METRIC_VALUES, columns)
    expected = pd.Series("none", index=frame.index, dtype="object")
    for name, rule in (params.get("thresholds") or {}).items():
        rows = (
            (frame["metric_name"] == name)
            & frame["grain"].isin(rule["status_grains"])
            & frame["value"].notna()
        )
        expected = expected.mask(rows, "ok")
        # warn first, so that breach wins where both are reached; a missing threshold
        # (a metric with only one) is never reached
        for status in ("warn", "breach"):
            if rule.get(status) is None:
                continue
            if rule["direction"] == "lower_is_better":
                reached = frame["value"] >= rule[status]
            else:
                reached = frame["value"] <= rule[status]
            expected = expected.mask(rows & reached, status)
    frame["expected_status"] = expected
    return frame


def metric_numbers(warehouse: Warehouse, params: dict[str, Any], run: RunContext) -> pd.DataFrame:
    """fct_metric_values' keys and numbers with `<column>_kind` for value, numerator and
    denominator: number, null, nan, +inf or -inf.

    A range expectation skips NULL and NaN alike and +inf has no upper bound to break, so
    each of these passed the gate (issue 9); the suite says where each kind is allowed.
    """
    frame = warehouse.table_with_null_flags(
        METRIC_VALUES, [*GRAIN_KEYS, *NUMBER_COLUMNS], list(NUMBER_COLUMNS)
    )
    for column in NUMBER_COLUMNS:
        numbers = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        is_null = frame.pop(f"{column}__is_null").astype(bool)
        kind = pd.Series(NUMBER, index=frame.index, dtype="object")
        kind = kind.mask(numbers == float("inf"), PLUS_INF)
        kind = kind.mask(numbers == float("-inf"), MINUS_INF)
        kind = kind.mask(numbers.isna() & ~is_null, NAN)
        frame[f"{column}_kind"] = kind.mask(is_null, NULL)
    return frame


def metric_values_catalog(
    warehouse: Warehouse, params: dict[str, Any], run: RunContext
) -> pd.DataFrame:
    values = warehouse.table(METRIC_VALUES, ["metric_name", "role"]).drop_duplicates()
    catalog = warehouse.table(DIM_METRICS, ["metric_name", "role"]).rename(
        columns={"role": "catalog_role"}
    )
    frame = values.merge(catalog, on="metric_name", how="left")
    frame["in_catalog"] = frame["catalog_role"].notna()
    return frame.sort_values(["metric_name", "role"]).reset_index(drop=True)


def north_star_changes(
    warehouse: Warehouse, params: dict[str, Any], run: RunContext
) -> pd.DataFrame:
    values = warehouse.table(
        METRIC_VALUES,
        [*GRAIN_KEYS, "value", "is_complete_period"],
    )
    frame = values[
        (values["metric_name"] == params["metric_name"])
        & (values["segment_name"] == "all")
        & (values["segment_value"] == "all")
        & (values["is_complete_period"].fillna(False).astype(bool))
    ][["metric_name", "grain", "period_start", "value"]].copy()
    frame = frame.sort_values(["grain", "period_start"], kind="stable")
    by_grain = frame.groupby("grain")
    previous = by_grain["value"].shift()
    frame["previous_complete_value"] = previous
    # Recomputed from `value` rather than read from change_pct: a corrupted value must
    # not hide behind a change column computed before it was corrupted. A move from 0
    # has no relative size; it stays null, as change_pct does in the tables. So does the
    # move out of a warm-up period (settings.nsm_change_warmup_periods).
    usable = (previous != 0) & (by_grain.cumcount() > int(params.get("warmup_periods", 0)))
    frame["change_vs_previous_complete"] = (frame["value"] - previous) / previous.abs().where(
        usable
    )
    return frame.reset_index(drop=True)


def metric_values_freshness(
    warehouse: Warehouse, params: dict[str, Any], run: RunContext
) -> pd.DataFrame:
    values = warehouse.table(METRIC_VALUES, ["grain", "period_end"])
    frame = (
        values.assign(period_end=pd.to_datetime(values["period_end"]))
        .groupby("grain", as_index=False)["period_end"]
        .max()
        .rename(columns={"period_end": "latest_period_end"})
    )
    reference = pd.Timestamp(run.as_of)
    frame["reference_date"] = reference
    # negative while the latest period is still running
    frame["days_since_latest_period_end"] = (reference - frame["latest_period_end"]).dt.days
    return frame


def event_volume(warehouse: Warehouse, params: dict[str, Any], run: RunContext) -> pd.DataFrame:
    table = warehouse.table(EVENT_QUALITY, [QUALITY_DAY, QUALITY_ACCEPTED])
    # Only days with accepted events: a day of rejects alone is not a volume, and no date at
    # all is no day to compare.
    dated = table[table[QUALITY_DAY].notna() & (table[QUALITY_ACCEPTED] > 0)]
    dated = dated[[QUALITY_DAY, QUALITY_ACCEPTED]].copy()
    dated[QUALITY_DAY] = pd.to_datetime(dated[QUALITY_DAY])
    if dated.empty:  # nothing accepted at all: the reconciliation suite names the empty table
        return dated.assign(day_missing_from_mart=False, volume_ratio=float("nan"))
    # A day with no row at all is the worst volume drop there is: add it with 0 accepted
    # rows so the band sees it.
    calendar = pd.DataFrame(
        {QUALITY_DAY: pd.date_range(dated[QUALITY_DAY].min(), dated[QUALITY_DAY].max())}
    )
    frame = calendar.merge(dated, on=QUALITY_DAY, how="left")
    frame["day_missing_from_mart"] = frame[QUALITY_ACCEPTED].isna()
    frame[QUALITY_ACCEPTED] = frame[QUALITY_ACCEPTED].fillna(0)
    frame["volume_ratio"] = _volume_ratio(frame, int(params["history_weeks"]))
    return frame


def event_reconciliation(
    warehouse: Warehouse, params: dict[str, Any], run: RunContext
) -> pd.DataFrame:
    """One row: raw rows per the quality mart against the rows in the staging tables.

    dbt already tests raw = accepted + duplicates + rejected on each row of the mart; this
    checks the mart against the tables it summarizes, so a mart built before a staging
    table changed (or a row lost between them) is caught before publishing.
    """
    quality = warehouse.table(
        EVENT_QUALITY, [QUALITY_RAW, QUALITY_ACCEPTED, QUALITY_DUPLICATES, QUALITY_REJECTED]
    )
    frame = pd.DataFrame(
        {
            "raw_rows_in_quality_mart": [int(quality[QUALITY_RAW].sum())],
            "accepted_rows": [warehouse.row_count(ACCEPTED_EVENTS)],
            "duplicate_rows": [warehouse.row_count(DUPLICATE_EVENTS)],
            "rejected_rows": [warehouse.row_count(REJECTED_EVENTS)],
        }
    )
    for column, source in (
        ("accepted_rows", QUALITY_ACCEPTED),
        ("duplicate_rows", QUALITY_DUPLICATES),
        ("rejected_rows", QUALITY_REJECTED),
    ):
        frame[f"{column}_in_quality_mart"] = int(quality[source].sum())
    frame["unreconciled_rows"] = frame["raw_rows_in_quality_mart"] - (
        frame["accepted_rows"] + frame["duplicate_rows"] + frame["rejected_rows"]
    )
    return frame


def _volume_ratio(frame: pd.DataFrame, history_weeks: int) -> pd.Series:
    """Accepted rows on a day / median of the same weekday over the previous weeks.

    `frame` has one row per calendar day, in order (so a shift by 7 rows is a week).
    Null where that history is incomplete (the first weeks), where it is all zero, and on
    the latest day, which is usually still arriving.
    """
    accepted = frame[QUALITY_ACCEPTED].astype("float64")
    history = pd.concat([accepted.shift(7 * week) for week in range(1, history_weeks + 1)], axis=1)
    median = history.median(axis=1, skipna=False)
    ratio = accepted / median.where(median > 0)
    return ratio.where(frame.index < frame.index.max())


FRAMES: dict[str, Frame] = {
    "dim_metrics": Frame(
        reads=(DIM_METRICS,),
        build=dim_metrics,
        doc="marts.dim_metrics plus metric_signature = "
        "'<metric_name>:<role>:<direction>:warn=<warn_threshold>:breach=<breach_threshold>'.",
        keys=("metric_name",),
    ),
    "fct_metric_values": Frame(
        reads=(METRIC_VALUES,),
        build=table_as_is(METRIC_VALUES),
        doc="marts.fct_metric_values as it is.",
        keys=GRAIN_KEYS,
    ),
    "metric_values_spine": Frame(
        reads=(METRIC_VALUES,),
        build=metric_values_spine,
        doc="One row per fct_metric_values row with periods_since_previous (periods since "
        "the previous row of the same metric, grain and segment), period_length_in_grains "
        "and, on each series' last row, periods_behind_latest (periods between it and the "
        "latest period of its grain).",
        keys=GRAIN_KEYS,
    ),
    "metric_status": Frame(
        reads=(METRIC_VALUES,),
        build=metric_status,
        doc="fct_metric_values' keys, value and status, with expected_status computed from "
        "value and the thresholds in the suite's params (direction, warn, breach, "
        "status_grains; reaching a threshold counts; none without a value, at other grains "
        "and for metrics without thresholds).",
        keys=(*GRAIN_KEYS, "value"),
    ),
    "metric_numbers": Frame(
        reads=(METRIC_VALUES,),
        build=metric_numbers,
        doc="fct_metric_values' keys, value, numerator and denominator, with value_kind, "
        "numerator_kind and denominator_kind: number, null, nan, +inf or -inf (NULL and NaN "
        "told apart by the database, which pandas cannot).",
        keys=GRAIN_KEYS,
    ),
    "metric_values_catalog": Frame(
        reads=(METRIC_VALUES, DIM_METRICS),
        build=metric_values_catalog,
        doc="Each distinct (metric_name, role) of fct_metric_values with its role in "
        "dim_metrics (catalog_role) and in_catalog.",
        keys=("metric_name",),
    ),
    "north_star_changes": Frame(
        reads=(METRIC_VALUES,),
        build=north_star_changes,
        doc="The North Star's complete periods, segment 'all', per grain, with "
        "change_vs_previous_complete recomputed from value (null out of the first "
        "warmup_periods periods and out of a 0).",
        keys=("grain", "period_start", "value", "previous_complete_value"),
    ),
    "metric_values_freshness": Frame(
        reads=(METRIC_VALUES,),
        build=metric_values_freshness,
        doc="One row per grain: latest_period_end and days_since_latest_period_end, counted "
        "from the reference date (--as-of, default today in UTC).",
        keys=("grain", "latest_period_end", "reference_date"),
    ),
    "fct_aha_moments": Frame(
        reads=(AHA_MOMENTS,),
        build=table_as_is(AHA_MOMENTS),
        doc="marts.fct_aha_moments as it is.",
        keys=("entity_type", "entity_id"),
    ),
    "event_volume": Frame(
        reads=(EVENT_QUALITY,),
        build=event_volume,
        doc="One row per calendar day of marts.fct_event_quality_daily (a day missing from "
        "the mart is added with 0 accepted rows) with volume_ratio = accepted rows / median "
        "of the same weekday over the previous history_weeks weeks; null without full "
        "history, and on the latest day, which may still be arriving.",
        keys=(QUALITY_DAY, QUALITY_ACCEPTED),
    ),
    "event_reconciliation": Frame(
        reads=(EVENT_QUALITY, ACCEPTED_EVENTS),
        build=event_reconciliation,
        doc="One row: raw rows in the quality mart, rows in stg_events, "
        "stg_events_duplicates and stg_events_rejected (and the mart's own totals of each), "
        "and unreconciled_rows = raw - (accepted + duplicates + rejected).",
        keys=(
            "raw_rows_in_quality_mart",
            "accepted_rows",
            "duplicate_rows",
            "rejected_rows",
        ),
        may_be_empty=(DUPLICATE_EVENTS, REJECTED_EVENTS),
    ),
}
