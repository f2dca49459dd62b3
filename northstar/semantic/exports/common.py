"""What every export target shares: the plan's metrics as fields of tables, with the
column references qualified for the target's SQL templating."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from typing import Any

import yaml

from northstar.semantic.plan import (
    ACTIVITY_MODEL,
    ENTITY_MODEL,
    EVENTS_MODEL,
    ExcludedMetric,
    Measure,
    PlannedMetric,
    SemanticPlan,
)
from northstar.semantic.render import SEMANTIC_MODELS, _meta

# The dbt model (marts schema) each semantic model of the plan sits on.
TABLES = {name: settings["model"] for name, settings in SEMANTIC_MODELS.items()}
TIME_COLUMNS = {name: settings["time_dimension"] for name, settings in SEMANTIC_MODELS.items()}
KEYS = {
    ACTIVITY_MODEL: ("entity_id", "event_name", "activity_date"),
    ENTITY_MODEL: ("entity_id",),
    EVENTS_MODEL: ("event_id",),
}

# Words of the plan's measure expressions that are SQL, not column names.
_SQL_WORDS = {"case", "when", "then", "else", "end", "and", "or", "not", "null", "is", "in"}
_IDENTIFIER = re.compile(r"\b[a-z_][a-z0-9_]*\b")


class _Dumper(yaml.SafeDumper):
    """Indents list items under their key; never writes anchors for repeated values."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def dump_yaml(document: dict[str, Any]) -> str:
    """YAML as dbt writes it, without anchors: a reader may not follow them."""
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=92)


@dataclass(frozen=True)
class Export:
    """The files of one target (relative path -> text), and the spec metrics it carries
    and keeps out (with why)."""

    target: str
    files: dict[str, str]
    included: list[str]
    excluded: list[ExcludedMetric]


@dataclass(frozen=True)
class Field:
    """One metric of a target: an aggregate of a column expression (`measure`) or a
    quotient of two other fields of the same table (`numerator` / `denominator`)."""

    name: str
    label: str
    description: str
    table: str  # a semantic model name of the plan (ACTIVITY_MODEL...)
    measure: Measure | None = None
    numerator: str | None = None
    denominator: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def qualify(expr: str, prefix: str) -> str:
    """`expr` with every column name prefixed (`${TABLE}.`, `{CUBE}.`): the tables are
    joined to dim_entities, and a bare entity_id would be ambiguous."""
    return _IDENTIFIER.sub(
        lambda m: m.group(0) if m.group(0) in _SQL_WORDS else prefix + m.group(0), expr
    )


def fields(plan: SemanticPlan) -> tuple[list[Field], list[ExcludedMetric]]:
    """Every included metric as fields (a ratio: its two components, then itself), and
    the plan's excluded metrics plus those a target of this kind cannot carry either."""
    out: list[Field] = []
    excluded = list(plan.excluded)
    for planned in plan.included:
        try:
            out += _fields(planned)
        except _Cannot as reason:
            excluded.append(ExcludedMetric(planned.metric, str(reason)))
    names = [f.name for f in out]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(
            "northstar spec: metric names clash with generated export fields: "
            + ", ".join(duplicates)
            + " (rename the metric in vars.northstar)"
        )
    return out, excluded


class _Cannot(Exception):
    pass


def _fields(planned: PlannedMetric) -> list[Field]:
    metric = planned.metric
    description = (metric.spec["description"] or metric.label).strip()
    meta = _meta(metric)
    if not planned.is_ratio:
        assert planned.measure is not None
        return [
            Field(
                metric.name,
                metric.label,
                description,
                planned.measure.semantic_model,
                measure=planned.measure,
                meta=meta,
            )
        ]
    numerator, denominator = planned.numerator, planned.denominator
    assert numerator is not None and denominator is not None
    if numerator.semantic_model != denominator.semantic_model:
        # A quotient of two tables' aggregates needs them joined at the query's grain,
        # which these targets do per row, not per period: the numbers would change.
        raise _Cannot(
            f"numerator ({TABLES[numerator.semantic_model]}) and denominator "
            f"({TABLES[denominator.semantic_model]}) are aggregated from different tables"
        )
    components = [
        Field(
            f"{metric.name}_{side}",
            f"{metric.label} ({side})",
            f"The {side} of {metric.name}. {measure.description}",
            measure.semantic_model,
            measure=measure,
            meta={"role": "component", "component_of": metric.name, "side": side},
        )
        for side, measure in (("numerator", numerator), ("denominator", denominator))
    ]
    ratio = Field(
        metric.name,
        metric.label,
        description,
        numerator.semantic_model,
        numerator=components[0].name,
        denominator=components[1].name,
        meta=meta,
    )
    return [*components, ratio]


def header(target: str, command: str, excluded: list[ExcludedMetric]) -> str:
    """The generated file's comment: where it comes from, and what was kept out, why."""
    lines = [
        f"GENERATED by `{command}` from the North Star spec (dbt_project.yml",
        "vars.northstar); do not edit, regenerate. See docs/semantic-layer.md,",
        f'"Exports". Target: {target}.',
        "",
    ]
    if excluded:
        lines.append("Kept out (read them from marts.fct_metric_values):")
        for item in excluded:
            text = f"- {item.metric.name} ({item.metric.role}, {item.metric.kind}): {item.reason}"
            lines += textwrap.wrap(text, width=92, subsequent_indent="  ")
    else:
        lines.append("Every metric of the spec is in this export.")
    return "\n".join(f"# {line}".rstrip() for line in lines) + "\n"
