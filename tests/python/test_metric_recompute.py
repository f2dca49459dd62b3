"""The demo spec's numbers are right: recomputed from raw rows by an independent route.

A small deterministic fixture (written below, eight ISO weeks of eight teams) is built
with the demo spec (dbt_project.yml vars.northstar) in one `dbt build`, unit tests
included. Then plain Python recomputes, from the same CSV rows and the spec, the North
Star per week and segment, the inputs, the guardrails with their statuses, the p95
latency (statistics.quantiles, linear interpolation) and the aha moments, and compares
them with fct_metric_values and fct_aha_moments row by row.

The fixture plants what is easy to get wrong: a week in which no team is active (every
rate over active teams has a zero denominator), teams first seen mid-week, a team
dormant for three weeks and back, the aha moment's 100th message exactly at the end of
its 14-day window and one second after it, a team created on Sunday 23:59:59 whose first
message comes at Monday 00:00:00 (MIDNIGHT_MESSAGE: one second apart, different UTC days and
ISO weeks, so the day and week bucketing of raw timestamps is compared with the oracle
too), a team missing from the accounts file.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import statistics
from dataclasses import dataclass
from pathlib import Path

import pytest
from metric_checks import (
    PROJECT_DIR,
    VALUE_COLUMNS,
    Build,
    aha_moments,
    diff_aha,
    diff_values,
    metric_values,
    run_dbt,
)
from metric_oracle import Oracle, read_attributes, read_events
from spec_yaml import raw_spec

pytestmark = pytest.mark.dbt

WEEK0 = dt.datetime(2024, 3, 4)  # a Monday
QUIET_WEEK = 4  # 2024-04-01: no team is active (only server-side events happen)
LAST_EVENT = dt.datetime(2024, 4, 25, 12, 0, 0)  # Thursday of week 7: the reference time


def at(week: int, day: int = 0, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return WEEK0 + dt.timedelta(weeks=week, days=day, hours=hour, minutes=minute, seconds=second)


def week_of(week: int) -> dt.date:
    return at(week).date()


# --- the fixture ----------------------------------------------------------------------------

# team: (plan, country, platform, first seen, users, {week: messages})
# plan/country None: the team is not in accounts.csv; '' : the attribute is blank.
TEAMS: dict[str, tuple] = {
    "A1": ("pro", "US", "web", at(0, 2, 10), 4, {0: 60, 1: 60, 2: 25, 3: 20, 5: 15, 6: 20, 7: 10}),
    "A2": ("free", "DE", "ios", at(1, 3, 15), 2, {1: 8, 2: 6, 6: 5, 7: 4}),  # dormant weeks 3-5
    "A3": ("business", "BR", "web", at(0, 0, 9), 5, {0: 99, 2: 20, 3: 15, 5: 12, 6: 10, 7: 8}),
    "A4": ("pro", "US", "android", at(0, 1, 11), 3, {0: 99, 2: 10, 3: 5}),  # churns after week 3
    "A5": (None, None, "web", at(2, 6, 23, 59, 59), 2, {3: 6, 5: 4, 6: 4, 7: 3}),
    "A6": ("", "DE", "ios", at(5, 2, 14), 3, {5: 70, 6: 60, 7: 20}),
    "A7": ("pro", "BR", "web", at(0, 4, 16), 2, {0: 5, 1: 7}),
    "A8": ("free", "US", "android", at(3, 1, 9), 2, {3: 10, 5: 8, 6: 6}),
}
# The aha boundary (threshold 100 within 14 days): A3 and A4 send 99 messages in week 0,
# nothing but other activity in week 1, and their 100th message exactly at first seen +
# 14 days (A3: reached) or one second later (A4: not reached). Later messages follow it.
HUNDREDTH = {"A3": at(2, 0, 9), "A4": at(2, 1, 11, 0, 1)}
# The day/week boundary: A5 is created on Sunday 23:59:59 (TEAMS) and sends its first
# message one second later, on Monday 00:00:00 (its other week-3 messages come later).
MIDNIGHT_MESSAGE = ("A5", at(3))

# Server-side and quality events per week: (team, event, properties)
PLANTED: dict[int, list[tuple[str, str, dict]]] = {
    0: [("A7", "subscription_started", {"plan": "pro", "mrr": 50})],
    1: [
        ("A1", "support_ticket_created", {"severity": "low"}),
        ("A1", "nps_submitted", {"score": 9}),
        ("A3", "nps_submitted", {"score": 8}),
        ("A1", "subscription_started", {"plan": "pro", "mrr": 120}),
    ],
    2: [
        ("A2", "support_ticket_created", {"severity": "high"}),
        ("A4", "support_ticket_created", {"severity": "low"}),
        ("A1", "notification_unsubscribed", {}),
        ("A3", "subscription_started", {"plan": "business", "mrr": 300}),
        ("A7", "subscription_cancelled", {"plan": "pro", "mrr": 50}),
    ],
    3: [
        ("A1", "nps_submitted", {"score": 7}),
        ("A8", "nps_submitted", {"score": 6}),
        ("A3", "message_reported", {}),
    ],
    QUIET_WEEK: [
        ("A1", "support_ticket_created", {"severity": "high"}),  # over zero active teams
        ("A3", "nps_submitted", {"score": 9}),
        ("A8", "notification_unsubscribed", {}),
    ],
    5: [
        ("A6", "support_ticket_created", {"severity": "low"}),
        ("A5", "notification_unsubscribed", {}),
        ("A6", "subscription_started", {"plan": "pro", "mrr": 90}),
    ],
    6: [("A1", "nps_submitted", {"score": 5}), ("A6", "nps_submitted", {"score": 6})],
    7: [
        ("A3", "support_ticket_created", {"severity": "low"}),
        ("A8", "support_ticket_created", {"severity": "low"}),
    ],
}
# Latency incidents: (week, latency_ms, status) requests on top of the normal traffic.
INCIDENTS = [(2, 700, 200), (2, 720, 200), (3, 300, 500), (6, 1200, 200), (6, 1300, 503)]


class Writer:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.rows: list[dict[str, str]] = []

    def add(self, team: str, name: str, when: dt.datetime, props: dict | None = None) -> None:
        assert when <= LAST_EVENT, (team, name, when)
        self.rows.append(
            {
                "occurred_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "user_id": f"{team}-u{self.rng.randint(1, TEAMS[team][4])}",
                "account_id": team,
                "event_name": name,
                "properties": json.dumps(props or {}, sort_keys=True),
                "platform": TEAMS[team][2],
            }
        )

    def moment(self, week: int, not_before: dt.datetime) -> dt.datetime:
        low = max(at(week), not_before)
        high = min(at(week + 1) - dt.timedelta(seconds=1), LAST_EVENT)
        return low + dt.timedelta(seconds=self.rng.randint(0, int((high - low).total_seconds())))


def write_fixture(directory: Path) -> None:
    w = Writer(seed=20240304)
    for team, (_, _, _, first, _, weeks) in TEAMS.items():
        w.add(team, "account_created", first)
        w.add(team, "user_signed_up", first)
        for week in range(8):
            if week == QUIET_WEEK or at(week + 1) <= first:
                continue
            not_before = first
            if team in HUNDREDTH and week >= 2:
                not_before = HUNDREDTH[team] + dt.timedelta(seconds=1)
            for _ in range(weeks.get(week, 0)):
                channel = {"channel_type": w.rng.choice(["public", "private"])}
                w.add(team, "message_sent", w.moment(week, not_before), channel)
            if week in weeks or (team in HUNDREDTH and week == 1):
                for _ in range(w.rng.randint(1, 2)):
                    w.add(team, "search_performed", w.moment(week, first))
                if w.rng.random() < 0.5:
                    w.add(team, "file_shared", w.moment(week, first), {"size_bytes": 2048})
                for _ in range(3):
                    props = {"latency_ms": w.rng.randint(80, 450), "status": 200}
                    w.add(team, "api_request", w.moment(week, first), props)
    for team, when in HUNDREDTH.items():
        w.add(team, "message_sent", when, {"channel_type": "public"})
    for week, events in PLANTED.items():
        for team, name, props in events:
            w.add(team, name, w.moment(week, TEAMS[team][3]), props)
    for week, latency, status in INCIDENTS:
        w.add(
            "A1", "api_request", w.moment(week, at(week)), {"latency_ms": latency, "status": status}
        )
    team, when = MIDNIGHT_MESSAGE
    w.add(team, "message_sent", when, {"channel_type": "public"})
    # server-side traffic in the quiet week, and the last event: the reference time
    for latency in (150, 240, 310, 95, 800):
        w.add(
            "A3",
            "api_request",
            w.moment(QUIET_WEEK, at(QUIET_WEEK)),
            {"latency_ms": latency, "status": 200},
        )
    w.add("A1", "message_sent", LAST_EVENT, {"channel_type": "public"})

    directory.mkdir(parents=True, exist_ok=True)
    columns = ["event_id", "occurred_at", "received_at", "user_id", "account_id", "event_name"]
    columns += ["properties", "session_id", "platform", "country"]
    with (directory / "events.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for index, row in enumerate(sorted(w.rows, key=lambda r: r["occurred_at"]), start=1):
            writer.writerow(
                {
                    **row,
                    "event_id": f"e{index:05d}",
                    "received_at": row["occurred_at"],
                    "session_id": "",
                    "country": "",
                }
            )
    with (directory / "accounts.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["account_id", "created_at", "plan", "country", "industry"])
        for team, (plan, country, _, first, _, _) in TEAMS.items():
            if plan is not None:
                writer.writerow([team, first.strftime("%Y-%m-%dT%H:%M:%SZ"), plan, country, "tech"])


# The demo spec with targets in the fixture's weeks (the demo's own lie in 2026), so every
# kind of target is recomputed on every row: fixed totals in the short form (new_teams)
# and the list form (messages_sent by week), a fixed segment target (plan=pro), time-bound
# paths for a total at week (activation) and month grain, for a segment at day grain
# (platform=web: before its baseline, on the line, past its deadline) and for a
# lower-is-better guardrail's segment (churn, plan=pro), and a growth rate, which every
# segment row applies to its own previous value (resurrection).
def recompute_spec() -> dict:
    spec = raw_spec(PROJECT_DIR)
    spec["north_star"]["targets"] = [
        {"grain": "week", "value": 150},
        {"grain": "week", "segment": {"plan": "pro"}, "value": 60},
        {
            "grain": "month",
            "baseline": {"value": 300, "date": "2024-03-01"},
            "goal": {"value": 900, "by": "2024-04-30"},
        },
        {
            "grain": "day",
            "segment": {"platform": "web"},
            "baseline": {"value": 5, "date": "2024-03-10"},
            "goal": {"value": 20, "by": "2024-04-10"},
        },
    ]
    spec["inputs"][0]["targets"] = {"week": 2, "month": 5}
    spec["inputs"][1]["targets"] = [
        {
            "baseline": {"value": 0.3, "date": "2024-03-10"},
            "goal": {"value": 0.9, "by": "2024-04-14"},
        }
    ]
    spec["inputs"][3]["target_growth_rate"] = 0.1
    assert spec["guardrails"][2]["name"] == "churn_rate"
    spec["guardrails"][2]["targets"] = [
        {
            "segment": {"plan": "pro"},
            "baseline": {"value": 0.5, "date": "2024-03-03"},
            "goal": {"value": 0.2, "by": "2024-04-28"},
        }
    ]
    return spec


def fixture_vars(directory: Path) -> dict[str, str]:
    """The dbt vars that point the project at the fixture written to `directory`."""
    return {
        "northstar__raw_events_path": str(directory / "events.csv"),
        "northstar__raw_accounts_path": str(directory / "accounts.csv"),
        "northstar__raw_users_path": str(directory / "users.csv"),  # absent
    }


# --- one build ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Demo:
    build: Build
    oracle: Oracle

    def values(self):
        return metric_values(self.build)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    workdir = tmp_path_factory.mktemp("recompute")
    write_fixture(workdir / "fixture")
    # the demo spec as dbt_project.yml declares it, but for its targets; unit tests included
    spec = recompute_spec()
    variables = {**fixture_vars(workdir / "fixture"), "northstar": spec}
    build = run_dbt(["build"], workdir, json.dumps(variables))
    assert build.result.returncode == 0, build.log
    oracle = Oracle(
        spec,
        read_events(workdir / "fixture" / "events.csv"),
        read_attributes(workdir / "fixture" / "accounts.csv", "account_id"),
    )
    return Demo(build=build, oracle=oracle)


def weekly(metrics: set[str]):
    return lambda key: key[0] in metrics and key[1] == "week"


def test_build_passed_every_test_including_unit_tests(demo: Demo) -> None:
    results = demo.build.run_results()
    kinds = {r["unique_id"].split(".")[0] for r in results}
    assert {"model", "test", "unit_test"} <= kinds
    failed = [r["unique_id"] for r in results if r["status"] not in ("pass", "success", "no-op")]
    assert not failed, failed


def test_north_star_per_week_and_segment(demo: Demo) -> None:
    expected = demo.oracle.values()
    problems = diff_values(expected, demo.values(), keep=weekly({"messages_sent"}))
    assert not problems, "\n".join(problems[:30])
    segments = {key[3:] for key in expected if key[0] == "messages_sent"}
    assert {("plan", "unknown"), ("country", "unknown"), ("platform", "android")} <= segments


def test_inputs_activation_retention_resurrection(demo: Demo) -> None:
    inputs = {"activation_rate", "four_period_retention", "resurrection_rate"}
    problems = diff_values(demo.oracle.values(), demo.values(), keep=weekly(inputs))
    assert not problems, "\n".join(problems[:30])


def test_guardrails_with_their_statuses(demo: Demo) -> None:
    guardrails = {"support_tickets_per_active_team", "churn_rate"}
    expected = demo.oracle.values()
    problems = diff_values(expected, demo.values(), keep=weekly(guardrails))
    assert not problems, "\n".join(problems[:30])
    statuses = {v.status for k, v in expected.items() if k[0] in guardrails and k[1] == "week"}
    assert statuses == {"ok", "warn", "breach", "none"}, "the fixture must reach every status"


def test_p95_latency_is_linear_interpolation(demo: Demo) -> None:
    """quantile_cont == statistics.quantiles(method='inclusive'), per week and segment."""
    latencies: dict[tuple[dt.date, str, str], list[float]] = {}
    for event in read_events(demo.build.workdir / "fixture" / "events.csv"):
        if event.event_name != "api_request":
            continue
        week = event.occurred_at.date() - dt.timedelta(days=event.occurred_at.weekday())
        for segment in demo.oracle.segments:
            if event.account_id in demo.oracle.segments[segment]:
                latencies.setdefault((week, *segment), []).append(event.properties["latency_ms"])
    actual = demo.values()
    compared = 0
    for (week, name, value), values in latencies.items():
        row = actual[("p95_api_latency_ms", "week", week, name, value)]
        p95 = (
            statistics.quantiles(values, n=100, method="inclusive")[94]
            if len(values) > 1
            else values[0]
        )
        assert row[2] == pytest.approx(p95, rel=1e-9), (week, name, value, sorted(values))
        assert row[1] == len(values)  # denominator: the observations
        compared += 1
    assert compared >= 30
    quiet = actual[("p95_api_latency_ms", "week", week_of(QUIET_WEEK), "all", "all")]
    assert quiet[2] == pytest.approx(
        statistics.quantiles([95, 150, 240, 310, 800], n=100, method="inclusive")[94]
    )


def test_aha_moments_row_by_row(demo: Demo) -> None:
    problems = diff_aha(demo.oracle.aha, aha_moments(demo.build))
    assert not problems, "\n".join(problems)
    moments = aha_moments(demo.build)
    assert moments["A3"][1:] == (HUNDREDTH["A3"], True, 14, 100)  # exactly at +14 days
    assert moments["A4"][1:] == (None, False, None, 99)  # one second after
    assert moments["A1"][2] and moments["A6"][2] and not moments["A2"][2]


def test_every_metric_at_every_grain_and_segment(demo: Demo) -> None:
    problems = diff_values(demo.oracle.values(), demo.values())
    assert not problems, "\n".join(problems[:30])


def test_zero_denominator_week_is_unknown_not_an_error(demo: Demo) -> None:
    actual = demo.values()
    quiet, after = week_of(QUIET_WEEK), week_of(QUIET_WEEK + 1)
    tickets = actual[("support_tickets_per_active_team", "week", quiet, "all", "all")]
    assert tickets[:3] == (1.0, 0.0, None) and tickets[7] == "none"
    churn = actual[("churn_rate", "week", quiet, "all", "all")]
    assert churn[2] == 1.0 and churn[7] == "breach"  # every active team went quiet
    assert actual[("churn_rate", "week", after, "all", "all")][2:3] == (None,)
    median = actual[("messages_per_active_team", "week", quiet, "all", "all")]
    assert median[2] is None
    assert actual[("messages_sent", "week", quiet, "all", "all")][2] == 0.0  # zero-filled


def test_lifecycle_of_the_planted_teams(demo: Demo) -> None:
    rows = demo.build.query(
        "select grain, entity_id, period_start, lifecycle_state "
        "from intermediate.int_entity_periods "
        "where grain in ('day', 'week') and entity_id in ('A2', 'A5')"
    )
    states = {(entity, period): state for grain, entity, period, state in rows if grain == "week"}
    days = {(entity, period): state for grain, entity, period, state in rows if grain == "day"}
    assert states[("A2", week_of(1))] == "new"  # first seen on a Thursday
    assert states[("A2", week_of(2))] == "returning"
    assert ("A2", week_of(3)) not in states  # dormant: no row
    assert states[("A2", week_of(6))] == "resurrecting"
    # created on Sunday 23:59:59 without activity, first message Monday 00:00:00: seen
    # before and inactive last week, so PostHog's definitions call it resurrecting
    assert states[("A5", week_of(2))] is None
    assert states[("A5", week_of(3))] == "resurrecting"
    # ... and the same one second apart at day grain: Sunday only has its creation events
    team, midnight = MIDNIGHT_MESSAGE
    created = TEAMS[team][3]
    assert (created.weekday(), created.time()) == (6, dt.time(23, 59, 59))
    messages = [
        e.occurred_at for e in demo.oracle.by_entity[team] if e.event_name == "message_sent"
    ]
    assert min(messages) == midnight == created + dt.timedelta(seconds=1)
    assert days[(team, created.date())] is None
    assert days[(team, midnight.date())] == "resurrecting"


def test_a_segment_missing_from_the_entity_table_fails_naming_it(demo: Demo) -> None:
    """`source: entity` segments are columns of the accounts table, known only at run time."""
    spec = raw_spec(PROJECT_DIR)
    spec["segments"] = [*spec["segments"], {"name": "plna", "source": "entity"}]
    dbt_vars = {
        "northstar": spec,
        "northstar__raw_events_path": str(demo.build.workdir / "fixture" / "events.csv"),
        "northstar__raw_accounts_path": str(demo.build.workdir / "fixture" / "accounts.csv"),
    }
    run = run_dbt(["run", "--select", "int_entities"], demo.build.workdir, json.dumps(dbt_vars))
    assert run.result.returncode != 0
    assert "northstar.segments: unknown segment: stg_accounts has no column plna" in run.log


def test_targets_land_on_their_own_rows_on_a_straight_path(demo: Demo) -> None:
    """recompute_spec()'s targets, hand-computed: the oracle agrees on every row
    (test_every_metric_at_every_grain_and_segment); these pin the arithmetic itself."""
    actual = demo.values()
    columns = [name.strip() for name in VALUE_COLUMNS.split(",")]

    def row(metric: str, grain: str, start: dt.date, segment=("all", "all")) -> dict:
        return dict(zip(columns, actual[(metric, grain, start, *segment)], strict=True))

    # month: 300 on 2024-03-01 -> 900 by 2024-04-30, read on the month's last day
    march = row("messages_sent", "month", dt.date(2024, 3, 1))
    assert (march["target_kind"], march["target"]) == ("time_bound", 300 + 600 * 30 / 60)
    assert row("messages_sent", "month", dt.date(2024, 4, 1))["target"] == 900  # the goal
    # day, platform=web only: 5 on 2024-03-10 -> 20 by 2024-04-10 (31 days)
    web = ("platform", "web")
    assert row("messages_sent", "day", dt.date(2024, 3, 9), web)["target"] is None
    assert row("messages_sent", "day", dt.date(2024, 3, 20), web)["target"] == pytest.approx(
        5 + 15 * 10 / 31
    )
    assert row("messages_sent", "day", dt.date(2024, 3, 20), ("platform", "ios"))["target"] is None
    assert row("messages_sent", "day", dt.date(2024, 3, 20))["target"] is None
    # week: the total's 150 and plan=pro's own 60; plan=free inherits neither
    week = week_of(1)
    assert row("messages_sent", "week", week)["target"] == 150
    assert row("messages_sent", "week", week, ("plan", "pro"))["target"] == 60
    free = row("messages_sent", "week", week, ("plan", "free"))
    assert (free["target"], free["target_kind"], free["is_on_pace"]) == (None, None, None)
    # churn (lower is better), plan=pro: 0.5 on 2024-03-03 -> 0.2 by 2024-04-28 (56 days)
    churn = row("churn_rate", "week", week_of(1), ("plan", "pro"))  # last day 2024-03-17
    assert churn["target"] == pytest.approx(0.5 - 0.3 * 14 / 56)
    assert row("churn_rate", "week", week_of(1))["target"] is None
    # on pace both ways, over the weeks the fixture has
    paced = {
        (metric, v[columns.index("is_on_pace")])
        for (metric, grain, _, *segment), v in actual.items()
        if grain == "week" and v[columns.index("target")] is not None
    }
    assert {("messages_sent", True), ("messages_sent", False)} <= paced
    assert {("churn_rate", True), ("churn_rate", False)} & paced
