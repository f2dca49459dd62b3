"""The exact splits of a metric's change from its fct_metric_values rows (`northstar explain
METRIC`), with the formulas of fct_north_star_decomposition (docs/decomposition.md).

Pure functions over the total's and each segment value's rows in two consecutive periods
(`value`, `numerator`, `denominator`); each returns components in the shape of
fct_north_star_decomposition's rows (component, component_value, entities,
previous_amount, current_amount, contribution). Segments partition the entities, so the
segment values' numerators and denominators add up to the total's and each split adds up
to the total's change exactly (floating point aside).
"""

from __future__ import annotations

from typing import Any

from northstar.query.formats import number

# a segment value's rows: (segment_value, its row now, its row in the previous period)
Part = tuple[str, dict[str, Any], dict[str, Any]]
COMPONENT_ORDER = {
    "breadth_depth": ("breadth", "depth", "not_active"),
    "lifecycle": ("new", "returning", "resurrected", "dormant", "not_active"),
    "numerator_denominator": ("numerator", "denominator"),
    "segment": ("change", "mix", "rate"),
}


def by_size(decomposition: str, members: list[dict[str, Any]]) -> None:
    """Segment values by the size of their whole contribution (a value's mix and rate stay
    together), the other components in reading order."""
    totals: dict[str, float] = {}
    for row in members:
        key = row["component_value"] or ""
        totals[key] = totals.get(key, 0.0) + (number(row["contribution"]) or 0.0)
    order = COMPONENT_ORDER[decomposition]
    members.sort(
        key=lambda row: (
            -abs(totals[row["component_value"] or ""]) if row["component_value"] else 0,
            row["component_value"] or "",
            order.index(row["component"]),
        )
    )


def segment_parts(
    now: dict[tuple[str, str], dict[str, Any]], before: dict[tuple[str, str], dict[str, Any]]
) -> list[tuple[str, list[Part]]]:
    """Per segment (plan), its values with their rows in both periods (the spine is
    zero-filled, so every value has both; a missing one counts as nothing)."""
    empty = {"value": 0.0, "numerator": 0.0, "denominator": 0.0}
    breakdowns: dict[str, list[Part]] = {}
    for key in sorted(set(now) | set(before)):
        segment_name, segment_value = key
        if segment_name == "all":
            continue
        breakdowns.setdefault(segment_name, []).append(
            (segment_value, now.get(key, empty), before.get(key, empty))
        )
    return sorted(breakdowns.items())


def component(
    name: str, value: str | None, previous: Any, current: Any, contribution: Any
) -> dict[str, Any]:
    """One component, in fct_north_star_decomposition's columns (no entities here)."""
    return {
        "component": name,
        "component_value": value,
        "entities": None,
        "previous_amount": number(previous),
        "current_amount": number(current),
        "contribution": number(contribution),
    }


def change(part: Part) -> dict[str, Any]:
    """A segment value's own change: for a sum, its contribution to the total's."""
    segment_value, now, before = part
    current, previous = number(now["value"]), number(before["value"])
    delta = None if current is None or previous is None else current - previous
    return component("change", segment_value, previous, current, delta)


def numerator_denominator(total: dict[str, Any], previous: dict[str, Any]) -> list[dict]:
    """V = N x (1 / D), split at the midpoint (exact): as fct_north_star_decomposition."""
    n1, d1 = float(total["numerator"]), float(total["denominator"])
    n0, d0 = float(previous["numerator"]), float(previous["denominator"])
    return [
        component("numerator", None, n0, n1, (n1 - n0) * (1 / d0 + 1 / d1) / 2),
        component("denominator", None, d0, d1, (1 / d1 - 1 / d0) * (n0 + n1) / 2),
    ]


def mix_and_rate(
    members: list[Part],
    total: dict[str, Any],
    previous: dict[str, Any],
) -> list[dict[str, Any]]:
    """V = sum over values of w_v x r_v (w_v = D_v / D, r_v = N_v / D_v): mix = dw x mean
    rate, rate = the value's change of N_v / D minus its mix, as fct_north_star_decomposition
    (a value without a denominator in one period is weighed at its rate in the other)."""
    d1, d0 = float(total["denominator"]), float(previous["denominator"])
    components = []
    for segment_value, now, before in members:
        n_v1, d_v1 = number(now["numerator"]) or 0.0, number(now["denominator"]) or 0.0
        n_v0, d_v0 = number(before["numerator"]) or 0.0, number(before["denominator"]) or 0.0
        rate = n_v1 / d_v1 if d_v1 else None
        previous_rate = n_v0 / d_v0 if d_v0 else None
        known = [r for r in (previous_rate, rate) if r is not None]
        mean_rate = sum(known) / len(known) if known else 0.0
        weight, previous_weight = d_v1 / d1, d_v0 / d0
        mix = (weight - previous_weight) * mean_rate
        share_change = n_v1 / d1 - n_v0 / d0
        components.append(component("mix", segment_value, previous_weight, weight, mix))
        components.append(component("rate", segment_value, previous_rate, rate, share_change - mix))
    return components
