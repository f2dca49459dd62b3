"""Every configuration error in the spec fails when dbt parses the project, and says where.

Each case is the demo spec (dbt_project.yml vars.northstar) with one mistake, passed with
--vars. The message must name the field (its path in the spec) and the offending value.
The good demo spec must parse, in the same process after the bad ones (so one case cannot
leak into the next).

Every model that reads the spec calls one macro, `northstar_spec()`, which normalizes and
checks it; the parse fails on the first of them. Each case runs that macro through
`run-operation northstar_print_spec_json` on a manifest parsed once with the demo spec, with
the case's --vars (a fraction of a second; a parse of its own costs seconds). A sample of
the cases (PARSED_SAMPLE) also runs a real `dbt parse --no-partial-parse`, which must fail
with the same message: the proof that what the macro refuses, the parse refuses.

The breadth / depth / frequency recipes of docs/spec.md must parse too (a real parse: the
models must render with them): every `yaml` block of that section, as the demo spec's inputs.

The cases run in two worker processes (dbt_parse_worker.py) that each import dbt once and
go through dbt's own runner.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from metric_checks import PROJECT_DIR
from spec_yaml import raw_spec

pytestmark = pytest.mark.dbt

WORKER = Path(__file__).with_name("dbt_parse_worker.py")
WORKERS = 2  # the machine has two cores
GOOD = "demo_spec"
# every PARSED_SAMPLE-th error case also runs a real parse, under its id + PARSED
PARSED_SAMPLE = 12
PARSED = "__real_parse"
RECIPE = "recipes"
SPEC_DOC = PROJECT_DIR / "docs" / "spec.md"
RECIPE_SECTION = "### Breadth, depth and frequency inputs"


@dataclass(frozen=True)
class Case:
    id: str
    mutate: Callable[[dict[str, Any]], None]
    expect: tuple[str, ...]  # fragments the error message must contain: field, value


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation setting spec[path] (dots and [i] indexes) to value."""

    def mutate(spec: dict[str, Any]) -> None:
        *parents, leaf = _steps(path)
        node: Any = spec
        for step in parents:
            node = node[step]
        node[leaf] = value

    return mutate


def _delete(path: str, *keys: str) -> Callable[[dict[str, Any]], None]:
    def mutate(spec: dict[str, Any]) -> None:
        node: Any = spec
        for step in _steps(path):
            node = node[step]
        for key in keys:
            del node[key]

    return mutate


def _steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for part in path.split("."):
        name, _, index = part.partition("[")
        steps.append(name)
        if index:
            steps.append(int(index.rstrip("]")))
    return steps


def _six_inputs(spec: dict[str, Any]) -> None:
    spec["inputs"].append({**spec["inputs"][0], "name": "sixth_input"})


def _two_inputs(spec: dict[str, Any]) -> None:
    spec["inputs"] = spec["inputs"][:2]


def _week_and_month_only(spec: dict[str, Any]) -> None:
    spec["grains"] = ["week", "month"]
    spec["north_star"]["targets"] = {"day": 9000}


# A team metric (docs/spec.md, "Team metrics") under the demo's activation input.
TEAM_METRIC = {
    "name": "invites_sent",
    "owner": "onboarding-squad",
    "parent": "activation_rate",
    "kind": "count",
    "events": ["invite_sent"],
}


