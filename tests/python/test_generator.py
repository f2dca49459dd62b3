"""The demo generator: deterministic, complete, defective where it should be, and honest.

The planted truths are re-measured here from the raw Parquet files with a small independent
parser (not with the generator's own truth queries), so a generator that stops planting them,
or a summary that stops telling the truth, fails.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from northstar.demo import generator
from northstar.demo.generator import append_days, generate_demo

PROJECT = Path(__file__).resolve().parents[2]
START = date(2026, 3, 2)
END_EXCLUSIVE = "2026-10-01"  # default range: 213 days from 2026-03-02

EVENT_COLUMNS = [
    "event_id",
    "occurred_at",
    "received_at",
    "user_id",
    "account_id",
    "event_name",
    "properties",
    "session_id",
    "platform",
    "country",
]
CORE = ("message_sent", "file_shared", "search_performed", "integration_added", "invite_sent")
PLACEHOLDERS = "('', 'null', 'undefined')"

# A minimal stand-in for staging: parse every occurred_at format, normalise names, flag rows a
# staging layer must reject, and mark repeated deliveries of an event_id.
PARSED = """
create or replace table parsed as
with raw as (
    select *, row_number() over () as raw_row
    from read_parquet('{events}/*.parquet', filename = true)
),

typed as (
    select
        *,
        case
            when regexp_full_match(occurred_at, '\\d{{13}}')
                then epoch_ms(occurred_at::bigint)::timestamptz
            when regexp_full_match(occurred_at, '\\d{{1,10}}')
                then to_timestamp(occurred_at::bigint)
            else try_cast(occurred_at as timestamptz)
        end as ts,
        try_cast(received_at as timestamptz) as received_ts,
        lower(regexp_replace(trim(event_name), '\\s+', '_', 'g')) as name
    from raw
)

select
    *,
    case
        when event_id is null or trim(event_id) in {placeholders} then 'missing_event_id'
        when length(event_id) > 200 then 'oversized_event_id'
        when account_id is null or trim(account_id) in {placeholders} then 'missing_account_id'
        when user_id is null or trim(user_id) in {placeholders} then 'missing_user_id'
        when ts is null then 'unparseable_occurred_at'
        when ts >= timestamptz '{end}' + interval 1 day then 'future_occurred_at'
        when ts < timestamptz '2020-01-01' then 'before_start_occurred_at'
        when not coalesce(
            case when json_valid(properties) then json_type(properties) = 'OBJECT' end, false
        ) then 'properties_not_object'
        when name not in {taxonomy} then 'unknown_event_name'
        when properties like '%"NaN"%' then 'nan_property'
    end as reject_reason
from typed
"""


def _taxonomy() -> tuple[str, ...]:
    spec = yaml.safe_load((PROJECT / "dbt_project.yml").read_text())
    return tuple(spec["vars"]["northstar"]["events"])


def _connect(out: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("set timezone = 'UTC'")
    con.execute(
        PARSED.format(
            events=out / "events",
            taxonomy=str(_taxonomy()),
            placeholders=PLACEHOLDERS,
            end=END_EXCLUSIVE,
        )
    )
    con.execute(
        """
        create or replace table clean as
        select * exclude (delivery)
        from (
            select *, row_number() over (partition by event_id order by received_ts, raw_row)
                as delivery
            from parsed
            where reject_reason is null
        )
        where delivery = 1
        """
    )
    return con


def _digest(out: Path) -> dict[str, str]:
    return {
        str(path.relative_to(out)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A data set big enough for the planted signals to stand out of the noise."""
    out = tmp_path_factory.mktemp("gen") / "raw"
    result = generate_demo(out, accounts=300, days=213, seed=7)
    return out, result, _connect(out)


def test_same_seed_gives_identical_files_and_other_seed_does_not(tmp_path):
    first = generate_demo(tmp_path / "a", accounts=30, days=60, seed=3, signup_days=60)
    generate_demo(tmp_path / "b", accounts=30, days=60, seed=3, signup_days=60)
    generate_demo(tmp_path / "c", accounts=30, days=60, seed=4, signup_days=60)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert first.events_total > 0
    other = _digest(tmp_path / "c")
    # the first day may be empty in both (no team signed up yet): compare files with rows
    assert all(
        other[name] != digest
        for name, digest in _digest(tmp_path / "a").items()
        if first.files.get(name, 1) > 0
    )


