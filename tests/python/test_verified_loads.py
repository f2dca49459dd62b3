"""Data tests on the staged events check the loads no run has verified yet (docs/incremental.md).

A scheduled build's event-sized tests (stg_events.event_id unique and not null, the classified
rows' ids and reject reasons, the parsed rows' status) would otherwise re-read the whole history
every day. Here a small warehouse is built and then corrupted by hand, as a faulty staging would
corrupt it, to show what the scoped tests still catch and when a load counts as verified:

- a copy of an old event_id in a new load fails unique_across_loads (the old copy is counted);
- a failed run verifies nothing, so the next run checks the same load again;
- a run whose tests all pass verifies its load, and a verified load is not read again;
- a changed model verifies nothing that came before it: every load is checked again.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from snapshot_helpers import clean_env

from northstar.demo.generator import generate_demo

pytestmark = pytest.mark.dbt

PROJECT_DIR = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PROJECT_ENTRIES = ["dbt_project.yml", "profiles.yml", "macros", "seeds", "tests"]
CLASSIFIED = "staging.stg_northstar_raw__events_classified"
VERIFIED = "main._northstar_verified_loads"
UNIQUE_EVENT_ID = "unique_across_loads_stg_events_event_id"
NOT_NULL_EVENT_NAME = "not_null_stg_events_event_name"
RECONCILES = "test_stg_events__reconciles_with_raw"
DUPLICATES = "staging.stg_events_duplicates"
KEPT_COPY = "relationships_across_loads_stg_events_duplicates_event_id"
LOAD_DAYS = "main._northstar_load_days"
ENTITY_EVENT_DAILY = "intermediate.int_entity_event_daily"


def dbt(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "dbt"), *args], cwd=project, env=env, capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Demo data of 12 days and a warehouse built from it with every data test."""
    work = tmp_path_factory.mktemp("verified-loads")
    raw = work / "raw"
    generate_demo(raw, accounts=20, days=12, seed=3, signup_days=20)
    project = work / "project"
    project.mkdir()
    for entry in PROJECT_ENTRIES:
        (project / entry).symlink_to(PROJECT_DIR / entry)
    # a copy of the models, so that a test can change one
    shutil.copytree(PROJECT_DIR / "models", project / "models")
    env = clean_env(
        NORTHSTAR_PROJECT_DIR=str(project),
        NORTHSTAR_RAW_DIR=str(raw),
        DBT_PROFILES_DIR=str(project),
        DBT_LOG_PATH=str(work / "logs"),
        DBT_TARGET_PATH=str(work / "target"),
    )
    warehouse = work / "base.duckdb"
    result = dbt(
        project,
        dict(env, NORTHSTAR_DUCKDB_PATH=str(warehouse)),
        "build",
        "--exclude-resource-type",
        "unit_test",
    )
    assert result.returncode == 0, result.stdout[-5000:]
    return project, env, warehouse


@pytest.fixture
def warehouse(built, tmp_path):
    """(run, path): a copy of the built warehouse and a dbt runner on it."""
    project, env, base = built
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(base, path)
    env = dict(env, NORTHSTAR_DUCKDB_PATH=str(path))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return dbt(project, env, *args)

    return run, path, project


def sql(path: Path, query: str) -> list[tuple]:
    with duckdb.connect(str(path)) as con:
        return con.execute(query).fetchall()


def verified(path: Path) -> list[int]:
    return [load for (load,) in sql(path, f"select load_id from {VERIFIED} order by 1")]


def stage_copy(path: Path, load_id: int, **replace: str) -> None:
    """Append to the classified events a copy of one accepted event, as load `load_id` (a
    staging bug: the copy keeps its event_id and is not among the duplicates)."""
    changes = ", ".join(f"{value} as {column}" for column, value in replace.items())
    sql(
        path,
        f"""
        insert into {CLASSIFIED}
        select * replace (
            raw_row_id + 1000000 as raw_row_id, {load_id} as _northstar_load_id
            {", " + changes if changes else ""}
        )
        from {CLASSIFIED}
        where reject_reason is null
        order by raw_row_id
        limit 1
        """,
    )


