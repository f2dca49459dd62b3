"""NULL, NaN and infinity in a real build's fct_metric_values: the dbt test fails on them.

Issue 9: a NULL North Star value for a complete week and a NaN activation_rate both
passed `northstar validate` (VALID) and were published, and dbt's not_null does not see a
NaN. The generic test `metric_numbers_are_finite` on fct_metric_values owns that rule
now: `dbt build` fails on it, and `northstar build` then validates and publishes nothing
(test_build.py). The validation gate no longer repeats it (docs/validation.md, "Which
layer checks what"). Here the session's demo build (conftest.py) is copied and one number
is broken per case, in each of value, numerator and denominator, on a row where the
contract says that column holds a number (docs/validation.md, "Numbers"); the dbt test
must fail on exactly those rows.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from conftest import BIN, PROJECT_DIR

from northstar.spec import Metric, load_spec, metrics

pytestmark = pytest.mark.dbt

BAD_NUMBERS = {
    "NULL": "null",
    "NaN": "cast('NaN' as double)",
    "+inf": "cast('Infinity' as double)",
    "-inf": "cast('-Infinity' as double)",
}
# column -> the metric whose rows get the bad number: the North Star (a count: its value is
# always a number), a share (its numerator always is) and a mean (its denominator always is)
METRIC_FOR_COLUMN = {
    "value": "messages_sent",
    "numerator": "activation_rate",
    "denominator": "mean_nps",
}
CASES = [(column, bad) for column in METRIC_FOR_COLUMN for bad in BAD_NUMBERS]
DBT_TEST = "metric_numbers_are_finite"


def complete_weeks(warehouse: Path, metric: str) -> list[str]:
    """The metric's complete weeks (segment 'all') with a denominator above 0, if any."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            """
            select cast(period_start as varchar) from marts.fct_metric_values
            where metric_name = ? and grain = 'week' and segment_name = 'all'
              and is_complete_period and coalesce(denominator, 1) > 0
            order by period_start desc
            """,
            [metric],
        ).fetchall()
    return [row[0] for row in rows]


def tamper(warehouse: Path, column: str, bad: str, week: str) -> None:
    with duckdb.connect(str(warehouse)) as con:
        ((changed,),) = con.execute(
            f"update marts.fct_metric_values set {column} = {BAD_NUMBERS[bad]} "
            "where metric_name = ? and grain = 'week' and segment_name = 'all' "
            "and period_start = cast(? as date)",
            [METRIC_FOR_COLUMN[column], week],
        ).fetchall()
    assert changed == 1


@pytest.fixture
def copy_of_demo(demo, tmp_path: Path) -> Path:
    # the same file name: dbt-duckdb names the database after it, and the manifest with it
    path = tmp_path / "copy" / demo.warehouse.name
    path.parent.mkdir()
    shutil.copy(demo.warehouse, path)
    return path


def run_dbt_test(demo, warehouse: Path) -> subprocess.CompletedProcess[str]:
    env = dict(demo.env, NORTHSTAR_DUCKDB_PATH=str(warehouse))
    return subprocess.run(
        [str(BIN / "dbt"), "test", "--select", f"test_name:{DBT_TEST}", "--store-failures"],
        cwd=demo.project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_dbt_test_catches_every_broken_number_and_nothing_else(
    demo, copy_of_demo: Path
) -> None:
    clean = run_dbt_test(demo, copy_of_demo)
    assert clean.returncode == 0, clean.stdout[-4000:]
    assert re.search(rf"PASS {DBT_TEST}_fct_metric_values", clean.stdout), clean.stdout[-4000:]

    # every case at once, each in its own row: the failures must be exactly those rows
    broken = set()
    for column in METRIC_FOR_COLUMN:
        weeks = complete_weeks(copy_of_demo, METRIC_FOR_COLUMN[column])
        for bad, week in zip(BAD_NUMBERS, weeks, strict=False):
            tamper(copy_of_demo, column, bad, week)
            broken.add((METRIC_FOR_COLUMN[column], week, column))
    assert len(broken) == len(CASES)

    failed = run_dbt_test(demo, copy_of_demo)
    assert failed.returncode != 0, failed.stdout[-4000:]
    assert f"FAIL {len(CASES)} {DBT_TEST}" in failed.stdout, failed.stdout[-4000:]
    with duckdb.connect(str(copy_of_demo), read_only=True) as con:
        ((schema, table),) = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema like '%dbt_test__audit' and table_name like ?",
            [f"{DBT_TEST}%"],
        ).fetchall()
        rows = con.execute(
            f"select metric_name, cast(period_start as varchar), column_name "
            f'from "{schema}"."{table}"'
        ).fetchall()
    assert set(rows) == broken


def test_the_suites_contract_is_what_the_build_produces(demo) -> None:
    """The gate's rule of which columns a metric has (has_numerator, has_denominator: facts
    the spec normalizer derives from the kind, read through northstar.spec.Metric) and the
    SQL that builds the columns (northstar_metric_columns) must not drift apart: on the demo
    build, a column is NULL in every row of a metric exactly when the spec says the metric
    has none of it."""
    spec = load_spec(PROJECT_DIR)
    # the spec's metrics and the built-in diagnostics, which carry the same facts
    every = [*metrics(spec), *(Metric.from_spec(entry) for entry in spec["diagnostics"])]
    spec_metrics = {metric.name: metric for metric in every}
    with duckdb.connect(str(demo.warehouse), read_only=True) as con:
        rows = con.execute(
            """
            select metric_name, bool_or(numerator is not null), bool_or(denominator is not null)
            from marts.fct_metric_values group by metric_name
            """
        ).fetchall()
    assert {name for name, _, _ in rows} == set(spec_metrics)
    for name, any_numerator, any_denominator in rows:
        assert any_numerator == spec_metrics[name].has_numerator, name
        assert any_denominator == spec_metrics[name].has_denominator, name
