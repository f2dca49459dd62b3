"""Parse the dbt project once per spec, all in one Python process.

    python dbt_parse_worker.py CASES.json RESULTS.json

CASES.json is a list of {id, vars, workdir}. Each case is a full `dbt parse
--no-partial-parse` through dbt's own runner (dbtRunner), so it goes through the real
parser and the spec macros exactly as `dbt parse --vars ...` does; only the interpreter
start-up and dbt's imports (most of a parse's cost) are paid once instead of per case.
RESULTS.json maps each id to {success, error, seconds}.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from dbt.cli.main import dbtRunner


def main(cases_path: Path, results_path: Path) -> None:
    runner = dbtRunner()
    results = {}
    for case in json.loads(cases_path.read_text()):
        workdir = Path(case["workdir"])
        started = time.perf_counter()
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
        results[case["id"]] = {
            "success": outcome.success,
            "error": None if outcome.exception is None else str(outcome.exception),
            "seconds": round(time.perf_counter() - started, 2),
        }
    results_path.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
