"""Definition versions that protect published history (docs/definition-versions.md).

The record of past definitions is the published snapshot: its manifest holds each
metric's definition (the fields that decide its values, their hash, its
definition_version) and its DuckDB file holds the values. The warehouse is not the record:
dbt rebuilds it (`--full-refresh`, a new file, another target), and a build that was never
published changed nothing anyone read.

At publish, the spec the warehouse was built with (intermediate.int_northstar_spec) is
compared with the current snapshot's record:

- same definition_version, other definition: refused (exit 1), naming the metric and the
  fields that changed;
- a higher definition_version (a bump): the previous snapshot's values of the metric are
  carried into `fct_metric_values_history`, keyed by definition_version, and the per-period
  restatement (old, new, change) is printed, written to the manifest and the digest; a
  restatement beyond the tolerance needs an acknowledgement, or the gate fails (exit 4).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from northstar.errors import (
    DefinitionChangedError,
    NorthstarError,
    NotFoundError,
    RestatementNotAcceptedError,
)
from northstar.publish.store import DATABASE, SnapshotStore
from northstar.publish.tables import HISTORY_TABLE, PublicTable, quote_identifier, quote_literal

# Normalized-spec fields that do not decide a metric's values: how it is named, shown,
# owned and placed in the tree, and how its values are judged (direction, thresholds,
# targets), and what the normalizer derives from the fields that do count (tree_depth from
# parents; reads_events and summed_properties, for the lint, from the measures;
# entity_value, for the backtest, from the kind), so a better derivation never asks for a
# bump. Every other field counts, including those a
# future kind adds: an unknown field is a definition until it is listed here.
PRESENTATIONAL = frozenset(
    {
        "name",
        "field",
        "label",
        "description",
        "owner",
        "unit",
        "role",
        "parent_metric",
        "tree_depth",
        "reads_events",
        "summed_properties",
        "entity_value",
        "sort_order",
        "direction",
        "warn",
        "breach",
        "status_grains",
        "targets",
        "target_growth_rate",
        "definition_version",
        "accept_restatement",
    }
)

PREVIOUS = "previous_snapshot"
TOLERANCE_ENV = "NORTHSTAR_RESTATEMENT_TOLERANCE"
# The largest |new - old| / |old| of any complete period (segment `all`, every grain) a bump
# may publish unacknowledged: 1% lets a bump that fixes rounding or a late-data quirk
# through, never one that changes what the metric counts.
DEFAULT_TOLERANCE = 0.01
# Diff rows printed per restated metric (the manifest and the digest hold them all).
PRINTED_PERIODS = 12

Progress = Callable[[str], None]


def definition_fields(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entry.items() if key not in PRESENTATIONAL}


def definition_hash(entry: Mapping[str, Any]) -> str:
    text = json.dumps(definition_fields(entry), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def definitions(spec: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The manifest's record: each spec metric's version, definition hash and fields. The
    built-in diagnostics are northstar's, versioned with northstar, not with the spec."""
    return {
        entry["name"]: {
            "definition_version": str(entry["definition_version"]),
            "definition_hash": definition_hash(entry),
            "fields": definition_fields(entry),
        }
        for entry in spec["metrics"]
    }


def changed_fields(old: Any, new: Any, path: str = "") -> list[str]:
    """Dotted paths where two definitions differ. A key the old record lacks is a field a
    later northstar added to the normalized spec, not a change of the user's."""
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for key in sorted(set(old) | set(new), key=str):
            if key not in old:
                continue
            found += changed_fields(old.get(key), new.get(key), f"{path}.{key}" if path else key)
        return found
    return [] if old == new else [path or "(whole definition)"]


def _value_at(fields: Mapping[str, Any], path: str) -> Any:
    value: Any = fields
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


@dataclass(frozen=True)
class Bump:
    metric: str
    from_version: str
    to_version: str
    changed: list[str]


