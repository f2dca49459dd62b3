"""The truths planted in the demo feed come out of the whole pipeline (docs/demo-data.md).

The generator's own tests check the truths on the clean events it writes; these check that
staging, the metric layer and the published tables recover them from the raw feed, defects
and all. They read the session's small demo build (the `demo` fixture in conftest.py), so
the bounds are looser than the numbers the docs give at the default 1,500 teams.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

pytestmark = pytest.mark.dbt

INCIDENT_WEEKS = {date(2026, 7, 13), date(2026, 7, 20)}
ONBOARDING_CHANGE = date(2026, 6, 1)


def _rows(demo, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(demo.warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _weekly_statuses(demo, metric: str) -> dict[date, str]:
    return dict(
        _rows(
            demo,
            """
            select period_start, status from marts.fct_metric_values
            where metric_name = ? and grain = 'week' and segment_name = 'all'
              and is_complete_period
            """,
            [metric],
        )
    )


@pytest.mark.parametrize("metric", ["support_tickets_per_active_team", "p95_api_latency_ms"])
def test_the_incident_breaches_its_guardrails_in_exactly_the_incident_weeks(demo, metric):
    statuses = _weekly_statuses(demo, metric)
    assert len(statuses) >= 25
    breached = {week for week, status in statuses.items() if status == "breach"}
    assert breached == INCIDENT_WEEKS


def test_no_other_guardrail_breaches_in_a_complete_week(demo):
    breaches = _rows(
        demo,
        """
        select v.metric_name, v.period_start, v.value
        from marts.fct_metric_values as v
        inner join marts.dim_metrics as m on v.metric_name = m.metric_name
        where m.role = 'guardrail' and v.grain = 'week' and v.segment_name = 'all'
          and v.is_complete_period and v.status = 'breach'
          and v.metric_name not in ('support_tickets_per_active_team', 'p95_api_latency_ms')
        """,
    )
    assert breaches == []


def test_the_aha_moment_separates_retained_from_churned_teams(demo):
    retention = dict(
        _rows(demo, "select has_reached_aha, week_8_retention from marts.rpt_aha_retention")
    )
    # planted: about 90% vs 37% at the defaults
    assert retention[True] >= 0.75
    assert retention[False] <= 0.55
    assert retention[True] - retention[False] >= 0.3


def test_the_onboarding_change_lifts_activation(demo):
    (before, after), *_ = _rows(
        demo,
        """
        select
            sum(case when period_start < ? then numerator end)
            / sum(case when period_start < ? then denominator end),
            sum(case when period_start >= ? then numerator end)
            / sum(case when period_start >= ? then denominator end)
        from marts.fct_metric_values
        where metric_name = 'activation_rate' and grain = 'week' and segment_name = 'all'
          and is_complete_period
        """,
        [ONBOARDING_CHANGE] * 4,
    )
    # planted: 36% of the teams created before the change, 56% after, at the defaults
    assert after - before >= 0.1, (before, after)


# The demo spec's targets (dbt_project.yml): messages_sent 60,000 a week for the total and
# 5,000 for plan=business; activation_rate 40% on 2026-03-02 -> 55% by 2027-06-30 (week).
ACTIVATION_BASELINE, ACTIVATION_DEADLINE = date(2026, 3, 2), date(2027, 6, 30)


def test_a_segment_has_only_its_own_target(demo):
    targets = {
        (segment_name, segment_value): (rows, kinds, low, high)
        for segment_name, segment_value, rows, *rest in _rows(
            demo,
            """
            select segment_name, segment_value, count(*), list(distinct target_kind),
                min(target), max(target)
            from marts.fct_metric_values
            where metric_name = 'messages_sent' and grain = 'week'
            group by all
            """,
        )
        for kinds, low, high in [rest]
    }
    weeks = targets[("all", "all")][0]
    assert targets[("all", "all")] == (weeks, ["fixed"], 60000, 60000)
    assert targets[("plan", "business")] == (weeks, ["fixed"], 5000, 5000)
    others = {key: value for key, value in targets.items() if key[1] not in ("all", "business")}
    assert len(others) >= 10  # the other plans, every country and platform
    assert all(value == (weeks, [None], None, None) for value in others.values()), others


def test_the_time_bound_target_is_the_straight_line_and_says_if_on_pace(demo):
    rows = _rows(
        demo,
        """
        select period_start, period_end, value, target, target_goal, target_deadline,
            is_on_pace, is_complete_period
        from marts.fct_metric_values
        where metric_name = 'activation_rate' and grain = 'week' and segment_name = 'all'
        order by period_start
        """,
    )
    assert len(rows) >= 25
    paces = set()
    for start, end, value, target, goal, deadline, on_pace, complete in rows:
        last_day = end - timedelta(days=1)  # the week's Sunday
        elapsed = (last_day - ACTIVATION_BASELINE).days
        length = (ACTIVATION_DEADLINE - ACTIVATION_BASELINE).days
        assert target == pytest.approx(0.40 + 0.15 * elapsed / length), start
        assert (goal, deadline) == (0.55, ACTIVATION_DEADLINE)
        expected = (value >= target) if complete and value is not None else None
        assert on_pace is expected, start
        paces.add(on_pace)
    assert paces == {True, False, None}  # the demo is behind pace in some weeks
    segment_or_other_grain = _rows(
        demo,
        """
        select count(*) from marts.fct_metric_values
        where metric_name = 'activation_rate' and target is not null
            and (segment_name <> 'all' or grain <> 'week')
        """,
    )
    assert segment_or_other_grain == [(0,)]
    catalog = _rows(
        demo,
        """
        select metric_name, target, target_kind, target_deadline from marts.dim_metrics
        where target is not null order by sort_order
        """,
    )
    assert catalog == [
        ("messages_sent", 60000, "fixed", None),
        ("activation_rate", 0.55, "time_bound", ACTIVATION_DEADLINE),
    ]
