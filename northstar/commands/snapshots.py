"""`northstar snapshots` and `northstar rollback`."""

from __future__ import annotations

import json

import click

from northstar.commands._common import handle_errors, wait_option


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@handle_errors
def snapshots(as_json: bool) -> None:
    """List the published snapshots, oldest first; * marks the current one."""
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


@click.command()
@click.argument("run_id", required=False)
@wait_option
@handle_errors
def rollback(run_id: str | None, wait: float) -> None:
    """Make an earlier snapshot current again (default: the current one's previous, the
    snapshot that was current when it was published; repeated rollbacks walk back).

    The switch is atomic; readers that already opened the current snapshot keep reading
    it. Exit 6 when there is nothing to roll back to, 2 for a malformed RUN_ID.
    """
    from northstar.publish.publisher import rollback as switch_back

    previous, current = switch_back(run_id=run_id, wait=wait)
    click.echo(f"current snapshot: {current} (was {previous or 'none'})")
