"""One error module, one place for exit codes, no import up the layers.

Python only (no dbt build): reads the package's source with `ast` and runs tiny Click
commands through `handle_errors`.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from northstar import errors, exit_codes
from northstar.cli import COMMANDS
from northstar.commands._common import handle_errors

PACKAGE = Path(__file__).resolve().parents[2] / "northstar"

# Modules outside northstar/publish/ that may import it: the entry points that publish or
# read a published snapshot. Everything else (validation, query, alerts, digest, ...)
# gets its errors from northstar.errors and never imports publishing.
MAY_IMPORT_PUBLISH = {
    "northstar/build.py": "runs publish after dbt build, under the warehouse lock",
    "northstar/commands/build.py": "parses --export with publish.targets",
    "northstar/commands/publish.py": "runs publish",
    "northstar/commands/snapshots.py": "lists snapshots and rolls back",
    "northstar/commands/_postgres.py": "--to postgres: loads a snapshot into Postgres",
    "northstar/commands/metrics.py": "opens the snapshot it reads (publish.reader)",
    "northstar/commands/query.py": "opens the snapshot it reads (publish.reader)",
    "northstar/commands/explain.py": "opens the snapshot it reads (publish.reader)",
    "northstar/commands/digest.py": "opens the snapshot it reads (publish.reader)",
    "northstar/commands/alerts.py": "opens the snapshot it reads (publish.reader)",
    "northstar/commands/backtest.py": "opens the snapshot it reads (publish.reader)",
    "northstar/serve/source.py": "opens the snapshot it serves (publish.reader, publish.store)",
}


def imported_modules(path: Path, package: Path = PACKAGE) -> set[str]:
    """Every module `path` (in `package`) imports, anywhere in it (a lazy import inside a
    function too), relative imports resolved; `from northstar import publish` counts as
    northstar.publish."""
    tree = ast.parse(path.read_text(), filename=str(path))
    # The package the module is in: what a relative import is relative to.
    here = list(path.relative_to(package.parent).parent.parts)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def publish_importers(package: Path) -> set[str]:
    """Modules outside <package>/publish/ that import northstar.publish (or a module in it)."""
    importers = set()
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package.parent).as_posix()
        if relative.startswith("northstar/publish/"):
            continue
        if any(
            m == "northstar.publish" or m.startswith("northstar.publish.")
            for m in imported_modules(path, package)
        ):
            importers.add(relative)
    return importers


def test_no_module_imports_publishing_but_its_entry_points():
    forbidden = publish_importers(PACKAGE) - set(MAY_IMPORT_PUBLISH)
    assert not forbidden, f"import northstar.errors instead of northstar.publish: {forbidden}"


def test_the_allowed_list_is_not_stale():
    # An entry that no longer imports publishing must leave the list, so it stays small.
    assert set(MAY_IMPORT_PUBLISH) <= publish_importers(PACKAGE)


@pytest.mark.parametrize(
    "line",
    [
        "from northstar.publish.store import SnapshotStore",
        "from northstar import publish",
        "import northstar.publish.reader",
        "from ..publish import reader",
        "def later():\n    from northstar.publish import reader\n",
    ],
)
def test_a_forbidden_import_is_caught(tmp_path, line):
    package = tmp_path / "northstar"
    (package / "validation").mkdir(parents=True)
    (package / "validation" / "warehouse.py").write_text(f"{line}\n")
    (package / "validation" / "ok.py").write_text("from northstar.errors import BusyError\n")
    assert publish_importers(package) == {"northstar/validation/warehouse.py"}


# Every error class and the code a scheduler sees for it (docs/cli.md#exit-codes).
EXIT_CODES = {
    errors.NorthstarError: exit_codes.ERROR,
    errors.InvalidInputError: exit_codes.USAGE,
    errors.NotFoundError: exit_codes.NOT_FOUND,
    errors.PipelineError: exit_codes.PIPELINE_FAILED,
    errors.BusyError: exit_codes.PIPELINE_FAILED,
    errors.PostgresTargetError: exit_codes.PIPELINE_FAILED,
    errors.WebhookError: exit_codes.ERROR,
    errors.ValidationFailedError: exit_codes.DATA_INVALID,
    errors.DefinitionChangedError: exit_codes.ERROR,
    errors.RestatementNotAcceptedError: exit_codes.DATA_INVALID,
    errors.WarehouseError: exit_codes.ERROR,
    errors.WarehouseNotFoundError: exit_codes.NOT_FOUND,
    errors.TablesNotFoundError: exit_codes.NOT_FOUND,
    errors.WarehouseUnreadableError: exit_codes.ERROR,
    errors.WarehouseLockedError: exit_codes.PIPELINE_FAILED,
    errors.SuitesError: exit_codes.ERROR,
    errors.SettingsError: exit_codes.ERROR,
    errors.SpecError: exit_codes.ERROR,
    errors.ColumnsNotFoundError: exit_codes.DATA_INVALID,
    errors.ValidationNotRunError: exit_codes.ERROR,  # an instance takes its cause's
    errors.FailedCheck: exit_codes.ERROR,
    errors.DataInvalid: exit_codes.DATA_INVALID,
    errors.GuardrailBreached: exit_codes.GUARDRAIL_BREACHED,
}


def test_every_error_class_carries_its_exit_code():
    defined = {
        value
        for value in vars(errors).values()
        if inspect.isclass(value) and issubclass(value, Exception)
    }
    assert defined == set(EXIT_CODES)
    assert {cls: cls.exit_code for cls in EXIT_CODES} == EXIT_CODES


def test_the_dbt_error_is_a_pipeline_failure():
    from northstar.dbt_runner import DbtError

    assert DbtError(["build"], 2).exit_code == exit_codes.PIPELINE_FAILED


def test_validation_that_cannot_run_exits_as_its_cause():
    missing = errors.TablesNotFoundError(Path("w.duckdb"), ["marts.x"])
    wrapped = errors.ValidationNotRunError(missing)
    assert wrapped.exit_code == exit_codes.NOT_FOUND
    assert str(wrapped) == f"validation cannot run: {missing}"
    assert errors.ValidationNotRunError(errors.SuitesError("stale")).exit_code == exit_codes.ERROR


def _run(error: Exception) -> tuple[int, str, str]:
    @click.command()
    @handle_errors
    def command() -> None:
        click.echo("the report")
        raise error

    result = CliRunner().invoke(command, [])
    return result.exit_code, result.stdout, result.stderr


def test_an_error_is_one_line_and_its_class_code():
    assert _run(errors.NotFoundError("no snapshot\nyet")) == (
        exit_codes.NOT_FOUND,
        "the report\n",
        "error: no snapshot\\nyet\n",
    )
    failed = errors.ValidationFailedError("validation failed", details="  FAIL x\n  FAIL y")
    assert _run(failed) == (exit_codes.DATA_INVALID, "the report\n", f"error: {failed}\n")


def test_a_failed_check_adds_no_error_line_to_its_report():
    assert _run(errors.GuardrailBreached()) == (exit_codes.GUARDRAIL_BREACHED, "the report\n", "")
    assert _run(errors.DataInvalid()) == (exit_codes.DATA_INVALID, "the report\n", "")


def test_anything_else_keeps_its_traceback():
    result = CliRunner().invoke(click.command()(handle_errors(lambda: 1 / 0)), [])
    assert isinstance(result.exception, ZeroDivisionError)


WRAPPER = handle_errors(lambda: None).__code__


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_goes_through_handle_errors(name):
    module, attribute = COMMANDS[name].split(":")
    function = getattr(importlib.import_module(module), attribute).callback
    chain = [function]
    while hasattr(chain[-1], "__wrapped__"):
        chain.append(chain[-1].__wrapped__)
    assert WRAPPER in [getattr(f, "__code__", None) for f in chain]


def test_no_command_picks_an_exit_code():
    # A command raises an error class from northstar.errors; handle_errors alone turns it
    # into an exit code (commands/_common.py: report).
    for path in sorted((PACKAGE / "commands").glob("*.py")):
        if path.name == "_common.py":
            continue
        tree = ast.parse(path.read_text())
        names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        assert not names & {"SystemExit", "exit_codes"}, path.name
        imports = imported_modules(path)
        assert not imports & {
            "northstar.exit_codes",
            "northstar.commands._common.report",
            "northstar.commands._common.fail",
        }, path.name
