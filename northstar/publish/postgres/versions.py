"""The read schema BI tools connect to, the versioned schemas behind it, and the switch.

The read schema (default `northstar_published`) holds one view per table,
`select * from <read>_v_<run id>.<table>`. Switching drops those views and creates the new
ones in ONE transaction, so a query sees the old set or the new one, never a mix or a gap
(Postgres DDL is transactional; a reader mid-query keeps its locks and finishes on the old
tables). Views rather than `ALTER SCHEMA ... RENAME` swaps, because:

- the read-only role needs USAGE/SELECT on the read schema only: a view reads its tables
  with its owner's rights, so the versioned schemas grant nothing to anyone;
- every versioned schema keeps its name for life, so rollback and retention address
  schemas by run id, and a switch never renames what a running query is reading;
- BI introspection (information_schema, pg_catalog, SQLAlchemy's get_view_names /
  get_columns, JDBC metadata) lists views with their column names and types.

Which version is current is recorded in the read schema's COMMENT (set in the switch
transaction, so it is always true), which also marks the schema as northstar's: a schema of
that name that northstar did not create is never touched.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from northstar.errors import NorthstarError, NotFoundError, PostgresTargetError
from northstar.publish.postgres.load import LOAD_TABLE

MARKER = "northstar published read schema"
# The switch locks every view of the read schema before it drops any. A dashboard query
# locks the views it reads one by one, in its own order, so the two can wait for each
# other. Postgres breaks such a deadlock by failing one side after `deadlock_timeout`
# (1 s by default), and that side must never be the dashboard: the switch gives up each
# attempt well before (SWITCH_LOCK_TIMEOUT, at most half the server's deadlock_timeout),
# releases everything, and tries again.
SWITCH_LOCK_TIMEOUT_MS = 200
SWITCH_ATTEMPTS = 60
PRUNE_LOCK_TIMEOUT = "3s"

Hook = Callable[[str], None]


@dataclass(frozen=True)
class Version:
    run_id: str
    schema: str
    previous_run_id: str | None
    published_at: str
    loaded_at: datetime
    tables: dict[str, int]


def _sql() -> Any:
    from psycopg import sql

    return sql


def list_versions(cur: Any, read_schema: str) -> list[Version]:
    """Complete versioned schemas (those with their load record), oldest load first."""
    sql = _sql()
    cur.execute(
        "select n.nspname from pg_namespace n join pg_class c on c.relnamespace = n.oid "
        "where c.relname = %s and c.relkind = 'r' and starts_with(n.nspname, %s) "
        "order by n.nspname",
        [LOAD_TABLE, f"{read_schema}_v_"],
    )
    found = []
    for (schema,) in cur.fetchall():
        cur.execute(
            sql.SQL(
                "select run_id, previous_run_id, published_at, loaded_at, tables from {}"
            ).format(sql.Identifier(schema, LOAD_TABLE))
        )
        row = cur.fetchone()
        if row is not None:
            found.append(Version(row[0], schema, row[1], row[2] or "", row[3], row[4]))
    return sorted(found, key=lambda v: (v.loaded_at, v.run_id))


def read_schema_state(cur: Any, read_schema: str) -> dict[str, Any] | None:
    """The read schema's comment as northstar wrote it; None when there is no such schema.
    Raises when a schema of that name exists and is not northstar's."""
    cur.execute(
        "select obj_description(n.oid, 'pg_namespace'), "
        "(select count(*) from pg_class c where c.relnamespace = n.oid) "
        "from pg_namespace n where n.nspname = %s",
        [read_schema],
    )
    row = cur.fetchone()
    if row is None:
        return None
    comment, objects = row
    try:
        state = json.loads(comment) if comment else None
    except ValueError:
        state = None
    if isinstance(state, dict) and state.get("northstar") == MARKER:
        return state
    if objects:
        raise NorthstarError(
            f"Postgres schema {read_schema!r} exists and was not created by northstar "
            f"({objects} objects in it): set $NORTHSTAR_PG_SCHEMA to another name"
        )
    return {}


def current_run_id(cur: Any, read_schema: str) -> str | None:
    state = read_schema_state(cur, read_schema) or {}
    run_id = state.get("run_id")
    return run_id if isinstance(run_id, str) else None


def role_exists(cur: Any, role: str) -> bool:
    cur.execute("select 1 from pg_roles where rolname = %s", [role])
    return cur.fetchone() is not None


def ensure_reader_role(conn: Any, role: str) -> str:
    """Create the read-only role when it is missing and this login may; say what happened."""
    import psycopg

    sql = _sql()
    with conn.cursor() as cur:
        if role_exists(cur, role):
            return f"read-only role {role} exists"
        try:
            with conn.transaction():
                cur.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
        except psycopg.errors.InsufficientPrivilege:
            return (
                f"read-only role {role} does not exist and this login may not create it: "
                f"ask an administrator to run CREATE ROLE {role} NOLOGIN; "
                "the next publish grants it the read schema (docs/postgres.md)"
            )
    return f"created read-only role {role} (NOLOGIN: GRANT {role} TO your BI login)"


