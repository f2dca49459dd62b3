"""Click parameter types shared by every command: a bad value is a usage error (exit 2,
Click's message) while the command line is parsed, before anything runs.

Every float option is a `FiniteFloatRange`: Python parses "nan" and "inf" as floats, and
a NaN passes every range check (each comparison with it is false), so `--wait nan`
waited forever. tests/python/test_cli_errors.py checks no float option is a plain one.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click

MAX_SHOWN = 80


def shown(value: str) -> str:
    """A refused value as it may appear in a one-line message: quoted, control
    characters escaped, shortened."""
    text = value if len(value) <= MAX_SHOWN else value[: MAX_SHOWN - 3] + "..."
    return repr(text)


class FiniteFloatRange(click.FloatRange):
    """click.FloatRange that also refuses NaN and +-infinity (and what overflows to it)."""

    name = "finite float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{shown(str(value))} is not a finite number.", param, ctx)
        return super().convert(number, param, ctx)


class WebhookURL(click.ParamType):
    """An http(s) URL urllib can send to as given (northstar.query.alerts.webhook_url_problem)."""

    name = "url"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from northstar.query.alerts import webhook_url_problem

        url = str(value)
        problem = webhook_url_problem(url)
        if problem:
            self.fail(
                f"{shown(url)} is not an http(s) URL ({problem}); e.g. https://hooks.example.com/x",
                param,
                ctx,
            )
        return url


class SafePath(click.Path):
    """click.Path that refuses an empty value (an unset "$DIR" would silently mean the
    current directory) and a NUL byte (no file system allows one), as usage errors.
    Other problems (a name too long, no permission) are the file system's to report:
    cli.py turns them into one line."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, Path):
            return super().convert(value, param, ctx)
        text = str(value)
        if not text.strip():
            self.fail("an empty path is not allowed.", param, ctx)
        if "\x00" in text:
            self.fail(f"{shown(text)} contains a NUL byte.", param, ctx)
        return super().convert(value, param, ctx)


class NonEmpty(click.ParamType):
    """A string that must not be empty or blank (an unset "$VAR" on a scheduler's
    command line), where empty would otherwise silently mean the default."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value)
        if not text.strip():
            self.fail("must not be empty.", param, ctx)
        return text
