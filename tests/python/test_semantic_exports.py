"""Exports of the spec for Lightdash and Cube (issue 15, item 5).

Each export is validated against a schema (Lightdash's own JSON schema for dbt YAML; for
Cube one written from its docs: tests/fixtures/semantic_exports/README.md), then checked
for what a schema cannot see: every field a metric refers to exists in the same table,
every spec metric is exported under its name, label and description or listed with a
reason, and a spec filter (`where`) reaches the export through the column it filters.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import duckdb
import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from test_semantic import demo_spec

from northstar.errors import InvalidInputError
from northstar.semantic.exports import TARGETS, cube, export, lightdash, write_export
from northstar.semantic.plan import ENTITY_MODEL, plan_semantic_layer
from northstar.spec import catalog_metrics

PROJECT_DIR = Path(__file__).resolve().parents[2]
SCHEMAS = PROJECT_DIR / "tests" / "fixtures" / "semantic_exports"


@pytest.fixture(scope="module")
def spec() -> dict:
    """The demo spec, normalized by dbt: test_semantic.py's, so one run-operation serves
    both modules in a session."""
    return demo_spec()


@pytest.fixture(scope="module")
def plan(spec):
    return plan_semantic_layer(spec)


def _document(result) -> dict:
    (text,) = result.files.values()
    return yaml.safe_load(text)


def _schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text())


def _lightdash_metrics(document: dict) -> dict[str, tuple[str, dict]]:
    return {
        name: (model["name"], metric)
        for model in document["models"]
        for name, metric in model["config"]["meta"]["metrics"].items()
    }


def _cube_measures(document: dict) -> dict[str, tuple[dict, dict]]:
    return {
        measure["name"]: (item, measure)
        for item in document["cubes"]
        for measure in item.get("measures", [])
    }


# --- validity ---------------------------------------------------------------------------


def test_lightdash_export_passes_lightdashs_own_schema(plan):
    document = _document(lightdash.render(plan))
    jsonschema.validate(document, _schema("lightdash-dbt-2.0.json"))


def test_cube_export_passes_the_cube_schema(plan):
    document = _document(cube.render(plan))
    jsonschema.validate(document, _schema("cube-data-model.schema.json"))


def _lightdash_metric(document: dict, name: str) -> dict:
    return next(
        model["config"]["meta"]["metrics"]
        for model in document["models"]
        if name in model["config"]["meta"]["metrics"]
    )


@pytest.mark.parametrize(
    ("target", "break_it"),
    [
        (
            lightdash,
            lambda d: _lightdash_metric(d, "messages_sent")["messages_sent"].update(type="total"),
        ),
        (lightdash, lambda d: _lightdash_metric(d, "messages_sent")["messages_sent"].pop("sql")),
        (cube, lambda d: d["cubes"][0]["measures"][0].update(type="total")),
        (cube, lambda d: d["cubes"][0]["measures"][0].update(titel="a typo")),
        (cube, lambda d: d["cubes"][0]["joins"][0].update(relationship="belongs")),
    ],
    ids=["lightdash-type", "lightdash-no-sql", "cube-type", "cube-typo", "cube-join"],
)
def test_the_schemas_refuse_a_broken_export(plan, target, break_it):
    name = "lightdash-dbt-2.0.json" if target is lightdash else "cube-data-model.schema.json"
    document = _document(target.render(plan))
    jsonschema.validate(document, _schema(name))
    break_it(document)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, _schema(name))


def test_lightdash_references_resolve_within_their_model(plan):
    document = _document(lightdash.render(plan))
    models = {model["name"]: model for model in document["models"]}
    for name, (model, metric) in _lightdash_metrics(document).items():
        refs = re.findall(r"\$\{([^}]*)\}", metric["sql"])
        if metric["type"] == "number":
            # a non-aggregate metric may only reference metrics (Lightdash's rule)
            local = models[model]["config"]["meta"]["metrics"]
            assert refs and all(ref in local for ref in refs), (name, metric["sql"])
        else:
            assert refs and set(refs) == {"TABLE"}, (name, metric["sql"])
    for model in document["models"]:
        for join in model["config"]["meta"].get("joins", []):
            assert join["join"] in models


def test_cube_references_resolve(plan):
    document = _document(cube.render(plan))
    cubes = {item["name"]: item for item in document["cubes"]}
    for name, (item, measure) in _cube_measures(document).items():
        refs = set(re.findall(r"\{([^}]*)\}", measure["sql"])) - {"CUBE"}
        local = {m["name"] for m in item["measures"]}
        if measure["type"] == "number" and refs:
            assert refs <= local, (name, measure["sql"])
        else:
            assert not refs, (name, measure["sql"])
    for item in cubes.values():
        keys = [d for d in item["dimensions"] if d.get("primary_key")]
        assert len(keys) == 1, item["name"]
        for join in item.get("joins", []):
            target, column = re.search(r"\{(\w+)\.(\w+)\}", join["sql"]).groups()
            assert column in {d["name"] for d in cubes[target]["dimensions"]}


# --- coverage ---------------------------------------------------------------------------


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_every_metric_is_exported_as_in_the_spec_or_listed_with_a_reason(spec, plan, target):
    result = {"lightdash": lightdash, "cube": cube}[target].render(plan)
    document = _document(result)
    fields = (
        {name: metric for name, (_, metric) in _lightdash_metrics(document).items()}
        if target == "lightdash"
        else {name: measure for name, (_, measure) in _cube_measures(document).items()}
    )
    label_key = "label" if target == "lightdash" else "title"
    reasons = {item.metric.name: item.reason for item in result.excluded}
    (text,) = result.files.values()
    for metric in catalog_metrics(spec):
        if metric.name in reasons:
            assert metric.name not in fields
            assert reasons[metric.name]
            assert f"- {metric.name} (" in text  # the file's header lists it too
            continue
        assert metric.name in result.included, metric.name
        field = fields[metric.name]
        assert field[label_key] == metric.label
        assert field["description"] == (metric.spec["description"] or metric.label).strip()
    # exactly what MetricFlow carries: these targets aggregate rows as it does
    assert set(result.included) == {p.metric.name for p in plan.included}
    assert set(reasons) == {e.metric.name for e in plan.excluded}


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_a_spec_filter_reaches_the_export(plan, target):
    """api_error_rate counts api_request events `where status >= 500`: the numerator reads
    the column the SQL filtered, and says so."""
    result = {"lightdash": lightdash, "cube": cube}[target].render(plan)
    document = _document(result)
    if target == "lightdash":
        field = _lightdash_metrics(document)["api_error_rate_numerator"][1]
    else:
        field = _cube_measures(document)["api_error_rate_numerator"][1]
    assert "api_error_rate__numerator" in field["sql"]
    assert "where status >= 500" in field["description"]


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_a_ratio_across_two_tables_is_kept_out_with_its_reason(plan, target):
    ratio = next(p for p in plan.included if p.is_ratio and p.metric.kind == "ratio")
    moved = dataclasses.replace(ratio.denominator, semantic_model=ENTITY_MODEL)
    changed = dataclasses.replace(
        plan,
        included=[
            dataclasses.replace(ratio, denominator=moved) if p is ratio else p
            for p in plan.included
        ],
    )
    result = {"lightdash": lightdash, "cube": cube}[target].render(changed)
    reasons = {item.metric.name: item.reason for item in result.excluded}
    assert ratio.metric.name not in result.included
    assert "aggregated from different tables" in reasons[ratio.metric.name]


# --- registry and command ---------------------------------------------------------------


def test_an_unknown_target_is_refused_by_name(tmp_path):
    with pytest.raises(InvalidInputError, match=r"unknown export target 'looker'.*cube, lightdash"):
        export("looker", tmp_path)


def test_the_command_writes_both_exports(spec, tmp_path, monkeypatch):
    import northstar.spec
    from northstar.cli import cli

    monkeypatch.setattr(northstar.spec, "load_spec", lambda *_args, **_kw: spec)
    monkeypatch.setenv("NORTHSTAR_PROJECT_DIR", str(PROJECT_DIR))
    runner = CliRunner()
    for target, module in (("lightdash", lightdash), ("cube", cube)):
        result = runner.invoke(cli, ["semantic", "--export", target, "--out", str(tmp_path)])
        assert result.exit_code == 0, result.output
        assert (tmp_path / module.FILE).is_file()
        assert "kept out: churn_rate:" in result.output
    missing = runner.invoke(cli, ["semantic", "--export", "cube"])
    assert missing.exit_code == 2 and "--export cube needs --out DIR" in missing.output
    both = runner.invoke(cli, ["semantic", "--export", "cube", "--check", "--out", "x"])
    assert both.exit_code == 2


def test_write_export_creates_the_directories(plan, tmp_path):
    paths = write_export(cube.render(plan), tmp_path / "new")
    assert [p.relative_to(tmp_path / "new").as_posix() for p in paths] == [cube.FILE]


# --- numbers ----------------------------------------------------------------------------
# Neither Lightdash nor Cube runs here, so their query compilation is done by hand, the
# way each documents it (an aggregate metric wraps its SQL in its aggregate; a `number`
# metric inlines the metrics it references), and run on the demo build: every exported
# metric must give fct_metric_values' number for every complete week.

AGGREGATES = {
    "sum": "sum({sql})",
    "count_distinct": "count(distinct {sql})",
    "number": "{sql}",
    # Lightdash's percentile metric, as DuckDB spells a continuous percentile
    "percentile": "quantile_cont({sql}, {fraction})",
}


def _compile(fields: dict[str, dict], name: str, reference: str) -> str:
    """A metric's aggregate SQL with the metrics it references inlined."""
    field = fields[name]
    sql = AGGREGATES[field["type"]].format(
        sql=field["sql"], fraction=field.get("percentile", 0) / 100
    )
    return re.sub(reference, lambda m: f"({_compile(fields, m.group(1), reference)})", sql)


