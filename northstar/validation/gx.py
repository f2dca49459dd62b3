"""The one place Great Expectations is imported and its context made.

Importing GX takes seconds, so only the validation code imports this module (the CLI
imports commands lazily). The context is ephemeral: suites come from the JSON files in
expectations/, results go to the run's output directory, and nothing is left in a
`gx/` project folder.
"""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.expectations.row_conditions import Column

__all__ = ["Column", "ephemeral_context", "gx", "gxe"]


def ephemeral_context() -> gx.data_context.EphemeralDataContext:
    context = gx.get_context(mode="ephemeral")
    # GX draws a progress bar per expectation batch on stderr; the gate prints its own summary
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context
