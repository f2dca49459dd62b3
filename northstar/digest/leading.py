"""Does the North Star still lead? The backtest's verdict for the digest (docs/backtest.md):
a sentence always, and a warning when the North Star does not lead retention over the
recent periods (or at all). Snapshots published before the backtest have no verdict."""

from __future__ import annotations

from typing import Any

import duckdb

TABLE = "rpt_north_star_backtest_candidates"
STATUS = {"leading": "leading", "weak": "weak", "not_leading": "not leading"}


def _read(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    tables = {
        r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()
    }
    if TABLE not in tables:
        return None
    cursor = con.execute("select * from rpt_north_star_backtest_candidates where is_north_star")
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    return dict(zip(names, rows[0], strict=True)) if rows else None


def _rho(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def leading(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """{status, recent_status, best_lag, rho, recent_rho, sentence, warning} or None."""
    row = _read(con)
    if row is None:
        return None
    lag, grain = row["best_lag"], row["grain"]
    horizon = f"{lag} {grain}{'s' if lag != 1 else ''} later"
    recent = STATUS.get(row["recent_status"], "n/a")
    sentence = (
        f"Leading indicator: the North Star is {STATUS[row['status']]} for retention "
        f"{horizon} (rank correlation {_rho(row['rho'])} over the history, "
        f"{_rho(row['recent_rho'])} over the recent periods: {recent})."
    )
    warning = None
    if row["status"] != "leading":
        warning = (
            f"The North Star does not lead retention {horizon} "
            f"({STATUS[row['status']]}): see `northstar backtest` for a stronger candidate."
        )
    elif row["recent_status"] != "leading":
        warning = (
            f"The North Star has stopped leading retention {horizon} over the recent "
            f"periods ({recent}, rank correlation "
            f"{_rho(row['recent_rho'])}): see `northstar backtest`."
        )
    return {
        "status": row["status"],
        "recent_status": row["recent_status"],
        "best_lag": lag,
        "rho": row["rho"],
        "recent_rho": row["recent_rho"],
        "sentence": sentence,
        "warning": warning,
    }
