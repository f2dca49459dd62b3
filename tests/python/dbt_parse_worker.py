"""Parse the dbt project once per spec, all in one Python process.

    python dbt_parse_worker.py CASES.json RESULTS.json

CASES.json is a list of {id, vars, workdir}. Each case is a full `dbt parse
--no-partial-parse` through dbt's own runner (dbtRunner), so it goes through the real
parser and the spec macros exactly as `dbt parse --vars ...` does; only the interpreter
start-up and dbt's imports (most of a parse's cost) are paid once instead of per case.
RESULTS.json maps each id to {success, error, seconds, spec}.

A case with `on_parsed: VARS` runs `run-operation northstar_print_spec_json` instead, and
`spec` is the normalized spec it printed. It has no parse of its own: it runs on the manifest
the worker parsed once with VARS (dbtRunner(manifest=...)), with the case's own `--vars`.
The macro normalizes the case's spec with the same macros every model calls while dbt
parses, in a fraction of a second instead of a parse's seconds; what it does not check is
that the models render with that spec, which only a parse does.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from pathlib import Path
from typing import Any

from dbt.cli.main import dbtRunner, dbtRunnerResult

# what northstar.spec.load_spec runs and reads (not imported: the worker runs from tests/)
PRINT_MACRO = "northstar_print_spec_json"
MARKER = "northstar_spec_json: "
OPERATION_ERROR = "Encountered an error while running operation:"
MEMORY_PROFILE = """\
northstar_spec:
  target: memory
  outputs:
    memory:
      type: duckdb
      path: ':memory:'
"""


def _memory_profile(workdir: Path) -> list[str]:
    """An in-memory DuckDB of its own: two workers must not open one warehouse file."""
    (workdir / "profiles").mkdir(parents=True, exist_ok=True)
    (workdir / "profiles" / "profiles.yml").write_text(MEMORY_PROFILE)
    return ["--profiles-dir", str(workdir / "profiles"), "--profile", "northstar_spec"]


def _error(outcome: dbtRunnerResult, printed: str) -> str | None:
    """The error: the exception dbt raised, else what run-operation logged (it catches a
    failing macro's error and logs it)."""
    if outcome.exception is not None:
        return str(outcome.exception)
    if outcome.success:
        return None
    return printed.split(OPERATION_ERROR, 1)[-1]


def main(cases_path: Path, results_path: Path) -> None:
    runner = dbtRunner()
    # a runner holding a parsed manifest, by the vars of its parse
    on_parsed: dict[str, dbtRunner] = {}
    results = {}
    for case in json.loads(cases_path.read_text()):
        workdir = Path(case["workdir"])
        started = time.perf_counter()
        if "on_parsed" in case:
            results[case["id"]] = _on_parsed(case, workdir, on_parsed, started)
            continue
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            outcome = runner.invoke(
                [
                    "parse",
                    "--no-partial-parse",
                    "--quiet",
                    "--target-path",
                    str(workdir / "target"),
                    "--log-path",
                    str(workdir / "logs"),
                    "--vars",
                    json.dumps(case["vars"]),
                ]
            )
        results[case["id"]] = _result(outcome, printed.getvalue(), started)
    results_path.write_text(json.dumps(results, indent=2))


def _on_parsed(
    case: dict, workdir: Path, runners: dict[str, dbtRunner], started: float
) -> dict[str, Any]:
    profile = _memory_profile(workdir)
    paths = ["--target-path", str(workdir / "target"), "--log-path", str(workdir / "logs")]
    key = json.dumps(case["on_parsed"], sort_keys=True)
    if key not in runners:
        parsed = dbtRunner().invoke(
            ["parse", "--no-partial-parse", "--quiet", *profile, *paths, "--vars", key]
        )
        if not parsed.success:
            raise RuntimeError(f"the parse for on_parsed cases failed: {parsed.exception}")
        runners[key] = dbtRunner(manifest=parsed.result)
    case_vars = json.dumps(case["vars"])
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        outcome = runners[key].invoke(
            ["run-operation", PRINT_MACRO, "--quiet", *profile, *paths, "--vars", case_vars]
        )
    return _result(outcome, printed.getvalue(), started)


def _result(outcome: dbtRunnerResult, printed: str, started: float) -> dict[str, Any]:
    spec = [
        json.loads(line[len(MARKER) :]) for line in printed.splitlines() if line.startswith(MARKER)
    ]
    return {
        "success": outcome.success,
        "error": _error(outcome, printed),
        "seconds": round(time.perf_counter() - started, 2),
        "spec": spec[0] if spec else None,
    }


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
