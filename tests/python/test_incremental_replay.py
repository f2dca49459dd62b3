"""Daily loads replayed: after every load the normal build runs, and its public tables must equal
a --full-refresh build of the same raw data (issue 10: the proof that incremental == full).

The feed grows one landed day at a time with the demo generator (`append_days`), so each load
brings what a real feed brings the next day: that day's events, late arrivals of earlier days
(some later than a lookback of LOOKBACK_DAYS), and duplicate deliveries of events already
loaded (some replayed days later). After each load the scheduler's build runs on the warehouse
the previous load left (`dbt build --exclude-resource-type unit_test`, no --full-refresh).
Every COMPARE_EVERY loads, and always after the last, a second warehouse is built from nothing
with --full-refresh on the same files and every public table is compared: every relation in
`marts` and staging.stg_events_rejected (warehouse_compare.py). Every incremental build must
take the incremental path (asserted from dbt's output), so the equality is not that of two
full builds. The comparison must be able to fail: it is run once more on a tampered copy of
the warehouse, which must be caught. test_incremental_edges.py covers what this feed does not
bring: a copy that displaces an earlier one, changed and removed files, a changed var.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from warehouse_compare import (
    COMPARED_INTERMEDIATES,
    INCREMENTAL_MODELS,
    compare_warehouses,
    same_value,
)

from northstar.demo.generator import append_days, generate_demo

pytestmark = pytest.mark.dbt

PROJECT_DIR = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PROJECT_ENTRIES = ["dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests"]

# Small enough for CI (a build is mostly dbt's fixed cost here), big enough that the feed holds
# duplicates and late arrivals on both sides of the lookback (asserted below).
ACCOUNTS = 40
SIGNUP_DAYS = 60
FIRST_DAYS = 20  # history before the first replayed load
# At least 30 loads in CI (issue 10); NORTHSTAR_REPLAY_LOADS / _COMPARE_EVERY shorten a local run.
LOADS = int(os.environ.get("NORTHSTAR_REPLAY_LOADS", "30"))
COMPARE_EVERY = int(os.environ.get("NORTHSTAR_REPLAY_COMPARE_EVERY", "10"))
LOOKBACK_DAYS = 3
SEED = 11

# Events that land more than the lookback after their day: counted in their own day like every
# other event, and in this column (asserted against the generator's manifest after every
# compared load). The build runs with northstar__lookback_days = LOOKBACK_DAYS.
BEYOND_LOOKBACK_COUNTER: tuple[str, str] = ("marts.fct_event_quality_daily", "beyond_lookback_rows")


def _dbt(project: Path, env: dict[str, str], *args: str) -> str:
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


def expected_beyond_lookback(raw_dir: Path, lookback_days: int) -> int:
    """Events that landed more than `lookback_days` after the day they occurred, from the
    generator's manifest (what the beyond-lookback counter must count)."""
    manifest = json.loads((raw_dir / "_manifest.json").read_text())
    lags = manifest["delivery_lag_days"]["late_arrivals"]
    return sum(n for lag, n in lags.items() if int(lag) > lookback_days)


