"""Postgres as a publish target, on a throwaway server (scripts/pg_throwaway.py): a publish
killed with SIGKILL mid-COPY, after the load and inside the switch leaves readers through
psycopg and SQLAlchemy (introspection included) on the previous complete set throughout;
retention, rollback, the read-only role, where the connection comes from, and that no
password reaches a message."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import psycopg
import pytest
from snapshot_helpers import FakeValidator, isolated_env, make_warehouse, publish_ok, setup_env

from northstar.errors import (
    BusyError,
    NorthstarError,
    NotFoundError,
    PostgresTargetError,
)
from northstar.publish.postgres.connection import redact, resolve_target
from northstar.publish.postgres.push import list_postgres, push_snapshot, rollback_postgres
from northstar.publish.store import SnapshotStore

PROJECT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT / "scripts"))
from pg_throwaway import throwaway_postgres  # noqa: E402

READ = "northstar_published"
PASSWORD = "s3cret-Pw0rd"  # trust auth ignores it; it must still never be printed


@pytest.fixture(scope="module")
def pg():
    with throwaway_postgres() as server:
        yield server


@pytest.fixture
def fresh_db(pg):
    """A database of its own per test, dropped after it: tests share the server only."""
    name = f"t_{os.getpid()}_{time.monotonic_ns() % 10**9}"
    with psycopg.connect(pg.dsn, autocommit=True) as admin:
        admin.execute(f"create database {name}")
    yield f"postgresql://{pg.user}:{PASSWORD}@{pg.host}:{pg.port}/{name}"
    with psycopg.connect(pg.dsn, autocommit=True) as admin:
        admin.execute(f"drop database {name} with (force)")


@pytest.fixture
def env(tmp_path, monkeypatch, fresh_db):
    paths = setup_env(tmp_path, monkeypatch)
    for name in ("NORTHSTAR_PG_TARGET", "NORTHSTAR_PG_SCHEMA", "NORTHSTAR_PG_READER_ROLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NORTHSTAR_PG_DSN", fresh_db)
    make_warehouse(paths)
    return paths


def expected_set(snapshot) -> dict:
    """What the read schema must show for `snapshot`: every view with its columns, and
    the row counts the reader queries check."""
    con = duckdb.connect(str(snapshot.database), read_only=True)
    try:
        columns = {}
        for table, column in con.execute(
            "select table_name, column_name from duckdb_columns() where schema_name = 'main' "
            "and database_name = current_database() and not internal "
            "order by table_name, column_index"
        ).fetchall():
            columns.setdefault(table, []).append(column)
    finally:
        con.close()
    rows = {name: entry["rows"] for name, entry in snapshot.manifest["tables"].items()}
    return {"columns": columns, "rows": rows}


COUNTS = f"""
    select (select run_id from {READ}.northstar_snapshot),
        (select count(*) from {READ}.dim_metrics),
        (select count(*) from {READ}.fct_metric_values),
        (select count(*) from {READ}.fct_aha_moments),
        (select count(*) from {READ}.northstar_snapshot)
