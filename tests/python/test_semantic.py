"""The MetricFlow semantic layer: generated from the spec, and equal to fct_metric_values.

Two kinds of tests:
- generator tests (no build: dbt only normalizes the spec, `dbt run-operation`): the
  committed YAML is what the spec generates, a spec change without regenerating fails
  the check, and the include/exclude rules;
- agreement tests (slow, marker `dbt`): the session's small demo build (the `demo`
  fixture in conftest.py), then `mf` in a subprocess, compared number by number with
  fct_metric_values.
"""

from __future__ import annotations

import functools
import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from spec_yaml import raw_spec

from northstar.cli import cli
from northstar.semantic import GENERATED_FILE, check
from northstar.semantic.plan import ACTIVE_ENTITIES, plan_semantic_layer
from northstar.semantic.render import render_yaml
from northstar.spec import load_spec

PROJECT_DIR = Path(__file__).resolve().parents[2]
REL_TOL = 1e-9


# --- helpers ---------------------------------------------------------------------------


@functools.cache
def demo_spec() -> dict:
    """The demo spec, normalized by dbt (one run-operation per session)."""
    return load_spec(PROJECT_DIR)


def copy_project(destination: Path) -> Path:
    """dbt_project.yml and the generated YAML copied, every other file dbt parses linked:
    the generator runs dbt (which normalizes the spec) on the copy, and writes only there."""
    shutil.copy(PROJECT_DIR / "dbt_project.yml", destination / "dbt_project.yml")
    for entry in ("macros", "seeds", "tests"):
        (destination / entry).symlink_to(PROJECT_DIR / entry)
    for source in (PROJECT_DIR / "models").rglob("*"):
        relative = source.relative_to(PROJECT_DIR)
        if source.is_file() and relative != GENERATED_FILE:
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            (destination / relative).symlink_to(source)
    shutil.copy(PROJECT_DIR / GENERATED_FILE, destination / GENERATED_FILE)
    return destination


def edit_spec(project: Path, edit) -> None:
    path = project / "dbt_project.yml"
    document = yaml.safe_load(path.read_text())
    edit(document["vars"]["northstar"])
    path.write_text(yaml.safe_dump(document, sort_keys=False))


@dataclass(frozen=True)
class Mismatch:
    metric_name: str
    period_start: str
    segment_value: str
    expected: float | None
    actual: float | None


def compare(expected: pd.DataFrame, actual: pd.DataFrame) -> list[Mismatch]:
    """Rows (metric_name, period_start, segment_value, value): fct_metric_values vs MetricFlow.

    Equal within REL_TOL, both null, or, when MetricFlow has no row, fct_metric_values says
    0 or null (MetricFlow zero-fills missing periods but not missing segment values).
    """
    keys = ["metric_name", "period_start", "segment_value"]
    joined = expected.merge(
        actual, on=keys, how="outer", suffixes=("_fct", "_mf"), indicator="source"
    )
    mismatches = []
    for row in joined.itertuples():
        fct = None if pd.isna(row.value_fct) else float(row.value_fct)
        mf = None if pd.isna(row.value_mf) else float(row.value_mf)
        if row.source == "left_only" and fct in (None, 0.0):
            continue
        if fct is None and mf is None:
            continue
        if fct is not None and mf is not None and math.isclose(fct, mf, rel_tol=REL_TOL):
            continue
        mismatches.append(Mismatch(row.metric_name, row.period_start, row.segment_value, fct, mf))
    return mismatches


# --- the generator ---------------------------------------------------------------------


def test_committed_yaml_is_what_the_spec_generates():
    result = check(PROJECT_DIR)
    assert result.ok, "run `northstar semantic` and commit the result:\n" + result.diff


def test_check_command_passes_on_the_repository():
    result = CliRunner().invoke(cli, ["semantic", "--check"])
    assert result.exit_code == 0, result.output


def test_check_fails_when_the_spec_changes_without_regenerating(tmp_path, monkeypatch):
    project = copy_project(tmp_path)

    def raise_warn(spec):
        spec["guardrails"][0]["warn"] = 0.17

    edit_spec(project, raise_warn)
    result = check(project)
    assert not result.ok
    assert "-        warn_threshold: 0.15" in result.diff
    assert "+        warn_threshold: 0.17" in result.diff

    monkeypatch.setenv("NORTHSTAR_PROJECT_DIR", str(project))
    runner = CliRunner()
    failed = runner.invoke(cli, ["semantic", "--check"])
    assert failed.exit_code == 1
    assert "warn_threshold: 0.17" in failed.output
    assert "differs from what the spec generates" in failed.output

    written = runner.invoke(cli, ["semantic"])
    assert written.exit_code == 0, written.output
    assert runner.invoke(cli, ["semantic", "--check"]).exit_code == 0


