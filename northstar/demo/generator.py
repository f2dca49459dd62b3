"""Generate the demo data set, or append days to it, and write it atomically.

The data set is built in a temporary directory beside `out_dir` and swapped in with a rename,
so a failed or killed generation never leaves half a data set behind: readers see the old
data or the new, never a mix. Teams are simulated in chunks (memory follows the chunk, not the
data set), their delivered rows staged on disk by the day they landed, and each landed day
written as one events file. See docs/demo-data.md for what is in it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

from northstar.demo import model, truth

MANIFEST = "_manifest.json"
# Bumped when the same parameters would give other bytes: an append refuses older data sets.
FEED_VERSION = 3
# What a generated data set holds; anything else in out_dir means it is not ours to replace.
OWN_ENTRIES = {"events", "accounts.parquet", "users.parquet", MANIFEST}
# DuckDB spills to disk past this, so 10M+ events fit on a shared machine.
MEMORY_LIMIT = os.environ.get("NORTHSTAR_GENERATE_MEMORY", "4GB")
# Teams are simulated in chunks of about this many events, so memory follows the chunk, not
# the data set (NORTHSTAR_GENERATE_CHUNK_ACCOUNTS sets the teams per chunk directly). The
# files do not depend on the chunk size.
CHUNK_EVENTS = 4_000_000
CHUNK_ACCOUNTS = os.environ.get("NORTHSTAR_GENERATE_CHUNK_ACCOUNTS")
EVENTS_PER_TEAM_DAY = 6.0
# Landed days are formatted and written in batches of about this many rows.
DAY_BATCH_ROWS = 2_000_000


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
    as_of: str = ""
    events_in_flight: int = 0  # occurred before as_of, not landed yet (lands in later days)
    delivery_lag_days: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)
    appended_days: int = 0  # 0: generated from scratch
    seconds: float = 0.0

    @property
    def malformed(self) -> dict[str, int]:
        return {
            k.split(":", 1)[1]: v for k, v in self.defects.items() if k.startswith("malformed:")
        }

    def summary(self) -> str:
        p = self.params
        end = date.fromisoformat(p["start_date"]) + timedelta(days=p["days"] - 1)
        how = f"appended {self.appended_days} days" if self.appended_days else "written"
        lines = [
            f"demo data {how} to {self.out_dir} in {self.seconds:.1f} s",
            f"  seed {p['seed']}, {p['accounts']:,} accounts per {p['signup_days']} days, "
            f"{p['days']} days ({p['start_date']} .. {end.isoformat()}), as of {self.as_of}",
        ]
        # one events file per landed day: list the first, the last and the new ones at most
        events = [name for name in self.files if name.startswith("events/")]
        shown = set(events[:1] + events[-max(1, min(self.appended_days, 3)) :])
        others = [name for name in self.files if not name.startswith("events/")]
        width = max(len(name) for name in self.files)
        for name in events:
            if name in shown:
                lines.append(f"  {name:<{width}}  {self.files[name]:>12,} rows")
            elif lines[-1].strip() != "...":
                lines.append("  ...")
        lines.append(
            f"  {'events/*.parquet':<{width}}  {self.events_total:>12,} rows in "
            f"{len(events)} files (one per landed day)"
        )
        lines += [f"  {name:<{width}}  {self.files[name]:>12,} rows" for name in others]
        n_malformed = sum(self.malformed.values())
        lines += [
            f"  events: {self.events_clean:,} clean + {self.defects['duplicate_deliveries']:,} "
            f"duplicate deliveries + {n_malformed:,} malformed = {self.events_total:,} raw rows",
            f"  in flight: {self.events_in_flight:,} events occurred before {self.as_of} "
            "land in later days",
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
    signup_days: int = model.SIGNUP_DAYS,
    chunk_accounts: int | None = None,
) -> DemoResult:
    """Generate the demo data set into `out_dir`, replaced atomically; same arguments, same data."""
    params = model.Params(
        accounts=accounts,
        days=days,
        seed=seed,
        start_date=start_date,
        signup_days=signup_days,
    )
    return _generate(Path(out_dir), params, reuse_days=0, chunk_accounts=chunk_accounts)


def append_days(out_dir: Path, days: int, *, chunk_accounts: int | None = None) -> DemoResult:
    """Add `days` landed days to the data set in `out_dir`, leaving its event files untouched.

    The result is the data set `generate_demo` writes for the longer range, byte for byte: the
    world does not depend on the range, and a day's file holds only what landed that day. Old
    event files are hard-linked into the new data set (copied where links are not possible);
    accounts, users and the manifest describe the new end. Replaced atomically, like a
    generation.
    """
    if days < 1:
        raise ValueError(f"days to append must be at least 1, got {days}")
    out_dir = Path(out_dir).resolve()
    manifest = read_manifest(out_dir)
    if manifest is None:
        raise FileNotFoundError(f"{out_dir}: no generated demo data set to append to")
    if manifest.get("feed_version") != FEED_VERSION:
        raise ValueError(
            f"{out_dir}: written by another version of the generator (feed_version "
            f"{manifest.get('feed_version')!r}, this one writes {FEED_VERSION}): regenerate it"
        )
    old = manifest["params"]
    params = model.Params(
        accounts=int(old["accounts"]),
        days=int(old["days"]) + days,
        seed=int(old["seed"]),
        start_date=date.fromisoformat(old["start_date"]),
        signup_days=int(old["signup_days"]),
    )
    return _generate(
        out_dir,
        params,
        reuse_days=int(old["days"]),
        chunk_accounts=chunk_accounts,
        reuse_files=manifest["files"],
    )


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    """The manifest of a generated data set, or None where there is none."""
    try:
        manifest = json.loads((Path(out_dir) / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return manifest if manifest.get("generator") == "northstar.demo" else None


def _generate(
    out_dir: Path,
    params: model.Params,
    *,
    reuse_days: int,
    chunk_accounts: int | None,
    reuse_files: dict[str, int] | None = None,
) -> DemoResult:
    started = time.perf_counter()
    params.validate()
    out_dir = out_dir.resolve()
    _check_replaceable(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_builds(out_dir)

    build = out_dir.parent / f".{out_dir.name}.building-{os.getpid()}"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir()
    try:
        if reuse_days:
            _link_old_files(out_dir, build, params, reuse_days, reuse_files or {})
        result = _build(build, params, reuse_days, chunk_accounts or _chunk_accounts(params))
        changed = [
            name
            for name, rows in (reuse_files or {}).items()
            if name.startswith("events/") and result.files.get(name) != rows
        ]
        if changed:  # the world of the old days came out different: not the same data set
            raise RuntimeError(f"generator bug: appending would change {', '.join(changed[:3])}")
        _swap_in(build, out_dir)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    result.out_dir = out_dir
    result.seconds = time.perf_counter() - started
    return result


def _chunk_accounts(params: model.Params) -> int:
    """Teams per chunk: about CHUNK_EVENTS events, whatever the range."""
    if CHUNK_ACCOUNTS:
        return int(CHUNK_ACCOUNTS)
    events_per_team = EVENTS_PER_TEAM_DAY * min(params.days, params.signup_days)
    return max(1, round(CHUNK_EVENTS / events_per_team))


def _event_file(params: model.Params, day: int) -> str:
    return f"events/{params.start_date + timedelta(days=day):%Y-%m-%d}.parquet"


def _link_old_files(
    out_dir: Path, build: Path, params: model.Params, reuse_days: int, files: dict[str, int]
) -> None:
    (build / "events").mkdir()
    for day in range(reuse_days):
        name = _event_file(params, day)
        if name not in files or not (out_dir / name).is_file():
            raise FileNotFoundError(f"{out_dir}: {name} is missing, cannot append")
        try:
            os.link(out_dir / name, build / name)
        except OSError:
            shutil.copy2(out_dir / name, build / name)


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


# Tables one chunk of teams builds; dropped before the next chunk, so memory follows the chunk.
CHUNK_TABLES = (
    "copies",
    "ev",
    "sessions",
    "ev_base",
    "day_counts",
    "users",
    "outcomes",
    "team_days",
    "teams",
)

COUNTS = """
create table if not exists acc_counts (
    occurred bigint, clean bigint, dups bigint, late bigint, offset_fmt bigint,
    epoch_s bigint, epoch_ms bigint, names bigint
);
create table if not exists acc_days (
    landed_day integer, originals bigint, sessions bigint, copies bigint
);
create table if not exists acc_lag (kind varchar, lag_days integer, n bigint);
"""

CHUNK_COUNTS = """
insert into acc_counts
select
    count(*),
    count(*) filter (where rec_ms < ${end_ms}),
    count(*) filter (where is_dup and rec_ms + dup_delay_ms < ${end_ms}),
    count(*) filter (where is_late and rec_ms < ${end_ms}),
    count(*) filter (where ts_format in (1, 2) and rec_ms < ${end_ms}),
    count(*) filter (where ts_format = 3 and rec_ms < ${end_ms}),
    count(*) filter (where ts_format = 4 and rec_ms < ${end_ms}),
    count(*) filter (where name_variant > 0 and rec_ms < ${end_ms})
