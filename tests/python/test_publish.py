"""Publishing: complete snapshots, the atomic switch, retention, rollback, the validation
gate, crashes (a real SIGKILL mid-publish) and readers that hold a snapshot open."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from importlib import metadata
from pathlib import Path

import duckdb
import pytest
from snapshot_helpers import (
    FakeValidator,
    isolated_env,
    make_warehouse,
    publish_ok,
    setup_env,
    tree_digest,
)

from northstar import exit_codes
from northstar.errors import (
    BusyError,
    InvalidInputError,
    NotFoundError,
    TablesNotFoundError,
    ValidationFailedError,
    ValidationNotRunError,
)
from northstar.publish.publisher import publish, rollback, verify
from northstar.publish.store import SnapshotStore
from northstar.publish.tables import PUBLIC_TABLES


@pytest.fixture
def env(tmp_path, monkeypatch):
    return setup_env(tmp_path, monkeypatch)


@pytest.fixture
def warehouse(env):
    return make_warehouse(env)


def count(database: Path, table: str) -> int:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(f"select count(*) from {table}").fetchone()[0]
    finally:
        con.close()


def test_snapshot_holds_every_public_table_in_three_formats(env, warehouse):
    result = publish_ok(env)
    snap = result.path
    manifest = json.loads((snap / "manifest.json").read_text())
    present = ["dim_metrics", "fct_metric_values", "fct_aha_moments"]
    present += ["fct_event_quality_daily", "stg_events_rejected"]
    # assembled by publish: empty until a definition_version bump (test_definition_versions)
    present += ["fct_metric_values_history"]
    assert sorted(manifest["tables"]) == sorted(present)
    assert manifest["tables"]["fct_metric_values_history"]["rows"] == 0
    source = duckdb.connect(str(warehouse), read_only=True)
    for table in PUBLIC_TABLES:
        if table.name not in present:
            continue
        expected = source.execute(f"select count(*) from {table.source}").fetchone()[0]
        assert manifest["tables"][table.name]["rows"] == expected
        assert count(snap / "northstar.duckdb", table.name) == expected  # main schema
        parquet = snap / "parquet" / f"{table.name}.parquet"
        csv = snap / "csv" / f"{table.name}.csv"
        assert (
            source.execute(f"select count(*) from read_parquet('{parquet}')").fetchone()[0]
            == expected
        )
        assert source.execute(f"select count(*) from read_csv('{csv}')").fetchone()[0] == expected
    metric_names = [
        row[0] for row in source.execute("select metric_name from marts.dim_metrics").fetchall()
    ]
    source.close()
    assert sorted(m["metric_name"] for m in manifest["metrics"]) == sorted(metric_names)
    assert manifest["validation"]["status"] == "passed"
    assert manifest["validation_skipped"] is False
    assert manifest["run_id"] == result.run_id
    assert manifest["data_as_of"]["latest_complete_period"]["week"]["period_start"] == "2026-09-21"
    assert manifest["versions"]["duckdb"] == duckdb.__version__
    for package in (
        "northstar",
        "dbt-core",
        "dbt-duckdb",
        "great-expectations",
        "metricflow",
        "dbt-metricflow",
    ):
        assert manifest["versions"][package] == metadata.version(package), package
    assert json.loads((snap / "validation.json").read_text())["success"] is True
    assert verify(snap) == []
    assert not list(snap.glob("*.wal"))
    con = duckdb.connect(str(snap / "northstar.duckdb"), read_only=True)
    info = con.execute("select run_id, validation_status from northstar_snapshot").fetchall()
    con.close()
    assert info == [(result.run_id, "passed")]


def test_a_package_that_is_not_installed_is_a_null_version(monkeypatch):
    from northstar.publish import manifest as manifests

    installed = metadata.version

    def version(name):
        if name in {"metricflow", "dbt-metricflow"}:
            raise metadata.PackageNotFoundError(name)
        if name == "great-expectations":
            raise ValueError("broken metadata")  # a half-removed install
        return installed(name)

    monkeypatch.setattr(manifests.metadata, "version", version)
    found = manifests.versions()
    assert found["metricflow"] is None
    assert found["dbt-metricflow"] is None
    assert found["great-expectations"] is None
    assert found["duckdb"] == duckdb.__version__
    assert found["python"]


def test_verify_detects_a_changed_file(env, warehouse):
    snap = publish_ok(env).path
    with (snap / "csv" / "dim_metrics.csv").open("a") as handle:
        handle.write("tampered\n")
    assert verify(snap) == ["csv/dim_metrics.csv: checksum differs"]


def test_current_switches_and_rollback_goes_back(env, warehouse):
    first = publish_ok(env)
    second = publish_ok(env)
    store = SnapshotStore(env.snapshots_dir)
    assert second.previous_run_id == first.run_id
    assert store.current().run_id == second.run_id
    assert (env.snapshots_dir / "current").is_symlink()
    assert os.readlink(env.snapshots_dir / "current") == second.run_id  # relative link
    assert [s.run_id for s in store.list()] == [first.run_id, second.run_id]

    assert rollback(env) == (second.run_id, first.run_id)
    assert store.current().run_id == first.run_id
    with pytest.raises(NotFoundError, match="oldest snapshot"):
        rollback(env)
    assert rollback(env, second.run_id) == (first.run_id, second.run_id)
    with pytest.raises(NotFoundError, match="no snapshot '20990101T000000Z-abcdef'"):
        rollback(env, "20990101T000000Z-abcdef")
    for hostile in ["../" + first.run_id, "/etc", "..", "a/b", "x; rm -rf /", ""]:
        with pytest.raises(InvalidInputError, match="not a snapshot id"):
            rollback(env, hostile)
    assert store.current().run_id == second.run_id


def test_retention_keeps_the_newest_and_always_the_current(env, warehouse):
    runs = [publish_ok(env, keep=2, exports=["duckdb"]).run_id for _ in range(4)]
    store = SnapshotStore(env.snapshots_dir)
    assert [s.run_id for s in store.list()] == runs[-2:]
    rollback(env, runs[-2])
    # runs[-2] is current, its own previous is gone: --keep 1 keeps the current one only
    # (runs[-1] was rolled away from; it is not on the way back)
    assert store.prune(1) == [runs[-1]]
    newest = publish_ok(env, keep=1, exports=["duckdb"])
    # --keep 1 still keeps the snapshot `rollback` returns to: publish said so
    assert newest.previous_run_id == runs[-2]
    assert [s.run_id for s in store.list()] == [runs[-2], newest.run_id]
    assert not [p.name for p in env.snapshots_dir.iterdir() if p.name.startswith(".trash")]


def test_retention_never_prunes_the_snapshot_rolled_back_to(env, warehouse):
    """Rollback to A, publish C: C's previous is A, A is kept, and `rollback` lands on A,
    not on B (the snapshot rolled away from)."""
    a = publish_ok(env, keep=2, exports=["duckdb"])
    b = publish_ok(env, keep=2, exports=["duckdb"])
    assert rollback(env) == (b.run_id, a.run_id)
    c = publish_ok(env, keep=2, exports=["duckdb"])
    store = SnapshotStore(env.snapshots_dir)
    assert c.previous_run_id == a.run_id
    assert c.pruned == [b.run_id]
    assert [s.run_id for s in store.list()] == [a.run_id, c.run_id]
    assert rollback(env) == (c.run_id, a.run_id)


def test_what_publish_says_about_rollback_is_true(env, warehouse):
    """Whatever --keep, the `previous` publish prints exists, and `rollback` returns to it."""
    from click.testing import CliRunner

    import northstar.publish.publisher
    from northstar.cli import cli

    store = SnapshotStore(env.snapshots_dir)
    first = publish_ok(env, exports=["duckdb"])
    for keep in ("1", "2", "1"):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(northstar.publish.publisher, "default_validator", FakeValidator())
            result = CliRunner().invoke(cli, ["publish", "--keep", keep, "--export", "duckdb"])
        assert result.exit_code == 0, result.output
        said = [line for line in result.stdout.splitlines() if line.startswith("previous:")]
        assert len(said) == 1, result.stdout
        previous = said[0].split()[1]
        assert previous in [s.run_id for s in store.list()]
        assert store.rollback_target() == previous
    assert first.run_id not in [s.run_id for s in store.list()]


def test_rollback_walks_back_the_way_publishes_came(env, warehouse):
    """Each rollback undoes one publish: A <- B <- C, rollback twice lands on A; after
    rolling back to A and publishing D, the way back from D is A, never C or B."""
    a, b, c = (publish_ok(env, exports=["duckdb"]) for _ in range(3))
    assert rollback(env) == (c.run_id, b.run_id)
    assert rollback(env) == (b.run_id, a.run_id)
    with pytest.raises(NotFoundError, match="oldest snapshot"):
        rollback(env)
    d = publish_ok(env, exports=["duckdb"])
    assert rollback(env) == (d.run_id, a.run_id)


def test_rollback_when_the_previous_snapshot_is_gone(env, warehouse):
    import shutil

    a = publish_ok(env, exports=["duckdb"])
    b = publish_ok(env, exports=["duckdb"])
    shutil.rmtree(a.path)  # removed by hand
    with pytest.raises(NotFoundError, match=f"{a.run_id}, is no longer there"):
        rollback(env)
    assert SnapshotStore(env.snapshots_dir).current().run_id == b.run_id


def test_failed_validation_publishes_nothing(env, warehouse):
    first = publish_ok(env)
    before = tree_digest(env.snapshots_dir)
    with pytest.raises(ValidationFailedError, match=r"rate 1\.5") as caught:
        publish(env, validator=FakeValidator(success=False))
    assert caught.value.exit_code == 4
    assert "current snapshot is unchanged" in str(caught.value)
    assert tree_digest(env.snapshots_dir) == before
    assert SnapshotStore(env.snapshots_dir).current().run_id == first.run_id


def test_skip_validation_is_recorded_and_loud(env, warehouse):
    messages: list[str] = []
    validator = FakeValidator()
    result = publish(env, skip_validation=True, validator=validator, progress=messages.append)
    assert validator.calls == []
    assert result.manifest["validation"]["status"] == "skipped"
    assert result.manifest["validation_skipped"] is True
    assert any(m.startswith("WARNING: publishing WITHOUT validation") for m in messages)
    assert not (result.path / "validation.json").exists()


def test_missing_warehouse_or_table_publishes_nothing(env, warehouse):
    con = duckdb.connect(str(warehouse))
    con.execute("drop table marts.fct_aha_moments")
    con.close()
    with pytest.raises(NotFoundError, match=r"has no marts\.fct_aha_moments"):
        publish_ok(env)
    assert [p.name for p in env.snapshots_dir.iterdir()] == [".lock"]
    warehouse.unlink()
    with pytest.raises(NotFoundError, match="no warehouse at"):
        publish_ok(env)


def test_export_selection(env, warehouse):
    result = publish_ok(env, exports=["parquet"])
    assert (result.path / "parquet").is_dir()
    assert not (result.path / "csv").exists()
    assert result.manifest["exports"] == ["duckdb", "parquet"]
    from northstar.publish.targets import parse_exports

    assert parse_exports("csv") == ["duckdb", "csv"]
    with pytest.raises(InvalidInputError, match="unknown export format 'xlsx'"):
        parse_exports("csv,xlsx")


def test_a_running_dbt_build_makes_publish_wait_not_crash(env, warehouse):
    """A writer holding the warehouse (as dbt does) -> BusyError, exit 3, nothing written."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "print('ready', flush=True); time.sleep(60)",
            str(warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(BusyError, match="open for writing by another process") as caught:
            publish_ok(env)
        assert caught.value.exit_code == 3
    finally:
        holder.kill()
        holder.wait()
    # (reading the built spec finds the writer before the snapshot directory is made)
    assert not env.snapshots_dir.exists() or not [
        p for p in env.snapshots_dir.iterdir() if p.name.startswith(".tmp")
    ]
    assert publish_ok(env).run_id


KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from northstar.publish.publisher import publish
    from snapshot_helpers import FakeValidator

    step, marker = sys.argv[1], Path(sys.argv[2])

    def hook(name):
        if name == step:
            marker.write_text(name)
            time.sleep(120)

    publish(validator=FakeValidator(), hook=hook)
    """
)


@pytest.mark.parametrize(
    "step",
    [
        "validated",
        "table:duckdb:fct_metric_values",
        "written:duckdb",
        "table:parquet:dim_metrics",
        "written:csv",
        "manifest",
        "committed",
    ],
)
def test_kill_9_mid_publish_leaves_the_previous_snapshot_current(tmp_path, env, warehouse, step):
    previous = publish_ok(env)
    marker = tmp_path / "reached"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, step, str(marker)],
        env={**os.environ, **isolated_env(tmp_path), "PYTHONPATH": str(Path(__file__).parent)},
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, "the publish subprocess ended before the step"
            assert time.monotonic() < deadline, f"step {step} never reached"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()

    store = SnapshotStore(env.snapshots_dir)
    current = store.current()
    assert current.run_id == previous.run_id
    assert verify(current.path) == []
    assert (
        count(current.database, "fct_metric_values")
        == previous.manifest["tables"]["fct_metric_values"]["rows"]
    )
    if step == "committed":
        # Renamed into place but never switched: complete, listed, not current.
        assert len(store.list()) == 2
        assert verify(store.list()[-1].path) == []
    else:
        assert [s.run_id for s in store.list()] == [previous.run_id]
    # The next publish clears what the killed one left and succeeds.
    after = publish_ok(env)
    assert store.current().run_id == after.run_id
    leftovers = [p.name for p in env.snapshots_dir.iterdir() if p.name.startswith(".")]
    assert leftovers == [".lock"]


READER_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    import duckdb

    database, ready, stop, out = map(Path, sys.argv[1:5])
    con = duckdb.connect(str(database), read_only=True)
    seen, reads = set(), 0
    ready.write_text("open")
    while not stop.exists():
        seen.add(con.execute(
            "select value from fct_metric_values where metric_name = 'messages_sent' "
            "and segment_name = 'all' and period_start = date '2026-09-21'"
        ).fetchone()[0])
        reads += 1
        time.sleep(0.01)
    con.close()
    out.write_text(json.dumps({"seen": sorted(seen), "reads": reads}))
    """
)


