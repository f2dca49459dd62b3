"""Parse the dbt project once per spec, all in one Python process.

    python dbt_parse_worker.py CASES.json RESULTS.json

CASES.json is a list of {id, vars, workdir}. Each case is a full `dbt parse
--no-partial-parse` through dbt's own runner (dbtRunner), so it goes through the real
parser and the spec macros exactly as `dbt parse --vars ...` does; only the interpreter
start-up and dbt's imports (most of a parse's cost) are paid once instead of per case.
RESULTS.json maps each id to {success, error, seconds, spec}; a case with `spec: true` runs
`run-operation northstar_print_spec_json` (the same parse, then the macro) and `spec` is
the normalized spec it printed.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from pathlib import Path

from dbt.cli.main import dbtRunner

# what northstar.spec.load_spec runs and reads (not imported: the worker runs from tests/)
PRINT_MACRO = "northstar_print_spec_json"
MARKER = "northstar_spec_json: "
MEMORY_PROFILE = """\
northstar_spec:
  target: memory
  outputs:
    memory:
      type: duckdb
      path: ':memory:'
"""


def main(cases_path: Path, results_path: Path) -> None:
    runner = dbtRunner()
    results = {}
    for case in json.loads(cases_path.read_text()):
        workdir = Path(case["workdir"])
        started = time.perf_counter()
        # `spec: true`: run-operation printing the normalized spec instead of a bare parse
        # (the same parse first), to read what the spec macros derive (the lint)
        command = ["parse"]
        if case.get("spec"):
            # on an in-memory DuckDB of its own: two workers must not open one warehouse file
            (workdir / "profiles").mkdir(parents=True, exist_ok=True)
            (workdir / "profiles" / "profiles.yml").write_text(MEMORY_PROFILE)
            command = ["run-operation", PRINT_MACRO, "--profiles-dir", str(workdir / "profiles")]
            command += ["--profile", "northstar_spec"]
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            outcome = runner.invoke(
                [
                    *command,
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
        spec = [
            json.loads(line[len(MARKER) :])
            for line in printed.getvalue().splitlines()
            if line.startswith(MARKER)
        ]
        results[case["id"]] = {
            "success": outcome.success,
            "error": None if outcome.exception is None else str(outcome.exception),
            "seconds": round(time.perf_counter() - started, 2),
            "spec": spec[0] if spec else None,
        }
    results_path.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