def _lock_timeout_ms(cur: Any) -> int:
    cur.execute("select setting::int from pg_settings where name = 'deadlock_timeout'")
    row = cur.fetchone()
    deadlock_ms = row[0] if row else 1000
    return max(10, min(SWITCH_LOCK_TIMEOUT_MS, deadlock_ms // 2))


def _switch_once(
    cur: Any,
    read_schema: str,
    version: Version,
    role: str,
    previous: str | None,
    lock_ms: int,
    hook: Hook,
) -> None:
    sql = _sql()
    cur.execute(f"set local lock_timeout = {int(lock_ms)}")
    read = sql.Identifier(read_schema)
    if read_schema_state(cur, read_schema) is None:
        cur.execute(sql.SQL("create schema {}").format(read))
    cur.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relkind = 'v' order by c.relname",
        [read_schema],
    )
    views = [sql.Identifier(read_schema, name) for (name,) in cur.fetchall()]
    if views:
        # All at once, before any change: a reader waits for the whole switch or for none.
        cur.execute(
            sql.SQL("lock table {} in access exclusive mode").format(sql.SQL(", ").join(views))
        )
    for view in views:
        # No CASCADE: a view someone built on ours makes the switch fail, naming it,
        # rather than disappear.
        cur.execute(sql.SQL("drop view {}").format(view))
    hook("switch:dropped")
    for table in version.tables:
        cur.execute(
            sql.SQL("create view {} as select * from {}").format(
                sql.Identifier(read_schema, table), sql.Identifier(version.schema, table)
            )
        )
    if role_exists(cur, role):
        cur.execute(sql.SQL("grant usage on schema {} to {}").format(read, sql.Identifier(role)))
        cur.execute(
            sql.SQL("grant select on all tables in schema {} to {}").format(
                read, sql.Identifier(role)
            )
        )
    state = {
        "northstar": MARKER,
        "run_id": version.run_id,
        "schema": version.schema,
        "previous_run_id": previous,
        "switched_at": datetime.now(UTC).isoformat(),
    }
    cur.execute(sql.SQL("comment on schema {} is {}").format(read, sql.Literal(json.dumps(state))))
    hook("switch:ready")


def switch(conn: Any, read_schema: str, version: Version, role: str, *, hook: Hook) -> str | None:
    """Make `version` what the read schema shows, in one transaction; return the run id it
    showed before. Retries while running queries hold the views (see SWITCH_LOCK_TIMEOUT_MS)."""
    import psycopg

    with conn.cursor() as cur:
        lock_ms = _lock_timeout_ms(cur)
    for attempt in range(1, SWITCH_ATTEMPTS + 1):
        try:
            with conn.transaction(), conn.cursor() as cur:
                previous = current_run_id(cur, read_schema)
                _switch_once(cur, read_schema, version, role, previous, lock_ms, hook)
            return previous
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):
            if attempt == SWITCH_ATTEMPTS:
                raise PostgresTargetError(
                    f"could not switch {read_schema} to {version.run_id}: queries held its "
                    f"views through {SWITCH_ATTEMPTS} attempts; the previous set is still "
                    "current, publish again later"
                ) from None
            time.sleep(min(0.05 * attempt, 0.5))
        except psycopg.errors.DependentObjectsStillExist as err:
            raise PostgresTargetError(
                f"could not switch {read_schema}: {' '.join(str(err).split())} "
                "(views built on the read schema's views block the switch; build them on "
                "your own schema from a copy, or drop them)"
            ) from None
    raise AssertionError("unreachable")


def way_back(versions: list[Version], current: str | None) -> list[Version]:
    """The current version, its previous, and so on while they are there."""
    by_id = {version.run_id: version for version in versions}
    chain: list[Version] = []
    run_id = current
    while run_id in by_id and by_id[run_id] not in chain:
        chain.append(by_id[run_id])
        run_id = by_id[run_id].previous_run_id
    return chain


def prune(conn: Any, read_schema: str, keep: int) -> tuple[list[str], list[str]]:
    """Drop versioned schemas beyond `keep`, as the local store prunes snapshots: the
    current one and the one rollback returns to always stay, then the rest of the way
    back, then the newest. Returns (dropped run ids, run ids kept because in use)."""
    import psycopg

    sql = _sql()
    with conn.cursor() as cur:
        versions = list_versions(cur, read_schema)
        chain = way_back(versions, current_run_id(cur, read_schema))
    kept = [version.run_id for version in chain[:2]]
    for version in [*chain[2:], *reversed(versions)]:
        if len(kept) >= keep:
            break
        if version.run_id not in kept:
            kept.append(version.run_id)
    dropped, busy = [], []
    for version in versions:
        if version.run_id in kept:
            continue
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(f"set local lock_timeout = '{PRUNE_LOCK_TIMEOUT}'")
                cur.execute(
                    sql.SQL("drop schema {} cascade").format(sql.Identifier(version.schema))
                )
            dropped.append(version.run_id)
        except psycopg.errors.LockNotAvailable:
            busy.append(version.run_id)  # a query still reads it: dropped next time
    return dropped, busy


def rollback_target(versions: list[Version], current: str | None, run_id: str | None) -> Version:
    by_id = {version.run_id: version for version in versions}
    if run_id is not None:
        if run_id not in by_id:
            raise NotFoundError(
                f"no version {run_id!r} in Postgres (`northstar snapshots --to postgres`)"
            )
        return by_id[run_id]
    if current not in by_id:
        raise NotFoundError(
            "nothing is published in Postgres yet"
            if current is None
            else f"the current Postgres version {current!r} is missing: name one to switch to"
        )
    previous = by_id[current].previous_run_id
    if previous is None:
        raise NotFoundError(f"{current} is the oldest version in Postgres: nothing to roll back to")
    if previous not in by_id:
        raise NotFoundError(
            f"the version before {current}, {previous}, is no longer in Postgres: "
            "name the one to switch to"
        )
    return by_id[previous]
