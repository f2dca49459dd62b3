"""`northstar explain`: why the North Star moved, from the snapshot's decomposition.

Reads marts.fct_north_star_decomposition (components that add up to the change exactly)
and fct_north_star_movers for one grain and period of the total; docs/decomposition.md
says what each component means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from northstar.errors import NotFoundError
from northstar.query.catalog import Catalog, rows_as_dicts
from northstar.query.formats import (
    MISSING,
    fmt_number,
    fmt_value,
    number,
    plain,
    render_json,
    render_table,
)
from northstar.query.series import _one_of, parse_date

DECOMPOSITION = "fct_north_star_decomposition"
MOVERS = "fct_north_star_movers"
# Reading order of the sections and of the components within one.
ORDER = {
    "breadth_depth": ("breadth", "depth", "not_active"),
    "lifecycle": ("new", "returning", "resurrected", "dormant", "not_active"),
    "numerator_denominator": ("numerator", "denominator"),
    "segment": ("change", "mix", "rate"),
}
TITLES = {
    "breadth_depth": "Breadth x depth (active entities x value per active entity)",
    "lifecycle": "Lifecycle",
    "numerator_denominator": "Numerator / denominator",
    "segment": "By {breakdown}",
}
COMPONENT_COLUMNS = (
    "component",
    "component_value",
    "entities",
    "previous_amount",
    "current_amount",
    "contribution",
)
MOVER_COLUMNS = (
    "direction",
    "mover_rank",
    "entity_id",
    "lifecycle_component",
    "segments",
    "previous_numerator",
    "current_numerator",
    "contribution",
)
MOVERS_SHOWN = 5


@dataclass(frozen=True)
class Explanation:
    metric: dict[str, Any]
    grain: str
    period_start: date
    previous_period_start: date
    is_complete_period: bool
    value: float
    previous_value: float
    change_abs: float
    # (decomposition, breakdown) -> its components, in reading order
    sections: list[tuple[str, str | None, list[dict[str, Any]]]] = field(repr=False)
    movers: list[dict[str, Any]] = field(repr=False)


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    found = con.execute(
        "select count(*) from information_schema.tables where table_name = ?", [name]
    ).fetchone()
    return bool(found and found[0])


def explain(
    con: duckdb.DuckDBPyConnection, *, grain: str = "week", period: str | None = None
) -> Explanation:
    """The decomposition of the North Star's total for the latest complete period of
    `grain`, or for the period holding the date `period`."""
    day = parse_date(period, "--period")
    north_star = Catalog.load(con).north_star()
    if north_star is None:
        raise NotFoundError("the snapshot's catalog has no North Star")
    if not _has_table(con, DECOMPOSITION):
        raise NotFoundError(
            f"the snapshot has no {DECOMPOSITION}: it predates the decomposition; "
            "run `northstar build` to publish one that has it"
        )
    name = north_star["metric_name"]
    grains = [
        row[0]
        for row in con.execute(
            f"select distinct grain from {DECOMPOSITION} where metric_name = ?",  # noqa: S608
            [name],
        ).fetchall()
    ]
    if not grains:
        raise NotFoundError(
            f"the North Star {name} ({north_star.get('kind')}) has no exact decomposition "
            "(a median or a percentile), or no period with a previous one yet"
        )
    _one_of("grain", grain, grains, f"the decomposition of {name}")
    start = _period_start(con, name, grain, day)
    rows = rows_as_dicts(
        con.execute(
            f"""
            select *
            from {DECOMPOSITION}
            where metric_name = ? and grain = ? and period_start = ?
                and segment_name = 'all'
            """,  # noqa: S608 (a constant table name; values are bound parameters)
            [name, grain, start],
        )
    )
    first = rows[0]
    return Explanation(
        metric=north_star,
        grain=grain,
        period_start=start,
        previous_period_start=first["previous_period_start"],
        is_complete_period=bool(first["is_complete_period"]),
        value=first["value"],
        previous_value=first["previous_value"],
        change_abs=first["change_abs"],
        sections=_sections(rows),
        movers=_movers(con, name, grain, start),
    )


def _period_start(con: duckdb.DuckDBPyConnection, name: str, grain: str, day: date | None) -> date:
    """The period holding `day` (the latest one starting on or before it), else the latest
    complete period."""
    row = con.execute(
        f"""
        select max(period_start), min(period_start)
        from {DECOMPOSITION}
        where metric_name = $name and grain = $grain and segment_name = 'all'
            and (
                ($day is null and is_complete_period)
                or ($day is not null and period_start <= $day)
            )
        """,  # noqa: S608
        {"name": name, "grain": grain, "day": day},
    ).fetchone()
    if row is None or row[0] is None:
        bounds = con.execute(
            f"select min(period_start), max(period_start) from {DECOMPOSITION} "  # noqa: S608
            "where metric_name = ? and grain = ?",
            [name, grain],
        ).fetchone()
        first, last = bounds if bounds else (None, None)
        if day is None:
            raise NotFoundError(
                f"no complete {grain} with a previous one to compare yet "
                f"(the running one starts {last}; pass --period {last})"
            )
        raise NotFoundError(
            f"--period {day}: the decomposition of the {grain} runs from {first} to {last} "
            "(the first period has no previous one)"
        )
    return row[0]


def _sections(rows: list[dict[str, Any]]) -> list[tuple[str, str | None, list[dict[str, Any]]]]:
    sections = []
    for decomposition, order in ORDER.items():
        breakdowns = sorted(
            {row["breakdown"] or "" for row in rows if row["decomposition"] == decomposition}
        )
        for breakdown in breakdowns:
            members = [
                row
                for row in rows
                if row["decomposition"] == decomposition and (row["breakdown"] or "") == breakdown
            ]
            members.sort(
                key=lambda row: (
                    # segment values by their size of move, the rest in reading order
                    -abs(number(row["contribution"]) or 0) if row["component_value"] else 0,
                    row["component_value"] or "",
                    order.index(row["component"]),
                )
            )
            sections.append((decomposition, breakdown or None, members))
    return sections


def _movers(
    con: duckdb.DuckDBPyConnection, name: str, grain: str, start: date
) -> list[dict[str, Any]]:
    if not _has_table(con, MOVERS):
        return []
    return rows_as_dicts(
        con.execute(
            f"""
            select {", ".join(MOVER_COLUMNS)}
            from {MOVERS}
            where metric_name = ? and grain = ? and period_start = ? and mover_rank <= ?
            order by direction desc, mover_rank
            """,  # noqa: S608
            [name, grain, start, MOVERS_SHOWN],
        )
    )


def _signed(value: Any, unit: str | None) -> str:
    value = number(value)
    if value is None:
        return MISSING
    text = fmt_value(abs(value), unit)
    return ("-" if value < 0 and text.strip("0.,%") else "+") + text


def render(explanation: Explanation, fmt: str = "table") -> str:
    e = explanation
    unit = e.metric.get("unit")
    if fmt == "json":
        return render_json(
            {
                "metric": e.metric["metric_name"],
                "label": e.metric.get("label"),
                "unit": unit,
                "grain": e.grain,
                "period_start": plain(e.period_start),
                "previous_period_start": plain(e.previous_period_start),
                "is_complete_period": e.is_complete_period,
                "value": plain(e.value),
                "previous_value": plain(e.previous_value),
                "change_abs": plain(e.change_abs),
                "decompositions": [
                    {
                        "decomposition": decomposition,
                        "breakdown": breakdown,
                        "components": [
                            {key: plain(row[key]) for key in COMPONENT_COLUMNS} for row in rows
                        ],
                    }
                    for decomposition, breakdown, rows in e.sections
                ],
                "movers": [{key: plain(row[key]) for key in MOVER_COLUMNS} for row in e.movers],
            }
        )
    label = e.metric.get("label") or e.metric["metric_name"]
    state = "" if e.is_complete_period else " (running, not complete)"
    lines = [
        f"{label}, {e.grain} of {e.period_start}{state} vs {e.previous_period_start}: "
        f"{fmt_value(e.previous_value, unit)} -> {fmt_value(e.value, unit)} "
        f"({_signed(e.change_abs, unit)})",
        "Each section's contributions add up to the change.",
    ]
    for decomposition, breakdown, rows in e.sections:
        lines += ["", TITLES[decomposition].format(breakdown=breakdown)]
        table = [
            [
                row["component_value"] or row["component"],
                *([row["component"]] if decomposition == "segment" and unit_split(rows) else []),
                MISSING
                if row["entities"] is None
                else f"{row['entities']:+,}"
                if row["component"] == "breadth"
                else f"{row['entities']:,}",
                fmt_number(row["previous_amount"]),
                fmt_number(row["current_amount"]),
                _signed(row["contribution"], unit),
            ]
            for row in rows
        ]
        headers = [
            "segment" if decomposition == "segment" else "component",
            *(["effect"] if decomposition == "segment" and unit_split(rows) else []),
            "entities",
            "previous",
            "current",
            "contribution",
        ]
        lines.append(render_table(headers, table))
    if e.movers:
        lines += ["", f"Top movers (up to {MOVERS_SHOWN} each way; fct_north_star_movers)"]
        table = [
            [
                row["direction"],
                row["entity_id"],
                row["lifecycle_component"],
                row["segments"] or MISSING,
                fmt_number(row["previous_numerator"]),
                fmt_number(row["current_numerator"]),
                _signed(row["contribution"], unit),
            ]
            for row in e.movers
        ]
        headers = ["", "entity", "lifecycle", "segments", "previous", "current", "contribution"]
        lines.append(render_table(headers, table))
    return "\n".join(lines)


def unit_split(rows: list[dict[str, Any]]) -> bool:
    """A quotient's segment rows come in mix and rate pairs."""
    return any(row["component"] in ("mix", "rate") for row in rows)
