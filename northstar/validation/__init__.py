"""The validation gate: Great Expectations suites generated from the spec, run on the warehouse.

    from northstar.validation import validate_warehouse
    result = validate_warehouse(Path("warehouse/northstar.duckdb"), Path("target/validation"))
    result.success, result.summary_text(), result.to_dict()

Great Expectations is imported only when suites are built or run, not by this module.
docs/validation.md describes the suites, the frames and the exit codes; the errors it
raises when it cannot run (WarehouseError, SuitesError, SettingsError...) are in
northstar/errors.py.
"""

from __future__ import annotations

from northstar.validation.result import ValidationResult
from northstar.validation.runner import validate_warehouse
from northstar.validation.settings import ValidationSettings

__all__ = [
    "ValidationResult",
    "ValidationSettings",
    "validate_warehouse",
]
