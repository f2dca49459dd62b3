"""Benchmark the demo generator: time, rows, on-disk size and peak memory at ~1M and ~10M events.

    .venv/bin/python scripts/bench_generate.py                  # ~1M and ~10M events
    .venv/bin/python scripts/bench_generate.py --events 1e6     # one scale
    .venv/bin/python scripts/bench_generate.py --accounts 1500  # the CI default

Each scale runs in its own child process, so its peak RSS (DuckDB's memory included) is its
own. Wall time depends on what else the machine runs; CPU time (user + sys) does less, so
both are printed, with the load average at the start.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Events per account over the default 213 days, measured at the default scale (seed 42);
# used only to choose the number of accounts for a target event count.
EVENTS_PER_ACCOUNT = 1257


def run_one(accounts: int, days: int, seed: int, out: Path) -> dict:
    from northstar.demo.generator import generate_demo

    started = time.perf_counter()
    cpu_started = time.process_time()
    result = generate_demo(out, accounts=accounts, days=days, seed=seed)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "accounts": accounts,
        "days": days,
        "raw_rows": result.events_total,
        "clean_events": result.events_clean,
        "wall_s": round(time.perf_counter() - started, 1),
        "cpu_s": round(time.process_time() - cpu_started, 1),
        "events_mb": round(_size(out / "events") / 1e6, 1),
        "total_mb": round(_size(out) / 1e6, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),  # Linux reports KiB
    }


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=float, action="append", help="target event count")
    parser.add_argument("--accounts", type=int, action="append", help="exact account count")
    parser.add_argument("--days", type=int, default=213)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, help="where to write (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child is not None:  # one measurement, reported as JSON to the parent
        print(json.dumps(run_one(args.child, args.days, args.seed, args.out)))
        return

    accounts = list(args.accounts or [])
    targets = args.events or ([] if accounts else [1e6, 1e7])
    accounts += [max(1, round(target / EVENTS_PER_ACCOUNT)) for target in targets]
    base = args.out or Path(tempfile.mkdtemp(prefix="northstar-bench-"))
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    header = (
        f"{'accounts':>8} {'days':>4} {'raw rows':>11} {'wall s':>7} {'cpu s':>7} "
        f"{'rows/s':>9} {'events MB':>9} {'total MB':>8} {'peak RSS MB':>11}"
    )
    print(header)
    try:
        for n in accounts:
            out = base / f"accounts-{n}"
            command = [sys.executable, __file__, "--child", str(n), "--days", str(args.days)]
            command += ["--seed", str(args.seed), "--out", str(out)]
            child = subprocess.run(command, check=True, capture_output=True, text=True)
            row = json.loads(child.stdout.strip().splitlines()[-1])
            print(
                f"{row['accounts']:>8} {row['days']:>4} {row['raw_rows']:>11,} "
                f"{row['wall_s']:>7} {row['cpu_s']:>7} {row['raw_rows'] / row['wall_s']:>9,.0f} "
                f"{row['events_mb']:>9} {row['total_mb']:>8} {row['peak_rss_mb']:>11}",
                flush=True,
            )
            if not args.keep:
                shutil.rmtree(out, ignore_errors=True)
    finally:
        if not args.keep and args.out is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
