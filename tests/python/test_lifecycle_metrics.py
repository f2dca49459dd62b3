"""The built-in lifecycle diagnostics (docs/spec.md, "Diagnostic metrics") on the demo.

- A pandas recomputation from the accepted events (staging.stg_events: who did what when)
  and the accounts' plans, sharing no SQL with the models: active, new, returning,
  resurrected and dormant teams and the growth quick ratio, for every complete week, in
  total and by plan, equal to fct_metric_values (value, numerator, denominator, previous
  value, change).
- The identities, on every published row at every grain and segment: active = new +
  returning + resurrected; the previous period's active = returning + dormant; the change
  in active = new + resurrected - dormant; the quick ratio is (new + resurrected) / dormant,
  null exactly when nobody went dormant.
- The catalog, `northstar metrics` and `northstar query` carry them.

Uses the session's demo build (conftest.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from northstar.query.explain import DECOMPOSITION
from northstar.spec import spec_from_json

BIN = Path(sys.executable).parent
COUNTS = {
    "active": "lifecycle_active_entities",
    "new": "lifecycle_new_entities",
    "returning": "lifecycle_returning_entities",
    "resurrected": "lifecycle_resurrected_entities",
    "dormant": "lifecycle_dormant_entities",
}
QUICK_RATIO = "lifecycle_quick_ratio"
DIAGNOSTICS = [*COUNTS.values(), QUICK_RATIO]
WEEK = pd.Timedelta(days=7)


def _read(warehouse: Path, sql: str, *params) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).df()


def _published(demo, grain: str = "week") -> pd.DataFrame:
    frame = _read(
        demo.warehouse,
        "select metric_name, period_start, segment_name, segment_value, value, numerator, "
        "denominator, previous_value, change_abs, target, status, is_complete_period, role "
        "from marts.fct_metric_values where grain = ? and list_contains(?, metric_name)",
        grain,
        DIAGNOSTICS,
    )
    frame["period_start"] = pd.to_datetime(frame.period_start)
    return frame


def _recompute(demo) -> pd.DataFrame:
    """Every week of the spine, in total and by plan, from the events alone."""
    spec = spec_from_json(
        _read(demo.warehouse, "select spec_json from intermediate.int_northstar_spec").iat[0, 0]
    )
    events = _read(
        demo.warehouse,
        "select account_id, event_name, occurred_at from staging.stg_events "
        "where account_id is not null",
    )
    plans = _read(demo.warehouse, "select account_id, plan from staging.stg_accounts")
    week = events.occurred_at.dt.normalize() - pd.to_timedelta(
        events.occurred_at.dt.day_of_week, unit="D"
    )
    events = events.assign(week=week)
    first_week = events.groupby("account_id").week.min()
    activity = events[events.event_name.isin(spec["activity_events"])]
    active = {w: set(group.account_id) for w, group in activity.groupby("week")}
    plan = dict(zip(plans.account_id, plans.plan.fillna("unknown"), strict=True))
    segments = {("all", "all"): set(first_week.index)}
    for account in first_week.index:
        segments.setdefault(("plan", plan.get(account, "unknown")), set()).add(account)

    rows = []
    spine = pd.date_range(events.week.min(), events.week.max(), freq="7D")
    for w in spine:
        now, before = active.get(w, set()), active.get(w - WEEK, set())
        for (name, value), members in segments.items():
            current, previous = now & members, before & members
            new = {e for e in current if first_week[e] == w}
            counts = {
                "active": len(current),
                "new": len(new),
                "returning": len(current & previous),
                "resurrected": len({e for e in current if first_week[e] < w} - previous),
                "dormant": len(previous - current),
            }
            for key, metric in COUNTS.items():
                rows.append((metric, w, name, value, counts[key], counts[key], None))
            growth, dormant = counts["new"] + counts["resurrected"], counts["dormant"]
            ratio = growth / dormant if dormant else None
            rows.append((QUICK_RATIO, w, name, value, ratio, growth, dormant))
    columns = ["metric_name", "period_start", "segment_name", "segment_value"]
    return pd.DataFrame(rows, columns=[*columns, "value", "numerator", "denominator"])


def _same(a, b) -> bool:
    if pd.isna(a) or pd.isna(b):
        return pd.isna(a) and pd.isna(b)
    return a == pytest.approx(b, rel=1e-12)


@pytest.mark.dbt
def test_every_complete_week_agrees_with_a_recomputation_from_the_events(demo):
    published = _published(demo)
    expected = _recompute(demo)
    keys = ["metric_name", "period_start", "segment_name", "segment_value"]
    previous = expected.assign(period_start=expected.period_start + WEEK)[[*keys, "value"]]
    expected = expected.merge(previous, on=keys, how="left", suffixes=("", "_previous"))
    joined = published[published.segment_name.isin(["all", "plan"])].merge(
        expected, on=keys, how="outer", suffixes=("", "_expected"), indicator=True
    )
    assert set(joined._merge) == {"both"}, joined[joined._merge != "both"].head()
    complete = joined[joined.is_complete_period]
    assert complete.period_start.nunique() >= 25  # 213 days of demo history
    assert set(complete.segment_value) >= {"all", "free", "pro", "business"}
    problems = []
    for row in complete.itertuples():
        for column in ("value", "numerator", "denominator"):
            if not _same(getattr(row, column), getattr(row, f"{column}_expected")):
                problems.append((row.metric_name, row.period_start, row.segment_value, column))
        if not _same(row.previous_value, row.value_previous):
            problems.append((row.metric_name, row.period_start, row.segment_value, "previous"))
        change = (
            None
            if pd.isna(row.value_expected) or pd.isna(row.value_previous)
            else row.value_expected - row.value_previous
        )
        if not _same(row.change_abs, change):
            problems.append((row.metric_name, row.period_start, row.segment_value, "change"))
    assert problems == [], problems[:20]
    # no target, no status, for any diagnostic row
    assert published.target.isna().all() and set(published.status) == {"none"}
    assert set(published.role) == {"diagnostic"}


@pytest.mark.dbt
@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_the_lifecycle_identities_hold_on_every_row(demo, grain):
    published = _published(demo, grain)
    wide = published.pivot(
        index=["period_start", "segment_name", "segment_value"],
        columns="metric_name",
        values=["value", "previous_value", "change_abs", "numerator", "denominator"],
    )
    assert len(wide) * len(DIAGNOSTICS) == len(published)  # every row has all six
    value, previous = wide["value"], wide["previous_value"]
    active, new, returning = (value[COUNTS[k]] for k in ("active", "new", "returning"))
    resurrected, dormant = value[COUNTS["resurrected"]], value[COUNTS["dormant"]]
    assert (active == new + returning + resurrected).all()
    has_previous = previous[COUNTS["active"]].notna()
    assert has_previous.sum() > 0
    assert (previous[COUNTS["active"]] == returning + dormant)[has_previous].all()
    change = wide["change_abs"][COUNTS["active"]]
    assert (change == new + resurrected - dormant)[change.notna()].all()
    ratio = value[QUICK_RATIO]
    assert (ratio.isna() == (dormant == 0)).all()
    known = ratio.notna()
    assert ((new + resurrected) / dormant)[known].sub(ratio[known]).abs().max() < 1e-12
    assert ((ratio > 1) == (new + resurrected > dormant))[known].all()  # growth when > 1
    assert (wide["numerator"][QUICK_RATIO] == new + resurrected).all()
    assert (wide["denominator"][QUICK_RATIO] == dormant).all()


@pytest.mark.dbt
def test_the_north_star_decomposition_counts_the_same_entities(demo):
    """Two routes to the lifecycle: the decomposition's per-entity components and the
    published counts agree for every week and segment."""
    components = _read(
        demo.warehouse,
        f"select period_start, segment_name, segment_value, component, entities "
        f"from marts.{DECOMPOSITION} where grain = 'week' and decomposition = 'lifecycle' "
        "and component != 'not_active'",
    )
    components["period_start"] = pd.to_datetime(components.period_start)
    components["metric_name"] = components.component.map(COUNTS)
    joined = components.merge(
        _published(demo), on=["metric_name", "period_start", "segment_name", "segment_value"]
    )
    assert len(joined) == len(components) > 100
    assert (joined.entities == joined.value).all()


def _cli(demo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "northstar"), *args], env=demo.env, capture_output=True, text=True, check=False
    )


@pytest.mark.dbt
def test_the_catalog_lists_the_diagnostics_apart_from_the_tree(demo):
    result = _cli(demo, "metrics")
    assert result.returncode == 0, result.stderr
    tree, _, diagnostics = result.stdout.partition("diagnostics (built in")
    assert "lifecycle_" not in tree
    for name in DIAGNOSTICS:
        assert f"({name})" in diagnostics
    query = _cli(demo, "query", QUICK_RATIO, "--segment", "plan", "--format", "json")
    assert query.returncode == 0, query.stderr
    assert {row["segment_value"] for row in json.loads(query.stdout)["rows"]} >= {"free", "pro"}
