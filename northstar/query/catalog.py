"""The metric catalog (`dim_metrics`) of a snapshot: the metric tree and one metric's card."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from northstar.errors import NotFoundError
from northstar.latest import by_metric, read_latest
from northstar.query.formats import (
    MISSING,
    fmt_change,
    fmt_on_pace,
    fmt_value,
    plain,
    render_table,
)

ROLE_ORDER = ("north_star", "input", "guardrail", "output", "team", "diagnostic")
ROLE_TITLES = {
    "north_star": "north star",
    "input": "inputs",
    "guardrail": "guardrails",
    "output": "outputs",
    "team": "team metrics",
    "diagnostic": "diagnostics",
}
# Built in, not declared in the spec (docs/spec.md, "Diagnostic metrics"): in the catalog
# and the values, but not in the metric tree, whose roots and branches are the spec's.
DIAGNOSTIC = "diagnostic"
MAX_SHOWN = 60
GRAIN_ORDER = {"day": 0, "week": 1, "month": 2}


def shown(text: str) -> str:
    """A user-typed value, quoted and shortened for an error message."""
    return repr(text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "...")


def rows_as_dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@dataclass(frozen=True)
class Catalog:
    metrics: list[dict[str, Any]]

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection) -> Catalog:
        rows = rows_as_dicts(con.execute("select * from dim_metrics"))
        rank = {role: index for index, role in enumerate(ROLE_ORDER)}
        rows.sort(
            key=lambda row: (
                rank.get(row["role"], len(rank)),
                row.get("sort_order") or 0,
                row["metric_name"],
            )
        )
        return cls(rows)

    @property
    def names(self) -> list[str]:
        return [row["metric_name"] for row in self.metrics]

    def get(self, name: str) -> dict[str, Any]:
        for row in self.metrics:
            if row["metric_name"] == name:
                return row
        raise NotFoundError(
            f"unknown metric {shown(name)}: the catalog has {', '.join(self.names)} "
            "(`northstar metrics` lists them)"
        )

    def north_star(self) -> dict[str, Any] | None:
        return next((row for row in self.metrics if row["role"] == "north_star"), None)

    def children(self, name: str) -> list[dict[str, Any]]:
        return [row for row in self.metrics if row.get("parent_metric") == name]

    def roots(self) -> list[dict[str, Any]]:
        """The metric tree's roots: the spec's metrics without a known parent."""
        known = set(self.names)
        return [
            row
            for row in self.metrics
            if row.get("parent_metric") not in known and row["role"] != DIAGNOSTIC
        ]

    def diagnostics(self) -> list[dict[str, Any]]:
        """The built-in diagnostic metrics (the entities' lifecycle), in catalog order."""
        return [row for row in self.metrics if row["role"] == DIAGNOSTIC]


def latest_values(con: duckdb.DuckDBPyConnection, grain: str | None = None) -> dict[str, Any]:
    """metric_name -> its 'all' row in the latest complete period of `grain` (default week,
    else the first grain present)."""
    grains = [
        row[0] for row in con.execute("select distinct grain from fct_metric_values").fetchall()
    ]
    if not grains:
        return {}
    grain = grain if grain in grains else ("week" if "week" in grains else sorted(grains)[0])
    return by_metric(read_latest(con, grain=grain))


def catalog_payload(con: duckdb.DuckDBPyConnection, catalog: Catalog) -> list[dict[str, Any]]:
    """Every metric's definition with its latest complete week (or null), JSON-ready:
    `metrics --format json` and `serve`'s /api/metrics."""
    latest = latest_values(con)
    return [
        {
            **{key: plain(value) for key, value in metric.items()},
            "latest": {
                key: plain(value)
                for key, value in (latest.get(metric["metric_name"]) or {}).items()
            }
            or None,
        }
        for metric in catalog.metrics
    ]


def _describe(metric: dict[str, Any], latest: dict[str, Any] | None, tag: str = "") -> str:
    parts = [f"{metric['label']} ({metric['metric_name']}){tag}"]
    if metric.get("owner"):
        parts.append(f"owner: {metric['owner']}")
    if latest is not None:
        value = fmt_value(latest.get("value"), metric.get("unit"))
        part = f"{latest['grain']} of {plain(latest['period_start'])}: {value}"
        if latest.get("status") not in (None, "none"):
            part += f" [{latest['status']}]"
        parts.append(part)
    target = describe_target(metric, latest)
    if target:
        parts.append(target)
    if metric.get("breach_threshold") is not None:
        direction = str(metric.get("direction") or "").replace("_", " ")
        parts.append(
            f"{direction}; warn {fmt_value(metric.get('warn_threshold'), metric.get('unit'))}, "
            f"breach {fmt_value(metric['breach_threshold'], metric.get('unit'))}"
        )
    return "  ".join(parts)


def describe_target(metric: dict[str, Any], latest: dict[str, Any] | None) -> str | None:
    """The latest complete period's target and whether it is met: 'target 60,000
    (met)', 'target 46.0% on the way to 55.0% by 2027-06-30 (on pace)'; else the
    catalog's target (the total's, at the primary grain), or None."""
    unit = metric.get("unit")
    if latest is None or latest.get("target") is None:
        if metric.get("target") is None:
            return None
        text = f"target {fmt_value(metric['target'], unit)}"
        if metric.get("target_deadline") is not None:
            text += f" by {plain(metric['target_deadline'])}"
        return text
    text = f"target {fmt_value(latest['target'], unit)}"
    time_bound = latest.get("target_kind") == "time_bound"
    if time_bound:
        goal = fmt_value(latest.get("target_goal"), unit)
        text += f" on the way to {goal} by {plain(latest.get('target_deadline'))}"
    on_pace = latest.get("is_on_pace")
    if on_pace is not None:
        if time_bound:
            text += " (on pace)" if on_pace else " (behind pace)"
        else:
            text += " (met)" if on_pace else " (not met)"
    return text


def render_tree(catalog: Catalog, latest: dict[str, Any]) -> str:
    """NSM at the root, then its inputs, guardrails and outputs (each with owner, latest
    complete value and status); team metrics (role team) hang under the input they move."""
    lines: list[str] = []

    def walk(metric: dict[str, Any], prefix: str) -> None:
        children = catalog.children(metric["metric_name"])
        groups = [
            (role, [child for child in children if child["role"] == role])
            for role in ROLE_ORDER
            if any(child["role"] == role for child in children)
        ]
        for index, (role, members) in enumerate(groups):
            last_group = index == len(groups) - 1
            lines.append(f"{prefix}{'└── ' if last_group else '├── '}{ROLE_TITLES[role]}")
            inner = prefix + ("    " if last_group else "│   ")
            for position, child in enumerate(members):
                last = position == len(members) - 1
                connector = "└── " if last else "├── "
                lines.append(
                    f"{inner}{connector}{_describe(child, latest.get(child['metric_name']))}"
                )
                walk(child, inner + ("    " if last else "│   "))

    for root in catalog.roots():
        title = ROLE_TITLES.get(root["role"], root["role"])
        lines.append(_describe(root, latest.get(root["metric_name"]), f" [{title}]"))
        walk(root, "")
    diagnostics = catalog.diagnostics()
    if diagnostics:
        lines += ["", "diagnostics (built in: the lifecycle of the active entities)"]
        for position, metric in enumerate(diagnostics):
            connector = "└── " if position == len(diagnostics) - 1 else "├── "
            lines.append(f"{connector}{_describe(metric, latest.get(metric['metric_name']))}")
    return "\n".join(lines)


def metric_card(con: duckdb.DuckDBPyConnection, catalog: Catalog, name: str) -> dict[str, Any]:
    """One metric's definition and, per grain, its latest complete and current periods."""
    metric = catalog.get(name)
    # Finest grain first; the reader's order (complete, then in progress) within a grain.
    rows = sorted(
        read_latest(con, metrics=[name], with_current=True),
        key=lambda row: GRAIN_ORDER.get(row["grain"], len(GRAIN_ORDER)),
    )
    latest = [{key: plain(value) for key, value in row.items()} for row in rows]
    return {
        "definition": {key: plain(value) for key, value in metric.items()},
        "children": [child["metric_name"] for child in catalog.children(name)],
        "latest": latest,
    }


def _threshold(metric: dict[str, Any], key: str) -> str | None:
    value = metric.get(key)
    return None if value is None else fmt_value(value, metric.get("unit"))


def _catalog_target(metric: dict[str, Any]) -> str | None:
    target = _threshold(metric, "target")
    if target is not None and metric.get("target_deadline") is not None:
        target += f" by {metric['target_deadline']} (time-bound: on a straight path)"
    elif target is None and metric.get("target_kind") == "growth":
        growth = metric.get("target_growth_rate")
        target = f"previous period {'+' if (growth or 0) >= 0 else ''}{(growth or 0) * 100:.1f}%"
    return target


def render_card(card: dict[str, Any]) -> str:
    metric = card["definition"]
    unit = metric.get("unit")
    lines = [f"{metric['label']} ({metric['metric_name']})", ""]
    fields = [
        ("role", metric.get("role")),
        ("parent", metric.get("parent_metric")),
        ("owner", metric.get("owner")),
        ("description", metric.get("description")),
        ("kind", metric.get("kind")),
        ("unit", unit),
        ("direction", str(metric.get("direction") or "").replace("_", " ") or None),
        ("target", _catalog_target(metric)),
        ("warn threshold", _threshold(metric, "warn_threshold")),
        ("breach threshold", _threshold(metric, "breach_threshold")),
        ("definition version", metric.get("definition_version")),
        ("children", ", ".join(card["children"]) or None),
    ]
    width = max(len(label) for label, _ in fields)
    lines += [f"  {label:<{width}}  {value}" for label, value in fields if value not in (None, "")]
    lines += ["", "Latest values (segment: all):"]
    if not card["latest"]:
        lines.append("  no values in this snapshot")
        return "\n".join(lines)
    table_rows = []
    for row in card["latest"]:
        period = str(row["period_start"])
        if not row["is_complete_period"]:
            period += " (incomplete, not compared)"
        table_rows.append(
            [
                row["grain"],
                period,
                fmt_value(row.get("value"), unit),
                fmt_value(row.get("previous_value"), unit)
                if row["is_complete_period"]
                else MISSING,
                fmt_change(row.get("change_abs"), row.get("change_pct"), unit),
                fmt_value(row.get("target"), unit),
                fmt_on_pace(row.get("is_on_pace")),
                row.get("status") or MISSING,
            ]
        )
    table = render_table(
        ["grain", "period_start", "value", "previous", "change", "target", "on pace", "status"],
        table_rows,
    )
    lines += ["  " + line for line in table.splitlines()]
    return "\n".join(lines)
