"""The backtest as a report: does the North Star (and each candidate) lead retention and
revenue? Read from the published snapshot's backtest tables (docs/backtest.md); nothing
here computes a statistic, so the numbers are the dbt models' own."""

from __future__ import annotations

import json
import math
from typing import Any

import duckdb

from northstar.errors import NotFoundError

TABLES = (
    "rpt_north_star_backtest_candidates",
    "rpt_north_star_backtest_scores",
    "rpt_north_star_backtest",
)
STATUS_TEXT = {"leading": "leading", "weak": "weak", "not_leading": "not leading"}


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [{n: _plain(v) for n, v in zip(names, row, strict=True)} for row in cursor.fetchall()]


def _plain(value: Any) -> Any:
    """JSON-safe: NaN and infinities (never expected) become null, not invalid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def load(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The candidates with their verdict (rank order), every score, and the cohort view."""
    present = {
        row[0] for row in con.execute("select table_name from information_schema.tables").fetchall()
    }
    missing = [t for t in TABLES if t not in present]
    if missing:
        raise NotFoundError(
            f"the snapshot has no backtest tables ({', '.join(missing)}): it was published "
            "before the backtest existed; run `northstar build`"
        )
    return {
        "candidates": _rows(
            con, "select * from rpt_north_star_backtest_candidates order by candidate_rank"
        ),
        "scores": _rows(
            con,
            "select * from rpt_north_star_backtest_scores "
            "order by scope, window_name, not is_north_star, candidate_name, outcome_name, lag",
        ),
        "cohorts": _rows(
            con,
            "select * from rpt_north_star_backtest "
            "order by not is_north_star, candidate_name, lag, quantile",
        ),
    }


def _number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def render_table(report: dict[str, Any]) -> str:
    """The readable table: one line per candidate (the leading rule's row), then, for
    each, its best lag's rho and lift on every outcome, the North Star's cohorts by
    quantile at its best lag, and the series scope with its caveat."""
    lines = [
        "Does it lead? Entity scope: rank correlation (Spearman within periods, 95% Fisher z",
        "interval) of the level with retention k periods later; lift = top / bottom quantile.",
        "",
        f"{'rank':>4}  {'candidate':<28} {'status':<12} {'lag':>3} {'pairs':>7} "
        f"{'excl.':>6} {'rho':>6} {'95% CI':>15} {'lift':>6}  recent (last periods)",
    ]
    for row in report["candidates"]:
        name = row["candidate_name"] + (" (North Star)" if row["is_north_star"] else "")
        interval = (
            f"[{_number(row['ci_low'])}, {_number(row['ci_high'])}]"
            if row["ci_low"] is not None
            else "-"
        )
        strongest = "  <- strongest leading" if row["is_strongest"] else ""
        lines.append(
            f"{row['candidate_rank']:>4}  {name:<28} {STATUS_TEXT[row['status']]:<12} "
            f"{row['best_lag']:>3} {row['pairs']:>7} {row['excluded_pairs']:>6} "
            f"{_number(row['rho']):>6} {interval:>15} {_number(row['lift'], 2):>6}  "
            f"{STATUS_TEXT.get(row['recent_status'], '-')} (rho {_number(row['recent_rho'])})"
            f"{strongest}"
        )
    best_lag = {r["candidate_name"]: r["best_lag"] for r in report["candidates"]}
    entity = [
        s
        for s in report["scores"]
        if s["scope"] == "entity"
        and s["window_name"] == "all"
        and s["lag"] == best_lag.get(s["candidate_name"])
    ]
    if entity:
        lines += ["", "Every outcome at the candidate's best lag (entity scope):"]
        lines.append(
            f"  {'candidate':<24} {'outcome':<16} {'pairs':>7} {'rho':>6} "
            f"{'top':>9} {'bottom':>9} {'lift':>6}"
        )
        for s in entity:
            lines.append(
                f"  {s['candidate_name']:<24} {s['outcome_name']:<16} {s['pairs']:>7} "
                f"{_number(s['rho']):>6} {_number(s['top_mean']):>9} "
                f"{_number(s['bottom_mean']):>9} {_number(s['lift'], 2):>6}"
            )
    north_star = next((r for r in report["candidates"] if r["is_north_star"]), None)
    if north_star is not None:
        lag = north_star["best_lag"]
        cohorts = [
            c
            for c in report["cohorts"]
            if c["candidate_name"] == north_star["candidate_name"] and c["lag"] == lag
        ]
        lines += [
            "",
            f"Cohorts by quantile of the North Star, {lag} periods later "
            "(do higher cohorts churn less and spend more?):",
            f"  {'quantile':>8} {'level':>15} {'pairs':>7} {'retained':>9} {'churned':>8} "
            f"{'paying':>7} {'revenue':>9}",
        ]
        for c in cohorts:
            level = f"{c['level_min']:g}-{c['level_max']:g}"
            lines.append(
                f"  {c['quantile']:>8} {level:>15} {c['pairs']:>7} "
                f"{_number(c['retained_share']):>9} {_number(c['churned_share']):>8} "
                f"{_number(c['paying_share']):>7} {_number(c['mean_revenue'], 2):>9}"
            )
    series = [s for s in report["scores"] if s["scope"] == "series"]
    if series:
        lines += ["", "Series scope: period-over-period changes vs the outcome's change k later"]
        for s in series:
            if s["lag"] != best_lag.get(s["candidate_name"]):
                continue
            lines.append(
                f"  {s['candidate_name']:<24} {s['outcome_name']:<16} lag {s['lag']}: "
                f"r {_number(s['rho'])} ({s['caveat']})"
            )
    return "\n".join(lines)


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, default=str)
