"""`northstar semantic`: write (or check) the MetricFlow semantic layer from the spec."""

from __future__ import annotations

from pathlib import Path

import click

from northstar.commands._common import handle_errors
from northstar.commands.params import SafePath
from northstar.errors import NorthstarError
from northstar.paths import find_project_dir
from northstar.semantic.exports.targets import TARGETS


@click.command()
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 with a diff when the committed file is not what the spec "
    "generates (CI runs this).",
)
@click.option(
    "--vars-file",
    "override",
    type=SafePath(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A YAML file whose top-level keys replace dbt_project.yml vars (as `dbt --vars`), "
    "e.g. another `northstar:` spec.",
)
@click.option(
    "--export",
    "target",
    type=click.Choice(sorted(TARGETS)),
    default=None,
    help="Instead, write the same metrics for another semantic layer (Lightdash dbt meta, "
    "a Cube data model) under --out.",
)
@click.option(
    "--out",
    type=SafePath(file_okay=False, path_type=Path),
    default=None,
    help="The directory --export writes into (created; its files are replaced).",
)
@handle_errors
def semantic(check: bool, override: Path | None, target: str | None, out: Path | None) -> None:
    """Generate the MetricFlow semantic models, metrics and the nsm_pack saved query.

    Every spec metric MetricFlow can compute exactly becomes a metric of the same name
    (role, owner, thresholds in its meta); the others are listed, with the reason, in the
    generated file's header. With --export, the same metrics for Lightdash or Cube.
    See docs/semantic-layer.md.
    """
    from northstar.semantic import GENERATED_FILE, write
    from northstar.semantic import check as check_file

    if target is None and out is not None:
        raise click.UsageError("--out is for --export")
    if target is not None:
        if check:
            raise click.UsageError("--check applies to the MetricFlow file, not to --export")
        if out is None:
            raise click.UsageError(f"--export {target} needs --out DIR")
        _export(target, out, override)
        return

    project_dir = find_project_dir()
    if check:
        result = check_file(project_dir, override)
    else:
        from northstar.generated import forget_partial_parse
        from northstar.paths import Paths

        before = (
            (project_dir / GENERATED_FILE).read_bytes()
            if (project_dir / GENERATED_FILE).is_file()
            else b""
        )
        plan, path = write(project_dir, override)
        if path.read_bytes() != before:
            # dbt's saved parse state can fail on a metric the new file no longer declares.
            forget_partial_parse(Paths.discover().target_dir)
    if check:
        if result.ok:
            click.echo(f"{GENERATED_FILE} is up to date with the spec")
            return
        click.echo(result.diff, nl=False)
        raise NorthstarError(
            f"{GENERATED_FILE} differs from what the spec generates; "
            "run `northstar semantic` and commit the result"
        )

    click.echo(f"wrote {path.relative_to(project_dir)}")
    click.echo(f"in the semantic layer: {', '.join(p.metric.name for p in plan.included)}")
    for excluded in plan.excluded:
        click.echo(f"kept out: {excluded.metric.name}: {excluded.reason}")


def _export(target: str, out: Path, override: Path | None) -> None:
    from northstar.semantic.exports import export, write_export

    project_dir = find_project_dir()
    out.mkdir(parents=True, exist_ok=True)  # an unwritable --out fails before dbt runs
    result = export(target, project_dir, override)
    for path in write_export(result, out):
        click.echo(f"wrote {path}")
    click.echo(f"in the {target} export: {', '.join(result.included)}")
    for excluded in result.excluded:
        click.echo(f"kept out: {excluded.metric.name}: {excluded.reason}")
