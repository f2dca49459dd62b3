"""`northstar init PATH_OR_TABLE`: profile a raw event export, write a starter vars file."""

from __future__ import annotations

import re
from pathlib import Path

import click

from northstar.commands._common import handle_errors, progress
from northstar.commands.params import SafePath
from northstar.errors import InvalidInputError, NorthstarError, NotFoundError

TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*")
FORMAT_CHOICES = ("csv", "parquet", "json", "ndjson")


@click.command()
@click.argument("source", metavar="PATH_OR_TABLE")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMAT_CHOICES),
    default=None,
    help="How to read the file (default: from its extension; .txt is read as CSV).",
)
@click.option(
    "--out",
    type=SafePath(dir_okay=False, path_type=Path),
    default=Path("northstar.yml"),
    show_default=True,
    help="The vars file to write.",
)
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@handle_errors
def init(source: str, fmt: str | None, out: Path, force: bool) -> None:
    """Profile an event export and write a starter vars file for it.

    PATH_OR_TABLE is a file (CSV, whitespace-aligned text, Parquet, JSON, NDJSON) or a
    `schema.table` in the DuckDB warehouse. The report shows the columns and the role
    proposed for each, the event names with their counts, the date range and the
    candidate entities; the file holds the mapping, start_date and as_of from the data, and
    a North Star spec proposed from it. Then: `northstar build --vars-file FILE`.
    """
    from northstar.onboard.report import report_text
    from northstar.onboard.run import profile_source

    if out.exists() and not force:
        raise NorthstarError(f"{out} exists: pass --force to overwrite it, or another --out")
    path = Path(source)
    if not path.exists() and not TABLE.fullmatch(source):
        raise NotFoundError(f"{source!r} is neither a file nor a schema.table of the warehouse")
    if path.is_dir():
        raise InvalidInputError(f"{source} is a directory: name one export file")
    progress(f"profiling {source}")
    profile, proposal = profile_source(source, fmt)
    click.echo(report_text(profile, proposal))
    out.write_text(proposal.to_yaml(source))
    click.echo(f"\nwrote {out}. Next: northstar build --vars-file {out}")