def test_appending_days_gives_the_files_of_the_longer_range_and_keeps_the_old_ones(tmp_path):
    whole = generate_demo(tmp_path / "whole", accounts=40, days=60, seed=3, signup_days=60)
    grown = tmp_path / "grown"
    # chunk sizes differ on purpose: the files must not depend on them
    generate_demo(grown, accounts=40, days=45, seed=3, signup_days=60, chunk_accounts=7)
    first = _digest(grown)
    inodes = {p.name: p.stat().st_ino for p in (grown / "events").iterdir()}
    append_days(grown, 10)
    result = append_days(grown, 5, chunk_accounts=13)
    assert _digest(grown) == _digest(tmp_path / "whole")
    assert result.files == whole.files
    assert result.appended_days == 5
    # the event files of days 1..45 are the very same files, untouched
    assert {n: d for n, d in first.items() if n.startswith("events/")} == {
        n: d for n, d in _digest(grown).items() if n in first and n.startswith("events/")
    }
    assert {p.name: p.stat().st_ino for p in (grown / "events").iterdir() if p.name in inodes} == (
        inodes
    )
    manifest = json.loads((grown / generator.MANIFEST).read_text())
    assert manifest["as_of"] == "2026-05-01T00:00:00Z"
    assert manifest["params"]["days"] == 60
    assert len([name for name in manifest["files"] if name.startswith("events/")]) == 60


def test_append_refuses_a_directory_without_a_data_set(tmp_path):
    with pytest.raises(FileNotFoundError, match="no generated demo data set"):
        append_days(tmp_path / "none", 1)


def test_each_file_holds_what_landed_that_day_and_deliveries_straddle_days(demo):
    _out, result, con = demo
    per_file = con.execute(
        """
        select
            count(*) filter (where received_ts is not null
                and strftime(received_ts, '%Y-%m-%d') || '.parquet' <> parse_filename(filename)),
            count(distinct filename)
        from parsed
        """
    ).fetchone()
    assert per_file == (0, 213)
    # a duplicate arriving in a later file than its first copy, some beyond a 3-day lookback
    straddling = con.execute(
        """
        select
            count(*) filter (where days_apart >= 1),
            count(*) filter (where days_apart > 3)
        from (
            select
                date_diff('day', min(received_ts::date), max(received_ts::date)) as days_apart
            from parsed
            where reject_reason is null
            group by event_id
            having count(*) > 1
        )
        """
    ).fetchone()
    assert straddling[0] > 0 and straddling[1] > 0, straddling
    # late arrivals landing days after they occurred, some beyond a 3-day lookback
    late = con.execute(
        """
        select
            count(*) filter (where received_ts::date > ts::date),
            count(*) filter (where date_diff('day', ts::date, received_ts::date) > 3)
        from clean
        """
    ).fetchone()
    assert late[0] > late[1] > 0, late
    lags = result.delivery_lag_days
    assert sum(n for lag, n in lags["late_arrivals"].items() if int(lag) > 3) == late[1]
    # nothing landed after the end: what is still in flight lands in appended days
    (after_end,) = con.execute(
        f"select count(*) from parsed where received_ts >= timestamptz '{END_EXCLUSIVE}'"
    ).fetchone()
    assert after_end == 0
    assert result.events_in_flight > 0


def test_files_columns_and_types(demo):
    out, result, con = demo
    parts = sorted((out / "events").glob("*.parquet"))
    assert len(parts) == 213
    schema = con.execute(
        f"describe select * from read_parquet('{out}/events/*.parquet')"
    ).fetchall()
    assert [(row[0], row[1]) for row in schema] == [(c, "VARCHAR") for c in EVENT_COLUMNS]
    accounts = con.execute(f"describe select * from '{out}/accounts.parquet'").fetchall()
    assert [(r[0], r[1]) for r in accounts] == [
        ("account_id", "VARCHAR"),
        ("created_at", "TIMESTAMP"),
        ("plan", "VARCHAR"),
        ("country", "VARCHAR"),
        ("industry", "VARCHAR"),
    ]
    users = con.execute(f"describe select * from '{out}/users.parquet'").fetchall()
    assert [(r[0], r[1]) for r in users] == [
        ("user_id", "VARCHAR"),
        ("account_id", "VARCHAR"),
        ("created_at", "TIMESTAMP"),
        ("country", "VARCHAR"),
        ("platform", "VARCHAR"),
    ]
    (raw_rows,) = con.execute("select count(*) from parsed").fetchone()
    assert (
        raw_rows
        == result.events_total
        == sum(rows for name, rows in result.files.items() if name.startswith("events/"))
    )
    (n_accounts,) = con.execute(f"select count(*) from '{out}/accounts.parquet'").fetchone()
    assert n_accounts == result.files["accounts.parquet"] == 300


