"""Cube: a YAML data model (cube.dev docs, "Data modeling reference": cubes, measures,
dimensions, joins).

One cube per semantic mart, on its table in the marts schema, joined many-to-one to the
entities cube (so every measure splits by the spec's segments). A ratio is a `number`
measure over its two component measures; a percentile is a `number` measure with the
aggregate written out (Cube has no percentile type): PERCENTILE_CONT ... WITHIN GROUP, as
DuckDB, Postgres, Snowflake and Redshift spell it.
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

FILE = "cube/model/northstar.yml"
COMMAND = "northstar semantic --export cube"
SCHEMA = "marts"
TYPES = {"sum": "sum", "count_distinct": "count_distinct"}


def _measure(field: Field) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "name": field.name,
        "title": field.label,
        "description": field.description,
    }
    if field.measure is None:
        rendered["type"] = "number"
        rendered["sql"] = f"1.0 * {{{field.numerator}}} / nullif({{{field.denominator}}}, 0)"
    elif field.measure.agg == "percentile":
        assert field.measure.agg_params is not None
        fraction = float(field.measure.agg_params["percentile"])
        column = qualify(field.measure.expr, "{CUBE}.")
        rendered["type"] = "number"
        rendered["sql"] = f"percentile_cont({fraction}) within group (order by {column})"
    else:
        rendered["type"] = TYPES[field.measure.agg]
        rendered["sql"] = qualify(field.measure.expr, "{CUBE}.")
    rendered["meta"] = {"northstar": field.meta}
    return rendered


def _cube(table: str, plan: SemanticPlan, measures: list[Field]) -> dict[str, Any]:
    keys = KEYS[table]
    dimensions: list[dict[str, Any]] = [
        {
            "name": "entity_id",
            "title": plan.entity.replace("_", " ").capitalize(),
            "sql": "{CUBE}.entity_id",
            "type": "string",
        }
    ]
    if keys == ("entity_id",):
        dimensions[0]["primary_key"] = True
    else:
        # Cube needs a primary key per cube (to count without double counting through
        # joins); the table's grain, as one string.
        dimensions.insert(
            0,
            {
                "name": "row_key",
                "sql": " || '|' || ".join(f"cast({{CUBE}}.{key} as varchar)" for key in keys),
                "type": "string",
                "primary_key": True,
                "public": False,
            },
        )
    dimensions.append(
        {"name": TIME_COLUMNS[table], "sql": f"{{CUBE}}.{TIME_COLUMNS[table]}", "type": "time"}
    )
    if table == ENTITY_MODEL:
        dimensions += [
            {
                "name": segment,
                "title": segment.replace("_", " ").capitalize(),
                "description": f"Segment {segment} of the {plan.entity} (spec segments).",
                "sql": f"{{CUBE}}.segment_{segment}",
                "type": "string",
            }
            for segment in plan.segments
        ]
    cube: dict[str, Any] = {"name": table, "sql_table": f"{SCHEMA}.{TABLES[table]}"}
    if table != ENTITY_MODEL:
        cube["joins"] = [
            {
                "name": ENTITY_MODEL,
                "relationship": "many_to_one",
                "sql": f"{{CUBE}}.entity_id = {{{ENTITY_MODEL}.entity_id}}",
            }
        ]
    cube["dimensions"] = dimensions
    if measures:
        cube["measures"] = [_measure(field) for field in measures]
    return cube


def render(plan: SemanticPlan) -> Export:
    planned, excluded = fields(plan)
    cubes = []
    for table in TABLES:
        measures = [field for field in planned if field.table == table]
        if measures or table == ENTITY_MODEL:
            cubes.append(_cube(table, plan, measures))
    body = dump_yaml({"cubes": cubes})
    text = header("cube", COMMAND, excluded) + "\n" + body
    included = [field.name for field in planned if field.meta.get("role") != "component"]
    return Export("cube", {FILE: text}, included, excluded)
