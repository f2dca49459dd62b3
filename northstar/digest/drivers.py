"""What drove the North Star's move, for the digest: read from the snapshot's exact
decomposition (fct_north_star_decomposition, fct_north_star_movers; docs/decomposition.md)
and formatted once, so the headline and every table below it print the same numbers.

The headline names the larger part of the North Star's own split (breadth x depth for a
count or a sum, numerator x denominator for a quotient) and the segment values that moved
most. Everything is a pure function of the snapshot.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from northstar.query.catalog import rows_as_dicts
from northstar.query.formats import fmt_number, number, plain

DECOMPOSITION = "fct_north_star_decomposition"
MOVERS = "fct_north_star_movers"
# The split the headline reads, in order of preference; a kind has at most one of them.
SPLITS = ("breadth_depth", "numerator_denominator")
ORDER = {
    "breadth_depth": ("breadth", "depth", "not_active"),
    "lifecycle": ("new", "returning", "resurrected", "dormant", "not_active"),
    "numerator_denominator": ("numerator", "denominator"),
}
# Segment values named in the headline (the tables list them all).
HEADLINE_VALUES = 2
# A breakdown with more values than this is shown as its largest ones plus one "others" row.
TABLE_VALUES = 5
MOVERS_SHOWN = 3


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    found = con.execute(
        "select count(*) from information_schema.tables where table_name = ?", [name]
    ).fetchall()
    return bool(found and found[0][0])


def precision(reference: float, unit: str | None) -> int:
    """Decimals for every contribution of one digest, from the size of the change: the
    same rule for the headline and the tables, so they print the same text."""
    size = abs(reference) * (100 if unit == "ratio" else 1)
    if unit == "ratio":
        return 1 if size >= 1 else 2
    if size >= 10:
        return 0
    if size >= 1:
        return 1
    return 2 if size >= 0.1 else 3


def signed(value: Any, unit: str | None, decimals: int) -> str:
    """+2,561 / -70 / +1.2 pp; a value that rounds to zero is "0" (no sign to misread)."""
    value = number(value)
    if value is None:
        return "-"
    scaled = value * 100 if unit == "ratio" else value
    text = f"{abs(scaled):,.{decimals}f}"
    suffix = " pp" if unit == "ratio" else ""
    if float(text.replace(",", "")) == 0:
        return "0" + suffix
    return ("+" if scaled > 0 else "-") + text + suffix


def entity_noun(con: duckdb.DuckDBPyConnection) -> str:
    """What the entities are called: the spec's entity (account or user, as
    fct_aha_moments records it), in the plural; "entities" when the snapshot does not say."""
    if not has_table(con, "fct_aha_moments"):
        return "entities"
    found = con.execute("select min(entity_type) from fct_aha_moments").fetchall()
    entity = found[0][0] if found else None
    return f"{entity}s" if entity in ("account", "user") else "entities"


def singular(noun: str) -> str:
    return "entity" if noun == "entities" else noun.removesuffix("s")


def _components(rows: list[dict[str, Any]], decomposition: str) -> list[dict[str, Any]]:
    order = ORDER[decomposition]
    members = [row for row in rows if row["decomposition"] == decomposition]
    members.sort(key=lambda row: order.index(row["component"]))
    return members


def _segments(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per breakdown: each value's contribution (mix + rate for a quotient),
    largest move first."""
    breakdowns: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        if row["decomposition"] != "segment":
            continue
        values = breakdowns.setdefault(row["breakdown"], {})
        value = values.setdefault(
            row["component_value"],
            {"value": row["component_value"], "contribution": 0.0, "mix": None, "rate": None},
        )
        contribution = number(row["contribution"]) or 0.0
        value["contribution"] += contribution
        if row["component"] in ("mix", "rate"):
            value[row["component"]] = contribution
    out = []
    for breakdown in sorted(breakdowns):
        values = sorted(
            breakdowns[breakdown].values(),
            key=lambda v: (-abs(v["contribution"]), v["value"]),
        )
        out.append({"breakdown": breakdown, "values": values})
    return out


