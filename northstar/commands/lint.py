"""`northstar lint`: the North Star anti-patterns the spec shows, as warnings."""

from __future__ import annotations

import json
from pathlib import Path

import click

from northstar.commands._common import handle_errors, spec_option, vars_file_option, vars_option


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the warnings as JSON.")
@vars_option
@vars_file_option
@spec_option
@handle_errors
def lint(
    as_json: bool, vars_text: str | None, vars_file: Path | None, spec_file: Path | None
) -> None:
    """Warn about North Star anti-patterns in the spec: revenue as the North Star, a
    cumulative count, a North Star no input can move (docs/spec.md, "Lint").

    Each warning says why it matters and how to silence it (`lint: {ignore: [RULE]}` in
    the spec). Warnings never fail: the exit code is 0 unless the spec is invalid (1).
    """
    from northstar.lint import lint_lines, lint_report
    from northstar.paths import Paths
    from northstar.project_vars import cli_vars
    from northstar.spec import load_spec

    paths = Paths.discover()
    spec = load_spec(paths.project_dir, variables=cli_vars(vars_text, spec_file, vars_file))
    if as_json:
        click.echo(json.dumps(lint_report(spec), indent=2))
    else:
        click.echo("\n".join(lint_lines(spec)))
