"""`northstar query` and `northstar metrics` on a published snapshot, including hostile
input: every typed name is checked against the snapshot and bound, never pasted."""

from __future__ import annotations

import csv
import io
import json
import os

import duckdb
import pytest
from click.testing import CliRunner
from snapshot_helpers import make_warehouse, publish_ok, setup_env, tree_digest

from northstar.cli import cli
from northstar.query.series import COLUMNS


def add_hostile_segment(warehouse) -> None:
    """A segment value full of SQL metacharacters: a query that pasted it would break."""
    con = duckdb.connect(str(warehouse))
    con.execute(
        """
        insert into marts.fct_metric_values by name
        select metric_name, role, grain, period_start, period_end, 'plan' as segment_name,
            'O''Brien; drop table dim_metrics; --' as segment_value, 1 as value,
            1 as numerator, 'none' as status, is_complete_period, definition_version
        from marts.fct_metric_values
        where metric_name = 'messages_sent' and segment_name = 'all'
        """
    )
    con.close()


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One published snapshot for the read-only tests of this module (they never write)."""
    root = tmp_path_factory.mktemp("query")
    with pytest.MonkeyPatch.context() as patch:
        paths = setup_env(root, patch)
        add_hostile_segment(make_warehouse(paths))
        result = publish_ok(paths)
    return root, result


@pytest.fixture
def env(shared, monkeypatch):
    return setup_env(shared[0], monkeypatch)


@pytest.fixture
def published(shared, env):
    return shared[1]


def run(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def test_table_is_the_default(published):
    result = run("query", "messages_sent")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Messages sent (messages_sent), by week"
    assert lines[1].split() == [
        "period_start",
        "value",
        "previous",
        "change",
        "target",
        "on",
        "pace",
        "status",
        "complete",
    ]
    assert lines[3].split()[:2] == ["2026-09-07", "90"]
    assert lines[5].split()[:4] == ["2026-09-21", "120", "110", "+9.1%"]
    assert lines[6].split()[:4] == ["2026-09-28", "30", "-", "-"]  # partial: not compared
    assert "no (partial)" in lines[6]


def test_csv_and_json_carry_every_contract_column(published):
    rows = list(csv.DictReader(io.StringIO(run("query", "churn_rate", "--format", "csv").stdout)))
    assert list(rows[0]) == list(COLUMNS)
    assert [r["value"] for r in rows] == ["0.1", "0.25", "0.4", "0.1"]
    assert [r["status"] for r in rows] == ["ok", "warn", "breach", "ok"]
    payload = json.loads(run("query", "churn_rate", "--format", "json").stdout)
    assert payload["metric"] == "churn_rate"
    assert payload["unit"] == "ratio"
    assert [r["period_start"] for r in payload["rows"]] == [
        "2026-09-07",
        "2026-09-14",
        "2026-09-21",
        "2026-09-28",
    ]
    assert payload["rows"][3]["is_complete_period"] is False
    assert payload["rows"][3]["change_pct"] is None


def test_segments_dates_and_complete_only(published):
    payload = json.loads(
        run("query", "messages_sent", "--segment", "plan", "--format", "json").stdout
    )
    assert sorted({r["segment_value"] for r in payload["rows"]}) == [
        "O'Brien; drop table dim_metrics; --",
        "free",
        "pro",
    ]
    pro = json.loads(
        run("query", "messages_sent", "--segment", "plan=pro", "--format", "json").stdout
    )
    assert [r["value"] for r in pro["rows"]] == [22.5, 27.5, 30.0, 7.5]
    hostile_value = json.loads(
        run(
            "query",
            "messages_sent",
            "--segment",
            "plan=O'Brien; drop table dim_metrics; --",
            "--format",
            "json",
        ).stdout
    )
    assert len(hostile_value["rows"]) == 4  # matched exactly, as a bound value
    window = json.loads(
        run(
            "query",
            "messages_sent",
            "--from",
            "2026-09-14",
            "--to",
            "2026-09-21",
            "--format",
            "json",
        ).stdout
    )
    assert [r["period_start"] for r in window["rows"]] == ["2026-09-14", "2026-09-21"]
    complete = json.loads(
        run("query", "messages_sent", "--complete-only", "--format", "json").stdout
    )
    assert all(r["is_complete_period"] for r in complete["rows"])
    assert len(complete["rows"]) == 3
    empty = run("query", "messages_sent", "--from", "2030-01-01")
    assert empty.exit_code == 0
    assert "no rows match" in empty.stdout


HOSTILE = [
    "' or 1=1 --",
    "messages_sent'; drop table fct_metric_values; --",
    "messages_sent; delete from dim_metrics",
    'messages_sent" or "1"="1',
    "messages_sent/* comment */",
    "messages_sent --",
    "../../../etc/passwd",
    "..",
    "%s%s%n",
    "x" * 5000,
]


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize(
    ("template", "code", "message"),
    [
        (["query", "{}"], 6, "unknown metric"),
        (["query", "messages_sent", "--grain", "{}"], 6, "unknown grain"),
        (["query", "messages_sent", "--segment", "{}"], 6, "unknown segment"),
        (["query", "messages_sent", "--segment", "plan={}"], 6, "unknown segment value"),
        (["query", "messages_sent", "--from", "{}"], 2, "is not a date"),
        (["query", "messages_sent", "--to", "{}"], 2, "is not a date"),
        (["query", "messages_sent", "--snapshot", "{}"], 2, "not a snapshot id"),
        (["metrics", "{}"], 6, "unknown metric"),
    ],
)
def test_hostile_input_is_rejected_and_changes_nothing(
    env, published, tmp_path, hostile, template, code, message
):
    before = tree_digest(env.snapshots_dir)
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    args = [part.replace("{}", hostile) for part in template]
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        result = run(*args)
    finally:
        os.chdir(cwd)
    assert result.exit_code == code
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert len(result.stderr) < 1000  # a long input is shortened in the message
    assert tree_digest(env.snapshots_dir) == before
    assert list(workdir.iterdir()) == []


def test_dates_must_be_real_and_ordered(published):
    for bad in ["2026-02-30", "20260901", "2026-W38-1", "yesterday", "2026-9-1"]:
        result = run("query", "messages_sent", "--from", bad)
        assert result.exit_code == 2, bad
    result = run("query", "messages_sent", "--from", "2026-09-21", "--to", "2026-09-14")
    assert result.exit_code == 2
    assert "is after --to" in result.stderr


def test_metrics_tree_lists_roles_owners_and_latest_values(published):
    result = run("metrics")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Messages sent (messages_sent) [north star]  owner: leadership")
    assert "week of 2026-09-21: 120" in lines[0]
    assert lines[1] == "├── inputs"
    assert "Activation rate (activation_rate)  owner: onboarding" in lines[2]
    assert lines[3] == "└── guardrails"
    assert (
        "Churn rate (churn_rate)  owner: lifecycle  week of 2026-09-21: 40.0% [breach]" in lines[4]
    )
    assert "API error rate (error_rate)" in lines[5]
    payload = json.loads(run("metrics", "--format", "json").stdout)
    assert [m["metric_name"] for m in payload["metrics"]] == [
        "messages_sent",
        "activation_rate",
        "churn_rate",
        "error_rate",
    ]
    assert payload["metrics"][0]["latest"]["value"] == 120.0


def test_targets_and_on_pace_in_query_and_metrics(published):
    """The fixture's targets (contract_warehouse.CONTRACT_SPEC): messages_sent 100 a week
    for the total; activation_rate time-bound, 40% on 2026-09-06 to 60% by 2026-10-04."""
    text = run("query", "activation_rate").stdout
    lines = text.splitlines()
    assert lines[0].endswith("; time-bound target 60.0% by 2026-10-04")
    rows = {line.split()[0]: line.split() for line in lines[3:]}
    # period_start, value, previous, change..., target, on pace, status, complete
    assert rows["2026-09-07"][-4:-1] == ["45.0%", "yes", "none"]
    assert rows["2026-09-14"][-4:-1] == ["50.0%", "no", "none"]
    assert rows["2026-09-21"][-4:-1] == ["55.0%", "yes", "none"]
    partial = lines[-1].split()
    assert partial[0] == "2026-09-28" and partial[-5:-2] == ["60.0%", "-", "none"]  # not judged
    by_plan = json.loads(
        run("query", "messages_sent", "--segment", "plan", "--format", "json").stdout
    )
    assert by_plan["rows"] and all(row["target"] is None for row in by_plan["rows"])
    assert all(row["target_kind"] is None for row in by_plan["rows"])
    total = json.loads(run("query", "messages_sent", "--format", "json").stdout)
    assert {row["target"] for row in total["rows"]} == {100.0}
    assert [row["is_on_pace"] for row in total["rows"]] == [False, True, True, None]
    tree = run("metrics").stdout
    assert "week of 2026-09-21: 120  target 100 (met)" in tree
    assert "target 55.0% on the way to 60.0% by 2026-10-04 (on pace)" in tree
    card = run("metrics", "activation_rate").stdout
    assert "60.0% by 2026-10-04 (time-bound" in card


def test_metric_card_shows_definition_and_latest_values(published):
    text = run("metrics", "churn_rate").stdout
    assert "breach threshold    35.0%" in text
    assert "direction           lower is better" in text
    assert "2026-09-21" in text and "breach" in text
    assert "2026-09-28 (incomplete, not compared)" in text
    card = json.loads(run("metrics", "churn_rate", "--format", "json").stdout)
    assert card["definition"]["breach_threshold"] == 0.35
    assert [row["period_start"] for row in card["latest"]] == ["2026-09-21", "2026-09-28"]


def test_reading_an_older_snapshot_by_id(tmp_path, monkeypatch):
    env = setup_env(tmp_path, monkeypatch)
    make_warehouse(env)
    published = publish_ok(env)
    con = duckdb.connect(str(env.warehouse))
    con.execute(
        "update marts.fct_metric_values set value = 555 where metric_name = 'messages_sent'"
    )
    con.close()
    publish_ok(env)
    latest = json.loads(run("query", "messages_sent", "--format", "json").stdout)
    old = json.loads(
        run("query", "messages_sent", "--format", "json", "--snapshot", published.run_id).stdout
    )
    assert latest["rows"][0]["value"] == 555.0
    assert old["rows"][0]["value"] == 90.0
