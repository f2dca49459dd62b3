"""The project's dbt vars other than the spec: settings such as `vars.northstar__validation`.

The spec (`vars.northstar`) is dropped here on purpose: Python reads it only as dbt's
macros normalize it (northstar/spec.py), never raw, so no default is applied twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

SPEC_VAR = "northstar"


def load_vars(project_dir: Path, override: Path | None = None) -> dict[str, Any]:
    """The project's vars, with an override file's top-level keys replacing them (as
    `dbt --vars` does), minus the spec."""
    with (Path(project_dir) / "dbt_project.yml").open() as handle:
        variables = dict(yaml.safe_load(handle).get("vars") or {})
    if override is not None:
        with override.open() as handle:
            variables.update(yaml.safe_load(handle) or {})
    variables.pop(SPEC_VAR, None)
    return variables
