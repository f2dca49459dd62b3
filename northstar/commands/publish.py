"""`northstar publish`: validate the warehouse and publish it as a new snapshot, and
optionally serve that snapshot from Postgres (`--to postgres`)."""

from __future__ import annotations

import json
from typing import Any

import click

from northstar.commands._common import (
    export_option,
    handle_errors,
    keep_option,
    pg_target_option,
    progress,
    skip_validation_option,
    to_option,
    wait_option,
)
from northstar.errors import InvalidInputError, NorthstarError


@click.command()
@skip_validation_option
@keep_option
@export_option
@wait_option
@to_option
@pg_target_option
@click.option(
    "--snapshot",
    "snapshot_id",
    metavar="RUN_ID",
    default=None,
    help="With --to postgres: load this already published snapshot (or `current`) instead "
    "of publishing a new one, e.g. after `northstar build` or a failed load.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@handle_errors
def publish(
    skip_validation: bool,
    keep: int,
    exports: str,
    wait: float,
    to: str | None,
    pg_target: str | None,
    snapshot_id: str | None,
    as_json: bool,
) -> None:
    """Validate the warehouse, then publish its public tables as a new snapshot.

    The snapshot (DuckDB file, Parquet, CSV, manifest.json) is written in full, then made
    current atomically; the previous snapshots stay for `northstar rollback`. With
    `--to postgres` the verified snapshot is then loaded into Postgres and switched in
    for BI tools in one transaction; --keep applies there too.

    \b
    Exit codes: 0 published; 4 validation failed (nothing published); 3 another build or
    publish holds the lock, or Postgres failed (what it serves is unchanged); 6 no warehouse.
    """
    from northstar.publish.publisher import publish as publish_snapshot
    from northstar.publish.targets import parse_exports

    if snapshot_id is not None and to != "postgres":
        raise InvalidInputError(
            "--snapshot loads an existing snapshot into Postgres: add --to postgres"
        )
    target = None
    if to == "postgres":
        from northstar.publish.postgres.connection import resolve_target

        target = resolve_target(pg_target=pg_target)  # a bad setting fails before any work
    summary: dict[str, Any] = {}
    if snapshot_id is None:
        result = publish_snapshot(
            skip_validation=skip_validation,
            keep=keep,
            exports=parse_exports(exports),
            wait=wait,
            progress=progress,
        )
        summary = {
            "run_id": result.run_id,
            "path": str(result.path),
            "previous_run_id": result.previous_run_id,
            "size_bytes": result.size_bytes,
            "seconds": round(result.seconds, 3),
            "validation": result.manifest["validation"]["status"],
            "tables": {name: t["rows"] for name, t in result.manifest["tables"].items()},
            "pruned": result.pruned,
        }
        if not as_json:
            rows = sum(t["rows"] for t in result.manifest["tables"].values())
            click.echo(
                f"published snapshot {result.run_id}: {len(result.manifest['tables'])} tables, "
                f"{rows} rows, {result.size_bytes / 1e6:.1f} MB in {result.seconds:.1f}s "
                f"(validation {result.manifest['validation']['status']})"
            )
            click.echo(f"current: {result.path}")
            if result.previous_run_id:
                click.echo(f"previous: {result.previous_run_id} (northstar rollback switches back)")
            if result.pruned:
                click.echo(f"pruned: {', '.join(result.pruned)}")
        snapshot_id = result.run_id
    if target is not None:
        summary["postgres"] = _push(snapshot_id, target, keep, wait, as_json)
    if as_json:
        click.echo(json.dumps(summary, indent=2))


def _push(snapshot_id: str, target: Any, keep: int, wait: float, as_json: bool) -> dict[str, Any]:
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
