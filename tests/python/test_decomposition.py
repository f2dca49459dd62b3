"""fct_north_star_decomposition and fct_north_star_movers, and `northstar explain`.

- On the demo: a pandas recomputation from the intermediate tables (entity periods and
  segments, sharing no SQL with the model) equals the model for every complete week,
  every segment and every component; the latest week is driven by breadth.
- A tiny generated fixture with a planted driver (plan a's rate drops, plan b grows) built
  with dbt decomposes into exactly those effects, with hand-derived values and signs.
- The CLI prints the same decomposition as a table and as JSON, and refuses what the
  snapshot does not hold.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import BIN
from metric_checks import BUILD_WITHOUT_UNIT_TESTS, run_dbt

NORTH_STAR = "messages_sent"
KEY = ["period_start", "segment_name", "segment_value", "decomposition", "breakdown"]
KEY += ["component", "component_value"]


def _read(warehouse: Path, sql: str, *params) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).df()


# --- the demo: a recomputation in pandas -------------------------------------------------


def _recompute(periods: pd.DataFrame, segments: pd.DataFrame, weeks: list) -> pd.DataFrame:
    """Every component of an additive North Star, from entity periods, by its definition."""
    rows = []
    periods = periods.merge(segments, on="entity_id")
    for week in weeks:
        previous_week = week - pd.Timedelta(days=7)
        for (name, value), group in periods.groupby(["segment_name", "segment_value"]):
            now = group[group.period_start == week].set_index("entity_id")
            before = group[group.period_start == previous_week].set_index("entity_id")
            both = now.merge(
                before, how="outer", left_index=True, right_index=True, suffixes=("_1", "_0")
            )
            x1, x0 = both.x_1.fillna(0), both.x_0.fillna(0)
            active1 = both.is_active_1.fillna(False).astype(bool)
            active0 = both.is_active_0.fillna(False).astype(bool)
            state = both.lifecycle_state_1
            s1, s0 = x1[active1].sum(), x0[active0].sum()
            a1, a0 = int(active1.sum()), int(active0.sum())
            d1, d0 = (s1 / a1 if a1 else 0.0), (s0 / a0 if a0 else 0.0)
            not_active = x1[~active1].sum() - x0[~active0].sum()

            parts = []
            add = parts.append

            add(("breadth_depth", "breadth", (a1 - a0) * (d0 + d1) / 2, a1 - a0))
            add(("breadth_depth", "depth", (d1 - d0) * (a0 + a1) / 2, None))
            add(("breadth_depth", "not_active", not_active, None))
            for component, lifecycle_state in [
                ("new", "new"),
                ("resurrected", "resurrecting"),
            ]:
                members = active1 & (state == lifecycle_state)
                add(("lifecycle", component, x1[members].sum(), int(members.sum())))
            returning = active1 & active0
            change = x1[returning].sum() - x0[returning].sum()
            add(("lifecycle", "returning", change, int(returning.sum())))
            dormant = active0 & ~active1
            add(("lifecycle", "dormant", -x0[dormant].sum(), int(dormant.sum())))
            add(("lifecycle", "not_active", not_active, int((~active1 & ~active0).sum())))
            for decomposition, component, contribution, entities in parts:
                rows.append(
                    (
                        week,
                        name,
                        value,
                        decomposition,
                        None,
                        component,
                        None,
                        contribution,
                        entities,
                    )
                )
    by_segment = (
        periods[periods.segment_name != "all"]
        .groupby(["segment_name", "segment_value", "period_start"])
        .x.sum()
    )
    for week in weeks:
        previous_week = week - pd.Timedelta(days=7)
        for (name, value), series in by_segment.groupby(level=[0, 1]):
            series = series.droplevel([0, 1])
            change = series.get(week, 0.0) - series.get(previous_week, 0.0)
            rows.append((week, "all", "all", "segment", name, "change", value, change, None))
    columns = [*KEY, "contribution", "entities"]
    return pd.DataFrame(rows, columns=columns)


def test_the_recomputation_agrees_for_every_complete_week(demo):
    model = _read(
        demo.warehouse,
        "select * from marts.fct_north_star_decomposition "
        "where grain = 'week' and is_complete_period",
    )
    periods = _read(
        demo.warehouse,
        f"select entity_id, period_start, is_active, lifecycle_state, "
        f"{NORTH_STAR}__numerator as x from intermediate.int_entity_periods "
        "where grain = 'week'",
    )
    segments = _read(demo.warehouse, "select * from intermediate.int_entity_segments")
    weeks = sorted(pd.to_datetime(model.period_start.unique()))
    assert len(weeks) >= 20, "the demo has months of complete weeks"
    periods["period_start"] = pd.to_datetime(periods.period_start)
    expected = _recompute(periods, segments, weeks)

    model["period_start"] = pd.to_datetime(model.period_start)
    merged = expected.merge(
        model, on=KEY, how="outer", suffixes=("_expected", "_model"), indicator=True
    )
    assert (merged._merge == "both").all(), merged[merged._merge != "both"][KEY].head()
    gap = (merged.contribution_expected - merged.contribution_model).abs()
    assert gap.max() < 1e-6, merged.loc[gap.idxmax(), KEY]
    counted = merged.entities_expected.notna()
    assert (merged.entities_expected[counted] == merged.entities_model[counted]).all()
    # and the model's own identity, against fct_metric_values' change
    changes = _read(
        demo.warehouse,
        "select period_start, segment_name, segment_value, change_abs as fct_change "
        "from marts.fct_metric_values where metric_name = ? and grain = 'week' "
        "and is_complete_period and previous_value is not null",
        NORTH_STAR,
    )
    changes["period_start"] = pd.to_datetime(changes.period_start)
    sums = (
        model.groupby([*KEY[:5]], dropna=False)
        .agg(contribution=("contribution", "sum"))
        .reset_index()
        .merge(changes, on=KEY[:3])
    )
    assert len(sums) == len(model.groupby(KEY[:5], dropna=False))
    assert (sums.contribution - sums.fct_change).abs().max() < 1e-6


def test_breadth_and_depth_move_with_active_entities_and_their_mean(demo):
    """breadth has the sign of the change in active entities, depth that of the change in
    messages per active entity (the demo's messages are activity events: not_active is 0)."""
    rows = _read(
        demo.warehouse,
        "select period_start, component, entities, previous_amount, current_amount, "
        "contribution from marts.fct_north_star_decomposition "
        "where grain = 'week' and segment_name = 'all' and decomposition = 'breadth_depth'",
    )
    breadth = rows[rows.component == "breadth"]
    assert (breadth.entities == breadth.current_amount - breadth.previous_amount).all()
    assert ((breadth.contribution > 0) == (breadth.entities > 0)).all()
    depth = rows[rows.component == "depth"]
    moved = depth.current_amount != depth.previous_amount
    assert ((depth.contribution > 0) == (depth.current_amount > depth.previous_amount))[moved].all()
    assert (rows[rows.component == "not_active"].contribution == 0).all()


def test_movers_are_the_largest_entity_contributions(demo):
    movers = _read(
        demo.warehouse,
        "select * from marts.fct_north_star_movers where grain = 'week' "
        "and period_start = (select max(period_start) from marts.fct_north_star_movers "
        "where grain = 'week' and is_complete_period)",
    )
    week = movers.period_start.iloc[0]
    changes = _read(
        demo.warehouse,
        "select entity_id, current_numerator - previous_numerator as contribution "
        "from intermediate.int_north_star_entity_changes where grain = 'week' "
        "and period_start = ?",
        week,
    )
    for direction, ascending in [("up", False), ("down", True)]:
        top = changes.sort_values(["contribution", "entity_id"], ascending=[ascending, True])
        top = top[(top.contribution > 0) if direction == "up" else (top.contribution < 0)]
        mine = movers[movers.direction == direction].sort_values("mover_rank")
        assert len(mine) == 10
        assert list(mine.contribution) == list(top.contribution.head(10))
    assert movers.segments.str.contains("plan=").all()


# --- a planted driver, built with dbt --------------------------------------------------------

PLANTED_SPEC = """
northstar__raw_events_path: {dir}/events.csv
northstar__raw_accounts_path: {dir}/accounts.csv
northstar__raw_users_path: {dir}/no_users.csv
northstar__as_of: "2024-01-16T00:00:00Z"
northstar:
  entity: account
  grains: [week]
  segments:
    - {{name: plan, source: entity}}
  events:
    message_sent: {{}}
  aha: {{events: [message_sent], threshold: 1, window_days: 7}}
  north_star:
    name: messages_per_active_team
    owner: tests
    kind: ratio
    numerator: {{kind: count, events: [message_sent]}}
    denominator: {{kind: active_entities}}
  inputs:
    - {{name: messages, owner: tests, kind: count, events: [message_sent]}}
    - {{name: teams, owner: tests, kind: entities, events: [message_sent]}}
    - {{name: new_teams, owner: tests, kind: new_entities}}
"""

# (team, plan, messages in the week of 2024-01-01, in the week of 2024-01-08)
PLANTED_TEAMS = [
    ("a1", "a", 10, 4),  # plan a: the same two teams, 10 -> 4 messages each: its rate drops
    ("a2", "a", 10, 4),
    ("b1", "b", 2, 2),  # plan b: the same rate, 2 teams -> 4: it grows
    ("b2", "b", 2, 2),
    ("b3", "b", 0, 2),
    ("b4", "b", 0, 2),
]


def _write_planted(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    accounts = ["account_id,created_at,plan"]
    events = ["event_id,occurred_at,received_at,user_id,account_id,event_name,properties"]
    for team, plan, *weeks in PLANTED_TEAMS:
        first = "2024-01-01" if weeks[0] else "2024-01-08"
        accounts.append(f"{team},{first}T08:00:00Z,{plan}")
        for start, messages in zip(["2024-01-0{}", "2024-01-{:02d}"], weeks, strict=True):
            for n in range(messages):
                day = (1 if start.startswith("2024-01-0{") else 8) + n % 5
                stamp = f"2024-01-{day:02d}T{9 + n // 5:02d}:00:00Z"
                events.append(f"{team}-{day}-{n},{stamp},{stamp},{team}-u,{team},message_sent,{{}}")
    (directory / "accounts.csv").write_text("\n".join(accounts) + "\n")
    (directory / "events.csv").write_text("\n".join(events) + "\n")


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> pd.DataFrame:
    workdir = tmp_path_factory.mktemp("planted")
    _write_planted(workdir / "data")
    build = run_dbt(BUILD_WITHOUT_UNIT_TESTS, workdir, PLANTED_SPEC.format(dir=workdir / "data"))
    assert build.result.returncode == 0, build.result.stdout[-6000:]
    return _read(
        workdir / "warehouse.duckdb",
        "select * from marts.fct_north_star_decomposition "
        "where period_start = date '2024-01-08' and segment_name = 'all'",
    )


@pytest.mark.dbt
def test_the_planted_driver_is_a_rate_drop_and_a_mix_shift(planted):
    # messages per active team: (20 + 4) / 4 = 6 -> (8 + 8) / 6 = 8/3
    change = 8 / 3 - 6
    assert planted.change_abs.iloc[0] == pytest.approx(change)
    effects = planted[planted.decomposition == "segment"].set_index(
        ["component_value", "component"]
    )["contribution"]
    # weights 1/2 -> 1/3 (a) and 1/2 -> 2/3 (b); rates 10 -> 4 (a) and 2 -> 2 (b)
    assert effects[("a", "rate")] == pytest.approx((4 - 10) * (1 / 2 + 1 / 3) / 2)  # -2.5
    assert effects[("b", "rate")] == pytest.approx(0, abs=1e-12)
    assert effects[("a", "mix")] == pytest.approx((1 / 3 - 1 / 2) * (10 + 4) / 2)  # -7/6
    assert effects[("b", "mix")] == pytest.approx((2 / 3 - 1 / 2) * 2)  # +1/3
    assert effects.sum() == pytest.approx(change)
    # the other splits of the same change
    parts = planted[planted.decomposition != "segment"].set_index(["decomposition", "component"])
    contribution = parts["contribution"]
    assert contribution[("lifecycle", "new")] == pytest.approx(4 / 6)
    assert contribution[("lifecycle", "returning")] == pytest.approx(12 / 6 - 24 / 4)
    assert contribution[("lifecycle", "dormant")] == 0
    assert parts.loc[("lifecycle", "new"), "entities"] == 2
    assert contribution[("numerator_denominator", "numerator")] == pytest.approx(
        (16 - 24) * (1 / 4 + 1 / 6) / 2
    )
    assert contribution[("numerator_denominator", "denominator")] == pytest.approx(
        (1 / 6 - 1 / 4) * (24 + 16) / 2
    )
    assert "breadth_depth" not in set(planted.decomposition)  # a quotient has none
    for _, group in planted.groupby(["decomposition", "breakdown"], dropna=False):
        assert group.contribution.sum() == pytest.approx(change)


# --- the CLI ---------------------------------------------------------------------------------


def _explain(demo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "northstar"), "explain", *args],
        env=demo.env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_explain_prints_the_latest_complete_week(demo):
    result = _explain(demo)
    assert result.returncode == 0, result.stderr
    latest = (
        _read(
            demo.warehouse,
            "select max(period_start) as p from marts.fct_north_star_decomposition "
            "where grain = 'week' and is_complete_period",
        )
        .p.iloc[0]
        .date()
    )
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Messages sent, week of {latest} vs ")
    for title in ["Breadth x depth", "Lifecycle", "By plan", "Top movers"]:
        assert any(line.startswith(title) for line in lines), title
    assert any(line.split()[:1] == ["breadth"] for line in lines)


def test_explain_json_adds_up_and_follows_period_and_grain(demo):
    result = _explain(demo, "--json", "--grain", "month", "--period", "2026-08-20")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert (payload["grain"], payload["period_start"]) == ("month", "2026-08-01")
    assert payload["previous_period_start"] == "2026-07-01"
    assert {d["decomposition"] for d in payload["decompositions"]} == {
        "breadth_depth",
        "lifecycle",
        "segment",
    }
    for section in payload["decompositions"]:
        total = sum(c["contribution"] for c in section["components"])
        assert total == pytest.approx(payload["change_abs"]), section["decomposition"]
    assert {m["direction"] for m in payload["movers"]} == {"up", "down"}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--grain", "year"], 6, "unknown grain 'year'"),
        (["--period", "2001-01-01"], 6, "--period 2001-01-01: the decomposition of the week"),
        (["--period", "2026-02-30"], 2, "is not a date"),
    ],
)
def test_explain_refuses_what_the_snapshot_does_not_hold(demo, args, code, message):
    result = _explain(demo, *args)
    assert result.returncode == code, result.stdout + result.stderr
    assert message in result.stderr
    assert result.stdout == ""
