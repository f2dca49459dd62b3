"""`northstar digest`: content, determinism, and a self-contained, well-formed HTML page."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import duckdb
import pytest
from click.testing import CliRunner
from snapshot_helpers import make_warehouse, publish_ok, setup_env

from northstar.cli import cli
from northstar.digest import build_digest, render_markdown
from northstar.digest.markdown import esc
from northstar.digest.model import headline, move_ratio
from northstar.digest.svg import sparkline
from northstar.publish import reader

STEM = "northstar-digest-week-2026-09-21"


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    root = tmp_path_factory.mktemp("digest")
    with pytest.MonkeyPatch.context() as patch:
        paths = setup_env(root, patch)
        make_warehouse(paths)
        publish_ok(paths)
        out = root / "out"
        result = CliRunner().invoke(cli, ["digest", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return root, out


@pytest.fixture
def env(shared, monkeypatch):
    return setup_env(shared[0], monkeypatch)


@pytest.fixture
def files(shared):
    out = shared[1]
    return {ext: (out / f"{STEM}.{ext}").read_text() for ext in ("md", "json", "html")}


def test_writes_three_files_for_the_latest_complete_week(shared):
    assert sorted(p.name for p in shared[1].iterdir()) == [
        f"{STEM}.html",
        f"{STEM}.json",
        f"{STEM}.md",
    ]


def test_markdown_headline_movers_guardrails_tree_and_partial_week(files):
    md = files["md"]
    lines = md.splitlines()
    assert lines[0] == "# North Star digest: week of 2026-09-21 (2026-W39)"
    assert lines[2] == (
        "Our North Star, Messages sent, moved from 110 to 120 (+9.1%) in the week of "
        "2026-09-21 (2026-W39), target 100 (met)."
    )
    assert "- The input that moved most: **Activation rate**, 40.0% to 60.0% (+20.0 pp)." in md
    assert "- Guardrails: **1 in breach** (Churn rate)." in md
    guardrail_rows = [
        line for line in lines if "(`churn_rate`)" in line or "(`error_rate`)" in line
    ]
    assert guardrail_rows[0].startswith("| **BREACH** | Churn rate (`churn_rate`)")
    assert guardrail_rows[1].startswith("| ok | API error rate (`error_rate`)")
    assert "| **BREACH** | Churn rate (`churn_rate`) | lifecycle | 40.0% | 20.0% | 35.0% |" in md
    assert "## Metric tree" in md
    assert "  - Churn rate (`churn_rate`, guardrail, owner lifecycle): 40.0%, **breach**" in md
    # The partial week is named, with its value so far, and never compared.
    assert "The week of 2026-09-28 (2026-W40) is still in progress" in md
    assert "Messages sent so far 30. It is not compared with complete weeks." in md
    assert "-75" not in md  # 120 -> 30 would be -75%: it must not appear


def test_json_has_the_same_content(files):
    digest = json.loads(files["json"])
    assert digest["period"] == {
        "period_start": "2026-09-21",
        "period_end": "2026-09-28",
        "label": "week of 2026-09-21 (2026-W39)",
    }
    assert digest["north_star"]["value"] == 120.0
    assert digest["north_star"]["change_pct"] == pytest.approx(10 / 110)
    assert digest["top_mover"]["metric_name"] == "activation_rate"
    assert [g["metric_name"] for g in digest["guardrails"]] == ["churn_rate", "error_rate"]
    assert digest["breaches"] == ["churn_rate"]
    assert digest["incomplete_period"]["period_start"] == "2026-09-28"
    assert digest["incomplete_period"]["north_star_so_far"] == 30.0
    assert [p["value"] for p in digest["north_star"]["series"]] == [90.0, 110.0, 120.0]


def test_html_is_well_formed_and_fetches_nothing(files):
    html = files["html"]
    root = ET.fromstring(html.split("\n", 1)[1])  # after <!DOCTYPE html>
    assert root.tag == "html"
    assert not re.search(r"(?i)https?:|ftp:|//[a-z0-9]", html)
    for forbidden in (
        "<script",
        "<link",
        "<img",
        "<iframe",
        "<object",
        "url(",
        "@import",
        "src=",
        "href=",
    ):
        assert forbidden not in html.lower(), forbidden
    svgs = root.findall(".//svg")
    assert len(svgs) == 1 + 1 + 2  # the NSM, one input, two guardrails
    assert all(svg.find("title") is not None for svg in svgs)
    breach_rows = [tr for tr in root.iter("tr") if tr.get("class") == "breach"]
    assert len(breach_rows) == 1
    assert "Churn rate" in "".join(breach_rows[0].itertext())
    assert "is incomplete" in html


def test_same_snapshot_same_bytes(env, shared, tmp_path):
    again = tmp_path / "again"
    result = CliRunner().invoke(cli, ["digest", "--out", str(again)])
    assert result.exit_code == 0
    for ext in ("md", "json", "html"):
        name = f"{STEM}.{ext}"
        assert (again / name).read_bytes() == (shared[1] / name).read_bytes(), name


def test_print_echoes_the_markdown(env, files, tmp_path):
    result = CliRunner().invoke(cli, ["digest", "--out", str(tmp_path), "--print"])
    assert result.exit_code == 0
    assert result.stdout == files["md"]


def test_unknown_grain_and_missing_period(env, tmp_path, monkeypatch):
    result = CliRunner().invoke(cli, ["digest", "--grain", "month", "--out", str(tmp_path)])
    assert result.exit_code == 6
    assert "unknown grain 'month'" in result.stderr
    fresh = setup_env(tmp_path / "fresh", monkeypatch)
    make_warehouse(fresh)
    con = duckdb.connect(str(fresh.warehouse))
    con.execute("update marts.fct_metric_values set is_complete_period = false")
    con.close()
    publish_ok(fresh)
    result = CliRunner().invoke(cli, ["digest", "--out", str(tmp_path / "o")])
    assert result.exit_code == 6
    assert "no complete week in the snapshot yet" in result.stderr
    assert not (tmp_path / "o").exists()


def test_headline_without_previous_or_target():
    nsm = {
        "label": "Nights booked",
        "value": 12.0,
        "previous_value": None,
        "target": None,
        "direction": "higher_is_better",
        "display": {"value": "12", "previous_value": "-", "change": "-", "target": "-"},
    }
    assert headline(nsm, "week of 2026-01-05 (2026-W02)", "week") == (
        "Our North Star, Nights booked, was 12 in the week of 2026-01-05 (2026-W02); there is "
        "no previous complete week to compare with, no target set."
    )
    nsm.update(previous_value=12.0, display={**nsm["display"], "previous_value": "12"})
    assert headline(nsm, "week of x", "week") == (
        "Our North Star, Nights booked, was unchanged at 12 in the week of x, no target set."
    )
    nsm.update(previous_value=20.0, target=15.0, display={**nsm["display"], "target": "15"})
    nsm["display"].update(previous_value="20", change="-40.0%")
    assert headline(nsm, "week of x", "week").endswith(
        "(-40.0%) in the week of x, target 15 (not met)."
    )


def test_markdown_escapes_labels():
    assert esc("a|b *c* _d_ <e>") == "a\\|b \\*c\\* \\_d\\_ \\<e\\>"


def test_sparkline_is_deterministic_and_handles_gaps():
    first = sparkline([1.0, None, 3.0, 2.0], label="x <y>")
    assert first == sparkline([1.0, None, 3.0, 2.0], label="x <y>")
    assert first.count("<polyline") == 2  # the gap breaks the line
    assert "<title>x &lt;y&gt;</title>" in first
    ET.fromstring(first)
    assert "<polyline" not in sparkline([None, None], label="empty")
    flat = sparkline([5.0, 5.0], label="flat")
    assert 'points="4.0,18.0 156.0,18.0"' in flat


def test_build_digest_is_a_pure_function_of_the_snapshot(env):
    snapshot = reader.resolve(env)
    con = reader.connect(snapshot)
    try:
        first = build_digest(con, snapshot.manifest)
        second = build_digest(con, snapshot.manifest)
    finally:
        con.close()
    assert first == second
    assert render_markdown(first) == render_markdown(second)


def test_a_metric_still_maturing_shows_its_latest_complete_week(tmp_path, monkeypatch):
    """Activation within 14 days is not final for last week yet: the digest shows its
    latest complete week, says so, and never uses the partial value."""
    paths = setup_env(tmp_path, monkeypatch)
    make_warehouse(paths)
    con = duckdb.connect(str(paths.warehouse))
    con.execute(
        "update marts.fct_metric_values set is_complete_period = false, change_abs = null, "
        "change_pct = null where metric_name = 'activation_rate' "
        "and period_start = date '2026-09-21'"
    )
    con.close()
    publish_ok(paths)
    snapshot = reader.resolve(paths)
    con = reader.connect(snapshot)
    try:
        digest = build_digest(con, snapshot.manifest)
    finally:
        con.close()
    activation = digest["inputs"][0]
    assert (activation["period_start"], activation["lagged"], activation["value"]) == (
        "2026-09-14",
        True,
        0.4,
    )
    assert digest["top_mover"] is None  # nothing moved in the digest's own week
    md = render_markdown(digest)
    assert "| 50.0% | 40.0% (2026-09-14) | -10.0 pp |" in md
    assert (
        "- Activation rate: not complete yet for the week of 2026-09-21 (2026-W39); shown: "
        "its latest complete week, the week of 2026-09-14 (2026-W38)."
    ) in md
    assert "60.0%" not in md
    assert "moved most" not in md


# --- which input "moved most" -----------------------------------------------------------


def test_move_ratio_measures_the_latest_change_against_the_metrics_own_typical_change():
    # earlier changes +1, -1, +2, -2: median |change| 1.5; latest +6
    assert move_ratio([10, 11, 10, 12, 10, 16]) == pytest.approx(4.0)
    assert move_ratio([10, 11, 10, 12, 10, 16], min_history=5) is None  # too little history
    assert move_ratio([10, 10, 10, 10, 10, 12]) is None  # never moved before: no scale
    assert move_ratio([10, 11, 10, 12, 10, None]) is None  # latest change unknown
    # a null period breaks two changes; the rest still count
    assert move_ratio([10, 11, None, 12, 10, 11, 13, 9]) == pytest.approx(4 / 1.5)


def _weekly_inputs_snapshot() -> duckdb.DuckDBPyConnection:
    """An NSM and three inputs over eight complete weeks, in the snapshot's main schema."""
    con = duckdb.connect()
    con.execute(
        """
        create table dim_metrics as select * from (values
            ('nsm', 'North Star', 'north_star', null, 'lead', 'messages', 'higher_is_better',
             null, 1),
            ('new_teams', 'New teams', 'input', 'nsm', 'growth', 'teams', 'higher_is_better',
             null, 2),
            ('resurrection_rate', 'Resurrection', 'input', 'nsm', 'lifecycle', 'ratio',
             'higher_is_better', null, 3),
            ('activation_rate', 'Activation', 'input', 'nsm', 'onboarding', 'ratio',
             'higher_is_better', null, 4)
        ) as t(metric_name, label, role, parent_metric, owner, unit, direction, target,
               sort_order)
        """
    )
    series = {
        "nsm": [100, 102, 104, 106, 108, 110, 112, 114],
        # swings by about 10 a week; +12 this week (+20%): an ordinary week
        "new_teams": [50, 60, 50, 61, 52, 60, 60, 72],
        # a tiny base: 1% -> 2% is +100%, but it moves by a point every week
        "resurrection_rate": [0.01, 0.02, 0.01, 0.02, 0.01, 0.02, 0.01, 0.02],
        # steady within a point, then +5 points (+10%): the unusual move
        "activation_rate": [0.50, 0.51, 0.50, 0.51, 0.50, 0.51, 0.50, 0.55],
    }
    rows = []
    for metric, values in series.items():
        for week, value in enumerate(values):
            start = date(2026, 8, 3) + timedelta(weeks=week)
            previous = values[week - 1] if week else None
            change = None if previous is None else value - previous
            rows.append(
                (
                    metric,
                    "week",
                    start,
                    start + timedelta(weeks=1),
                    "all",
                    "all",
                    value,
                    previous,
                    change,
                    None if change is None else change / previous,
                    None,
                    None,
                    "none",
                    True,
                )
            )
    con.execute(
        """
        create table fct_metric_values (
            metric_name varchar, grain varchar, period_start date, period_end date,
            segment_name varchar, segment_value varchar, value double,
            previous_value double, change_abs double, change_pct double, target double,
            gap_to_target double, status varchar, is_complete_period boolean
        )
        """
    )
    con.executemany("insert into fct_metric_values values (" + ", ".join("?" * 14) + ")", rows)
    return con


def test_the_input_that_moved_most_is_the_most_unusual_move_not_the_largest_percentage():
    with _weekly_inputs_snapshot() as con:
        digest = build_digest(con, {})
    assert [m["metric_name"] for m in digest["inputs"]] == [
        "activation_rate",  # 5 points against a typical 1: 5.0x
        "new_teams",  # 12 against a typical ~9
        "resurrection_rate",  # +100%, but exactly its typical move: 1.0x
    ]
    assert digest["top_mover"]["metric_name"] == "activation_rate"
    assert digest["top_mover"]["move_ratio"] == pytest.approx(5.0)
    md = render_markdown(digest)
    assert (
        "- The input that moved most: **Activation**, 50.0% to 55.0% "
        "(+5.0 pp, 5.0x its typical weekly move)." in md
    )
    assert (
        "| Resurrection (`resurrection_rate`) | lifecycle | 1.0% | 2.0% | +1.0 pp | 1.0x typical |"
        in md
    )
