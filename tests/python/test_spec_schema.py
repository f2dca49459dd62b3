"""docs/northstar-spec.schema.json (for editors) accepts every spec of the project and
refuses broken ones. dbt's normalizer (macros/spec/) stays the authority; the schema's
menus of kinds are checked against it so the two do not drift apart."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from spec_tables import measure_kinds, metric_kinds
from spec_yaml import raw_spec

PROJECT_DIR = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((PROJECT_DIR / "docs" / "northstar-spec.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
EXAMPLES = sorted((PROJECT_DIR / "examples" / "specs").glob("*.yml"))


def errors(document: dict) -> list[str]:
    return [
        "/".join(map(str, error.absolute_path)) + ": " + error.message
        for error in VALIDATOR.iter_errors(document)
    ]


def test_the_schema_is_a_draft_2020_12_schema() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_dbt_project_yml_is_valid() -> None:
    document = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    assert "north_star" in document["vars"]["northstar"]
    assert errors(document) == []


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_every_example_spec_is_valid(path: Path) -> None:
    document = yaml.safe_load(path.read_text())
    assert "north_star" in document["northstar"]
    assert errors(document) == []


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 5


def _break(edit):
    spec = copy.deepcopy(raw_spec(PROJECT_DIR))
    edit(spec)
    return spec


BROKEN = {
    "six inputs": (
        lambda s: s["inputs"].extend([{**s["inputs"][0], "name": "extra"}]),
        "inputs: ",
    ),
    "an unknown entity": (lambda s: s.update(entity="team"), "entity"),
    "a metric without an owner": (lambda s: s["north_star"].pop("owner"), "'owner' is a required"),
    "an unknown kind": (lambda s: s["outputs"][0].update(kind="avg"), "outputs/0/kind"),
    "a misspelt key": (
        lambda s: s["north_star"].update(tagrets={"week": 1}),
        "'tagrets' was unexpected",
    ),
    "a guardrail without breach": (
        lambda s: s["guardrails"][0].pop("breach"),
        "'breach' is a required",
    ),
    "a percentile of 95": (
        lambda s: s["guardrails"][1].update(percentile=95),
        "guardrails/1/percentile",
    ),
    "a ratio without a denominator": (
        lambda s: s["guardrails"][0].pop("denominator"),
        "'denominator' is a required",
    ),
    "`in` with one value": (
        lambda s: s["north_star"].update(where={"property": "x", "op": "in", "value": "a"}),
        "north_star/where/value",
    ),
    "a first_event segment other than platform or country": (
        lambda s: s["segments"].append({"name": "plan_tier", "source": "first_event"}),
        "segments",
    ),
    "a metric named like a built-in diagnostic": (
        lambda s: s["outputs"][0].update(name="lifecycle_dormant_entities"),
        "outputs/0/name",
    ),
    "a target for an unknown grain": (
        lambda s: s["north_star"].update(targets={"quarter": 1}),
        "north_star/targets",
    ),
    # the list form of targets (docs/spec.md, "Targets")
    "a listed target for an unknown grain": (
        lambda s: s["north_star"].update(targets=[{"grain": "quarter", "value": 1}]),
        "north_star/targets",
    ),
    "a non-numeric target": (
        lambda s: s["north_star"].update(targets=[{"value": "lots"}]),
        "north_star/targets",
    ),
    "a time-bound target without a goal": (
        lambda s: s["inputs"][1].update(
            targets=[{"baseline": {"value": 0.4, "date": "2026-03-02"}}]
        ),
        "inputs/1/targets",
    ),
    "a target with both a value and a goal": (
        lambda s: s["inputs"][1]["targets"][0].update(value=0.5),
        "inputs/1/targets",
    ),
    "a deadline that is not a date": (
        lambda s: s["inputs"][1]["targets"][0]["goal"].update(by="next June"),
        "inputs/1/targets",
    ),
    "a segment target naming two segments": (
        lambda s: s["north_star"]["targets"][1].update(segment={"plan": "pro", "country": "US"}),
        "north_star/targets",
    ),
    "a misspelt target key": (
        lambda s: s["north_star"]["targets"][1].update(segmnet={"plan": "pro"}),
        "north_star/targets",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_spec_is_refused(case: str) -> None:
    edit, where = BROKEN[case]
    spec = _break(edit)
    assert errors({"northstar": raw_spec(PROJECT_DIR)}) == []  # the edit is what breaks it
    for document in ({"northstar": spec}, {"vars": {"northstar": spec}}):
        found = errors(document)
        assert found, case
        assert any(where in problem for problem in found), found


def _jinja_list(text: str, name: str) -> list[str]:
    found = re.search(r"set " + name + r" = \[([^\]]*)\]", text)
    assert found, name
    return re.findall(r"'([^']+)'", found.group(1))


def test_the_kinds_are_the_normalizers() -> None:
    text = (PROJECT_DIR / "macros" / "spec" / "northstar_spec_metric.sql").read_text()
    kinds = SCHEMA["$defs"]["metric"]["properties"]["kind"]["enum"]
    assert sorted(kinds) == sorted(metric_kinds())
    schema_measure_kinds = SCHEMA["$defs"]["measure"]["properties"]["kind"]["enum"]
    assert "active_entities" in schema_measure_kinds
    assert sorted(schema_measure_kinds) == sorted(measure_kinds())
    ops = SCHEMA["$defs"]["where"]["properties"]["op"]["enum"]
    assert sorted(ops) == sorted(_jinja_list(text, "ops"))


def test_the_reserved_names_are_the_built_in_diagnostics() -> None:
    text = (PROJECT_DIR / "macros" / "spec" / "northstar_spec_diagnostics.sql").read_text()
    built_in = re.findall(r"\{'name': '([a-z_]+)'", text)
    assert len(built_in) == 6, built_in
    reserved = SCHEMA["$defs"]["metric"]["properties"]["name"]["not"]["enum"]
    assert sorted(reserved) == sorted(built_in)
