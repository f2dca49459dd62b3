"""Render a SemanticPlan as dbt 1.11 semantic-layer YAML (semantic_models, metrics,
saved_queries), with a header comment naming what was left out and why.

The output is deterministic (same spec, same bytes), so the committed file can be compared
with a fresh rendering in CI.
"""

from __future__ import annotations

import textwrap
from typing import Any

import yaml

from northstar.semantic.plan import (
    ACTIVITY_MODEL,
    ENTITY_MODEL,
    EVENTS_MODEL,
    Measure,
    PlannedMetric,
    SemanticPlan,
)
from northstar.spec import Metric

REGENERATE = ".venv/bin/northstar semantic"

SEMANTIC_MODELS = {
    ACTIVITY_MODEL: {
        "model": "fct_entity_activity_daily",
        "description": (
            "Entity x event x day activity with one column per spec measure: counts, "
            "sums, ratios and distinct-entity counts."
        ),
        "time_dimension": "activity_date",
        "primary_entity": "activity",
    },
    ENTITY_MODEL: {
        "model": "dim_entities",
        "description": (
            "One row per entity with its segments and aha moment: acquisition and activation "
            "are counted at first_seen_at; the segments slice every metric."
        ),
        "time_dimension": "first_seen_at",
    },
    EVENTS_MODEL: {
        "model": "fct_metric_events",
        "description": "Event-level values for the percentile metrics.",
        "time_dimension": "occurred_at",
    },
}


class _Dumper(yaml.SafeDumper):
    """Indents list items under their key, as dbt's own YAML does."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def _time_dimension(name: str) -> dict[str, Any]:
    return {"name": name, "type": "time", "type_params": {"time_granularity": "day"}}


def _measure(measure: Measure) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "name": measure.name,
        "description": measure.description,
        "agg": measure.agg,
        "expr": measure.expr,
    }
    if measure.agg_params:
        rendered["agg_params"] = measure.agg_params
    return rendered


def _semantic_model(name: str, plan: SemanticPlan) -> dict[str, Any]:
    settings = SEMANTIC_MODELS[name]
    model: dict[str, Any] = {
        "name": name,
        "description": settings["description"],
        "model": f"ref('{settings['model']}')",
        "defaults": {"agg_time_dimension": settings["time_dimension"]},
    }
    dimensions = [_time_dimension(settings["time_dimension"])]
    if name == ENTITY_MODEL:
        entities = [{"name": plan.entity, "type": "primary", "expr": "entity_id"}]
        dimensions += [
            {
                "name": segment,
                "type": "categorical",
                "description": f"Segment {segment} of the {plan.entity} (spec segments).",
                "expr": f"segment_{segment}",
            }
            for segment in plan.segments
        ]
        dimensions.append({"name": "has_reached_aha", "type": "categorical"})
    elif name == EVENTS_MODEL:
        entities = [
            {"name": "metric_event", "type": "primary", "expr": "event_id"},
            {"name": plan.entity, "type": "foreign", "expr": "entity_id"},
        ]
        dimensions.append({"name": "event_name", "type": "categorical"})
    else:
        model["primary_entity"] = settings["primary_entity"]
        entities = [{"name": plan.entity, "type": "foreign", "expr": "entity_id"}]
        dimensions.append({"name": "event_name", "type": "categorical"})
    model["entities"] = entities
    model["dimensions"] = dimensions
    measures = [_measure(m) for m in plan.measures() if m.semantic_model == name]
    if measures:
        model["measures"] = measures
    return model


def _meta(metric: Metric) -> dict[str, Any]:
    """The catalog's columns (dim_metrics), so a semantic-layer client sees the same."""
    entry = metric.spec
    return {
        "role": metric.role,
        "parent_metric": entry["parent_metric"],
        "owner": metric.owner,
        "unit": metric.unit,
        "direction": metric.direction,
        "warn_threshold": metric.warn,
        "breach_threshold": metric.breach,
        # the normalized targets (docs/spec.md, "Targets"), without their empty fields
        "targets": [
            {key: value for key, value in target.items() if value is not None}
            for target in entry["targets"]
        ],
        "target_growth_rate": entry["target_growth_rate"],
        "definition_version": metric.definition_version,
        "kind": metric.kind,
        "generated_from": "built in: macros/spec/northstar_spec_diagnostics.sql"
        if metric.role == "diagnostic"
        else "dbt_project.yml vars.northstar",
    }


