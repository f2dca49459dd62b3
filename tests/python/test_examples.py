"""The seed examples (examples/specs/*.yml) build on their own fixtures and are right.

For each example: one `dbt build` of the whole project with the example file as --vars
(exactly what examples/README.md tells a user to run), every data test passing, and the
North Star, every other metric and the aha moments equal to a plain-Python recomputation
from the fixture's CSV rows (metric_oracle.py, which shares no code with the SQL).
Hand-derived expectations for the planted cases keep both sides honest.
"""

from __future__ import annotations

import filecmp
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from metric_checks import (
    BUILD_WITHOUT_UNIT_TESTS,
    PROJECT_DIR,
    Build,
    aha_moments,
    diff_aha,
    diff_values,
    metric_values,
    run_dbt,
)
from metric_oracle import (
    ROLE_KEYS,
    Oracle,
    midnight,
    parse_utc,
    period_start,
    read_attributes,
    read_events,
    shift,
)

pytestmark = pytest.mark.dbt

EXAMPLES = ["slack", "spotify", "airbnb", "hubspot", "amplitude", "netflix"]
# Event rows per fixture: small, but Slack's reaches its 2,000-message aha (one team's
# 2,020 messages), which takes 2,000 rows.
MAX_ROWS = {"slack": 2500}
SPECS = PROJECT_DIR / "examples" / "specs"
FIXTURES = PROJECT_DIR / "tests" / "fixtures" / "examples"


@dataclass(frozen=True)
class Example:
    name: str
    vars_text: str
    variables: dict[str, Any]

    @property
    def spec(self) -> dict[str, Any]:
        return self.variables["northstar"]

    def oracle(self) -> Oracle:
        entity = self.spec.get("entity", "account")
        attributes_var = f"northstar__raw_{entity}s_path"
        return Oracle(
            self.spec,
            read_events(PROJECT_DIR / self.variables["northstar__raw_events_path"]),
            read_attributes(PROJECT_DIR / self.variables[attributes_var], f"{entity}_id"),
            as_of=parse_utc(self.variables["northstar__as_of"]),
        )


def load_example(name: str) -> Example:
    text = (SPECS / f"{name}.yml").read_text()
    return Example(name=name, vars_text=text, variables=yaml.safe_load(text))


@dataclass(frozen=True)
class Built:
    example: Example
    build: Build
    oracle: Oracle


@pytest.fixture(scope="module", params=EXAMPLES)
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """One dbt build per example (pytest groups the tests by example)."""
    example = load_example(request.param)
    build = run_dbt(
        BUILD_WITHOUT_UNIT_TESTS, tmp_path_factory.mktemp(example.name), example.vars_text
    )
    assert build.result.returncode == 0, build.log
    return Built(example=example, build=build, oracle=example.oracle())


# --- the specs and fixtures, without dbt ---------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_is_a_complete_spec(name: str) -> None:
    example = load_example(name)
    spec = example.spec
    assert 3 <= len(spec["inputs"]) <= 5
    assert spec["guardrails"], "every example declares guardrails"
    metrics = [spec["north_star"], *(m for _, key in ROLE_KEYS for m in spec.get(key, []))]
    for metric in metrics:
        assert metric.get("owner"), f"{name}: {metric['name']} has no owner"
        assert metric.get("definition_version"), f"{name}: {metric['name']} has no version"
    for guardrail in spec["guardrails"]:
        assert {"direction", "warn", "breach"} <= guardrail.keys(), guardrail["name"]
    # the example reads its own fixture, with a fixed clock
    assert example.variables["northstar__raw_events_path"].startswith(
        f"tests/fixtures/examples/{name}/"
    )
    assert example.variables["northstar__as_of"]
    readme = (PROJECT_DIR / "examples" / "README.md").read_text()
    assert f"specs/{name}.yml" in readme


def test_fixtures_are_reproducible(tmp_path: Path) -> None:
    """The committed CSVs are exactly what generate.py writes: nothing edited by hand."""
    loader = importlib.util.spec_from_file_location("generate", FIXTURES / "generate.py")
    assert loader is not None and loader.loader is not None
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    counts = module.generate(tmp_path)
    assert set(counts) == set(EXAMPLES)
    for name, rows in counts.items():
        assert 100 <= rows <= MAX_ROWS.get(name, 500), (
            f"{name}: keep the fixture small ({rows} rows)"
        )
        written = sorted(p.name for p in (tmp_path / name).iterdir())
        committed = sorted(p.name for p in (FIXTURES / name).glob("*.csv"))
        assert written == committed, name
        _, mismatch, errors = filecmp.cmpfiles(tmp_path / name, FIXTURES / name, written)
        assert not mismatch and not errors, f"{name}: regenerate with generate.py: {mismatch}"


# --- each example built by dbt ------------------------------------------------------------


