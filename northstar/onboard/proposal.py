"""From a profiled export to a starter vars file: the raw-input mapping, the dates, and a
North Star spec proposed from the data (every proposal marked as one, with why).

The file is a dbt vars file (what `dbt build --vars "$(cat FILE)"` and
`northstar build --vars-file FILE` take): the same keys a project sets in
dbt_project.yml, docs/raw-event-contract.md and docs/spec.md.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml

from northstar.onboard.profile import SAMPLE_ROWS, Profile, normalize_event_name

AHA_WINDOW_DAYS = 14
TIME_FORMATS = {8: "%Y%m%d", 10: "epoch_seconds", 13: "epoch_milliseconds"}
MAX_EVENTS = 200


@dataclass(frozen=True)
class Proposal:
    variables: dict[str, Any]
    notes: list[str]  # what the reader should check, one line each

    def to_yaml(self, source: str) -> str:
        """The vars file, with a header and a comment above each proposal."""
        header = [
            f"# Written by `northstar init {source}`: the mapping of your export, the dates,",
            "# and a North Star spec PROPOSED from the data. Read the comments, then:",
            "#   northstar build --vars-file THIS_FILE",
            "# docs/raw-event-contract.md (the mapping) and docs/spec.md (the spec).",
            "",
        ]
        blocks = []
        for key, value in self.variables.items():
            comment = COMMENTS.get(key)
            text = yaml.safe_dump({key: value}, sort_keys=False, width=100)
            blocks.append((f"# {comment}\n" if comment else "") + text)
        return "\n".join(header) + "\n".join(blocks)


COMMENTS = {
    "northstar__raw_events_path": "Where the events are.",
    "northstar__raw_events_reader": "How the file is read (the extension is only a default).",
    "northstar__raw_event_columns": "Where each contract column comes from in your export.",
    "northstar__raw_accounts_path": "No accounts or users table: attributes come from the events.",
    "northstar__start_date": "Events before this day are rejected: the first day of the data.",
    "northstar__as_of": "The data's clock (its last event): freshness is judged against it. "
    "Remove it once the export is live.",
    "northstar__validation": "PROPOSED: the gate's bands, wide enough for this history's "
    "own moves (see init's report; the defaults are in dbt_project.yml).",
    "northstar": "PROPOSED from the data: the North Star counts the most frequent event; "
    "the aha moment is the median entity's count of it in its first "
    f"{AHA_WINDOW_DAYS} days. Change the names, owners and thresholds to yours.",
}


def _timestamp_sql(profile: Profile) -> str:
    """The event time in the sample as a TIMESTAMP, for the dates and the aha proposal."""
    occurred = profile.roles["occurred_at"]
    column = profile.sql(occurred["column"])
    digits = occurred["digits"]
    if digits == 8:
        return f"strptime(cast({column} as varchar), '%Y%m%d')"
    if digits == 10:
        return f"to_timestamp(cast({column} as bigint))::timestamp"
    if digits == 13:
        return f"epoch_ms(cast({column} as bigint))"
    if digits == 16:
        return f"make_timestamp(cast({column} as bigint))"
    if profile.column(occurred["column"]).is_temporal:
        return f"cast({column} as timestamp)"
    return f"try_cast({column} as timestamp)"


def constant_event_name(source: str) -> str:
    """The one event of an export without an event name: its file's name, singular
    (orders.txt -> order), else `event`."""
    stem = normalize_event_name(re.sub(r"\W+", " ", Path(source).name.split(".")[0]))
    stem = stem.strip("_")
    if len(stem) > 3 and stem.endswith("s") and not stem.endswith("ss"):
        stem = stem[:-1]
    return stem if re.fullmatch(r"[a-z][a-z0-9_]*", stem or "") else "event"


def _is_event_sql(profile: Profile) -> str:
    """True on the sample's rows of the event bound as $event (names normalized as staging
    does); every row when the export has one kind of event."""
    name = profile.roles["event_name"]
    if name is None:
        return "true"
    column = f"lower(trim(cast({profile.sql(name)} as varchar)))"
    return f"regexp_replace({column}, '[ \\-]+', '_', 'g') = $event"


def _event_parameter(is_event: str, event: str) -> dict[str, str]:
    return {"event": event} if "$event" in is_event else {}


def _source(profile: Profile, name: str) -> str | dict[str, str]:
    """How the mapping names a column: its name, or SQL for a field nested in a struct."""
    return {"sql": profile.sql(name)} if profile.column(name).is_nested else name


def _time_source(profile: Profile) -> str | dict[str, str]:
    """occurred_at's mapping: all-digit times get their unit said, not guessed."""
    occurred = profile.roles["occurred_at"]
    name, digits = occurred["column"], occurred["digits"]
    source = _source(profile, name)
    if digits in TIME_FORMATS:
        setting = {"sql": profile.sql(name)} if isinstance(source, dict) else {"column": name}
        return {**setting, "format": TIME_FORMATS[digits]}
    if digits == 16:  # microseconds: to milliseconds in SQL, then a unit the reader knows
        return {
            "sql": f"cast({profile.sql(name)} / 1000 as bigint)",
            "format": "epoch_milliseconds",
        }
    return source


