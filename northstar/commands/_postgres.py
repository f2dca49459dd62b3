"""`--to postgres` for `publish` and `build`: load a published snapshot into Postgres and
report it (northstar.publish.postgres; docs/postgres.md)."""

from __future__ import annotations

from typing import Any

import click

from northstar.commands._common import progress
from northstar.errors import InvalidInputError, NorthstarError


def postgres_target(to: str | None, pg_target: str | None, *, needs: str | None = None) -> Any:
    """The Postgres target to publish to, resolved before any work (a bad setting fails
    first), or None without --to postgres. `needs`: an option given that only makes sense
    with --to postgres."""
    if to != "postgres":
        given = needs or ("--pg-target" if pg_target is not None else None)
        if given:
            raise InvalidInputError(f"{given} is for Postgres: add --to postgres")
        return None
    from northstar.publish.postgres.connection import resolve_target

    return resolve_target(pg_target=pg_target)


def push_to_postgres(
    snapshot_id: str, target: Any, keep: int, wait: float, as_json: bool
) -> dict[str, Any]:
    from northstar.paths import Paths
    from northstar.publish.postgres.push import push_snapshot
    from northstar.publish.store import SnapshotStore

    store = SnapshotStore(Paths.discover().snapshots_dir)
    snapshot = store.current() if snapshot_id == "current" else store.get(snapshot_id)
    try:
        pushed = push_snapshot(snapshot, target, keep=keep, wait=wait, progress=progress)
    except NorthstarError as err:
        # The local snapshot is published and current; only Postgres lags: say how to retry.
        err.args = (
            f"{err.args[0]} (snapshot {snapshot.run_id} is published locally; load it again "
            f"with `northstar publish --to postgres --snapshot {snapshot.run_id}`)",
        )
        raise
    progress(pushed.role_note)
    copy = pushed.copy_only_seconds
    rate = pushed.rows / copy if copy > 0 else None
    if not as_json:
        loaded = (
            f"{pushed.rows} rows loaded in {pushed.load_seconds:.1f}s"
            + (f", COPY {rate:,.0f} rows/s" if rate else "")
            if pushed.loaded
            else "already loaded"
        )
        click.echo(
            f"postgres: {pushed.read_schema} now shows {pushed.run_id} ({pushed.schema}; "
            f"{loaded}; {pushed.seconds:.1f}s in all) on {target.shown()}"
        )
        if pushed.previous_run_id and pushed.previous_run_id != pushed.run_id:
            click.echo(
                f"postgres previous: {pushed.previous_run_id} "
                "(northstar rollback --to postgres switches back)"
            )
        if pushed.pruned:
            click.echo(f"postgres pruned: {', '.join(pushed.pruned)}")
    return {
        "run_id": pushed.run_id,
        "read_schema": pushed.read_schema,
        "schema": pushed.schema,
        "previous_run_id": pushed.previous_run_id,
        "rows": pushed.rows,
        "load_seconds": round(pushed.load_seconds, 3),
        "copy_seconds": round(copy, 3),
        "copy_rows_per_second": round(rate) if rate else None,
        "seconds": round(pushed.seconds, 3),
        "pruned": pushed.pruned,
        "reader_role": pushed.role_note,
    }
