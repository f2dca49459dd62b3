"""`northstar query METRIC`: a metric's series from the published snapshot."""

from __future__ import annotations

import click

from northstar.commands._common import handle_errors, snapshot_option


@click.command()
@click.argument("metric")
@click.option("--grain", default="week", show_default=True, help="day, week or month.")
@click.option(
    "--segment",
    default=None,
    metavar="NAME[=VALUE]",
    help="Break down by a segment (plan), or one value of it (plan=pro). Default: the total.",
)
@click.option("--from", "date_from", default=None, metavar="YYYY-MM-DD", help="First period.")
@click.option("--to", "date_to", default=None, metavar="YYYY-MM-DD", help="Last period.")
@click.option("--complete-only", is_flag=True, help="Leave out the current, partial period.")
@click.option(
    "--definition-version",
    default=None,
    metavar="N",
    help="The values METRIC had under an earlier definition_version, as published before "
    "the bump (fct_metric_values_history). Default: the current definition.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@snapshot_option
@handle_errors
def query(
    metric: str,
    grain: str,
    segment: str | None,
    date_from: str | None,
    date_to: str | None,
    complete_only: bool,
    definition_version: str | None,
    fmt: str,
    run_id: str | None,
) -> None:
    """Print METRIC's values by period from the current snapshot.

    Names are checked against the snapshot's catalog (exit 6 when unknown); dates must be
    YYYY-MM-DD (exit 2). Periods are filtered on their start date, both ends inclusive.
    A definition_version the snapshot does not hold for METRIC is exit 6.
    """
    from northstar.publish import reader
    from northstar.query import query_series, render

    con = reader.connect(reader.resolve(run_id=run_id))
    try:
        series = query_series(
            con,
            metric,
            grain=grain,
            segment=segment,
            date_from=date_from,
            date_to=date_to,
            complete_only=complete_only,
            definition_version=definition_version,
        )
    finally:
        con.close()
    click.echo(render(series, fmt))
