"""The digest's content, computed once from a snapshot and rendered three ways.

Everything here is a pure function of the snapshot (tables + manifest): no clock, no
randomness, stable sort orders, so the same snapshot always yields the same digest.
"""

from __future__ import annotations

import statistics
from datetime import date
from itertools import pairwise
from typing import Any

import duckdb

from northstar import __version__
from northstar.errors import NotFoundError
from northstar.latest import by_metric, read_latest
from northstar.query.alerts import STATUS_ORDER
from northstar.query.catalog import Catalog, shown
from northstar.query.formats import MISSING, fmt_change, fmt_value, number, plain

DIGEST_VERSION = 1
SPARK_PERIODS = 12
# Earlier changes needed before a move is measured against the metric's own typical move.
MIN_MOVE_HISTORY = 4
ROLES = ("north_star", "input", "guardrail", "output")


def period_label(grain: str, start: date) -> str:
    if grain == "week":
        year, week, _ = start.isocalendar()
        return f"week of {start.isoformat()} ({year}-W{week:02d})"
    if grain == "month":
        return f"month of {start.strftime('%Y-%m')}"
    return f"{grain} of {start.isoformat()}"


def _lag_note(grain: str, period_start: date, start: date | None) -> str | None:
    if start == period_start:
        return None
    shown = (
        f"shown: its latest complete {grain}, the {period_label(grain, start)}"
        if start
        else "it has no complete period yet"
    )
    return f"not complete yet for the {period_label(grain, period_start)}; {shown}"


def _entry(
    metric: dict[str, Any], row: dict[str, Any] | None, grain: str, period_start: date
) -> dict[str, Any]:
    row = row or {}
    unit = metric.get("unit")
    start = row.get("period_start")
    return {
        "metric_name": metric["metric_name"],
        # The period the values are from; `lagged` when it is not the digest's period (a
        # cohort metric completes later), with a note saying so.
        "period_start": plain(start),
        "lagged": start != period_start,
        "lagged_note": _lag_note(grain, period_start, start),
        "label": metric["label"],
        "role": metric["role"],
        "owner": metric.get("owner"),
        "unit": unit,
        "direction": metric.get("direction"),
        "definition_version": plain(metric.get("definition_version")),
        "value": number(row.get("value")),
        "previous_value": number(row.get("previous_value")),
        "change_abs": number(row.get("change_abs")),
        "change_pct": number(row.get("change_pct")),
        "target": number(row.get("target", metric.get("target"))),
        "gap_to_target": number(row.get("gap_to_target")),
        "warn_threshold": number(metric.get("warn_threshold")),
        "breach_threshold": number(metric.get("breach_threshold")),
        "status": row.get("status") or "none",
        "display": {
            "value": fmt_value(row.get("value"), unit),
            "previous_value": fmt_value(row.get("previous_value"), unit),
            "change": fmt_change(row.get("change_abs"), row.get("change_pct"), unit),
            "target": fmt_value(row.get("target", metric.get("target")), unit),
            "warn_threshold": fmt_value(metric.get("warn_threshold"), unit),
            "breach_threshold": fmt_value(metric.get("breach_threshold"), unit),
        },
    }


def move_ratio(values: list[float | None], min_history: int = MIN_MOVE_HISTORY) -> float | None:
    """The latest change as a multiple of the metric's typical change.

    `values` are consecutive complete periods, oldest first. Typical is the median absolute
    change between the earlier periods. Inputs come in different units (teams, shares,
    messages), and a relative change overstates a small base (a 0.7% -> 1.2% resurrection
    rate is +71%), so "moved most" means "moved most unusually for itself". None when the
    latest change is unknown, with fewer than `min_history` earlier changes, or when the
    metric never moved before (no scale to measure against).
    """
    changes = [None if a is None or b is None else b - a for a, b in pairwise(values)]
    if not changes or changes[-1] is None:
        return None
    earlier = [abs(c) for c in changes[:-1] if c is not None]
    if len(earlier) < min_history:
        return None
    typical = statistics.median(earlier)
    return abs(changes[-1]) / typical if typical > 0 else None


ADVERB = {"day": "daily", "week": "weekly", "month": "monthly"}


def typical_move(entry: dict[str, Any], grain: str) -> str:
    """ ", 3.2x its typical weekly move" - or nothing without a typical move to compare."""
    ratio = entry.get("move_ratio")
    period = ADVERB.get(grain, f"per-{grain}")
    return "" if ratio is None else f", {ratio:.1f}x its typical {period} move"


def _moved(entry: dict[str, Any]) -> tuple[int, float, str]:
    """Most unusual move first; then, without enough history, the largest relative move;
    metrics with no comparable change last."""
    ratio, change = entry["move_ratio"], entry["change_pct"]
    if ratio is not None:
        return (0, -ratio, entry["metric_name"])
    if change is not None:
        return (1, -abs(change), entry["metric_name"])
    return (2, 0.0, entry["metric_name"])


