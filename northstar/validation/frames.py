"""The rows the suites run on: one DuckDB query per frame, run on the read-only warehouse.

Some rules are about relations between rows (change versus the previous complete period,
a day versus its history) or between a table and the spec (a status versus its
thresholds). Great Expectations' built-in expectations test one row at a time, so each
such rule gets a derived column computed here, in SQL, and the suite holds the plain
expectation on that column ("volume_ratio is within [0.5, 2]"). A suite's JSON names its
frame and the frame's parameters (`meta.northstar.frame`, `meta.northstar.params`); a
query reads them as `$name` (plus `$as_of`, the reference date). Rules that dbt's tests
already check on the same tables are not here (docs/validation.md, "Which layer checks
what").
"""

from __future__ import annotations

import json
import re
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
# Written by dbt's on-run-end hook (macros/utils/northstar_tested_marts.sql).
MART_CHECKS = "marts._northstar_mart_checks"

GRAIN_KEYS = ("metric_name", "grain", "period_start", "segment_name", "segment_value")
_PARAMETER = re.compile(r"\$([a-z_]+)")


@dataclass(frozen=True)
class RunContext:
    """What a frame may know besides the tables: the reference date for "fresh"."""

    as_of: date


@dataclass(frozen=True)
class Frame:
    sql: str
    doc: str
    keys: tuple[str, ...]  # columns that name a row in a failure message
    # table -> the contract columns the query reads; each table must exist and hold rows
    reads: dict[str, tuple[str, ...]]
    may_be_empty: tuple[str, ...] = ()  # must exist; no rows is a valid state

    @property
    def tables(self) -> tuple[str, ...]:
        return (*self.reads, *self.may_be_empty)


def _threshold_text(value: Any) -> str:
    return "none" if value is None or pd.isna(value) else f"{float(value):.12g}"


def metric_signature(
    name: str, role: str, direction: str, warn: float | None, breach: float | None
) -> str:
    """One comparable string per catalog row: what the spec declares about a metric's
    place and health rule. The generator writes the spec's side with this function; the
    dim_metrics frame builds the warehouse's side in SQL with the same format (%.12g)."""
    return (
        f"{name}:{role}:{direction}:warn={_threshold_text(warn)}:breach={_threshold_text(breach)}"
    )


DIM_METRICS_SQL = """
select
    *,
    coalesce(metric_name, 'null') || ':' || coalesce(role, 'null')
    || ':' || coalesce(direction, 'null')
    || ':warn=' || coalesce(printf('%.12g', warn_threshold), 'none')
    || ':breach=' || coalesce(printf('%.12g', breach_threshold), 'none') as metric_signature
from marts.dim_metrics
order by metric_name
"""

# $thresholds: {metric_name: {direction, warn, breach, status_grains}} from the spec.
# Reaching a threshold counts (a lower-is-better value equal to its breach line is a
# breach); breach is tested first so it wins where both are reached, and a threshold the
# metric does not have (null) is never reached.
METRIC_STATUS_SQL = """
with

thresholds as (
    select
        key as metric_name,
        value ->> 'direction' as direction,
        cast(value ->> 'warn' as double) as warn,
        cast(value ->> 'breach' as double) as breach,
        from_json(value -> 'status_grains', '["VARCHAR"]') as status_grains
    from json_each($thresholds)
),

metric_values as (
    select metric_name, grain, period_start, segment_name, segment_value, value, status
    from marts.fct_metric_values
)

select
    metric_values.*,
    case
        when
            thresholds.metric_name is null
            or metric_values.value is null
            or isnan(metric_values.value)
            or not list_contains(thresholds.status_grains, metric_values.grain)
            then 'none'
        when thresholds.direction = 'lower_is_better' and metric_values.value >= thresholds.breach
            then 'breach'
        when thresholds.direction <> 'lower_is_better' and metric_values.value <= thresholds.breach
            then 'breach'
        when thresholds.direction = 'lower_is_better' and metric_values.value >= thresholds.warn
            then 'warn'
        when thresholds.direction <> 'lower_is_better' and metric_values.value <= thresholds.warn
            then 'warn'
        else 'ok'
    end as expected_status
from metric_values
left join thresholds on metric_values.metric_name = thresholds.metric_name
order by metric_values.metric_name, metric_values.grain, metric_values.period_start,
    metric_values.segment_name, metric_values.segment_value
"""