@dataclass
class Plan:
    """What this publish does about definitions: the record it writes, and the bumps it
    checks against the previous snapshot."""

    # None: neither this warehouse nor the previous snapshot recorded a spec
    definitions: dict[str, dict[str, Any]] | None
    previous_run_id: str | None = None
    previous_database: Path | None = None
    bumps: list[Bump] = field(default_factory=list)
    accepted: dict[str, str] = field(default_factory=dict)  # metric -> accept_restatement


def _previous_versions(manifest: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """(metric -> definition_version, metric -> definition record) of a snapshot. A snapshot
    published before definitions were recorded still has its catalog's versions, so a bump
    over it keeps its values too; only the unbumped-change check needs the record."""
    record = manifest.get("definitions") or {}
    versions = {
        row["metric_name"]: str(row.get("definition_version"))
        for row in manifest.get("metrics") or []
        if row.get("role") != "diagnostic" and row.get("definition_version") is not None
    }
    versions.update({name: str(entry["definition_version"]) for name, entry in record.items()})
    return versions, record


def plan(spec: Mapping[str, Any] | None, store: SnapshotStore) -> Plan:
    """Compare the built spec with the current snapshot's record; raise
    DefinitionChangedError for a changed definition under an unchanged version (or a
    version that went down)."""
    try:
        snapshot = store.current()
    except NotFoundError:  # nothing published yet (or a dangling `current`): no record
        snapshot = None
    if spec is None:
        # Nothing to compare; the record and the history published so far carry forward.
        if snapshot is None:
            return Plan(definitions=None)
        return Plan(
            definitions=snapshot.manifest.get("definitions"),
            previous_run_id=snapshot.run_id,
            previous_database=snapshot.path / DATABASE,
        )
    current = definitions(spec)
    accepted = {
        entry["name"]: str(entry["accept_restatement"])
        for entry in spec["metrics"]
        if entry.get("accept_restatement") is not None
    }
    if snapshot is None:
        return Plan(definitions=current, accepted=accepted)
    run_id = snapshot.run_id
    versions, record = _previous_versions(snapshot.manifest)
    bumps, problems = [], []
    for name, now in current.items():
        before = versions.get(name)
        if before is None:
            continue  # a new metric: nothing published to protect
        old_fields = (record.get(name) or {}).get("fields")
        changed = changed_fields(old_fields, now["fields"]) if old_fields is not None else []
        version = now["definition_version"]
        if int(version) < int(before):
            problems.append(
                f"metric {name}: definition_version went down from {before} to {version} "
                f"(snapshot {run_id} published version {before}); versions only go up"
            )
        elif int(version) > int(before):
            bumps.append(Bump(name, before, version, changed))
        elif changed:
            shown = "; ".join(
                f"{path}: {_shown(_value_at(old_fields, path))} -> "
                f"{_shown(_value_at(now['fields'], path))}"
                for path in changed
            )
            problems.append(
                f"metric {name}: its definition changed ({shown}) but definition_version is "
                f"still {version}, the version snapshot {run_id} published. Bump "
                f"definition_version to {int(version) + 1} (the values published under "
                f"version {version} are then kept in {HISTORY_TABLE.name}), or undo the change"
            )
    if problems:
        raise DefinitionChangedError("; ".join(problems) + "; nothing was published")
    return Plan(
        definitions=current,
        previous_run_id=run_id,
        previous_database=snapshot.path / DATABASE,
        bumps=bumps,
        accepted=accepted,
    )


def _shown(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def tolerance(value: float | None = None) -> float:
    """The restatement tolerance: `value`, else $NORTHSTAR_RESTATEMENT_TOLERANCE, else 1%."""
    if value is None:
        text = os.environ.get(TOLERANCE_ENV, "").strip()
        if not text:
            return DEFAULT_TOLERANCE
        try:
            value = float(text)
        except ValueError:
            raise NorthstarError(
                f"{TOLERANCE_ENV}={text[:40]!r} is not a number: give the largest restatement "
                "to publish unacknowledged as a fraction (0.01 = 1%)"
            ) from None
    if not math.isfinite(value) or value < 0:
        raise NorthstarError(
            f"the restatement tolerance must be a fraction >= 0 (0.01 = 1%), got {value}"
        )
    return value


def attach_previous(source: duckdb.DuckDBPyConnection, the_plan: Plan) -> bool:
    if the_plan.previous_database is None or not the_plan.previous_database.is_file():
        return False
    source.execute(
        f"attach {quote_literal(str(the_plan.previous_database))} as {PREVIOUS} (read_only)"
    )
    return True


def _columns(source: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> list[str]:
    return [
        row[0]
        for row in source.execute(
            "select column_name from duckdb_columns() where database_name = ? "
            "and schema_name = ? and table_name = ? order by column_index",
            [catalog, schema, table],
        ).fetchall()
    ]


def restatements(
    source: duckdb.DuckDBPyConnection, catalog: str, the_plan: Plan
) -> list[dict[str, Any]]:
    """Per bumped metric, segment `all`, every grain: each period the previous snapshot
    published, its old value, the new one and the change."""
    found = []
    warehouse = f"{quote_identifier(catalog)}.marts.fct_metric_values"
    for bump in the_plan.bumps:
        rows = source.execute(
            f"""
            with old as (
                select grain, period_start, value, is_complete_period
                from {PREVIOUS}.main.fct_metric_values
                where metric_name = ? and segment_name = 'all'
            ), new as (
                select grain, period_start, value, is_complete_period
                from {warehouse}
                where metric_name = ? and segment_name = 'all'
            )
            select o.grain, o.period_start, o.value, n.value,
                o.is_complete_period and coalesce(n.is_complete_period, true)
            from old as o left join new as n using (grain, period_start)
            order by o.grain, o.period_start
            """,  # noqa: S608 - catalog names northstar chose, quoted
            [bump.metric, bump.metric],
        ).fetchall()
        periods = [_diff_row(*row) for row in rows]
        complete = [p for p in periods if p["is_complete_period"]]
        worst = max(complete, key=_size, default=None)
        found.append(
            {
                "metric_name": bump.metric,
                "from_version": bump.from_version,
                "to_version": bump.to_version,
                "changed_fields": bump.changed,
                "previous_run_id": the_plan.previous_run_id,
                # signed; null when the largest is from or to nothing (or nothing compared)
                "largest_change_pct": None if worst is None else worst["change_pct"],
                "largest_change_period": None
                if worst is None
                else {"grain": worst["grain"], "period_start": worst["period_start"]},
                "periods": periods,
            }
        )
    return found


def _diff_row(grain: str, start: Any, old: Any, new: Any, complete: Any) -> dict[str, Any]:
    old = None if old is None else float(old)
    new = None if new is None else float(new)
    change = None if old is None or new is None else new - old
    if (old is None and new is None) or change == 0:
        pct: float | None = 0.0
    elif change is not None and old != 0:
        pct = change / abs(old)
    else:
        pct = None  # from or to nothing: no finite share, counted as beyond any tolerance
    return {
        "grain": grain,
        "period_start": start.isoformat(),
        "old_value": old,
        "new_value": new,
        "change": change,
        "change_pct": pct,
        "is_complete_period": bool(complete),
    }


def _size(row: dict[str, Any]) -> float:
    return math.inf if row["change_pct"] is None else abs(row["change_pct"])


def gate(
    found: list[dict[str, Any]],
    the_plan: Plan,
    *,
    limit: float,
    accept_flag: bool,
) -> None:
    """Mark each restatement accepted (and how), or raise RestatementNotAcceptedError when
    one is beyond `limit` and nobody acknowledged it."""
    refused = []
    for entry in found:
        worst = max((_size(p) for p in entry["periods"] if p["is_complete_period"]), default=0.0)
        entry["tolerance"] = limit
        entry["within_tolerance"] = worst <= limit
        if entry["within_tolerance"]:
            entry["accepted_by"] = "within tolerance"
        elif accept_flag:
            entry["accepted_by"] = "--accept-restatement"
        elif the_plan.accepted.get(entry["metric_name"]) == entry["to_version"]:
            entry["accepted_by"] = f"accept_restatement: {entry['to_version']}"
        else:
            refused.append(entry)
    if refused:
        names = ", ".join(
            f"{e['metric_name']} (version {e['from_version']} -> {e['to_version']}, "
            f"largest change {_pct(e['largest_change_pct'])} in the "
            f"{e['largest_change_period']['grain']} of "
            f"{e['largest_change_period']['period_start']})"
            for e in refused
        )
        first = refused[0]
        raise RestatementNotAcceptedError(
            f"restatement beyond the tolerance of {limit:.2%}: {names}. Nothing was published "
            "and the current snapshot is unchanged. To publish it, run again with "
            f"--accept-restatement, or set accept_restatement: {first['to_version']} on "
            f"metric {first['metric_name']} in the spec",
            details="\n".join(line for e in refused for line in describe(e)),
        )


def _pct(value: float | None) -> str:
    return "from or to nothing" if value is None else f"{value:+.1%}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"


def describe(entry: dict[str, Any], grain: str | None = None) -> list[str]:
    """A restatement as lines: one heading, then old -> new per period of one grain (the
    first grain it has, unless given), the last PRINTED_PERIODS of them."""
    grains = sorted({p["grain"] for p in entry["periods"]})
    grain = grain or ("week" if "week" in grains else grains[0] if grains else None)
    rows = [p for p in entry["periods"] if p["grain"] == grain][-PRINTED_PERIODS:]
    changed = ", ".join(entry["changed_fields"]) or "no definition field (version bumped)"
    lines = [
        f"restatement of {entry['metric_name']}: definition_version {entry['from_version']} -> "
        f"{entry['to_version']} (changed: {changed}); largest change "
        f"{_pct(entry['largest_change_pct'])}; {grain} values, old -> new:"
    ]
    for p in rows:
        mark = "" if p["is_complete_period"] else " (incomplete)"
        lines.append(
            f"  {p['period_start']}  {_number(p['old_value']):>12} -> "
            f"{_number(p['new_value']):>12}  {_pct(p['change_pct'])}{mark}"
        )
    return lines


def build_history(
    source: duckdb.DuckDBPyConnection,
    catalog: str,
    the_plan: Plan,
    has_previous: bool,
    run_id: str,
) -> PublicTable:
    """`fct_metric_values_history` in the publish's in-memory catalog: the previous
    snapshot's history, plus its values of every bumped metric under the version they were
    published with. Rows: fct_metric_values' columns, plus the version that replaced them
    and the snapshot that published it."""
    table = f"memory.main.{HISTORY_TABLE.name}"
    # Every identifier here is northstar's own (the catalogs it attached, quoted).
    values_table = f"{quote_identifier(catalog)}.marts.fct_metric_values"
    extra = (
        "cast(null as varchar) as superseded_by_version, "
        "cast(null as varchar) as superseded_in_run_id"
    )
    create = f"create or replace table {table} as select *, {extra} from {values_table}"  # noqa: S608
    source.execute(create + " where false")
    if not has_previous:
        return HISTORY_TABLE
    target = set(_columns(source, "memory", "main", HISTORY_TABLE.name))
    carried = [c for c in _columns(source, PREVIOUS, "main", HISTORY_TABLE.name) if c in target]
    if carried:
        names = ", ".join(quote_identifier(c) for c in carried)
        previous_history = f"{PREVIOUS}.main.{HISTORY_TABLE.name}"
        source.execute(f"insert into {table} ({names}) select {names} from {previous_history}")  # noqa: S608
    values = [c for c in _columns(source, PREVIOUS, "main", "fct_metric_values") if c in target]
    names = ", ".join(quote_identifier(c) for c in values)
    for bump in the_plan.bumps:
        # Once per version: after a rollback the same version may be superseded again.
        source.execute(
            f"""
            insert into {table} ({names}, superseded_by_version, superseded_in_run_id)
            select {names}, ?, ? from {PREVIOUS}.main.fct_metric_values
            where metric_name = ? and not exists (
                select 1 from {table} as h
                where h.metric_name = ? and h.definition_version = ?)
            """,  # noqa: S608
            [bump.to_version, run_id, bump.metric, bump.metric, bump.from_version],
        )
    return HISTORY_TABLE
