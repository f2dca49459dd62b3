"""The North Star spec for the Python side: the spec as dbt's macros normalize it.

The spec is declared in dbt_project.yml (`vars.northstar`), but Python never reads it
there: macros/spec/ validates it, fills its defaults and derives the facts the SQL uses
(ratio or not, numerator, denominator, additive...), and Python takes that one result
as JSON (macro northstar_spec_json), in one of two ways:

- `load_spec`: `dbt run-operation northstar_print_spec_json`, for the generators that
  run without a warehouse (`northstar semantic`, scripts/generate_suites.py);
- `spec_from_json`: the JSON a build stored in intermediate.int_northstar_spec (the
  validation gate reads the spec a warehouse was built with, at no extra dbt call).
"""

from __future__ import annotations

import fcntl
import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from northstar.dbt_runner import ANSI, SPEC_ERROR, dbt_executable
from northstar.errors import SpecError

# The model holding the normalized spec of a build, and its one column.
SPEC_TABLE = "intermediate.int_northstar_spec"
SPEC_COLUMN = "spec_json"
PRINT_MACRO = "northstar_print_spec_json"
MARKER = "northstar_spec_json: "
# The spec macros need no warehouse: they run on an in-memory DuckDB under a profile of
# their own, so a generator never opens (or creates, or waits for) the warehouse file,
# and never needs the credentials of the user's real target.
PROFILE = "northstar_spec"
PROFILES_YML = f"""\
{PROFILE}:
  target: memory
  outputs:
    memory:
      type: duckdb
      path: ':memory:'
"""
# Under the project's target/: its own partial-parse state, so repeated runs stay fast
# and a build's target/ is never touched.
WORK_DIR = Path("target") / "northstar_spec"


@dataclass(frozen=True)
class Metric:
    """One metric of the normalized spec; `spec` is its whole entry."""

    name: str
    role: str
    kind: str
    label: str
    owner: str
    unit: str | None
    direction: str
    warn: float | None
    breach: float | None
    definition_version: str
    is_additive: bool
    is_ratio: bool  # values are shares in [0, 1]
    has_numerator: bool
    has_denominator: bool
    may_be_negative: bool  # a property's mean or percentile: no lower bound
    spec: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_spec(cls, entry: Mapping[str, Any]) -> Metric:
        names = [f.name for f in cls.__dataclass_fields__.values() if f.name != "spec"]
        return cls(**{name: entry[name] for name in names}, spec=dict(entry))


def metrics(spec: Mapping[str, Any]) -> list[Metric]:
    """Every metric in catalog order: the North Star, then inputs, guardrails, outputs."""
    return [Metric.from_spec(entry) for entry in spec["metrics"]]


def diagnostics(spec: Mapping[str, Any]) -> list[Metric]:
    """The built-in diagnostic metrics (role diagnostic: the entities' lifecycle), which
    the catalog and fct_metric_values carry after the spec's own metrics
    (macros/spec/northstar_spec_diagnostics.sql). Empty for a spec normalized before they
    existed."""
    return [Metric.from_spec(entry) for entry in spec.get("diagnostics", [])]


def catalog_metrics(spec: Mapping[str, Any]) -> list[Metric]:
    """Every row of dim_metrics, in its order: the spec's metrics, then the diagnostics."""
    return metrics(spec) + diagnostics(spec)


def spec_from_json(text: str) -> dict[str, Any]:
    spec = json.loads(text)
    if not isinstance(spec, dict) or "metrics" not in spec:
        raise SpecError("not a normalized North Star spec (macro northstar_spec_json)")
    return spec


def load_spec(
    project_dir: Path,
    override: Path | None = None,
    *,
    variables: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The normalized spec of the project, from dbt.

    `override` is a YAML file and `variables` a mapping, either passed to dbt as `--vars`
    (top-level keys replace the project's vars, e.g. another `northstar:` spec)."""
    if override is not None and variables is not None:
        raise ValueError("load_spec: pass an override file or variables, not both")
    vars_text = override.read_text() if override is not None else None
    if variables is not None:
        vars_text = json.dumps(dict(variables))
    output = _run_operation(Path(project_dir), vars_text)
    for line in output.splitlines():
        line = ANSI.sub("", line)
        if line.startswith(MARKER):
            return spec_from_json(line[len(MARKER) :])
    raise SpecError(f"dbt run-operation {PRINT_MACRO} printed no spec", output[-2000:])


def _run_operation(project_dir: Path, vars_text: str | None) -> str:
    work = project_dir / WORK_DIR
    work.mkdir(parents=True, exist_ok=True)
    (work / "profiles.yml").write_text(PROFILES_YML)
    command = [
        dbt_executable(),
        "--quiet",
        "--no-write-json",
        "run-operation",
        PRINT_MACRO,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(work),
        "--profile",
        PROFILE,
        "--target-path",
        str(work),
        "--log-path",
        str(work),
    ]
    if vars_text:
        command += ["--vars", vars_text]
    # One run at a time per work directory: two dbt processes must not write the same
    # partial-parse state (parallel test workers, two generators started together).
    with (work / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = subprocess.run(
            command, cwd=project_dir, capture_output=True, text=True, errors="replace", check=False
        )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        found = SPEC_ERROR.search(ANSI.sub("", output))
        if found:
            raise SpecError(
                f"the North Star spec (vars.northstar) is invalid: {found.group('message').strip()}"
            )
        raise SpecError(
            f"dbt run-operation {PRINT_MACRO} failed (exit code {done.returncode})",
            ANSI.sub("", output)[-4000:],
        )
    return output
