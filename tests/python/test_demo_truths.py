"""The truths planted in the demo feed come out of the whole pipeline (docs/demo-data.md).

The generator's own tests check the truths on the clean events it writes; these check that
staging, the metric layer and the published tables recover them from the raw feed, defects
and all. They read the session's small demo build (the `demo` fixture in conftest.py), so
the bounds are looser than the numbers the docs give at the default 1,500 teams.
"""

from __future__ import annotations

from datetime import date

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
