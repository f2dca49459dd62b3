"""Run the project's dbt on a fixture in isolation, and compare its marts with the oracle.

Shared by test_examples.py and test_metric_recompute.py. Every run gets its own DuckDB
file, target and log directories under the test's tmp dir, so test runs never touch the
default warehouse/ or target/, nor each other.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
from metric_oracle import Aha, Value

PROJECT_DIR = Path(__file__).resolve().parents[2]
DBT = str(Path(sys.executable).with_name("dbt"))


@dataclass(frozen=True)
class Build:
    workdir: Path
    result: subprocess.CompletedProcess[str]

    @property
    def warehouse(self) -> Path:
        return self.workdir / "warehouse.duckdb"

    @property
    def log(self) -> str:
        return self.result.stdout[-8000:] + self.result.stderr[-3000:]

    def run_results(self) -> list[dict]:
        with (self.workdir / "target" / "run_results.json").open() as handle:
            return json.load(handle)["results"]

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.sql(sql).fetchall()


# A build of the models and data tests under another spec: the unit tests pin their own spec
# (models/*/_*__unit_tests.yml), so under any spec they check what the demo's builds check.
BUILD_WITHOUT_UNIT_TESTS = ["build", "--exclude-resource-type", "unit_test"]


def run_dbt(args: list[str], workdir: Path, vars_text: str) -> Build:
    """`dbt <args> --vars <vars_text>` in the project, isolated under `workdir`."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        NORTHSTAR_DUCKDB_PATH=str(workdir / "warehouse.duckdb"),
        NORTHSTAR_RAW_DIR=str(workdir / "raw"),
        DBT_TARGET_PATH=str(workdir / "target"),
        DBT_LOG_PATH=str(workdir / "logs"),
        DBT_PROFILES_DIR=str(PROJECT_DIR),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    result = subprocess.run(
        [DBT, *args, "--vars", vars_text],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return Build(workdir=workdir, result=result)


# --- reading the marts ------------------------------------------------------------------

VALUE_COLUMNS = (
    "numerator, denominator, value, previous_value, change_abs, change_pct, target, status, "
    "is_complete_period, target_kind, is_on_pace"
)


def metric_values(build: Build) -> dict[tuple[str, str, dt.date, str, str], tuple]:
    rows = build.query(
        "select metric_name, grain, period_start, segment_name, segment_value, "
        f"{VALUE_COLUMNS} from marts.fct_metric_values"
    )
    values = {row[:5]: row[5:] for row in rows}
    assert len(values) == len(rows), "fct_metric_values has duplicate keys"
    return values


def aha_moments(build: Build) -> dict[str, tuple]:
    rows = build.query(
        "select entity_id, first_seen_at, aha_reached_at, has_reached_aha, days_to_aha, "
        "qualifying_events_in_window from marts.fct_aha_moments"
    )
    return {row[0]: row[1:] for row in rows}


# --- comparing ----------------------------------------------------------------------------


def expected_row(value: Value) -> tuple:
    """The oracle's Value in fct_metric_values' column order (VALUE_COLUMNS)."""
    complete = value.is_complete_period
    both = value.value is not None and value.previous_value is not None
    change_abs = value.value - value.previous_value if complete and both else None
    change_pct = (
        change_abs / abs(value.previous_value)
        if change_abs is not None and value.previous_value != 0
        else None
    )
    return (
        value.numerator,
        value.denominator,
        value.value,
        value.previous_value,
        change_abs,
        change_pct,
        value.target,
        value.status,
        complete,
        value.target_kind,
        value.is_on_pace,
    )


def same(expected: object, actual: object) -> bool:
    if isinstance(expected, float) or isinstance(actual, float):
        if expected is None or actual is None:
            return False
        return math.isclose(float(expected), float(actual), rel_tol=1e-9, abs_tol=1e-9)
    return expected == actual


def diff_values(
    expected: dict[tuple, Value], actual: dict[tuple, tuple], keep=lambda key: True
) -> list[str]:
    """Human-readable differences between the oracle and fct_metric_values, for the keys
    `keep` selects: missing rows, extra rows, and every column that differs."""
    wanted = {key: value for key, value in expected.items() if keep(key)}
    got = {key: row for key, row in actual.items() if keep(key)}
    problems = [f"missing row {key}" for key in sorted(set(wanted) - set(got))]
    problems += [f"unexpected row {key}" for key in sorted(set(got) - set(wanted))]
    columns = [name.strip() for name in VALUE_COLUMNS.split(",")]
    for key in sorted(set(wanted) & set(got)):
        row = expected_row(wanted[key])
        for name, want, have in zip(columns, row, got[key], strict=True):
            if not same(want, have):
                problems.append(f"{key} {name}: python {want!r} != dbt {have!r}")
    return problems


def diff_aha(expected: dict[str, Aha], actual: dict[str, tuple]) -> list[str]:
    problems = [f"missing entity {e}" for e in sorted(set(expected) - set(actual))]
    problems += [f"unexpected entity {e}" for e in sorted(set(actual) - set(expected))]
    for entity in sorted(set(expected) & set(actual)):
        aha = expected[entity]
        row = (
            aha.first_seen_at,
            aha.aha_reached_at,
            aha.aha_reached_at is not None,
            aha.days_to_aha,
            aha.qualifying_events_in_window,
        )
        if row != actual[entity]:
            problems.append(f"{entity}: python {row} != dbt {actual[entity]}")
    return problems