"""


@dataclass
class Readers:
    """Two BI-like readers in threads, each recording (started, ended, kind, what it saw)."""

    dsn: str
    seen: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def _loop(self, read_once) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                for kind, value in read_once():
                    self.seen.append((started, time.monotonic(), kind, value))
            except Exception as err:  # any error a dashboard would show is a failure
                self.errors.append(f"{type(err).__name__}: {err}")
            time.sleep(0.01)

    def psycopg_reads(self):
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            yield "data", tuple(conn.execute(COUNTS).fetchone())
            catalog = conn.execute(
                "select table_name, array_agg(column_name::text order by ordinal_position) "
                "from information_schema.columns where table_schema = %s group by table_name",
                [READ],
            ).fetchall()
            yield "catalog", {name: list(columns) for name, columns in catalog}

    def sqlalchemy_reads(self):
        import sqlalchemy

        # Introspection in one REPEATABLE READ transaction, as a consistent catalog view;
        # the data in its own statement, as a dashboard query runs.
        with self.engine.connect() as conn:
            inspector = sqlalchemy.inspect(conn)
            assert inspector.get_table_names(schema=READ) == []  # views only
            names = inspector.get_view_names(schema=READ)
            catalog = {
                name: [column["name"] for column in inspector.get_columns(name, schema=READ)]
                for name in names
            }
        yield "catalog", catalog
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            yield "data", tuple(conn.execute(sqlalchemy.text(COUNTS)).one())

    def __enter__(self):
        import sqlalchemy

        url = self.dsn.replace("postgresql://", "postgresql+psycopg://")
        self.engine = sqlalchemy.create_engine(url, isolation_level="REPEATABLE READ")
        self.threads = [
            threading.Thread(target=self._loop, args=(lambda: list(self.psycopg_reads()),)),
            threading.Thread(target=self._loop, args=(lambda: list(self.sqlalchemy_reads()),)),
        ]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)
        self.engine.dispose()

    def wait_for_reads(self, since: float, count: int = 4, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while sum(1 for started, *_ in self.seen if started > since) < count:
            assert not self.errors, self.errors[:3]  # what a dashboard would have shown
            assert time.monotonic() < deadline, "the readers made no progress"
            time.sleep(0.02)


def run_of(kind: str, value, sets: dict[str, dict]) -> str:
    """The run whose complete set `value` is; fails when it matches none."""
    for run_id, expected in sets.items():
        if kind == "catalog" and value == expected["columns"]:
            return run_id
        if kind == "data":
            rows = expected["rows"]
            want = (run_id, rows["dim_metrics"], rows["fct_metric_values"])
            if value == (*want, rows["fct_aha_moments"], 1):
                return run_id
    raise AssertionError(f"a reader saw an incomplete or mixed set: {kind} {value}")


KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from northstar.paths import Paths
    from northstar.publish.store import SnapshotStore
    from northstar.publish.postgres.connection import resolve_target
    from northstar.publish.postgres.push import push_snapshot

    step, marker, run_id = sys.argv[1], Path(sys.argv[2]), sys.argv[3]

    def hook(name):
        if name == step:
            marker.write_text(name)
            time.sleep(120)

    snapshot = SnapshotStore(Paths.discover().snapshots_dir).get(run_id)
    push_snapshot(snapshot, resolve_target(), hook=hook)
    """
)
# Mid-COPY (load transaction open), loaded but not switched (committed, not current), and
# inside the switch transaction with the old views already dropped (locks held).
KILL_STEPS = ["copying:fct_metric_values", "loaded", "switch:dropped"]


def kill_push_at(step: str, run_id: str, tmp_path: Path, dsn: str, readers: Readers) -> None:
    marker = tmp_path / f"reached-{step.replace(':', '-')}"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, step, str(marker), run_id],
        env={
            **os.environ,
            **isolated_env(tmp_path),
            "NORTHSTAR_PG_DSN": dsn,
            # This checkout's northstar, whatever the venv has installed.
            "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), str(PROJECT)]),
        },
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, f"the push ended before {step}"
            assert time.monotonic() < deadline, f"step {step} never reached"
            time.sleep(0.02)
        held = time.monotonic()
        if step == "switch:dropped":
            time.sleep(0.5)  # readers are now queued on the switch's locks
        else:
            readers.wait_for_reads(since=held)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()


def test_kill_9_mid_push_readers_see_the_previous_complete_set(tmp_path, env, fresh_db):
    target = resolve_target()
    a = SnapshotStore(env.snapshots_dir).get(publish_ok(env, exports=["duckdb"]).run_id)
    push_snapshot(a, target)
    # B differs from A in rows and in its set of tables, so a reader can tell them apart.
    con = duckdb.connect(str(env.warehouse))
    con.execute("drop table staging.stg_events_rejected")
    con.execute("insert into marts.fct_metric_values select * from marts.fct_metric_values limit 7")
    con.close()
    b = SnapshotStore(env.snapshots_dir).get(publish_ok(env, exports=["duckdb"]).run_id)
    sets = {a.run_id: expected_set(a), b.run_id: expected_set(b)}
    assert sets[a.run_id] != sets[b.run_id]

    with Readers(fresh_db) as readers:
        readers.wait_for_reads(since=0)
        for step in KILL_STEPS:
            kill_push_at(step, b.run_id, tmp_path, fresh_db, readers)
            current, versions = list_postgres(target)
            assert current == a.run_id, step
            loaded = [v.run_id for v in versions]
            # Only a complete load is ever committed: after "loaded" B is there, not shown.
            assert loaded == ([a.run_id, b.run_id] if step != KILL_STEPS[0] else [a.run_id])
            with psycopg.connect(fresh_db) as conn:
                schemas = conn.execute(
                    "select nspname from pg_namespace where nspname like %s order by 1",
                    [f"{READ}_v_%"],
                ).fetchall()
            assert sorted(name for (name,) in schemas) == sorted(v.schema for v in versions)
        readers.wait_for_reads(since=time.monotonic())
        before_switch = time.monotonic()
        # wait: the killed publisher's lock goes when the server notices it has gone.
        pushed = push_snapshot(b, target, wait=30)
        after_switch = time.monotonic()
        readers.wait_for_reads(since=after_switch)

    assert readers.errors == []
    assert pushed.previous_run_id == a.run_id and pushed.loaded == []  # loaded by the kill run
    kinds = {kind for *_, kind, _ in readers.seen}
    assert kinds == {"data", "catalog"}
    for started, ended, kind, value in readers.seen:
        run = run_of(kind, value, sets)
        if ended < before_switch:
            assert run == a.run_id, (kind, value)
        elif started > after_switch:
            assert run == b.run_id, (kind, value)
    assert len(readers.seen) > 20


