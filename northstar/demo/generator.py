"""Generate the demo data set and write it atomically.

The data set is built in a temporary directory beside `out_dir` and swapped in with a rename,
so a failed or killed generation never leaves half a data set behind: readers see the old
data or the new, never a mix. See docs/demo-data.md for what is in it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from northstar.demo import model, truth

MANIFEST = "_manifest.json"
# What a generated data set holds; anything else in out_dir means it is not ours to replace.
OWN_ENTRIES = {"events", "accounts.parquet", "users.parquet", MANIFEST}
# DuckDB spills to disk past this, so 10M+ events fit on a shared machine.
MEMORY_LIMIT = os.environ.get("NORTHSTAR_GENERATE_MEMORY", "4GB")


@dataclass
class DemoResult:
    """What was written: row counts per file, planted defects, planted truths, time taken."""

    out_dir: Path
    params: dict[str, Any]
    files: dict[str, int]
    events_clean: int
    events_total: int  # raw rows in events/*.parquet: clean + duplicates + malformed
    defects: dict[str, int]  # duplicate_deliveries, late_arrivals, malformed:<kind> ...
    formats: dict[str, int]  # valid but non-canonical values staging must normalize
    truths: dict[str, Any] = field(repr=False)
    seconds: float = 0.0

    @property
    def malformed(self) -> dict[str, int]:
        return {
            k.split(":", 1)[1]: v for k, v in self.defects.items() if k.startswith("malformed:")
        }

    def summary(self) -> str:
        p = self.params
        end = date.fromisoformat(p["start_date"]) + timedelta(days=p["days"] - 1)
        lines = [
            f"demo data written to {self.out_dir} in {self.seconds:.1f} s",
            f"  seed {p['seed']}, {p['accounts']:,} accounts, {p['days']} days "
            f"({p['start_date']} .. {end.isoformat()})",
        ]
        width = max(len(name) for name in self.files)
        lines += [f"  {name:<{width}}  {rows:>12,} rows" for name, rows in self.files.items()]
        n_malformed = sum(self.malformed.values())
        lines += [
            f"  events: {self.events_clean:,} clean + {self.defects['duplicate_deliveries']:,} "
            f"duplicate deliveries + {n_malformed:,} malformed = {self.events_total:,} raw rows",
            "defects planted:",
        ]
        for kind in ("duplicate_deliveries", "late_arrivals"):
            lines.append(
                f"  {kind:<26} {self.defects[kind]:>9,}  "
                f"({self.defects[kind] / max(self.events_clean, 1):.2%} of clean events)"
            )
        lines.append(f"  {'malformed rows':<26} {n_malformed:>9,}")
        lines += [f"    {kind:<24} {count:>9,}" for kind, count in self.malformed.items()]
        lines.append("valid values staging must normalize:")
        lines += [f"  {kind:<26} {count:>9,}" for kind, count in self.formats.items()]
        lines.append("planted truths (measured on the clean events):")
        lines += ["  " + line for line in _truth_lines(self.truths)]
        return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _truth_lines(t: dict[str, Any]) -> list[str]:
    ret, act, paid, br, ok = (
        t["week8_retention"],
        t["activation"],
        t["paid_conversion"],
        t["breach"],
        t["healthy_complete_weeks"],
    )
    breach_weeks = ", ".join(
        f"{w['week']}: {w['tickets_per_active_team']} tickets/active team, "
        f"p95 {w['p95_latency_ms']:.0f} ms"
        for w in br["in_breach_weeks"]
    )
    return [
        f"aha ({t['aha']['definition']}): {_pct(t['aha']['rate'])} of "
        f"{t['aha']['teams']:,} teams with a complete window",
        f"week-8 retention: aha {_pct(ret['aha']['rate'])} ({ret['aha']['teams']:,} teams) vs "
        f"non-aha {_pct(ret['non_aha']['rate'])} ({ret['non_aha']['teams']:,} teams)",
        f"activation: {_pct(act['before']['rate'])} of teams created before "
        f"{act['change_date']} vs {_pct(act['after']['rate'])} on/after",
        f"paid conversion (teams with 9+ weeks of data): aha {_pct(paid['aha']['rate'])} vs "
        f"non-aha {_pct(paid['non_aha']['rate'])}",
        f"guardrail breach, ISO weeks {breach_weeks or 'outside the range'}",
        f"  other complete weeks: max {br['other_weeks_max_tickets_per_active_team']} "
        f"tickets/active team, max p95 {br['other_weeks_max_p95_latency_ms']} ms",
        f"healthy in every complete week: unsubscribes/active team <= "
        f"{ok['max_unsubscribes_per_active_team']}, mean NPS >= {ok['min_mean_nps']}, "
        f"5xx rate <= {_pct(ok['max_error_rate'])}, weekly churn <= {_pct(ok['max_churn_rate'])}",
    ]


def generate_demo(
    out_dir: Path,
    *,
    accounts: int = 1500,
    days: int = 213,
    seed: int = 42,
    start_date: date = date(2026, 3, 2),
) -> DemoResult:
    """Generate the demo data set into `out_dir`, replaced atomically; same arguments, same data."""
    started = time.perf_counter()
    params = model.Params(accounts=accounts, days=days, seed=seed, start_date=start_date)
    params.validate()
    out_dir = Path(out_dir).resolve()
    _check_replaceable(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_builds(out_dir)

    build = out_dir.parent / f".{out_dir.name}.building-{os.getpid()}"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir()
    try:
        result = _build(build, params)
        _swap_in(build, out_dir)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    result.out_dir = out_dir
    result.seconds = time.perf_counter() - started
    return result


def _connect(build: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(
        config={
            "memory_limit": MEMORY_LIMIT,
            "temp_directory": str(build / "_spill"),
            "preserve_insertion_order": True,
        }
    )
    con.execute("set enable_progress_bar = false")
    return con


def _build(build: Path, params: model.Params) -> DemoResult:
    con = _connect(build)
    try:
        for _name, sql in model.clean_steps(params):
            con.execute(sql)
        (clean,) = con.execute("select count(*) from ev").fetchone()
        for _name, sql in model.raw_steps(params, model.malformed_count(clean)):
            con.execute(sql)
        _check_no_event_lost(con, clean)

        files = _write_events(con, build / "events")
        files["accounts.parquet"] = _copy(con, model.ACCOUNTS_OUT, build / "accounts.parquet")
        files["users.parquet"] = _copy(con, model.USERS_OUT, build / "users.parquet")
        defects, formats = _count_defects(con)
        truths = truth.measure(con, params)
    finally:
        con.close()
    shutil.rmtree(build / "_spill", ignore_errors=True)

    events_total = sum(rows for name, rows in files.items() if name.startswith("events/"))
    result = DemoResult(
        out_dir=build,
        params={
            "accounts": params.accounts,
            "days": params.days,
            "seed": params.seed,
            "start_date": params.start_date.isoformat(),
        },
        files=files,
        events_clean=clean,
        events_total=events_total,
        defects=defects,
        formats=formats,
        truths=truths,
    )
    # Everything in the manifest is deterministic (no timings), like the data itself.
    manifest = {
        "generator": "northstar.demo",
        # The data's own clock, read by dbt (macro northstar_reference_time): the events end
        # on a fixed date, so the wall clock would empty every period since then and accept
        # the planted future-dated rows.
        "as_of": as_of(params),
        "params": result.params,
        "files": files,
        "events_clean": clean,
        "events_total": events_total,
        "defects": defects,
        "formats": formats,
        "truths": truths,
    }
    (build / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return result


def as_of(params: model.Params) -> str:
    """The reference time of a generated data set: midnight (UTC) after its last day."""
    end = params.start_date + timedelta(days=params.days)
    return f"{end.isoformat()}T00:00:00Z"


def read_as_of(raw_dir: Path) -> str | None:
    """`as_of` of the manifest in `raw_dir`, for scripts that pass it to another engine
    (dbt reads it itself on DuckDB); None when there is no manifest or no as_of."""
    try:
        value = json.loads((Path(raw_dir) / MANIFEST).read_text()).get("as_of")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value else None


def _check_no_event_lost(con: duckdb.DuckDBPyConnection, clean: int) -> None:
    (dups,) = con.execute("select count(*) from ev where is_dup").fetchone()
    (raw,) = con.execute("select count(*) from raw_clean").fetchone()
    if raw != clean + dups:  # every event's user must exist, or the join drops it
        raise RuntimeError(f"generator bug: {clean + dups} events but {raw} raw rows")


# The SQL built with f-strings below interpolates only our own constants, integers and
# quoted paths (S608 does not apply).
def _raw_rows_sql() -> str:
    columns = ", ".join(model.RAW_COLUMNS)
    return (
        f"select {columns}, sort_ms, key, copy_no, 0 as bad_rank from raw_clean "  # noqa: S608
        f"union all select {columns}, sort_ms, key, copy_no, bad_rank from raw_bad"
    )


def _write_events(con: duckdb.DuckDBPyConnection, events_dir: Path) -> dict[str, int]:
    """One Parquet file per month of received_at, like a feed landed in monthly batches."""
    events_dir.mkdir()
    months = con.execute(
        """
        select distinct date_trunc('month', epoch_ms(sort_ms)) as month
        from (
            select rec_ms as sort_ms from ev
            union all select rec_ms + dup_delay_ms from ev where is_dup
            union all select sort_ms from raw_bad
        )
        order by month
        """
    ).fetchall()
    columns = ", ".join(model.RAW_COLUMNS)
    files = {}
    for (month,) in months:
        low = _epoch_ms(month)
        high = _epoch_ms(_next_month(month))
        path = events_dir / f"part-{month:%Y-%m}.parquet"
        query = (
            f"select {columns} from ({_raw_rows_sql()}) "  # noqa: S608
            f"where sort_ms >= {low} and sort_ms < {high} "
            "order by sort_ms, key, copy_no, bad_rank"
        )
        files[f"events/{path.name}"] = _copy(con, query, path)
    return files


def _next_month(month: datetime) -> datetime:
    return month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)


def _epoch_ms(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp() * 1000)


def _copy(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> int:
    target = _quote(path)
    # zstd level 1: smaller and about twice as fast as the default level 3 on this data
    con.execute(
        f"copy ({query}) to {target} (format parquet, compression zstd, compression_level 1)"
    )
    (rows,) = con.execute(f"select count(*) from read_parquet({target})").fetchone()  # noqa: S608
    return rows


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _count_defects(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, int], dict[str, int]]:
    dups, late, offset, epoch_s, epoch_ms, names = con.execute(
        """
        select
            count(*) filter (where is_dup),
            count(*) filter (where is_late),
            count(*) filter (where ts_format in (1, 2)),
            count(*) filter (where ts_format = 3),
            count(*) filter (where ts_format = 4),
            count(*) filter (where name_variant > 0)
        from ev
        """
    ).fetchone()
    defects = {"duplicate_deliveries": dups, "late_arrivals": late}
    for kind in dict.fromkeys(model.MALFORMED_CYCLE):
        (n,) = con.execute("select count(*) from raw_bad where bad_kind = ?", [kind]).fetchone()
        defects[f"malformed:{kind}"] = n
    formats = {
        "occurred_at_with_offset": offset,
        "occurred_at_epoch_seconds": epoch_s,
        "occurred_at_epoch_millis": epoch_ms,
        "event_name_not_snake_case": names,
    }
    return defects, formats


def _check_replaceable(out_dir: Path) -> None:
    """Refuse to replace a directory that holds anything but a generated data set."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise NotADirectoryError(f"{out_dir}: exists and is not a directory")
    foreign = sorted(entry.name for entry in out_dir.iterdir() if entry.name not in OWN_ENTRIES)
    if foreign:
        raise FileExistsError(
            f"{out_dir}: not a generated demo data set (holds {', '.join(foreign[:5])}); "
            "refusing to replace it: choose an empty or new directory"
        )


def _remove_stale_builds(out_dir: Path) -> None:
    """Leftovers of a killed generation: remove them once their process is gone."""
    for prefix in (f".{out_dir.name}.building-", f".{out_dir.name}.old-"):
        for path in out_dir.parent.glob(prefix + "*"):
            pid = path.name.rsplit("-", 1)[-1]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2); False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    status = renameat2(_AT_FDCWD, bytes(a), _AT_FDCWD, bytes(b), _RENAME_EXCHANGE)
    return status == 0


def _swap_in(build: Path, out_dir: Path) -> None:
    """Make `build` the new `out_dir`; afterwards `build` holds the old data (or nothing)."""
    if not out_dir.exists():
        build.rename(out_dir)
        return
    if _exchange(build, out_dir):
        return
    # Portable fallback: two renames; for an instant out_dir is absent, never half-written.
    old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
    out_dir.rename(old)
    build.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)