def test_reader_holding_the_snapshot_blocks_neither_build_nor_publish(tmp_path, env, warehouse):
    from northstar.build import run_build

    publish_ok(env)
    ready, stop, out = tmp_path / "ready", tmp_path / "stop", tmp_path / "out.json"
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            READER_SCRIPT,
            str(env.snapshots_dir / "current" / "northstar.duckdb"),
            str(ready),
            str(stop),
            str(out),
        ]
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert reader.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)

        def fake_dbt_build(args, paths, *, target=None):
            # What dbt does to the warehouse file: open it read-write and replace data.
            con = duckdb.connect(str(paths.warehouse))
            con.execute(
                "update marts.fct_metric_values set value = 999 "
                "where metric_name = 'messages_sent' and period_start = date '2026-09-21' "
                "and segment_name = 'all'"
            )
            con.execute("create or replace table marts.build_marker as select 1 as built")
            con.close()

        result = run_build(env, dbt=fake_dbt_build, validator=FakeValidator())
        assert result.published is not None
        time.sleep(0.3)  # let the reader run a few queries after the switch
    finally:
        stop.write_text("stop")
        assert reader.wait(timeout=30) == 0
    report = json.loads(out.read_text())
    assert report["seen"] == [120.0]  # the old snapshot, unchanged, the whole time
    assert report["reads"] > 5
    fresh = duckdb.connect(str(env.snapshots_dir / "current" / "northstar.duckdb"), read_only=True)
    value = fresh.execute(
        "select value from fct_metric_values where metric_name = 'messages_sent' "
        "and segment_name = 'all' and period_start = date '2026-09-21'"
    ).fetchone()[0]
    fresh.close()
    assert value == 999.0