def test_check_fails_when_the_generated_file_is_edited_by_hand(tmp_path):
    project = copy_project(tmp_path)
    path = project / GENERATED_FILE
    path.write_text(path.read_text().replace("owner: support", "owner: somebody-else"))
    result = check(project)
    assert not result.ok
    assert "+        owner: support" in result.diff


def test_check_fails_when_the_generated_file_is_missing(tmp_path):
    project = copy_project(tmp_path)
    (project / GENERATED_FILE).unlink()
    result = check(project)
    assert not result.ok
    assert "is missing" in result.diff


def test_every_spec_metric_is_either_in_the_layer_or_listed_with_a_reason():
    spec = demo_spec()
    plan = plan_semantic_layer(spec)
    included = {planned.metric.name for planned in plan.included}
    excluded = {item.metric.name: item.reason for item in plan.excluded}
    written = raw_spec(PROJECT_DIR)  # every metric the user declared
    built_in = {metric["name"] for metric in spec["diagnostics"]}
    assert len(built_in) == 6
    assert included | set(excluded) == {
        written["north_star"]["name"],
        *(m["name"] for key in ("inputs", "guardrails", "outputs") for m in written[key]),
        *built_in,
    }
    assert not included & set(excluded)
    assert set(excluded) == {
        "four_period_retention",
        "resurrection_rate",
        "messages_per_active_team",
        "churn_rate",
        # the built-in lifecycle diagnostics: all but active entities need the previous
        # period (or the query's grain, for new)
        *(built_in - {"lifecycle_active_entities"}),
    }
    header = render_yaml(plan).split("\nversion: 2")[0]
    docs = (PROJECT_DIR / "docs" / "semantic-layer.md").read_text()
    for name, reason in excluded.items():
        assert reason
        assert f"# - {name} (" in header
        assert f"`{name}`" in docs


def test_metrics_carry_the_spec_in_meta():
    spec = raw_spec(PROJECT_DIR)  # as the user wrote it
    document = yaml.safe_load((PROJECT_DIR / GENERATED_FILE).read_text())
    metrics = {metric["name"]: metric for metric in document["metrics"]}
    guardrail = next(g for g in spec["guardrails"] if g["name"] == "api_error_rate")
    meta = metrics["api_error_rate"]["config"]["meta"]
    assert meta["role"] == "guardrail"
    assert meta["owner"] == guardrail["owner"]
    assert (meta["warn_threshold"], meta["breach_threshold"]) == (
        guardrail["warn"],
        guardrail["breach"],
    )
    assert meta["direction"] == "lower_is_better"
    assert meta["unit"] == "ratio"
    assert meta["definition_version"] == "1"
    nsm = metrics[spec["north_star"]["name"]]["config"]["meta"]
    assert nsm["role"] == "north_star"
    total = {"grain": "week", "segment_name": "all", "segment_value": "all", "kind": "fixed"}
    business = {**total, "segment_name": "plan", "segment_value": "business"}
    assert nsm["targets"] == [{**total, "value": 60000}, {**business, "value": 5000}]
    pack = document["saved_queries"][0]
    assert pack["name"] == "nsm_pack"
    assert pack["query_params"]["group_by"] == ["TimeDimension('metric_time', 'week')"]
    assert pack["query_params"]["metrics"][0] == spec["north_star"]["name"]
    assert "paid_conversions" not in pack["query_params"]["metrics"]  # an output


