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
from northstar.digest.drivers import read_drivers
from northstar.digest.guardrails import guardrail_alarm, guardrail_summary, status_grains
from northstar.digest.leading import leading
from northstar.digest.restatements import restatements
from northstar.digest.text import summary_text
from northstar.errors import NotFoundError
from northstar.latest import by_metric, read_latest
from northstar.query.alerts import STATUS_ORDER, better, status_streaks
from northstar.query.catalog import Catalog, shown
from northstar.query.formats import MISSING, fmt_change, fmt_value, number, plain
from northstar.query.series import parse_date

# 2: drivers, alignment, guardrail streaks, the tree in three groups, owner and text.
DIGEST_VERSION = 2
SPARK_PERIODS = 12
# Earlier changes needed before a move is measured against the metric's own typical move.
MIN_MOVE_HISTORY = 4
# The roles the digest renders; any other (a diagnostic metric) is left out, not an error.
ROLES = ("north_star", "input", "guardrail", "output", "team")
# The roles drawn under the North Star in the tree: the inputs, and the team metrics under
# them (docs/spec.md, "Team metrics"); guardrails and outputs are drawn apart.
TREE_ROLES = ("input", "team")


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
        # A period's own target (fct_metric_values); the catalog's is only a fallback for
        # snapshots from before rows carried one: for a time-bound target it is the goal.
        "target": number(row.get("target", metric.get("target"))),
        "gap_to_target": number(row.get("gap_to_target")),
        "target_kind": row.get("target_kind"),
        "target_goal": number(row.get("target_goal")),
        "target_deadline": plain(row.get("target_deadline")),
        "is_on_pace": row.get("is_on_pace"),
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


def _moved(entry: dict[str, Any]) -> tuple[bool, int, float, str]:
    """The one ranking of inputs, for the table and for "the input that moved most": the
    inputs of the digest's own period first (one still waiting on its cohort window shows
    an older period, so its move is not this period's); within each group the most
    unusual move first, then, without enough history, the largest relative move, and
    metrics with no comparable change last."""
    ratio, change = entry["move_ratio"], entry["change_pct"]
    if ratio is not None:
        return (entry["lagged"], 0, -ratio, entry["metric_name"])
    if change is not None:
        return (entry["lagged"], 1, -abs(change), entry["metric_name"])
    return (entry["lagged"], 2, 0.0, entry["metric_name"])