def _robust_spread(column: str, floor: float) -> str:
    """SQL for a robust standard deviation of `column` over the window `past`: the larger of
    1.4826 x MAD and IQR / 1.349 (both estimate a normal sigma; MAD alone collapses to 0
    when most past values sit in one of two regimes, the IQR spans both), at least
    `floor`."""
    return f"""greatest(
            1.4826 * mad({column}) over past,
            (
                quantile_cont({column}, 0.75) over past
                - quantile_cont({column}, 0.25) over past
            ) / 1.349,
            {floor}
        )"""


# Recomputed from `value` rather than read from change_pct: a corrupted value must not
# hide behind a change column computed before it was corrupted. A move from 0 has no
# relative size and stays null, as change_pct does in the tables; so does the move out of
# one of the first $warmup_periods periods (settings.nsm_change_warmup_periods).
#
# The robust band: change_robust_z is how many robust standard deviations a change lies
# from the median of the previous $history changes; null with fewer than $min_history of
# them. The scale is the larger of two robust estimates of the normal sigma, 1.4826 x MAD
# and IQR / 1.349: MAD alone collapses to 0 when most past changes sit in one of two
# regimes (busy and quiet weeks alternating), the IQR spans both. It has a floor of 0.05
# (5 points of change; at 6 a band of at least +/-30% around the median), so a series
# that moved steadily for a while does not fail on its first ordinary jump.
NORTH_STAR_CHANGES_SQL = f"""
with

complete_periods as (
    select
        metric_name,
        grain,
        period_start,
        value,
        lag(value) over by_grain as previous_complete_value,
        row_number() over by_grain - 1 as periods_before
    from marts.fct_metric_values
    where
        metric_name = $metric_name
        and segment_name = 'all'
        and segment_value = 'all'
        and coalesce(is_complete_period, false)
    window by_grain as (partition by grain order by period_start)
),

changes as (
    select
        *,
        case
            when previous_complete_value <> 0 and periods_before > $warmup_periods
                then (value - previous_complete_value) / abs(previous_complete_value)
        end as change_vs_previous_complete
    from complete_periods
),

history as (
    select
        *,
        count(change_vs_previous_complete) over past as history_changes,
        median(change_vs_previous_complete) over past as band_center,
        {_robust_spread("change_vs_previous_complete", 0.05)} as band_spread
    from changes
    window past as (
        partition by grain order by period_start
        rows between $history preceding and 1 preceding
    )
)

select
    metric_name,
    grain,
    period_start,
    value,
    previous_complete_value,
    change_vs_previous_complete,
    history_changes,
    band_center,
    band_spread,
    case
        when history_changes >= $min_history
            then (change_vs_previous_complete - band_center) / band_spread
    end as change_robust_z
from history
order by grain, period_start
"""  # noqa: S608 (constant SQL: the spread is built from literals, values are bound)

# Negative while the latest period is still running.
METRIC_VALUES_FRESHNESS_SQL = """
select
    grain,
    max(period_end) as latest_period_end,
    cast($as_of as date) as reference_date,
    date_diff('day', max(period_end), cast($as_of as date)) as days_since_latest_period_end
from marts.fct_metric_values
group by grain
order by grain
"""

