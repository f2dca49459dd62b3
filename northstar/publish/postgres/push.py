"""Push a verified local snapshot to Postgres; roll the read schema back; list versions.

One publisher per read schema at a time: a session advisory lock, which the server drops
when the publisher's connection goes (a `kill -9` never leaves it held).

Steps of a push, and what a kill at each leaves (tests/python/test_publish_postgres.py):

1. verify the snapshot's checksums (what Postgres serves is exactly a verified snapshot);
2. load it into `<read>_v_<run id>` in one transaction (load.py): a kill -> rolled back;
3. switch the read schema's views in one transaction (versions.py): a kill -> rolled back;
4. prune beyond `keep`: each schema dropped in its own transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from northstar.errors import BusyError, NorthstarError, PostgresTargetError
from northstar.publish.postgres import versions as pgv
from northstar.publish.postgres.connection import PgTarget, one_line
from northstar.publish.postgres.load import LoadedTable, load_snapshot, version_schema
from northstar.publish.store import Snapshot

POLL_SECONDS = 0.2

Hook = Callable[[str], None]
Progress = Callable[[str], None]


def _noop(_: str) -> None:
    return None


@dataclass(frozen=True)
class PushResult:
    run_id: str
    schema: str
    read_schema: str
    previous_run_id: str | None
    loaded: list[LoadedTable] = field(default_factory=list)
    load_seconds: float = 0.0  # the whole load transaction
    seconds: float = 0.0
    pruned: list[str] = field(default_factory=list)
    role_note: str = ""

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.loaded)

    @property
    def copy_only_seconds(self) -> float:
        """Time inside COPY alone (the CSV export from DuckDB not counted)."""
        return sum(table.copy_seconds for table in self.loaded)


def _lock_key(read_schema: str) -> str:
    return f"northstar publish {read_schema}"


def _lock(conn, read_schema: str, wait: float) -> None:
    deadline = time.monotonic() + max(wait, 0.0)
    key = _lock_key(read_schema)
    while True:
        with conn.cursor() as cur:
            cur.execute("select pg_try_advisory_lock(hashtext(%s))", [key])
            if cur.fetchone()[0]:
                return
        if time.monotonic() >= deadline:
            raise BusyError(
                f"another publish or rollback to Postgres schema {read_schema} is running; "
                "try again later or pass --wait SECONDS"
            )
        time.sleep(POLL_SECONDS)


def _session(target: PgTarget, wait: float):
    conn = target.connect(autocommit=True, application_name="northstar publish")
    try:
        with conn.cursor() as cur:
            cur.execute("set timezone = 'UTC'")
            cur.execute("set datestyle = 'ISO, YMD'")
        _lock(conn, target.schema, wait)
    except BaseException:
        conn.close()
        raise
    return conn


def _close(conn, read_schema: str) -> None:
    """Release the advisory lock, then close. Closing alone releases it too, but only
    once the server has noticed, which can be after the next publish has asked for it."""
    import psycopg

    try:
        with conn.cursor() as cur:
            cur.execute("select pg_advisory_unlock(hashtext(%s))", [_lock_key(read_schema)])
    except psycopg.Error:
        pass  # a broken connection: the server releases the lock when it notices
    finally:
        conn.close()


def _failed(target: PgTarget, what: str, err: Exception) -> PostgresTargetError:
    return PostgresTargetError(
        f"{what} on Postgres {target.shown()} failed: {target.redact(one_line(err))}; "
        f"schema {target.schema} is unchanged"
    )


def push_snapshot(
    snapshot: Snapshot,
    target: PgTarget,
    *,
    keep: int = 5,
    wait: float = 0.0,
    hook: Hook | None = None,
    progress: Progress | None = None,
) -> PushResult:
    """Load `snapshot` into Postgres and make it what `target.schema` shows."""
    import psycopg

    from northstar.publish.publisher import verify

    hook, progress = hook or _noop, progress or _noop
    started = time.monotonic()
    problems = verify(snapshot.path)
    if problems:
        raise NorthstarError(
            f"snapshot {snapshot.run_id} does not match its manifest ({'; '.join(problems[:3])}): "
            "not loaded into Postgres"
        )
    schema = version_schema(target.schema, snapshot.run_id)
    conn = _session(target, wait)
    try:
        hook("locked")
        role_note = pgv.ensure_reader_role(conn, target.reader_role)
        with conn.cursor() as cur:
            current = pgv.current_run_id(cur, target.schema)
            present = {v.run_id: v for v in pgv.list_versions(cur, target.schema)}
        loaded: list[LoadedTable] = []
        load_started = time.monotonic()
        if snapshot.run_id in present:
            progress(f"{schema} is already loaded: switching to it")
        else:
            progress(f"loading snapshot {snapshot.run_id} into {schema} ({target.shown()})")
            loaded = load_snapshot(
                conn,
                snapshot,
                schema,
                previous_run_id=current if current != snapshot.run_id else None,
                hook=hook,
                progress=progress,
            )
        load_seconds = time.monotonic() - load_started
        hook("loaded")
        with conn.cursor() as cur:
            version = {v.run_id: v for v in pgv.list_versions(cur, target.schema)}[snapshot.run_id]
        previous = pgv.switch(conn, target.schema, version, target.reader_role, hook=hook)
        hook("switched")
    except BaseException as err:
        _close(conn, target.schema)
        if isinstance(err, psycopg.Error):
            raise _failed(target, f"loading {snapshot.run_id}", err) from None
        raise
    try:
        # The new set is served: a failure to tidy up old versions is reported, not fatal.
        pruned, busy = pgv.prune(conn, target.schema, keep)
        if busy:
            progress(f"kept {', '.join(busy)} for now: queries are still reading them")
        hook("pruned")
    except psycopg.Error as err:
        pruned = []
        progress(f"WARNING: pruning old versions failed: {target.redact(one_line(err))}")
    finally:
        _close(conn, target.schema)
    return PushResult(
        run_id=snapshot.run_id,
        schema=schema,
        read_schema=target.schema,
        previous_run_id=previous,
        loaded=loaded,
        load_seconds=load_seconds,
        seconds=time.monotonic() - started,
        pruned=pruned,
        role_note=role_note,
    )


def rollback_postgres(
    target: PgTarget, run_id: str | None = None, *, wait: float = 0.0
) -> tuple[str | None, str]:
    """Show `run_id` (default: the current version's previous one) in the read schema."""
    import psycopg

    conn = _session(target, wait)
    try:
        with conn.cursor() as cur:
            current = pgv.current_run_id(cur, target.schema)
            version = pgv.rollback_target(pgv.list_versions(cur, target.schema), current, run_id)
        pgv.switch(conn, target.schema, version, target.reader_role, hook=_noop)
    except psycopg.Error as err:
        raise _failed(target, "rollback", err) from None
    finally:
        _close(conn, target.schema)
    return current, version.run_id


def list_postgres(target: PgTarget) -> tuple[str | None, list[pgv.Version]]:
    """(current run id, versions oldest first) of the read schema."""
    import psycopg

    conn = target.connect(autocommit=True, application_name="northstar snapshots")
    try:
        with conn.cursor() as cur:
            return pgv.current_run_id(cur, target.schema), pgv.list_versions(cur, target.schema)
    except psycopg.Error as err:
        raise _failed(target, "listing versions", err) from None
    finally:
        conn.close()
