"""The public contract is dbt's: enforced model contracts on the published tables, an
exposure for the snapshot, and the hand-built test warehouse held to both.

dbt fails a build whose model output differs from its contract (names, types, count); these
tests check what dbt cannot: that the snapshot's table list, the exposure and the contracts
agree, and that the fixture warehouse other tests use looks like a real build.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from contract_warehouse import contract_columns, make_contract_warehouse

from northstar.publish.tables import PUBLIC_TABLES

PROJECT_DIR = Path(__file__).resolve().parents[2]

# stg_events_rejected is published but not under a contract: it is an incremental staging
# model whose raw_* columns follow the configured raw event columns (docs/raw-event-contract.md).
UNCONTRACTED = {"stg_events_rejected"}


@pytest.fixture(scope="module")
def manifest(demo) -> dict:
    return json.loads((demo.project / "target" / "manifest.json").read_text())


def _model(manifest: dict, name: str) -> dict:
    (node,) = [
        n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["name"] == name
    ]
    return node


def _duckdb_type(con: duckdb.DuckDBPyConnection, data_type: str) -> str:
    """The type DuckDB gives a contract's data_type, as dbt's contract check asks it."""
    return con.execute(f"select typeof(cast(null as {data_type}))").fetchone()[0]


def test_the_exposure_lists_exactly_the_published_tables(manifest):
    exposure = manifest["exposures"]["exposure.northstar.published_snapshot"]
    depends = {node.split(".")[-1] for node in exposure["depends_on"]["nodes"]}
    assert depends == {table.name for table in PUBLIC_TABLES}


def test_every_published_table_has_an_enforced_contract(manifest):
    for table in PUBLIC_TABLES:
        node = _model(manifest, table.name)
        if table.name in UNCONTRACTED:
            assert not node["contract"]["enforced"], f"{table.name}: remove it from UNCONTRACTED"
            continue
        assert node["contract"]["enforced"], f"{table.name} has no enforced contract"
        columns = node["columns"]
        assert columns and all(c["data_type"] for c in columns.values()), table.name
        # the YAML the fixture warehouse reads is the manifest's contract
        assert contract_columns(table.name) == tuple(
            (name, column["data_type"]) for name, column in columns.items()
        )


def _mismatches(con: duckdb.DuckDBPyConnection, *, required_only: bool) -> list[str]:
    """Each published table whose columns (names, order, DuckDB types) differ from its
    contract, with what it has and what the contract says."""
    found = []
    for table in PUBLIC_TABLES:
        if table.name in UNCONTRACTED or (required_only and not table.required):
            continue
        expected = [(n, _duckdb_type(con, t)) for n, t in contract_columns(table.name)]
        actual = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [table.schema, table.name],
        ).fetchall()
        if actual != expected:
            found.append(f"{table.source}: has {actual}, contract {expected}")
    return found


def test_the_fixture_warehouse_matches_the_contracts(tmp_path):
    path = make_contract_warehouse(tmp_path / "fixture.duckdb")
    with duckdb.connect(str(path)) as con:
        assert _mismatches(con, required_only=True) == []
        # and the check sees a fixture that drifts: a column gone, a type narrowed
        con.execute("alter table marts.fct_aha_moments drop column days_to_aha")
        con.execute("alter table marts.dim_metrics alter sort_order type smallint")
        drifted = _mismatches(con, required_only=True)
    assert [m.split(":")[0] for m in drifted] == ["marts.dim_metrics", "marts.fct_aha_moments"]


def test_the_real_build_has_the_contract_types(demo):
    """What BI drivers see: the built marts have the contract's types (bigint counts, not
    DuckDB's 128-bit sums; double rates, not 4-byte floats)."""
    with duckdb.connect(str(demo.warehouse), read_only=True) as con:
        assert _mismatches(con, required_only=False) == []


@pytest.mark.dbt
def test_the_fixture_spec_is_what_dbt_normalizes(tmp_path):
    """CONTRACT_NORMALIZED_SPEC is written out by hand (dbt refuses a one-input spec): it
    must stay what the normalizer makes of CONTRACT_SPEC given two padding inputs, those
    removed, so the suites the gate tests are generated from the real normalization."""
    import yaml
    from contract_warehouse import CONTRACT_NORMALIZED_SPEC, CONTRACT_SPEC

    from northstar.spec import load_spec

    variables = yaml.safe_load(CONTRACT_SPEC)
    padding = [
        {"name": f"padding_{n}", "kind": "count", "owner": "tests", "events": ["message_sent"]}
        for n in (1, 2)
    ]
    variables["northstar"]["inputs"] += padding
    normalized = load_spec(PROJECT_DIR, variables={"northstar": variables["northstar"]})
    # The fixture records a spec from before the built-in diagnostic metrics (no
    # `diagnostics`: the gate then expects none in its catalog, as for a warehouse built
    # before them); today's normalizer adds the six after the spec's metrics.
    diagnostics = normalized.pop("diagnostics")
    # Nor candidates or backtest settings (docs/backtest.md): by default the North Star
    # alone is backtested, with retention as the only outcome.
    assert [c["name"] for c in normalized.pop("candidates")] == ["messages_sent"]
    assert normalized.pop("backtest_metrics") == []
    backtest = normalized.pop("backtest")
    assert (backtest["max_lag"], backtest["outcomes"], backtest["revenue"]) == (
        8,
        ["retention"],
        None,
    )
    assert [d["role"] for d in diagnostics] == ["diagnostic"] * 6
    assert [d["sort_order"] for d in diagnostics] == list(range(6, 12))  # after 5 metrics
    normalized["metrics"] = [
        m for m in normalized["metrics"] if not m["name"].startswith("padding_")
    ]
    for order, metric in enumerate(normalized["metrics"], 1):
        metric["sort_order"] = order
    assert normalized == CONTRACT_NORMALIZED_SPEC


def test_the_gate_requires_the_marts_publish_requires():
    """validation may not import publish (test_errors.py), so the gate keeps its own list of
    the marts a snapshot cannot go without: it must stay publish's list."""
    from northstar.validation.suites import REQUIRED_MARTS

    assert sorted(REQUIRED_MARTS) == sorted(t.name for t in PUBLIC_TABLES if t.required)