def test_build_ran_every_data_test(built: Built) -> None:
    results = built.build.run_results()
    tests = [r for r in results if r["unique_id"].startswith("test.")]
    models = [r for r in results if r["unique_id"].startswith("model.")]
    assert len(tests) >= 50 and len(models) >= 15
    # a saved query (the semantic layer's export) has nothing to run here: no-op
    ok = {"pass", "success", "no-op"}
    failed = [(r["unique_id"], r["status"]) for r in results if r["status"] not in ok]
    assert not failed, failed
    assert all(r["status"] == "pass" for r in tests)


def test_north_star_weekly_values_match_python(built: Built) -> None:
    north_star = built.example.spec["north_star"]["name"]
    expected = built.oracle.values()
    problems = diff_values(
        expected,
        metric_values(built.build),
        keep=lambda key: key[0] == north_star and key[1] == "week",
    )
    assert not problems, "\n".join(problems[:30])
    weekly_total = [
        v.value for k, v in expected.items() if k[0] == north_star and k[1:2] == ("week",)
    ]
    assert len(weekly_total) >= 6 and any(weekly_total), "the NSM must move on the fixture"


def test_every_metric_at_every_grain_matches_python(built: Built) -> None:
    problems = diff_values(built.oracle.values(), metric_values(built.build))
    assert not problems, "\n".join(problems[:30])


def test_aha_moments_match_python(built: Built) -> None:
    problems = diff_aha(built.oracle.aha, aha_moments(built.build))
    assert not problems, "\n".join(problems)


def test_feature_adoption_matches_python(built: Built) -> None:
    """rpt_feature_adoption (docs/cohorts.md) per grain, period and activity event, with the
    North Star's share where it is a count or a sum of events: spotify's is a sum of
    ms_played over two events, so each one's share is a real part; hubspot's counts
    entities, so there is none. A period not over is null."""
    oracle, north_star = built.oracle, built.example.spec["north_star"]
    entity = oracle.entity_column
    shares = north_star["kind"] in ("count", "sum")
    expected = {}
    for grain in oracle.grains:
        for period in oracle.spine(grain):
            rows = [e for e in oracle.events if period_start(grain, e.occurred_at) == period]
            active = {getattr(e, entity) for e in rows if e.event_name in oracle.activity_events}
            total = oracle.measure(north_star, rows, {}) if shares else 0
            complete = midnight(shift(grain, period, 1)) <= oracle.as_of_at
            for feature in sorted(oracle.activity_events):
                adopters = {getattr(e, entity) for e in rows if e.event_name == feature}
                share = None
                if total and feature in north_star["events"]:
                    part = oracle.measure({**north_star, "events": [feature]}, rows, {})
                    share = part / total
                expected[(grain, period, feature)] = (
                    (len(adopters), len(active), share) if complete else (None, None, None)
                )
    published = {
        (grain, period, feature): (adopters, active, share)
        for grain, period, feature, adopters, active, share in built.build.query(
            "select grain, period_start, feature, adopters, active_entities, north_star_share "
            "from marts.rpt_feature_adoption"
        )
    }
    assert published.keys() == expected.keys()
    wrong = [
        (key, published[key], want)
        for key, want in expected.items()
        if published[key][:2] != want[:2]
        or (want[2] is None) != (published[key][2] is None)
        or (want[2] is not None and published[key][2] != pytest.approx(want[2], rel=1e-12))
    ]
    assert not wrong, wrong[:10]
    if built.example.name == "spotify":  # the fixture holds a split share
        assert any(0 < want[2] < 1 for want in expected.values() if want[2] is not None)


def test_catalog_lists_the_spec(built: Built) -> None:
    spec = built.example.spec
    rows = built.build.query(
        "select metric_name, role, owner, parent_metric, warn_threshold, breach_threshold "
        "from marts.dim_metrics order by sort_order"
    )
    expected = [(spec["north_star"]["name"], "north_star", spec["north_star"]["owner"], None)]
    for role, key in ROLE_KEYS:
        expected += [
            (m["name"], role, m["owner"], m.get("parent", spec["north_star"]["name"]))
            for m in spec.get(key, [])
        ]
    assert [row[:4] for row in rows[: len(expected)]] == expected
    # then the built-in diagnostics: no owner, no parent (docs/spec.md, "Diagnostic metrics")
    diagnostics = rows[len(expected) :]
    assert [row[1] for row in diagnostics] == ["diagnostic"] * 6
    assert {row[2:4] for row in diagnostics} == {(None, None)}
    thresholds = {m["name"]: (m["warn"], m["breach"]) for m in spec["guardrails"]}
    assert {row[0]: row[4:] for row in rows if row[0] in thresholds} == thresholds


# --- the planted cases, derived by hand from generate.py ---------------------------------

# (entity, grain, period_start) -> the entity's North Star contribution in that period
PLANTED_NSM = {
    # T10 is active in the week of May 27 (messages on three days), but its messages carry
    # no channel_type: none is between teams
    "slack": {("T10", "2024-05-27"): 0},
    # H02 finishes titles in the week of May 13 (active) but watches nothing until May 20
    "netflix": {("H02", "2024-05-13"): 0},
    # five distinct features, three on Sunday and two on Monday: neither week counts
    "hubspot": {("P08", "2024-05-20"): 0, ("P08", "2024-05-27"): 0, ("P02", "2024-05-13"): 0},
    # exactly three analyses count (min_events: 3); two do not
    "amplitude": {("A02", "2024-05-06"): 1, ("A02", "2024-05-13"): 0, ("A05", "2024-05-20"): 0},
}

