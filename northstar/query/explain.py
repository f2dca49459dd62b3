"""`northstar explain [METRIC]`: why a metric moved, split into components that add up.

The North Star (the default): marts.fct_north_star_decomposition (breadth x depth,
lifecycle, numerator / denominator, segments) and fct_north_star_movers, for one grain and
period of the total; docs/decomposition.md says what each component means.

Any other metric: the splits its fct_metric_values rows allow exactly, computed here with
the formulas of the North Star's (docs/decomposition.md): each segment value's change for
an additive metric; numerator / denominator and each segment value's mix and rate for a
quotient (segments partition the entities, so the segment rows' numerators and
denominators add up to the total's). Breadth x depth, lifecycle and movers need each
entity's contribution, which only the North Star has (int_north_star_entity_changes); a
median or a percentile has no exact split at all. The output says which split it shows
and why the others are missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb

from northstar.errors import NotFoundError
from northstar.query import splits
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
METRIC_VALUES = "fct_metric_values"
NORTH_STAR_ONLY = (
    "breadth x depth, lifecycle and top movers are computed only for the North Star "
    f"({DECOMPOSITION}): they need each entity's contribution, which the build keeps for "
    "the North Star alone"
)
NO_DENOMINATOR = "numerator / denominator: none, the metric is a sum (no denominator)"
NOT_IN_NORTH_STAR = (
    "{decomposition}: not exact for a North Star of kind {kind} "
    "(docs/decomposition.md, which kinds get which)"
)
# Reading order of the sections and of the components within one.
ORDER = splits.COMPONENT_ORDER
TITLES = {
    "breadth_depth": "Breadth x depth (active entities x value per active entity)",
    "lifecycle": "Lifecycle",
    "numerator_denominator": "Numerator / denominator",
    "segment": "By {breakdown}",
}
NAMES = {
    "breadth_depth": "breadth x depth",
    "lifecycle": "lifecycle",
    "numerator_denominator": "numerator / denominator",
    "segment": "segments",
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
    # the table the components come from
    source: str = DECOMPOSITION
    # the splits not shown, and why
    notes: list[str] = field(default_factory=list)
    # a metric with no exact split: each segment value's own change, which do not add up
    segment_changes: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    found = con.execute(
        "select count(*) from information_schema.tables where table_name = ?", [name]
    ).fetchone()
    return bool(found and found[0])


def explain(
    con: duckdb.DuckDBPyConnection,
    metric: str | None = None,
    *,
    grain: str = "week",
    period: str | None = None,
) -> Explanation:
    """The decomposition of `metric`'s total (default: the North Star) for the latest
    complete period of `grain`, or for the period holding the date `period`.

    `metric` is checked against the snapshot's catalog (an unknown name lists the known
    ones, exit 6) and reaches SQL only as a bound parameter."""
    day = parse_date(period, "--period")
    catalog = Catalog.load(con)
    north_star = catalog.north_star()
    if metric is not None:
        definition = catalog.get(metric)
        if north_star is None or definition["metric_name"] != north_star["metric_name"]:
            _not_after_the_data(con, definition["metric_name"], grain, day)
            return _explain_metric(con, definition, grain, day)
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
    _not_after_the_data(con, name, grain, day)
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
    shown = {row["decomposition"] for row in rows}
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
        notes=[_north_star_note(north_star, d) for d in ORDER if d not in shown],
    )


def _north_star_note(north_star: dict[str, Any], decomposition: str) -> str:
    if decomposition == "numerator_denominator" and north_star.get("is_additive"):
        return NO_DENOMINATOR
    return NOT_IN_NORTH_STAR.format(decomposition=NAMES[decomposition], kind=north_star.get("kind"))


def _not_after_the_data(
    con: duckdb.DuckDBPyConnection, name: str, grain: str, day: date | None
) -> None:
    """A --period after the last period's end holds no period: refused, rather than
    explaining the running period as if it held that day."""
    if day is None:
        return
    (end,) = con.execute(
        f"select max(period_end) from {METRIC_VALUES} "  # noqa: S608
        "where metric_name = ? and grain = ? and segment_name = 'all'",
        [name, grain],
    ).fetchone() or (None,)
    if end is not None and day >= end:
        raise NotFoundError(
            f"--period {day}: {name} by {grain} has no period holding it "
            f"(the data ends on {end - timedelta(days=1)})"
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


# --- any other metric: the splits its fct_metric_values rows allow ---------------------------


def _explain_metric(
    con: duckdb.DuckDBPyConnection, metric: dict[str, Any], grain: str, day: date | None
) -> Explanation:
    name = metric["metric_name"]
    grains = [
        row[0]
        for row in con.execute(
            f"select distinct grain from {METRIC_VALUES} where metric_name = ?",  # noqa: S608
            [name],
        ).fetchall()
    ]
    _one_of("grain", grain, grains, f"metric {name}")
    start, previous_start = _metric_periods(con, name, grain, day)
    rows = rows_as_dicts(
        con.execute(
            f"""
            select period_start, segment_name, segment_value, value, numerator, denominator,
                is_complete_period
            from {METRIC_VALUES}
            where metric_name = ? and grain = ? and period_start in (?, ?)
            """,  # noqa: S608 (a constant table name; values are bound parameters)
            [name, grain, start, previous_start],
        )
    )
    now = {(r["segment_name"], r["segment_value"]): r for r in rows if r["period_start"] == start}
    before = {
        (r["segment_name"], r["segment_value"]): r
        for r in rows
        if r["period_start"] == previous_start
    }
    total, previous = now[("all", "all")], before[("all", "all")]
    value, previous_value = number(total["value"]), number(previous["value"])
    change = None if value is None or previous_value is None else value - previous_value
    parts = splits.segment_parts(now, before)
    quotient = all(
        number(row[side]) is not None
        for row in (total, previous)
        for side in ("numerator", "denominator")
    )
    sections: list[tuple[str, str | None, list[dict[str, Any]]]] = []
    segment_changes: list[tuple[str, list[dict[str, Any]]]] = []
    notes = [NORTH_STAR_ONLY]
    if change is None:
        notes.append(
            "nothing to split: the value is unknown in one of the two periods "
            "(a rate over a zero denominator)"
        )
    elif metric.get("is_additive"):
        notes.append(NO_DENOMINATOR)
        sections += [
            ("segment", breakdown, [splits.change(part) for part in members])
            for breakdown, members in parts
        ]
    elif quotient:
        ratio = splits.numerator_denominator(total, previous)
        sections.append(("numerator_denominator", None, ratio))
        sections += [
            ("segment", breakdown, splits.mix_and_rate(members, total, previous))
            for breakdown, members in parts
        ]
    else:
        notes.append(
            "no exact split: the value is a median or a percentile, whose parts do not add "
            "up to the whole; each segment value's own change is listed, and those do not "
            "add up to the total's change"
        )
        segment_changes = [
            (
                breakdown,
                sorted(
                    (splits.change(part) for part in members),
                    key=lambda row: -abs(number(row["contribution"]) or 0),
                ),
            )
            for breakdown, members in parts
        ]
    for decomposition, _, members in sections:
        splits.by_size(decomposition, members)
    return Explanation(
        metric=metric,
        grain=grain,
        period_start=start,
        previous_period_start=previous_start,
        is_complete_period=bool(total["is_complete_period"]),
        value=value,
        previous_value=previous_value,
        change_abs=change,
        sections=sections,
        movers=[],
        source=METRIC_VALUES,
        notes=notes,
        segment_changes=segment_changes,
    )


def _metric_periods(
    con: duckdb.DuckDBPyConnection, name: str, grain: str, day: date | None
) -> tuple[date, date]:
    """The period to explain (the latest complete one, or the one holding `day`) and the
    one before it."""
    starts = [
        row[0]
        for row in con.execute(
            f"""
            select period_start
            from {METRIC_VALUES}
            where metric_name = $name and grain = $grain and segment_name = 'all'
                and (($day is null and is_complete_period) or period_start <= $day)
            order by period_start desc
            limit 2
            """,  # noqa: S608
            {"name": name, "grain": grain, "day": day},
        ).fetchall()
    ]
    if len(starts) < 2:
        first, last = con.execute(
            f"select min(period_start), max(period_start) from {METRIC_VALUES} "  # noqa: S608
            "where metric_name = ? and grain = ?",
            [name, grain],
        ).fetchone() or (None, None)
        if day is None:
            raise NotFoundError(
                f"{name}: no complete {grain} with a previous one to compare yet "
                f"(the latest starts {last}; pass --period {last})"
            )
        raise NotFoundError(
            f"--period {day}: {name} by {grain} runs from {first} to {last}, and the first "
            "period has no previous one"
        )
    return starts[0], starts[1]


def _signed(value: Any, unit: str | None) -> str:
    value = number(value)
    if value is None:
        return MISSING
    text = fmt_value(abs(value), unit)
    return ("-" if value < 0 and text.strip("0.,%") else "+") + text


def explanation_payload(explanation: Explanation) -> dict[str, Any]:
    """The explanation as JSON-ready data: `explain --json` and `serve`'s /api/decomposition."""
    e = explanation
    unit = e.metric.get("unit")
    return {
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
                "components": [{key: plain(row[key]) for key in COMPONENT_COLUMNS} for row in rows],
            }
            for decomposition, breakdown, rows in e.sections
        ],
        "movers": [{key: plain(row[key]) for key in MOVER_COLUMNS} for row in e.movers],
        "source": e.source,
        "not_shown": e.notes,
        # not a decomposition: each value's own change, which do not add up
        "segment_changes": [
            {
                "breakdown": breakdown,
                "values": [{key: plain(row[key]) for key in COMPONENT_COLUMNS} for row in rows],
            }
            for breakdown, rows in e.segment_changes
        ],
    }