# Only days with accepted events count as volume (a day of rejects alone is not one, a
# row without a date is no day to compare). A day with no row at all is the worst drop
# there is: the calendar adds it with 0 accepted rows so the band sees it. The ratio is
# null without $history_weeks weeks of the same weekday before it, over a median of 0,
# and on the latest day, which is usually still arriving.
#
# The robust band works on ln((rows + 1) / (weekday median + 1)): in log a halving and a
# doubling are the same size, and the + 1 (the usual count transform) keeps a day with no
# events finite and judges it by how many were expected: 0 against a median of 2 is an
# ordinary quiet day of a small shop, 0 against 500 is a load that never came.
# volume_robust_z is how many robust standard deviations (as for the North Star above) it
# lies from the median of the previous 7 x $history days' values (null with fewer than
# 7 x $min_history of them); the scale has a floor of 0.1 (at 6, a ratio in at least
# [0.55, 1.8] passes).
EVENT_VOLUME_SQL = f"""
with

dated as (
    select event_date, accepted_rows
    from marts.fct_event_quality_daily
    where event_date is not null and accepted_rows > 0
),

calendar as (
    select cast(day as date) as event_date
    from range(
        (select min(event_date) from dated),
        (select max(event_date) from dated) + interval 1 day,
        interval 1 day
    ) as t(day)
),

days as (
    select
        calendar.event_date,
        cast(coalesce(dated.accepted_rows, 0) as double) as accepted_rows,
        dated.event_date is null as day_missing_from_mart
    from calendar
    left join dated on calendar.event_date = dated.event_date
),

weekday_history as (
    select
        days.event_date,
        count(past.event_date) as weeks_of_history,
        median(past.accepted_rows) as median_accepted_rows
    from days
    left join days as past
        on
            past.event_date < days.event_date
            and past.event_date >= days.event_date - 7 * $history_weeks
            and date_diff('day', past.event_date, days.event_date) % 7 = 0
    group by days.event_date
),

ratios as (
    select
        days.*,
        weekday_history.median_accepted_rows,
        case
            when
                weekday_history.weeks_of_history = $history_weeks
                and weekday_history.median_accepted_rows > 0
                and days.event_date < (select max(event_date) from days)
                then days.accepted_rows / weekday_history.median_accepted_rows
        end as volume_ratio
    from days
    inner join weekday_history on days.event_date = weekday_history.event_date
),

logged as (
    select
        *,
        case
            when volume_ratio is not null
                then ln((accepted_rows + 1) / (median_accepted_rows + 1))
        end as log_volume_ratio
    from ratios
),

history as (
    select
        *,
        count(log_volume_ratio) over past as history_days,
        median(log_volume_ratio) over past as band_center,
        {_robust_spread("log_volume_ratio", 0.1)} as band_spread
    from logged
    window past as (order by event_date rows between 7 * $history preceding and 1 preceding)
)

select
    event_date,
    accepted_rows,
    day_missing_from_mart,
    volume_ratio,
    history_days,
    exp(band_center) as typical_volume_ratio,
    case
        when history_days >= 7 * $min_history
            then (log_volume_ratio - band_center) / band_spread
    end as volume_robust_z
from history
order by event_date
"""  # noqa: S608 (constant SQL: the spread is built from literals, values are bound)

# dbt tests raw = accepted + duplicates + rejected on each row of the mart; this holds the
# mart against the staging tables it summarizes, so a mart built before a staging table
# changed (or a row lost between them) is caught before publishing.
EVENT_RECONCILIATION_SQL = """
with

mart as (
    select
        cast(coalesce(sum(raw_rows), 0) as bigint) as raw_rows,
        cast(coalesce(sum(accepted_rows), 0) as bigint) as accepted_rows,
        cast(coalesce(sum(duplicate_rows), 0) as bigint) as duplicate_rows,
        cast(coalesce(sum(rejected_rows), 0) as bigint) as rejected_rows
    from marts.fct_event_quality_daily
),

staged as (
    select
        (select count(*) from staging.stg_events) as accepted_rows,
        (select count(*) from staging.stg_events_duplicates) as duplicate_rows,
        (select count(*) from staging.stg_events_rejected) as rejected_rows
)

select
    mart.raw_rows as raw_rows_in_quality_mart,
    staged.accepted_rows,
    staged.duplicate_rows,
    staged.rejected_rows,
    mart.accepted_rows as accepted_rows_in_quality_mart,
    mart.duplicate_rows as duplicate_rows_in_quality_mart,
    mart.rejected_rows as rejected_rows_in_quality_mart,
    mart.raw_rows - (staged.accepted_rows + staged.duplicate_rows + staged.rejected_rows)
        as unreconciled_rows
from mart
cross join staged
"""


# The gate does not repeat dbt's tests on the marts; it checks that they ran and passed on
# the tables as they are: each mart's latest recorded event must be `tested`.
DBT_TESTS_SQL = """
with

ranked as (
    select
        model,
        event,
        invocation_id,
        row_number() over (partition by model order by recorded_at desc, seq desc) as newest
    from marts._northstar_mart_checks
)

select model, event as latest_event, invocation_id
from ranked
where newest = 1
order by model
"""


