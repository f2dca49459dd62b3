"""`northstar metrics [NAME]`: the metric tree, or one metric's definition and values."""

from __future__ import annotations

import click

from northstar.commands._common import handle_errors, snapshot_option


@click.command()
@click.argument("name", required=False)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@snapshot_option
@handle_errors
def metrics(name: str | None, fmt: str, run_id: str | None) -> None:
    """List the metric catalog as a tree (North Star -> inputs, guardrails, outputs, with
    owners and the latest complete week, then the built-in lifecycle diagnostics), or
    show one metric: NAME."""
    from northstar.publish import reader
    from northstar.query import Catalog, latest_values, metric_card, render_card, render_tree
    from northstar.query.catalog import catalog_payload
    from northstar.query.formats import render_json

    snapshot = reader.resolve(run_id=run_id)
    con = reader.connect(snapshot)
    try:
        catalog = Catalog.load(con)
        if name is not None:
            card = metric_card(con, catalog, name)
            click.echo(render_json(card) if fmt == "json" else render_card(card))
            return
        if fmt == "json":
            rows = catalog_payload(con, catalog)
            click.echo(render_json({"snapshot": snapshot.run_id, "metrics": rows}))
        else:
            click.echo(render_tree(catalog, latest_values(con)))
    finally:
        con.close()
