"""The northstar command line: one Click group, each command a thin wrapper over a plain function.

Commands live in `northstar/commands/<name>.py` and are imported only when used, so
`northstar --help` stays fast and one command's heavy imports (dbt, Great Expectations)
never slow down another.
"""

from __future__ import annotations

import errno
import importlib
import os

import click

from northstar import __version__
from northstar.errors import NorthstarError, NotFoundError

# command name -> "module:attribute" of its click.Command
COMMANDS: dict[str, str] = {
    "info": "northstar.commands.info:info",
    "init": "northstar.commands.init:init",
    "generate": "northstar.commands.demo:generate",
    "demo": "northstar.commands.demo:demo",
    "build": "northstar.commands.build:build",
    "publish": "northstar.commands.publish:publish",
    "snapshots": "northstar.commands.snapshots:snapshots",
    "rollback": "northstar.commands.snapshots:rollback",
    "metrics": "northstar.commands.metrics:metrics",
    "query": "northstar.commands.query:query",
    "explain": "northstar.commands.explain:explain",
    "backtest": "northstar.commands.backtest:backtest",
    "digest": "northstar.commands.digest:digest",
    "alerts": "northstar.commands.alerts:alerts",
    "serve": "northstar.commands.serve:serve",
    "validate": "northstar.commands.validate:validate",
    "semantic": "northstar.commands.semantic:semantic",
    "sync": "northstar.commands.sync:sync",
    "lint": "northstar.commands.lint:lint",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def invoke(self, ctx: click.Context) -> object:
        """Every command runs here: an OS error on a path, wherever it is raised (an
        option, an environment variable, a file written), is one line naming the path and
        a documented exit code (docs/cli.md#exit-codes), never a traceback."""
        try:
            return super().invoke(ctx)
        except OSError as err:
            if err.errno == errno.EPIPE:
                raise  # stdout closed by the reader (`| head`): Click exits quietly
            from northstar.commands._common import report

            report(path_error(err))


def _shown_path(path: object) -> str:
    text = os.fsdecode(path) if isinstance(path, str | bytes | os.PathLike) else str(path)
    # The path is the point of the message; a 100 kB one is shortened in the middle.
    return text if len(text) <= 300 else f"{text[:200]}...{text[-80:]}"


def os_error_message(err: OSError) -> str:
    """`<path>: <reason>`, as the shell says it (`<path> -> <path2>` for a rename)."""
    reason = err.strerror or str(err)
    if err.filename is None:
        return reason
    where = _shown_path(err.filename)
    if err.filename2 is not None:
        where += f" -> {_shown_path(err.filename2)}"
    return f"{where}: {reason}"


def path_error(err: OSError) -> NorthstarError:
    """NotFoundError (exit 6) when the path does not exist (or a part of it is not a
    directory); NorthstarError (exit 1) for any other reason it cannot be used: permission,
    read-only file system, a name too long..."""
    if err.errno in (errno.ENOENT, errno.ENOTDIR):
        return NotFoundError(os_error_message(err))
    return NorthstarError(os_error_message(err))


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="northstar")
def cli() -> None:
    """North Star Metric layer: build, validate and publish your North Star metrics."""
