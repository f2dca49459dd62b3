"""Shared fixtures: one small demo build per test session, for every test that needs one
(under xdist, the files that read it run on one worker: DEMO_FILES below).

The build runs `northstar demo` (generate -> dbt build -> validate -> publish) in a
throwaway copy of the project (symlinks to the real files, its own target/ and warehouse),
because `mf` reads the semantic manifest from `<project>/target/` whatever DBT_TARGET_PATH
says, and the shared target/ and warehouse must stay untouched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PROJECT_ENTRIES = [
    "dbt_project.yml",
    "profiles.yml",
    "models",
    "macros",
    "seeds",
    "tests",
    "expectations",
]
# Small enough for CI, large enough that the demo's planted truths stand out of the noise.
DEMO_ACCOUNTS = 200

# The test files that take longest, longest first (seconds from a CI run's junit report). The
# workers take files in collection order (test.sh passes --no-loadscope-reorder), so these go
# first and the run ends on short files; in alphabetical order the 6-minute replay used to
# start last and keep one worker busy alone for minutes. Other files follow in their order.
LONGEST_FIRST = (
    "test_incremental_replay.py",  # 384 s
    "test_incremental_edges.py",  # 259 s
    "test_plain_dbt.py",  # 172 s
    "test_examples.py",  # 170 s
    "test_onboarding.py",  # 135 s
    "test_spec_validation.py",  # 129 s
    "test_semantic.py",  # 126 s
    "test_verified_loads.py",  # 123 s
    "test_staging.py",  # 102 s
    "test_singular_tests_fail.py",  # 90 s
    "test_raw_mapping.py",  # 71 s
    "test_generated.py",  # 56 s
    "test_validation.py",  # 55 s
    "test_build_with_reader.py",  # 51 s
    "test_host_project.py",  # 47 s
)


# The files with a test reading the session's demo build (the `demo` fixture).
# test_the_demo_group_lists_every_file_that_reads_the_demo_build keeps the list true.
DEMO_FILES = frozenset(
    {
        "test_aha_discovery.py",
        "test_backtest.py",
        "test_build_with_reader.py",
        "test_cohorts.py",
        "test_decomposition.py",
        "test_definition_versions.py",
        "test_demo_truths.py",
        "test_digest.py",
        "test_explain_metric.py",
        "test_generated.py",
        "test_generator.py",
        "test_latest.py",
        "test_lifecycle_metrics.py",
        "test_metric_numbers.py",
        "test_metric_recompute.py",
        "test_public_contract.py",
        "test_semantic.py",
        "test_semantic_exports.py",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: n for n, name in enumerate(LONGEST_FIRST)}
    # the demo's files right after the longest files: as one unit (below) they are as long
    last = len(LONGEST_FIRST)
    # sort is stable: the tests of one file keep their order
    items.sort(
        key=lambda item: rank.get(
            item.path.name, last if item.path.name in DEMO_FILES else last + 1
        )
    )


# optional: without xdist (`-p no:xdist`) pytest would refuse a hook it does not know
@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """With --dist loadfile, the files of DEMO_FILES go to one worker as one unit: that worker
    builds the demo once, instead of each worker building its own (three builds on three
    workers). Every other file is a unit of its own, as loadfile makes it.

    (xdist's --dist loadgroup would do this with marks, but with pytest 9 its workers report
    the test ids without the group, so every test became a unit of its own.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class DemoOnOneWorker(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            scope = super()._split_scope(nodeid)
            return "demo build" if Path(scope).name in DEMO_FILES else scope

    return DemoOnOneWorker(config, log)


@dataclass(frozen=True)
class DemoBuild:
    project: Path
    warehouse: Path
    env: dict[str, str]

    def mf(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "mf"), *args],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )

    def mf_query(self, out: Path, *args: str) -> pd.DataFrame:
        result = self.mf("query", *args, "--csv", str(out))
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        return pd.read_csv(out)

    def fct(self, grain: str, segment_name: str, metrics: list[str]) -> pd.DataFrame:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(
                """
                select metric_name, cast(period_start as varchar) as period_start,
                       segment_value, value, is_complete_period
                from marts.fct_metric_values
                where grain = ? and segment_name = ?
                  and list_contains(?, metric_name)
                """,
                [grain, segment_name, metrics],
            ).df()


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> DemoBuild:
    workdir = tmp_path_factory.mktemp("semantic")
    project = workdir / "project"
    project.mkdir()
    for entry in PROJECT_ENTRIES:
        (project / entry).symlink_to(PROJECT_DIR / entry)
    env = dict(
        os.environ,
        NORTHSTAR_PROJECT_DIR=str(project),
        DBT_PROJECT_DIR=str(project),
        DBT_PROFILES_DIR=str(project),
        NORTHSTAR_DUCKDB_PATH=str(workdir / "warehouse.duckdb"),
        NORTHSTAR_RAW_DIR=str(workdir / "raw"),
        DBT_TARGET_PATH=str(project / "target"),
        DBT_LOG_PATH=str(workdir / "logs"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    build = subprocess.run(
        [str(BIN / "northstar"), "demo", "--accounts", str(DEMO_ACCOUNTS)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stdout[-6000:] + build.stderr[-3000:]
    assert (project / "target" / "semantic_manifest.json").is_file()
    return DemoBuild(project=project, warehouse=workdir / "warehouse.duckdb", env=env)
