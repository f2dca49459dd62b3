"""Benchmark the pipeline at scale: full build, one-day incremental build, and the one-scan floor.

    .venv/bin/python scripts/bench_scale.py                    # 1M and 10M raw events
    .venv/bin/python scripts/bench_scale.py --sizes 1e6 --repeat 1
    .venv/bin/python scripts/bench_scale.py --100m [--1b]      # add 100M (and 1B) events
    .venv/bin/python scripts/bench_scale.py --runner dbt       # plain dbt build, no gate/publish

For each size it generates the demo data once (213 days, into --work/<size>/raw), then runs
--repeat rounds of three steps on the same files, in a rotating order so that drifting load
on a shared machine hits every step alike:

- full: the build from nothing (the warehouse file is deleted first, so it is a full build
  whatever the models' materializations; `dbt --full-refresh` would leave seeds and schemas);
- incremental: the generator appends one day (`northstar generate --append-days 1`, timed
  apart), then the normal build runs on the warehouse the previous build left, as a scheduler
  runs it the next day: on DuckDB the event-sized models take in only the new file and the
  days it touched (docs/incremental.md), the models above them are rebuilt from those;
- floor: scripts/bench_floor.sql, one DuckDB query that reads the raw Parquet once, applies
  staging's accept rules to the rows and columns the North Star reads, deduplicates on
  event_id and counts message_sent per ISO week. Its
  result must equal marts.rpt_north_star on every week (checked after every floor run, against
  the warehouse built on the same files), or the benchmark fails.

The build command is what a scheduler runs: `northstar build --skip-unit-tests` (dbt build
with every model and data test, the validation gate and a published snapshot; unit tests
test the SQL, not the data, and are CI's) or, with --runner dbt,
`dbt build --exclude-resource-type unit_test` (the models and data tests only).
--with-unit-tests adds the unit tests to both. With --keep, each build's dbt
run_results.json (node timings) is kept beside its log as <step>-<round>.run_results.json.

Every step runs as a child process. Wall time; CPU time (user + sys of the child and every
descendant it waited for, from wait4); peak RSS (the largest single process of the tree, from
wait4: DuckDB runs inside the dbt process); rows per second (raw rows / wall). Printed per
size and step as medians over the rounds, with the ratios full / floor and incremental / full.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from northstar.project_vars import load_vars
from northstar.spec import load_spec

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
FLOOR_SQL = Path(__file__).with_name("bench_floor.sql")
# Raw rows per account over the default 213 days (seed 42), to pick accounts for a size.
EVENTS_PER_ACCOUNT = 1264
DAYS = 213
STEPS = ("full", "incremental", "floor")


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    code: int
    output: str = ""


def measure(command: list[str], env: dict[str, str], log: Path | None = None) -> Run:
    """Run a child to completion; wall, CPU (user + sys of its waited-for tree), peak RSS."""
    started = time.perf_counter()
    with open(log or os.devnull, "w") as sink:
        child = subprocess.Popen(
            command,
            env=env,
            cwd=PROJECT,
            stdout=subprocess.PIPE if log is None else sink,
            stderr=subprocess.STDOUT if log is None else sink,
            text=True,
        )
        output = child.stdout.read() if child.stdout else ""
        _pid, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return Run(
        wall=time.perf_counter() - started,
        cpu=usage.ru_utime + usage.ru_stime,
        rss_mb=usage.ru_maxrss / 1024,  # Linux reports KiB
        code=child.returncode,
        output=output,
    )


def nsm_events() -> str:
    """The North Star's events, as dbt normalizes the spec (a count: its one measure)."""
    return ",".join(load_spec(PROJECT)["metrics"][0]["numerator"]["events"])