def _with_team_metric(**changes: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(spec: dict[str, Any]) -> None:
        metric = {**TEAM_METRIC, **changes}
        spec["team_metrics"] = [{k: v for k, v in metric.items() if v is not None}]

    return mutate


def _parent_cycle(spec: dict[str, Any]) -> None:
    spec["inputs"][0]["parent"] = "activation_rate"
    spec["inputs"][1]["parent"] = "new_teams"


def _two_inputs_and_two_team_metrics(spec: dict[str, Any]) -> None:
    _two_inputs(spec)
    spec["team_metrics"] = [
        {**TEAM_METRIC, "parent": "new_teams"},
        {**TEAM_METRIC, "name": "files_shared", "events": ["file_shared"], "parent": "new_teams"},
    ]


# The demo spec's guardrails: [0] support tickets (ratio, lower), [1] p95 latency,
# [2] churn, [3] unsubscribes, [4] mean NPS (higher_is_better), [5] API error rate (where).
CASES = [
    Case("two_inputs", _two_inputs, ("northstar.inputs", "got 2", '"activation_rate"')),
    Case("six_inputs", _six_inputs, ("northstar.inputs", "got 6", '"sixth_input"')),
    Case(
        "unknown_event_in_north_star",
        _set("north_star.events", ["msg_sent"]),
        ("northstar.north_star.events", '"msg_sent"'),
    ),
    Case(
        "unknown_event_in_aha",
        _set("aha.events", ["message_send"]),
        ("northstar.aha.events", '"message_send"'),
    ),
    Case(
        "unknown_event_in_guardrail",
        _set("guardrails[0].numerator.events", ["ticket_created"]),
        ("northstar.guardrails[0].numerator.events", '"ticket_created"'),
    ),
    Case(
        "unknown_property",
        _set("guardrails[1].property", "latency"),
        ("northstar.guardrails[1].property", '"latency"', "api_request"),
    ),
    Case(
        "unknown_property_in_where",
        _set("guardrails[5].numerator.where.property", "status_code"),
        ("northstar.guardrails[5].numerator.where.property", '"status_code"'),
    ),
    Case(
        "summing_a_string_property",
        lambda spec: spec["north_star"].update(kind="sum", property="channel_type"),
        ("northstar.north_star.property", '"channel_type"', "number"),
    ),
    Case(
        "guardrail_without_thresholds",
        _delete("guardrails[2]", "warn", "breach"),
        ("northstar.guardrails[2]", "warn and breach", '"warn": null'),
    ),
    Case(
        "guardrail_without_direction",
        _delete("guardrails[2]", "direction"),
        ("northstar.guardrails[2].direction", "lower_is_better or higher_is_better", "null"),
    ),
    Case(
        "warn_past_breach_lower_is_better",
        _set("guardrails[0].warn", 0.4),
        ("northstar.guardrails[0].warn", "below the breach threshold 0.3", "0.4"),
    ),
    Case(
        "warn_equal_to_breach",
        _set("guardrails[0].warn", 0.3),
        ("northstar.guardrails[0].warn", "below the breach threshold 0.3", "(got: 0.3)"),
    ),
    Case(
        "warn_past_breach_higher_is_better",
        _set("guardrails[4].warn", 5),
        ("northstar.guardrails[4].warn", "above the breach threshold 6", "(got: 5)"),
    ),
    Case(
        "unknown_segment",
        lambda spec: spec["segments"].append({"name": "browser", "source": "first_event"}),
        ("northstar.segments[3].name", "unknown segment", '"browser"'),
    ),
    Case(
        "unknown_kind",
        _set("inputs[0].kind", "funnel"),
        ("northstar.inputs[0].kind", '"funnel"'),
    ),
    Case(
        "duplicate_metric_name",
        _set("outputs[0].name", "messages_sent"),
        ("northstar.outputs[0].name", "unique", '"messages_sent"'),
    ),
    # the built-in diagnostic metrics' names are reserved (docs/spec.md, "Diagnostic metrics")
    Case(
        "metric_named_like_a_built_in_diagnostic",
        _set("inputs[0].name", "lifecycle_active_entities"),
        (
            "northstar.inputs[0].name",
            "built-in diagnostic metric",
            "lifecycle_quick_ratio",
            '"lifecycle_active_entities"',
        ),
    ),
    Case(
        "north_star_named_like_a_built_in_diagnostic",
        _set("north_star.name", "lifecycle_quick_ratio"),
        ("northstar.north_star.name", "built-in diagnostic metric", '"lifecycle_quick_ratio"'),
    ),
    Case(
        "target_for_a_grain_not_configured",
        _week_and_month_only,
        ("northstar.north_star.targets", "week, month", '"day"'),
    ),
    Case(
        "bad_where_op",
        _set("guardrails[5].numerator.where.op", "=>"),
        ("northstar.guardrails[5].numerator.where", '"op": "=>"'),
    ),
    # every metric has an owner (the issue: inputs and guardrails each with an owner)
    Case(
        "input_without_owner",
        _delete("inputs[1]", "owner"),
        ("northstar.inputs[1].owner", "activation_rate", "needs an owner", "(got: null)"),
    ),
    Case(
        "guardrail_with_blank_owner",
        _set("guardrails[2].owner", "  "),
        ("northstar.guardrails[2].owner", "churn_rate", "needs an owner", '(got: "  ")'),
    ),
    Case(
        "north_star_without_owner",
        _delete("north_star", "owner"),
        ("northstar.north_star.owner", "messages_sent", "(got: null)"),
    ),
    Case(
        "output_with_empty_owner",
        _set("outputs[1].owner", ""),
        ("northstar.outputs[1].owner", "new_mrr", '(got: "")'),
    ),
    Case(
        "owner_not_a_string",
        _set("inputs[0].owner", ["growth", "marketing"]),
        ("northstar.inputs[0].owner", "new_teams", '(got: ["growth", "marketing"])'),
    ),
    Case(
        "duplicate_name_across_input_and_guardrail",
        _set("guardrails[2].name", "resurrection_rate"),
        ("northstar.guardrails[2].name", "unique", "northstar.inputs[3]", '"resurrection_rate"'),
    ),
    Case(
        "grain_not_day_week_month",
        _set("grains", ["day", "week", "quarter"]),
        ("northstar.grains[2]", "day, week or month", '"quarter"'),
    ),
    Case(
        "percentile_as_a_whole_number",
        _set("guardrails[1].percentile", 95),
        ("northstar.guardrails[1].percentile", "between 0 and 1", "(got: 95)"),
    ),
    Case(
        "percentile_of_one",
        _set("guardrails[1].percentile", 1),
        ("northstar.guardrails[1].percentile", "strictly between 0 and 1", "(got: 1)"),
    ),
    Case(
        "percentile_of_zero",
        _set("guardrails[1].percentile", 0),
        ("northstar.guardrails[1].percentile", "strictly between 0 and 1", "(got: 0)"),
    ),
    Case(
        "targets_not_a_mapping",
        _set("north_star.targets", 60000),
        ("northstar.north_star.targets", "mapping", "(got: 60000)"),
    ),
    Case(
        "definition_version_zero",
        _set("inputs[0].definition_version", 0),
        ("northstar.inputs[0].definition_version", "new_teams", "positive integer", "(got: 0)"),
    ),
    Case(
        "definition_version_not_an_integer",
        _set("guardrails[0].definition_version", 1.5),
        ("northstar.guardrails[0].definition_version", "positive integer", "(got: 1.5)"),
    ),
    Case(
        "definition_version_a_string",
        _set("north_star.definition_version", "v2"),
        ("northstar.north_star.definition_version", "positive integer", '(got: "v2")'),
    ),
    Case(
        "definition_version_a_boolean",
        _set("outputs[0].definition_version", False),
        ("northstar.outputs[0].definition_version", "positive integer", "(got: false)"),
    ),
    Case(
        "accept_restatement_not_a_version",
        _set("north_star.accept_restatement", "v2"),
        (
            "northstar.north_star.accept_restatement",
            "definition_version whose restatement is accepted",
            '(got: "v2")',
        ),
    ),
    # frequency as active days: a whole number of days, at least 1 (outputs[0] is entities)
    Case(
        "min_active_days_zero",
        _set("outputs[0].min_active_days", 0),
        ("northstar.outputs[0].min_active_days", "positive integer", "(got: 0)"),
    ),
    Case(
        "min_active_days_a_string_in_a_ratio",
        _set(
            "guardrails[0].numerator",
            {"kind": "entities", "events": ["support_ticket_created"], "min_active_days": "3"},
        ),
        ("northstar.guardrails[0].numerator.min_active_days", "positive integer", '(got: "3")'),
    ),
    # one case per shape of the rule tables (macros/spec/northstar_spec_rules.sql)
    Case(
        "entity_unknown", _set("entity", "team"), ("northstar.entity", "account or user", '"team"')
    ),
    Case(
        "aha_threshold_a_string",
        _set("aha.threshold", "100"),
        ("northstar.aha.threshold", "must be a number", '(got: "100")'),
    ),
    Case(
        "segment_source_unknown",
        lambda spec: spec["segments"].append({"name": "tier", "source": "crm"}),
        ("northstar.segments[3].source", "entity", "first_event", '"crm"'),
    ),
    Case(
        "activation_within_zero_days",
        _set("inputs[1].within_days", 0),
        ("northstar.inputs[1].within_days", "at least 1", "(got: 0)"),
    ),
    Case(
        "engagement_aggregate_unknown",
        _set("inputs[4].aggregate", "max"),
        ("northstar.inputs[4].aggregate", "median or mean", '"max"'),
    ),
    Case(
        "ratio_without_denominator",
        _delete("guardrails[3]", "denominator"),
        ("northstar.guardrails[3].denominator", "a denominator measure", "(got: null)"),
    ),
    Case(
        "measure_kind_unknown",
        _set("guardrails[0].denominator.kind", "teams"),
        ("northstar.guardrails[0].denominator.kind", "active_entities", '"teams"'),
    ),
    Case(
        "min_events_a_string",
        _set("outputs[0].min_events", "2"),
        ("northstar.outputs[0].min_events", "must be a number", '(got: "2")'),
    ),
    Case(
        "status_grain_not_configured",
        _set("inputs[0].status_grains", ["week", "quarter"]),
        ("northstar.inputs[0].status_grains[1]", "configured grains", '"quarter"'),
    ),
    Case(
        "target_not_a_number",
        _set("north_star.targets", {"week": "lots"}),
        ("northstar.north_star.targets.week", "must be a number", '(got: "lots")'),
    ),
    Case(
        "target_growth_rate_below_minus_one",
        _set("north_star.target_growth_rate", -2),
        ("northstar.north_star.target_growth_rate", "at least -1", "(got: -2)"),
    ),
    # the list form of targets: north_star.targets = [total week 60000, plan=business 5000];
    # inputs[1] (activation) has one time-bound target, 0.40 on 2026-03-02 -> 0.55 by 2027-06-30
    Case(
        "segment_target_for_an_unknown_segment",
        _set("north_star.targets[1].segment", {"tier": "gold"}),
        ("northstar.north_star.targets[1].segment", "unknown segment", "plan", '"tier"'),
    ),
    Case(
        "segment_target_value_read_as_a_boolean",
        _set("north_star.targets[1].segment", {"country": False}),  # YAML reads NO as false
        ("northstar.north_star.targets[1].segment.country", "segment value", "(got: false)"),
    ),
    Case(
        "segment_target_not_a_number",
        _set("north_star.targets[1].value", "5k"),
        ("northstar.north_star.targets[1].value", "must be a number", '(got: "5k")'),
    ),
    Case(
        "listed_target_for_a_grain_not_configured",
        _set("north_star.targets[0].grain", "quarter"),
        ("northstar.north_star.targets[0].grain", "configured grains", '"quarter"'),
    ),
    Case(
        "two_targets_for_one_grain_and_segment",
        lambda spec: spec["north_star"]["targets"].append({"grain": "week", "value": 1}),
        ("northstar.north_star.targets[2]", "a second target for week, the total", "targets[0]"),
    ),
    Case(
        "target_with_a_misspelt_key",
        lambda spec: spec["north_star"]["targets"][1].update(segmnet={"plan": "pro"}),
        ("northstar.north_star.targets[1].segmnet", "unknown key", "segment"),
    ),
    Case(
        "target_with_both_value_and_goal",
        _set("inputs[1].targets[0].value", 0.5),
        ("northstar.inputs[1].targets[0]", "either value", '"value": 0.5'),
    ),
    Case(
        "time_bound_target_without_goal",
        _delete("inputs[1].targets[0]", "goal"),
        ("northstar.inputs[1].targets[0].goal", "needs both", "(got: null)"),
    ),
    Case(
        "deadline_before_baseline",
        _set("inputs[1].targets[0].goal.by", "2026-01-31"),
        (
            "northstar.inputs[1].targets[0].goal.by",
            "after the baseline date 2026-03-02",
            '"2026-01-31"',
        ),
    ),
    Case(
        "baseline_date_not_a_day",
        _set("inputs[1].targets[0].baseline.date", "2026-02-30"),
        ("northstar.inputs[1].targets[0].baseline.date", "must be a date", '"2026-02-30"'),
    ),
    Case(
        "goal_on_the_worse_side_of_its_baseline",
        _set("inputs[1].targets[0].goal.value", 0.3),
        (
            "northstar.inputs[1].targets[0].goal.value",
            "at or above the baseline value 0.4",
            "(got: 0.3)",
        ),
    ),
    # candidates and backtest settings (docs/backtest.md); the demo spec declares two
    # candidates (files_shared, searches_performed) and every backtest setting
    Case(
        "six_candidates",
        _set("candidates", ["new_teams", "activation_rate", "churn_rate", "a", "b", "c"]),
        ("northstar.candidates", "at most 5", "got 6", '"new_teams"'),
    ),
    Case(
        "unknown_candidate_metric",
        _set("candidates", ["messages_per_user"]),
        ("northstar.candidates[0]", "unknown metric", '"messages_per_user"'),
    ),
    Case(
        "candidate_without_a_value_per_entity",
        _set("candidates", ["churn_rate"]),
        ("northstar.candidates[0]", "no value per entity", '"churn_rate"'),
    ),
    Case(
        "unknown_event_in_candidate",
        _set("candidates[1].events", ["search_done"]),
        ("northstar.candidates[1].events", '"search_done"'),
    ),
    Case(
        "lag_zero",
        _set("backtest.max_lag", 0),
        ("northstar.backtest.max_lag", "positive integer", "(got: 0)"),
    ),
    Case(
        "lag_too_long",
        _set("backtest.max_lag", 40),
        ("northstar.backtest.max_lag", "1 to 26", "(got: 40)"),
    ),
    Case(
        "unknown_backtest_setting",
        _set("backtest.lags", [1, 2]),
        ("northstar.backtest.lags", "unknown setting", "[1, 2]"),
    ),
]


# the third level of the tree, and the parents of every metric
CASES += [
    Case(
        "team_metric_without_parent",
        _with_team_metric(parent=None),
        ("northstar.team_metrics[0].parent", "needs a parent", "activation_rate", "(got: null)"),
    ),
    Case(
        "team_metric_under_a_guardrail",
        _with_team_metric(parent="churn_rate"),
        ("northstar.team_metrics[0].parent", "under an input", "guardrail", '"churn_rate"'),
    ),
    Case(
        "team_metric_under_an_unknown_metric",
        _with_team_metric(parent="activation"),
        ("northstar.team_metrics[0].parent", "unknown parent metric", '"activation"'),
    ),
    Case(
        "parents_in_a_cycle",
        _parent_cycle,
        ("northstar.inputs[0].parent", "cycle: new_teams -> activation_rate -> new_teams"),
    ),
    Case(
        "parent_is_itself",
        _set("outputs[0].parent", "paid_conversions"),
        ("northstar.outputs[0].parent", "cycle: paid_conversions -> paid_conversions"),
    ),
    # team metrics are not inputs: they do not make up for missing ones
    Case(
        "team_metrics_do_not_count_as_inputs",
        _two_inputs_and_two_team_metrics,
        ("northstar.inputs", "expected 3 to 5 input metrics, got 2"),
    ),
    Case(
        "lint_ignores_an_unknown_rule",
        _set("lint", {"ignore": ["revenue_nsm"]}),
        ("northstar.lint.ignore[0]", "revenue_north_star", "unmovable_north_star", '"revenue_nsm"'),
    ),
    Case(
        "lint_with_a_misspelt_key",
        _set("lint", {"ignored": ["revenue_north_star"]}),
        ("northstar.lint.ignored", "unknown key", "ignore"),
    ),
]


@dataclass(frozen=True)
class LintCase:
    id: str
    mutate: Callable[[dict[str, Any]], None]
    rules: tuple[str, ...]  # the warnings expected, in rule order
    says: tuple[str, ...] = ()  # fragments of the warnings' messages


def _revenue(spec: dict[str, Any]) -> None:
    """The North Star is new MRR (as the output new_mrr); an input reads subscriptions,
    so only the revenue rule fires."""
    spec["north_star"].update(
        kind="sum", events=["subscription_started"], property="mrr", unit="usd"
    )
    spec["inputs"][0] = {
        "name": "teams_subscribing",
        "owner": "growth",
        "kind": "entities",
        "events": ["subscription_started"],
    }


def _unmovable(spec: dict[str, Any]) -> None:
    """NPS answers are read by no input (and are not an activity event)."""
    spec["north_star"]["events"] = ["nps_submitted"]


LINT_CASES = [
    LintCase("lint_demo_spec", lambda spec: None, ()),
    LintCase(
        "lint_revenue",
        _revenue,
        ("revenue_north_star",),
        ("sums mrr", "its unit is usd", "what the output new_mrr measures", "lagging"),
    ),
    LintCase(
        "lint_cumulative_label",
        lambda spec: spec["north_star"].update(label="Messages sent, all time"),
        ("cumulative_north_star",),
        ('its label says "all time"', "vanity"),
    ),
    LintCase(
        "lint_unmovable",
        _unmovable,
        ("unmovable_north_star",),
        ("it reads nps_submitted and no input reads any of them",),
    ),
    # the same spec, the rule silenced by name: no warning, the silence recorded
    LintCase(
        "lint_unmovable_silenced",
        lambda spec: (_unmovable(spec), spec.update(lint={"ignore": ["unmovable_north_star"]})),
        (),
    ),
    # a team metric reading the North Star's events does not move it: inputs do
    LintCase(
        "lint_unmovable_with_a_team_metric_reading_it",
        lambda spec: (
            _unmovable(spec),
            _with_team_metric(events=["nps_submitted"], parent="new_teams")(spec),
        ),
        ("unmovable_north_star",),
    ),
]


def _recipes() -> dict[str, list[dict[str, Any]]]:
    """docs/spec.md's breadth / depth / frequency recipes: {heading: metrics}."""
    text = SPEC_DOC.read_text()
    assert RECIPE_SECTION in text, f"{SPEC_DOC}: no section {RECIPE_SECTION!r}"
    section = text.split(RECIPE_SECTION, 1)[1]
    section = re.split(r"^#{1,3} ", section, maxsplit=1, flags=re.MULTILINE)[0]
    recipes: dict[str, list[dict[str, Any]]] = {}
    for part in re.split(r"^#### ", section, flags=re.MULTILINE)[1:]:
        heading = part.splitlines()[0].split(":")[0].strip().lower()
        blocks = re.findall(r"^```yaml\n(.*?)^```", part, flags=re.MULTILINE | re.DOTALL)
        recipes[heading] = [metric for block in blocks for metric in yaml.safe_load(block)]
    return recipes


def _recipe_specs(demo: dict[str, Any]) -> list[dict[str, Any]]:
    """The demo spec with its inputs replaced by the recipes, 3 to 5 inputs per spec."""
    metrics = [metric for group in _recipes().values() for metric in group]
    chunks = max(1, math.ceil(len(metrics) / 5))
    specs = []
    for n in range(chunks):
        inputs = metrics[n::chunks]
        # too few recipes for one spec: keep some of the demo's own inputs
        inputs += demo["inputs"][: max(0, 3 - len(inputs))]
        specs.append({**copy.deepcopy(demo), "inputs": inputs})
    return specs


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every case parsed by dbt: {case id: {success, error, seconds}}."""
    demo = raw_spec(PROJECT_DIR)
    workdir = tmp_path_factory.mktemp("spec_validation")
    cases = []
    on_parsed = {"northstar": demo}
    for n, case in enumerate(CASES):
        spec = copy.deepcopy(demo)
        case.mutate(spec)
        assert spec != demo, case.id
        cases.append({"id": case.id, "vars": {"northstar": spec}, "on_parsed": on_parsed})
        if n % PARSED_SAMPLE == 0:
            cases.append({"id": f"{case.id}{PARSED}", "vars": {"northstar": spec}})

    env = dict(
        os.environ,
        DBT_PROFILES_DIR=str(PROJECT_DIR),
        NORTHSTAR_DUCKDB_PATH=str(workdir / "warehouse.duckdb"),
        NORTHSTAR_RAW_DIR=str(workdir / "raw"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    recipes = [
        {"id": f"{RECIPE}_{n}", "vars": {"northstar": spec}}
        for n, spec in enumerate(_recipe_specs(demo))
    ]
    for lint_case in LINT_CASES:
        spec = copy.deepcopy(demo)
        lint_case.mutate(spec)
        recipes.append({"id": lint_case.id, "vars": {"northstar": spec}, "on_parsed": on_parsed})
    workers = []
    for n in range(WORKERS):
        share = [*cases[n::WORKERS], *recipes[n::WORKERS]]
        good = {"vars": {"northstar": demo}}
        # the good spec last: a worker's earlier bad cases must not leak into it
        batch = [*share, {**good, "id": f"{GOOD}_after_bad_cases_{n}"}]
        for item in batch:
            item["workdir"] = str(workdir / item["id"])
        (workdir / f"cases_{n}.json").write_text(json.dumps(batch))
        command = [sys.executable, str(WORKER), str(workdir / f"cases_{n}.json")]
        command.append(str(workdir / f"results_{n}.json"))
        workers.append(
            subprocess.Popen(
                command, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        )
    results: dict[str, dict[str, Any]] = {}
    for n, worker in enumerate(workers):
        out, err = worker.communicate(timeout=900)
        assert worker.returncode == 0, (out + err).decode()[-5000:]
        results.update(json.loads((workdir / f"results_{n}.json").read_text()))
    return results


def test_the_demo_spec_parses(parsed: dict[str, dict[str, Any]]) -> None:
    good = {key: value for key, value in parsed.items() if key.startswith(GOOD)}
    assert len(good) == WORKERS
    assert all(outcome["success"] for outcome in good.values()), good


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_spec_error_fails_the_parse_naming_field_and_value(
    parsed: dict[str, dict[str, Any]], case: Case
) -> None:
    outcome = parsed[case.id]
    assert not outcome["success"], f"{case.id} parsed without error"
    message = outcome["error"] or ""
    assert "northstar spec: " in message, message
    missing = [fragment for fragment in case.expect if fragment not in message]
    assert not missing, f"{missing} not in: {message}"


def _spec_error(message: str) -> str:
    """The `northstar spec: ...` line of an error, without dbt's framing around it."""
    lines = [line.strip() for line in message.splitlines() if "northstar spec: " in line]
    assert len(lines) == 1, message
    return lines[0]


def test_a_real_parse_fails_with_the_error_the_spec_macro_gives(
    parsed: dict[str, dict[str, Any]],
) -> None:
    sampled = [case for n, case in enumerate(CASES) if n % PARSED_SAMPLE == 0]
    assert len(sampled) >= 5
    for case in sampled:
        outcome = parsed[f"{case.id}{PARSED}"]
        assert not outcome["success"], f"{case.id}: a real parse passed"
        assert _spec_error(outcome["error"] or "") == _spec_error(parsed[case.id]["error"] or "")


def test_the_documented_recipes_cover_breadth_depth_and_frequency() -> None:
    recipes = _recipes()
    assert {"breadth", "depth", "frequency"} <= set(recipes), recipes.keys()
    for heading, metrics in recipes.items():
        assert metrics, f"docs/spec.md: no yaml recipe under {heading}"
        for metric in metrics:
            assert metric.get("owner"), f"recipe {metric.get('name')} has no owner"


def test_the_breadth_depth_frequency_recipes_parse(parsed: dict[str, dict[str, Any]]) -> None:
    """Every recipe of docs/spec.md, as the demo spec's inputs (3-5 per spec), parses."""
    demo = raw_spec(PROJECT_DIR)
    specs = _recipe_specs(demo)
    assert all(3 <= len(spec["inputs"]) <= 5 for spec in specs)
    outcomes = {key: value for key, value in parsed.items() if key.startswith(f"{RECIPE}_")}
    assert len(outcomes) == len(specs)
    failed = {key: value["error"] for key, value in outcomes.items() if not value["success"]}
    assert not failed, failed


@pytest.mark.parametrize("case", LINT_CASES, ids=[case.id for case in LINT_CASES])
def test_the_lint_warns_on_each_anti_pattern_and_not_on_the_demo(
    parsed: dict[str, dict[str, Any]], case: LintCase
) -> None:
    """Each rule fires on a spec crafted to show it, and only it; the demo spec and a
    silenced rule give no warning. Every warning says why and how to silence it."""
    outcome = parsed[case.id]
    assert outcome["success"], outcome["error"]
    lint = outcome["spec"]["lint"]
    assert tuple(w["rule"] for w in lint["warnings"]) == case.rules, lint
    text = " ".join(w["message"] + " " + w["why"] for w in lint["warnings"])
    missing = [fragment for fragment in case.says if fragment not in text]
    assert not missing, f"{missing} not in: {text}"
    for warning in lint["warnings"]:
        assert warning["field"] == "northstar.north_star"
        assert warning["why"]
        assert f"lint: {{ignore: [{warning['rule']}]}}" in warning["silence"]
    if case.id == "lint_unmovable_silenced":
        assert lint["ignore"] == ["unmovable_north_star"]


def test_team_metrics_are_the_third_level_of_the_tree(parsed: dict[str, dict[str, Any]]) -> None:
    """The team metric of the last lint case: role team, under its input, at depth 2; the
    North Star at 0 and every other metric at 1 (their parent is the North Star)."""
    spec = parsed["lint_unmovable_with_a_team_metric_reading_it"]["spec"]
    depth = {m["name"]: (m["role"], m["parent_metric"], m["tree_depth"]) for m in spec["metrics"]}
    assert depth.pop("invites_sent") == ("team", "new_teams", 2)
    assert depth.pop("messages_sent") == ("north_star", None, 0)
    assert {value[1:] for value in depth.values()} == {("messages_sent", 1)}
    assert spec["metrics"][-1]["name"] == "invites_sent"  # after the outputs
