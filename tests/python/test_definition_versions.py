"""Definition versions protect published history (docs/definition-versions.md).

On the contract warehouse (no dbt build): a build is simulated by rewriting what dbt
would write, the recorded spec (intermediate.int_northstar_spec) and the metric's values,
then publishing with a passing fake gate, as `northstar build` publishes after dbt."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner
from contract_warehouse import CONTRACT_NORMALIZED_SPEC, make_contract_warehouse
from snapshot_helpers import FakeValidator, setup_env

from northstar import exit_codes
from northstar.digest import build_digest, render_html, render_markdown
from northstar.errors import DefinitionChangedError, RestatementNotAcceptedError
from northstar.publish import versions
from northstar.publish.publisher import publish
from northstar.publish.store import SnapshotStore

NSM = "messages_sent"
# The narrower v2 definition: shared channels only, as in issue 14's demo.
SHARED_ONLY = {"property": "channel_type", "op": "=", "value": "shared"}


@pytest.fixture
def paths(tmp_path, monkeypatch):
    paths = setup_env(tmp_path, monkeypatch)
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    make_contract_warehouse(paths.warehouse, with_spec=True)
    return paths


def rebuild(warehouse: Path, *, where=None, version="1", share=1.0, **changes) -> dict:
    """What a dbt build of an edited spec leaves: the recorded spec, and the NSM's values
    (scaled by `share`) under its definition_version."""
    spec = copy.deepcopy(CONTRACT_NORMALIZED_SPEC)
    nsm = spec["metrics"][0]
    nsm["definition_version"] = version
    nsm["numerator"]["where"] = where
    nsm.update(changes)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update intermediate.int_northstar_spec set spec_json = ?", [json.dumps(spec)])
        con.execute(
            "update marts.fct_metric_values set value = round(value * ?, 6), "
            "definition_version = ? where metric_name = ?",
            [share, version, NSM],
        )
        con.execute(
            "update marts.dim_metrics set definition_version = ? where metric_name = ?",
            [version, NSM],
        )
    return spec


def publish_now(paths, **kwargs):
    return publish(paths, validator=FakeValidator(), **kwargs)


def values(database: Path, table: str, where: str = "") -> pd.DataFrame:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(f"select * from {table} {where} order by all").df()


def snapshot_ids(paths) -> list[str]:
    return [snap.run_id for snap in SnapshotStore(paths.snapshots_dir).list()]


def test_the_hash_counts_what_decides_the_values_only():
    nsm = CONTRACT_NORMALIZED_SPEC["metrics"][0]
    base = versions.definition_hash(nsm)
    for key, value in [("label", "Messages"), ("owner", "growth"), ("warn", 5), ("targets", [])]:
        assert versions.definition_hash({**nsm, key: value}) == base, key
    narrower = {**nsm, "numerator": {**nsm["numerator"], "where": SHARED_ONLY}}
    assert versions.definition_hash(narrower) != base
    assert versions.changed_fields(
        versions.definition_fields(nsm), versions.definition_fields(narrower)
    ) == ["numerator.where"]


def test_a_change_without_a_bump_fails_naming_the_metric_and_field(paths):
    first = publish_now(paths)
    assert first.manifest["definitions"][NSM]["definition_version"] == "1"

    rebuild(paths.warehouse, label="Messages (renamed)", owner="growth")  # presentational
    publish_now(paths)
    rebuild(paths.warehouse, where=SHARED_ONLY, share=0.2)
    before = snapshot_ids(paths)
    with pytest.raises(DefinitionChangedError) as raised:
        publish_now(paths)
    message = str(raised.value)
    assert f"metric {NSM}" in message and "numerator.where: null -> {" in message
    assert "definition_version to 2" in message and "nothing was published" in message
    assert raised.value.exit_code == exit_codes.ERROR
    assert snapshot_ids(paths) == before


def test_a_bump_restates_refuses_then_publishes_and_keeps_the_old_values(paths):
    first = publish_now(paths)
    assert values(first.path / "northstar.duckdb", "fct_metric_values_history").empty
    rebuild(paths.warehouse, where=SHARED_ONLY, version="2", share=0.2)

    with pytest.raises(RestatementNotAcceptedError) as raised:
        publish_now(paths)
    assert raised.value.exit_code == exit_codes.DATA_INVALID
    assert f"{NSM} (version 1 -> 2, largest change -80.0%" in str(raised.value)
    assert "--accept-restatement" in str(raised.value)
    assert "2026-09-21 120 -> 24 -80.0%" in " ".join(raised.value.details.split())
    assert snapshot_ids(paths) == [first.run_id]  # nothing published

    second = publish_now(paths, accept_restatement=True)
    (entry,) = second.manifest["restatements"]
    assert (entry["from_version"], entry["to_version"]) == ("1", "2")
    assert entry["changed_fields"] == ["numerator.where"]
    assert entry["accepted_by"] == "--accept-restatement"
    # The diff, against an independent recomputation from the two snapshots' tables.
    only_nsm = f"where metric_name = '{NSM}'"
    old = values(first.path / "northstar.duckdb", "fct_metric_values", only_nsm)
    new = values(second.path / "northstar.duckdb", "fct_metric_values", only_nsm)
    expected = old.merge(new, on=["grain", "period_start"], suffixes=("_old", "_new"))
    expected["change"] = expected["value_new"] - expected["value_old"]
    got = pd.DataFrame(entry["periods"])
    assert got["period_start"].tolist() == expected["period_start"].dt.date.astype(str).tolist()
    assert got["old_value"].tolist() == expected["value_old"].tolist()
    assert got["new_value"].tolist() == expected["value_new"].tolist()
    assert got["change"].round(9).tolist() == expected["change"].round(9).tolist()

    # The previous version's values stay readable, in every format of the new snapshot.
    history = values(second.path / "northstar.duckdb", "fct_metric_values_history")
    assert set(history["definition_version"]) == {"1"}
    assert set(history["superseded_by_version"]) == {"2"}
    assert set(history["superseded_in_run_id"]) == {second.run_id}
    kept = history.drop(columns=["superseded_by_version", "superseded_in_run_id"])
    pd.testing.assert_frame_equal(kept, old[kept.columns])
    parquet = second.path / "parquet" / "fct_metric_values_history.parquet"
    assert duckdb.sql(f"select count(*) from '{parquet}'").fetchall()[0][0] == 4
    assert second.manifest["tables"]["fct_metric_values_history"]["rows"] == 4

    # The digest of the snapshot that published it says so, in every format.
    with duckdb.connect(str(second.path / "northstar.duckdb"), read_only=True) as con:
        digest = build_digest(con, second.manifest, grain="week")
    (restated,) = digest["restatements"]
    assert [p["display"]["old_value"] for p in restated["periods"]] == ["90", "110", "120", "30"]
    assert [p["display"]["change"] for p in restated["periods"]] == ["-80.0%"] * 4
    markdown, html = render_markdown(digest), render_html(digest)
    assert "## Restated history: Messages sent (`messages_sent`), version 1 -> 2" in markdown
    assert "| 2026-09-21 | 120 | 24 | -80.0% |" in markdown
    assert "History restated: Messages sent was redefined (version 1 -&gt; 2" in html
    assert "largest change -80.0%; accepted: --accept-restatement" in digest["text"]

    # Carried forward by every later publish, and not duplicated.
    third = publish_now(paths)
    assert third.manifest["restatements"] == []
    carried = values(third.path / "northstar.duckdb", "fct_metric_values_history")
    pd.testing.assert_frame_equal(carried, history)

    # A warehouse that recorded no spec checks nothing, and loses nothing either.
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("drop table intermediate.int_northstar_spec")
    fourth = publish_now(paths)
    assert fourth.manifest["definitions"] == third.manifest["definitions"]
    carried = values(fourth.path / "northstar.duckdb", "fct_metric_values_history")
    pd.testing.assert_frame_equal(carried, history)


def test_the_spec_can_acknowledge_its_own_version(paths):
    publish_now(paths)
    rebuild(paths.warehouse, where=SHARED_ONLY, version="2", share=0.2, accept_restatement=1)
    with pytest.raises(RestatementNotAcceptedError):
        publish_now(paths)  # an acknowledgement names the version it accepts
    rebuild(paths.warehouse, where=SHARED_ONLY, version="2", share=1.0, accept_restatement=2)
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute(
            "update marts.fct_metric_values set value = value * 0.2 where metric_name = ?", [NSM]
        )
    result = publish_now(paths)
    assert result.manifest["restatements"][0]["accepted_by"] == "accept_restatement: 2"


def test_a_bump_within_the_tolerance_needs_no_acknowledgement(paths):
    publish_now(paths)
    rebuild(paths.warehouse, version="2", share=1.004)  # +0.4%: under the 1% default
    result = publish_now(paths)
    assert result.manifest["restatements"][0]["accepted_by"] == "within tolerance"
    rebuild(paths.warehouse, version="3", share=1.004 * 1.05)
    with pytest.raises(RestatementNotAcceptedError):
        publish_now(paths, restatement_tolerance=0.04)
    publish_now(paths, restatement_tolerance=0.06)


def test_a_version_never_goes_down(paths):
    publish_now(paths)
    rebuild(paths.warehouse, version="2")
    publish_now(paths)
    rebuild(paths.warehouse, version="1")
    with pytest.raises(DefinitionChangedError, match="went down from 2 to 1"):
        publish_now(paths)


def test_the_cli_exits_4_until_acknowledged(paths, monkeypatch):
    from northstar.cli import cli as main

    monkeypatch.setattr("northstar.publish.publisher.default_validator", FakeValidator())
    runner = CliRunner()
    assert runner.invoke(main, ["publish"]).exit_code == 0
    rebuild(paths.warehouse, where=SHARED_ONLY, version="2", share=0.2)
    refused = runner.invoke(main, ["publish"])
    assert refused.exit_code == exit_codes.DATA_INVALID, refused.output
    assert "restatement beyond the tolerance of 1.00%" in refused.output
    accepted = runner.invoke(main, ["publish", "--accept-restatement", "--json"])
    assert accepted.exit_code == 0, accepted.output
    summary = json.loads(accepted.stdout)
    assert summary["restatements"][0]["to_version"] == "2"

    # `northstar query` reads either version from the current snapshot.
    def weekly(*args: str) -> list[tuple[str, str, str]]:
        result = runner.invoke(main, ["query", NSM, "--format", "json", *args])
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)["rows"]
        return [(r["period_start"], r["value"], r["definition_version"]) for r in rows]

    assert weekly("--definition-version", "1") == [
        ("2026-09-07", 90.0, "1"),
        ("2026-09-14", 110.0, "1"),
        ("2026-09-21", 120.0, "1"),
        ("2026-09-28", 30.0, "1"),
    ]
    assert [row[1:] for row in weekly()] == [(18.0, "2"), (22.0, "2"), (24.0, "2"), (6.0, "2")]
    assert weekly("--definition-version", "2") == weekly()
    unknown = runner.invoke(main, ["query", NSM, "--definition-version", "3"])
    assert unknown.exit_code == exit_codes.NOT_FOUND
    assert "unknown definition_version '3'" in unknown.output and "has 1, 2" in unknown.output
    malformed = runner.invoke(main, ["query", NSM, "--definition-version", "v1"])
    assert malformed.exit_code == exit_codes.USAGE, malformed.output


def test_a_real_build_republished_is_no_change_and_its_edit_is_named(demo, tmp_path, monkeypatch):
    """On the session's demo build (the spec as dbt recorded it, every real column): the
    same build published twice compares equal, and an edit of the recorded definition is
    named. The warehouse is a copy: the session's build stays untouched."""
    paths = setup_env(tmp_path, monkeypatch)
    shutil.copyfile(demo.warehouse, paths.warehouse)
    publish_now(paths, exports=["duckdb"])
    again = publish_now(paths, exports=["duckdb"])
    assert again.manifest["restatements"] == []
    assert set(again.manifest["definitions"]) >= {NSM, "new_teams", "activation_rate"}
    with duckdb.connect(str(paths.warehouse)) as con:
        spec = json.loads(
            con.execute("select spec_json from intermediate.int_northstar_spec").fetchall()[0][0]
        )
        spec["metrics"][0]["numerator"]["events"].append("file_shared")
        spec["metrics"][0]["label"] = "Messages and files"
        con.execute("update intermediate.int_northstar_spec set spec_json = ?", [json.dumps(spec)])
    with pytest.raises(
        DefinitionChangedError,
        match=r"metric messages_sent: its definition changed \(numerator\.events: \[",
    ):
        publish_now(paths, exports=["duckdb"])


def test_northstar_build_passes_the_acknowledgement_to_its_publish(paths, monkeypatch):
    """`northstar build` (its dbt faked: it writes what a build of the bumped spec would)
    stops at the restatement gate, and --accept-restatement gets through."""
    from northstar import build

    # The generated files belong to the project's spec, not the fixture's: left alone.
    monkeypatch.setattr(build, "_sync_generated", lambda *args, **kwargs: [])

    def bumped_dbt(args, _paths, **_kwargs):
        rebuild(paths.warehouse, where=SHARED_ONLY, version="2", share=0.2)

    publish_now(paths)
    with pytest.raises(RestatementNotAcceptedError):
        build.run_build(paths, dbt=bumped_dbt, validator=FakeValidator())
    result = build.run_build(
        paths, dbt=bumped_dbt, validator=FakeValidator(), accept_restatement=True
    )
    assert result.published.manifest["restatements"][0]["accepted_by"] == "--accept-restatement"
