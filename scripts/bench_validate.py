"""Time `northstar validate` on a built warehouse (not a test: numbers for the README/notes).

    .venv/bin/python scripts/bench_validate.py [--warehouse PATH] [--runs 3] [--as-of DATE]

Prints the suite and expectation counts, the Great Expectations import time, the time of
each validation run (in one process, so runs after the first reuse the import) and the
wall time of one cold `northstar validate` subprocess, as a scheduler would see it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from northstar.paths import Paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--as-of", default=None)
    args = parser.parse_args()
    warehouse = args.warehouse or Paths.discover().warehouse

    started = time.perf_counter()
    import northstar.validation.gx  # noqa: F401  (the import a cold run pays)
    from northstar.validation import validate_warehouse

    import_seconds = time.perf_counter() - started
    runs, result = [], None
    with tempfile.TemporaryDirectory() as out:
        for _ in range(args.runs):
            started = time.perf_counter()
            result = validate_warehouse(warehouse, Path(out), as_of=args.as_of)
            runs.append(time.perf_counter() - started)
        command = [
            str(Path(sys.executable).with_name("northstar")),
            "validate",
            "--warehouse",
            str(warehouse),
            "--out",
            out,
        ] + (["--as-of", args.as_of] if args.as_of else [])
        started = time.perf_counter()
        cold = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ))
        cold_seconds = time.perf_counter() - started
    counts = result.counts()
    print(f"warehouse        {warehouse}")
    print(f"suites           {counts['suites']}")
    print(f"expectations     {counts['expectations']} ({counts['failed']} failed)")
    print(f"rows validated   {sum(s.rows or 0 for s in result.suites):,} (all frames)")
    print(f"gx import        {import_seconds:.1f} s")
    each = " / ".join(f"{r:.1f}" for r in runs)
    print(f"validate runs    {each} s, median {statistics.median(runs):.1f} s")
    print(f"cold CLI run     {cold_seconds:.1f} s (exit {cold.returncode})")
    print(f"load average     {' '.join(f'{x:.1f}' for x in os.getloadavg())} (shared machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
