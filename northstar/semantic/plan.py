"""Decide, per spec metric, whether MetricFlow can compute the same number, and how.

The SQL models compute every metric from the spec (macros/spec/, macros/metrics/). This
module maps each metric onto MetricFlow measures over the semantic marts, or keeps it out
with the reason. A metric is only published under its name when MetricFlow's number is the
one in fct_metric_values at every grain and for every segment; an approximation never is.

The spec is read raw (northstar/spec.py), so the few defaults the SQL side applies when it
normalizes a measure (macros/spec/northstar_spec_metric.sql) are applied here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from northstar.spec import Metric, metrics

ACTIVITY_MODEL = "entity_activity_daily"
ENTITY_MODEL = "entities"
EVENTS_MODEL = "metric_events"

# measures several metrics share (the others are named after their metric's column)
ACTIVE_ENTITIES = "active_entity_count"
NEW_ENTITIES = "new_entity_count"

PREVIOUS_PERIOD_REASON = (
    "needs each entity's state in an earlier period ({what}); MetricFlow aggregates each "
    "period on its own, so it cannot express this without a different definition"
)
REASONS = {
    "retention": PREVIOUS_PERIOD_REASON.format(
        what="active now among entities first seen N periods ago, N counted in the query's grain"
    ),
    "resurrection": PREVIOUS_PERIOD_REASON.format(
        what="active now, seen before, inactive in the previous period"
    ),
    "churn": PREVIOUS_PERIOD_REASON.format(what="active in the previous period, not now"),
    "median": (
        "a median of per-entity totals for the period: MetricFlow's median runs over table "
        "rows (entity x event x day), not over entities' period totals"
    ),
    "engagement_inactive": (
        "counts qualifying events only of entities active in the period, and some of its "
        "events are not activity events: whether a row counts depends on the entity's whole "
        "period, which a MetricFlow measure cannot see"
    ),
    "entities_threshold": (
        "counts entities with at least {detail} in the period: a condition on each entity's "
        "period total, which a MetricFlow measure (aggregating rows) cannot express"
    ),
}


@dataclass(frozen=True)
class Measure:
    """A MetricFlow measure: aggregation `agg` of `expr` in `semantic_model`."""

    name: str
    semantic_model: str
    agg: str
    expr: str
    description: str
    agg_params: dict[str, Any] | None = None


@dataclass(frozen=True)
class PlannedMetric:
    """A spec metric MetricFlow computes faithfully.

    `measure` for a simple metric; `numerator` and `denominator` for a ratio (MetricFlow
    divides their per-period totals, null when the denominator is 0, as the SQL does).
    `fill_zero`: a period without rows is 0 (counts, sums), not unknown (percentiles).
    """

    metric: Metric
    measure: Measure | None = None
    numerator: Measure | None = None
    denominator: Measure | None = None
    fill_zero: bool = True

    @property
    def is_ratio(self) -> bool:
        return self.numerator is not None


@dataclass(frozen=True)
class ExcludedMetric:
    metric: Metric
    reason: str


@dataclass(frozen=True)
class SemanticPlan:
    entity: str
    segments: list[str]
    primary_grain: str
    included: list[PlannedMetric]
    excluded: list[ExcludedMetric]

    def measures(self) -> list[Measure]:
        """Every measure the included metrics use, once, in first-use order."""
        seen: dict[str, Measure] = {}
        for planned in self.included:
            for measure in (planned.measure, planned.numerator, planned.denominator):
                if measure is not None:
                    seen.setdefault(measure.name, measure)
        return list(seen.values())


class NotExpressible(Exception):
    """This measure has no faithful MetricFlow equivalent; the message says why."""


def _normalized_segments(spec: dict[str, Any]) -> list[str]:
    names = []
    for segment in spec.get("segments") or []:
        names.append(segment if isinstance(segment, str) else segment["name"])
    return names


def _active_entities() -> Measure:
    return Measure(
        name=ACTIVE_ENTITIES,
        semantic_model=ACTIVITY_MODEL,
        agg="count_distinct",
        expr="case when activity_event_count > 0 then entity_id end",
        description="Entities with at least one activity event in the period (active).",
    )


def _new_entities() -> Measure:
    return Measure(
        name=NEW_ENTITIES,
        semantic_model=ENTITY_MODEL,
        agg="sum",
        expr="entity_count",
        description="Entities first seen in the period (counted at first_seen_at).",
    )


def _events_text(entry: dict[str, Any]) -> str:
    """ "message_sent events where status >= 500", for descriptions."""
    text = " or ".join(entry.get("events") or []) + " events"
    where = entry.get("where")
    if where:
        text += f" where {where.get('property')} {where.get('op')} {where.get('value')}"
    return text


def _spec_measure(metric: Metric, side: str, entry: dict[str, Any]) -> Measure:
    """One side (numerator or denominator) of a metric, as a MetricFlow measure."""
    kind = entry.get("kind")
    column = f"{metric.name}__{side}"  # the SQL's column; MetricFlow names take no "__"
    name = f"{metric.name}_{side}"
    if kind == "active_entities":
        return _active_entities()
    if kind == "new_entities":
        return _new_entities()
    if kind in ("count", "sum"):
        if kind == "sum":
            what = f"Sum of {entry.get('property')} over {_events_text(entry)}."
        elif entry.get("property"):
            what = f"Count of {_events_text(entry)} carrying {entry['property']}."
        else:
            what = f"Count of {_events_text(entry)}."
        return Measure(
            name=name, semantic_model=ACTIVITY_MODEL, agg="sum", expr=column, description=what
        )
    if kind == "entities":
        thresholds = {
            option: entry.get(option, 1)
            for option in (
                "min_events",
                "min_distinct_users",
                "min_distinct_events",
                "min_active_days",
            )
        }
        if any(value != 1 for value in thresholds.values()):
            detail = ", ".join(f"{key} {value}" for key, value in thresholds.items() if value != 1)
            raise NotExpressible(REASONS["entities_threshold"].format(detail=detail))
        # With every minimum at 1 an entity meets the condition in a period exactly when
        # one of its rows there does; fct_entity_activity_daily flags those rows with the
        # SQL's own condition (northstar_measure_value), so a distinct count is the measure.
        return Measure(
            name=name,
            semantic_model=ACTIVITY_MODEL,
            agg="count_distinct",
            expr=f"case when {column}__qualifies = 1 then entity_id end",
            description=f"Entities with one of {_events_text(entry)} in the period.",
        )
    raise NotExpressible(f"unknown measure kind {kind!r}")


def _plan_metric(metric: Metric, spec: dict[str, Any]) -> PlannedMetric:
    raw = metric.raw
    kind = metric.kind
    if kind in ("retention", "resurrection", "churn"):
        raise NotExpressible(REASONS[kind])
    if kind in ("count", "sum", "entities", "new_entities"):
        return PlannedMetric(metric, measure=_spec_measure(metric, "numerator", raw))
    if kind == "mean":
        # the SQL side: sum of the property / count of events carrying it
        base = {key: raw.get(key) for key in ("events", "property", "where")}
        return PlannedMetric(
            metric,
            numerator=_spec_measure(metric, "numerator", {**base, "kind": "sum"}),
            denominator=_spec_measure(metric, "denominator", {**base, "kind": "count"}),
        )
    if kind == "ratio":
        return PlannedMetric(
            metric,
            numerator=_spec_measure(metric, "numerator", raw["numerator"]),
            denominator=_spec_measure(metric, "denominator", raw["denominator"]),
        )
    if kind == "engagement":
        if raw.get("aggregate", "median") == "median":
            raise NotExpressible(REASONS["median"])
        activity_events = set(spec.get("activity_events") or (spec.get("events") or {}))
        if not set(raw.get("events") or []) <= activity_events:
            raise NotExpressible(REASONS["engagement_inactive"])
        # every entity with a qualifying event is active, so summing all rows is the same
        # as summing the active entities' rows
        numerator = _spec_measure(
            metric,
            "numerator",
            {"kind": "count", "events": raw.get("events"), "where": raw.get("where")},
        )
        return PlannedMetric(metric, numerator=numerator, denominator=_active_entities())
    if kind == "activation":
        numerator = Measure(
            name=f"{metric.name}_numerator",
            semantic_model=ENTITY_MODEL,
            agg="sum",
            expr=f"{metric.name}__numerator",
            description=(
                "Entities first seen in the period that reached the aha moment within "
                f"{raw.get('within_days')} days of their first event."
            ),
        )
        return PlannedMetric(metric, numerator=numerator, denominator=_new_entities())
    if kind == "percentile":
        percentile = Measure(
            name=f"{metric.name}_value",
            semantic_model=EVENTS_MODEL,
            agg="percentile",
            expr=f"{metric.name}__value",
            description=(
                f"Percentile {raw['percentile']} of {raw.get('property')} over "
                f"{_events_text(raw)} (continuous, interpolated)."
            ),
            agg_params={
                "percentile": float(raw["percentile"]),
                "use_discrete_percentile": False,
                "use_approximate_percentile": False,
            },
        )
        return PlannedMetric(metric, measure=percentile, fill_zero=False)
    raise NotExpressible(f"unknown metric kind {kind!r}")


def plan_semantic_layer(spec: dict[str, Any]) -> SemanticPlan:
    """Every metric of the spec, included (with its measures) or excluded (with why)."""
    included: list[PlannedMetric] = []
    excluded: list[ExcludedMetric] = []
    for metric in metrics(spec):
        try:
            included.append(_plan_metric(metric, spec))
        except NotExpressible as reason:
            excluded.append(ExcludedMetric(metric, str(reason)))
    grains = spec.get("grains") or ["day", "week", "month"]
    return SemanticPlan(
        entity=spec.get("entity", "account"),
        segments=_normalized_segments(spec),
        primary_grain=spec.get("primary_grain", "week" if "week" in grains else grains[0]),
        included=included,
        excluded=excluded,
    )
