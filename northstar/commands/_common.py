"""What the build/publish/read commands share: error handling and common options.

Every command is wrapped in `handle_errors`: a `NorthstarError` (northstar/errors.py)
becomes one line on stderr and the exit code its class carries (never a traceback); a
DuckDB error while reading a snapshot is reported as a NorthstarError (exit 1); an
OSError on a path is left to the Click group (northstar/cli.py), which reports it the
same way through `report`. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from northstar.commands.params import FiniteFloatRange, SafePath
from northstar.errors import NorthstarError

F = TypeVar("F", bound=Callable[..., Any])


def one_line(text: str) -> str:
    """`text` with line breaks and other control characters escaped: an error message
    naming a user's value (a path with a newline in it) stays one line on stderr."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


MAX_MESSAGE = 1000


def report(error: NorthstarError) -> NoReturn:
    """Print `error` as one `error:` line (and its details, as they are) and exit with its
    class's code: the one place an error becomes an exit code."""
    if not error.reported:
        # args[0], not str(): ValidationFailedError's str() carries its details too.
        message = one_line(str(error.args[0]) if error.args else str(error))
        if len(message) > MAX_MESSAGE:
            # A value echoed back (a 100 kB option) must not become a 100 kB line.
            message = f"{message[: MAX_MESSAGE - 300]} ... {message[-250:]}"
        click.echo(f"error: {message}", err=True)
        if error.details:
            click.echo(error.details, err=True)
    raise SystemExit(error.exit_code)


def handle_errors(command: F) -> F:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except NorthstarError as err:
            report(err)
        except Exception as err:
            duckdb = sys.modules.get("duckdb")
            if duckdb is not None and isinstance(err, duckdb.Error):
                report(NorthstarError(f"DuckDB could not read the data: {err}"))
            raise

    return wrapper  # type: ignore[return-value]


def progress(message: str) -> None:
    """Progress goes to stderr, so stdout stays clean for --json / --format output."""
    click.echo(message, err=True)


snapshot_option = click.option(
    "--snapshot",
    "run_id",
    metavar="RUN_ID",
    default=None,
    help="Read this snapshot instead of the current one (see `northstar snapshots`).",
)
wait_option = click.option(
    "--wait",
    type=FiniteFloatRange(min=0),
    default=0.0,
    show_default=True,
    metavar="SECONDS",
    help="If another build/publish holds the lock, wait this long before giving up (exit 3).",
)
keep_option = click.option(
    "--keep",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    envvar="NORTHSTAR_KEEP_SNAPSHOTS",
    help="Keep this many snapshots (the current one and the one `northstar rollback` "
    "returns to are always kept). "
    "Env: NORTHSTAR_KEEP_SNAPSHOTS.",
)
export_option = click.option(
    "--export",
    "exports",
    default="duckdb,parquet,csv",
    show_default=True,
    metavar="FORMATS",
    help="Comma-separated formats to write; duckdb is always written (queries read it).",
)
accept_restatement_option = click.option(
    "--accept-restatement",
    is_flag=True,
    help="Publish even when a metric whose definition_version was bumped restates "
    "published periods beyond the tolerance (docs/definition-versions.md). Without it "
    "(or the metric's accept_restatement: <version>), such a publish exits 4.",
)
restatement_tolerance_option = click.option(
    "--restatement-tolerance",
    type=FiniteFloatRange(min=0),
    default=None,
    envvar="NORTHSTAR_RESTATEMENT_TOLERANCE",
    metavar="FRACTION",
    help="Largest change of a published period a definition_version bump may make "
    "unacknowledged, as a fraction (default 0.01 = 1%). "
    "Env: NORTHSTAR_RESTATEMENT_TOLERANCE.",
)
skip_validation_option = click.option(
    "--skip-validation",
    is_flag=True,
    help="Publish WITHOUT running the validation gate. Loud: printed and recorded in the "
    "manifest (validation.status = skipped).",
)
vars_option = click.option(
    "--vars",
    "vars_text",
    default=None,
    metavar="YAML",
    help="dbt vars as dbt takes them (a YAML or JSON mapping); its top-level keys replace "
    "the project's, e.g. `{northstar__as_of: 2024-06-30}`.",
)
vars_file_option = click.option(
    "--vars-file",
    type=SafePath(exists=True, dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="A YAML file of dbt vars (what `northstar init` writes); --vars goes over it.",
)
spec_option = click.option(
    "--spec",
    "spec_file",
    type=SafePath(exists=True, dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="A YAML file holding the North Star spec (bare, or under `northstar:`), used "
    "instead of dbt_project.yml's vars.northstar.",
)
to_option = click.option(
    "--to",
    "to",
    type=click.Choice(["postgres"]),
    default=None,
    help="Also serve it from Postgres: load the snapshot with COPY into a versioned schema "
    "and switch the schema BI tools read in one transaction (docs/postgres.md).",
)
pg_target_option = click.option(
    "--pg-target",
    default=None,
    metavar="NAME",
    help="With --to postgres: connect as this profiles.yml output (type postgres) says; "
    "default $NORTHSTAR_PG_TARGET, else $NORTHSTAR_PG_DSN, else the PG* variables. "
    "Never a password on the command line.",
)
