"""Time the NSM pack through MetricFlow: `mf query --saved-query nsm_pack`.

Run after a build (`northstar demo [--accounts N]`), with the same environment variables:

    .venv/bin/python scripts/bench_semantic.py [--runs 3]

Prints, per run, the wall time of the whole `mf` command (start-up: dbt debug, manifest
load, adapter) and the query time MetricFlow reports itself, then the medians.
`mf` reads <project>/target/semantic_manifest.json (DBT_PROJECT_DIR or the project root).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from northstar.paths import Paths

REPORTED = re.compile(r"query completed after ([0-9.]+) seconds")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--saved-query", default="nsm_pack")
    args = parser.parse_args()

    project = Path(os.environ.get("DBT_PROJECT_DIR") or Paths.discover().project_dir)
    mf = str(Path(sys.executable).with_name("mf"))
    walls, reported = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(1, args.runs + 1):
            out = Path(tmp) / "out.csv"
            started = time.perf_counter()
            result = subprocess.run(
                [mf, "query", "--saved-query", args.saved_query, "--csv", str(out)],
                cwd=project,
                capture_output=True,
                text=True,
                check=False,
            )
            wall = time.perf_counter() - started
            if result.returncode != 0:
                sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
                return 1
            match = REPORTED.search(result.stdout)
            query = float(match.group(1)) if match else float("nan")
            rows = sum(1 for _ in out.open()) - 1
            walls.append(wall)
            reported.append(query)
            print(f"run {run}: mf wall {wall:.2f}s, query {query:.2f}s, {rows} rows")
    print(
        f"median over {args.runs} runs: mf wall {statistics.median(walls):.2f}s, "
        f"query (MetricFlow-reported) {statistics.median(reported):.2f}s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
