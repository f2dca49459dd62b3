"""`northstar validate`: run the committed expectation suites on the warehouse (the gate)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from northstar.commands._common import handle_errors
from northstar.commands.params import SafePath
from northstar.errors import DataInvalid, InvalidInputError
from northstar.paths import Paths


@click.command()
@click.option(
    "--warehouse",
    type=SafePath(dir_okay=False, path_type=Path),
    default=None,
    help="DuckDB file to validate (default: $NORTHSTAR_DUCKDB_PATH, else the project's).",
)
@click.option(
    "--out",
    "out_dir",
    type=SafePath(file_okay=False, path_type=Path),
    default=None,
    help="Where results JSON and Data Docs go (default: <dbt target dir>/validation).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
@click.option(
    "--suites",
    "suites_dir",
    type=SafePath(file_okay=False, path_type=Path),
    default=None,
    help="Suite JSON directory (default: the project's expectations/, checked against the spec).",
)
@click.option(
    "--as-of",
    default=None,
    help="Reference date for freshness, ISO (default: the reference time the dbt build pinned, "
    "from northstar__as_of or the raw data's manifest; else today in UTC).",
)
@handle_errors
def validate(
    warehouse: Path | None,
    out_dir: Path | None,
    as_json: bool,
    suites_dir: Path | None,
    as_of: str | None,
) -> None:
    """Validate the warehouse with the expectation suites; exit 4 if the data is wrong.

    A guardrail in breach is reported but is not a validation failure: the data can be
    right about an unhealthy product. Exit codes: 0 valid; 4 an expectation failed, or a
    table is empty or lacks a contract column; 6 the warehouse or a table is missing; 3
    the warehouse is open for writing by another process (a running dbt build); 2 a bad
    --as-of; 1 the suites or settings are unusable (for example out of date with the
    spec). docs/validation.md lists the suites.
    """
    from northstar.validation import validate_warehouse
    from northstar.validation.runner import resolve_as_of

    reference = None
    if as_of is not None:  # a malformed command line: refused before anything runs
        try:
            reference = resolve_as_of(as_of, None)
        except ValueError:
            shown = as_of if len(as_of) <= 60 else as_of[:57] + "..."
            raise InvalidInputError(
                f"--as-of: {shown!r} is not a date; use YYYY-MM-DD (or an ISO timestamp), "
                "e.g. 2026-10-01"
            ) from None

    paths = Paths.discover()
    # Why it cannot run (a missing warehouse or table, unusable suites or settings, the
    # warehouse open for writing) is an error from northstar.errors: handle_errors reports it.
    result = validate_warehouse(
        warehouse or paths.warehouse,
        out_dir or paths.target_dir / "validation",
        suites_dir=suites_dir,
        as_of=reference,
        project_dir=paths.project_dir,
    )
    click.echo(json.dumps(result.to_dict(), indent=2) if as_json else result.summary_text())
    if not result.success:
        raise DataInvalid()
