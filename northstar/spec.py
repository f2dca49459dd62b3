"""Read the North Star spec (dbt_project.yml `vars.northstar`) for the Python side.

dbt validates the spec when it parses the project (macros/spec/), so this module does
not re-validate: it only loads it, applies an optional override file (the same YAML a
user passes to `dbt --vars`), and lists the metrics in catalog order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROLES = ("north_star", "input", "guardrail", "output")
# Kinds whose value is the numerator itself: fct_metric_values has no denominator for them
# (macros/metrics/metric_columns.sql, northstar_metric_columns, builds the columns).
NO_DENOMINATOR_KINDS = ("count", "sum", "entities", "new_entities")


@dataclass(frozen=True)
class Metric:
    name: str
    role: str
    kind: str
    label: str
    owner: str | None
    unit: str | None
    direction: str
    warn: float | None
    breach: float | None
    definition_version: str
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def is_ratio(self) -> bool:
        """Values are shares in [0, 1] (not counts or averages)."""
        return self.kind in {"activation", "retention", "resurrection", "churn"} or (
            self.kind == "ratio" and self.unit == "ratio"
        )

    @property
    def has_numerator(self) -> bool:
        """Its fct_metric_values rows carry a numerator (always a number). A percentile
        and a median engagement have none: their value is not a quotient."""
        if self.kind == "percentile":
            return False
        return not (self.kind == "engagement" and self.raw.get("aggregate", "median") == "median")

    @property
    def has_denominator(self) -> bool:
        """Its rows carry a denominator (always a number); the value is then NULL exactly
        when the denominator is 0. Counts and sums have none, and always have a value."""
        return self.kind not in NO_DENOMINATOR_KINDS


def load_vars(project_dir: Path, override: Path | None = None) -> dict[str, Any]:
    """The project's vars, with an override file's top-level keys replacing them."""
    with (project_dir / "dbt_project.yml").open() as handle:
        variables = dict(yaml.safe_load(handle).get("vars") or {})
    if override is not None:
        with override.open() as handle:
            variables.update(yaml.safe_load(handle) or {})
    return variables


def load_spec(project_dir: Path, override: Path | None = None) -> dict[str, Any]:
    spec = load_vars(project_dir, override).get("northstar")
    if not isinstance(spec, dict):
        raise ValueError("dbt_project.yml: vars.northstar (the North Star spec) is missing")
    return spec


def metrics(spec: dict[str, Any]) -> list[Metric]:
    """Every metric in catalog order: the North Star, then inputs, guardrails, outputs."""
    entries: list[tuple[str, dict[str, Any]]] = [("north_star", spec["north_star"])]
    for role, key in (("input", "inputs"), ("guardrail", "guardrails"), ("output", "outputs")):
        entries += [(role, entry) for entry in spec.get(key) or []]
    return [
        Metric(
            name=entry["name"],
            role=role,
            kind=entry["kind"],
            label=entry.get("label", entry["name"]),
            owner=entry.get("owner"),
            unit=entry.get("unit"),
            direction=entry.get("direction", "higher_is_better"),
            warn=entry.get("warn"),
            breach=entry.get("breach"),
            definition_version=str(entry.get("definition_version", 1)),
            raw=entry,
        )
        for role, entry in entries
    ]