def headline(nsm: dict[str, Any], period: str, grain: str) -> str:
    """ "Our North Star moved from X to Y (+z%), target T." - or says why it cannot."""
    d = nsm["display"]
    subject = f"Our North Star, {nsm['label']},"
    if nsm["value"] is None:
        text = f"{subject} has no value for the {period}"
    elif nsm["previous_value"] is None:
        text = (
            f"{subject} was {d['value']} in the {period}; "
            f"there is no previous complete {grain} to compare with"
        )
    elif nsm["value"] == nsm["previous_value"]:
        text = f"{subject} was unchanged at {d['value']} in the {period}"
    else:
        change = f" ({d['change']})" if d["change"] != MISSING else ""
        text = f"{subject} moved from {d['previous_value']} to {d['value']}{change} in the {period}"
    if nsm["target"] is None:
        return text + ", no target set."
    text += f", target {d['target']}"
    if nsm["value"] is not None:
        lower = nsm["direction"] == "lower_is_better"
        met = nsm["value"] <= nsm["target"] if lower else nsm["value"] >= nsm["target"]
        text += " (met)" if met else " (not met)"
    return text + "."


def build_digest(
    con: duckdb.DuckDBPyConnection, manifest: dict[str, Any], *, grain: str = "week"
) -> dict[str, Any]:
    catalog = Catalog.load(con)
    nsm_metric = catalog.north_star()
    if nsm_metric is None:
        raise NotFoundError("the snapshot's catalog has no north_star metric")
    grains = [r[0] for r in con.execute("select distinct grain from fct_metric_values").fetchall()]
    if grain not in grains:
        raise NotFoundError(
            f"unknown grain {shown(grain)}: the snapshot has {', '.join(sorted(grains))}"
        )
    nsm_name = nsm_metric["metric_name"]
    # The digest's period is the North Star's latest complete one; its period in progress
    # (if any) is shown apart as "so far".
    nsm_rows = read_latest(con, grain=grain, metrics=[nsm_name], with_current=True)
    complete = [row for row in nsm_rows if row["is_complete_period"]]
    if not complete:
        raise NotFoundError(f"no complete {grain} in the snapshot yet: nothing to digest")
    period_start = complete[-1]["period_start"]

    # Each metric's latest complete period up to the digest's: normally the same week, but
    # a cohort metric (activation within N days) completes later, and an incomplete value is
    # never shown as if it were final. The sparkline is the periods leading up to it.
    history = read_latest(con, grain=grain, up_to=period_start, periods=SPARK_PERIODS)
    rows = by_metric(history)
    series: dict[str, list[dict[str, Any]]] = {}
    for point in history:
        series.setdefault(point["metric_name"], []).append(
            {"period_start": plain(point["period_start"]), "value": number(point["value"])}
        )

    entries = {}
    for m in catalog.metrics:
        entry = _entry(m, rows.get(m["metric_name"]), grain, period_start)
        points = series.get(m["metric_name"], [])
        # the series ends at the entry's own period (complete periods only)
        ratio = (
            move_ratio([p["value"] for p in points]) if entry["change_abs"] is not None else None
        )
        entry["series"] = points
        entry["move_ratio"] = ratio
        entry["display"]["move"] = MISSING if ratio is None else f"{ratio:.1f}x typical"
        entries[m["metric_name"]] = entry
    by_role = {
        role: [entries[m["metric_name"]] for m in catalog.metrics if m["role"] == role]
        for role in ROLES
    }
    inputs = sorted(by_role["input"], key=_moved)
    guardrails = sorted(
        by_role["guardrail"], key=lambda g: (STATUS_ORDER.get(g["status"], 9), g["metric_name"])
    )
    nsm = entries[nsm_name]
    label = period_label(grain, period_start)
    period_end = rows[nsm_name]["period_end"]

    current = [row for row in nsm_rows if not row["is_complete_period"]]
    incomplete = None
    if current:
        row = current[0]
        incomplete = {
            "period_start": plain(row["period_start"]),
            "period_end": plain(row["period_end"]),
            "label": period_label(grain, row["period_start"]),
            "north_star_so_far": number(row["value"]),
            "display": fmt_value(row["value"], nsm["unit"]),
        }

    def tree(metric: dict[str, Any]) -> dict[str, Any]:
        entry = entries[metric["metric_name"]]
        return {
            "metric_name": entry["metric_name"],
            "label": entry["label"],
            "role": entry["role"],
            "owner": entry["owner"],
            "value": entry["display"]["value"],
            "status": entry["status"],
            "children": [tree(child) for child in catalog.children(metric["metric_name"])],
        }

    validation = manifest.get("validation") or {}
    return {
        "digest_version": DIGEST_VERSION,
        "grain": grain,
        "period": {
            "period_start": plain(period_start),
            "period_end": plain(period_end),
            "label": label,
        },
        "headline": headline(nsm, label, grain),
        "north_star": nsm,
        "inputs": inputs,
        "top_mover": next(
            (m for m in inputs if not m["lagged"] and m["change_pct"] is not None), None
        ),
        "guardrails": guardrails,
        "breaches": [g["metric_name"] for g in guardrails if g["status"] == "breach"],
        "warnings": [g["metric_name"] for g in guardrails if g["status"] == "warn"],
        "outputs": by_role["output"],
        "incomplete_period": incomplete,
        "tree": [tree(root) for root in catalog.roots()],
        "snapshot": {
            "run_id": manifest.get("run_id"),
            "published_at": manifest.get("published_at"),
            "data_as_of": (manifest.get("data_as_of") or {}).get("latest_event_at"),
            "validation": validation.get("status"),
            "northstar_version": (manifest.get("versions") or {}).get("northstar") or __version__,
        },
    }