def render(explanation: Explanation, fmt: str = "table") -> str:
    e = explanation
    unit = e.metric.get("unit")
    if fmt == "json":
        return render_json(explanation_payload(e))
    label = e.metric.get("label") or e.metric["metric_name"]
    state = "" if e.is_complete_period else " (running, not complete)"
    lines = [
        f"{label}, {e.grain} of {e.period_start}{state} vs {e.previous_period_start}: "
        f"{fmt_value(e.previous_value, unit)} -> {fmt_value(e.value, unit)} "
        f"({_signed(e.change_abs, unit)})",
    ]
    if e.sections:
        lines.append(f"Each section's contributions add up to the change (from {e.source}).")
    lines += [f"Not shown: {note}." for note in e.notes]
    for decomposition, breakdown, rows in e.sections:
        lines += ["", TITLES[decomposition].format(breakdown=breakdown)]
        # no entities column where no component counts entities (fct_metric_values' splits)
        counted = any(row["entities"] is not None for row in rows)
        table = [
            [
                row["component_value"] or row["component"],
                *([row["component"]] if decomposition == "segment" and unit_split(rows) else []),
                *(
                    [
                        MISSING
                        if row["entities"] is None
                        else f"{row['entities']:+,}"
                        if row["component"] == "breadth"
                        else f"{row['entities']:,}"
                    ]
                    if counted
                    else []
                ),
                fmt_number(row["previous_amount"]),
                fmt_number(row["current_amount"]),
                _signed(row["contribution"], unit),
            ]
            for row in rows
        ]
        headers = [
            "segment" if decomposition == "segment" else "component",
            *(["effect"] if decomposition == "segment" and unit_split(rows) else []),
            *(["entities"] if counted else []),
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
    for breakdown, rows in e.segment_changes:
        lines += ["", f"By {breakdown}: each value's own change (these do not add up)"]
        table = [
            [
                row["component_value"],
                fmt_value(row["previous_amount"], unit),
                fmt_value(row["current_amount"], unit),
                _signed(row["contribution"], unit),
            ]
            for row in rows
        ]
        lines.append(render_table(["segment", "previous", "current", "change"], table))
    return "\n".join(lines)


def unit_split(rows: list[dict[str, Any]]) -> bool:
    """A quotient's segment rows come in mix and rate pairs."""
    return any(row["component"] in ("mix", "rate") for row in rows)
