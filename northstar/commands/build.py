"""`northstar build`: dbt build, then validation, then publish - one exit code."""

from __future__ import annotations

from pathlib import Path

import click

from northstar.commands._common import (
    accept_restatement_option,
    export_option,
    handle_errors,
    keep_option,
    pg_target_option,
    progress,
    restatement_tolerance_option,
    skip_validation_option,
    spec_option,
    to_option,
    vars_file_option,
    vars_option,
    wait_option,
)
from northstar.commands._postgres import postgres_target, push_to_postgres
from northstar.commands.params import SafePath
from northstar.errors import InvalidInputError


@click.command()
@click.option("--target", "-t", default=None, help="dbt target in your profiles.yml.")
@click.option(
    "--profiles-dir",
    type=SafePath(file_okay=False, path_type=Path),
    default=None,
    help="Directory holding your profiles.yml (default: $DBT_PROFILES_DIR, else the project).",
)
@skip_validation_option
@click.option(
    "--no-publish",
    is_flag=True,
    help="Only run dbt build (for a non-DuckDB target, or to test models without publishing).",
)
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Rebuild the incremental models from all raw files (dbt --full-refresh). Not needed "
    "after a spec or raw-file change: those rebuild by themselves (docs/incremental.md).",
)
@click.option(
    "--skip-unit-tests",
    is_flag=True,
    help="Leave out dbt's unit tests (they test the SQL, not the data): a scheduled run's "
    "choice. Data tests and validation still run.",
)
@vars_option
@vars_file_option
@spec_option
@click.option(
    "--no-regenerate",
    is_flag=True,
    help="Refuse (naming `northstar sync`) instead of rewriting the semantic YAML and the "
    "expectation suites when they belong to another spec: for deployments whose project "
    "files are read-only or reviewed.",
)
@keep_option
@export_option
@wait_option
@accept_restatement_option
@restatement_tolerance_option
@to_option
@pg_target_option
@handle_errors
def build(
    target: str | None,
    profiles_dir: Path | None,
    skip_validation: bool,
    no_publish: bool,
    full_refresh: bool,
    skip_unit_tests: bool,
    vars_text: str | None,
    vars_file: Path | None,
    spec_file: Path | None,
    no_regenerate: bool,
    keep: int,
    exports: str,
    wait: float,
    accept_restatement: bool,
    restatement_tolerance: float | None,
    to: str | None,
    pg_target: str | None,
) -> None:
    """Run the pipeline a scheduler runs: dbt build, validation, publish (and with
    --to postgres, the snapshot loaded into Postgres for BI tools).

    \b
    With --spec or --vars, or after an edit of the spec, the semantic YAML and the
    expectation suites are regenerated from the spec the warehouse was built with before
    the gate runs (see --no-regenerate).

    \b
    Exit codes: 0 published; 3 dbt build failed or another build is running;
    4 validation failed, or an unacknowledged restatement beyond the tolerance (nothing
    published); 6 warehouse or profiles.yml missing; 1 bad configuration (e.g. unreadable
    profiles.yml, or a metric's definition changed without a definition_version bump).
    """
    from northstar.build import dbt_build_args, run_build
    from northstar.project_vars import cli_vars
    from northstar.publish.targets import parse_exports

    # Before dbt runs: a Postgres target that cannot be used fails the build at once.
    if no_publish and to:
        raise InvalidInputError("--to postgres loads the published snapshot: drop --no-publish")
    pg = postgres_target(to, pg_target)
    result = run_build(
        target=target,
        profiles_dir=profiles_dir,
        skip_validation=skip_validation,
        publish_snapshot=not no_publish,
        keep=keep,
        exports=parse_exports(exports),
        wait=wait,
        dbt_args=dbt_build_args(full_refresh=full_refresh, skip_unit_tests=skip_unit_tests),
        variables=cli_vars(vars_text, spec_file, vars_file),
        regenerate=not no_regenerate,
        progress=progress,
        accept_restatement=accept_restatement,
        restatement_tolerance=restatement_tolerance,
    )
    if result.published is not None:
        published = result.published
        click.echo(
            f"published snapshot {published.run_id} ({published.size_bytes / 1e6:.1f} MB, "
            f"validation {published.manifest['validation']['status']}) -> {published.path}"
        )
        if pg is not None:
            push_to_postgres(published.run_id, pg, keep, wait, as_json=False)
    else:
        click.echo("dbt build done; nothing published (--no-publish)")
