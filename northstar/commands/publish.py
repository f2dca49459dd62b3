"""`northstar publish`: validate the warehouse and publish it as a new snapshot, and
optionally serve that snapshot from Postgres (`--to postgres`)."""

from __future__ import annotations

import json
from typing import Any

import click

from northstar.commands._common import (
    accept_restatement_option,
    export_option,
    handle_errors,
    keep_option,
    pg_target_option,
    progress,
    restatement_tolerance_option,
    skip_validation_option,
    to_option,
    wait_option,
)
from northstar.commands._postgres import postgres_target, push_to_postgres

# The JSON summary's keys of a restatement (the manifest holds its periods too).
RESTATEMENT_SUMMARY = (
    "metric_name",
    "from_version",
    "to_version",
    "largest_change_pct",
    "accepted_by",
)


@click.command()
@skip_validation_option
@keep_option
@export_option
@wait_option
@accept_restatement_option
@restatement_tolerance_option
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
    accept_restatement: bool,
    restatement_tolerance: float | None,
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
    Exit codes: 0 published; 4 validation failed, or a restatement beyond the tolerance
    was not acknowledged (nothing published); 1 a metric's definition changed without a
    definition_version bump; 3 another build or publish holds the lock, or Postgres failed
    (what it serves is unchanged); 6 no warehouse.
    """
    from northstar.publish.publisher import publish as publish_snapshot
    from northstar.publish.targets import parse_exports

    # A bad Postgres setting fails before the gate runs.
    target = postgres_target(to, pg_target, needs="--snapshot" if snapshot_id is not None else None)
    summary: dict[str, Any] = {}
    if snapshot_id is None:
        result = publish_snapshot(
            skip_validation=skip_validation,
            keep=keep,
            exports=parse_exports(exports),
            wait=wait,
            progress=progress,
            accept_restatement=accept_restatement,
            restatement_tolerance=restatement_tolerance,
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
            "restatements": [
                {key: entry[key] for key in RESTATEMENT_SUMMARY}
                for entry in result.manifest.get("restatements") or []
            ],
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
        summary["postgres"] = push_to_postgres(snapshot_id, target, keep, wait, as_json)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