def test_rollback_retention_and_the_read_only_role(env, fresh_db):
    from click.testing import CliRunner

    import northstar.publish.publisher
    from northstar.cli import cli

    target = resolve_target()
    runs = []
    for _ in range(3):
        snapshot = SnapshotStore(env.snapshots_dir).get(publish_ok(env, exports=["duckdb"]).run_id)
        runs.append(push_snapshot(snapshot, target, keep=2))
    a, b, c = (run.run_id for run in runs)
    assert runs[2].pruned == [a] and runs[2].previous_run_id == b
    assert runs[0].rows == sum(runs[0].loaded[i].rows for i in range(len(runs[0].loaded)))
    current, versions = list_postgres(target)
    assert current == c and [v.run_id for v in versions] == [b, c]
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        schemas = {
            row[0]
            for row in conn.execute(
                "select nspname from pg_namespace where nspname like 'northstar%'"
            ).fetchall()
        }
        assert schemas == {READ, *(v.schema for v in versions)}

    assert rollback_postgres(target) == (c, b)
    with pytest.raises(NotFoundError, match=f"the version before {b}, {a}, is no longer"):
        rollback_postgres(target)
    with pytest.raises(NotFoundError, match="no version 'nope'"):
        rollback_postgres(target, "nope")

    # The read-only role: a BI login in it reads the read schema and nothing else.
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(f"create role bi_login login password '{PASSWORD}' in role northstar_reader")
    bi = fresh_db.replace("postgres:", "bi_login:", 1)
    with psycopg.connect(bi, autocommit=True) as conn:
        assert conn.execute(f"select run_id from {READ}.northstar_snapshot").fetchone() == (b,)
        for statement, denied in [
            (f"select count(*) from {versions[0].schema}.fct_metric_values", "schema"),
            (f"delete from {READ}.dim_metrics", "view dim_metrics"),
            (f"create table {READ}.mine (x int)", "schema"),
        ]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match=denied):
                conn.execute(statement)

    # What a BI tool does with a dataset: reflect the view as a table, then query it.
    import sqlalchemy

    engine = sqlalchemy.create_engine(fresh_db.replace("postgresql:", "postgresql+psycopg:"))
    try:
        with engine.connect() as conn:
            table = sqlalchemy.Table(
                "fct_metric_values", sqlalchemy.MetaData(), schema=READ, autoload_with=conn
            )
            assert "is_complete_period" in table.c
            count = sqlalchemy.select(sqlalchemy.func.count()).select_from(table)
            rows = {loaded.name: loaded.rows for loaded in runs[1].loaded}
            assert conn.execute(count).scalar() == rows["fct_metric_values"]
    finally:
        engine.dispose()

    # The command line: publish --to postgres, snapshots and rollback --to postgres.
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(northstar.publish.publisher, "default_validator", FakeValidator())
        result = runner.invoke(
            cli, ["publish", "--to", "postgres", "--export", "duckdb", "--keep", "2", "--json"]
        )
    assert result.exit_code == 0, result.output
    import json

    summary = json.loads(result.stdout)
    assert summary["postgres"]["previous_run_id"] == b
    assert summary["postgres"]["rows"] == sum(summary["tables"].values()) + 1
    assert summary["postgres"]["copy_rows_per_second"] > 0
    d = summary["run_id"]
    listing = runner.invoke(cli, ["snapshots", "--to", "postgres"])
    assert listing.exit_code == 0 and f"* {d}" in listing.stdout, listing.output
    rows = json.loads(runner.invoke(cli, ["snapshots", "--to", "postgres", "--json"]).stdout)
    assert [(row["run_id"], row["current"]) for row in rows] == [(b, False), (d, True)]
    assert rows[1]["rows"] == summary["postgres"]["rows"]
    back = runner.invoke(cli, ["rollback", "--to", "postgres"])
    assert back.exit_code == 0 and f"now shows {b} (was {d})" in back.stdout, back.output
    again = runner.invoke(cli, ["publish", "--to", "postgres", "--snapshot", "current"])
    assert again.exit_code == 0 and f"now shows {d}" in again.stdout, again.output
    assert "already loaded" in again.stdout
    for args in (
        ["rollback", "--pg-target", "x"],
        ["publish", "--pg-target", "x"],
        ["publish", "--snapshot", "current"],
        ["publish", "--snapshot", ""],  # an unset $RUN_ID: never "publish nothing, exit 0"
        ["build", "--pg-target", "x"],
    ):
        refused = runner.invoke(cli, args)
        assert refused.exit_code == 2 and "add --to postgres" in refused.output, args
    refused = runner.invoke(cli, ["build", "--to", "postgres", "--no-publish"])
    assert refused.exit_code == 2 and "drop --no-publish" in refused.output
    for output in (result.output, listing.output, back.output, again.output):
        assert PASSWORD not in output