def floor_sql(raw_dir: Path, as_of: str, nsm_events: str) -> str:
    v = load_vars(PROJECT)
    nsm = nsm_events.split(",")
    return FLOOR_SQL.read_text().format(
        raw_events="'" + str(raw_dir / "events" / "*.parquet") + "'",
        as_of=as_of.replace("T", " ").removesuffix("Z"),
        start_date=v.get("northstar__start_date", "2020-01-01"),
        max_future_hours=int(v.get("northstar__max_future_hours", 24)),
        nsm_events=", ".join("'" + name.strip().lower() + "'" for name in nsm),
    )


def floor_child(raw_dir: Path, as_of: str, nsm_events: str) -> None:
    """The floor query alone in this process (so its RSS and CPU are its own)."""
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    rows = con.execute(floor_sql(raw_dir, as_of, nsm_events)).fetchall()
    print(json.dumps([[str(week), int(value)] for week, value in rows]))


def check_floor(output: str, warehouse: Path) -> int:
    """Weeks compared; raises when the floor and rpt_north_star differ on any week."""
    floor = {week: value for week, value in json.loads(output.strip().splitlines()[-1])}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        built = dict(
            con.execute(
                "select cast(period_start as varchar), value from marts.rpt_north_star "
                "where grain = 'week'"
            ).fetchall()
        )
    weeks = sorted(set(floor) | set(built))
    differ = [(w, floor.get(w, 0), built.get(w)) for w in weeks if floor.get(w, 0) != built.get(w)]
    if differ:
        raise SystemExit(f"floor != rpt_north_star on {len(differ)} weeks, e.g. {differ[:5]}")
    return len(weeks)