# Outputs added to the demo spec by the tests below, all in one spec, so dbt normalizes
# them in one run-operation (the plan is made from the spec dbt normalizes).
ON_3_DAYS = {"kind": "entities", "events": ["message_sent"], "min_active_days": 3}
MEAN_MESSAGES = {"kind": "engagement", "events": ["message_sent"], "aggregate": "mean"}
EXTRA_OUTPUTS = [
    {"name": "power_teams", "kind": "entities", "events": ["message_sent"], "min_events": 5},
    # active days are a distinct count over the period's rows: no row-level condition
    {"name": "sticky_teams", **ON_3_DAYS},
    {
        "name": "sticky_share",
        "kind": "ratio",
        "numerator": ON_3_DAYS,
        "denominator": {"kind": "active_entities"},
    },
    # one active day is no condition beyond a matching event: in, like min_events 1
    {"name": "teams_active_once", **ON_3_DAYS, "min_active_days": 1},
    {
        "name": "power_share",
        "kind": "ratio",
        "numerator": {"kind": "entities", "events": ["message_sent"], "min_distinct_users": 3},
        "denominator": {"kind": "active_entities"},
    },
    {"name": "mean_messages_per_active_team", **MEAN_MESSAGES},
    # session_started is not an activity event: an entity can have one without being active
    {"name": "mean_sessions", **MEAN_MESSAGES, "events": ["session_started"]},
    # named like the generated numerator of the guardrail mean_nps
    {"name": "mean_nps_numerator", "kind": "count", "events": ["nps_submitted"]},
]


@pytest.fixture(scope="module")
def extended_plan():
    spec = raw_spec(PROJECT_DIR)
    owned = [{"owner": "analytics", **output} for output in EXTRA_OUTPUTS]
    spec = {**spec, "outputs": [*spec["outputs"], *owned]}
    return plan_semantic_layer(load_spec(PROJECT_DIR, variables={"northstar": spec}))


def _reasons(plan) -> dict[str, str]:
    return {item.metric.name: item.reason for item in plan.excluded}


def _included(plan) -> set[str]:
    return {planned.metric.name for planned in plan.included}


def test_entities_with_a_per_period_threshold_are_kept_out(extended_plan):
    assert "min_events 5" in _reasons(extended_plan)["power_teams"]
    assert "power_teams" not in _included(extended_plan)


def test_entities_active_on_several_days_are_kept_out(extended_plan):
    reasons = _reasons(extended_plan)
    assert "min_active_days 3" in reasons["sticky_teams"]
    assert "sticky_share" in reasons
    assert not {"sticky_teams", "sticky_share"} & _included(extended_plan)
    assert "teams_active_once" in _included(extended_plan)


def test_a_ratio_over_a_thresholded_entity_count_is_kept_out(extended_plan):
    assert "power_share" in _reasons(extended_plan)


def test_mean_engagement_is_in_only_when_its_events_make_an_entity_active(extended_plan):
    planned = next(
        p for p in extended_plan.included if p.metric.name == "mean_messages_per_active_team"
    )
    assert planned.denominator is not None and planned.denominator.name == ACTIVE_ENTITIES
    assert "mean_sessions" in _reasons(extended_plan)


def test_a_metric_named_like_a_generated_component_is_a_clear_error(extended_plan):
    with pytest.raises(ValueError, match="mean_nps_numerator"):
        render_yaml(extended_plan)


def test_compare_reports_a_wrong_value_a_missing_period_and_a_value_for_nothing():
    def frame(rows):
        return pd.DataFrame(rows, columns=["metric_name", "period_start", "segment_value", "value"])

    fct = frame(
        [
            ("m", "2026-01-05", "all", 10.0),
            ("m", "2026-01-12", "all", 0.0),
            ("m", "2026-01-19", "all", 4.0),
            ("r", "2026-01-05", "all", None),
        ]
    )
    agreeing = frame(
        [
            ("m", "2026-01-05", "all", 10.0 * (1 + 1e-12)),
            ("m", "2026-01-19", "all", 4.0),
            ("r", "2026-01-05", "all", None),
        ]
    )
    assert compare(fct, agreeing) == []

    broken = frame(
        [
            ("m", "2026-01-05", "all", 10.001),  # wrong value
            ("m", "2026-01-12", "all", 0.0),
            # 2026-01-19 missing although fct says 4
            ("r", "2026-01-05", "all", 0.5),  # a value where fct has none
        ]
    )
    found = {(m.metric_name, m.period_start) for m in compare(fct, broken)}
    assert found == {("m", "2026-01-05"), ("m", "2026-01-19"), ("r", "2026-01-05")}


# --- agreement with fct_metric_values on a demo build ----------------------------------