def test_bi_tool_reads_the_current_snapshot_through_sqlalchemy(env, warehouse):
    import pandas as pd
    import sqlalchemy

    result = publish_ok(env)
    before = tree_digest(result.path)
    url = f"duckdb:///{env.snapshots_dir / 'current' / 'northstar.duckdb'}"
    engine = sqlalchemy.create_engine(url, connect_args={"read_only": True})
    try:
        with engine.connect() as connection:
            tables = set(sqlalchemy.inspect(connection).get_table_names())
            assert {"dim_metrics", "fct_metric_values", "fct_aha_moments"} <= tables
            rows = connection.execute(
                sqlalchemy.text(
                    "select period_start, value from fct_metric_values "
                    "where metric_name = :metric and segment_name = 'all' order by period_start"
                ),
                {"metric": "messages_sent"},
            ).fetchall()
            assert [row.value for row in rows] == [90.0, 110.0, 120.0, 30.0]
            frame = pd.read_sql("select * from dim_metrics", connection)
            assert len(frame) == 4
            with pytest.raises(sqlalchemy.exc.DBAPIError, match="read-only"):
                connection.execute(sqlalchemy.text("delete from dim_metrics"))
    finally:
        engine.dispose()
    assert tree_digest(result.path) == before


@pytest.fixture(scope="module")
def gated_project(tmp_path_factory):
    """A project directory whose spec is the contract fixture's own (CONTRACT_SPEC), with
    the expectation suites generated from it (normalized: CONTRACT_NORMALIZED_SPEC, which
    the fixture warehouse records as the spec it was built with), so the real gate can
    judge the fixture."""
    import yaml
    from contract_warehouse import CONTRACT_NORMALIZED_SPEC, CONTRACT_SPEC

    from northstar.project_vars import load_vars
    from northstar.validation import ValidationSettings
    from northstar.validation.suite_files import write_suites
    from northstar.validation.suites import build_suites

    project = tmp_path_factory.mktemp("gated_project")
    variables = yaml.safe_load(CONTRACT_SPEC)
    (project / "dbt_project.yml").write_text(
        yaml.safe_dump({"name": "northstar", "profile": "northstar", "vars": variables})
    )
    settings = ValidationSettings.from_vars(load_vars(project))
    write_suites(project / "expectations", build_suites(CONTRACT_NORMALIZED_SPEC, settings))
    return project


