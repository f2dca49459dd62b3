"""The northstar command line. Each command is a thin wrapper over a plain function."""

from __future__ import annotations

import json
from pathlib import Path

import click

from northstar import __version__, exit_codes
from northstar.dbt_runner import DbtError, run_dbt
from northstar.paths import Paths


@click.group()
@click.version_option(__version__, prog_name="northstar")
def cli() -> None:
    """North Star Metric layer: build, validate and publish your North Star metrics."""


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def info(as_json: bool) -> None:
    """Show where the dbt project, warehouse, raw data and snapshots are."""
    paths = Paths.discover().as_dict()
    if as_json:
        click.echo(json.dumps(paths, indent=2))
        return
    width = max(len(key) for key in paths)
    for key, value in paths.items():
        click.echo(f"{key:<{width}}  {value}")


@cli.command()
@click.option("--accounts", default=1500, show_default=True, help="Number of teams.")
@click.option("--days", default=213, show_default=True, help="Days of history.")
@click.option("--seed", default=42, show_default=True, help="Random seed (same seed, same data).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output directory (default: the project's raw data directory).",
)
def generate(accounts: int, days: int, seed: int, out: Path | None) -> None:
    """Generate deterministic demo events for a team-messaging product as Parquet."""
    from northstar.demo.generator import generate_demo

    out = out or Paths.discover().raw_dir
    result = generate_demo(out, accounts=accounts, days=days, seed=seed)
    click.echo(result.summary())


@cli.command()
@click.option("--accounts", default=1500, show_default=True, help="Number of teams.")
@click.option("--days", default=213, show_default=True, help="Days of history.")
@click.option("--seed", default=42, show_default=True, help="Random seed.")
def demo(accounts: int, days: int, seed: int) -> None:
    """Generate the demo events and build every model and test on embedded DuckDB."""
    from northstar.demo.generator import generate_demo

    paths = Paths.discover()
    result = generate_demo(paths.raw_dir, accounts=accounts, days=days, seed=seed)
    click.echo(result.summary())
    try:
        run_dbt(["build"], paths)
    except DbtError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"built: {paths.warehouse}")


def main() -> None:  # pragma: no cover - console-script shim
    cli()
