"""Lightdash: metrics and dimensions in dbt model YAML `meta` (docs.lightdash.com,
"Metrics reference", "Dimensions reference", "Joins").

One dbt properties file for the semantic marts: each model's `config.meta.metrics` (model
level, since a ratio's components and distinct counts read several columns) and `joins` to
dim_entities (so every metric splits by the spec's segments), and `config.meta.dimension`
on the time columns and segments. dbt 1.10+ reads meta under `config:`, as here.
"""

from __future__ import annotations

from typing import Any

from northstar.semantic.exports.common import (
    KEYS,
    TABLES,
    TIME_COLUMNS,
    Export,
    Field,
    dump_yaml,
    fields,
    header,
    qualify,
)
from northstar.semantic.plan import ENTITY_MODEL, SemanticPlan

FILE = "lightdash/_northstar__lightdash.yml"
COMMAND = "northstar semantic --export lightdash"
TIME_INTERVALS = ["DAY", "WEEK", "MONTH", "QUARTER", "YEAR"]
# The plan's aggregations under Lightdash's names.
TYPES = {"sum": "sum", "count_distinct": "count_distinct", "percentile": "percentile"}


def _metric(field: Field) -> dict[str, Any]:
    rendered: dict[str, Any] = {"label": field.label, "description": field.description}
    if field.measure is None:
        rendered["type"] = "number"
        # the SQL side's quotient: null when the denominator is 0; 1.0 * so that an
        # integer quotient is not truncated on warehouses that divide integers exactly
        rendered["sql"] = f"1.0 * ${{{field.numerator}}} / nullif(${{{field.denominator}}}, 0)"
    else:
        measure = field.measure
        rendered["type"] = TYPES[measure.agg]
        rendered["sql"] = qualify(measure.expr, "${TABLE}.")
        if measure.agg == "percentile":
            assert measure.agg_params is not None
            rendered["percentile"] = round(float(measure.agg_params["percentile"]) * 100, 6)
    role = field.meta.get("role")
    rendered["groups"] = [role]
    if field.meta.get("owner"):
        rendered["tags"] = [f"owner:{field.meta['owner']}"]
    return rendered


def _column(name: str, kind: str, time: bool = False) -> dict[str, Any]:
    dimension: dict[str, Any] = {"type": kind, "label": _label(name)}
    if time:
        dimension["time_intervals"] = list(TIME_INTERVALS)
    return {"name": name, "config": {"meta": {"dimension": dimension}}}


def _label(column: str) -> str:
    return column.removeprefix("segment_").replace("_", " ").capitalize()


def _model(table: str, plan: SemanticPlan, metrics: list[Field]) -> dict[str, Any]:
    meta: dict[str, Any] = {"primary_key": list(KEYS[table])}
    if table != ENTITY_MODEL:
        this, entities = TABLES[table], TABLES[ENTITY_MODEL]
        meta["joins"] = [
            {
                "join": entities,
                "sql_on": f"${{{this}.entity_id}} = ${{{entities}.entity_id}}",
                "relationship": "many-to-one",
            }
        ]
    meta["metrics"] = {field.name: _metric(field) for field in metrics}
    time_column = TIME_COLUMNS[table]
    # activity_date is a date; first_seen_at and occurred_at are timestamps
    time_kind = "date" if time_column.endswith("_date") else "timestamp"
    columns = [_column(time_column, time_kind, time=True)]
    if table == ENTITY_MODEL:
        columns += [_column(f"segment_{segment}", "string") for segment in plan.segments]
    return {"name": TABLES[table], "config": {"meta": meta}, "columns": columns}


def render(plan: SemanticPlan) -> Export:
    planned, excluded = fields(plan)
    tables = [ENTITY_MODEL] + [t for t in TABLES if t != ENTITY_MODEL]
    models = []
    for table in tables:
        metrics = [field for field in planned if field.table == table]
        if metrics or table == ENTITY_MODEL:
            models.append(_model(table, plan, metrics))
    body = dump_yaml({"version": 2, "models": models})
    text = header("lightdash", COMMAND, excluded) + "\n" + body
    included = [field.name for field in planned if field.meta.get("role") != "component"]
    return Export("lightdash", {FILE: text}, included, excluded)