def test_publish_through_the_real_validation_gate(tmp_path, monkeypatch, gated_project):
    """End to end with northstar.validation: a clean warehouse passes and is published with
    its validation result; a corrupted one is refused (exit 4) and nothing changes."""
    from contract_warehouse import make_contract_warehouse

    from northstar.paths import Paths

    monkeypatch.setenv("NORTHSTAR_PROJECT_DIR", str(gated_project))
    paths = Paths(
        project_dir=gated_project,
        raw_dir=tmp_path / "raw",
        warehouse=make_contract_warehouse(tmp_path / "wh.duckdb", with_spec=True),
        snapshots_dir=tmp_path / "snapshots",
        profiles_dir=gated_project,
        target_dir=tmp_path / "target",
    )
    published = publish(paths)
    assert published.manifest["validation"]["status"] == "passed"
    details = json.loads((published.path / "validation.json").read_text())
    assert details["success"] is True
    assert "churn_rate" in json.dumps(details)  # the breach is reported, not a failure

    con = duckdb.connect(str(paths.warehouse))
    con.execute(
        "update marts.fct_metric_values set value = 1.5 "
        "where metric_name = 'activation_rate' and period_start = date '2026-09-14'"
    )
    con.close()
    before = tree_digest(paths.snapshots_dir)
    with pytest.raises(ValidationFailedError) as caught:
        publish(paths)
    assert caught.value.exit_code == 4
    assert "FAIL" in str(caught.value) and "fct_metric_values" in str(caught.value)
    assert tree_digest(paths.snapshots_dir) == before

    con = duckdb.connect(str(paths.warehouse))
    con.execute("drop table marts.fct_aha_moments")
    con.close()
    with pytest.raises(ValidationNotRunError, match="validation cannot run") as caught:
        publish(paths)
    # The missing table is what it is (NOT_FOUND), never "data invalid".
    assert isinstance(caught.value.cause, TablesNotFoundError)
    assert caught.value.exit_code == exit_codes.NOT_FOUND
