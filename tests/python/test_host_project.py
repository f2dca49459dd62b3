"""northstar as a dbt package of another project (issue 15, item 3).

tests/fixtures/host_project is a host dbt project as a user writes one: its own models and
generate_schema_name, northstar in packages.yml, its own North Star spec and raw-event vars
in its dbt_project.yml, northstar's schemas renamed. Copied to a temp dir (packages.yml
pointed at this checkout), it runs `dbt deps` (a `local:` package: no network) and a plain
`dbt build`, with no northstar CLI and no NORTHSTAR_* variable. Its public tables must
equal northstar's own build of the same spec and raw files, row for row.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
import yaml
from metric_checks import DBT, PROJECT_DIR, run_dbt
from snapshot_helpers import clean_env

from northstar.publish.tables import PUBLIC_TABLES

pytestmark = pytest.mark.dbt

HOST = PROJECT_DIR / "tests" / "fixtures" / "host_project"
RAW = PROJECT_DIR / "tests" / "fixtures" / "examples" / "slack"
# Where the host's dbt_project.yml puts northstar's layers.
HOST_SCHEMAS = {
    "staging": "northstar_staging",
    "intermediate": "northstar_intermediate",
    "marts": "northstar_marts",
}
REL_TOL = 1e-9


def _load_compare_engines():
    """scripts/compare_engines.py's row normalization, as test_plain_dbt.py uses it."""
    spec = importlib.util.spec_from_file_location(
        "compare_engines", PROJECT_DIR / "scripts" / "compare_engines.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


compare_engines = _load_compare_engines()


def _dbt(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Plain dbt in the host project, as its scheduler runs it."""
    result = subprocess.run(
        [DBT, *args, "--profiles-dir", str(project)],
        cwd=project,
        env=clean_env(ACME_DUCKDB_PATH=str(project / "acme.duckdb")),
        capture_output=True,
        text=True,
        check=False,
    )
    if check:
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    return result


def _host_copy(root: Path) -> Path:
    project = root / "host"
    shutil.copytree(HOST, project)
    packages = project / "packages.yml"
    listed = yaml.safe_load(packages.read_text())
    assert listed == {"packages": [{"local": "../../.."}]}, listed
    packages.write_text(yaml.safe_dump({"packages": [{"local": str(PROJECT_DIR)}]}))
    (project / "data" / "northstar").mkdir(parents=True)
    for name in ("events.csv", "accounts.csv"):
        shutil.copy(RAW / name, project / "data" / "northstar" / name)
    return project


@pytest.fixture(scope="module")
def host(tmp_path_factory) -> Path:
    project = _host_copy(tmp_path_factory.mktemp("host_project"))
    _dbt(project, "deps")
    assert (project / "dbt_packages" / "northstar" / "dbt_project.yml").is_file()
    _dbt(project, "build")
    return project


@pytest.fixture(scope="module")
def standalone(host, tmp_path_factory) -> Path:
    """northstar's own build of the host's spec and raw files: `dbt run` (the tests are
    the same files the host's build ran)."""
    variables = yaml.safe_load((host / "dbt_project.yml").read_text())["vars"]
    for key, value in variables.items():
        if key.endswith("_path") and value:
            variables[key] = str(host / value)
    build = run_dbt(
        ["run"],
        tmp_path_factory.mktemp("standalone"),
        yaml.safe_dump(variables),
    )
    assert build.result.returncode == 0, build.log
    return build.warehouse


def _rows(path: Path, relation: str) -> tuple[list[str], list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        columns, _, rows = compare_engines.read(con, relation)

    def value(v, column):
        # Each build names the raw file as its vars do (relative in the host, absolute here).
        if column == "raw_file" and v is not None:
            return Path(v).name
        return compare_engines.normalize(v, column)

    normalized = (tuple(value(v, c) for v, c in zip(row, columns, strict=True)) for row in rows)
    return columns, sorted(normalized, key=compare_engines.sort_key)


def test_the_host_build_runs_northstars_unit_and_data_tests(host):
    results = json.loads((host / "target" / "run_results.json").read_text())["results"]
    ours = [
        r
        for r in results
        if ".northstar." in r["unique_id"] and not r["unique_id"].startswith("exposure.")
    ]
    kinds = {r["unique_id"].split(".")[0] for r in ours}
    assert {"model", "test", "unit_test"} <= kinds, kinds
    assert all(r["status"] in ("success", "pass") for r in ours), [
        (r["unique_id"], r["status"]) for r in ours if r["status"] not in ("success", "pass")
    ]


def test_public_tables_equal_northstars_own_build(host, standalone):
    compared = 0
    for table in PUBLIC_TABLES:
        ours = f"{table.schema}.{table.name}"
        theirs = f"{HOST_SCHEMAS[table.schema]}.{table.name}"
        (lcols, lrows), (rcols, rrows) = (
            _rows(standalone, ours),
            _rows(host / "acme.duckdb", theirs),
        )
        assert lcols == rcols, f"{table.name}: columns {lcols} vs {rcols}"
        assert len(lrows) == len(rrows), f"{table.name}: {len(lrows)} rows vs {len(rrows)}"
        bad = [
            (left, right)
            for left, right in zip(lrows, rrows, strict=True)
            if not all(
                compare_engines.values_equal(a, b, REL_TOL)
                for a, b in zip(left, right, strict=True)
            )
        ]
        assert not bad, f"{table.name}: {len(bad)} of {len(lrows)} rows differ, e.g. {bad[:2]}"
        compared += len(lrows)
    # The host's spec, not northstar's own: its six metrics (+ built-in diagnostics).
    with duckdb.connect(str(host / "acme.duckdb"), read_only=True) as con:
        metrics = {
            r[0] for r in con.sql("select metric_name from northstar_marts.dim_metrics").fetchall()
        }
    assert {"messages_sent", "new_workspaces", "team_w1_retention", "new_mrr"} <= metrics
    assert "mean_nps" not in metrics
    assert compared > 1000


def test_schemas_follow_the_hosts_configs(host):
    with duckdb.connect(str(host / "acme.duckdb"), read_only=True) as con:
        schemas = dict(
            con.sql(
                "select table_name, table_schema from information_schema.tables "
                "where table_name in ('fct_metric_values', 'stg_events_rejected', "
                "'int_entities', 'acme_weekly_north_star', '_northstar_mart_checks')"
            ).fetchall()
        )
        weeks = con.sql("select count(*) from acme_reporting.acme_weekly_north_star").fetchall()
    assert schemas == {
        "fct_metric_values": "northstar_marts",
        "stg_events_rejected": "northstar_staging",
        "int_entities": "northstar_intermediate",
        # the host's own generate_schema_name, for the host's own model
        "acme_weekly_north_star": "acme_reporting",
        # the gate's record sits beside the marts it describes
        "_northstar_mart_checks": "northstar_marts",
    }
    assert weeks[0][0] >= 5


def test_a_clashing_model_or_a_missing_dispatch_is_refused_by_name(host, tmp_path):
    """A host model named like a northstar model (dbt 1.11 would resolve northstar's
    ref('dim_metrics') to it), and no dispatch to northstar's get_where_subquery: the
    run stops before any model, naming both."""
    broken = tmp_path / "host"
    shutil.copytree(
        host, broken, symlinks=True, ignore=shutil.ignore_patterns("target", "*.duckdb*")
    )
    (broken / "models" / "dim_metrics.sql").write_text("select 'revenue' as metric_name\n")
    config = broken / "dbt_project.yml"
    text = config.read_text()
    assert "search_order: [acme_analytics, northstar, dbt]" in text
    config.write_text(text.replace("northstar, dbt]", "dbt]"))
    result = _dbt(broken, "run", "--select", "acme_weekly_north_star", check=False)
    assert result.returncode != 0
    assert "acme_analytics.dim_metrics shadows northstar's model of the same name" in (
        result.stdout
    ), result.stdout[-4000:]
    assert "search_order: ['acme_analytics', 'northstar', 'dbt']" in result.stdout
    assert "OK created" not in result.stdout
