"""`northstar generate` and `northstar demo`: the embedded demo, end to end."""

from __future__ import annotations

from pathlib import Path

import click

from northstar import exit_codes
from northstar.commands._common import fail, handle_errors, progress
from northstar.commands.params import SafePath
from northstar.paths import Paths

# The generator's own limits (northstar.demo.model.Params.validate: the bits of the event
# key), checked by Click so a bad value is a usage error (exit 2), never a traceback.
accounts_option = click.option(
    "--accounts",
    type=click.IntRange(1, 2**24 - 1),
    default=1500,
    show_default=True,
    help="Teams.",
)
days_option = click.option(
    "--days",
    type=click.IntRange(1, 2**14 - 1),
    default=213,
    show_default=True,
    help="Days of history.",
)
seed_option = click.option(
    "--seed",
    type=click.IntRange(0, 2**62 - 1),
    default=42,
    show_default=True,
    help="Same seed, same data.",
)


@click.command()
@accounts_option
@days_option
@seed_option
@click.option(
    "--out",
    type=SafePath(file_okay=False, path_type=Path),
    default=None,
    help="Output directory (default: the project's raw data directory).",
)
def generate(accounts: int, days: int, seed: int, out: Path | None) -> None:
    """Generate deterministic demo events for a team-messaging product as Parquet.

    Exit 2 for a bad option, or an --out that is a file or a directory holding anything
    but a generated data set (it is never replaced).
    """
    from northstar.demo.generator import generate_demo

    try:
        result = generate_demo(
            out or Paths.discover().raw_dir, accounts=accounts, days=days, seed=seed
        )
    except (FileExistsError, NotADirectoryError) as err:
        fail(f"--out: {err}", exit_codes.USAGE)
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