def test_build_to_postgres_serves_what_it_published(env, fresh_db, monkeypatch):
    """`northstar build --to postgres` (dbt stubbed, as in test_build.py): the snapshot the
    build published is what Postgres serves; a dbt failure loads nothing."""
    from click.testing import CliRunner

    import northstar.build
    import northstar.publish.publisher
    from northstar.cli import cli
    from northstar.dbt_runner import DbtError

    def dbt_ok(args, paths, **_kwargs):
        return None

    def dbt_fails(args, paths, **_kwargs):
        raise DbtError(args, 1)

    monkeypatch.setattr(northstar.publish.publisher, "default_validator", FakeValidator())
    monkeypatch.setattr(northstar.build, "run_dbt", dbt_ok)
    # The background import of the gate overlaps a real dbt run; with dbt stubbed it would
    # only cost 3 s of CPU (the validator is a fake).
    monkeypatch.setattr(northstar.build, "warm_validation", lambda: None)
    result = CliRunner().invoke(cli, ["build", "--to", "postgres", "--export", "duckdb"])
    assert result.exit_code == 0, result.output
    current = SnapshotStore(env.snapshots_dir).current().run_id
    assert f"postgres: {READ} now shows {current}" in result.stdout
    assert list_postgres(resolve_target())[0] == current
    monkeypatch.setattr(northstar.build, "run_dbt", dbt_fails)
    result = CliRunner().invoke(cli, ["build", "--to", "postgres"])
    assert result.exit_code == 3 and "postgres:" not in result.stdout
    assert list_postgres(resolve_target())[0] == current


def test_a_login_that_may_not_create_the_role_is_told_what_to_run(env, fresh_db, monkeypatch):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("create role publisher login")
        conn.execute(f"grant create on database {fresh_db.rsplit('/', 1)[1]} to publisher")
    monkeypatch.setenv("NORTHSTAR_PG_DSN", fresh_db.replace("postgres:", "publisher:", 1))
    monkeypatch.setenv("NORTHSTAR_PG_READER_ROLE", "dashboards")  # roles are per server
    snapshot = SnapshotStore(env.snapshots_dir).get(publish_ok(env, exports=["duckdb"]).run_id)
    result = push_snapshot(snapshot, resolve_target())
    assert "ask an administrator to run CREATE ROLE dashboards NOLOGIN" in result.role_note
    assert list_postgres(resolve_target())[0] == snapshot.run_id
    # Once the administrator has, the next publish grants it the read schema.
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("create role dashboards nologin")
        conn.execute("create role metabase login in role dashboards")
    assert push_snapshot(snapshot, resolve_target()).role_note == "read-only role dashboards exists"
    metabase = fresh_db.replace("postgres:", "metabase:", 1)
    with psycopg.connect(metabase) as conn:
        row = conn.execute(f"select run_id from {READ}.northstar_snapshot").fetchone()
    assert row == (snapshot.run_id,)