def top_mover(inputs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first input of the table's ranking that moved in the digest's own period."""
    first = next(iter(inputs), None)
    if first is None or first["lagged"] or first["change_abs"] is None:
        return None
    return first


ALIGNMENT = {
    (1, 1): "with",
    (-1, -1): "with",
    (1, -1): "against",
    (-1, 1): "against",
}


def alignment(entry: dict[str, Any], nsm: dict[str, Any]) -> str | None:
    """Did this metric move with the North Star or against it, each judged by its own
    direction (a lower-is-better input that fell while the North Star rose moved with
    it)? "with", "against", "flat", or None when either change is unknown or from
    another period."""
    if entry["lagged"] or nsm["lagged"]:
        return None
    mine = better(entry["change_abs"], entry["direction"])
    north = better(nsm["change_abs"], nsm["direction"])
    if mine is None or north is None:
        return None
    if mine == 0:
        return "flat"
    if north == 0:
        return None
    return ALIGNMENT[(north, mine)]


def alignment_text(entry: dict[str, Any]) -> str:
    """ "with it, better" / "against it, worse" / "flat" / "-" """
    side = entry.get("alignment")
    if side is None:
        return MISSING
    if side == "flat":
        return "flat"
    verdict = "better" if better(entry["change_abs"], entry["direction"]) == 1 else "worse"
    return f"{side} it, {verdict}"


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
    time_bound = nsm.get("target_kind") == "time_bound"
    if time_bound:
        goal = fmt_value(nsm.get("target_goal"), nsm.get("unit"))
        text += f" on the way to {goal} by {nsm.get('target_deadline')}"
    if nsm["value"] is not None:
        on_pace = nsm.get("is_on_pace")
        if on_pace is None:  # a snapshot from before rows said so
            lower = nsm["direction"] == "lower_is_better"
            on_pace = nsm["value"] <= nsm["target"] if lower else nsm["value"] >= nsm["target"]
        if time_bound:
            text += " (on pace)" if on_pace else " (behind pace)"
        else:
            text += " (met)" if on_pace else " (not met)"
    return text + "."


def _pick_period(
    con: duckdb.DuckDBPyConnection, name: str, grain: str, day: date | None
) -> tuple[date, list[dict[str, Any]]]:
    """The digest's period: the North Star's latest complete one, or the complete one that
    holds `day`. Also returns every North Star row of the grain, oldest first."""
    cursor = con.execute(
        """
        select period_start, period_end, value, is_complete_period
        from fct_metric_values
        where metric_name = ? and grain = ? and segment_name = 'all' and segment_value = 'all'
        order by period_start
        """,
        [name, grain],
    )
    names = [column[0] for column in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    complete = [row for row in rows if row["is_complete_period"]]
    if not complete:
        raise NotFoundError(f"no complete {grain} in the snapshot yet: nothing to digest")
    if day is None:
        return complete[-1]["period_start"], rows
    holding = [row for row in rows if row["period_start"] <= day < row["period_end"]]
    if not holding:
        raise NotFoundError(
            f"--period {day}: the North Star's {grain}s in this snapshot run from "
            f"{rows[0]['period_start']} to {rows[-1]['period_end']} (end exclusive)"
        )
    if not holding[0]["is_complete_period"]:
        raise NotFoundError(
            f"--period {day}: the {period_label(grain, holding[0]['period_start'])} is not "
            f"complete yet; the latest complete {grain} starts {complete[-1]['period_start']}"
        )
    return holding[0]["period_start"], rows


def owners(catalog: Catalog) -> list[str]:
    return sorted({m["owner"] for m in catalog.metrics if m["role"] in ROLES and m.get("owner")})


def _check_owner(catalog: Catalog, owner: str | None) -> str | None:
    if owner is None:
        return None
    known = owners(catalog)
    if owner not in known:
        raise NotFoundError(
            f"unknown owner {shown(owner)}: the catalog's owners are {', '.join(known) or 'none'}"
        )
    return owner


def _tree(entries: dict[str, dict[str, Any]], catalog: Catalog, nsm_name: str) -> dict[str, Any]:
    """The North Star with its inputs under it (and the team-level metrics under those),
    the guardrails and the outputs apart: they are watched, not pulled."""

    def node(metric: dict[str, Any], depth: int = 0) -> dict[str, Any]:
        entry = entries[metric["metric_name"]]
        children = [
            child
            for child in catalog.children(metric["metric_name"])
            if child["role"] in TREE_ROLES
        ]
        return {
            "metric_name": entry["metric_name"],
            "label": entry["label"],
            "role": entry["role"],
            "owner": entry["owner"],
            "value": entry["display"]["value"],
            "status": entry["status"],
            "children": [node(child, depth + 1) for child in children] if depth < 8 else [],
        }

    known = set(catalog.names)
    root = node(catalog.get(nsm_name))
    # An input whose parent is not in the catalog still belongs under the North Star.
    root["children"] += [
        node(m)
        for m in catalog.metrics
        if m["role"] == "input" and m.get("parent_metric") not in known
    ]
    return {
        "north_star": root,
        "guardrails": [node(m) for m in catalog.metrics if m["role"] == "guardrail"],
        "outputs": [node(m) for m in catalog.metrics if m["role"] == "output"],
    }


def build_digest(
    con: duckdb.DuckDBPyConnection,
    manifest: dict[str, Any],
    *,
    grain: str = "week",
    period: str | None = None,
    owner: str | None = None,
) -> dict[str, Any]:
    """The digest of the North Star's latest complete period of `grain`, or of the complete
    period holding the date `period`; with `owner`, the metric sections keep that owner's
    metrics only (the headline and the drivers stay the whole North Star's)."""
    day = parse_date(period, "--period")
    catalog = Catalog.load(con)
    nsm_metric = catalog.north_star()
    if nsm_metric is None:
        raise NotFoundError("the snapshot's catalog has no north_star metric")
    owner = _check_owner(catalog, owner)
    grains = [r[0] for r in con.execute("select distinct grain from fct_metric_values").fetchall()]
    if grain not in grains:
        raise NotFoundError(
            f"unknown grain {shown(grain)}: the snapshot has {', '.join(sorted(grains))}"
        )
    nsm_name = nsm_metric["metric_name"]
    period_start, nsm_rows = _pick_period(con, nsm_name, grain, day)
    latest_complete = max(r["period_start"] for r in nsm_rows if r["is_complete_period"])

    # Each metric's latest complete period up to the digest's: normally the same period,
    # but a cohort metric (activation within N days) completes later, and an incomplete
    # value is never shown as if it were final. The sparkline is the periods up to it.
    history = read_latest(con, grain=grain, up_to=period_start, periods=SPARK_PERIODS)
    rows = by_metric(history)
    series: dict[str, list[dict[str, Any]]] = {}
    for point in history:
        series.setdefault(point["metric_name"], []).append(
            {"period_start": plain(point["period_start"]), "value": number(point["value"])}
        )
    guardrail_names = [m["metric_name"] for m in catalog.metrics if m["role"] == "guardrail"]
    streaks = status_streaks(con, grain=grain, names=guardrail_names, up_to=period_start)

    entries = {}
    for m in catalog.metrics:
        if m["role"] not in ROLES:
            continue
        entry = _entry(m, rows.get(m["metric_name"]), grain, period_start)
        points = series.get(m["metric_name"], [])
        # the series ends at the entry's own period (complete periods only)
        ratio = (
            move_ratio([p["value"] for p in points]) if entry["change_abs"] is not None else None
        )
        entry["series"] = points
        entry["move_ratio"] = ratio
        entry["display"]["move"] = MISSING if ratio is None else f"{ratio:.1f}x typical"
        if m["role"] == "guardrail":
            streak = streaks.get(m["metric_name"], {})
            flagged = entry["status"] in ("warn", "breach")
            entry["periods_in_status"] = streak.get("periods") if flagged else None
            entry["status_since"] = streak.get("since") if flagged else None
            entry["flagged_periods"] = streak.get("flagged_periods") if flagged else None
            periods = streak.get("periods") or 1
            entry["display"]["lasted"] = (
                f"{periods} {grain}{'s' if periods > 1 else ''}" if flagged else MISSING
            )
        entries[m["metric_name"]] = entry
    nsm = entries[nsm_name]
    for entry in entries.values():
        if entry["role"] == "input":
            entry["alignment"] = alignment(entry, nsm)
            entry["display"]["alignment"] = alignment_text(entry)

    def mine(metric: dict[str, Any]) -> bool:
        return owner is None or metric["owner"] == owner

    by_role = {
        role: [
            entries[m["metric_name"]]
            for m in catalog.metrics
            if m["role"] == role and mine(entries[m["metric_name"]])
        ]
        for role in ROLES
    }
    inputs = sorted(by_role["input"], key=_moved)
    all_guardrails = sorted(
        (entries[name] for name in guardrail_names),
        key=lambda g: (STATUS_ORDER.get(g["status"], 9), g["metric_name"]),
    )
    guardrails = [g for g in all_guardrails if mine(g)]
    label = period_label(grain, period_start)
    period_end = next(r["period_end"] for r in nsm_rows if r["period_start"] == period_start)

    # The period in progress is named only in the digest of the latest complete period.
    incomplete = None
    current = [
        row
        for row in nsm_rows
        if not row["is_complete_period"] and row["period_start"] > period_start
    ]
    if current and period_start == latest_complete:
        row = current[-1]
        incomplete = {
            "period_start": plain(row["period_start"]),
            "period_end": plain(row["period_end"]),
            "label": period_label(grain, row["period_start"]),
            "north_star_so_far": number(row["value"]),
            "display": fmt_value(row["value"], nsm["unit"]),
        }

    drivers = read_drivers(con, nsm_metric, grain=grain, period_start=period_start)
    title = headline(nsm, label, grain)
    if drivers["sentence"]:
        title += " " + drivers["sentence"]
    grains_with_status = status_grains(con, guardrail_names)
    validation = manifest.get("validation") or {}
    digest = {
        "digest_version": DIGEST_VERSION,
        "grain": grain,
        "period": {
            "period_start": plain(period_start),
            "period_end": plain(period_end),
            "label": label,
            "is_latest": period_start == latest_complete,
        },
        "owner": owner,
        "owners": owners(catalog),
        "headline": title,
        "north_star": nsm,
        "drivers": drivers,
        "inputs": inputs,
        "top_mover": top_mover(inputs),
        "guardrails": guardrails,
        "guardrail_summary": guardrail_summary(guardrails, grain, grains_with_status),
        # Raised for every guardrail, whoever's review this is: red anywhere means pause.
        "guardrail_alarm": guardrail_alarm(nsm, all_guardrails, grain, nsm_rows),
        "guardrail_status_grains": grains_with_status,
        # the backtest's verdict on the North Star (docs/backtest.md); None before it existed
        "leading": leading(con),
        "breaches": [g["metric_name"] for g in guardrails if g["status"] == "breach"],
        "warnings": [g["metric_name"] for g in guardrails if g["status"] == "warn"],
        "outputs": by_role["output"],
        "incomplete_period": incomplete,
        "tree": _tree(entries, catalog, nsm_name),
        # What this snapshot's definition_version bumps changed in published periods.
        "restatements": restatements(manifest, catalog, grain),
        "snapshot": {
            "run_id": manifest.get("run_id"),
            "published_at": manifest.get("published_at"),
            "data_as_of": (manifest.get("data_as_of") or {}).get("latest_event_at"),
            "validation": validation.get("status"),
            "northstar_version": (manifest.get("versions") or {}).get("northstar") or __version__,
        },
    }
    digest["text"] = summary_text(digest)
    return digest