def test_clean_events_follow_the_contract(demo):
    out, result, con = demo
    # the independent parser recovers exactly the generator's clean events
    (clean,) = con.execute("select count(*) from clean").fetchone()
    assert clean == result.events_clean
    names = {row[0] for row in con.execute("select distinct name from clean").fetchall()}
    assert names == set(_taxonomy())
    first, last = con.execute("select min(ts), max(ts) from clean").fetchone()
    assert first.date() == START
    assert last.date() == date(2026, 9, 30)
    platforms = con.execute("select distinct platform from clean order by 1").fetchall()
    assert [p for (p,) in platforms] == ["android", "desktop", "ios", "web"]
    orphans = con.execute(
        f"""
        select
            count(*) filter (where a.account_id is null),
            count(*) filter (where u.user_id is null),
            count(*) filter (where u.account_id <> c.account_id),
            count(*) filter (where c.ts < u.created_at::timestamptz)
        from clean as c
        left join '{out}/accounts.parquet' as a on c.account_id = a.account_id
        left join '{out}/users.parquet' as u on c.user_id = u.user_id
        """
    ).fetchone()
    assert orphans == (0, 0, 0, 0)
    # every team's first event is its account_created
    firsts = con.execute(
        "select distinct arg_min(name, ts) from clean group by account_id"
    ).fetchall()
    assert firsts == [("account_created",)]
    nps = con.execute(
        "select min(json_extract(properties, '$.score')::int), "
        "max(json_extract(properties, '$.score')::int) from clean where name = 'nps_submitted'"
    ).fetchone()
    assert nps[0] >= 0 and nps[1] <= 10


def test_planted_defects_are_present_and_counted(demo):
    _out, result, con = demo
    rejected = dict(
        con.execute(
            "select reject_reason, count(*) from parsed where reject_reason is not null "
            "group by all"
        ).fetchall()
    )
    # the all-null rows fall under missing_event_id in this parser's order of checks
    malformed = dict(result.malformed)
    malformed["missing_event_id"] += malformed.pop("all_null")
    assert rejected == malformed
    assert all(count > 0 for count in malformed.values())
    assert sum(malformed.values()) >= 20

    duplicates, identical = con.execute(
        """
        select count(*), count(*) filter (where same)
        from (
            select
                (occurred_at, user_id, account_id, event_name, properties, session_id,
                    platform, country) is not distinct from (first_value(occurred_at) over w,
                    first_value(user_id) over w, first_value(account_id) over w,
                    first_value(event_name) over w, first_value(properties) over w,
                    first_value(session_id) over w, first_value(platform) over w,
                    first_value(country) over w) as same,
                row_number() over w as delivery
            from parsed
            where reject_reason is null
            window w as (partition by event_id order by received_ts, raw_row)
        )
        where delivery > 1
        """
    ).fetchone()
    assert duplicates == identical == result.defects["duplicate_deliveries"]
    assert 0.003 < duplicates / result.events_clean < 0.008

    # on-time deliveries take seconds; late ones at least two hours
    (late,) = con.execute(
        "select count(*) from clean where received_ts - ts >= interval 2 hour"
    ).fetchone()
    assert late == result.defects["late_arrivals"]
    assert 0.007 < late / result.events_clean < 0.013

    formats = con.execute(
        """
        select
            count(*) filter (where occurred_at like '%+__:__' or occurred_at like '%-__:__'),
            count(*) filter (where regexp_full_match(occurred_at, '\\d{10}')),
            count(*) filter (where regexp_full_match(occurred_at, '\\d{13}')),
            count(*) filter (where event_name <> name)
        from clean
        """
    ).fetchone()
    assert all(count > 0 for count in formats)
    # twins a staging layer may accept (user_id is optional when the entity is the account;
    # NaN may read as null) carry no metric, so the planted truths hold either way
    optional = con.execute(
        "select distinct reject_reason, name from parsed "
        "where reject_reason in ('missing_user_id', 'nan_property') order by all"
    ).fetchall()
    assert optional == [("missing_user_id", "session_started"), ("nan_property", "nps_submitted")]
    (oversized,) = con.execute(
        "select max(length(event_id)) from parsed where reject_reason = 'oversized_event_id'"
    ).fetchone()
    assert oversized == 10240


def _week8_retention(con: duckdb.DuckDBPyConnection) -> dict[bool, float]:
    rows = con.execute(
        f"""
        with firsts as (
            select account_id, min(ts) as first_ts from clean group by account_id
        ),

        teams as (
            select
                f.account_id,
                count(*) filter (
                    where c.name = 'message_sent' and c.ts <= f.first_ts + interval 14 day
                ) >= 100 as aha,
                count(*) filter (
                    where c.name in {CORE}
                        and c.ts >= f.first_ts + interval 56 day
                        and c.ts < f.first_ts + interval 63 day
                ) > 0 as active_week8
            from firsts as f
            inner join clean as c on f.account_id = c.account_id
            where f.first_ts + interval 63 day <= timestamptz '{END_EXCLUSIVE}'
            group by f.account_id
        )

        select aha, avg(active_week8::int), count(*) from teams group by aha
        """
    ).fetchall()
    assert {aha for aha, _, n in rows if n >= 30} == {True, False}
    return {aha: rate for aha, rate, _ in rows}


