"""The validation gate: Great Expectations suites generated from the spec, run on the warehouse.

    from northstar.validation import validate_warehouse
    result = validate_warehouse(Path("warehouse/northstar.duckdb"), Path("target/validation"))
    result.success, result.summary_text(), result.to_dict()

Great Expectations is imported only when suites are built or run, not by this module.
docs/validation.md describes the suites, the frames and the exit codes.
"""

from __future__ import annotations

from northstar.validation.result import ValidationResult
from northstar.validation.runner import SuitesError, validate_warehouse
from northstar.validation.settings import SettingsError, ValidationSettings
from northstar.validation.warehouse import (
    TablesNotFoundError,
    WarehouseError,
    WarehouseLockedError,
    WarehouseNotFoundError,
)

__all__ = [
    "SettingsError",
    "SuitesError",
    "TablesNotFoundError",
    "ValidationResult",
    "ValidationSettings",
    "WarehouseError",
    "WarehouseLockedError",
    "WarehouseNotFoundError",
    "validate_warehouse",
]
