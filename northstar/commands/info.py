"""`northstar info`: where the project, warehouse, raw data and snapshots are."""

from __future__ import annotations

import json

import click

from northstar.commands._common import handle_errors
from northstar.paths import Paths


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@handle_errors
def info(as_json: bool) -> None:
    """Show where the dbt project, warehouse, raw data and snapshots are."""
    paths = Paths.discover().as_dict()
    if as_json:
        click.echo(json.dumps(paths, indent=2))
        return
    width = max(len(key) for key in paths)
    for key, value in paths.items():
        click.echo(f"{key:<{width}}  {value}")
