"""The project's dbt vars other than the spec: settings such as `vars.northstar__validation`.

The spec (`vars.northstar`) is dropped here on purpose: Python reads it only as dbt's
macros normalize it (northstar/spec.py), never raw, so no default is applied twice.

`cli_vars` turns `northstar build --vars TEXT --spec FILE` into the mapping dbt gets as
`--vars` (top-level keys replace the project's vars, as dbt does).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from northstar.errors import InvalidInputError

SPEC_VAR = "northstar"


def load_vars(
    project_dir: Path,
    override: Path | None = None,
    *,
    variables: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The project's vars, with an override file's (or a mapping's) top-level keys
    replacing them (as `dbt --vars` does), minus the spec."""
    with (Path(project_dir) / "dbt_project.yml").open() as handle:
        merged = dict(yaml.safe_load(handle).get("vars") or {})
    if override is not None:
        with override.open() as handle:
            merged.update(yaml.safe_load(handle) or {})
    if variables is not None:
        merged.update(variables)
    merged.pop(SPEC_VAR, None)
    return merged


def cli_vars(
    vars_text: str | None, spec_file: Path | None, vars_file: Path | None = None
) -> dict[str, Any] | None:
    """`--vars-file` (a YAML file of vars, e.g. what `northstar init` writes), then `--vars`
    (a YAML or JSON mapping, as dbt takes it) over it, plus `--spec` (a YAML file holding
    the spec, bare or under a top-level `northstar:` key); None when none is given.

    A `northstar` key in the vars and a --spec file together is refused: which spec was
    meant would be a guess."""
    if vars_text is None and spec_file is None and vars_file is None:
        return None
    variables: dict[str, Any] = {}
    if vars_file is not None:
        variables = _mapping(vars_file.read_text(), f"--vars-file {vars_file}")
    if vars_text is not None:
        variables.update(_mapping(vars_text, "--vars"))
    if spec_file is not None:
        if SPEC_VAR in variables:
            raise InvalidInputError(
                f"--vars / --vars-file set `{SPEC_VAR}` and --spec gives a spec file: pass "
                "the spec once"
            )
        spec = _mapping(spec_file.read_text(), f"--spec {spec_file}")
        if set(spec) == {SPEC_VAR}:
            spec = spec[SPEC_VAR]
            if not isinstance(spec, dict):
                raise InvalidInputError(f"--spec {spec_file}: `{SPEC_VAR}:` must hold a mapping")
        variables[SPEC_VAR] = spec
    return variables


def vars_argument(variables: Mapping[str, Any]) -> list[str]:
    """dbt's `--vars` flag for `variables` (JSON is YAML, and quotes nothing ambiguous)."""
    return ["--vars", json.dumps(dict(variables), sort_keys=True, default=str)]


def _mapping(text: str, what: str) -> dict[str, Any]:
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise InvalidInputError(f"{what} is not valid YAML{where}") from err
    except ValueError as err:  # a scalar YAML cannot build, e.g. the date 2026-13-45
        raise InvalidInputError(f"{what} is not valid YAML: {err}") from err
    if not isinstance(value, dict):
        raise InvalidInputError(
            f"{what} must be a mapping of var names to values, got {type(value).__name__}"
        )
    return value
