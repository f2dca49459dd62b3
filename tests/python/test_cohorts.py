"""Cohorts, stickiness and feature adoption (docs/cohorts.md) on the demo, cell by cell.

A pandas recomputation from the accepted events (staging.stg_events: who did what when)
and the spec as a user writes it (dbt_project.yml), sharing no SQL with the models:

- rpt_cohort_retention: every weekly and monthly cohort x age cell, from age 0 to the
  current period: cohort size, retained entities and rate, and the cells whose period is
  not over flagged with null counts (never 0). The demo's clock stops at the start of a
  Thursday, so its last week is partial (Monday to Wednesday) and holds events: those
  cells must still be null, and the test checks the fixture has them.
- rpt_stickiness and rpt_active_days_distribution: DAU, WAU, MAU, the ratios and the
  L7 / L28 distributions for every day, the day not over null.
- rpt_feature_adoption: adopters, active entities, adoption rate, the North Star and each
  feature's share of it, per grain, period and activity event.

And the matrix agrees with the spec's own retention metric (four_period_retention, W4 at
week grain) where both exist: one notion of a cohort and a complete period.

Uses the session's demo build (conftest.py): a few seconds of queries and pandas.
"""

from __future__ import annotations

import datetime as dt
import functools
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
WINDOWS = (7, 28)


def _spec() -> dict:
    return yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]["northstar"]


def _period_start(grain: str, day: dt.date) -> dt.date:
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def _period_end(grain: str, start: dt.date) -> dt.date:
    if grain == "day":
        return start + dt.timedelta(days=1)
    if grain == "week":
        return start + dt.timedelta(days=7)
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _age(grain: str, cohort: dt.date, period: dt.date) -> int:
    if grain == "week":
        return (period - cohort).days // 7
    return (period.year - cohort.year) * 12 + period.month - cohort.month


