"""`northstar explain METRIC` for a metric other than the North Star: the splits
fct_metric_values allows, adding up to the change exactly, and the honest notes about what
is not shown.

- On a hand-made snapshot (no dbt): a quotient, a sum, a median, an unknown value and the
  refusals. The quotient is the planted driver of test_decomposition.py (messages per
  active team, plan a's rate drops while plan b grows), so the same numbers come out of
  the SQL decomposition of a North Star there and out of the Python one here.
- On the session's demo build (conftest.py): the CLI for a diagnostic, a guardrail, the
  quick ratio and a median; and the Python split applied to the North Star equals
  fct_north_star_decomposition's segment rows for every complete week.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from northstar.errors import InvalidInputError, NotFoundError
from northstar.query.explain import (
    DECOMPOSITION,
    METRIC_VALUES,
    NORTH_STAR_ONLY,
    _explain_metric,
    explain,
    render,
)

BIN = Path(sys.executable).parent
QUICK_RATIO = "lifecycle_quick_ratio"

WEEK_0, WEEK_1, WEEK_2 = dt.date(2024, 1, 1), dt.date(2024, 1, 8), dt.date(2024, 1, 15)
# metric -> week -> segment value -> (value, numerator, denominator)
ROWS = {
    "messages_per_team": {  # a quotient: N / D
        WEEK_0: {"all": (6.0, 24, 4), "a": (10.0, 20, 2), "b": (2.0, 4, 2)},
        WEEK_1: {"all": (16 / 6, 16, 6), "a": (4.0, 8, 2), "b": (2.0, 8, 4)},
    },
    "active_teams": {  # a sum
        WEEK_0: {"all": (4.0, 4, None), "a": (2.0, 2, None), "b": (2.0, 2, None)},
        WEEK_1: {"all": (6.0, 6, None), "a": (2.0, 2, None), "b": (4.0, 4, None)},
    },
    "median_messages": {  # a median: no numerator
        WEEK_0: {"all": (5.0, None, 4), "a": (10.0, None, 2), "b": (2.0, None, 2)},
        WEEK_1: {"all": (3.0, None, 6), "a": (4.0, None, 2), "b": (2.5, None, 4)},
    },
    "tickets_per_team": {  # unknown in week 1: nobody active
        WEEK_0: {"all": (0.5, 2, 4), "a": (0.5, 1, 2), "b": (0.5, 1, 2)},
        WEEK_1: {"all": (None, 1, 0), "a": (None, 1, 0), "b": (None, 0, 0)},
    },
}
CATALOG = [
    # name, role, kind, is_additive, sort_order
    ("messages_sent", "north_star", "count", True, 1),
    ("messages_per_team", "input", "ratio", False, 2),
    ("median_messages", "input", "engagement", False, 3),
    ("tickets_per_team", "guardrail", "ratio", False, 4),
    ("active_teams", "diagnostic", "lifecycle", True, 5),
]


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute(
        "create table dim_metrics (metric_name varchar, label varchar, role varchar, "
        "parent_metric varchar, owner varchar, unit varchar, kind varchar, "
        "is_additive boolean, sort_order integer)"
    )
    for name, role, kind, additive, order in CATALOG:
        con.execute(
            "insert into dim_metrics values (?, ?, ?, null, null, null, ?, ?, ?)",
            [name, name.replace("_", " ").capitalize(), role, kind, additive, order],
        )
    con.execute(
        f"create table {METRIC_VALUES} (metric_name varchar, grain varchar, "
        "period_start date, period_end date, segment_name varchar, segment_value varchar, "
        "value double, numerator double, denominator double, is_complete_period boolean)"
    )
    for name, weeks in ROWS.items():
        for week, segments in weeks.items():
            for segment_value, (value, numerator, denominator) in segments.items():
                segment_name = "all" if segment_value == "all" else "plan"
                con.execute(
                    f"insert into {METRIC_VALUES} "
                    "values (?, 'week', ?, ?::date + 7, ?, ?, ?, ?, ?, true)",
                    [name, week, week, segment_name, segment_value, value, numerator, denominator],
                )
    # the running week: never the default, and not compared
    con.execute(
        f"insert into {METRIC_VALUES} values "
        "('active_teams', 'week', ?, ?::date + 7, 'all', 'all', 1, 1, null, false)",
        [WEEK_2, WEEK_2],
    )
    yield con
    con.close()


def _contributions(explanation, decomposition: str) -> dict[tuple, float]:
    return {
        (row["component_value"], row["component"]): row["contribution"]
        for name, _, rows in explanation.sections
        if name == decomposition
        for row in rows
    }


def test_a_quotient_splits_into_numerator_denominator_and_mix_and_rate(con):
    e = explain(con, "messages_per_team")
    change = 16 / 6 - 6
    assert (e.period_start, e.previous_period_start) == (WEEK_1, WEEK_0)
    assert e.change_abs == pytest.approx(change)
    assert e.source == METRIC_VALUES
    effects = _contributions(e, "segment")
    # as test_decomposition.py's planted North Star: weights 1/2 -> 1/3 (a), 1/2 -> 2/3 (b)
    assert effects[("a", "rate")] == pytest.approx((4 - 10) * (1 / 2 + 1 / 3) / 2)
    assert effects[("b", "rate")] == pytest.approx(0, abs=1e-12)
    assert effects[("a", "mix")] == pytest.approx((1 / 3 - 1 / 2) * (10 + 4) / 2)
    assert effects[("b", "mix")] == pytest.approx((2 / 3 - 1 / 2) * 2)
    parts = _contributions(e, "numerator_denominator")
    assert parts[(None, "numerator")] == pytest.approx((16 - 24) * (1 / 4 + 1 / 6) / 2)
    assert parts[(None, "denominator")] == pytest.approx((1 / 6 - 1 / 4) * (24 + 16) / 2)
    for _, _, rows in e.sections:
        assert sum(row["contribution"] for row in rows) == pytest.approx(change)
    assert NORTH_STAR_ONLY in e.notes
    assert not e.segment_changes


def test_a_sum_splits_into_each_segment_values_change(con):
    e = explain(con, "active_teams")  # WEEK_2 is running: the latest complete is WEEK_1
    assert (e.period_start, e.change_abs) == (WEEK_1, 2.0)
    assert [name for name, _, _ in e.sections] == ["segment"]
    assert _contributions(e, "segment") == {("b", "change"): 2.0, ("a", "change"): 0.0}
    assert any("no denominator" in note for note in e.notes)
    text = render(e)
    assert "Each section's contributions add up to the change (from fct_metric_values)" in text
    assert "Not shown: breadth x depth, lifecycle and top movers are computed only for" in text
    running = explain(con, "active_teams", period="2024-01-20")
    assert (running.period_start, running.is_complete_period) == (WEEK_2, False)
    assert running.change_abs == -5.0


def test_a_median_lists_segment_changes_and_says_they_do_not_add_up(con):
    e = explain(con, "median_messages")
    assert e.sections == [] and e.change_abs == -2.0
    assert any("no exact split" in note for note in e.notes)
    [(breakdown, rows)] = e.segment_changes
    assert breakdown == "plan"
    assert {row["component_value"]: row["contribution"] for row in rows} == {"a": -6.0, "b": 0.5}
    text = render(e)
    assert "Each section's contributions add up" not in text
    assert "By plan: each value's own change (these do not add up)" in text


def test_a_date_in_the_running_period_explains_it(con):
    assert explain(con, "active_teams", period="2024-01-21").period_start == WEEK_2


def test_an_unknown_value_is_not_split(con):
    e = explain(con, "tickets_per_team")
    assert e.change_abs is None and e.sections == []
    assert any("the value is unknown in one of the two periods" in note for note in e.notes)


@pytest.mark.parametrize(
    ("metric", "kwargs", "error", "message"),
    [
        ("nope", {}, NotFoundError, "unknown metric 'nope': the catalog has messages_sent, "),
        ("'; drop table dim_metrics; --", {}, NotFoundError, "unknown metric"),
        ("active_teams", {"grain": "month"}, NotFoundError, "unknown grain 'month'"),
        ("active_teams", {"period": "2024-01-03"}, NotFoundError, "the first period has no"),
        ("active_teams", {"period": "2024-13-01"}, InvalidInputError, "is not a date"),
        # after the running week's last day: no period holds it (not the running week)
        ("active_teams", {"period": "9999-12-31"}, NotFoundError, "has no period holding it"),
        ("active_teams", {"period": "2024-01-22"}, NotFoundError, "the data ends on 2024-01-21"),
    ],
)
def test_refusals_name_the_problem(con, metric, kwargs, error, message):
    with pytest.raises(error, match=None) as raised:
        explain(con, metric, **kwargs)
    assert message in str(raised.value)
    assert con.execute("select count(*) from dim_metrics").fetchall() == [(len(CATALOG),)]


# --- on the demo ------------------------------------------------------------------------------


def _cli(demo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "northstar"), *args], env=demo.env, capture_output=True, text=True, check=False
    )


@pytest.mark.dbt
def test_explain_any_metric_adds_up_and_says_what_it_leaves_out(demo):
    for metric in ("lifecycle_active_entities", "support_tickets_per_active_team", QUICK_RATIO):
        result = _cli(demo, "explain", metric, "--json")
        assert result.returncode == 0, result.stderr
        payload = json.loads(result.stdout)
        assert payload["metric"] == metric and payload["source"] == "fct_metric_values"
        assert any("only for the North Star" in note for note in payload["not_shown"])
        assert payload["decompositions"], metric
        for section in payload["decompositions"]:
            total = sum(c["contribution"] for c in section["components"])
            assert total == pytest.approx(payload["change_abs"], abs=1e-9), section
    median = json.loads(_cli(demo, "explain", "messages_per_active_team", "--json").stdout)
    assert median["decompositions"] == [] and median["segment_changes"]
    assert any("no exact split" in note for note in median["not_shown"])
    # the North Star by name is the North Star's own decomposition
    assert _cli(demo, "explain", "messages_sent").stdout == _cli(demo, "explain").stdout
    unknown = _cli(demo, "explain", "messages")
    assert unknown.returncode == 6 and "unknown metric 'messages'" in unknown.stderr
    assert QUICK_RATIO in unknown.stderr and unknown.stdout == ""


@pytest.mark.dbt
def test_the_python_segment_split_of_the_north_star_is_the_marts(demo):
    """The split `explain METRIC` computes from fct_metric_values, applied to the North
    Star, equals fct_north_star_decomposition's (the SQL route) for every complete week."""
    with duckdb.connect(str(demo.warehouse), read_only=True) as con:
        con.execute("use marts")
        definition = (
            con.execute("select * from dim_metrics where role = 'north_star'")
            .df()
            .to_dict("records")[0]
        )
        mart = con.execute(
            f"select period_start, breakdown, component_value, contribution "
            f"from {DECOMPOSITION} where grain = 'week' and segment_name = 'all' "
            "and decomposition = 'segment' and is_complete_period"
        ).df()
        weeks = sorted(set(mart.period_start.dt.date))
        assert len(weeks) >= 25
        for week in weeks:
            mine = _explain_metric(con, definition, "week", week)
            assert mine.period_start == week
            got = {
                (breakdown, row["component_value"]): row["contribution"]
                for name, breakdown, rows in mine.sections
                if name == "segment"
                for row in rows
            }
            expected = mart[mart.period_start.dt.date == week]
            assert len(got) == len(expected)
            for row in expected.itertuples():
                assert got[(row.breakdown, row.component_value)] == pytest.approx(
                    row.contribution, abs=1e-9
                )