def test_where_the_connection_comes_from(tmp_path, monkeypatch, pg):
    for name in ("NORTHSTAR_PG_DSN", "NORTHSTAR_PG_TARGET", *("PGHOST", "PGPORT", "PGSERVICE")):
        monkeypatch.delenv(name, raising=False)
    for name in ("PGDATABASE", "PGHOSTADDR", "NORTHSTAR_PG_SCHEMA"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(NorthstarError, match="no Postgres connection configured"):
        resolve_target()
    monkeypatch.setenv("PGHOST", pg.host)
    assert resolve_target().source == "PG* environment variables"
    monkeypatch.setenv("NORTHSTAR_PG_DSN", f"postgresql://u:{PASSWORD}@h:5/db")
    target = resolve_target()
    assert target.params == {
        "user": "u",
        "password": PASSWORD,
        "host": "h",
        "port": "5",
        "dbname": "db",
    }
    assert PASSWORD not in target.shown() and PASSWORD not in repr(target)
    for bad in ("Bad-Name", "x" * 38, "a;drop"):
        monkeypatch.setenv("NORTHSTAR_PG_SCHEMA", bad)
        with pytest.raises(NorthstarError, match="not a plain Postgres name"):
            resolve_target()
    monkeypatch.setenv("NORTHSTAR_PG_SCHEMA", "x" * 37)  # the longest that fits
    assert resolve_target().schema == "x" * 37
    monkeypatch.delenv("NORTHSTAR_PG_SCHEMA")

    # A dbt profile target, rendered by dbt (env_var() included); the password stays inside.
    (tmp_path / "profiles.yml").write_text(
        textwrap.dedent(
            f"""
            northstar:
              target: duckdb
              outputs:
                duckdb: {{type: duckdb, path: x.duckdb}}
                pg:
                  type: postgres
                  host: {pg.host}
                  port: {pg.port}
                  user: "{{{{ env_var('TEST_PG_USER') }}}}"
                  password: "{{{{ env_var('TEST_PG_PASSWORD') }}}}"
                  dbname: {pg.dbname}
                  schema: northstar
                  threads: 1
            """
        )
    )
    monkeypatch.setenv("DBT_PROFILES_DIR", str(tmp_path))
    monkeypatch.setenv("TEST_PG_USER", pg.user)
    monkeypatch.setenv("TEST_PG_PASSWORD", PASSWORD)
    target = resolve_target(pg_target="pg")
    assert target.params["password"] == PASSWORD and target.params["port"] == str(pg.port)
    with target.connect() as conn:
        assert conn.execute("select current_user").fetchone() == (pg.user,)
    with pytest.raises(NorthstarError, match="type 'duckdb', not postgres"):
        resolve_target(pg_target="duckdb")
    with pytest.raises(NotFoundError, match="no target 'nope'"):
        resolve_target(pg_target="nope")


def test_no_password_reaches_a_message(tmp_path, env, monkeypatch, pg):
    from click.testing import CliRunner

    from northstar.cli import cli

    port = closed_port()
    monkeypatch.setenv("NORTHSTAR_PG_DSN", f"postgresql://u:{PASSWORD}@127.0.0.1:{port}/db")
    snapshot = SnapshotStore(env.snapshots_dir).get(publish_ok(env, exports=["duckdb"]).run_id)
    with pytest.raises(PostgresTargetError) as caught:
        push_snapshot(snapshot, resolve_target())
    assert "cannot connect to Postgres u@127.0.0.1" in str(caught.value)
    assert PASSWORD not in str(caught.value)
    result = CliRunner().invoke(cli, ["publish", "--to", "postgres", "--snapshot", "current"])
    assert result.exit_code == 3, result.output
    assert "cannot connect" in result.output and PASSWORD not in result.output
    assert f"--snapshot {snapshot.run_id}" in result.output  # how to retry
    monkeypatch.setenv("NORTHSTAR_PG_DSN", f"host=h password={PASSWORD} bogus=1")
    with pytest.raises(NorthstarError) as caught:
        resolve_target()
    assert PASSWORD not in str(caught.value)
    assert redact(f"postgresql://u:{PASSWORD}@h/db password='{PASSWORD}'", []) == (
        "postgresql://u:***@h/db password=***"
    )


def test_a_second_publisher_waits_for_the_first(env, fresh_db):
    from northstar.publish.postgres.push import _close, _session

    target = resolve_target()
    holder = _session(target, 0)
    try:
        snapshot = SnapshotStore(env.snapshots_dir).get(publish_ok(env, exports=["duckdb"]).run_id)
        with pytest.raises(BusyError, match="another publish or rollback to Postgres"):
            push_snapshot(snapshot, target)
    finally:
        _close(holder, target.schema)
    # Released at once (not when the server notices the closed connection): wait 0 works.
    assert push_snapshot(snapshot, target).run_id == snapshot.run_id
    with pytest.raises(NotFoundError):
        rollback_postgres(target)  # fails holding the lock...
    with pytest.raises(NotFoundError):
        rollback_postgres(target)  # ...and released it: NotFound again, never Busy


def closed_port() -> int:
    """A loopback port nothing listens on."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_broken_input_fails_clearly(env):
    from northstar.publish.postgres.load import pg_type, version_schema

    assert pg_type("DECIMAL(18,3)", "t.c") == "numeric(18,3)"
    with pytest.raises(NorthstarError, match=r"t\.c is of DuckDB type MAP\(VARCHAR, INTEGER\)"):
        pg_type("MAP(VARCHAR, INTEGER)", "t.c")
    with pytest.raises(NorthstarError, match="longer than Postgres' 63 bytes"):
        version_schema("x" * 41, "20261005T120301Z-3fa2c1" + "a" * 10)
    snapshot = SnapshotStore(env.snapshots_dir).get(publish_ok(env, exports=["duckdb"]).run_id)
    with (snapshot.path / "northstar.duckdb").open("ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(NorthstarError, match="does not match its manifest"):
        push_snapshot(snapshot, resolve_target())


def test_every_value_survives_the_round_trip(env, fresh_db):
    """NULL and the empty string stay apart; quotes, commas, newlines, unicode, NaN,
    infinity, the smallest double, dates and timestamps come back exactly."""
    con = duckdb.connect(str(env.warehouse))
    con.execute(
        "insert into staging.stg_events_rejected (raw_row_id, event_name, reject_reason) values "
        "('raw-2', '', 'x'), ('raw-3', null, 'a \"quoted\", comma'), "
        "('raw-4', e'line\\nbreak\\tand tab', 'ünïcödé ☃'), ('raw-5', '\\N', 'NULL')"
    )
    con.execute(
        "insert into marts.fct_event_quality_daily select event_date + 400, raw_rows, "
        "accepted_rows, duplicate_rows, rejected_rows, 'nan'::double, 5e-324, null "
        "from marts.fct_event_quality_daily limit 1"
    )
    con.execute(
        "insert into marts.fct_event_quality_daily select event_date + 401, raw_rows, "
        "accepted_rows, duplicate_rows, rejected_rows, 'inf'::double, -1.7976931348623157e308, "
        "false from marts.fct_event_quality_daily limit 1"
    )
    con.close()
    snapshot = SnapshotStore(env.snapshots_dir).get(publish_ok(env, exports=["duckdb"]).run_id)
    push_snapshot(snapshot, resolve_target())
    source = duckdb.connect(str(snapshot.database), read_only=True)
    try:
        with psycopg.connect(fresh_db) as conn:
            for table in [*snapshot.manifest["tables"], "northstar_snapshot"]:
                want = source.execute(f"select * from {table}").fetchall()
                got = conn.execute(f"select * from {READ}.{table}").fetchall()
                assert sorted(map(repr, got)) == sorted(map(repr, want)), table
    finally:
        source.close()


def test_what_is_not_northstars_is_never_touched(env, fresh_db):
    """A read schema northstar did not create, and a view built on ours, stop a publish
    with a message naming them; what was served stays."""
    target = resolve_target()
    first = SnapshotStore(env.snapshots_dir).get(publish_ok(env, exports=["duckdb"]).run_id)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(f"create schema {READ}")
        conn.execute(f"create table {READ}.theirs (x int)")
    with pytest.raises(NorthstarError, match=f"schema '{READ}' exists and was not created"):
        push_snapshot(first, target)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(f"drop schema {READ} cascade")
    push_snapshot(first, target)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(f"create view public.mine as select * from {READ}.dim_metrics")
    second = SnapshotStore(env.snapshots_dir).get(publish_ok(env, exports=["duckdb"]).run_id)
    with pytest.raises(PostgresTargetError, match="view mine depends on view") as caught:
        push_snapshot(second, target)
    assert caught.value.exit_code == 3
    assert list_postgres(target)[0] == first.run_id
