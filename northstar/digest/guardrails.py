"""The digest's guardrail sentences: how long each has been in warn or breach, "North Star
up while a guardrail is in breach", and never "all within their thresholds" where no
guardrail has a status."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from northstar.query.alerts import STATUS_ORDER, better, streak_text
from northstar.query.formats import fmt_change, fmt_value, number


def status_grains(con: duckdb.DuckDBPyConnection, names: list[str]) -> list[str]:
    """The grains at which some guardrail has a status (ok, warn or breach)."""
    if not names:
        return []
    rows = con.execute(
        """
        select distinct grain from fct_metric_values
        where list_contains(?, metric_name) and status in ('ok', 'warn', 'breach')
        """,
        [names],
    ).fetchall()
    return sorted(row[0] for row in rows)


def _names(metrics: list[dict[str, Any]]) -> str:
    labels = [m["label"] for m in metrics]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def _flagged(entry: dict[str, Any], grain: str) -> str:
    """ "Support tickets per active team (2 weeks in a row, since the week of 2026-07-13)" """
    return f"{entry['label']} ({streak_text(entry, grain)})"


def guardrail_summary(
    guardrails: list[dict[str, Any]], grain: str, status_grains: list[str]
) -> str:
    """One sentence on the guardrails that never claims more than the statuses say."""
    if not guardrails:
        return "no guardrails are defined."
    breaches = [g for g in guardrails if g["status"] == "breach"]
    warnings = [g for g in guardrails if g["status"] == "warn"]
    unjudged = [g for g in guardrails if g["status"] not in STATUS_ORDER or g["status"] == "none"]
    if len(unjudged) == len(guardrails):
        where = (
            f"statuses are evaluated at {' and '.join(status_grains)}"
            if status_grains
            else "no guardrail has a status at any grain in this snapshot"
        )
        return f"no guardrail has a status at {grain} grain; {where}."
    parts = []
    if breaches:
        parts.append(
            f"{len(breaches)} in breach: " + ", ".join(_flagged(g, grain) for g in breaches)
        )
    if warnings:
        parts.append(
            f"{len(warnings)} at warning level: " + ", ".join(_flagged(g, grain) for g in warnings)
        )
    if not parts:
        parts.append(
            "all within their thresholds"
            if not unjudged
            else f"the {len(guardrails) - len(unjudged)} with a status are within their thresholds"
        )
    elif not breaches:
        parts.insert(0, "none in breach")
    if unjudged:
        parts.append(f"{len(unjudged)} without a status at {grain} grain ({_names(unjudged)})")
    return "; ".join(parts) + "."


def guardrail_alarm(
    nsm: dict[str, Any],
    guardrails: list[dict[str, Any]],
    grain: str,
    nsm_rows: list[dict[str, Any]],
) -> str | None:
    """ "North Star up while guardrails are in breach" - with how much it rose while they
    were: if guardrails flash red, pause optimisation."""
    breaches = [g for g in guardrails if g["status"] == "breach"]
    if not breaches or better(nsm["change_abs"], nsm["direction"]) != 1:
        return None
    verb = "rose" if (nsm["change_abs"] or 0) > 0 else "fell"
    text = f"North Star up while {_names(breaches)} {'is' if len(breaches) == 1 else 'are'} "
    text += f"in breach: {nsm['label']} {verb} {nsm['display']['change']} this {grain}"
    longest = max(breaches, key=lambda g: g.get("periods_in_status") or 1)
    periods = longest.get("periods_in_status") or 1
    if periods > 1:
        since = date.fromisoformat(longest["status_since"])
        before = [r for r in nsm_rows if r["period_start"] < since and r["is_complete_period"]]
        base = number(before[-1]["value"]) if before else None
        if base and nsm["value"] is not None:
            over = fmt_change(nsm["value"] - base, (nsm["value"] - base) / base, nsm["unit"])
            text += (
                f" and {over} over the {periods} {grain}s of the breach "
                f"({fmt_value(base, nsm['unit'])} to {nsm['display']['value']})"
            )
    return text + ". If guardrails flash red, pause optimisation."
