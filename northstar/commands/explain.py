"""`northstar explain [METRIC]`: why a metric (default: the North Star) moved, from the
published snapshot."""

from __future__ import annotations

import click

from northstar.commands._common import handle_errors, snapshot_option


@click.command()
@click.argument("metric", required=False)
@click.option(
    "--period",
    default=None,
    metavar="YYYY-MM-DD",
    help="A date in the period to explain. Default: the latest complete period.",
)
@click.option("--grain", default="week", show_default=True, help="day, week or month.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@snapshot_option
@handle_errors
def explain(
    metric: str | None, period: str | None, grain: str, as_json: bool, run_id: str | None
) -> None:
    """Split METRIC's change (default: the North Star's) from the previous period into
    components that add up to it.

    The North Star: breadth x depth, lifecycle, numerator / denominator, segments, and the
    entities that moved most. Any other metric: each segment value's change (a sum), or
    numerator / denominator and each segment value's mix and rate (a quotient); the output
    says which splits it shows and why the others are missing.

    Unknown metrics, grains and periods outside the snapshot exit 6; a malformed date
    exits 2. docs/decomposition.md explains every component.
    """
    from northstar.publish import reader
    from northstar.query.explain import explain as explain_period
    from northstar.query.explain import render

    con = reader.connect(reader.resolve(run_id=run_id))
    try:
        explanation = explain_period(con, metric, grain=grain, period=period)
    finally:
        con.close()
    click.echo(render(explanation, "json" if as_json else "table"))