def check_beyond_lookback_counter(warehouse: Path, raw_dir: Path) -> None:
    relation, column = BEYOND_LOOKBACK_COUNTER
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (counted,) = con.execute(f"select sum({column}) from {relation}").fetchone()
    assert counted == expected_beyond_lookback(raw_dir, LOOKBACK_DAYS)


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    work = tmp_path_factory.mktemp("replay")
    project = work / "project"
    project.mkdir()
    for entry in PROJECT_ENTRIES:
        (project / entry).symlink_to(PROJECT_DIR / entry)
    raw = work / "raw"
    env = dict(
        os.environ,
        NORTHSTAR_PROJECT_DIR=str(project),
        DBT_PROFILES_DIR=str(project),
        NORTHSTAR_RAW_DIR=str(raw),
        DBT_LOG_PATH=str(work / "logs"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    generate_demo(raw, accounts=ACCOUNTS, days=FIRST_DAYS, seed=SEED, signup_days=SIGNUP_DAYS)
    return work, project, raw, env


def _dbt_build(project: Path, env: dict[str, str], warehouse: Path, *args: str) -> str:
    # no NORTHSTAR_AS_OF: dbt reads the clock from the raw data's manifest, which each load
    # moves, as a scheduler's plain `dbt build` would
    env = dict(
        env,
        NORTHSTAR_DUCKDB_PATH=str(warehouse),
        DBT_TARGET_PATH=str(warehouse.parent / f"target-{warehouse.stem}"),
    )
    return _dbt(
        project, env, *args, "--vars", json.dumps({"northstar__lookback_days": LOOKBACK_DAYS})
    )


# The scheduler's build: models and data tests, no unit tests.
SCHEDULED = ("build", "--exclude-resource-type", "unit_test")
# Between compared loads only the models run (the data tests write no table, and 30 loads of
# dbt's fixed cost are most of this test's time); the compared loads run the whole build.
MODELS_ONLY = ("run",)
FULL_REFRESH = ("build", "--full-refresh", "--exclude-resource-type", "unit_test", "test")


def test_daily_loads_build_the_same_tables_as_a_full_refresh(replay):
    work, project, raw, env = replay
    incremental = work / "incremental.duckdb"
    full = work / "full.duckdb"
    _dbt_build(project, env, incremental, *SCHEDULED)
    compared = []
    for load in range(1, LOADS + 1):
        append_days(raw, 1)
        compare = load % COMPARE_EVERY == 0 or load == LOADS
        output = _dbt_build(project, env, incremental, *(SCHEDULED if compare else MODELS_ONLY))
        # the load was taken in incrementally: one new file, every event-sized model recomputing
        # only what it touched (not a rebuild, which would make the equality trivial)
        assert "stg_northstar_raw__events_classified: incremental (1 new raw file(s))" in output
        for model in INCREMENTAL_MODELS:
            assert f"northstar: {model}: incremental (loads after" in output, (model, output)
        if compare:
            full.unlink(missing_ok=True)
            _dbt_build(project, env, full, *FULL_REFRESH)
            problems = compare_warehouses(incremental, full, extra=COMPARED_INTERMEDIATES)
            assert problems == [], f"after load {load}:\n" + "\n".join(problems)
            check_beyond_lookback_counter(incremental, raw)
            compared.append(load)
    assert compared[-1] == LOADS

    # The replay exercised what it claims: duplicates and late arrivals landing in a later
    # load than their first copy or their day, on both sides of the lookback (the tails are
    # rare at this scale: a shortened local run may not reach them).
    if LOADS < 30:
        return
    manifest = json.loads((raw / "_manifest.json").read_text())
    assert manifest["params"]["days"] == FIRST_DAYS + LOADS
    for kind in ("late_arrivals", "duplicate_deliveries"):
        lags = {int(lag): n for lag, n in manifest["delivery_lag_days"][kind].items()}
        assert sum(n for lag, n in lags.items() if lag <= LOOKBACK_DAYS) > 0, (kind, lags)
        assert sum(n for lag, n in lags.items() if lag > LOOKBACK_DAYS) > 0, (kind, lags)


def test_the_comparison_catches_a_tampered_table(replay):
    work, _project, _raw, _env = replay
    full = work / "full.duckdb"
    if not full.exists():
        pytest.skip("needs the replay's warehouses (run with the replay test)")
    for tamper, expected in (
        (
            "update marts.fct_metric_values set value = value * (1 + 1e-6) "
            "where rowid = (select min(rowid) from marts.fct_metric_values "
            "where value > 0 and grain = 'week')",
            "fct_metric_values",
        ),
        (
            "delete from staging.stg_events_rejected "
            "where rowid = (select min(rowid) from staging.stg_events_rejected)",
            "stg_events_rejected",
        ),
    ):
        tampered = work / "tampered.duckdb"
        shutil.copy(work / "incremental.duckdb", tampered)
        with duckdb.connect(str(tampered)) as con:
            con.execute(tamper)
        problems = compare_warehouses(tampered, full)
        assert any(expected in problem for problem in problems), problems
    # and a float within the stated tolerance is not a difference
    assert same_value(1.0, 1.0 + 1e-12)
    assert not same_value(1.0, 1.0 + 1e-6)
    assert not same_value(3, 3.0)  # a count that became a float is a change of type
