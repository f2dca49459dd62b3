"""Plain dbt and `northstar build` give the same tables (issue 16).

Schedulers (Airflow, Dagster, cron, dbt Cloud style jobs) run `dbt build` themselves, with
the project's own profiles.yml and none of the environment northstar's CLI sets. Every
input that changes a number must therefore reach dbt without the CLI: here the demo is
built both ways from the same raw files, in two throwaway project directories, and every
table of the staging, intermediate and marts schemas is compared row for row. Then
`northstar publish` runs on the plain build and must publish what `northstar build` did.

The demo is the test because it is hostile to a wrong clock: its events end on a fixed
date and it plants future-dated rows, so a build that falls back to the wall clock accepts
them, runs the period spine past the data, and fails the gate.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from snapshot_helpers import clean_env

pytestmark = pytest.mark.dbt

PROJECT_DIR = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PROJECT_ENTRIES = [
    "dbt_project.yml",
    "profiles.yml",
    "models",
    "macros",
    "seeds",
    "tests",
    "expectations",
]
# Enough teams for the validation gate's bands to hold (the session fixture's size,
# tests/python/conftest.py); the generator's default days, so the planted truths and
# defects (future-dated rows included) are all there.
DEMO_ACCOUNTS = 200
SCHEMAS = ("staging", "intermediate", "marts")
PUBLIC = ("marts.fct_metric_values", "marts.fct_aha_moments", "marts.dim_metrics")
REL_TOL = 1e-9
# Above this, a private table whose hash differs is reported without pairing its rows (the
# event-level staging tables: holding both sides in Python would take gigabytes).
ROW_COMPARE_LIMIT = 100_000


def _load_compare_engines():
    """scripts/compare_engines.py's row normalization, so both comparisons agree on what
    "the same value" means."""
    spec = importlib.util.spec_from_file_location(
        "compare_engines", PROJECT_DIR / "scripts" / "compare_engines.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


compare_engines = _load_compare_engines()


def _project(root: Path) -> Path:
    """A throwaway copy of the checkout: symlinks to the project files, and an empty
    warehouse/ as a clone has (dbt-duckdb does not create its file's directory, so the
    repository keeps warehouse/.gitignore for plain dbt to build into)."""
    root.mkdir(parents=True)
    for entry in PROJECT_ENTRIES:
        (root / entry).symlink_to(PROJECT_DIR / entry)
    (root / "warehouse").mkdir()
    return root


def test_a_clone_has_the_warehouse_directory_plain_dbt_writes_into():
    listed = subprocess.run(
        ["git", "ls-files", "--error-unmatch", "warehouse/.gitignore"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, (
        f"{' '.join(command)} exited {result.returncode}\n"
        + result.stdout[-6000:]
        + result.stderr[-3000:]
    )
    return result


def _plain_dbt(project: Path, *args: str) -> None:
    """`dbt <args>` as a scheduler runs it: in the project directory, nothing else set."""
    env = clean_env()
    assert not [key for key in env if key.startswith("NORTHSTAR_")]
    _run([str(BIN / "dbt"), *args], project, env)


def _northstar(project: Path, *args: str) -> subprocess.CompletedProcess:
    return _run(
        [str(BIN / "northstar"), *args], project, clean_env(NORTHSTAR_PROJECT_DIR=str(project))
    )


def _warehouse(project: Path) -> Path:
    return project / "warehouse" / "northstar.duckdb"


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict[str, Path]:
    """The same raw demo files built two ways: plain `dbt build` and `northstar build`.
    Each project reads `data/raw` at the default place (a symlink to one generated set),
    so even the raw_file paths must agree."""
    root = tmp_path_factory.mktemp("plain_dbt")
    raw = root / "data" / "raw"
    _run(
        [str(BIN / "northstar"), "generate", "--accounts", str(DEMO_ACCOUNTS), "--out", str(raw)],
        root,
        clean_env(),
    )
    projects = {name: _project(root / name) for name in ("plain", "cli")}
    for project in projects.values():
        (project / "data").symlink_to(root / "data")
    _plain_dbt(projects["plain"], "build")
    _northstar(projects["cli"], "build")
    return projects


def _fingerprints(path: Path) -> dict[str, tuple[int, int]]:
    """(rows, order-independent hash of the rows) of every table and view dbt built,
    the incremental bookkeeping (`_northstar_*`) included."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('staging', 'intermediate', 'marts') order by 1"
        ).fetchall()
        return {name: _fingerprint(con, name) for (name,) in names}
    finally:
        con.close()


def _fingerprint(con: duckdb.DuckDBPyConnection, name: str) -> tuple[int, int]:
    """(rows, hash) of a relation without the run's bookkeeping columns, which differ
    between any two builds of the same data."""
    columns = [row[0] for row in con.execute(f"describe {name}").fetchall()]
    kept = ", ".join(f'"{c}"' for c in columns if c not in compare_engines.RUN_COLUMNS)
    return tuple(
        con.execute(
            f"select count(*), sum(hash(t)) from (select {kept} from {name}) as t"
        ).fetchall()[0]
    )