def _mapping(profile: Profile) -> dict[str, Any]:
    roles = profile.roles
    columns: dict[str, Any] = {
        "event_id": _source(profile, roles["event_id"]) if roles["event_id"] else None
    }
    if roles["event_name"] is None:
        columns["event_name"] = {"value": constant_event_name(profile.source)}
    else:
        columns["event_name"] = _source(profile, roles["event_name"])
    columns["occurred_at"] = _time_source(profile)
    columns[f"{roles['entity']}_id"] = _source(profile, roles["entity_column"])
    if roles.get("other_entity_column"):
        other_key = "user_id" if roles["entity"] == "account" else "account_id"
        columns[other_key] = _source(profile, roles["other_entity_column"])
    for key in ("platform", "country", "received_at"):
        if roles[key]:
            columns[key] = _source(profile, roles[key])
    if roles.get("properties_column"):
        columns["properties"] = _source(profile, roles["properties_column"])
    elif roles["properties"]:
        columns["properties"] = {
            "columns": {
                normalize_event_name(name).replace(".", "_"): {"column": name, "type": kind}
                for name, kind in roles["properties"].items()
            }
        }
    # A column already named as the contract names it needs no line.
    return {
        key: value
        for key, value in columns.items()
        if key == "event_id" or (value is not None and value != key)
    }


