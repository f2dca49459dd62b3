"""`northstar generate` and `northstar demo`: the embedded demo, end to end."""

from __future__ import annotations

from pathlib import Path

import click

from northstar.commands._common import handle_errors, progress
from northstar.paths import Paths

accounts_option = click.option("--accounts", default=1500, show_default=True, help="Teams.")
days_option = click.option("--days", default=213, show_default=True, help="Days of history.")
seed_option = click.option("--seed", default=42, show_default=True, help="Same seed, same data.")


@click.command()
@accounts_option
@days_option
@seed_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output directory (default: the project's raw data directory).",
)
def generate(accounts: int, days: int, seed: int, out: Path | None) -> None:
    """Generate deterministic demo events for a team-messaging product as Parquet."""
    from northstar.demo.generator import generate_demo

    result = generate_demo(out or Paths.discover().raw_dir, accounts=accounts, days=days, seed=seed)
    click.echo(result.summary())


@click.command()
@accounts_option
@days_option
@seed_option
@handle_errors
def demo(accounts: int, days: int, seed: int) -> None:
    """Generate the demo events, then run the whole pipeline on embedded DuckDB.

    The same steps as `northstar build`: dbt build (every model, unit test and data test),
    the validation gate, and a published snapshot; the same exit codes.
    """
    from northstar.build import run_build
    from northstar.demo.generator import generate_demo

    paths = Paths.discover()
    progress(f"==> generating demo events into {paths.raw_dir}")
    click.echo(generate_demo(paths.raw_dir, accounts=accounts, days=days, seed=seed).summary())
    result = run_build(paths, progress=progress)
    if result.published is not None:
        click.echo(f"warehouse: {paths.warehouse}")
        click.echo(f"published snapshot {result.published.run_id} -> {result.published.path}")
