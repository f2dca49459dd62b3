"""`northstar init`: profile an export, propose its mapping, dates and spec, write the vars.

Fast: DuckDB on small files, no dbt. That `init` then `build` publishes a snapshot is
tested on the foreign export shapes in tests/python/test_onboarding.py."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml
from click.testing import CliRunner

from northstar.cli import cli
from northstar.errors import InvalidInputError
from northstar.onboard.run import profile_source

ORDERS = """\
customer   date        quantity   amount
00001      19970101    1          11.77
00002      19970112    2          12.00
00002      19970112    2          12.00
00003      19970102    5          77.00
00001      19970301    3          30.50
"""


def _segment_tracks(path: Path, users: int = 12) -> Path:
    start = datetime(2024, 1, 1, 9)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["message_id", "timestamp", "event", "anonymous_id", "context_os"])
        n = 0
        for user in range(users):
            for day in range(0, 30, 1 + user % 3):
                for name in ("Page Viewed", "Page Viewed", "Message Sent"):
                    n += 1
                    at = start + timedelta(days=day, minutes=n)
                    writer.writerow(
                        [
                            f"m{n}",
                            at.isoformat() + "Z",
                            name,
                            f"u{user}",
                            "ios" if user % 2 else "web",
                        ]
                    )
    return path


def test_a_bare_order_log_gets_a_derived_id_a_constant_name_and_its_date_format(tmp_path):
    source = tmp_path / "orders.txt"
    source.write_text(ORDERS)
    profile, proposal = profile_source(str(source), None)
    variables = proposal.variables
    assert variables["northstar__raw_events_reader"] == {"format": "csv", "delimiter": "whitespace"}
    assert variables["northstar__raw_event_columns"] == {
        "event_id": None,
        "event_name": {"value": "order"},
        "occurred_at": {"column": "date", "format": "%Y%m%d"},
        "user_id": "customer",
        "properties": {
            "columns": {
                "quantity": {"column": "quantity", "type": "number"},
                "amount": {"column": "amount", "type": "number"},
            }
        },
    }
    # 19970101 is a date, never epoch seconds (1970-08-20)
    assert variables["northstar__start_date"] == "1997-01-01"
    assert variables["northstar__as_of"] == "1997-03-01T00:00:00Z"
    spec = variables["northstar"]
    assert spec["entity"] == "user"
    assert list(spec["events"]) == ["order"]
    assert spec["north_star"]["events"] == ["order"]
    assert profile.column("customer").examples[0] == "00001"  # an id keeps its zeros


def test_a_segment_tracks_export_maps_its_own_column_names(tmp_path):
    source = _segment_tracks(tmp_path / "tracks.csv")
    profile, proposal = profile_source(str(source), None)
    columns = proposal.variables["northstar__raw_event_columns"]
    assert columns == {
        "event_id": "message_id",
        "event_name": "event",
        "occurred_at": "timestamp",
        "user_id": "anonymous_id",
        "platform": "context_os",
    }
    assert "northstar__raw_events_reader" not in proposal.variables  # .csv says it all
    spec = proposal.variables["northstar"]
    assert set(spec["events"]) == {"page_viewed", "message_sent"}  # normalized as staging does
    assert spec["segments"] == [{"name": "platform", "source": "first_event"}]
    assert spec["north_star"]["events"] == ["page_viewed"]  # the most frequent, proposed
    assert len(spec["inputs"]) == 3  # what the spec requires at least
    # 4 users each on every day, every 2nd and every 3rd day of 30
    assert dict(profile.event_counts) == {"page_viewed": 2 * 220, "message_sent": 4 * 55}


def test_the_aha_threshold_is_the_median_entitys_count_in_its_window(tmp_path):
    """Users 0..11 view pages 2x a day on every (1 + user % 3)-th day: in their first 14
    days that is 2 x 14, 2 x 7 and 2 x 5 views; the median user has 14."""
    source = _segment_tracks(tmp_path / "tracks.csv")
    _, proposal = profile_source(str(source), None)
    assert proposal.variables["northstar"]["aha"] == {
        "events": ["page_viewed"],
        "threshold": 14,
        "window_days": 14,
    }


def test_the_written_file_is_the_proposal_and_is_never_overwritten_silently(tmp_path, monkeypatch):
    source = tmp_path / "orders.txt"
    source.write_text(ORDERS)
    monkeypatch.chdir(tmp_path)
    first = CliRunner().invoke(cli, ["init", str(source)])
    assert first.exit_code == 0, first.output
    assert "no event id column: ids are derived from each row" in first.output
    assert "Next: northstar build --vars-file northstar.yml" in first.output
    written = yaml.safe_load((tmp_path / "northstar.yml").read_text())
    _, proposal = profile_source(str(source), None)
    assert written == json.loads(json.dumps(proposal.variables))
    again = CliRunner().invoke(cli, ["init", str(source)])
    assert again.exit_code == 1
    assert "northstar.yml exists: pass --force" in again.output
    assert CliRunner().invoke(cli, ["init", str(source), "--force"]).exit_code == 0


def test_a_warehouse_table_is_profiled_and_read_as_a_source(tmp_path, monkeypatch):
    warehouse = tmp_path / "wh.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema raw")
        con.execute(
            "create table raw.events as select 'e' || i as event_id, "
            "timestamp '2024-03-01' + to_hours(i) as occurred_at, "
            "case when i % 2 = 0 then 'login' else 'report_run' end as event_name, "
            "'acct_' || (i % 5) as account_id from range(200) t(i)"
        )
    monkeypatch.setenv("NORTHSTAR_DUCKDB_PATH", str(warehouse))
    _, proposal = profile_source("raw.events", None)
    assert proposal.variables["northstar__raw_events_path"] == ""
    assert proposal.variables["northstar__raw_event_columns"] == {"event_id": "event_id"}
    assert proposal.variables["northstar"]["entity"] == "account"


@pytest.mark.parametrize(
    ("name", "text", "fmt", "message"),
    [
        ("events.dat", "a,b\n1,2\n", None, "cannot tell the format of events.dat .*--format"),
        (
            "events.csv",
            "name,user_id\nx,u1\ny,u2\n",
            None,
            "no column .* looks like the event time",
        ),
        (
            "events.csv",
            "ts,event\n2024-01-01,x\n2024-01-02,y\n",
            None,
            "no column .* who did the event",
        ),
        ("events.csv", "ts,user_id\n", None, "has no rows to profile"),
    ],
)
def test_exports_init_cannot_read_are_refused_with_the_reason(tmp_path, name, text, fmt, message):
    source = tmp_path / name
    source.write_text(text)
    with pytest.raises(InvalidInputError, match=message):
        profile_source(str(source), fmt)


def test_a_format_given_overrides_the_extension(tmp_path):
    source = tmp_path / "events.dat"
    source.write_text("event_id,ts,event,user_id\ne1,2024-01-01,x,u1\ne2,2024-01-02,y,u2\n")
    _, proposal = profile_source(str(source), "csv")
    assert proposal.variables["northstar__raw_events_reader"] == {"format": "csv"}


def test_a_source_that_is_neither_file_nor_table_is_not_found(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["init", "no such file.csv"])
    assert result.exit_code == 6
    assert "neither a file nor a schema.table" in result.output
