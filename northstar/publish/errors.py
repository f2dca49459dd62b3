"""Errors the user can act on, each carrying the exit code a scheduler sees.

Commands catch `NorthstarError` and print its message (never a traceback); anything else
is a bug and keeps its traceback.
"""

from __future__ import annotations

from typing import Any

from northstar import exit_codes


class NorthstarError(Exception):
    """A problem the user can fix; `str(error)` is the whole message."""

    exit_code = exit_codes.ERROR
    # Lines the CLI prints, as they are, under the one-line message (see ValidationFailedError).
    details = ""


class InvalidInputError(NorthstarError):
    """A malformed value on the command line (bad date, bad snapshot id, bad segment)."""

    exit_code = exit_codes.USAGE


class NotFoundError(NorthstarError):
    """Missing warehouse, snapshot, profiles.yml or an unknown metric/segment/grain."""

    exit_code = exit_codes.NOT_FOUND


class PipelineError(NorthstarError):
    """dbt failed, or the pipeline could not run (another build holds the lock)."""

    exit_code = exit_codes.PIPELINE_FAILED


class BusyError(PipelineError):
    """Another build or publish holds the lock and the wait timed out."""


class ValidationFailedError(NorthstarError):
    """The expectation suites failed: nothing was published.

    `str(error)` is the one-line message, then the failed expectations (`details`): the
    CLI prints the message as its `error:` line and the details below it as they are."""

    exit_code = exit_codes.DATA_INVALID

    def __init__(self, message: str, result: Any = None, details: str = ""):
        super().__init__(message)
        self.result = result
        self.details = details

    def __str__(self) -> str:
        return "\n".join(part for part in (self.args[0], self.details) if part)


class WebhookError(NorthstarError):
    """The alert webhook could not be delivered."""