def _mf_long(frame: pd.DataFrame, time_column: str, segment_column: str | None) -> pd.DataFrame:
    frame = frame.copy()
    frame["period_start"] = pd.to_datetime(frame.pop(time_column)).dt.strftime("%Y-%m-%d")
    if segment_column is None:
        frame["segment_value"] = "all"
    else:
        # a time-spine row for a period without data has no segment: nothing to compare
        frame = frame[frame[segment_column].notna()]
        frame["segment_value"] = frame.pop(segment_column)
    return frame.melt(
        id_vars=["period_start", "segment_value"], var_name="metric_name", value_name="value"
    )


def _assert_agree(demo, metrics, grain, tmp_path, segment: str | None = None):
    group_by = f"metric_time__{grain}"
    segment_column = None
    if segment is not None:
        segment_column = f"{demo_spec()['entity']}__{segment}"
        group_by += f",{segment_column}"
    actual = demo.mf_query(
        tmp_path / "out.csv", "--metrics", ",".join(metrics), "--group-by", group_by
    )
    actual = _mf_long(actual, f"metric_time__{grain}", segment_column)
    expected = demo.fct(grain, segment or "all", metrics)
    complete = expected[expected.is_complete_period].drop(columns="is_complete_period")
    assert set(complete.metric_name) == set(metrics)
    periods = complete.period_start.nunique()
    assert periods >= 5, f"only {periods} complete {grain}s to compare"
    # compare complete periods only: MetricFlow has no notion of a partial period
    actual = actual.merge(complete[["metric_name", "period_start"]].drop_duplicates())
    mismatches = compare(complete, actual)
    assert not mismatches, "\n".join(map(str, mismatches[:20]))
    return periods


def _layer_metrics(roles: tuple[str, ...]) -> list[str]:
    plan = plan_semantic_layer(demo_spec())
    return [p.metric.name for p in plan.included if p.metric.role in roles]


@pytest.mark.dbt
def test_mf_validate_configs_passes_on_the_demo(demo):
    result = demo.mf("validate-configs")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "ERRORS: 0" in result.stdout


@pytest.mark.dbt
def test_every_complete_week_agrees_with_fct_metric_values(demo, tmp_path):
    metrics = _layer_metrics(("north_star", "input", "guardrail", "output", "diagnostic"))
    assert "lifecycle_active_entities" in metrics
    plan = plan_semantic_layer(demo_spec())
    roles = [p.metric.role for p in plan.included]
    # the floor: the NSM, two inputs and a guardrail (here: every included metric)
    assert roles.count("north_star") == 1 and roles.count("input") >= 2
    assert roles.count("guardrail") >= 1
    weeks = _assert_agree(demo, metrics, "week", tmp_path)
    assert weeks >= 25  # 213 days of demo history


@pytest.mark.dbt
def test_every_complete_month_agrees_with_fct_metric_values(demo, tmp_path):
    _assert_agree(demo, _layer_metrics(("north_star", "input", "guardrail")), "month", tmp_path)


@pytest.mark.dbt
@pytest.mark.parametrize("segment", [s["name"] for s in raw_spec(PROJECT_DIR)["segments"]])
def test_segment_breakdowns_agree_with_fct_metric_values(demo, tmp_path, segment):
    metrics = _layer_metrics(("north_star", "input", "guardrail", "diagnostic"))
    _assert_agree(demo, metrics, "week", tmp_path, segment=segment)


@pytest.mark.dbt
def test_saved_query_nsm_pack_returns_the_pack_by_week(demo, tmp_path):
    frame = demo.mf_query(tmp_path / "pack.csv", "--saved-query", "nsm_pack")
    pack = _layer_metrics(("north_star", "input", "guardrail"))
    assert sorted(frame.columns) == sorted(["metric_time__week", *pack])
    with duckdb.connect(str(demo.warehouse), read_only=True) as con:
        weeks = con.execute(
            "select count(*) from marts.fct_metric_values where grain = 'week' "
            "and segment_name = 'all' and metric_name = 'messages_sent'"
        ).fetchone()[0]
    assert len(frame) == weeks  # every week of the spine, zero-filled


# --- one row per period, every metric and grain -----------------------------------------

# The spec's grains and the coarser ones an analyst may ask MetricFlow for.
QUERY_GRAINS = ("day", "week", "month", "quarter", "year")


