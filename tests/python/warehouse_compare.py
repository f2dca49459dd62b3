"""Two warehouses built from the same raw data, compared table by table: the public relations
(every relation in `marts`, plus the reject log) as multisets of rows; integers, text, dates
and booleans exactly, floating point within a relative FLOAT_REL_TOL (sums and averages may be
added up in another order when an incremental run recomputes only some days)."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from decimal import Decimal
from pathlib import Path

import duckdb

FLOAT_REL_TOL = 1e-9

# The public relations: every relation in marts, plus the reject log; not the runs' own
# bookkeeping (`_northstar_*`, e.g. marts._northstar_mart_checks: which dbt run tested what).
EXTRA_PUBLIC = ("staging.stg_events_rejected",)

# The models that read only what a load touched (macros/staging/northstar_incremental.sql).
INCREMENTAL_MODELS = (
    "stg_events_duplicates",
    "int_entity_first_events",
    "stg_events_rejected",
    "int_entity_event_daily",
    "int_entity_activity_daily",
    "int_entity_periods",
    "int_aha_moments",
    "int_raw_rows_daily",
    "int_entity_user_daily",
    "int_metric_events",
    "int_north_star_entity_changes",
    "int_active_days_windows",
    "int_backtest_pairs",
    "int_backtest_period_scores",
)
# Compared too, beside the public tables: the intermediates whose incremental keys reach beyond
# the touched periods or days (periods on, windows after, the periods or days the spine gains),
# summed or ranked by the public marts, where a stale row could hide in a total.
COMPARED_INTERMEDIATES = (
    "intermediate.int_north_star_entity_changes",
    "intermediate.int_active_days_windows",
    "intermediate.int_backtest_pairs",
    "intermediate.int_backtest_period_scores",
    # each entity's first-event segments, merged per load; a stale first stays out of
    # int_entities until its entity comes back, and then wins the merge
    "intermediate.int_entity_first_events",
    "intermediate.int_entities",
)


def public_relations(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_schema = 'marts' and not starts_with(table_name, '_northstar_') order by 1"
    ).fetchall()
    return [name for (name,) in rows] + list(EXTRA_PUBLIC)


def _value(value):
    """Comparable form: exact for integers (counts), floats kept for the tolerance."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _key(row: tuple) -> tuple:
    # floats sort by a rounded form, so rows equal within the tolerance pair up
    return tuple(
        (0, "") if v is None else (1, f"{v:.6g}") if isinstance(v, float) else (2, repr(v))
        for v in row
    )


def same_value(left, right) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        if math.isnan(left) or math.isnan(right):
            return math.isnan(left) and math.isnan(right)
        return math.isclose(left, right, rel_tol=FLOAT_REL_TOL, abs_tol=1e-12)
    return left == right and type(left) is type(right)


def compare_relation(
    incremental: duckdb.DuckDBPyConnection, full: duckdb.DuckDBPyConnection, relation: str
) -> list[str]:
    """Differences between the two builds' versions of a relation (empty when equal)."""
    described = [row[0] for row in incremental.execute(f"describe {relation}").fetchall()]
    other = [row[0] for row in full.execute(f"describe {relation}").fetchall()]
    if described != other:
        return [f"{relation}: columns differ: {described} vs {other}"]
    left = sorted(
        (
            tuple(map(_value, r))
            for r in incremental.execute(f"select * from {relation}").fetchall()
        ),
        key=_key,
    )
    right = sorted(
        (tuple(map(_value, r)) for r in full.execute(f"select * from {relation}").fetchall()),
        key=_key,
    )
    if len(left) != len(right):
        only_left = Counter(map(_key, left)) - Counter(map(_key, right))
        only_right = Counter(map(_key, right)) - Counter(map(_key, left))
        return [
            f"{relation}: {len(left)} rows incremental, {len(right)} full refresh; only "
            f"incremental e.g. {list(only_left)[:2]}, only full e.g. {list(only_right)[:2]}"
        ]
    problems = []
    for lrow, rrow in zip(left, right, strict=True):
        bad = [
            f"{name}: {lv!r} vs {rv!r}"
            for name, lv, rv in zip(described, lrow, rrow, strict=True)
            if not same_value(lv, rv)
        ]
        if bad:
            problems.append(f"{relation}: row {lrow[:4]}...: " + "; ".join(bad[:3]))
    return problems[:5]


def compare_warehouses(incremental: Path, full: Path, extra: tuple[str, ...] = ()) -> list[str]:
    """Differences over the public relations and the `extra` (internal) ones."""
    with (
        duckdb.connect(str(incremental), read_only=True) as inc,
        duckdb.connect(str(full), read_only=True) as ref,
    ):
        relations = public_relations(ref)
        assert set(relations) == set(public_relations(inc)), "different public relations"
        assert len(relations) >= 8
        relations += list(extra)
        return [p for relation in relations for p in compare_relation(inc, ref, relation)]
