"""From a foreign export to a published snapshot with `northstar init` and configuration
alone, for five export shapes (tests/python/foreign_exports.py): Segment tracks (CSV),
Amplitude (NDJSON, nested event_properties), Mixpanel (NDJSON, everything nested under
properties, epoch seconds), GA4 (NDJSON, epoch microseconds, nested geo), and a bare order
log (whitespace-aligned .txt, YYYYMMDD dates, no id, no event name).

For each: `northstar init FILE` writes the vars, `northstar build --vars-file` builds,
validates and publishes with no edit, and the published weekly North Star and new
entities equal a recomputation from the generated events themselves (never from a file).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import duckdb
import foreign_exports as shapes
import pytest
import yaml
from project_copy import copy_project

PROJECT_DIR = Path(__file__).resolve().parents[2]
NORTHSTAR = str(Path(sys.executable).with_name("northstar"))

PRODUCT = shapes.product_events()
ORDERS = shapes.retail_orders()
SHAPES = {
    "segment": ("tracks.csv", lambda p: shapes.segment_tracks(PRODUCT, p)),
    "amplitude": ("amplitude.json", lambda p: shapes.amplitude_export(PRODUCT, p)),
    "mixpanel": ("mixpanel.ndjson", lambda p: shapes.mixpanel_export(PRODUCT, p)),
    "ga4": ("ga4.ndjson", lambda p: shapes.ga4_export(PRODUCT, p)),
    "orders": ("orders.txt", lambda p: shapes.order_log(ORDERS, p)),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A real copy: a build with another spec regenerates the project's generated files."""
    return copy_project(tmp_path_factory.mktemp("onboarding"))


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def _week(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _truth(shape: str, north_star_event: str) -> tuple[Counter, Counter]:
    """Weekly North Star (count of its event) and new entities, from the generated events."""
    if shape == "orders":
        rows = [(o.customer, o.day, "order") for o in ORDERS]
    else:
        rows = [(e.user, e.at.date(), e.name.lower().replace(" ", "_")) for e in PRODUCT]
    north_star = Counter(_week(day) for _, day, name in rows if name == north_star_event)
    first: dict[str, date] = {}
    for entity, day, _ in rows:
        first[entity] = min(day, first.get(entity, day))
    return north_star, Counter(_week(day) for day in first.values())


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_init_then_build_publishes_the_right_numbers(shape, project, tmp_path):
    name, write = SHAPES[shape]
    export = write(tmp_path / name)
    env = dict(
        os.environ,
        NORTHSTAR_PROJECT_DIR=str(project),
        DBT_PROJECT_DIR=str(project),
        DBT_PROFILES_DIR=str(project),
        NORTHSTAR_DUCKDB_PATH=str(tmp_path / "warehouse.duckdb"),
        NORTHSTAR_SNAPSHOTS_DIR=str(tmp_path / "snapshots"),
        NORTHSTAR_RAW_DIR=str(tmp_path / "no-demo-data"),
        DBT_TARGET_PATH=str(tmp_path / "target"),
        DBT_LOG_PATH=str(tmp_path / "logs"),
    )
    started = time.monotonic()
    init = _run([NORTHSTAR, "init", str(export)], tmp_path, env)
    assert init.returncode == 0, init.stdout + init.stderr
    build = _run(
        [NORTHSTAR, "build", "--vars-file", "northstar.yml", "--skip-unit-tests"], tmp_path, env
    )
    seconds = time.monotonic() - started
    assert build.returncode == 0, build.stdout[-5000:] + build.stderr[-3000:]
    assert "validation passed" in build.stdout + build.stderr
    variables = yaml.safe_load((tmp_path / "northstar.yml").read_text())
    spec = variables["northstar"]
    mapping = variables["northstar__raw_event_columns"]
    print(f"\n{shape}: init + build {seconds:.0f} s; mapping {mapping}")

    north_star, new_entities = _truth(shape, spec["north_star"]["events"][0])
    snapshot = tmp_path / "snapshots" / "current" / "northstar.duckdb"
    with duckdb.connect(str(snapshot), read_only=True) as con:
        rows = con.execute(
            """
            select metric_name, period_start, value
            from fct_metric_values
            where grain = 'week' and segment_name = 'all' and is_complete_period
            """
        ).fetchall()
    published: dict[str, dict[date, float]] = {}
    for metric, week, value in rows:
        published.setdefault(metric, {})[week] = value
    weeks = sorted(published[spec["north_star"]["name"]])
    assert len(weeks) >= 8, weeks
    new_metric = spec["inputs"][0]["name"]
    assert {w: published[spec["north_star"]["name"]][w] for w in weeks} == {
        w: float(north_star.get(w, 0)) for w in weeks
    }
    assert {w: published[new_metric][w] for w in weeks} == {
        w: float(new_entities.get(w, 0)) for w in weeks
    }


def test_the_fixtures_hold_the_quirks_init_must_cope_with(tmp_path):
    """Each shape really is as awkward as its docstring says, so a pass above means init
    coped with it rather than with a friendlier file."""
    mixpanel = json.loads(shapes.mixpanel_export(PRODUCT[:1], tmp_path / "m.ndjson").read_text())
    assert set(mixpanel) == {"event", "properties"}  # time, ids and attributes are nested
    assert len(str(mixpanel["properties"]["time"])) == 10
    ga4 = json.loads(shapes.ga4_export(PRODUCT[:1], tmp_path / "g.ndjson").read_text())
    assert len(str(ga4["event_timestamp"])) == 16 and "event_id" not in ga4
    orders = shapes.order_log(ORDERS, tmp_path / "o.txt").read_text().splitlines()
    assert orders[0].split() == ["customer", "date", "quantity", "amount"]  # no id, no name
    assert all(len(line.split()[1]) == 8 for line in orders[1:])  # YYYYMMDD
    assert orders[1].split()[0].startswith("0")  # ids with leading zeros
    assert len(set(orders[1:])) == len(orders) - 1  # no exact duplicate rows to hide