def _rows(path: Path, name: str) -> tuple[list[str], list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        columns, _, rows = compare_engines.read(con, name)
    finally:
        con.close()
    normalized = (
        tuple(compare_engines.normalize(v, c) for v, c in zip(row, columns, strict=True))
        for row in rows
    )
    return columns, sorted(normalized, key=compare_engines.sort_key)


def _row_differences(name: str, left: tuple, right: tuple) -> list[str]:
    (lcols, lrows), (rcols, rrows) = left, right
    if lcols != rcols:
        return [f"{name}: columns {lcols} vs {rcols}"]
    if len(lrows) != len(rrows):
        return [f"{name}: {len(lrows)} rows vs {len(rrows)}"]
    bad = [
        (lrow, rrow)
        for lrow, rrow in zip(lrows, rrows, strict=True)
        if not all(
            compare_engines.values_equal(lval, rval, REL_TOL)
            for lval, rval in zip(lrow, rrow, strict=True)
        )
    ]
    return [f"{name}: {len(bad)} of {len(lrows)} rows differ, e.g. {bad[:2]}"] if bad else []


def _differences(left: Path, right: Path) -> list[str]:
    """Every relation of the dbt schemas in both warehouses, compared: the public ones
    (marts, the reject log) row by row; the rest by row count and a hash of their rows,
    row by row only when the hashes differ (a float summed in another order)."""
    left_prints, right_prints = _fingerprints(left), _fingerprints(right)
    problems = []
    if set(left_prints) != set(right_prints):
        problems.append(f"relations differ: {sorted(set(left_prints) ^ set(right_prints))}")
    for name in sorted(set(left_prints) & set(right_prints)):
        public = name.startswith("marts.") or name == "staging.stg_events_rejected"
        (rows, digest), other = left_prints[name], right_prints[name]
        if public or ((rows, digest) != other and rows <= ROW_COMPARE_LIMIT):
            problems += _row_differences(name, _rows(left, name), _rows(right, name))
        elif (rows, digest) != other:
            problems.append(f"{name}: (rows, hash) {(rows, digest)} vs {other}")
    return problems


def test_plain_dbt_build_writes_the_tables_northstar_build_writes(builds):
    with duckdb.connect(str(_warehouse(builds["cli"])), read_only=True) as con:
        for name in (*PUBLIC, "staging.stg_events_rejected"):
            ((rows,),) = con.execute(f"select count(*) from {name}").fetchall()
            assert rows, f"northstar build left {name} empty"
    assert _differences(_warehouse(builds["plain"]), _warehouse(builds["cli"])) == []


def test_plain_dbt_uses_the_raw_data_clock(builds):
    """The demo's own clock (its manifest's as_of), not the wall clock: the planted
    future-dated rows are rejected and no accepted event is past the data's end."""
    manifest = json.loads((builds["plain"] / "data" / "raw" / "_manifest.json").read_text())
    with duckdb.connect(str(_warehouse(builds["plain"])), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        ((as_of_at, source),) = con.execute(
            "select cast(as_of_at as varchar), as_of_source from intermediate.int_reference_time"
        ).fetchall()
        ((latest,),) = con.execute("select max(occurred_at) from staging.stg_events").fetchall()
        ((future,),) = con.execute(
            "select count(*) from staging.stg_events_rejected "
            "where reject_reason = 'occurred_in_future'"
        ).fetchall()
    assert source == "raw_manifest"
    assert as_of_at.replace(" ", "T") == manifest["as_of"].removesuffix("Z")
    assert latest.isoformat() < manifest["as_of"]
    assert future == manifest["defects"]["malformed:future_occurred_at"] > 0


def test_northstar_publish_after_plain_dbt_build_publishes_what_northstar_build_did(builds):
    _northstar(builds["plain"], "publish")
    snapshots = {
        name: builds[name] / "warehouse" / "snapshots" / "current" for name in ("plain", "cli")
    }
    manifests = {
        name: json.loads((path / "manifest.json").read_text()) for name, path in snapshots.items()
    }
    for manifest in manifests.values():
        assert manifest["validation"]["status"] == "passed"
    assert manifests["plain"]["data_as_of"] == manifests["cli"]["data_as_of"]
    validation = {
        name: json.loads((path / "validation.json").read_text()) for name, path in snapshots.items()
    }
    assert validation["plain"]["as_of"] == validation["cli"]["as_of"] == "2026-10-01"
    assert validation["plain"]["as_of_source"] == "build"

    tables = {}
    for name, path in snapshots.items():
        with duckdb.connect(str(path / "northstar.duckdb"), read_only=True) as con:
            tables[name] = sorted(row[0] for row in con.execute("show tables").fetchall())
    assert tables["plain"] == tables["cli"]
    assert {"fct_metric_values", "stg_events_rejected"} <= set(tables["plain"])
    problems = []
    # northstar_snapshot describes the publish itself (run id, time): never equal.
    for table in (name for name in tables["plain"] if name != "northstar_snapshot"):
        problems += _row_differences(
            table,
            _rows(snapshots["plain"] / "northstar.duckdb", table),
            _rows(snapshots["cli"] / "northstar.duckdb", table),
        )
    assert problems == []


def _latest_events(project: Path) -> dict[str, str]:
    with duckdb.connect(str(_warehouse(project)), read_only=True) as con:
        rows = con.execute(
            "select model, arg_max(event, recorded_at::varchar || seq) "
            "from marts._northstar_mart_checks group by model"
        ).fetchall()
    return dict(rows)


def _publish_outcome(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "northstar"), "publish"],
        cwd=project,
        env=clean_env(NORTHSTAR_PROJECT_DIR=str(project)),
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_gate_publishes_only_marts_dbt_tests_passed_on(builds):
    """The gate does not repeat dbt's tests: it reads what the on-run-end hook recorded.
    After `dbt run` a mart waits for `dbt test`; a failed test keeps it out."""
    project = builds["plain"]
    assert set(_latest_events(project).values()) == {"tested"}

    _plain_dbt(project, "run", "--select", "fct_metric_values")
    assert _latest_events(project)["fct_metric_values"] == "built"
    refused = _publish_outcome(project)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert "dbt_tests_passed" in refused.stdout + refused.stderr

    _plain_dbt(project, "test", "--select", "fct_metric_values")
    assert _latest_events(project)["fct_metric_values"] == "tested"
    _northstar(project, "publish")

    with duckdb.connect(str(_warehouse(project))) as con:
        con.execute(
            "insert into marts.fct_metric_values select * from marts.fct_metric_values limit 1"
        )
    failed = subprocess.run(
        [str(BIN / "dbt"), "test", "--select", "fct_metric_values"],
        cwd=project,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert failed.returncode == 1, failed.stdout[-3000:]
    assert _latest_events(project)["fct_metric_values"] == "failed"
    assert _publish_outcome(project).returncode == 4


# --- how dbt resolves the reference time (macro northstar_reference_time) ----------------


def _reference_time(tmp_path: Path, manifest: str | None, *extra: str):
    """`dbt run --select int_reference_time` with raw data in tmp_path/raw holding
    `manifest` as its _manifest.json (none: no file), and no NORTHSTAR_AS_OF."""
    raw = tmp_path / "raw"
    raw.mkdir(parents=True)
    if manifest is not None:
        (raw / "_manifest.json").write_text(manifest)
    env = clean_env(
        NORTHSTAR_RAW_DIR=str(raw),
        NORTHSTAR_DUCKDB_PATH=str(tmp_path / "warehouse.duckdb"),
        DBT_TARGET_PATH=str(tmp_path / "target"),
        DBT_LOG_PATH=str(tmp_path / "logs"),
        DBT_PROFILES_DIR=str(PROJECT_DIR),
    )
    result = subprocess.run(
        [str(BIN / "dbt"), "run", "--select", "int_reference_time", *extra],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return result.stdout + result.stderr
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        ((at, source),) = con.execute(
            "select cast(as_of_at as varchar), as_of_source from intermediate.int_reference_time"
        ).fetchall()
    return at, source


MANIFEST = '{"generator": "my_feed", "as_of": "2026-05-01T02:00:00+02:00"}'


@pytest.mark.parametrize(
    ("manifest", "extra", "expected"),
    [
        # an offset converts to UTC
        (MANIFEST, [], ("2026-05-01 00:00:00", "raw_manifest")),
        # the var (or NORTHSTAR_AS_OF) wins over the manifest
        (MANIFEST, ["--vars", "{northstar__as_of: '2026-04-01'}"], ("2026-04-01 00:00:00", "var")),
        # a manifest describes the files beside it: events read elsewhere keep the clock
        (
            MANIFEST,
            ["--vars", "{northstar__raw_events_path: '/elsewhere/events/*.parquet'}"],
            "run_started_at",
        ),
        # a demo manifest written before the generator recorded as_of: start_date + days
        (
            '{"generator": "northstar.demo", "params": {"start_date": "2026-03-02", "days": 7}}',
            [],
            ("2026-03-09 00:00:00", "raw_manifest"),
        ),
    ],
)
def test_the_reference_time_is_the_var_else_the_raw_manifest_else_the_clock(
    tmp_path, manifest, extra, expected
):
    found = _reference_time(tmp_path, manifest, *extra)
    assert isinstance(found, tuple), found
    if expected == "run_started_at":
        assert found[1] == "run_started_at"
    else:
        assert found == expected


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ("not json", "is not one JSON object"),
        ('{"generator": "my_feed"}', "has no 'as_of'"),
    ],
)
def test_an_unusable_raw_manifest_fails_the_run_naming_the_file(tmp_path, manifest, message):
    output = _reference_time(tmp_path, manifest)
    assert isinstance(output, str), f"dbt accepted {manifest!r}: {output}"
    assert message in output
    assert str(tmp_path / "raw" / "_manifest.json") in output