FRAMES: dict[str, Frame] = {
    "dbt_tests": Frame(
        sql=DBT_TESTS_SQL,
        doc="One row per published mart that a dbt run built or tested: its latest event "
        "(built, tested or failed) and that run's invocation_id.",
        keys=("model", "latest_event", "invocation_id"),
        reads={MART_CHECKS: ("model", "event", "invocation_id", "recorded_at", "seq")},
    ),
    "dim_metrics": Frame(
        sql=DIM_METRICS_SQL,
        doc="marts.dim_metrics plus metric_signature = "
        "'<metric_name>:<role>:<direction>:warn=<warn_threshold>:breach=<breach_threshold>'.",
        keys=("metric_name",),
        reads={
            DIM_METRICS: ("metric_name", "role", "direction", "warn_threshold", "breach_threshold")
        },
    ),
    "fct_metric_values": Frame(
        sql="select * from marts.fct_metric_values "
        "order by metric_name, grain, period_start, segment_name, segment_value",
        doc="marts.fct_metric_values as it is.",
        keys=GRAIN_KEYS,
        reads={METRIC_VALUES: ()},
    ),
    "metric_status": Frame(
        sql=METRIC_STATUS_SQL,
        doc="fct_metric_values' keys, value and status, with expected_status computed from "
        "value and the thresholds in the suite's params (direction, warn, breach, "
        "status_grains; reaching a threshold counts; none without a value, at other grains "
        "and for metrics without thresholds).",
        keys=(*GRAIN_KEYS, "value"),
        reads={METRIC_VALUES: (*GRAIN_KEYS, "value", "status")},
    ),
    "north_star_changes": Frame(
        sql=NORTH_STAR_CHANGES_SQL,
        doc="The North Star's complete periods, segment 'all', per grain, with "
        "change_vs_previous_complete recomputed from value (null out of the first "
        "warmup_periods periods and out of a 0), and change_robust_z: its distance from the "
        "median of the previous `history` changes in scaled MADs (null with fewer than "
        "min_history).",
        keys=("grain", "period_start", "value", "previous_complete_value"),
        reads={METRIC_VALUES: (*GRAIN_KEYS, "value", "is_complete_period")},
    ),
    "metric_values_freshness": Frame(
        sql=METRIC_VALUES_FRESHNESS_SQL,
        doc="One row per grain: latest_period_end and days_since_latest_period_end, counted "
        "from the reference date (--as-of, default today in UTC).",
        keys=("grain", "latest_period_end", "reference_date"),
        reads={METRIC_VALUES: ("grain", "period_end")},
    ),
    "fct_aha_moments": Frame(
        sql="select * from marts.fct_aha_moments order by entity_type, entity_id",
        doc="marts.fct_aha_moments as it is.",
        keys=("entity_type", "entity_id"),
        reads={AHA_MOMENTS: ()},
    ),
    "event_volume": Frame(
        sql=EVENT_VOLUME_SQL,
        doc="One row per calendar day of marts.fct_event_quality_daily (a day missing from "
        "the mart is added with 0 accepted rows) with volume_ratio = accepted rows / median "
        "of the same weekday over the previous history_weeks weeks; null without full "
        "history, and on the latest day, which may still be arriving; volume_robust_z: "
        "ln(volume_ratio)'s distance from the median of the previous 7 x history days' in "
        "scaled MADs (null with fewer than 7 x min_history).",
        keys=("event_date", "accepted_rows"),
        reads={EVENT_QUALITY: ("event_date", "accepted_rows")},
    ),
    "event_reconciliation": Frame(
        sql=EVENT_RECONCILIATION_SQL,
        doc="One row: raw rows in the quality mart, rows in stg_events, "
        "stg_events_duplicates and stg_events_rejected (and the mart's own totals of each), "
        "and unreconciled_rows = raw - (accepted + duplicates + rejected).",
        keys=(
            "raw_rows_in_quality_mart",
            "accepted_rows",
            "duplicate_rows",
            "rejected_rows",
        ),
        reads={
            EVENT_QUALITY: ("raw_rows", "accepted_rows", "duplicate_rows", "rejected_rows"),
            ACCEPTED_EVENTS: (),
        },
        may_be_empty=(DUPLICATE_EVENTS, REJECTED_EVENTS),
    ),
}


def build_frame(
    warehouse: Warehouse, name: str, params: dict[str, Any], run: RunContext
) -> pd.DataFrame:
    """Run frame `name`'s query with the suite's params; ColumnsNotFoundError first if a
    table lacks a contract column the query reads."""
    frame = FRAMES[name]
    for table, columns in frame.reads.items():
        warehouse.require_columns(table, list(columns))
    values = {**params, "as_of": run.as_of}
    # DuckDB refuses parameters a query does not use: bind exactly those it names.
    # Mappings and lists go in as JSON, which the query unpacks.
    bound = {
        key: json.dumps(values[key]) if isinstance(values[key], dict | list) else values[key]
        for key in sorted(set(_PARAMETER.findall(frame.sql)))
    }
    return warehouse.query(frame.sql, bound)
