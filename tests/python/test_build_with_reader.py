"""A BI tool holds the published snapshot open while a real `northstar build` (dbt build,
validation, publish) runs: neither blocks the other, and the reader never sees a change.

test_publish.py proves the same with a stand-in for dbt; this one runs the real pipeline on
the session's demo data (conftest.py), into a warehouse and snapshots of its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import BIN

pytestmark = pytest.mark.dbt

# Reads through SQLAlchemy + duckdb-engine, read-only, as a BI tool connects.
BI_READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    import sqlalchemy

    database, ready, stop, out = map(Path, sys.argv[1:5])
    engine = sqlalchemy.create_engine(
        f"duckdb:///{database}", connect_args={"read_only": True}
    )
    seen, reads = set(), 0
    with engine.connect() as connection:
        run_id = connection.exec_driver_sql(
            "select run_id from northstar_snapshot"
        ).scalar_one()
        ready.write_text("open")
        while not stop.exists():
            row = connection.exec_driver_sql(
                "select count(*), round(sum(value), 6) from fct_metric_values"
            ).one()
            seen.add(tuple(row))
            reads += 1
            time.sleep(0.05)
    out.write_text(json.dumps({"run_id": run_id, "seen": sorted(seen), "reads": reads}))
    """
)


def _northstar(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "northstar"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_a_bi_reader_on_the_snapshot_blocks_neither_a_real_build_nor_its_publish(demo, tmp_path):
    env = dict(
        demo.env,
        NORTHSTAR_DUCKDB_PATH=str(tmp_path / "warehouse.duckdb"),
        NORTHSTAR_SNAPSHOTS_DIR=str(tmp_path / "snapshots"),
        DBT_TARGET_PATH=str(tmp_path / "target"),
        DBT_LOG_PATH=str(tmp_path / "logs"),
    )
    first = _northstar(env, "build")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    current = tmp_path / "snapshots" / "current"
    first_run = current.resolve().name

    ready, stop, out = tmp_path / "ready", tmp_path / "stop", tmp_path / "out.json"
    reader = subprocess.Popen(
        [sys.executable, "-c", BI_READER, str(current / "northstar.duckdb"), ready, stop, out]
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert reader.poll() is None, "the reader could not open the snapshot"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        second = _northstar(env, "build")
        assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
        time.sleep(0.3)  # a few more reads after the switch
    finally:
        stop.write_text("stop")
        assert reader.wait(timeout=60) == 0
    report = json.loads(out.read_text())

    assert report["run_id"] == first_run
    assert len(report["seen"]) == 1, "the open snapshot changed under the reader"
    assert report["reads"] > 5
    assert current.resolve().name != first_run  # the new build was published meanwhile
    listed = _northstar(env, "snapshots")
    assert listed.returncode == 0 and first_run in listed.stdout