def _simple(name: str, label: str, description: str, measure: Measure, fill_zero: bool) -> dict:
    measure_input: dict[str, Any] = {"name": measure.name}
    if fill_zero:
        measure_input["fill_nulls_with"] = 0
    # Every period of the time spine gets a row, as fct_metric_values has one per period.
    measure_input["join_to_timespine"] = True
    return {
        "name": name,
        "label": label,
        "description": description,
        "type": "simple",
        "type_params": {"measure": measure_input},
    }


def _metrics(planned: PlannedMetric) -> list[dict[str, Any]]:
    metric = planned.metric
    description = (metric.spec["description"] or metric.label).strip()
    meta = _meta(metric)
    if not planned.is_ratio:
        assert planned.measure is not None
        rendered = _simple(
            metric.name, metric.label, description, planned.measure, planned.fill_zero
        )
        rendered["config"] = {"meta": meta}
        return [rendered]
    # A ratio divides two simple metrics (MetricFlow's ratio takes metrics, not measures);
    # they are published too, as fct_metric_values publishes numerator and denominator.
    components = []
    for side, measure in (("numerator", planned.numerator), ("denominator", planned.denominator)):
        assert measure is not None
        component = _simple(
            f"{metric.name}_{side}",
            f"{metric.label} ({side})",
            f"The {side} of {metric.name}. {measure.description}",
            measure,
            fill_zero=True,
        )
        component["config"] = {
            "meta": {"role": "component", "component_of": metric.name, "side": side}
        }
        components.append(component)
    ratio = {
        "name": metric.name,
        "label": metric.label,
        "description": description,
        "type": "ratio",
        "type_params": {
            "numerator": f"{metric.name}_numerator",
            "denominator": f"{metric.name}_denominator",
        },
        "config": {"meta": meta},
    }
    return [*components, ratio]


def _saved_queries(plan: SemanticPlan) -> list[dict[str, Any]]:
    pack = [
        planned.metric.name
        for planned in plan.included
        if planned.metric.role in ("north_star", "input", "guardrail")
    ]
    left_out = [
        excluded.metric.name
        for excluded in plan.excluded
        if excluded.metric.role in ("north_star", "input", "guardrail")
    ]
    description = (
        f"The North Star, its inputs and its guardrails by {plan.primary_grain} "
        "(the spec's primary grain)."
    )
    if left_out:
        description += " Not in the semantic layer (see the header): " + ", ".join(left_out) + "."
    return [
        {
            "name": "nsm_pack",
            "label": "North Star pack",
            "description": description,
            "query_params": {
                "metrics": pack,
                "group_by": [f"TimeDimension('metric_time', '{plan.primary_grain}')"],
            },
        }
    ]


def _header(plan: SemanticPlan) -> str:
    lines = [
        "GENERATED FILE - do not edit. Source: the North Star spec (dbt_project.yml",
        f"vars.northstar). Regenerate with `{REGENERATE}`; CI runs",
        f"`{REGENERATE} --check` and fails when this file differs from the spec.",
        "See docs/semantic-layer.md.",
        "",
    ]
    if plan.excluded:
        lines += [
            "Kept out of the semantic layer (MetricFlow cannot compute the same number;",
            "read them from marts.fct_metric_values):",
        ]
        for excluded in plan.excluded:
            text = f"- {excluded.metric.name} ({excluded.metric.role}, {excluded.metric.kind}): "
            text += excluded.reason
            lines += textwrap.wrap(text, width=92, subsequent_indent="  ")
    else:
        lines.append("Every metric of the spec is in the semantic layer.")
    return "\n".join(f"# {line}".rstrip() for line in lines) + "\n"


def render_yaml(plan: SemanticPlan) -> str:
    """The complete generated file: header comment + YAML."""
    names = {ENTITY_MODEL} | {m.semantic_model for m in plan.measures()}
    semantic_models = [_semantic_model(name, plan) for name in SEMANTIC_MODELS if name in names]
    rendered_metrics = [m for planned in plan.included for m in _metrics(planned)]
    _check_names(rendered_metrics)
    document = {
        "version": 2,
        "semantic_models": semantic_models,
        "metrics": rendered_metrics,
        "saved_queries": _saved_queries(plan),
    }
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=92)
    return _header(plan) + "\n" + body


def _check_names(rendered_metrics: list[dict[str, Any]]) -> None:
    """A spec metric named like a ratio's generated component would shadow it."""
    names = [metric["name"] for metric in rendered_metrics]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(
            "northstar spec: metric names clash with generated semantic-layer metrics: "
            + ", ".join(duplicates)
            + " (rename the metric in vars.northstar)"
        )