def env_for(work: Path) -> dict[str, str]:
    return dict(
        os.environ,
        NORTHSTAR_PROJECT_DIR=str(PROJECT),
        NORTHSTAR_RAW_DIR=str(work / "raw"),
        NORTHSTAR_DUCKDB_PATH=str(work / "warehouse.duckdb"),
        NORTHSTAR_SNAPSHOTS_DIR=str(work / "snapshots"),
        DBT_PROFILES_DIR=str(PROJECT),
        DBT_TARGET_PATH=str(work / "target"),
        DBT_LOG_PATH=str(work / "logs"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )


def northstar(*args: str) -> list[str]:
    return [str(BIN / "northstar"), *args]


def build_command(runner: str, unit_tests: bool = False) -> list[str]:
    """What a scheduler runs: unit tests test the SQL, not the data, and are left to CI
    (docs/incremental.md, Scheduled runs) unless --with-unit-tests."""
    skip = [] if unit_tests else ["--exclude-resource-type", "unit_test"]
    if runner == "dbt":
        return [str(BIN / "dbt"), "build", *skip, "--quiet"]
    return northstar("build", *([] if unit_tests else ["--skip-unit-tests"]))


def raw_rows(raw: Path) -> int:
    return int(json.loads((raw / "_manifest.json").read_text())["events_total"])


def as_of(raw: Path) -> str:
    return json.loads((raw / "_manifest.json").read_text())["as_of"]


def bench_size(events: float, args: argparse.Namespace) -> dict:
    label = f"{events / 1e6:g}M"
    work = args.work / label
    accounts = max(1, round(events / EVENTS_PER_ACCOUNT))
    reused = args.reuse and _generated(work / "raw", accounts)
    if not reused:
        shutil.rmtree(work, ignore_errors=True)
    else:  # the data as generated, and no warehouse: every round starts from the same state
        for path in work.iterdir():
            if path.name not in ("raw", "generate.log", "generate.json"):
                shutil.rmtree(path) if path.is_dir() else path.unlink()
    work.mkdir(parents=True, exist_ok=True)
    env = env_for(work)
    raw = str(work / "raw")
    print(f"\n== {label} raw events ({accounts:,} accounts, {DAYS} days) in {work}", flush=True)

    if reused:
        gen = Run(**json.loads((work / "generate.json").read_text()))
        print("   (data reused from an earlier run of this benchmark: --reuse)")
    else:
        gen = measure(
            northstar("generate", "--accounts", str(accounts), "--days", str(DAYS), "--out", raw),
            env,
            work / "generate.log",
        )
        (work / "generate.json").write_text(json.dumps(gen.__dict__))
    if gen.code:
        raise SystemExit(f"generate failed (exit {gen.code}): see {work / 'generate.log'}")
    rows0 = raw_rows(work / "raw")
    size_mb = sum(p.stat().st_size for p in (work / "raw").rglob("*") if p.is_file()) / 1e6
    print(
        f"   generate: {rows0:,} raw rows, {size_mb:,.0f} MB, wall {gen.wall:.1f} s, "
        f"CPU {gen.cpu:.1f} s, peak RSS {gen.rss_mb / 1024:.2f} GiB",
        flush=True,
    )

    build = build_command(args.runner, args.with_unit_tests)
    results: dict[str, list[tuple[Run, int]]] = {step: [] for step in STEPS}
    appends: list[Run] = []
    built_once = False
    for round_no in range(args.repeat):
        order = STEPS[round_no % 3 :] + STEPS[: round_no % 3]
        if not built_once:
            order = STEPS  # the incremental step and the floor check need a built warehouse
        for step in order:
            log = work / f"{step}-{round_no}.log"
            if step == "full":
                (work / "warehouse.duckdb").unlink(missing_ok=True)
                (work / "warehouse.duckdb.wal").unlink(missing_ok=True)
                run = measure(build, env, log)
            elif step == "incremental":
                append = measure(
                    northstar("generate", "--append-days", "1", "--out", raw),
                    env,
                    work / f"append-{round_no}.log",
                )
                if append.code:
                    raise SystemExit(f"append failed: see {work / f'append-{round_no}.log'}")
                appends.append(append)
                run = measure(build, env, log)
            else:
                run = measure(
                    [
                        sys.executable,
                        __file__,
                        "--floor-child",
                        raw,
                        "--as-of",
                        as_of(work / "raw"),
                        # read here, so the child's cost is the query's alone
                        "--nsm-events",
                        nsm_events(),
                    ],
                    env,
                )
                if run.code:
                    raise SystemExit(f"floor query failed:\n{run.output[-3000:]}")
                weeks = check_floor(run.output, work / "warehouse.duckdb")
            # exit 4: dbt built every table but the validation gate judged the data invalid
            # (tiny data sets trip the volume band); the build's cost is still what it is
            if run.code not in (0, 4):
                raise SystemExit(f"{step} build failed (exit {run.code}): see {log}")
            if step != "floor":
                keep_node_timings(work, f"{step}-{round_no}")
            note = " validation FAILED, not published" if run.code == 4 else ""
            built_once = True
            rows = raw_rows(work / "raw")
            results[step].append((run, rows))
            extra = f", equals rpt_north_star on {weeks} weeks" if step == "floor" else note
            print(
                f"   round {round_no + 1} {step:<11} wall {run.wall:7.1f} s  CPU {run.cpu:7.1f} s"
                f"  peak RSS {run.rss_mb / 1024:5.2f} GiB  ({rows:,} rows{extra})",
                flush=True,
            )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return {"label": label, "rows": rows0, "generate": gen, "appends": appends, "steps": results}


def keep_node_timings(work: Path, name: str) -> None:
    """Keep the build's dbt/run_results.json beside its log (the next build overwrites it)."""
    results = work / "target" / "run_results.json"
    if results.is_file():
        shutil.copy(results, work / f"{name}.run_results.json")


def median(runs: list[tuple[Run, int]], attr: str) -> float:
    return statistics.median(getattr(run, attr) for run, _rows in runs)


def _generated(raw: Path, accounts: int) -> bool:
    """Whether `raw` holds this size's data as generated (not appended to)."""
    try:
        params = json.loads((raw / "_manifest.json").read_text())["params"]
    except (OSError, ValueError, KeyError):
        return False
    return params["accounts"] == accounts and params["days"] == DAYS


def report(sizes: list[dict], args: argparse.Namespace) -> None:
    command = " ".join(Path(part).name for part in build_command(args.runner, args.with_unit_tests))
    print(f"\nbuild command: {command}; medians of {args.repeat} rounds")
    print(
        "incremental = append one day with the generator, then the normal build on the last "
        "build's warehouse (docs/incremental.md: event-sized models take in the new file only)"
    )
    header = (
        f"{'size':>6} {'step':<12} {'wall s':>8} {'CPU s':>8} {'peak RSS GiB':>12} "
        f"{'rows/s':>11} {'wall x floor':>12} {'CPU x floor':>11}"
    )
    print(header)
    for size in sizes:
        steps = size["steps"]
        floor_wall, floor_cpu = median(steps["floor"], "wall"), median(steps["floor"], "cpu")
        for step in STEPS:
            wall, cpu = median(steps[step], "wall"), median(steps[step], "cpu")
            rss = max(run.rss_mb for run, _ in steps[step]) / 1024
            rows = statistics.median(rows for _, rows in steps[step])
            print(
                f"{size['label']:>6} {step:<12} {wall:8.1f} {cpu:8.1f} {rss:12.2f} "
                f"{rows / wall:11,.0f} {wall / floor_wall:11.1f}x {cpu / floor_cpu:10.1f}x"
            )
        full_wall, full_cpu = median(steps["full"], "wall"), median(steps["full"], "cpu")
        inc_wall = median(steps["incremental"], "wall")
        inc_cpu = median(steps["incremental"], "cpu")
        gen = size["generate"]
        appends = size["appends"]
        print(
            f"{size['label']:>6} ratios: full / floor {full_wall / floor_wall:.1f}x wall, "
            f"{full_cpu / floor_cpu:.1f}x CPU; incremental / full {inc_wall / full_wall:.0%} "
            f"wall, {inc_cpu / full_cpu:.0%} CPU"
        )
        print(
            f"{size['label']:>6} generate {size['rows']:,} rows: wall {gen.wall:.1f} s, CPU "
            f"{gen.cpu:.1f} s, peak RSS {gen.rss_mb / 1024:.2f} GiB; append one day: median "
            f"wall {statistics.median(a.wall for a in appends):.1f} s, CPU "
            f"{statistics.median(a.cpu for a in appends):.1f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e6, 1e7])
    parser.add_argument("--100m", dest="with_100m", action="store_true", help="add 100M events")
    parser.add_argument("--1b", dest="with_1b", action="store_true", help="add 1B events")
    parser.add_argument("--repeat", type=int, default=3, help="rounds per size (medians)")
    parser.add_argument("--runner", choices=("northstar", "dbt"), default="northstar")
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "northstar-bench-scale"
    )
    parser.add_argument(
        "--with-unit-tests",
        action="store_true",
        help="run dbt's unit tests in every build too (a scheduled build leaves them to CI)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep each size's data, logs and dbt run_results.json per step",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="reuse data a kept run generated (implies --keep)"
    )
    parser.add_argument("--floor-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--as-of", help=argparse.SUPPRESS)
    parser.add_argument("--nsm-events", help=argparse.SUPPRESS)
    args = parser.parse_args()

    args.keep = args.keep or args.reuse
    if args.floor_child:
        floor_child(args.floor_child, args.as_of, args.nsm_events)
        return
    sizes = list(args.sizes) + [1e8] * args.with_100m + [1e9] * args.with_1b
    free = shutil.disk_usage(args.work.parent if not args.work.exists() else args.work).free
    print(
        f"northstar bench_scale: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} "
        f"at start, {free / 1e9:.0f} GB free under {args.work}"
    )
    # the two settings that decide a build's memory (profiles.yml, docs/engines.md)
    print(
        ", ".join(
            f"{name} {os.environ.get(name, 'unset (the profile default)')}"
            for name in ("NORTHSTAR_DUCKDB_MEMORY_LIMIT", "NORTHSTAR_DBT_THREADS")
        )
    )
    done = [bench_size(events, args) for events in sizes]
    report(done, args)


if __name__ == "__main__":
    main()
