"""`northstar publish`: validate the warehouse and publish it as a new snapshot."""

from __future__ import annotations

import json

import click

from northstar.commands._common import (
    accept_restatement_option,
    export_option,
    handle_errors,
    keep_option,
    progress,
    restatement_tolerance_option,
    skip_validation_option,
    wait_option,
)

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
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@handle_errors
def publish(
    skip_validation: bool,
    keep: int,
    exports: str,
    wait: float,
    accept_restatement: bool,
    restatement_tolerance: float | None,
    as_json: bool,
) -> None:
    """Validate the warehouse, then publish its public tables as a new snapshot.

    The snapshot (DuckDB file, Parquet, CSV, manifest.json) is written in full, then made
    current atomically; the previous snapshots stay for `northstar rollback`.

    \b
    Exit codes: 0 published; 4 validation failed, or a restatement beyond the tolerance
    was not acknowledged (nothing published); 1 a metric's definition changed without a
    definition_version bump; 3 another build or publish holds the lock; 6 no warehouse.
    """
    from northstar.publish.publisher import publish as publish_snapshot
    from northstar.publish.targets import parse_exports

    result = publish_snapshot(
        skip_validation=skip_validation,
        keep=keep,
        exports=parse_exports(exports),
        wait=wait,
        progress=progress,
        accept_restatement=accept_restatement,
        restatement_tolerance=restatement_tolerance,
    )
    if as_json:
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
        click.echo(json.dumps(summary, indent=2))
        return
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
