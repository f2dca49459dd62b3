"""Decide, per spec metric, whether MetricFlow can compute the same number, and how.

The SQL models compute every metric from the spec (macros/spec/, macros/metrics/). This
module maps each metric onto MetricFlow measures over the semantic marts, or keeps it out
with the reason. A metric is only published under its name when MetricFlow's number is the
one in fct_metric_values at every grain and for every segment; an approximation never is.

The spec is the one the SQL side builds from (normalized by macros/spec/, read through
northstar/spec.py): its measures come with their defaults filled in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from northstar.spec import Metric, diagnostics, metrics

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
    # the built-in diagnostics (northstar_spec_diagnostics), by the lifecycle counts they read
    "lifecycle_new": (
        "counts entities active in the period that was their first-seen period: whether a "
        "row counts depends on the query's grain (first seen this week, this month), which "
        "a MetricFlow measure, fixed once for every grain, cannot follow"
    ),
    "lifecycle_previous": PREVIOUS_PERIOD_REASON.format(
        what="whether it was active in the previous period: returning, resurrected, dormant"
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
    text = " or ".join(entry["events"] or []) + " events"
    where = entry["where"]
    if where:
        # the value as the spec states it: a list only for in / not_in
        values = where["values"]
        value = values if where["op"] in ("in", "not_in") else values[0]
        text += f" where {where['property']} {where['op']} {value}"
    return text


def _spec_measure(metric: Metric, side: str, entry: dict[str, Any]) -> Measure:
    """One side (numerator or denominator) of a metric, as a MetricFlow measure."""
    kind = entry["kind"]
    column = f"{metric.name}__{side}"  # the SQL's column; MetricFlow names take no "__"
    name = f"{metric.name}_{side}"
    if kind == "active_entities":
        return _active_entities()
    if kind == "new_entities":
        return _new_entities()
    if kind in ("count", "sum"):
        if kind == "sum":
            what = f"Sum of {entry['property']} over {_events_text(entry)}."
        elif entry["property"]:
            what = f"Count of {_events_text(entry)} carrying {entry['property']}."
        else:
            what = f"Count of {_events_text(entry)}."
        return Measure(
            name=name, semantic_model=ACTIVITY_MODEL, agg="sum", expr=column, description=what
        )
    if kind == "entities":
        thresholds = {
            option: entry[option]
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
    entry = metric.spec
    kind = metric.kind
    if kind in ("retention", "resurrection", "churn"):
        raise NotExpressible(REASONS[kind])
    if kind == "engagement":
        if entry["aggregate"] == "median":
            raise NotExpressible(REASONS["median"])
        if not set(entry["numerator"]["events"]) <= set(spec["activity_events"]):
            raise NotExpressible(REASONS["engagement_inactive"])
        # every entity with a qualifying event is active, so summing all rows is the same
        # as summing the active entities' rows
        numerator = _spec_measure(metric, "numerator", entry["numerator"])
        return PlannedMetric(metric, numerator=numerator, denominator=_active_entities())
    if kind == "activation":
        numerator = Measure(
            name=f"{metric.name}_numerator",
            semantic_model=ENTITY_MODEL,
            agg="sum",
            expr=f"{metric.name}__numerator",
            description=(
                "Entities first seen in the period that reached the aha moment within "
                f"{entry['within_days']} days of their first event."
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
                f"Percentile {entry['percentile']} of {entry['property']} over "
                f"{_events_text(entry)} (continuous, interpolated)."
            ),
            agg_params={
                "percentile": float(entry["percentile"]),
                "use_discrete_percentile": False,
                "use_approximate_percentile": False,
            },
        )
        return PlannedMetric(metric, measure=percentile, fill_zero=False)
    # Any other kind is its measures: one total, or a quotient of two (a mean is normalized
    # as sum of the property / count of the events carrying it).
    if metric.is_additive:
        return PlannedMetric(metric, measure=_spec_measure(metric, "numerator", entry["numerator"]))
    if entry.get("numerator") and entry.get("denominator"):
        return PlannedMetric(
            metric,
            numerator=_spec_measure(metric, "numerator", entry["numerator"]),
            denominator=_spec_measure(metric, "denominator", entry["denominator"]),
        )
    raise NotExpressible(f"no MetricFlow mapping for the metric kind {kind!r}")


def _plan_diagnostic(metric: Metric) -> PlannedMetric:
    """A built-in diagnostic: a sum (or quotient) of int_lifecycle_periods' counts. Active
    entities is the measure ratios already use; every other count needs the previous
    period or the query's grain."""
    counts = metric.spec["counts"]
    if counts["numerator"] == ["active_entities"] and not counts["denominator"]:
        return PlannedMetric(metric, measure=_active_entities())
    if counts["numerator"] == ["new_entities"] and not counts["denominator"]:
        raise NotExpressible(REASONS["lifecycle_new"])
    raise NotExpressible(REASONS["lifecycle_previous"])


def plan_semantic_layer(spec: dict[str, Any]) -> SemanticPlan:
    """Every metric of the spec, and every built-in diagnostic, included (with its
    measures) or excluded (with why)."""
    included: list[PlannedMetric] = []
    excluded: list[ExcludedMetric] = []
    planners = [(metric, lambda m: _plan_metric(m, spec)) for metric in metrics(spec)]
    planners += [(metric, _plan_diagnostic) for metric in diagnostics(spec)]
    for metric, plan in planners:
        try:
            included.append(plan(metric))
        except NotExpressible as reason:
            excluded.append(ExcludedMetric(metric, str(reason)))
    return SemanticPlan(
        entity=spec["entity"],
        segments=[segment["name"] for segment in spec["segments"]],
        primary_grain=spec["primary_grain"],
        included=included,
        excluded=excluded,
    )
