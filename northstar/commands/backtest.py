"""`northstar backtest`: does the North Star (and each candidate) lead later retention,
paid conversion, expansion and revenue? Reads the published snapshot; never changes the
spec."""

from __future__ import annotations

from pathlib import Path

import click

from northstar.commands._common import handle_errors, snapshot_option
from northstar.commands.params import SafePath


@click.command()
@click.option(
    "--out",
    type=SafePath(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the whole backtest (candidates, scores, cohorts) to this JSON file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of the table.")
@snapshot_option
@handle_errors
def backtest(out: Path | None, as_json: bool, run_id: str | None) -> None:
    """Print the backtest of the North Star and the spec's `candidates`: at each one's best
    lag, the rank correlation of an entity's level with its retention k periods later (95%
    interval), the top vs bottom quantile lift, and the verdict of the leading rule
    (leading, weak, not leading); then every outcome and the series scope.

    The numbers are the published tables' (marts.rpt_north_star_backtest*), computed by
    the build; docs/backtest.md explains them and the rule. A snapshot from before the
    backtest existed exits 6.
    """
    from northstar.publish import reader
    from northstar.query.backtest import load, render_table, to_json

    con = reader.connect(reader.resolve(run_id=run_id))
    try:
        report = load(con)
    finally:
        con.close()
    if out is not None:
        out.write_text(to_json(report) + "\n")
    click.echo(to_json(report) if as_json else render_table(report))
