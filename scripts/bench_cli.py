"""Benchmark the CLI on a built warehouse: publish time and snapshot size, `northstar
query` from a cold start (a new process each time) and per query in one process, digest.

    NORTHSTAR_DUCKDB_PATH=/tmp/me/wh.duckdb .venv/bin/python scripts/bench_cli.py

Publishes into a temporary snapshots directory (the real `current` is never touched) and
without the validation gate, which has its own timing (`--with-validation` adds it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from northstar.paths import Paths


def timed(function, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


def summary(times: list[float]) -> str:
    return (
        f"median {statistics.median(times) * 1000:.0f} ms, min {min(times) * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms (n={len(times)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--metric", default=None, help="Default: the catalog's North Star.")
    parser.add_argument("--with-validation", action="store_true")
    args = parser.parse_args()

    from northstar.publish import reader
    from northstar.publish.publisher import publish
    from northstar.query import Catalog, query_series, render

    paths = Paths.discover()
    if not paths.warehouse.is_file():
        sys.exit(f"no warehouse at {paths.warehouse}: build one first (northstar demo)")
    print(f"warehouse: {paths.warehouse} ({paths.warehouse.stat().st_size / 1e6:.1f} MB)")

    with tempfile.TemporaryDirectory(prefix="northstar-bench-") as temp:
        bench_paths = replace(paths, snapshots_dir=Path(temp) / "snapshots")
        if args.with_validation:
            from northstar.publish.publisher import default_validator

            started = time.perf_counter()
            result = default_validator(bench_paths)
            print(
                f"validation: {time.perf_counter() - started:.1f} s "
                f"({'passed' if result.success else 'FAILED'})"
            )
        runs = [publish(bench_paths, skip_validation=True, keep=args.repeat + 1) for _ in range(3)]
        result = runs[-1]
        print(f"publish (no validation): {summary([r.seconds for r in runs])}")
        tables = result.manifest["tables"]
        print(
            f"snapshot: {result.size_bytes / 1e6:.1f} MB, {len(tables)} tables, "
            f"{sum(t['rows'] for t in tables.values()):,} rows"
        )
        for prefix in ("northstar.duckdb", "parquet/", "csv/"):
            size = sum(
                entry["bytes"]
                for name, entry in result.manifest["files"].items()
                if name.startswith(prefix)
            )
            print(f"  {prefix:<17} {size / 1e6:8.2f} MB")

        snapshot = reader.resolve(bench_paths)
        con = reader.connect(snapshot)
        metric = args.metric or Catalog.load(con).north_star()["metric_name"]
        con.close()

        env = {**os.environ, "NORTHSTAR_SNAPSHOTS_DIR": str(bench_paths.snapshots_dir)}
        northstar = Path(sys.executable).with_name("northstar")
        command = [str(northstar), "query", metric, "--format", "csv"]

        def cold() -> None:
            subprocess.run(command, env=env, check=True, capture_output=True)

        print(f"query, cold start (new process, `{' '.join(command[1:])}`): ", end="")
        print(summary(timed(cold, args.repeat)))
        print("  for scale, `northstar --version` in a new process: ", end="")
        version = [str(northstar), "--version"]
        print(
            summary(
                timed(lambda: subprocess.run(version, check=True, capture_output=True), args.repeat)
            )
        )

        def connect_and_query() -> None:
            connection = reader.connect(reader.resolve(bench_paths))
            render(query_series(connection, metric, grain="week"), "csv")
            connection.close()

        times = timed(connect_and_query, args.repeat)
        print(f"query in process, open + query + render: {summary(times)}")
        connection = reader.connect(snapshot)
        segments = [
            ("week", None),
            ("day", None),
            ("month", None),
            ("week", "plan"),
        ]
        for grain, segment in segments:
            times = timed(
                lambda grain=grain, segment=segment: query_series(
                    connection, metric, grain=grain, segment=segment
                ),
                args.repeat,
            )
            label = f"grain {grain}" + (f", segment {segment}" if segment else "")
            print(f"query on an open connection ({label}): {summary(times)}")

        from northstar.digest import build_digest, render_html, render_markdown

        def digest() -> None:
            content = build_digest(connection, snapshot.manifest)
            render_markdown(content)
            render_html(content)

        print(f"digest (build + render md/html): {summary(timed(digest, args.repeat))}")
        connection.close()


if __name__ == "__main__":
    main()
