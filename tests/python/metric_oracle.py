"""The North Star metrics recomputed in plain Python, from raw rows and the spec alone.

This is the independent route the dbt models are checked against: it reads the same raw
CSV rows dbt reads and the spec as a user writes it (docs/spec.md), and computes every
metric with loops, sets and `statistics`, sharing no code and no SQL with the models.
It covers clean fixtures only (no staging rejects or duplicates: test_staging owns those),
so every raw row is an accepted event.

The definitions it implements, from docs/spec.md:
- periods are UTC days, ISO weeks (Monday) and calendar months; the spine runs from the
  first event's day to the reference time (northstar__as_of, else the latest event), and a
  period is complete when it ended at or before that time (activation: plus its N days);
- an entity is *active* in a period when it has an `activity_events` event there; lifecycle
  (PostHog): new = active and first seen this period, returning = active now and in the
  previous period, resurrecting = any other active entity; dormant = active in the previous
  period, not now;
- segments are entity attributes (accounts/users column, or the first event carrying
  platform/country), 'unknown' when missing, plus ('all', 'all');
- a rate whose denominator is 0 is unknown (None) with status 'none';
- targets ("Targets"): a target given for the row's grain and segment (a mapping
  {grain: value} is the total's), fixed or time-bound (the straight line from the
  baseline to the goal, read on the period's last day: none before the baseline date, the
  goal from the deadline on); else the row's own previous value x (1 + growth rate); on
  pace when a complete period's value is at or beyond its target in the metric's direction.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MISSING = {"", "null", "undefined", "none", "nan"}
LIFECYCLE_KINDS = {"activation", "retention", "resurrection", "churn"}
# The spec's metric lists after the North Star, in catalog order, with their role.
ROLE_KEYS = (
    ("input", "inputs"),
    ("guardrail", "guardrails"),
    ("output", "outputs"),
    ("team", "team_metrics"),
)


@dataclass(frozen=True)
class Event:
    event_id: str
    occurred_at: dt.datetime
    user_id: str | None
    account_id: str | None
    event_name: str
    properties: dict[str, Any]
    platform: str | None
    country: str | None


@dataclass(frozen=True)
class Value:
    numerator: float | None
    denominator: float | None
    value: float | None
    previous_value: float | None
    target: float | None
    target_kind: str | None
    is_on_pace: bool | None
    status: str
    is_complete_period: bool


@dataclass(frozen=True)
class PeriodState:
    """One segment in one period: who is in it, their events, their lifecycle."""

    grain: str
    segment: tuple[str, str]
    period: dt.date
    previous: dt.date
    cohort_period: Callable[[int], dt.date | None]
    events: dict[str, list[Event]]  # entity -> its events in the period (entities with any)
    first_period: dict[str, dt.date]  # every member -> the period it was first seen in
    active: set[str]
    was_active: set[str]
    new: set[str]
    resurrecting: set[str]
    dormant: set[str]
    dormant_pool: set[str]


@dataclass(frozen=True)
class Aha:
    first_seen_at: dt.datetime
    aha_reached_at: dt.datetime | None
    days_to_aha: int | None
    qualifying_events_in_window: int


# --- reading raw rows ----------------------------------------------------------------


def clean(text: str | None) -> str | None:
    if text is None or text.strip().lower() in MISSING:
        return None
    return text.strip()


def parse_utc(text: str) -> dt.datetime:
    """ISO text -> naive UTC datetime (the fixtures write ISO 8601 with Z or no zone)."""
    parsed = dt.datetime.fromisoformat(text.strip())
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def read_events(path: Path) -> list[Event]:
    with path.open(newline="") as handle:
        return [
            Event(
                event_id=row["event_id"],
                occurred_at=parse_utc(row["occurred_at"]),
                user_id=clean(row.get("user_id")),
                account_id=clean(row.get("account_id")),
                event_name=row["event_name"].strip().lower(),
                properties=json.loads(row.get("properties") or "{}"),
                platform=clean(row.get("platform")),
                country=clean(row.get("country")),
            )
            for row in csv.DictReader(handle)
        ]


def read_attributes(path: Path | None, id_column: str) -> dict[str, dict[str, str | None]]:
    """Entity attributes keyed by id (the first row per id wins: fixtures have one)."""
    if path is None or not path.exists():
        return {}
    attributes: dict[str, dict[str, str | None]] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            entity_id = clean(row[id_column])
            if entity_id is not None and entity_id not in attributes:
                attributes[entity_id] = {key: clean(value) for key, value in row.items()}
    return attributes


# --- time -------------------------------------------------------------------------------


def period_start(grain: str, moment: dt.date | dt.datetime) -> dt.date:
    day = moment.date() if isinstance(moment, dt.datetime) else moment
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def shift(grain: str, start: dt.date, periods: int) -> dt.date:
    if grain == "day":
        return start + dt.timedelta(days=periods)
    if grain == "week":
        return start + dt.timedelta(weeks=periods)
    month = start.year * 12 + start.month - 1 + periods
    return dt.date(month // 12, month % 12 + 1, 1)


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def quantile_linear(values: list[float], fraction: float) -> float:
    """Continuous quantile with linear interpolation between closest ranks (R type 7,
    numpy's default, SQL percentile_cont)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- measures -----------------------------------------------------------------------------


def as_number(value: Any) -> float | None:
    """A JSON number, or a string holding one; anything else (or non-finite) is None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def where_holds(where: dict[str, Any] | None, event: Event, numeric: bool) -> bool:
    if where is None:
        return True
    raw = event.properties.get(where["property"])
    if numeric:
        operand: Any = as_number(raw)
        wanted = [float(v) for v in _as_list(where)]
    else:
        operand = None if raw is None else str(raw)
        wanted = [str(v) for v in _as_list(where)]
    if operand is None:
        return False  # SQL: a comparison with null is not true
    op = where["op"]
    if op == "in":
        return operand in wanted
    if op == "not_in":
        return operand not in wanted
    value = wanted[0]
    return {
        "=": operand == value,
        "!=": operand != value,
        ">": operand > value,
        ">=": operand >= value,
        "<": operand < value,
        "<=": operand <= value,
    }[op]


def _as_list(where: dict[str, Any]) -> list[Any]:
    return list(where["value"]) if where["op"] in ("in", "not_in") else [where["value"]]


class Oracle:
    """Every metric of `spec` at every grain, period and segment, from `events`."""

    def __init__(
        self,
        spec: dict[str, Any],
        events: list[Event],
        attributes: dict[str, dict[str, str | None]],
        as_of: dt.datetime | None = None,
    ):
        self.spec = spec
        self.entity_column = spec.get("entity", "account") + "_id"
        self.grains = spec.get("grains", ["day", "week", "month"])
        self.primary_grain = spec.get(
            "primary_grain", "week" if "week" in self.grains else self.grains[0]
        )
        self.activity_events = set(spec.get("activity_events") or spec["events"].keys())
        self.events = events
        self.by_entity: dict[str, list[Event]] = defaultdict(list)
        for event in sorted(events, key=lambda e: (e.occurred_at, e.event_id)):
            self.by_entity[getattr(event, self.entity_column)].append(event)
        self.first_seen = {e: rows[0].occurred_at for e, rows in self.by_entity.items()}
        self.as_of_at = as_of or max(event.occurred_at for event in events)
        self.segments = self._segments(attributes)
        self.aha = self._aha()

    # --- entities -----------------------------------------------------------------------

    def _segments(self, attributes: dict[str, dict[str, str | None]]) -> dict[str, set[str]]:
        """(segment_name, segment_value) -> the entities in it, 'all' included."""
        members: dict[tuple[str, str], set[str]] = defaultdict(set)
        for entity, rows in self.by_entity.items():
            members[("all", "all")].add(entity)
            for segment in self.spec.get("segments") or []:
                if isinstance(segment, str):
                    segment = {"name": segment}
                name = segment["name"]
                if segment.get("source", "entity") == "entity":
                    value = attributes.get(entity, {}).get(name)
                else:
                    value = next(
                        (getattr(e, name) for e in rows if getattr(e, name) is not None), None
                    )
                members[(name, value or "unknown")].add(entity)
        return members

    def _aha(self) -> dict[str, Aha]:
        aha = self.spec["aha"]
        window = dt.timedelta(days=aha["window_days"])
        result = {}
        for entity, rows in self.by_entity.items():
            first = self.first_seen[entity]
            qualifying = [
                e for e in rows if e.event_name in aha["events"] and e.occurred_at <= first + window
            ]
            reached = (
                qualifying[aha["threshold"] - 1].occurred_at
                if len(qualifying) >= aha["threshold"]
                else None
            )
            result[entity] = Aha(
                first_seen_at=first,
                aha_reached_at=reached,
                days_to_aha=None
                if reached is None
                else math.floor((reached - first).total_seconds() / 86400),
                qualifying_events_in_window=len(qualifying),
            )
        return result

    # --- periods ------------------------------------------------------------------------

    def spine(self, grain: str) -> list[dt.date]:
        first_day = min(event.occurred_at for event in self.events).date()
        start = period_start(grain, first_day)
        last = period_start(grain, self.as_of_at.date())
        periods = []
        while start <= last:
            periods.append(start)
            start = shift(grain, start, 1)
        return periods

    def entity_period_events(self, grain: str) -> dict[tuple[str, dt.date], list[Event]]:
        grouped: dict[tuple[str, dt.date], list[Event]] = defaultdict(list)
        for entity, rows in self.by_entity.items():
            for event in rows:
                grouped[(entity, period_start(grain, event.occurred_at))].append(event)
        return grouped

    # --- measures per entity-period -----------------------------------------------------

    def _numeric_where(self, events: list[str], where: dict[str, Any] | None) -> bool:
        if where is None:
            return False
        declared = (self.spec["events"][events[0]] or {}).get("properties", {})
        return declared[where["property"]] == "number"

    def _matching(self, measure: dict[str, Any], rows: Iterable[Event]) -> list[Event]:
        events, where = measure["events"], measure.get("where")
        numeric = self._numeric_where(events, where)
        return [e for e in rows if e.event_name in events and where_holds(where, e, numeric)]

    def measure(self, measure: dict[str, Any], rows: list[Event], ctx: dict[str, Any]) -> float:
        """One entity's contribution to a measure in one period."""
        kind = measure["kind"]
        if kind == "active_entities":
            return 1.0 if ctx["active"] else 0.0
        if kind == "new_entities":
            return 1.0 if ctx["first_period"] else 0.0
        matching = self._matching(measure, rows)
        prop = measure.get("property")
        if kind == "sum":
            return sum(n for e in matching if (n := as_number(e.properties.get(prop))) is not None)
        if prop is not None:
            matching = [e for e in matching if as_number(e.properties.get(prop)) is not None]
        if kind == "count":
            return float(len(matching))
        # entities: does this entity meet every condition in the period?
        users = {e.user_id for e in matching if e.user_id is not None}
        names = {e.event_name for e in matching}
        days = {e.occurred_at.date() for e in matching}  # occurred_at is naive UTC
        # "at least 1 distinct user" is no condition: events without a user (billing,
        # automation) still make an account count, unless 2+ users are asked for
        users_needed = measure.get("min_distinct_users", 1)
        meets = (
            len(matching) >= measure.get("min_events", 1)
            and (users_needed <= 1 or len(users) >= users_needed)
            and len(names) >= measure.get("min_distinct_events", 1)
            and len(days) >= measure.get("min_active_days", 1)
        )
        return 1.0 if meets else 0.0

    # --- metrics ------------------------------------------------------------------------

    def metrics(self) -> list[tuple[str, dict[str, Any]]]:
        entries = [("north_star", self.spec["north_star"])]
        for role, key in ROLE_KEYS:
            entries += [(role, entry) for entry in self.spec.get(key) or []]
        return entries

    def values(self) -> dict[tuple[str, str, dt.date, str, str], Value]:
        """(metric, grain, period_start, segment_name, segment_value) -> Value, for every
        metric of the spec and every built-in diagnostic (DIAGNOSTICS)."""
        result = {}
        for grain in self.grains:
            for state in self._states(grain):
                entries = [entry for _, entry in self.metrics()]
                entries += [{"name": name, "kind": "diagnostic"} for name in DIAGNOSTICS]
                for entry in entries:
                    if entry["kind"] == "diagnostic":
                        numerator, denominator, value = diagnostic(entry["name"], state)
                    else:
                        numerator, denominator, value = self._metric(entry, state)
                    key = (entry["name"], grain, state.period, *state.segment)
                    previous_key = (entry["name"], grain, state.previous, *state.segment)
                    previous = result[previous_key].value if previous_key in result else None
                    kind, target = self._target(entry, grain, state.segment, state.period, previous)
                    complete = self._complete(entry, grain, state.period)
                    result[key] = Value(
                        numerator=numerator,
                        denominator=denominator,
                        value=value,
                        previous_value=previous,
                        target=target,
                        target_kind=kind,
                        is_on_pace=self._on_pace(entry, value, target, complete),
                        status=self._status(entry, grain, value),
                        is_complete_period=complete,
                    )
        return result

    def _states(self, grain: str) -> Iterable[PeriodState]:
        """One state per segment and period of the spine, in period order."""
        spine = self.spine(grain)
        grouped = self.entity_period_events(grain)
        active = {
            key
            for key, rows in grouped.items()
            if any(e.event_name in self.activity_events for e in rows)
        }
        first_period = {e: period_start(grain, t) for e, t in self.first_seen.items()}
        for segment, members in self.segments.items():
            for index, period in enumerate(spine):
                previous = shift(grain, period, -1)
                is_active = {e for e in members if (e, period) in active}
                was_active = {e for e in members if (e, previous) in active}
                new = {e for e in members if first_period[e] == period}
                yield PeriodState(
                    grain=grain,
                    segment=segment,
                    period=period,
                    previous=previous,
                    cohort_period=lambda n, i=index: spine[i - n] if i >= n else None,
                    events={e: grouped[(e, period)] for e in members if (e, period) in grouped},
                    first_period={e: first_period[e] for e in members},
                    active=is_active,
                    was_active=was_active,
                    new=new,
                    resurrecting=(is_active - new) - was_active,
                    dormant=was_active - is_active,
                    dormant_pool={e for e in members if first_period[e] < period} - was_active,
                )

    def _metric(
        self, entry: dict[str, Any], state: PeriodState
    ) -> tuple[float | None, float | None, float | None]:
        kind = entry["kind"]

        def total(measure: dict[str, Any]) -> float:
            return sum(
                self.measure(
                    measure,
                    rows,
                    {"active": e in state.active, "first_period": e in state.new},
                )
                for e, rows in state.events.items()
            )

        if kind in ("count", "sum", "entities", "new_entities"):
            numerator = total(entry)
            return numerator, None, numerator
        if kind == "mean":
            numerator = total({**entry, "kind": "sum"})
            denominator = total({**entry, "kind": "count"})
            return numerator, denominator, divide(numerator, denominator)
        if kind == "ratio":
            numerator = total(entry["numerator"])
            denominator = total(entry["denominator"])
            return numerator, denominator, divide(numerator, denominator)
        if kind == "engagement":
            qualifying = {"kind": "count", "events": entry["events"], "where": entry.get("where")}
            counts = [self.measure(qualifying, state.events[e], {}) for e in state.active]
            if entry.get("aggregate", "median") == "median":
                value = statistics.median(counts) if counts else None
                return None, float(len(counts)), value
            return float(sum(counts)), float(len(counts)), divide(sum(counts), len(counts))
        if kind == "percentile":
            observations = [
                n
                for rows in state.events.values()
                for event in self._matching(entry, rows)
                if (n := as_number(event.properties.get(entry["property"]))) is not None
            ]
            value = quantile_linear(observations, entry["percentile"]) if observations else None
            return None, float(len(observations)), value
        if kind == "activation":
            within = dt.timedelta(days=entry["within_days"])
            reached = [
                e
                for e in state.new
                if self.aha[e].aha_reached_at is not None
                and self.aha[e].aha_reached_at <= self.first_seen[e] + within
            ]
            return share(len(reached), len(state.new))
        if kind == "retention":
            cohort_period = state.cohort_period(entry["periods_after"])
            cohort = {e for e, p in state.first_period.items() if p == cohort_period}
            return share(len(cohort & state.active), len(cohort))
        if kind == "resurrection":
            return share(len(state.resurrecting), len(state.dormant_pool))
        if kind == "churn":
            return share(len(state.dormant), len(state.was_active))
        raise ValueError(f"the oracle does not know kind {kind!r}")

    # --- status, target, completeness ---------------------------------------------------

    def _status(self, entry: dict[str, Any], grain: str, value: float | None) -> str:
        warn, breach = entry.get("warn"), entry.get("breach")
        if grain not in entry.get("status_grains", [self.primary_grain]):
            return "none"
        if value is None or (warn is None and breach is None):
            return "none"
        if entry.get("direction", "higher_is_better") == "lower_is_better":
            worse_or_equal = lambda threshold: value >= threshold  # noqa: E731
        else:
            worse_or_equal = lambda threshold: value <= threshold  # noqa: E731
        if breach is not None and worse_or_equal(breach):
            return "breach"
        if warn is not None and worse_or_equal(warn):
            return "warn"
        return "ok"

    def _target(
        self,
        entry: dict[str, Any],
        grain: str,
        segment: tuple[str, str],
        period: dt.date,
        previous: float | None,
    ) -> tuple[str | None, float | None]:
        """(target_kind, target) of one row."""
        given = entry.get("targets") or []
        if isinstance(given, dict):
            given = [{"grain": name, "value": value} for name, value in given.items()]
        for target in given:
            named = target.get("segment")
            target_segment = next(iter(named.items())) if named else ("all", "all")
            if target.get("grain", self.primary_grain) != grain or target_segment != segment:
                continue
            if "value" in target:
                return "fixed", float(target["value"])
            start, start_value = as_date(target["baseline"]["date"]), target["baseline"]["value"]
            end, goal = as_date(target["goal"]["by"]), target["goal"]["value"]
            last_day = shift(grain, period, 1) - dt.timedelta(days=1)
            if last_day < start:
                return "time_bound", None
            if last_day >= end:
                return "time_bound", float(goal)
            elapsed, length = (last_day - start).days, (end - start).days
            return "time_bound", start_value + (goal - start_value) * elapsed / length
        growth = entry.get("target_growth_rate")
        if growth is None:
            return None, None
        return "growth", None if previous is None else previous * (1 + growth)

    def _on_pace(
        self, entry: dict[str, Any], value: float | None, target: float | None, complete: bool
    ) -> bool | None:
        if not complete or value is None or target is None:
            return None
        if entry.get("direction", "higher_is_better") == "lower_is_better":
            return value <= target
        return value >= target

    def _complete(self, entry: dict[str, Any], grain: str, period: dt.date) -> bool:
        end = midnight(shift(grain, period, 1))
        if entry["kind"] == "activation":
            end += dt.timedelta(days=entry["within_days"])
        return end <= self.as_of_at


# The built-in diagnostic metrics (docs/spec.md, "Diagnostic metrics"): every spec has
# them, with no target, no thresholds, and complete when the period has ended.
DIAGNOSTICS = (
    "lifecycle_active_entities",
    "lifecycle_new_entities",
    "lifecycle_returning_entities",
    "lifecycle_resurrected_entities",
    "lifecycle_dormant_entities",
    "lifecycle_quick_ratio",
)


def diagnostic(name: str, state: PeriodState) -> tuple[float, float | None, float | None]:
    """A diagnostic's numerator, denominator and value from the period's entity sets."""
    new = state.new & state.active
    counts = {
        "lifecycle_active_entities": state.active,
        "lifecycle_new_entities": new,
        "lifecycle_returning_entities": state.active & state.was_active,
        "lifecycle_resurrected_entities": state.resurrecting,
        "lifecycle_dormant_entities": state.dormant,
    }
    if name in counts:
        count = float(len(counts[name]))
        return count, None, count
    if name == "lifecycle_quick_ratio":
        growth = float(len(new) + len(state.resurrecting))
        return growth, float(len(state.dormant)), divide(growth, len(state.dormant))
    raise ValueError(f"the oracle does not know the diagnostic {name!r}")


def as_date(value: str | dt.date) -> dt.date:
    """A spec date: YAML reads an unquoted one as a date, JSON and quotes as text."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def divide(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator


def share(part: int, whole: int) -> tuple[float, float, float | None]:
    return float(part), float(whole), divide(part, whole)
