"""`northstar sync`: write (or check) every file generated from the spec."""

from __future__ import annotations

from pathlib import Path

import click

from northstar.commands._common import handle_errors, spec_option, vars_file_option, vars_option
from northstar.errors import NorthstarError


@click.command()
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 naming the files that are not what the spec generates.",
)
@vars_option
@vars_file_option
@spec_option
@handle_errors
def sync(
    check: bool, vars_text: str | None, vars_file: Path | None, spec_file: Path | None
) -> None:
    """Write the semantic-layer YAML and the expectation suites from the spec.

    Both are committed beside the models; `northstar build` regenerates them by itself
    when they belong to another spec (docs/cli.md, "The generated files").
    """
    from northstar.generated import SYNC_COMMAND, GeneratedFiles
    from northstar.lint import lint_warning_lines
    from northstar.paths import Paths
    from northstar.project_vars import cli_vars
    from northstar.spec import load_spec

    paths = Paths.discover()
    variables = cli_vars(vars_text, spec_file, vars_file)
    spec = load_spec(paths.project_dir, variables=variables)
    files = GeneratedFiles.from_spec(spec, paths.project_dir, variables)
    stale = files.stale(paths.project_dir)
    # The lint never fails sync; it is said where the spec is read anyway.
    for line in lint_warning_lines(spec):
        click.echo(line, err=True)
    if check:
        if stale:
            raise NorthstarError(
                f"not what the spec generates: {', '.join(stale)}; run `{SYNC_COMMAND}` "
                "and commit the result"
            )
        click.echo("the semantic YAML and the expectation suites are up to date with the spec")
        return
    files.write(paths.project_dir, paths.target_dir)
    if stale:
        click.echo(f"wrote {', '.join(stale)}")
    else:
        click.echo("already up to date with the spec: nothing changed")