def _weekly(demo, table: str, time_column: str, expressions: dict[str, str]) -> dict:
    columns = ", ".join(f"{sql} as {name}" for name, sql in expressions.items())
    query = (
        f"select cast(date_trunc('week', t.{time_column}) as date) as week, {columns} "
        f"from marts.{table} as t group by 1"
    )
    with duckdb.connect(str(demo.warehouse), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        frame = con.sql(query).df()
    return {
        (name, str(row["week"])[:10]): row[name]
        for _, row in frame.iterrows()
        for name in expressions
    }


def _assert_weekly_agree(demo, actual: dict, metrics: list[str]) -> None:
    expected = demo.fct("week", "all", metrics)
    complete = expected[expected.is_complete_period]
    assert set(complete.metric_name) == set(metrics)
    assert complete.period_start.nunique() >= 5
    wrong = []
    for _, row in complete.iterrows():
        value = actual.get((row.metric_name, row.period_start))
        if value is None or value != value:  # no row, or a null rate
            ok = row.value == 0 or row.value != row.value
        else:
            ok = row.value == row.value and math.isclose(value, row.value, rel_tol=1e-9)
        if not ok:
            wrong.append((row.metric_name, row.period_start, row.value, value))
    assert not wrong, wrong[:10]


@pytest.mark.dbt
def test_cube_measures_give_fct_metric_values_numbers(demo, plan):
    result = cube.render(plan)
    actual = {}
    for item in _document(result)["cubes"]:
        fields = {
            m["name"]: {**m, "sql": m["sql"].replace("{CUBE}", "t")}
            for m in item.get("measures", [])
        }
        if not fields:
            continue
        time_column = next(d["name"] for d in item["dimensions"] if d["type"] == "time")
        expressions = {name: _compile(fields, name, r"\{(\w+)\}") for name in fields}
        table = item["sql_table"].split(".")[1]
        actual.update(_weekly(demo, table, time_column, expressions))
    _assert_weekly_agree(demo, actual, result.included)


@pytest.mark.dbt
def test_lightdash_metrics_give_fct_metric_values_numbers(demo, plan):
    result = lightdash.render(plan)
    actual = {}
    for model in _document(result)["models"]:
        fields = {
            name: {**metric, "sql": metric["sql"].replace("${TABLE}", "t")}
            for name, metric in model["config"]["meta"]["metrics"].items()
        }
        if not fields:
            continue
        time_column = model["columns"][0]["name"]
        expressions = {name: _compile(fields, name, r"\$\{(\w+)\}") for name in fields}
        actual.update(_weekly(demo, model["name"], time_column, expressions))
    _assert_weekly_agree(demo, actual, result.included)
