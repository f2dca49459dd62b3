"""`northstar digest`: the weekly digest as Markdown, JSON and HTML."""

from __future__ import annotations

from pathlib import Path

import click

from northstar.commands._common import handle_errors, snapshot_option
from northstar.commands.params import NonEmpty, SafePath


@click.command()
@click.option(
    "--out",
    type=SafePath(file_okay=False, path_type=Path),
    default=None,
    help="Directory to write into (default: digests/ next to the snapshots directory).",
)
@click.option(
    "--grain",
    type=click.Choice(["week", "month"]),
    default="week",
    show_default=True,
)
@click.option(
    "--period",
    default=None,
    metavar="YYYY-MM-DD",
    help="A date in the (complete) period to digest. Default: the latest complete period.",
)
@click.option(
    "--owner",
    type=NonEmpty(),
    default=None,
    help="Only this owner's inputs, guardrails and outputs (an owner in the catalog).",
)
@click.option("--print", "echo", is_flag=True, help="Also print the Markdown to stdout.")
@snapshot_option
@handle_errors
def digest(
    out: Path | None,
    grain: str,
    period: str | None,
    owner: str | None,
    echo: bool,
    run_id: str | None,
) -> None:
    """Write the digest of the latest complete week (or of --period): Markdown, JSON and a
    self-contained HTML page (inline SVG charts, no network). Same snapshot, same bytes.

    \b
    Exit codes: 2 a malformed --period date; 6 an unknown --owner or grain, or a --period
    outside the snapshot or not complete yet.
    """
    from northstar.digest import build_digest, render_markdown, write_digest
    from northstar.paths import Paths
    from northstar.publish import reader

    paths = Paths.discover()
    snapshot = reader.resolve(paths, run_id=run_id)
    con = reader.connect(snapshot)
    try:
        content = build_digest(con, snapshot.manifest, grain=grain, period=period, owner=owner)
    finally:
        con.close()
    written = write_digest(content, out or paths.snapshots_dir.parent / "digests")
    if echo:
        click.echo(render_markdown(content), nl=False)
    for path in written:
        click.echo(f"wrote {path}", err=echo)