class Recomputed:
    """The accepted events and the reference time, and what follows from them."""

    def __init__(self, warehouse: Path):
        with duckdb.connect(str(warehouse), read_only=True) as con:
            self.events = con.execute(
                "select entity_id, event_name, occurred_at from staging.stg_events"
            ).df()
            (self.as_of,) = con.execute(
                "select as_of_at from intermediate.int_reference_time"
            ).fetchall()[0]
        self.spec = _spec()
        self.events["day"] = self.events.occurred_at.dt.date
        first_day = self.events.day.min()
        self.days = [
            first_day + dt.timedelta(days=n)
            for n in range((self.as_of.date() - first_day).days + 1)
        ]
        activity = self.events[self.events.event_name.isin(self.spec["activity_events"])]
        self.active_days = activity[["entity_id", "day"]].drop_duplicates()
        self.first_seen = self.events.groupby("entity_id").occurred_at.min().dt.date

    def is_complete(self, grain: str, start: dt.date) -> bool:
        end = _period_end(grain, start)
        return dt.datetime.combine(end, dt.time()) <= self.as_of

    def periods(self, grain: str) -> list[dt.date]:
        return sorted({_period_start(grain, day) for day in self.days})

    def cohort_cells(self) -> pd.DataFrame:
        rows = []
        for grain in ("week", "month"):
            cohort_of = self.first_seen.map(lambda day, g=grain: _period_start(g, day))
            active = {
                (entity, period)
                for entity, day in self.active_days.itertuples(index=False)
                for period in [_period_start(grain, day)]
            }
            for cohort, members in cohort_of.groupby(cohort_of).groups.items():
                for period in self.periods(grain):
                    if period < cohort:
                        continue
                    complete = self.is_complete(grain, period)
                    retained = sum((entity, period) in active for entity in members)
                    rows.append(
                        {
                            "cohort_grain": grain,
                            "cohort_start": cohort,
                            "age": _age(grain, cohort, period),
                            "period_start": period,
                            "entities_in_cohort": len(members),
                            "retained_entities": retained if complete else None,
                            "retention_rate": retained / len(members) if complete else None,
                            "is_complete": complete,
                        }
                    )
        return pd.DataFrame(rows)

    def window_counts(self, day: dt.date, window: int) -> pd.Series:
        """Active days per entity in the `window` days ending on `day`."""
        since = day - dt.timedelta(days=window - 1)
        inside = self.active_days[(self.active_days.day >= since) & (self.active_days.day <= day)]
        return inside.groupby("entity_id").size()

    @functools.cached_property
    def stickiness(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        daily, distribution = [], []
        for day in self.days:
            complete = self.is_complete("day", day)
            counts = {window: self.window_counts(day, window) for window in WINDOWS}
            dau = int((self.active_days.day == day).sum())
            wau, mau = len(counts[7]), len(counts[28])
            daily.append(
                {
                    "as_of_date": day,
                    "dau": dau if complete else None,
                    "wau": wau if complete else None,
                    "mau": mau if complete else None,
                    "dau_mau": dau / mau if complete and mau else None,
                    "wau_mau": wau / mau if complete and mau else None,
                    "is_full_window": day - dt.timedelta(days=27) >= self.days[0],
                    "is_complete": complete,
                }
            )
            for window in WINDOWS:
                histogram = counts[window].value_counts()
                for active_days in range(1, window + 1):
                    distribution.append(
                        {
                            "as_of_date": day,
                            "window_days": window,
                            "active_days": active_days,
                            "entities": int(histogram.get(active_days, 0)) if complete else None,
                            "is_full_window": (day - dt.timedelta(days=window - 1) >= self.days[0]),
                            "is_complete": complete,
                        }
                    )
        return pd.DataFrame(daily), pd.DataFrame(distribution)

    def adoption(self) -> pd.DataFrame:
        north_star = self.spec["north_star"]
        # The demo's North Star is a plain count of events; the share below is its definition.
        assert north_star["kind"] == "count" and "where" not in north_star
        features = self.spec["activity_events"]
        events = self.events.copy()
        rows = []
        for grain in self.spec["grains"]:
            events["period"] = events.day.map({day: _period_start(grain, day) for day in self.days})
            activity = events[events.event_name.isin(features)]
            active = activity.groupby("period").entity_id.nunique()
            adopters = activity.groupby(["period", "event_name"]).entity_id.nunique()
            counted = events[events.event_name.isin(north_star["events"])]
            north_star_total = counted.groupby("period").size()
            by_feature = counted.groupby(["period", "event_name"]).size()
            for period in self.periods(grain):
                complete = self.is_complete(grain, period)
                total = int(north_star_total.get(period, 0))
                for feature in features:
                    used = int(adopters.get((period, feature), 0))
                    actives = int(active.get(period, 0))
                    share = None
                    if feature in north_star["events"] and total:
                        share = int(by_feature.get((period, feature), 0)) / total
                    rows.append(
                        {
                            "grain": grain,
                            "period_start": period,
                            "feature": feature,
                            "adopters": used if complete else None,
                            "active_entities": actives if complete else None,
                            "adoption_rate": used / actives if complete and actives else None,
                            "north_star_value": float(total) if complete else None,
                            "north_star_share": share if complete else None,
                            "is_complete_period": complete,
                        }
                    )
        return pd.DataFrame(rows)


def _published(warehouse: Path, table: str, keys: list[str]) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        frame = con.execute(f"select * from marts.{table}").df()
    for column in frame.columns:
        if column.endswith("_start") or column == "as_of_date":
            frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame.sort_values(keys).reset_index(drop=True)


def _assert_cells_equal(published: pd.DataFrame, expected: pd.DataFrame, keys: list[str]):
    """Same cells, same values; a null is a null (never 0) and a value is never null."""
    expected = expected.sort_values(keys).reset_index(drop=True)
    assert list(published.columns) == list(expected.columns)
    assert published[keys].values.tolist() == expected[keys].values.tolist()
    for column in published.columns:
        got, want = published[column], expected[column]
        null_got, null_want = got.isna(), want.isna()
        if pd.api.types.is_float_dtype(got) or pd.api.types.is_float_dtype(want):
            same = np.isclose(
                got.astype(float), want.astype(float), rtol=1e-12, atol=0, equal_nan=True
            )
        else:
            same = (got == want) | (null_got & null_want)
        wrong = ~same | (null_got != null_want)
        if wrong.any():
            row = int(np.flatnonzero(wrong.to_numpy())[0])
            cell = {key: _plain(published.loc[row, key]) for key in keys}
            raise AssertionError(
                f"{column} at {cell}: {_plain(got[row])}, expected {_plain(want[row])} "
                f"({int(wrong.sum())} cells differ)"
            )


def _plain(value):
    """A cell for a message: null for a missing value, Python scalars for NumPy's."""
    if value is None or (not isinstance(value, str | dt.date) and pd.isna(value)):
        return "null"
    return value.item() if isinstance(value, np.generic) else value


@pytest.fixture(scope="module")
def recomputed(demo) -> Recomputed:
    return Recomputed(demo.warehouse)


def test_the_cohort_matrix_matches_a_recomputation_cell_by_cell(demo, recomputed):
    keys = ["cohort_grain", "cohort_start", "age"]
    published = _published(demo.warehouse, "rpt_cohort_retention", keys)
    expected = recomputed.cohort_cells()
    _assert_cells_equal(published, expected, keys)
    # the fixture holds what the test is about: complete cells, and incomplete ones in a
    # period that has events (the partial last week), each null rather than a count
    assert set(published.cohort_grain) == {"week", "month"}
    incomplete = published[~published.is_complete]
    assert len(incomplete) and incomplete.retained_entities.isna().all()
    last_week = max(recomputed.periods("week"))
    assert not recomputed.is_complete("week", last_week)
    assert (recomputed.active_days.day >= last_week).any()


def test_the_matrix_agrees_with_the_spec_retention_metric(demo):
    """four_period_retention (kind retention, periods_after 4) is the matrix's age-4 column,
    read by the period it lands in: one notion of cohort and completeness."""
    with duckdb.connect(str(demo.warehouse), read_only=True) as con:
        pairs = con.execute(
            """
            select m.period_start, m.value, c.retention_rate, m.is_complete_period, c.is_complete
            from marts.fct_metric_values as m
            inner join marts.rpt_cohort_retention as c
                on c.cohort_grain = m.grain and c.period_start = m.period_start and c.age = 4
            where m.metric_name = 'four_period_retention' and m.grain = 'week'
              and m.segment_name = 'all'
            """
        ).fetchall()
    assert len(pairs) > 10
    for period, metric, cell, metric_complete, cell_complete in pairs:
        assert metric_complete == cell_complete, period
        if cell_complete:
            assert cell == pytest.approx(metric, rel=1e-12), period


def test_stickiness_and_the_active_days_distribution_match_a_recomputation(demo, recomputed):
    daily, distribution = recomputed.stickiness
    _assert_cells_equal(
        _published(demo.warehouse, "rpt_stickiness", ["as_of_date"]), daily, ["as_of_date"]
    )
    keys = ["as_of_date", "window_days", "active_days"]
    _assert_cells_equal(
        _published(demo.warehouse, "rpt_active_days_distribution", keys), distribution, keys
    )
    assert not daily.is_complete.iloc[-1] and daily.is_complete.iloc[:-1].all()
    assert (~daily.is_full_window).sum() == 27


def test_feature_adoption_matches_a_recomputation(demo, recomputed):
    keys = ["grain", "period_start", "feature"]
    published = _published(demo.warehouse, "rpt_feature_adoption", keys)
    _assert_cells_equal(published, recomputed.adoption(), keys)
    # and the North Star beside it is the published one
    with duckdb.connect(str(demo.warehouse), read_only=True) as con:
        (mismatches,) = con.execute(
            """
            select count(*) from marts.rpt_feature_adoption as a
            inner join marts.rpt_north_star as n
                on a.grain = n.grain and a.period_start = n.period_start
            where a.is_complete_period and a.north_star_value <> n.value
            """
        ).fetchall()[0]
    assert mismatches == 0


def test_the_comparison_sees_a_zero_for_an_incomplete_cell_and_a_wrong_count(
    demo, recomputed, tmp_path
):
    """The checks above can fail: on a copy of the warehouse, an incomplete cell shown as
    0 and an MAU off by one are each reported with the cell they are in."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo.warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute(
            "update marts.rpt_cohort_retention set retained_entities = 0, retention_rate = 0 "
            "where not is_complete and cohort_grain = 'week' and age = 1"
        )
        con.execute(
            "update marts.rpt_stickiness set mau = mau + 1 "
            "where as_of_date = "
            "(select max(as_of_date) from marts.rpt_stickiness where is_complete)"
        )
    keys = ["cohort_grain", "cohort_start", "age"]
    with pytest.raises(
        AssertionError,
        match=r"retained_entities at \{'cohort_grain': 'week', .*'age': 1\}: 0, expected null",
    ):
        _assert_cells_equal(
            _published(copy, "rpt_cohort_retention", keys), recomputed.cohort_cells(), keys
        )
    daily, _ = recomputed.stickiness
    with pytest.raises(
        AssertionError,
        match=r"mau at \{'as_of_date': datetime\.date\(.*\)\}: \d+, expected \d+.*\(1 cells",
    ):
        _assert_cells_equal(
            _published(copy, "rpt_stickiness", ["as_of_date"]), daily, ["as_of_date"]
        )
