"""The northstar command line: one Click group, each command a thin wrapper over a plain function.

Commands live in `northstar/commands/<name>.py` and are imported only when used, so
`northstar --help` stays fast and one command's heavy imports (dbt, Great Expectations)
never slow down another.
"""

from __future__ import annotations

import importlib

import click

from northstar import __version__

# command name -> "module:attribute" of its click.Command
COMMANDS: dict[str, str] = {
    "info": "northstar.commands.info:info",
    "generate": "northstar.commands.demo:generate",
    "demo": "northstar.commands.demo:demo",
    "build": "northstar.commands.build:build",
    "publish": "northstar.commands.publish:publish",
    "snapshots": "northstar.commands.snapshots:snapshots",
    "rollback": "northstar.commands.snapshots:rollback",
    "metrics": "northstar.commands.metrics:metrics",
    "query": "northstar.commands.query:query",
    "digest": "northstar.commands.digest:digest",
    "alerts": "northstar.commands.alerts:alerts",
    "validate": "northstar.commands.validate:validate",
    "semantic": "northstar.commands.semantic:semantic",
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


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="northstar")
def cli() -> None:
    """North Star Metric layer: build, validate and publish your North Star metrics."""