def _event_counts(profile: Profile, con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    name = profile.roles["event_name"]
    if name is None:
        return [(constant_event_name(profile.source), profile.rows)]
    column = profile.sql(name)
    sql = f"select cast({column} as varchar), count(*) from sample where {column} is not null"  # noqa: S608
    counts: dict[str, int] = {}
    for raw, count in con.execute(sql + " group by 1 order by 2 desc, 1").fetchall():
        normalized = normalize_event_name(raw)
        if normalized:
            counts[normalized] = counts.get(normalized, 0) + count
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _aha_threshold(profile: Profile, con: duckdb.DuckDBPyConnection, event: str) -> int:
    """The median entity's count of `event` in its first AHA_WINDOW_DAYS days (at least 1)."""
    entity, is_event = profile.sql(profile.roles["entity_column"]), _is_event_sql(profile)
    at, window = _timestamp_sql(profile), f"interval {AHA_WINDOW_DAYS} day"
    sql = f"""
        with events as (
            select {entity} as entity_id, {at} as event_at, {is_event} as is_event
            from sample where {entity} is not null
        ),
        firsts as (select entity_id, min(event_at) as first_at from events group by 1)
        select median(n) from (
            select firsts.entity_id, count(*) filter (
                where events.is_event and events.event_at < firsts.first_at + {window}
            ) as n
            from firsts join events using (entity_id)
            group by 1
        )
    """  # noqa: S608 (quoted identifiers, see ident; the event name is bound)
    found = con.execute(sql, _event_parameter(is_event, event)).fetchone()[0]
    return max(1, round(float(found or 1)))


def _churn_thresholds(profile: Profile, con: duckdb.DuckDBPyConnection) -> tuple[float, float]:
    """warn and breach for the proposed churn guardrail: the 75th and 95th percentiles of
    the data's own weekly churn (the share of a week's active entities not active the
    next week), so a new deployment starts with about one warning week in four."""
    entity, at = profile.sql(profile.roles["entity_column"]), _timestamp_sql(profile)
    sql = f"""
        with weeks as (
            select distinct {entity} as entity_id, date_trunc('week', {at}) as week
            from sample where {entity} is not null
        ),
        churn as (
            select
                this.week,
                count(*) filter (where next.entity_id is null) / count(*) as churn_rate
            from weeks as this
            left join weeks as next
                on this.entity_id = next.entity_id and next.week = this.week + interval 7 day
            where this.week < (select max(week) from weeks)
            group by 1
        )
        select quantile_cont(churn_rate, 0.75), quantile_cont(churn_rate, 0.95) from churn
    """  # noqa: S608 (quoted identifiers, see ident)
    warn, breach = con.execute(sql).fetchone()
    if warn is None:  # a single week: nothing to learn from
        return 0.5, 0.8
    warn = round(min(float(warn), 0.98), 2)
    return warn, round(min(max(float(breach), warn + 0.01), 0.99), 2)


def _gate_fit(
    profile: Profile, con: duckdb.DuckDBPyConnection, event: str
) -> tuple[int, list[str]] | None:
    """Judge the history by the gate's own robust bands (the same SQL, on the sample's
    weekly North Star and daily volume, northstar/validation/frames.py). When a past move
    lies outside them, history is history: propose the `robust_mads` that accepts it, and
    say which periods asked for it. None when the defaults accept the whole history."""
    from northstar.validation import frames
    from northstar.validation.settings import ValidationSettings

    defaults = ValidationSettings()
    at, is_event = _timestamp_sql(profile), _is_event_sql(profile)
    con.execute("create schema if not exists marts")
    weekly = f"""
        create or replace table marts.fct_metric_values as
        with counted as (
            select date_trunc('week', {at}) as week, count(*) filter (where {is_event}) as n
            from sample group by 1
        ),
        spine as (
            select cast(week as date) as week
            from range((select min(week) from counted), (select max(week) from counted)
                + interval 7 day, interval 7 day) as t(week)
        )
        select
            'north_star' as metric_name, 'week' as grain, spine.week as period_start,
            'all' as segment_name, 'all' as segment_value,
            cast(coalesce(counted.n, 0) as double) as value,
            spine.week < (select max(week) from spine) as is_complete_period
        from spine left join counted on spine.week = cast(counted.week as date)
    """  # noqa: S608 (quoted identifiers, see ident; the event name is bound)
    con.execute(weekly, _event_parameter(is_event, event))
    daily = f"select cast({at} as date) as event_date, count(*) as accepted_rows from sample"  # noqa: S608
    con.execute(f"create or replace table marts.fct_event_quality_daily as {daily} group by 1")
    shared = {"history": defaults.robust_history, "min_history": defaults.robust_min_history}
    changes = con.execute(
        frames.NORTH_STAR_CHANGES_SQL,
        {
            **shared,
            "metric_name": "north_star",
            "warmup_periods": defaults.nsm_change_warmup_periods,
        },
    ).df()
    volume = con.execute(
        frames.EVENT_VOLUME_SQL, {**shared, "history_weeks": defaults.volume_history_weeks}
    ).df()
    outside = []
    for row in changes[changes.change_robust_z.abs() > defaults.robust_mads].itertuples():
        outside.append(
            (
                abs(row.change_robust_z),
                f"the week of {row.period_start:%Y-%m-%d} moved "
                f"{row.change_vs_previous_complete:+.0%} ({row.change_robust_z:+.1f})",
            )
        )
    for row in volume[volume.volume_robust_z.abs() > defaults.robust_mads].itertuples():
        outside.append(
            (
                abs(row.volume_robust_z),
                f"{row.event_date:%Y-%m-%d} had {row.accepted_rows:,.0f} "
                f"events ({row.volume_robust_z:+.1f})",
            )
        )
    if not outside:
        return None
    outside.sort(reverse=True)
    return math.ceil(outside[0][0]), [text for _, text in outside]


def propose(
    profile: Profile, con: duckdb.DuckDBPyConnection, *, raw_path: str, reader: dict
) -> Proposal:
    """The vars a newcomer needs to build their export, spec proposed from the data."""
    notes = []
    at = _timestamp_sql(profile)
    dates = f"select cast(min({at}) as date), max({at}) from sample"  # noqa: S608
    first_day, last_moment = con.execute(dates).fetchone()
    if first_day is None:
        raise ValueError(f"no value of {profile.roles['occurred_at']['column']} reads as a time")
    profile.first_day, profile.last_moment = str(first_day), str(last_moment)
    profile.event_counts = _event_counts(profile, con)
    declared = profile.event_counts[:MAX_EVENTS]
    if len(profile.event_counts) > MAX_EVENTS:
        notes.append(
            f"{len(profile.event_counts)} event names: the {MAX_EVENTS} most frequent are "
            "declared; the others will be rejected as unknown_event_name until you declare them"
        )
    if profile.rows >= SAMPLE_ROWS:
        notes.append(
            f"profiled the first {SAMPLE_ROWS:,} rows: event names and dates beyond them are "
            "not seen"
        )
    top = declared[0][0]
    entity = profile.roles["entity"]
    properties = {
        normalize_event_name(name).replace(".", "_"): kind
        for name, kind in profile.roles["properties"].items()
    }
    events = {name: ({"properties": properties} if properties else {}) for name, _ in declared}
    segments = [
        {"name": attribute, "source": "first_event"}
        for attribute in ("platform", "country")
        if profile.roles[attribute]
    ]
    threshold = _aha_threshold(profile, con, top)
    spec: dict[str, Any] = {
        "entity": entity,
        "grains": ["day", "week", "month"],
    }
    if segments:
        spec["segments"] = segments
    spec["events"] = events
    spec["aha"] = {"events": [top], "threshold": threshold, "window_days": AHA_WINDOW_DAYS}
    spec["north_star"] = _metric(
        f"{top}_count",
        f"{top.replace('_', ' ').capitalize()} events",
        "events",
        "count",
        events=[top],
    )
    plural = f"{entity}s"
    spec["inputs"] = [
        _metric(f"new_{plural}", f"New {plural}", plural, "new_entities"),
        _metric(
            f"{entity}_activation_rate",
            f"{entity.capitalize()}s reaching the aha moment within {AHA_WINDOW_DAYS} days",
            "ratio",
            "activation",
            within_days=AHA_WINDOW_DAYS,
        ),
        _metric(
            f"{entity}_resurrection_rate", "Dormant entities active again", "ratio", "resurrection"
        ),
    ]
    warn, breach = _churn_thresholds(profile, con)
    spec["guardrails"] = [
        _metric(
            f"{entity}_churn_rate",
            f"Share of last period's active {plural} not active now",
            "ratio",
            "churn",
            direction="lower_is_better",
            warn=warn,
            breach=breach,
        )
    ]
    spec["outputs"] = []
    notes.append(
        f"North Star proposed: the count of {top} ({declared[0][1]:,} of {profile.rows:,} rows); "
        "a North Star should measure value your customers get: change it if another event "
        "(or a property's sum) says that better"
    )
    notes.append(
        f"aha proposed: {threshold}+ {top} within {AHA_WINDOW_DAYS} days (the median "
        f"{entity}); after a build, marts.rpt_aha_discovery measures every threshold"
    )
    notes.append(
        f"churn guardrail proposed: warn {warn:g}, breach {breach:g} (the 75th and 95th "
        "percentiles of the data's weekly churn); owners are `unassigned`: set yours"
    )
    variables: dict[str, Any] = {"northstar__raw_events_path": raw_path}
    if reader:
        variables["northstar__raw_events_reader"] = reader
    # No accounts or users file: '' reads the optional source table, absent here, so those
    # staging models are empty and segments come from the events (never the demo's files).
    variables["northstar__raw_accounts_path"] = ""
    variables["northstar__raw_users_path"] = ""
    variables["northstar__raw_event_columns"] = _mapping(profile)
    variables["northstar__start_date"] = str(first_day)
    variables["northstar__as_of"] = last_moment.isoformat(timespec="seconds") + "Z"
    fit = _gate_fit(profile, con, top)
    if fit is not None:
        mads, periods = fit
        variables["northstar__validation"] = {"robust_mads": mads}
        shown = "; ".join(periods[:3]) + (
            f"; and {len(periods) - 3} more" if len(periods) > 3 else ""
        )
        notes.append(
            f"the gate's bands, learned from the data's own past, flag {len(periods)} "
            f"period(s) of this history ({shown}; in robust standard deviations): if these "
            f"are real (a campaign, a season, a launch), keep robust_mads: {mads}, proposed; "
            "else look at those days in the export"
        )
    variables["northstar"] = spec
    return Proposal(variables=variables, notes=notes)


def _metric(name: str, label: str, unit: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "owner": "unassigned",
        "unit": unit,
        "definition_version": 1,
        "kind": kind,
        **extra,
    }
