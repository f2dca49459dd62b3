"""Incremental builds where the daily replay's feed (test_incremental_replay.py) never goes.

Each case starts from the same incrementally built warehouse and its raw files (copied), changes
the raw data or the configuration the way a real feed or a data engineer does, runs the
scheduler's build on that warehouse and checks two things: which path each model took (from
the lines the models log), and that every public table equals a --full-refresh build of the
same files (warehouse_compare.py).

- a redelivered copy of an event that wins the tie-break (received earlier) and moves the event
  to another day: both days are recomputed, incrementally; in the same load, a late event
  earlier than its entity's first and a winning copy of another entity's first event that
  differs from it: the entities' first platform is merged, or recomputed from its history;
- every event of an account redelivered on another account, each copy winning: the account
  keeps no first event, and when it comes back its first platform is its new event's;
- a loaded file rewritten in place, or deleted: the staged rows no longer describe the input,
  so the run starts over (no --full-refresh needed);
- a var that changes what staging accepts: every incremental model starts over.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from warehouse_compare import COMPARED_INTERMEDIATES, INCREMENTAL_MODELS, compare_warehouses

from northstar.demo.generator import generate_demo

pytestmark = pytest.mark.dbt

PROJECT_DIR = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PROJECT_ENTRIES = ["dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests"]
SCHEDULED = ("build", "--exclude-resource-type", "unit_test", "--exclude-resource-type", "test")


def dbt(project: Path, env: dict[str, str], warehouse: Path, *args: str) -> str:
    env = dict(
        env,
        NORTHSTAR_DUCKDB_PATH=str(warehouse),
        DBT_TARGET_PATH=str(warehouse.parent / f"target-{warehouse.stem}"),
    )
    result = subprocess.run(
        [str(BIN / "dbt"), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A project, demo data of 20 days and a warehouse built from them."""
    work = tmp_path_factory.mktemp("incremental-edges")
    project = work / "project"
    project.mkdir()
    for entry in PROJECT_ENTRIES:
        (project / entry).symlink_to(PROJECT_DIR / entry)
    pristine = work / "raw-pristine"
    generate_demo(pristine, accounts=30, days=20, seed=5, signup_days=40)
    # every case reads its files from this one path: the staged rows name their files by
    # path, and data read from another directory is other data (the staging starts over)
    raw = work / "raw"
    shutil.copytree(pristine, raw, copy_function=shutil.copy2)
    env = dict(
        os.environ,
        NORTHSTAR_PROJECT_DIR=str(project),
        DBT_PROFILES_DIR=str(project),
        DBT_LOG_PATH=str(work / "logs"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    env.pop("NORTHSTAR_AS_OF", None)
    warehouse = work / "base.duckdb"
    dbt(project, dict(env, NORTHSTAR_RAW_DIR=str(raw)), warehouse, *SCHEDULED)
    return work, project, pristine, raw, warehouse, env


@pytest.fixture
def case(base):
    """A copy of the base raw files and warehouse; returns (raw, run) where run(*vars) runs
    the scheduled build on the copy and then checks it against a full refresh."""
    work, project, pristine, raw, warehouse, env = base
    shutil.rmtree(raw)
    shutil.copytree(pristine, raw, copy_function=shutil.copy2)  # same mtimes: not "changed"
    # The same two warehouse paths in every case, each with its dbt target path: the profile
    # is then the same from case to case, so dbt's partial parse holds and each case pays no
    # full parse (the cases run one after another, in one worker).
    cases = work / "case"
    if cases.exists():
        for stale in cases.glob("*.duckdb*"):
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    cases.mkdir(exist_ok=True)
    incremental = cases / "incremental.duckdb"
    full = cases / "full.duckdb"
    shutil.copy(warehouse, incremental)
    env = dict(env, NORTHSTAR_RAW_DIR=str(raw))

    def run(**variables) -> str:
        extra = ("--vars", json.dumps(variables)) if variables else ()
        output = dbt(project, env, incremental, *SCHEDULED, *extra)
        dbt(project, env, full, *SCHEDULED, "--full-refresh", *extra)
        problems = compare_warehouses(incremental, full, extra=COMPARED_INTERMEDIATES)
        assert problems == [], "\n".join(problems)
        return output

    return raw, incremental, run


def mode(output: str, model: str) -> str:
    """The path a model took, from its log line: 'incremental (...)' or 'rebuild (...)'."""
    prefix = f"northstar: {model}: "
    lines = [line.split(prefix, 1)[1] for line in output.splitlines() if prefix in line]
    assert len(lines) == 1, (model, lines)
    return lines[0].strip()


def day_files(raw: Path) -> list[Path]:
    return sorted((raw / "events").glob("*.parquet"))


def plant_winning_copies(con, rows: str, account: str, file: Path) -> None:
    """Copies of the raw events `rows` selects (a where clause), each received a second
    before its original (so it wins the tie-break), on `account`, written to `file`."""
    con.execute(
        f"""
        copy (
            select * replace (
                strftime(received_at::timestamp - interval 1 second, '%Y-%m-%dT%H:%M:%S.%gZ')
                    as received_at,
                '{account}' as account_id
            )
            from '{file.parent / "*.parquet"}' where {rows}
        ) to '{file}' (format parquet)
        """
    )


def plant_first_event_changes(raw: Path, incremental: Path) -> Callable[[], None]:
    """Two changes of a first platform in the next load; returns the check to run after it.

    int_entity_first_events merges the stored firsts with the touched days'; an entity whose
    stored first event is displaced by a winning copy that differs from it is recomputed from
    its history (the compare to a full refresh checks int_entities too)."""
    events = raw / "events" / "*.parquet"
    with duckdb.connect(str(incremental), read_only=True) as con:
        # first events whose raw times a copy can shift (received_at set, one format)
        firsts = con.execute(
            f"""
            select firsts.entity_id, firsts.first_event_id, firsts.first_occurred_at
            from intermediate.int_entity_first_events as firsts
            inner join '{events}' as raw_events on firsts.first_event_id = raw_events.event_id
            where
                firsts.segment_name = 'platform'
                and raw_events.occurred_at like '____-__-__T__:__:__.___Z'
                and raw_events.received_at like '____-__-__T__:__:__.___Z'
            order by firsts.entity_id desc
            limit 2
            """
        ).fetchall()
    (earlier, _, first_at), (displaced, displaced_event, displaced_at) = firsts
    with duckdb.connect() as con:
        # a late event of one entity, an hour before its first one, on a new platform
        con.execute(
            f"""
            copy (
                select * replace (
                    'earlier-event' as event_id,
                    strftime(timestamp '{first_at}' - interval 1 hour, '%Y-%m-%dT%H:%M:%S.%gZ')
                        as occurred_at,
                    'tv' as platform
                )
                from '{events}' where account_id = '{earlier}' limit 1
            ) to '{raw / "events" / "zz-earlier.parquet"}' (format parquet)
            """
        )
        # a copy of another entity's first event that wins, on another account: that
        # entity's first event is now one no load touched
        plant_winning_copies(
            con,
            f"event_id = '{displaced_event}' limit 1",
            "acc_moved_here",
            raw / "events" / "zz-displacing.parquet",
        )

    def check() -> None:
        with duckdb.connect(str(incremental), read_only=True) as con:
            after = {
                entity_id: (event_id, occurred_at)
                for entity_id, event_id, occurred_at in con.execute(
                    "select entity_id, first_event_id, first_occurred_at "
                    "from intermediate.int_entity_first_events "
                    "where segment_name = 'platform' and entity_id in (?, ?)",
                    [earlier, displaced],
                ).fetchall()
            }
            (platform,) = con.execute(
                "select segment_platform from intermediate.int_entities where entity_id = ?",
                [earlier],
            ).fetchone()
        assert after[earlier][0] == "earlier-event" and platform == "tv"
        assert after[displaced] != (displaced_event, displaced_at)  # its old first is gone

    return check


def test_a_redelivered_copy_that_wins_moves_its_event_to_its_own_day(case):
    raw, incremental, run = case
    third_day = day_files(raw)[2]
    with duckdb.connect() as con:
        (event_id,) = con.execute(
            f"select event_id from '{third_day}' where event_name = 'message_sent' "
            "and occurred_at like '____-__-__T__:__:__.___Z' order by event_id limit 1"
        ).fetchone()
        # the same event_id, received a second before the copy already loaded (so it wins the
        # tie-break) and occurring five days later: the event leaves its day for another
        con.execute(
            f"""
            copy (
                select * replace (
                    strftime(occurred_at::timestamp + interval 5 day, '%Y-%m-%dT%H:%M:%S.%gZ')
                        as occurred_at,
                    strftime(received_at::timestamp - interval 1 second, '%Y-%m-%dT%H:%M:%S.%gZ')
                        as received_at
                )
                from '{third_day}' where event_id = '{event_id}'
            ) to '{raw / "events" / "zz-redelivery.parquet"}' (format parquet)
            """
        )
        (first_day,) = con.execute(
            f"select occurred_at::timestamp::date from '{third_day}' where event_id = '{event_id}'"
        ).fetchone()

    check_first_events = plant_first_event_changes(raw, incremental)

    output = run()

    assert mode(output, "stg_northstar_raw__events_classified") == "incremental (3 new raw file(s))"
    for model in INCREMENTAL_MODELS:
        assert mode(output, model).startswith("incremental (loads after"), model
    with duckdb.connect(str(incremental), read_only=True) as con:
        kept = con.execute(
            "select event_date from staging.stg_events where event_id = ?", [event_id]
        ).fetchall()
        dropped = con.execute(
            "select event_date from staging.stg_events_duplicates where event_id = ?", [event_id]
        ).fetchall()
    assert kept == [(first_day + dt.timedelta(days=5),)]
    assert dropped == [(first_day,)]
    check_first_events()


def test_an_entity_whose_every_event_moves_to_another_leaves_every_model(case):
    """Every event of one account redelivered on another account (an identity merge
    upstream), each copy winning the tie-break: the account has no event left, and no model
    keeps a row for it, as a full refresh has none."""
    raw, incremental, run = case
    events = raw / "events" / "*.parquet"
    well_formed = "like '____-__-__T__:__:__.___Z'"
    with duckdb.connect() as con:
        (account,) = con.execute(
            f"""
            select account_id from '{events}'
            where account_id like 'acc_%'
            group by 1
            having bool_and(occurred_at {well_formed} and received_at {well_formed})
            order by count(*), 1
            limit 1
            """
        ).fetchone()
        plant_winning_copies(
            con,
            f"account_id = '{account}'",
            "acc_merged_into",
            raw / "events" / "zz-merged.parquet",
        )
    with duckdb.connect(str(incremental), read_only=True) as con:
        stored = con.execute(
            "select count(*) from intermediate.int_entity_first_events where entity_id = ?",
            [account],
        ).fetchone()
    assert stored[0] > 0  # the account had its first events stored before this load

    run()  # compares every public table and the intermediates with a full refresh

    with duckdb.connect(str(incremental), read_only=True) as con:
        kept = con.execute(
            "select count(*) from staging.stg_events where account_id = ?", [account]
        ).fetchone()
        firsts = con.execute(
            "select count(*) from intermediate.int_entity_first_events where entity_id = ?",
            [account],
        ).fetchone()
    assert kept == (0,)
    assert firsts == (0,)

    # the account comes back a day later on another platform: that event is its first now
    with duckdb.connect() as con:
        con.execute(
            f"""
            copy (
                select * replace (
                    'comeback-event' as event_id,
                    strftime(max(occurred_at::timestamp) over () + interval 1 day,
                        '%Y-%m-%dT%H:%M:%S.%gZ') as occurred_at,
                    strftime(max(received_at::timestamp) over () + interval 1 day,
                        '%Y-%m-%dT%H:%M:%S.%gZ') as received_at,
                    'tv' as platform
                )
                from '{events}' where account_id = '{account}'
                limit 1
            ) to '{raw / "events" / "zz-comeback.parquet"}' (format parquet)
            """
        )
    run()
    with duckdb.connect(str(incremental), read_only=True) as con:
        (platform,) = con.execute(
            "select segment_platform from intermediate.int_entities where entity_id = ?",
            [account],
        ).fetchone()
    assert platform == "tv"


def test_a_loaded_file_rewritten_in_place_starts_the_staging_over(case):
    raw, _incremental, run = case
    second_day = day_files(raw)[1]
    with duckdb.connect() as con:
        (rows,) = con.execute(f"select count(*) from '{second_day}'").fetchone()
        # the vendor redelivers the day without its last half
        con.execute(f"create table kept as select * from '{second_day}' limit {rows // 2}")
        con.execute(f"copy kept to '{second_day}' (format parquet)")

    output = run()

    assert mode(output, "stg_northstar_raw__events_classified") == (
        f"rebuild (loaded raw file {second_day} changed since it was loaded)"
    )
    for model in INCREMENTAL_MODELS:
        assert mode(output, model) == "rebuild (the classified events were rebuilt)", model


def test_a_loaded_file_deleted_starts_the_staging_over(case):
    raw, _incremental, run = case
    second_day = day_files(raw)[1]
    second_day.unlink()

    output = run()

    assert mode(output, "stg_northstar_raw__events_classified") == (
        f"rebuild (loaded raw file {second_day} is gone)"
    )


def test_a_changed_var_rebuilds_every_incremental_model(case):
    raw, incremental, run = case
    fifth_day = day_files(raw)[4].stem  # YYYY-MM-DD: events before it are now rejected

    output = run(northstar__start_date=fifth_day)

    for model in ("stg_northstar_raw__events_classified", *INCREMENTAL_MODELS):
        assert mode(output, model) == "rebuild (its definition or a northstar var changed)", model
    with duckdb.connect(str(incremental), read_only=True) as con:
        (early,) = con.execute(
            "select count(*) from staging.stg_events_rejected "
            "where reject_reason = 'before_start_date'"
        ).fetchone()
    assert early > 0


def test_a_build_with_nothing_new_changes_nothing(case):
    _raw, _incremental, run = case

    output = run()

    assert mode(output, "stg_northstar_raw__events_classified") == "incremental (0 new raw file(s))"
    for model in INCREMENTAL_MODELS:
        assert mode(output, model).startswith("incremental (loads after"), model


def test_late_events_inside_an_old_aha_window_recompute_that_entity(case):
    raw, incremental, run = case
    with duckdb.connect(str(incremental), read_only=True) as con:
        # an early team that has not reached the aha moment (100 messages in 14 days)
        entity_id, first_seen_at = con.execute(
            "select entity_id, first_seen_at from intermediate.int_aha_moments "
            "where not has_reached_aha order by first_seen_at, entity_id limit 1"
        ).fetchone()
    late = raw / "events" / "zz-late.parquet"
    with duckdb.connect() as con:
        # 100 messages of that team, an hour after it was first seen, in a file landing now
        con.execute(
            f"""
            copy (
                select * replace (
                    'late-' || row_number() over (order by event_id) as event_id,
                    '{entity_id}' as account_id,
                    strftime(timestamp '{first_seen_at}' + interval 1 hour,
                        '%Y-%m-%dT%H:%M:%S.%gZ') as occurred_at
                )
                from '{raw / "events" / "*.parquet"}'
                where event_name = 'message_sent'
                limit 100
            ) to '{late}' (format parquet)
            """
        )

    output = run()

    for model in ("int_aha_moments", "int_entity_periods"):
        assert mode(output, model).startswith("incremental (loads after"), model
    with duckdb.connect(str(incremental), read_only=True) as con:
        reached = con.execute(
            "select has_reached_aha from intermediate.int_aha_moments where entity_id = ?",
            [entity_id],
        ).fetchone()
    assert reached == (True,)


def test_a_reference_time_past_the_data_gives_the_new_periods_their_dormant_rows(case):
    # No new file, but the clock moved on by more than a month: the spine gains weeks and a
    # month that no load touched, where every entity active before is dormant. The entity
    # changes write them anyway (the tail of northstar_period_keys), as a full refresh does.
    raw, incremental, run = case
    as_of = dt.datetime.fromisoformat(
        json.loads((raw / "_manifest.json").read_text())["as_of"].replace("Z", "+00:00")
    )
    later = (as_of + dt.timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%SZ")

    output = run(northstar__as_of=later)

    # the windows and backtest pairs too: days the spine gained, periods now complete
    for model in ("int_north_star_entity_changes", "int_active_days_windows", "int_backtest_pairs"):
        assert mode(output, model).startswith("incremental (loads after"), model
    with duckdb.connect(str(incremental), read_only=True) as con:
        rows = con.execute(
            "select lifecycle_component, count(*) from intermediate.int_north_star_entity_changes "
            "where grain = 'week' and period_start = ("
            "select max(period_start) + 7 from intermediate.int_entity_periods where grain = 'week'"
            ") group by 1"
        ).fetchall()
        (weeks_after,) = con.execute(
            "select count(*) from intermediate.int_period_spine where grain = 'week' and "
            "period_start > (select max(period_start) from intermediate.int_entity_periods)"
        ).fetchone()
    # the week after the last one with events holds a row for every entity of that week:
    # dormant if it was active, not_active if it only had other events
    assert weeks_after >= 5
    counts = dict(rows)
    assert set(counts) <= {"dormant", "not_active"} and counts.get("dormant", 0) > 0, rows


def test_a_backfill_before_the_first_day_extends_the_windows_and_renumbers_the_periods(case):
    # History older than anything loaded lands late: the day spine gains 40 days at its start,
    # more than a 28-day window after the backfilled day. The L7 / L28 windows must write the
    # days before the first one they held (not only the 28 after the touched day), and the
    # backtest's period_index starts earlier (every pair and period score rewritten).
    raw, incremental, run = case
    backfill = raw / "events" / "zz-backfill.parquet"
    with duckdb.connect() as con:
        con.execute(
            f"""
            copy (
                select * replace (
                    'backfill-' || row_number() over (order by event_id) as event_id,
                    strftime(try_cast(left(occurred_at, 19) as timestamp) - interval 40 day,
                        '%Y-%m-%dT%H:%M:%S.%gZ') as occurred_at
                )
                from '{raw / "events" / "*.parquet"}'
                where
                    occurred_at like '____-__-__T%Z'
                    and try_cast(left(occurred_at, 19) as timestamp) is not null
                order by occurred_at
                limit 20
            ) to '{backfill}' (format parquet)
            """
        )

    output = run()

    for model in ("int_active_days_windows", "int_backtest_pairs", "int_backtest_period_scores"):
        assert mode(output, model).startswith("incremental (loads after"), model
    with duckdb.connect(str(incremental), read_only=True) as con:
        first, days = con.execute(
            "select min(day_date), count(distinct day_date) "
            "from intermediate.int_active_days_windows"
        ).fetchone()
        (spine_days,) = con.execute("select count(*) from intermediate.int_day_spine").fetchone()
    assert days == spine_days and days >= 60, (first, days, spine_days)