def test_aha_teams_retain_far_better(demo):
    _out, result, con = demo
    retention = _week8_retention(con)
    assert retention[True] >= 0.8
    assert retention[False] <= 0.5
    assert retention[True] - retention[False] >= 0.35
    truths = result.truths["week8_retention"]
    assert truths["aha"]["rate"] == pytest.approx(retention[True], abs=1e-3)
    assert truths["non_aha"]["rate"] == pytest.approx(retention[False], abs=1e-3)


def test_activation_rises_after_the_onboarding_change(demo):
    _out, result, con = demo
    rates = dict(
        con.execute(
            f"""
            with firsts as (
                select account_id, min(ts) as first_ts from clean group by account_id
            ),

            teams as (
                select
                    f.first_ts >= timestamptz '2026-06-01' as after_change,
                    count(*) filter (
                        where c.name = 'message_sent' and c.ts <= f.first_ts + interval 14 day
                    ) >= 100 as aha
                from firsts as f
                inner join clean as c on f.account_id = c.account_id
                where f.first_ts + interval 14 day <= timestamptz '{END_EXCLUSIVE}'
                group by f.account_id, f.first_ts
            )

            select after_change, avg(aha::int) from teams group by all
            """
        ).fetchall()
    )
    assert rates[True] - rates[False] >= 0.08
    activation = result.truths["activation"]
    assert activation["before"]["rate"] == pytest.approx(rates[False], abs=1e-3)
    assert activation["after"]["rate"] == pytest.approx(rates[True], abs=1e-3)


def test_guardrails_breach_only_in_the_incident_weeks(demo):
    _out, _result, con = demo
    weeks = con.execute(
        f"""
        with active as (
            select date_trunc('week', ts) as week, count(distinct account_id) as teams
            from clean
            where name in {CORE}
            group by all
        )

        select
            strftime(a.week, '%Y-%m-%d'),
            a.teams,
            count(*) filter (where c.name = 'support_ticket_created') / a.teams,
            quantile_cont(json_extract(c.properties, '$.latency_ms')::double, 0.95)
                filter (where c.name = 'api_request')
        from active as a
        inner join clean as c on date_trunc('week', c.ts) = a.week
        where a.week + interval 7 day <= timestamptz '{END_EXCLUSIVE}'
        group by a.week, a.teams
        """
    ).fetchall()
    by_week = {week: (teams, tickets, p95) for week, teams, tickets, p95 in weeks}
    for week in ("2026-07-13", "2026-07-20"):
        _teams, tickets, p95 = by_week.pop(week)
        assert tickets > 0.3
        assert p95 > 900
    assert len(by_week) > 20
    assert max(p95 for _, _, p95 in by_week.values()) < 600
    # other weeks stay far from the breach threshold (0.3) once there are enough teams for
    # the rate to mean something; the first weeks of a small data set are noisy
    settled = sorted(tickets for teams, tickets, _ in by_week.values() if teams >= 100)
    assert len(settled) > 10
    assert settled[-1] < 0.2
    assert 0.03 < settled[len(settled) // 2] < 0.12


def test_summary_reports_rows_defects_and_truths(demo):
    out, result, _con = demo
    text = result.summary()
    assert str(out) in text
    for needle in ("events/2026-09-30.parquet", "duplicate_deliveries", "oversized_event_id"):
        assert needle in text
    assert "week-8 retention" in text
    assert "2026-07-13" in text
    assert (out / generator.MANIFEST).is_file()


def test_a_failed_generation_leaves_the_previous_data_intact(tmp_path, monkeypatch):
    out = tmp_path / "raw"
    generate_demo(out, accounts=20, days=40, seed=1, signup_days=40)
    before = _digest(out)
    real_write = generator._write_days

    def write_then_fail(*args):
        real_write(*args)  # half a new data set exists in the build directory
        raise RuntimeError("disk full")

    monkeypatch.setattr(generator, "_write_days", write_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        generate_demo(out, accounts=25, days=40, seed=2, signup_days=40)
    assert _digest(out) == before
    with pytest.raises(RuntimeError, match="disk full"):
        append_days(out, 2)  # an append that fails leaves the data set as it was, too
    assert _digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw"]

    monkeypatch.undo()
    generate_demo(out, accounts=25, days=40, seed=2, signup_days=40)
    assert _digest(out) != before


def test_refuses_to_replace_a_directory_it_did_not_write(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not a generated demo data set"):
        generate_demo(out, accounts=5, days=10)
    assert (out / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"accounts": 0}, "accounts"), ({"days": 0}, "days"), ({"seed": -1}, "seed")],
)
def test_rejects_bad_parameters(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        generate_demo(tmp_path / "raw", **kwargs)
    assert not (tmp_path / "raw").exists()
