"""`northstar snapshots` and `northstar rollback`."""

from __future__ import annotations

import json
from typing import Any

import click

from northstar.commands._common import handle_errors, pg_target_option, to_option, wait_option
from northstar.commands._postgres import postgres_target
from northstar.publish.store import check_run_id


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@to_option
@pg_target_option
@handle_errors
def snapshots(as_json: bool, to: str | None, pg_target: str | None) -> None:
    """List the published snapshots, oldest first; * marks the current one.

    With --to postgres: the versions loaded into Postgres; * marks the one BI tools read."""
    target = postgres_target(to, pg_target)
    if target is not None:
        _postgres_versions(as_json, target)
        return
    from northstar.paths import Paths
    from northstar.publish.store import SnapshotStore

    store = SnapshotStore(Paths.discover().snapshots_dir)
    found = store.list()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "run_id": snap.run_id,
                        "current": snap.is_current,
                        "published_at": snap.published_at,
                        "validation": snap.manifest.get("validation", {}).get("status"),
                        "latest_event_at": snap.manifest.get("data_as_of", {}).get(
                            "latest_event_at"
                        ),
                        "size_bytes": snap.size_bytes(),
                        "path": str(snap.path),
                    }
                    for snap in found
                ],
                indent=2,
            )
        )
        return
    if not found:
        click.echo(f"no snapshots in {store.root}: run `northstar build` or `northstar publish`")
        return
    for snap in found:
        marker = "*" if snap.is_current else " "
        validation = snap.manifest.get("validation", {}).get("status")
        click.echo(
            f"{marker} {snap.run_id}  published {snap.published_at}  validation {validation}  "
            f"{snap.size_bytes() / 1e6:.1f} MB"
        )


def _postgres_versions(as_json: bool, target: Any) -> None:
    from northstar.publish.postgres.push import list_postgres

    current, found = list_postgres(target)
    if as_json:
        rows = [
            {
                "run_id": v.run_id,
                "current": v.run_id == current,
                "schema": v.schema,
                "previous_run_id": v.previous_run_id,
                "published_at": v.published_at,
                "loaded_at": v.loaded_at.isoformat(),
                "rows": sum(v.tables.values()),
            }
            for v in found
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    if not found:
        click.echo(f"nothing published in Postgres schema {target.schema} on {target.shown()}")
        return
    for v in found:
        marker = "*" if v.run_id == current else " "
        click.echo(
            f"{marker} {v.run_id}  schema {v.schema}  loaded {v.loaded_at.isoformat()}  "
            f"{sum(v.tables.values())} rows"
        )


@click.command()
@click.argument("run_id", required=False)
@wait_option
@to_option
@pg_target_option
@handle_errors
def rollback(run_id: str | None, wait: float, to: str | None, pg_target: str | None) -> None:
    """Make an earlier snapshot current again (default: the current one's previous, the
    snapshot that was current when it was published; repeated rollbacks walk back).

    The switch is atomic; readers that already opened the current snapshot keep reading
    it. Exit 6 when there is nothing to roll back to, 2 for a malformed RUN_ID.

    With --to postgres: switch the schema BI tools read in Postgres instead (one
    transaction), to the version before the current one or to RUN_ID; the local
    snapshots are left as they are.
    """
    if run_id is not None:
        check_run_id(run_id)  # malformed: exit 2 before anything is touched
    target = postgres_target(to, pg_target)
    if target is not None:
        from northstar.publish.postgres.push import rollback_postgres

        previous, current = rollback_postgres(target, run_id, wait=wait)
        click.echo(
            f"postgres: {target.schema} now shows {current} (was {previous or 'none'}) "
            f"on {target.shown()}"
        )
        return
    from northstar.publish.publisher import rollback as switch_back

    previous, current = switch_back(run_id=run_id, wait=wait)
    click.echo(f"current snapshot: {current} (was {previous or 'none'})")