@pytest.fixture(scope="module")
def mf_engine(demo):
    """MetricFlow's own engine on the demo's semantic manifest: the SQL `mf query` runs,
    generated in-process (an `mf` subprocess per metric and grain would take minutes)."""
    from dbt_metricflow.cli.dbt_connectors.dbt_config_accessor import dbtArtifacts
    from metricflow.engine.metricflow_engine import MetricFlowEngine, MetricFlowQueryRequest
    from metricflow.protocols.sql_client import SqlEngine
    from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer
    from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

    class ExplainOnlyClient:
        """What explain needs from a SQL client; the SQL runs on our own connection."""

        sql_engine_type = SqlEngine.DUCKDB
        sql_plan_renderer = DuckDbSqlPlanRenderer()

    manifest = dbtArtifacts.build_semantic_manifest_from_dbt_project_root(demo.project)
    engine = MetricFlowEngine(
        semantic_manifest_lookup=SemanticManifestLookup(manifest), sql_client=ExplainOnlyClient()
    )

    def query(metrics: list[str], grain: str) -> pd.DataFrame:
        request = MetricFlowQueryRequest.create(
            metric_names=metrics, group_by_names=[f"metric_time__{grain}"]
        )
        sql = engine.explain(request).sql_statement.sql
        # the file's catalog is named after it, as in the dbt-duckdb profile
        with duckdb.connect(str(demo.warehouse), read_only=True) as con:
            return con.execute(sql).df()

    return query


def _periods(demo, grain: str) -> set[str]:
    """The periods of a grain: fct_metric_values' for the spec's grains, else the day
    spine's days truncated to the grain (every day MetricFlow may report)."""
    with duckdb.connect(str(demo.warehouse), read_only=True) as con:
        if grain in demo_spec()["grains"]:
            sql = (
                "select distinct cast(period_start as varchar) from marts.fct_metric_values "
                "where grain = ? and segment_name = 'all'"
            )
            rows = con.execute(sql, [grain]).fetchall()
        else:
            sql = (
                "select distinct cast(cast(date_trunc(?, date_day) as date) as varchar) "
                "from marts.dim_time_spine"
            )
            rows = con.execute(sql, [grain]).fetchall()
    return {row[0] for row in rows}


def _assert_one_row_per_period(frame: pd.DataFrame, grain: str, periods: set[str], what: str):
    starts = pd.to_datetime(frame[f"metric_time__{grain}"]).dt.strftime("%Y-%m-%d")
    repeated = starts[starts.duplicated()].unique().tolist()
    assert not repeated, f"{what} by {grain}: {len(frame)} rows for {starts.nunique()} periods"
    assert set(starts) == periods, f"{what} by {grain}: periods differ from the spine"


@pytest.mark.dbt
@pytest.mark.parametrize("grain", QUERY_GRAINS)
def test_every_metric_returns_one_row_per_period_alone_and_together(demo, mf_engine, grain):
    """A ratio queried alone came back once per day of each week (issue 9): a BI tool
    summing or counting its rows got a wrong number. Alone and all together, every
    metric has exactly one row per period of the grain, and at the spec's grains the
    value of fct_metric_values in every complete period."""
    metrics = _layer_metrics(("north_star", "input", "guardrail", "output"))
    periods = _periods(demo, grain)
    assert len(periods) >= 1
    expected = None
    if grain in demo_spec()["grains"]:
        expected = demo.fct(grain, "all", metrics)
        expected = expected[expected.is_complete_period].drop(columns="is_complete_period")
    for queried in [*([metric] for metric in metrics), metrics]:
        what = queried[0] if len(queried) == 1 else "all metrics"
        frame = mf_engine(queried, grain)
        _assert_one_row_per_period(frame, grain, periods, what)
        if expected is not None:
            actual = _mf_long(frame, f"metric_time__{grain}", None)
            actual = actual.merge(expected[["metric_name", "period_start"]].drop_duplicates())
            wanted = expected[expected.metric_name.isin(queried)]
            mismatches = compare(wanted, actual)
            assert not mismatches, f"{what} by {grain}: " + "\n".join(map(str, mismatches[:20]))


@pytest.mark.dbt
def test_mf_query_of_a_ratio_alone_returns_one_row_per_week(demo, tmp_path):
    """The issue's reproduction, through the `mf` command a user runs."""
    frame = demo.mf_query(
        tmp_path / "nps.csv", "--metrics", "mean_nps", "--group-by", "metric_time__week"
    )
    _assert_one_row_per_period(frame, "week", _periods(demo, "week"), "mean_nps")