# (metric, entity, grain, period_start) -> the entity's numerator contribution there
PLANTED_INPUTS = {
    # min_active_days: 3. Week 2024-05-27: T09 has four activity events on exactly two UTC
    # days (Tue 23:59:59, Wed 00:00:00), T10 one message on each of exactly three days
    # (Mon 00:00:00, Thu, Sun 23:59:59). May: T09 on 3 days (its Sunday 05-26 counts
    # there), T10 on 2; June: T10 on 2 (06-02, 06-03). A day is never 3 days.
    "slack": {
        ("share_of_teams_active_3_days", "T09", "week", "2024-05-27"): 0,
        ("share_of_teams_active_3_days", "T10", "week", "2024-05-27"): 1,
        ("share_of_teams_active_3_days", "T09", "month", "2024-05-01"): 1,
        ("share_of_teams_active_3_days", "T10", "month", "2024-05-01"): 0,
        ("share_of_teams_active_3_days", "T10", "month", "2024-06-01"): 0,
        ("share_of_teams_active_3_days", "T10", "day", "2024-05-27"): 0,
    },
}

# entity -> (has_reached_aha, days_to_aha, qualifying_events_in_window)
PLANTED_AHA = {
    "spotify": {"L02": (True, 7, 3), "L04": (False, None, 2)},  # 3rd save at +7 d / +7 d 1 s
    "airbnb": {"G09": (True, 30, 1), "G10": (False, None, 0)},  # 1st booking at +30 d / +1 s
    "amplitude": {"A03": (True, 14, 1), "A04": (False, None, 0)},  # share at +14 d / +1 s
    # 2,000 lifetime messages: T11's 2,000th lands 17 days after its first event (2,020 in
    # all, every one within its 365 days); T01's few hundred never get there
    "slack": {"T11": (True, 17, 2020), "T01": (False, None, None)},
    "netflix": {"H02": (True, 7, 3), "H03": (False, None, 2)},  # 3rd title at +7 d / +7 d 1 s
}

# entity -> {week: lifecycle_state}
PLANTED_LIFECYCLE = {
    # dormant in week 3, back in week 4: resurrecting
    "slack": {"T03": {"2024-05-20": None, "2024-05-27": "resurrecting"}},
    "netflix": {"H04": {"2024-05-20": None, "2024-05-27": "resurrecting"}},
    "airbnb": {"G01": {"2024-05-13": "returning", "2024-06-03": "resurrecting"}},
    # first seen on Sunday 23:59:59 (new that week), active again on Monday (returning)
    "amplitude": {"A04": {"2024-05-13": "new", "2024-05-20": "returning"}},
}


def test_planted_cases(built: Built) -> None:
    name = built.example.name
    north_star = built.example.spec["north_star"]["name"]
    checked = 0
    for (entity, week), contribution in PLANTED_NSM.get(name, {}).items():
        rows = built.build.query(
            f"select {north_star}__numerator from intermediate.int_entity_periods "
            f"where entity_id = '{entity}' and grain = 'week' and period_start = '{week}'"
        )
        assert rows == [(contribution,)], (entity, week)
        checked += 1
    for (metric, entity, grain, period), contribution in PLANTED_INPUTS.get(name, {}).items():
        rows = built.build.query(
            f"select {metric}__numerator from intermediate.int_entity_periods "
            f"where entity_id = '{entity}' and grain = '{grain}' and period_start = '{period}'"
        )
        assert rows == [(contribution,)], (metric, entity, grain, period)
        checked += 1
    moments = aha_moments(built.build)
    for entity, (reached, days, qualifying) in PLANTED_AHA.get(name, {}).items():
        _, _, has_reached, days_to_aha, in_window = moments[entity]
        assert (has_reached, days_to_aha) == (reached, days), entity
        assert qualifying is None or in_window == qualifying, entity
        checked += 1
    for entity, states in PLANTED_LIFECYCLE.get(name, {}).items():
        for week, state in states.items():
            rows = built.build.query(
                "select lifecycle_state from intermediate.int_entity_periods "
                f"where entity_id = '{entity}' and grain = 'week' and period_start = '{week}'"
            )
            assert rows == ([(state,)] if state else []), (entity, week)
            checked += 1
    assert checked > 0, f"{name} has no planted case"


def test_aha_discovery_uses_the_aha_window_or_14_days_for_a_lifetime_aha(built: Built) -> None:
    aha_window = built.example.spec["aha"]["window_days"]
    rows = built.build.query(
        "select distinct window_days, bool_or(is_configured) from marts.rpt_aha_discovery "
        "group by window_days"
    )
    if aha_window < 56:  # ends before week 8, where retention is measured
        assert rows == [(aha_window, True)]
    else:  # Slack's 2,000 messages in 365 days: discovery looks at the first 14 days
        assert rows == [(14, False)]