def headline_breakdown(segments: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The breakdown holding the single value that moved the total most (ties: by name):
    where the move is most concentrated, so naming two values says the most."""
    ranked = [s for s in segments if s["values"]]
    if not ranked:
        return None
    return min(ranked, key=lambda s: (-abs(s["values"][0]["contribution"]), s["breakdown"]))


def _movers(
    con: duckdb.DuckDBPyConnection, name: str, grain: str, start: date
) -> list[dict[str, Any]]:
    if not has_table(con, MOVERS):
        return []
    rows = rows_as_dicts(
        con.execute(
            f"""
            select direction, mover_rank, entity_id, lifecycle_component, segments,
                previous_numerator, current_numerator, contribution
            from {MOVERS}
            where metric_name = ? and grain = ? and period_start = ? and mover_rank <= ?
            order by direction desc, mover_rank
            """,  # noqa: S608 (a constant table name; values are bound parameters)
            [name, grain, start, MOVERS_SHOWN],
        )
    )
    return [{key: plain(value) for key, value in row.items()} for row in rows]


def _unavailable(reason: str) -> dict[str, Any]:
    return {"available": False, "reason": reason, "sentence": None}


def read_drivers(
    con: duckdb.DuckDBPyConnection,
    north_star: dict[str, Any],
    *,
    grain: str,
    period_start: date,
) -> dict[str, Any]:
    """The decomposition of the North Star's change into the digest's period, formatted."""
    name = north_star["metric_name"]
    if not has_table(con, DECOMPOSITION):
        return _unavailable(
            "this snapshot has no decomposition of the change (it was published before "
            "fct_north_star_decomposition existed)"
        )
    rows = rows_as_dicts(
        con.execute(
            f"""
            select *
            from {DECOMPOSITION}
            where metric_name = ? and grain = ? and period_start = ?
                and segment_name = 'all' and segment_value = 'all'
            """,  # noqa: S608 (a constant table name; values are bound parameters)
            [name, grain, period_start],
        )
    )
    if not rows:
        kind = north_star.get("kind")
        exact = has_rows(con, name)
        return _unavailable(
            f"no previous {grain} to compare with"
            if exact
            else f"a {kind} North Star has no exact split into drivers (docs/decomposition.md)"
        )
    unit = north_star.get("unit")
    change = number(rows[0]["change_abs"]) or 0.0
    split_name = next((s for s in SPLITS if any(row["decomposition"] == s for row in rows)), None)
    # "not_active" (what entities contributed in periods without an activity event) is
    # zero unless the North Star counts other events: shown only when it is not.
    split = [
        row
        for row in (_components(rows, split_name) if split_name else [])
        if row["component"] != "not_active" or number(row["contribution"])
    ]
    lifecycle = [
        row
        for row in _components(rows, "lifecycle")
        if row["component"] != "not_active" or number(row["contribution"])
    ]
    segments = _segments(rows)
    reference = abs(change) or max(
        (abs(number(row["contribution"]) or 0.0) for row in rows), default=0.0
    )
    decimals = precision(reference, unit)
    noun = entity_noun(con)

    def fmt(value: Any) -> str:
        return signed(value, unit, decimals)

    for row in [*split, *lifecycle]:
        row["display"] = fmt(row["contribution"])
    for segment in segments:
        for value in segment["values"]:
            value["display"] = fmt(value["contribution"])
            value["display_mix"] = fmt(value["mix"]) if value["mix"] is not None else None
            value["display_rate"] = fmt(value["rate"]) if value["rate"] is not None else None
        segment["table"] = _table_values(segment["values"], fmt)
    movers = _movers(con, name, grain, period_start)
    for mover in movers:
        mover["display"] = fmt(mover["contribution"])

    chosen = headline_breakdown(segments)
    driver = (
        max(split, key=lambda row: (abs(number(row["contribution"]) or 0.0), -_rank(row)))
        if split
        else None
    )
    sentence = _sentence(split_name, split, driver, chosen, fmt(change), noun, north_star)
    keep = ("component", "entities", "previous_amount", "current_amount", "contribution")
    return {
        "available": True,
        "reason": None,
        "change_abs": plain(change),
        "display_change": fmt(change),
        "decimals": decimals,
        "entity_noun": noun,
        "split": split_name,
        "driver": None if driver is None else driver["component"],
        "components": [
            {**{k: plain(row[k]) for k in keep}, "display": row["display"]} for row in split
        ],
        "lifecycle": [
            {**{k: plain(row[k]) for k in keep}, "display": row["display"]} for row in lifecycle
        ],
        "segments": segments,
        "headline_breakdown": None if chosen is None else chosen["breakdown"],
        "movers": movers,
        "sentence": sentence,
    }


def has_rows(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the North Star has any decomposition (a median or percentile has none)."""
    found = con.execute(
        f"select count(*) from {DECOMPOSITION} where metric_name = ?",  # noqa: S608
        [name],
    ).fetchall()
    return bool(found[0][0])


def _rank(row: dict[str, Any]) -> int:
    return ORDER.get(row["decomposition"], ()).index(row["component"])


def _table_values(values: list[dict[str, Any]], fmt: Any) -> list[dict[str, Any]]:
    """A long breakdown (14 countries) as its largest values and one row for the rest,
    whose contribution is their sum: the rows still add up to the change."""
    if len(values) <= TABLE_VALUES:
        return values
    shown_values = values[: TABLE_VALUES - 1]
    rest = values[TABLE_VALUES - 1 :]
    total = sum(v["contribution"] for v in rest)
    other = {
        "value": f"{len(rest)} others",
        "contribution": total,
        "mix": None,
        "rate": None,
        "display": fmt(total),
        "display_mix": None,
        "display_rate": None,
        "others": True,
    }
    return [*shown_values, other]


def _sentence(
    split_name: str | None,
    split: list[dict[str, Any]],
    driver: dict[str, Any] | None,
    breakdown: dict[str, Any] | None,
    change: str,
    noun: str,
    north_star: dict[str, Any],
) -> str | None:
    """ "Breadth drove the move: +2,491 = +2,561 from 31 more active teams, -70 from depth
    (messages per active team 82.65 to 82.57); by plan: free +2,806, pro -292." """
    parts: list[str] = []
    lead = ""
    if split_name == "breadth_depth":
        for row in split:
            component = row["component"]
            if component == "breadth":
                more = int(row["entities"] or 0)
                counts = (
                    f"{fmt_number(row['previous_amount'])} to {fmt_number(row['current_amount'])}"
                )
                active = (
                    f"{more} more active {noun} ({counts})"
                    if more > 0
                    else f"{-more} fewer active {noun} ({counts})"
                    if more < 0
                    else f"breadth ({fmt_number(row['current_amount'])} active {noun}, as before)"
                )
                parts.append(f"{row['display']} from {active}")
            elif component == "depth":
                per = f"{north_star.get('unit') or 'value'} per active {singular(noun)}"
                parts.append(
                    f"{row['display']} from depth ({per} "
                    f"{fmt_number(row['previous_amount'])} to {fmt_number(row['current_amount'])})"
                )
            elif number(row["contribution"]):
                parts.append(f"{row['display']} from {noun} without an activity event")
        if driver is not None:
            lead = {
                "breadth": f"Breadth (active {noun}) drove the move",
                "depth": f"Depth ({north_star.get('unit') or 'value'} per active "
                f"{singular(noun)}) drove the move",
                "not_active": f"{noun.capitalize()} without an activity event drove the move",
            }[driver["component"]]
    elif split_name == "numerator_denominator":
        for row in split:
            parts.append(
                f"{row['display']} from the {row['component']} "
                f"({fmt_number(row['previous_amount'])} to {fmt_number(row['current_amount'])})"
            )
        if driver is not None:
            lead = (
                f"The {driver['component']} drove the move (a quotient North Star: "
                "split into numerator and denominator, not breadth x depth)"
            )
    by = ""
    if breakdown is not None:
        named = breakdown["values"][:HEADLINE_VALUES]
        items = []
        for value in named:
            item = f"{value['value']} {value['display']}"
            if value["display_mix"] is not None and value["display_rate"] is not None:
                item += f" (rate {value['display_rate']}, mix {value['display_mix']})"
            items.append(item)
        by = f"by {breakdown['breakdown']}: {', '.join(items)}"
    if not parts and not by:
        return None
    if not parts:
        return f"By segment, {by[3:]}."
    text = f"{lead}: {change} = {', '.join(parts)}"
    return text + (f"; {by}." if by else ".")
