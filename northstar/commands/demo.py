"""`northstar generate` and `northstar demo`: the embedded demo, end to end."""

from __future__ import annotations

from pathlib import Path

import click

from northstar.commands._common import handle_errors, progress
from northstar.commands.params import SafePath
from northstar.errors import InvalidInputError
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


signup_days_option = click.option(
    "--signup-days",
    type=click.IntRange(1, 2**14 - 1),
    default=None,
    help="Days over which --accounts teams sign up; they keep coming at that rate after "
    "it. The world does not depend on --days, so a longer range only adds days.  "
    "[default: 213]",
)


@click.command()
@accounts_option
@days_option
@seed_option
@signup_days_option
@click.option(
    "--out",
    type=SafePath(file_okay=False, path_type=Path),
    default=None,
    help="Output directory (default: the project's raw data directory).",
)
@click.option(
    "--append-days",
    type=click.IntRange(1, 2**14 - 1),
    default=None,
    help="Add this many days to the data set in --out instead: new files for the days that "
    "land, the old event files untouched; the same files as generating the longer range.",
)
@click.pass_context
@handle_errors
def generate(
    ctx: click.Context,
    accounts: int,
    days: int,
    seed: int,
    signup_days: int | None,
    out: Path | None,
    append_days: int | None,
) -> None:
    """Generate deterministic demo events for a team-messaging product as Parquet.

    One events file per day the rows landed (events/YYYY-MM-DD.parquet): late and duplicate
    deliveries sit in the day they arrived. --append-days adds days to an existing data set.

    Exit 2 for a bad option, or an --out that is a file or a directory holding anything
    but a generated data set (it is never replaced).
    """
    from northstar.demo import generator
    from northstar.demo.model import SIGNUP_DAYS

    out_dir = out or Paths.discover().raw_dir
    if append_days is not None:
        # the data set's own parameters decide; a different one would be another world
        given = [
            f"--{name.replace('_', '-')}"
            for name in ("accounts", "days", "seed", "signup_days")
            if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
        ]
        if given:
            raise InvalidInputError(
                f"--append-days continues the data set as it is: drop {', '.join(given)}"
            )
        try:
            result = generator.append_days(out_dir, append_days)
        except (FileNotFoundError, FileExistsError, NotADirectoryError, ValueError) as err:
            raise InvalidInputError(f"--append-days: {err}") from err
        click.echo(result.summary())
        return
    try:
        result = generator.generate_demo(
            out_dir,
            accounts=accounts,
            days=days,
            seed=seed,
            signup_days=signup_days or SIGNUP_DAYS,
        )
    except (FileExistsError, NotADirectoryError) as err:
        raise InvalidInputError(f"--out: {err}") from err
    except ValueError as err:
        raise InvalidInputError(str(err)) from err
    click.echo(result.summary())


@click.command()
@accounts_option
@days_option
@seed_option
@signup_days_option
@handle_errors
def demo(accounts: int, days: int, seed: int, signup_days: int | None) -> None:
    """Generate the demo events, then run the whole pipeline on embedded DuckDB.

    The same steps as `northstar build`: dbt build (every model, unit test and data test),
    the validation gate, and a published snapshot; the same exit codes.
    """
    from northstar.build import run_build
    from northstar.demo.generator import generate_demo
    from northstar.demo.model import SIGNUP_DAYS

    paths = Paths.discover()
    progress(f"==> generating demo events into {paths.raw_dir}")
    result = generate_demo(
        paths.raw_dir,
        accounts=accounts,
        days=days,
        seed=seed,
        signup_days=signup_days or SIGNUP_DAYS,
    )
    click.echo(result.summary())
    result = run_build(paths, progress=progress)
    if result.published is not None:
        click.echo(f"warehouse: {paths.warehouse}")
        click.echo(f"published snapshot {result.published.run_id} -> {result.published.path}")
