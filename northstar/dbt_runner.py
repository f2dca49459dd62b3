"""Run dbt as a subprocess of the project's own interpreter.

A subprocess (rather than dbt's in-process runner) keeps dbt's global state, logging and
DuckDB connections out of the CLI's process, so a failed build cannot leave a lock behind.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from northstar.paths import Paths


class DbtError(RuntimeError):
    """dbt exited non-zero."""

    def __init__(self, args: Sequence[str], returncode: int):
        super().__init__(f"dbt {' '.join(args)} failed with exit code {returncode}")
        self.returncode = returncode


def dbt_executable() -> str:
    beside = Path(sys.executable).with_name("dbt")
    if beside.exists():
        return str(beside)
    found = shutil.which("dbt")
    if not found:
        raise FileNotFoundError("dbt is not installed here: run scripts/bootstrap.sh")
    return found


def run_dbt(
    args: Sequence[str],
    paths: Paths | None = None,
    *,
    vars_yaml: str | None = None,
    target: str | None = None,
    capture: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run `dbt <args>` in the project directory; raise DbtError when it fails."""
    paths = paths or Paths.discover()
    command = [dbt_executable(), *args]
    if vars_yaml:
        command += ["--vars", vars_yaml]
    if target is not None:
        command += ["--target", target]
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        command,
        cwd=paths.project_dir,
        env=paths.dbt_env(),
        text=True,
        capture_output=capture,
        check=False,
    )
    if result.returncode != 0:
        if capture:
            sys.stderr.write(result.stdout[-5000:] + result.stderr[-5000:])
        raise DbtError(args, result.returncode)
    return result