from ev;

insert into acc_days
select
    landed_day,
    count(*) filter (where copy_no = 0),
    count(*) filter (where copy_no = 0 and ec = 2),
    count(*)
from copies
group by landed_day;

-- days between occurring and landing (originals), and between the original's and the
-- duplicate's landing: what an incremental consumer's lookback has to cover
insert into acc_lag
select 'late_arrivals', (rec_ms // ${day_ms} - ts_ms // ${day_ms})::integer, count(*)
from ev
where rec_ms < ${end_ms} and rec_ms // ${day_ms} > ts_ms // ${day_ms}
group by all
union all
select 'duplicate_deliveries',
    ((rec_ms + dup_delay_ms) // ${day_ms} - rec_ms // ${day_ms})::integer, count(*)
from ev
where is_dup and rec_ms + dup_delay_ms < ${end_ms}
    and (rec_ms + dup_delay_ms) // ${day_ms} > rec_ms // ${day_ms}
group by all;
"""


def _build(build: Path, params: model.Params, reuse_days: int, chunk: int) -> DemoResult:
    stage = build / "_stage"
    (build / "events").mkdir(exist_ok=True)
    con = _connect(build)
    try:
        con.execute(COUNTS)
        chunks = range(0, params.teams_total, chunk)
        # One chunk keeps its copies in memory; several stage theirs on disk by landed day.
        source = stage if len(chunks) > 1 else None
        for lo in chunks:
            _simulate_chunk(con, params, lo, min(lo + chunk, params.teams_total), stage, reuse_days)
            if source is not None:
                _stage_copies(con, stage / "events" / f"c{lo:08d}", reuse_days)
        days = _day_counts(con, params)
        plan = model.malformed_plan([d[0] for d in days], [d[1] for d in days])
        expected = [copies + bad for (_o, _s, copies), (_f, bad) in zip(days, plan, strict=True)]
        new_days = list(range(reuse_days, params.days))
        written = {}
        for batch in _day_batches(new_days, expected):
            written |= _write_days(con, params, source, batch, plan, build / "events")
            if source is not None:  # the disk a batch's stage held is free for the next
                for day in batch:
                    for part in (stage / "events").glob(f"c*/landed_day={day}"):
                        shutil.rmtree(part)
        files = {}
        for day in range(params.days):
            name = _event_file(params, day)
            # days an append keeps: their linked files, checked against the old manifest
            files[name] = written.get(name, expected[day])
            if files[name] != expected[day]:
                raise RuntimeError(
                    f"generator bug: {name} has {files[name]} rows, not {expected[day]}"
                )
        files["accounts.parquet"] = _copy(
            con,
            f"select * exclude (team_idx) from read_parquet({_files_in(stage / 'accounts')}) "  # noqa: S608
            "order by team_idx",
            build / "accounts.parquet",
        )
        files["users.parquet"] = _copy(
            con,
            f"select * exclude (team_idx, j) from read_parquet({_files_in(stage / 'users')}) "  # noqa: S608
            "order by team_idx, j",
            build / "users.parquet",
        )
        occurred, clean, dups, late, offset, epoch_s, epoch_ms, names = con.execute(
            "select coalesce(sum(columns(*)), 0)::bigint from acc_counts"
        ).fetchone()
        lags = con.execute(
            "select kind, lag_days, sum(n)::bigint from acc_lag group by all order by all"
        ).fetchall()
        truths = truth.measure(con, params)
    finally:
        con.close()
    shutil.rmtree(build / "_spill", ignore_errors=True)
    shutil.rmtree(stage, ignore_errors=True)

    n_bad = sum(count for _first, count in plan)
    defects = {"duplicate_deliveries": dups, "late_arrivals": late}
    defects |= {f"malformed:{k}": n for k, n in model.malformed_kinds(n_bad).items()}
    formats = {
        "occurred_at_with_offset": offset,
        "occurred_at_epoch_seconds": epoch_s,
        "occurred_at_epoch_millis": epoch_ms,
        "event_name_not_snake_case": names,
    }
    delivery_lag_days = {
        kind: {str(lag): n for k, lag, n in lags if k == kind}
        for kind in ("late_arrivals", "duplicate_deliveries")
    }
    events_total = sum(rows for name, rows in files.items() if name.startswith("events/"))
    result = DemoResult(
        out_dir=build,
        params=_params_dict(params),
        files=files,
        events_clean=clean,
        events_total=events_total,
        defects=defects,
        formats=formats,
        truths=truths,
        as_of=as_of(params),
        events_in_flight=occurred - clean,
        delivery_lag_days=delivery_lag_days,
        appended_days=params.days - reuse_days if reuse_days else 0,
    )
    # Everything in the manifest is deterministic (no timings), like the data itself; and it
    # does not say how the data set was made, so appending gives the same bytes as generating.
    manifest = {
        "generator": "northstar.demo",
        "feed_version": FEED_VERSION,
        # The data's own clock, read by dbt (macro northstar_reference_time): the events end
        # on a fixed date, so the wall clock would empty every period since then and accept
        # the planted future-dated rows. An append moves it.
        "as_of": result.as_of,
        "params": result.params,
        "layout": {
            "events": "events/YYYY-MM-DD.parquet: one file per UTC day of received_at "
            "(the day the rows landed), every day of the range, never rewritten by an append",
        },
        "files": files,
        "events_clean": clean,
        "events_total": events_total,
        "events_in_flight": result.events_in_flight,
        "defects": defects,
        "delivery_lag_days": delivery_lag_days,
        "formats": formats,
        "truths": truths,
    }
    (build / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return result


def _params_dict(params: model.Params) -> dict[str, Any]:
    return {
        "accounts": params.accounts,
        "days": params.days,
        "seed": params.seed,
        "start_date": params.start_date.isoformat(),
        "signup_days": params.signup_days,
    }


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


def _simulate_chunk(
    con: duckdb.DuckDBPyConnection,
    params: model.Params,
    lo: int,
    hi: int,
    stage: Path,
    reuse_days: int,
) -> None:
    """Simulate teams [lo, hi) and stage their delivered rows, partitioned by landed day."""
    for _name, sql in model.clean_steps(params, lo, hi):
        con.execute(sql)
    _check_no_event_lost(con, params)
    truth.accumulate(con, params)
    con.execute(model.render(CHUNK_COUNTS, params))
    tag = f"c{lo:08d}"
    for name, sql in (("accounts", model.ACCOUNTS_OUT), ("users", model.USERS_OUT)):
        (stage / name).mkdir(parents=True, exist_ok=True)
        con.execute(
            f"copy ({model.render(sql, params)}) to {_quote(stage / name / (tag + '.parquet'))} "
            "(format parquet)"
        )
    for table in CHUNK_TABLES[1:]:  # copies: staged (or kept) by the caller
        con.execute(f"drop table if exists {table}")


def _stage_copies(con: duckdb.DuckDBPyConnection, target: Path, reuse_days: int) -> None:
    """Write a chunk's copies to disk by landed day, then free them."""
    # Rows of days an append keeps were counted but are not written again.
    (new_rows,) = con.execute(
        "select count(*) from copies where landed_day >= ?", [reuse_days]
    ).fetchone()
    if new_rows:
        target.parent.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"copy (select * from copies where landed_day >= {reuse_days}) to {_quote(target)} "  # noqa: S608
            "(format parquet, partition_by (landed_day), compression zstd, compression_level 1)"
        )
    con.execute("drop table copies")


def _check_no_event_lost(con: duckdb.DuckDBPyConnection, params: model.Params) -> None:
    (copies,) = con.execute("select count(*) from copies").fetchone()
    (expected,) = con.execute(
        model.render(
            "select count(*) filter (where rec_ms < ${end_ms}) + count(*) filter "
            "(where is_dup and rec_ms + dup_delay_ms < ${end_ms}) from ev",
            params,
        )
    ).fetchone()
    if copies != expected:  # every event's user must exist, or the join drops it
        raise RuntimeError(f"generator bug: {expected} delivered copies but {copies} staged rows")


def _day_counts(con: duckdb.DuckDBPyConnection, params: model.Params) -> list[tuple[int, int, int]]:
    """(original deliveries, original session_started deliveries, all copies) per landed day."""
    rows = con.execute(
        "select landed_day, sum(originals), sum(sessions), sum(copies) from acc_days group by all"
    ).fetchall()
    days = [(0, 0, 0)] * params.days
    for day, originals, sessions, copies in rows:
        days[day] = (int(originals), int(sessions), int(copies))
    return days


# Columns of a staged row, so a batch in which nothing landed still has its columns (an empty
# file is still written: a feed lands a file every day).
STAGE_SCHEMA = """
create or replace temp table day_rows (
    landed_day integer, key bigint, copy_no utinyint, sort_ms bigint, team_idx integer,
    user_j integer, ec integer, he ubigint, ts_ms bigint, ts_format tinyint,
    name_variant tinyint, offset_idx integer, prop_text varchar, prop_num bigint,
    prop_status integer, session_hash ubigint, platform_override varchar, user_id varchar,
    account_id varchar, user_platform varchar, user_country varchar
)
"""


def _day_batches(days: list[int], rows: list[int]) -> list[list[int]]:
    """Consecutive landed days in batches of about CHUNK_EVENTS rows: memory follows the batch,
    and the per-statement cost is paid per batch, not per day."""
    batches: list[list[int]] = [[]]
    size = 0
    for day in days:
        if batches[-1] and size + rows[day] > DAY_BATCH_ROWS:
            batches.append([])
            size = 0
        batches[-1].append(day)
        size += rows[day]
    return [batch for batch in batches if batch]


def _write_days(
    con: duckdb.DuckDBPyConnection,
    params: model.Params,
    stage: Path | None,
    days: list[int],
    plan: list[tuple[int, int]],
    events_dir: Path,
) -> dict[str, int]:
    """Write a batch of landed days' files: their staged copies plus their malformed twins."""
    if stage is None:  # one chunk: its copies are still in memory, read them in place
        con.execute(
            f"create or replace temp view day_rows as select * from copies "  # noqa: S608
            f"where landed_day between {days[0]} and {days[-1]}"
        )
    else:
        con.execute(STAGE_SCHEMA)
        parts = [
            part
            for day in days
            for part in sorted((stage / "events").glob(f"c*/landed_day={day}/*.parquet"))
        ]
        if parts:
            files = "[" + ", ".join(_quote(part) for part in parts) + "]"
            con.execute(
                f"insert into day_rows by name select * from read_parquet({files}, "  # noqa: S608
                "hive_partitioning = true) order by landed_day"
            )
    values = ", ".join(f"({day}, {plan[day][0]}, {plan[day][1]})" for day in days)
    max_bad = max(1, *(plan[day][1] for day in days))
    con.execute(
        model.render(
            model.DAY_RAW, params, name="day_raw", extra="0::bigint as bad_rank,", source="day_rows"
        )
    )
    con.execute(model.render(model.DAY_BAD, params, plan=values, max_bad=max_bad))
    # the twins' originals, formatted: joined before formatting, so only they are formatted
    twins = (
        "(select d.*, b.bad_kind, b.bad_rank from day_rows as d "
        "inner join day_bad as b on d.key = b.key and d.copy_no = 0)"
    )
    con.execute(
        model.render(
            model.DAY_RAW,
            params,
            name="day_raw_twins",
            extra="bad_kind, bad_rank,",
            source=twins,
        )
    )
    con.execute(model.render(model.DAY_RAW_BAD, params))
    columns = ", ".join(model.RAW_COLUMNS)
    order = "sort_ms, key, copy_no, bad_rank"
    # Formatted once for the batch (a statement per day would pay the planning of the
    # formatting expressions per day), in day order so each day's select reads its own rows.
    con.execute(
        f"create or replace temp table day_out as select landed_day, {columns}, {order} "  # noqa: S608
        f"from day_raw union all select landed_day, {columns}, {order} from day_raw_bad "
        f"order by landed_day, {order}"
    )
    # a row of nulls outside every day: the batch's statistics then say every column may
    # hold nulls, whatever the batch, so each day's file has the same bytes in any batching
    con.execute("insert into day_out (landed_day) values (-1)")
    written = {}
    for day in days:
        name = _event_file(params, day)
        query = f"select {columns} from day_out where landed_day = {day} order by {order}"  # noqa: S608
        written[name] = _copy_direct(con, query, events_dir.parent / name)
    con.execute("drop table day_out")
    return written


def _copy_direct(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> int:
    """COPY a query straight to Parquet: only for inputs whose statistics cannot differ
    between runs that must give the same bytes (see _copy)."""
    (rows,) = con.execute(
        f"copy ({query}) to {_quote(path)} (format parquet, compression zstd, compression_level 1)"
    ).fetchone()
    return rows


def _copy(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> int:
    # Through a table of its own: the Parquet writer takes hints from its input's statistics
    # (whether a column may hold nulls decides if definition levels are written), so the same
    # rows from a different source (another chunk size, a batch of other days) would give
    # other bytes. A fresh table's statistics are those of exactly these rows.
    con.execute(f"create or replace temp table _out as {query}")
    # zstd level 1: smaller and about twice as fast as the default level 3 on this data
    (rows,) = con.execute(
        f"copy _out to {_quote(path)} (format parquet, compression zstd, compression_level 1)"
    ).fetchone()
    con.execute("drop table _out")
    return rows


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _files_in(directory: Path) -> str:
    """The Parquet files of a directory as a DuckDB list of paths. Not a glob: DuckDB reads
    `[` in a pattern as a character class, and --out may hold any character."""
    return "[" + ", ".join(_quote(path) for path in sorted(directory.glob("*.parquet"))) + "]"


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