def failed_tests(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The names of the tests dbt reports as failed ("3 of 9 FAIL 1 <name> .... [FAIL 1 ...]")."""
    return sorted(set(re.findall(r"\d+ of \d+ FAIL \d+ (\S+)", result.stdout)))


def test_a_passing_build_verifies_its_load(warehouse):
    _run, path, _project = warehouse
    ((first, last),) = sql(
        path, f"select min(_northstar_load_id), max(_northstar_load_id) from {CLASSIFIED}"
    )
    assert first == last  # one build, one load
    assert verified(path) == [last]


def test_a_new_copy_of_a_verified_event_fails_unique_across_loads(warehouse):
    run, path, _project = warehouse
    (last,) = verified(path)
    stage_copy(path, last + 1)

    result = run("test", "--select", "stg_events")

    assert result.returncode == 1
    # and the reconciliation with the raw files, which counts every row of every load
    assert failed_tests(result) == [RECONCILES, UNIQUE_EVENT_ID]
    assert verified(path) == [last]  # a failed run verifies nothing


def test_a_failed_load_is_checked_again_until_a_run_passes(warehouse):
    run, path, _project = warehouse
    (last,) = verified(path)
    stage_copy(path, last + 1, event_id="'copy-without-name'", event_name="null")

    assert failed_tests(run("test", "--select", "stg_events")) == [NOT_NULL_EVENT_NAME, RECONCILES]
    # the next run checks the same load again
    assert NOT_NULL_EVENT_NAME in failed_tests(run("test"))
    assert verified(path) == [last]

    sql(path, f"delete from {CLASSIFIED} where event_id = 'copy-without-name'")
    passed = run("test")
    assert passed.returncode == 0, passed.stdout[-3000:]
    assert max(verified(path)) > last


def test_a_selection_that_leaves_a_scoped_test_out_verifies_nothing(warehouse):
    run, path, _project = warehouse
    (last,) = verified(path)

    result = run("test", "--select", "stg_events")  # not the classified or parsed rows' tests

    assert result.returncode == 0, result.stdout[-3000:]
    assert verified(path) == [last]


def test_a_verified_load_is_not_read_again(warehouse):
    run, path, _project = warehouse
    (last,) = verified(path)
    stage_copy(path, last)  # as if the verified load had held it

    result = run("test", "--select", UNIQUE_EVENT_ID)

    assert result.returncode == 0, result.stdout[-3000:]


def test_a_changed_model_checks_every_load_again(warehouse):
    run, path, project = warehouse
    (last,) = verified(path)
    stage_copy(path, last)
    mart = project / "models" / "marts" / "reporting" / "rpt_north_star.sql"
    original = mart.read_text()
    try:
        mart.write_text(original + "\n-- changed\n")
        result = run("test", "--select", UNIQUE_EVENT_ID)
    finally:
        mart.write_text(original)

    assert result.returncode == 1
    assert failed_tests(result) == [UNIQUE_EVENT_ID]


def failures(result: subprocess.CompletedProcess[str], test: str) -> int:
    """How many rows dbt reports for a failed test whose name starts with `test`."""
    found = re.findall(rf"\d+ of \d+ FAIL (\d+) {test}\S*", result.stdout)
    return int(found[0]) if found else 0


def test_what_a_new_load_wrote_fails_the_tests_scoped_to_its_keys(warehouse):
    """The duplicates' kept copy and the entity x day keys: a violation in the rows of an
    unverified load fails; the same violation in rows no unverified load wrote is not read
    again (each test reports the new one only)."""
    run, path, _project = warehouse
    (last,) = verified(path)
    stage_copy(path, last + 1)  # a new load brings a second copy of an old event
    # a faulty ranking lists both copies as duplicates: stg_events loses the event; and an
    # older event (no copy in the new load) lost its kept copy too
    sql(
        path,
        f"""
        insert into {DUPLICATES} by name
        select raw_row_id, raw_file, raw_file_row_number, event_id,
            raw_row_id as kept_raw_row_id, event_date as kept_event_date,
            account_id as kept_entity_id, 2 as event_id_rank, event_name, occurred_at,
            received_at, event_date, user_id, account_id, properties, is_late_arrival
        from {CLASSIFIED}
        where event_id in (
            select event_id from {CLASSIFIED} where _northstar_load_id = {last + 1}
            union all
            (select event_id from staging.stg_events order by event_id desc limit 1)
        )
        """,
    )
    days = [d for (d,) in sql(path, f"select distinct activity_date from {ENTITY_EVENT_DAILY}")]
    touched, untouched = max(days), min(days)
    # the new load touched one day, and its rewrite of that day kept an old row; a verified
    # day holds the same repeat
    sql(path, f"insert into {LOAD_DAYS} values ({last + 1}, '{touched}')")
    for day in (touched, untouched):
        sql(
            path,
            f"insert into {ENTITY_EVENT_DAILY} select * from {ENTITY_EVENT_DAILY} "
            f"where activity_date = '{day}' order by all limit 1",
        )

    result = run(
        "test",
        "--select",
        "test_name:relationships_across_loads",
        "int_entity_event_daily",
        "fct_entity_activity_daily",
    )

    assert result.returncode == 1
    # the new event's two duplicate rows, not the old event's
    assert failures(result, KEPT_COPY) == 2, result.stdout[-3000:]
    for test in (
        "unique_combination_of_columns_int_entity_event_daily",
        "unique_combination_of_columns_fct_entity_activity_daily",
    ):
        assert failures(result, test) == 1, result.stdout[-3000:]


def test_a_warehouse_with_nothing_verified_checks_every_row(built, tmp_path):
    project, env, _base = built
    target = tmp_path / "target"
    compiled = dbt(
        project,
        dict(
            env, NORTHSTAR_DUCKDB_PATH=str(tmp_path / "empty.duckdb"), DBT_TARGET_PATH=str(target)
        ),
        "compile",
        "--select",
        UNIQUE_EVENT_ID,
        "test_name:relationships_across_loads",
        "test_name:unique_combination_of_columns,int_entity_event_daily",
    )
    assert compiled.returncode == 0, compiled.stdout[-3000:]
    tests = {path.stem: path.read_text() for path in target.rglob("compiled/**/*.sql")}
    assert len(tests) == 3, sorted(tests)
    unique = tests.pop(UNIQUE_EVENT_ID)
    # dbt's plain uniqueness check over every row
    assert "group by event_id" in unique
    assert "_northstar_load_id >" not in unique
    assert "new_values" not in unique
    for name, text in tests.items():
        # no days, no loads: every row
        assert "cast('" not in text and "_northstar_load_id >" not in text, name
        assert "1 = 0" not in text, name
