"""Every error the user can act on, each class carrying the exit code a scheduler sees.

Commands let these propagate to `handle_errors` (northstar/commands/_common.py), which
prints the message as one `error:` line and exits with the class's `exit_code`: no
command picks a code itself. Anything that is not a `NorthstarError` is a bug and keeps
its traceback. The codes are the constants in exit_codes.py (docs/cli.md#exit-codes).

This module imports nothing of northstar's but the codes, so every layer (validation,
build, publish, query, alerts, digest) can raise these without importing another layer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from northstar import exit_codes


class NorthstarError(Exception):
    """A problem the user can fix; `str(error)` is the whole message."""

    exit_code = exit_codes.ERROR
    # Lines the CLI prints, as they are, under the one-line message (see ValidationFailedError).
    details = ""
    # True when the command has already printed the outcome (see FailedCheck).
    reported = False


class InvalidInputError(NorthstarError):
    """A malformed value on the command line (bad date, bad snapshot id, bad segment)."""

    exit_code = exit_codes.USAGE


class SpecError(NorthstarError):
    """dbt refused the North Star spec (the message names the field) or could not be run
    to read it; `details` holds the end of dbt's output when the message alone does not
    say why."""

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details


class NotFoundError(NorthstarError):
    """Missing warehouse, snapshot, profiles.yml or an unknown metric/segment/grain."""

    exit_code = exit_codes.NOT_FOUND


class PipelineError(NorthstarError):
    """dbt failed, or the pipeline could not run (another build holds the lock)."""

    exit_code = exit_codes.PIPELINE_FAILED


class BusyError(PipelineError):
    """Another build or publish holds the lock and the wait timed out."""


class PostgresTargetError(PipelineError):
    """The Postgres publish target failed (unreachable, refused, a load that did not
    complete): what BI tools read there is unchanged. The message never holds a password."""


class WebhookError(NorthstarError):
    """The alert webhook could not be delivered."""


# The validation gate (northstar.validation) -------------------------------------------


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


class DefinitionChangedError(NorthstarError):
    """A metric's definition differs from the one the current snapshot was published with,
    under the same definition_version (docs/definition-versions.md): the spec must bump the
    version or undo the change. Nothing is published."""


class RestatementNotAcceptedError(NorthstarError):
    """A bumped metric restates published periods by more than the tolerance, and nobody
    acknowledged it (--accept-restatement, or the metric's accept_restatement): the gate
    fails as for invalid data, and nothing is published."""

    exit_code = exit_codes.DATA_INVALID

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details


class WarehouseError(NorthstarError):
    """The warehouse cannot be validated; the message says why in one line."""


# NotFoundError first, so its exit code wins over WarehouseError's (inherited) one.
class WarehouseNotFoundError(NotFoundError, WarehouseError):
    pass


class TablesNotFoundError(NotFoundError, WarehouseError):
    def __init__(self, warehouse: Path, tables: list[str]):
        self.tables = tables
        super().__init__(
            f"table{'s' if len(tables) > 1 else ''} not found in {warehouse}: "
            f"{', '.join(tables)} (has the dbt build run to the end?)"
        )


class WarehouseUnreadableError(WarehouseError):
    pass


class WarehouseLockedError(BusyError):
    """Another process holds the warehouse open for writing (a running `dbt build`).

    Not a WarehouseError on purpose: the data and the configuration are fine, the
    pipeline just cannot run now. It is the BusyError (exit 3, PIPELINE_FAILED) that
    publish raises for the same writer, so `northstar validate`, `northstar publish` and
    `northstar build` report it alike.
    """


class SuitesError(WarehouseError):
    """The suites cannot be run: missing, unreadable, or out of date with the spec."""


class SettingsError(NorthstarError):
    """A `northstar__validation` value is missing its meaning (wrong type or range)."""


class ColumnsNotFoundError(NorthstarError):
    """A table lacks columns of the public contract that a frame needs.

    The runner reports it as a failed suite (the data is wrong), never as an exception."""

    exit_code = exit_codes.DATA_INVALID

    def __init__(self, table: str, columns: list[str]):
        self.table, self.columns = table, columns
        super().__init__(f"{table} has no column {', '.join(columns)}")


class ValidationNotRunError(NorthstarError):
    """The validation gate could not run before a publish: nothing was checked.

    It exits as its cause does (6 for a missing warehouse or table, 1 for suites or
    settings that cannot be used): the data was never checked, so it is never exit 4."""

    def __init__(self, cause: NorthstarError):
        super().__init__(f"validation cannot run: {cause}")
        self.cause = cause
        self.exit_code = cause.exit_code


# Outcomes, not faults ------------------------------------------------------------------


class FailedCheck(NorthstarError):
    """A check ran and said no; the command has printed its report on stdout.

    Not a fault: the exit code tells a scheduler the outcome, and no `error:` line is
    added to the report."""

    reported = True

    def __init__(self) -> None:
        super().__init__()


class DataInvalid(FailedCheck):
    """`northstar validate`: an expectation failed."""

    exit_code = exit_codes.DATA_INVALID


class GuardrailBreached(FailedCheck):
    """`northstar alerts`: a guardrail is in breach (the data is valid)."""

    exit_code = exit_codes.GUARDRAIL_BREACHED
