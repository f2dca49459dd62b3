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
from northstar.digest.treechart import tree_chart
from northstar.publish import reader
from northstar.query.catalog import Catalog, latest_values, render_tree

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
    assert (
        "- The input that moved most: **Activation rate**, 40.0% to 60.0% (+20.0 pp), "
        "with the North Star's move." in md
    )
    assert (
        "- Guardrails: 1 in breach: Churn rate (first week, after 1 week at warning level)." in md
    )
    assert (
        "- **North Star up while Churn rate is in breach: Messages sent rose +9.1% this week. "
        "If guardrails flash red, pause optimisation.**" in md
    )
    # a snapshot without the decomposition says so instead of naming drivers
    assert "No split of the change: this snapshot has no decomposition" in md
    guardrail_rows = [
        line for line in lines if "(`churn_rate`)" in line or "(`error_rate`)" in line
    ]
    assert guardrail_rows[0].startswith("| **BREACH** | 1 week | Churn rate (`churn_rate`)")
    assert guardrail_rows[1].startswith("| ok | - | API error rate (`error_rate`)")
    assert (
        "| **BREACH** | 1 week | Churn rate (`churn_rate`) | lifecycle | 40.0% | 20.0% | 35.0% |"
        in md
    )
    assert "## Metric tree" in md
    # inputs under the North Star; guardrails apart, not among its children
    assert "  - Activation rate (`activation_rate`, input, owner onboarding): 60.0%" in md
    tree = md.split("## Metric tree")[1]
    assert "Guardrails (apart: they must not get worse)\n\n- Churn rate (`churn_rate`" in tree
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
        "is_latest": True,
    }
    assert digest["north_star"]["value"] == 120.0
    assert digest["north_star"]["change_pct"] == pytest.approx(10 / 110)
    assert digest["top_mover"]["metric_name"] == "activation_rate"
    assert [g["metric_name"] for g in digest["guardrails"]] == ["churn_rate", "error_rate"]
    assert digest["breaches"] == ["churn_rate"]
    assert digest["incomplete_period"]["period_start"] == "2026-09-28"
    assert digest["incomplete_period"]["north_star_so_far"] == 30.0
    assert [p["value"] for p in digest["north_star"]["series"]] == [90.0, 110.0, 120.0]
    assert digest["drivers"]["available"] is False
    assert [g["periods_in_status"] for g in digest["guardrails"]] == [1, None]
    tree = digest["tree"]
    assert [n["metric_name"] for n in tree["north_star"]["children"]] == ["activation_rate"]
    assert [n["metric_name"] for n in tree["guardrails"]] == ["churn_rate", "error_rate"]
    assert digest["text"].splitlines()[0] == digest["headline"]
    assert "Guardrails: 1 in breach: Churn rate (first week, after 1 week" in digest["text"]


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
    assert len(svgs) == 1 + 1 + 2 + 1  # the NSM, one input, two guardrails, the tree
    assert all(svg.find("title") is not None for svg in svgs)
    # the guardrail charts carry their warn and breach lines, labelled, and axis labels
    churn = next(svg for svg in svgs if svg.get("aria-label", "").startswith("Churn rate"))
    texts = ["".join(t.itertext()) for t in churn.iter("text")]
    assert {"warn 20.0%", "breach 35.0%"} <= set(texts)
    assert {"09-07", "09-21", "10.0%", "40.0%"} <= set(texts)  # first/last period, min/max
    strokes = {line.get("stroke") for line in churn.iter("line")}
    assert {"#c98a00", "#c62828"} <= strokes
    # the tree: the North Star box above its input, joined; guardrails in their own panel
    tree = root.find(".//svg[@class='tree']")
    boxes = {
        "".join(g.find("title").itertext()).split(" (")[0]: float(g.find("rect").get("y"))
        for g in tree.iter("g")
    }
    assert boxes["Messages sent"] < boxes["Activation rate"] < boxes["Churn rate"]
    assert len(tree.findall("path")) == 1  # one connector: the North Star to its input
    panel_titles = ["".join(t.itertext()) for t in tree.findall("text")]
    assert "Guardrails: must not get worse" in panel_titles
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


# A team metric (role team, docs/spec.md "Team metrics") under the activation input.
TEAM_METRIC_ROW = """,
            ('checklists_completed', 'Checklists completed', 'team', 'activation_rate',
             'onboarding-squad', 'checklists', 'higher_is_better', null, 5)"""


def _weekly_inputs_snapshot(*, team_metric: bool = False) -> duckdb.DuckDBPyConnection:
    """An NSM and three inputs over eight complete weeks, in the snapshot's main schema;
    with `team_metric`, a team metric under activation_rate too."""
    con = duckdb.connect()
    con.execute(
        f"""
        create table dim_metrics as select * from (values
            ('nsm', 'North Star', 'north_star', null, 'lead', 'messages', 'higher_is_better',
             null, 1),
            ('new_teams', 'New teams', 'input', 'nsm', 'growth', 'teams', 'higher_is_better',
             null, 2),
            ('resurrection_rate', 'Resurrection', 'input', 'nsm', 'lifecycle', 'ratio',
             'higher_is_better', null, 3),
            ('activation_rate', 'Activation', 'input', 'nsm', 'onboarding', 'ratio',
             'higher_is_better', null, 4){TEAM_METRIC_ROW if team_metric else ""}
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
    if team_metric:
        series["checklists_completed"] = [20, 22, 21, 23, 22, 24, 23, 31]
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
        "(+5.0 pp, 5.0x its typical weekly move), with the North Star's move." in md
    )
    assert (
        "| Resurrection (`resurrection_rate`) | lifecycle | 1.0% | 2.0% | +1.0 pp | 1.0x typical |"
        in md
    )


def test_a_team_metric_hangs_under_its_input_in_the_tree_and_the_catalog():
    """The third level: a team metric is drawn under the input it moves (digest JSON,
    Markdown, SVG; `northstar metrics`), and is not one of the inputs the digest ranks."""
    with _weekly_inputs_snapshot(team_metric=True) as con:
        digest = build_digest(con, {})
        tree = render_tree(Catalog.load(con), latest_values(con))
    assert [m["metric_name"] for m in digest["inputs"]] == [
        "activation_rate",
        "new_teams",
        "resurrection_rate",
    ]
    (activation,) = [
        n for n in digest["tree"]["north_star"]["children"] if n["metric_name"] == "activation_rate"
    ]
    assert [(n["metric_name"], n["role"]) for n in activation["children"]] == [
        ("checklists_completed", "team")
    ]
    assert activation["children"][0]["value"] == "31"
    md = render_markdown(digest).split("## Metric tree")[1]
    assert (
        "  - Activation (`activation_rate`, input, owner onboarding): 55.0%\n"
        "    - Checklists completed (`checklists_completed`, team, owner onboarding-squad): 31"
    ) in md
    svg = ET.fromstring(tree_chart(digest["tree"]))
    # three connectors from the North Star to its inputs, one from activation to its team
    assert len(svg.findall(".//{*}path") or svg.findall(".//path")) == 4
    lines = tree.splitlines()
    at = next(i for i, line in enumerate(lines) if "(activation_rate)" in line)
    assert lines[at + 1].strip().endswith("team metrics")
    assert "Checklists completed (checklists_completed)  owner: onboarding-squad" in lines[at + 2]


# --- the demo: drivers, guardrail streaks, --period, --owner ---------------------------------

INCIDENT_WEEK = "2026-07-20"  # the second week of the planted incident (docs/demo-data.md)


@pytest.fixture
def on_demo(demo, monkeypatch):
    """The CLI and the readers pointed at the session's demo build and its snapshot."""
    for key, value in demo.env.items():
        if key.startswith(("NORTHSTAR_", "DBT_")):
            monkeypatch.setenv(key, value)
    return demo


def _demo_digest(**kwargs):
    snapshot = reader.resolve()
    con = reader.connect(snapshot)
    try:
        return build_digest(con, snapshot.manifest, **kwargs)
    finally:
        con.close()


def _warehouse(demo, sql: str, *params) -> list[tuple]:
    with duckdb.connect(str(demo.warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def _signed(value: float) -> str:
    """Whole messages, as the digest prints a change of 10 or more of a count."""
    text = f"{abs(value):,.0f}"
    return "0" if text == "0" else ("+" if value > 0 else "-") + text


@pytest.mark.dbt
def test_the_headline_names_the_decompositions_numbers_for_every_complete_week(on_demo):
    """For every complete week of the demo, the headline's parts are the decomposition
    table's contributions (read from the warehouse, formatted here independently), the
    Markdown table below it prints the same numbers, and the driver it names is the
    larger part. The input named as having moved most is the inputs table's first row."""
    weeks = _warehouse(
        on_demo,
        """
        select period_start, change_abs,
            max(case when component = 'breadth' then contribution end),
            max(case when component = 'depth' then contribution end),
            max(case when component = 'breadth' then entities end)
        from marts.fct_north_star_decomposition
        where metric_name = 'messages_sent' and grain = 'week' and segment_name = 'all'
            and decomposition = 'breadth_depth' and is_complete_period
        group by period_start, change_abs
        order by period_start
        """,
    )
    assert len(weeks) >= 20
    named = set()
    for start, change, breadth, depth, more in weeks:
        if abs(change) < 10:
            continue  # a tiny change prints decimals; the rule is the same
        digest = _demo_digest(period=start.isoformat())
        headline = digest["headline"]
        assert f"drove the move: {_signed(change)} = {_signed(breadth)} from " in headline
        assert f", {_signed(depth)} from depth (messages per active account " in headline
        if more:
            active = f"{abs(more)} {'more' if more > 0 else 'fewer'} active accounts"
            assert f"{_signed(breadth)} from {active}" in headline, headline
        driver = "Breadth (active accounts)" if abs(breadth) > abs(depth) else "Depth (messages"
        assert driver in headline
        named.add(driver)
        md = render_markdown(digest)
        cell = r" \| [\d.,]+ \| [\d.,]+ \| (\*\*)?{}(\*\*)? \|"
        for title, part in [("Breadth: active accounts", breadth), ("Depth: messages", depth)]:
            title = re.escape(title) + (" per active account" if "Depth" in title else "")
            assert re.search(r"\| " + title + cell.format(re.escape(_signed(part))), md)
        # the segment the headline names, value by value, as in its table
        breakdown = digest["drivers"]["headline_breakdown"]
        for value, contribution in _warehouse(
            on_demo,
            """
            select component_value, contribution from marts.fct_north_star_decomposition
            where metric_name = 'messages_sent' and grain = 'week' and period_start = ?
                and segment_name = 'all' and decomposition = 'segment' and breakdown = ?
            order by abs(contribution) desc, component_value
            limit 2
            """,
            start,
            breakdown,
        ):
            assert f"{value} {_signed(contribution)}" in headline
            assert f"| {esc(value)} | {_signed(contribution)} |" in md
        mover = digest["top_mover"]
        if mover is not None:
            assert mover is digest["inputs"][0]
        assert all(not m["lagged"] for m in digest["inputs"][:1]) or mover is None
    assert named == {"Breadth (active accounts)", "Depth (messages"}  # the demo has both


@pytest.mark.dbt
def test_the_month_digest_does_not_say_guardrails_are_within_their_thresholds(on_demo):
    digest = _demo_digest(grain="month")
    assert {g["status"] for g in digest["guardrails"]} == {"none"}
    assert digest["guardrail_summary"] == (
        "no guardrail has a status at month grain; statuses are evaluated at week."
    )
    md = render_markdown(digest)
    assert "within their thresholds" not in md
    assert "- Guardrails: no guardrail has a status at month grain" in md


@pytest.mark.dbt
def test_the_incident_week_says_how_long_each_breach_lasted_and_that_the_north_star_rose(
    on_demo, tmp_path
):
    """`--period` of the incident's second week renders that week: both guardrails in
    breach for the second week in a row, and the North Star's rise beside them."""
    result = CliRunner().invoke(
        cli, ["digest", "--period", "2026-07-22", "--out", str(tmp_path), "--print"]
    )
    assert result.exit_code == 0, result.output
    stem = f"northstar-digest-week-{INCIDENT_WEEK}"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"{stem}.html",
        f"{stem}.json",
        f"{stem}.md",
    ]
    md = result.stdout
    assert md.startswith("# North Star digest: week of 2026-07-20 (2026-W30)\n")
    (value, previous), *_ = _warehouse(
        on_demo,
        "select value, previous_value from marts.fct_metric_values "
        "where metric_name = 'messages_sent' and grain = 'week' and segment_name = 'all' "
        "and period_start = ?",
        date.fromisoformat(INCIDENT_WEEK),
    )
    ((before,),) = _warehouse(
        on_demo,
        "select value from marts.fct_metric_values where metric_name = 'messages_sent' "
        "and grain = 'week' and segment_name = 'all' and period_start = date '2026-07-06'",
    )
    assert value > previous  # the planted incident does not dent the North Star
    assert (
        f"moved from {previous:,.0f} to {value:,.0f} (+{(value / previous - 1) * 100:.1f}%)" in md
    )
    assert (
        "- Guardrails: 2 in breach: p95 API latency (2 weeks in a row, since the week of "
        "2026-07-13), Support tickets per active team (2 weeks in a row, since the week of "
        "2026-07-13)." in md
    )
    assert (
        "North Star up while p95 API latency and Support tickets per active team are in "
        f"breach: Messages sent rose +{(value / previous - 1) * 100:.1f}% this week and "
        f"+{(value / before - 1) * 100:.1f}% over the 2 weeks of the breach "
        f"({before:,.0f} to {value:,.0f}). If guardrails flash red, pause optimisation." in md
    )
    assert "| **BREACH** | 2 weeks | p95 API latency" in md
    assert "## Current period (incomplete)" not in md  # a past week has no "so far"
    digest = json.loads((tmp_path / f"{stem}.json").read_text())
    assert digest["period"]["is_latest"] is False
    assert digest["north_star"]["value"] == value
    streaks = {g["metric_name"]: g["periods_in_status"] for g in digest["guardrails"]}
    assert streaks["support_tickets_per_active_team"] == streaks["p95_api_latency_ms"] == 2
    # the incident's first week: a breach in its first week
    first = _demo_digest(period="2026-07-13")
    assert "Support tickets per active team (first week)" in first["guardrail_summary"]


@pytest.mark.dbt
def test_owner_renders_one_owners_metrics(on_demo, tmp_path):
    result = CliRunner().invoke(
        cli, ["digest", "--owner", "lifecycle", "--out", str(tmp_path), "--print"]
    )
    assert result.exit_code == 0, result.output
    digest = json.loads(next(tmp_path.glob("*-lifecycle.json")).read_text())
    assert digest["owner"] == "lifecycle"
    assert {m["metric_name"] for m in digest["inputs"]} == {
        "four_period_retention",
        "resurrection_rate",
    }
    assert [g["metric_name"] for g in digest["guardrails"]] == ["churn_rate"]
    assert digest["outputs"] == []
    md = result.stdout
    assert md.startswith("# North Star digest: week of ")
    assert ", lifecycle's metrics\n" in md.splitlines()[0] + "\n"
    assert "`new_teams`" not in md.split("## Metric tree")[0]  # only in the whole tree
    everyone = _demo_digest()
    assert digest["headline"] == everyone["headline"]  # the North Star's, whoever reads


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--period", "2026-02-30"], 2, "--period: '2026-02-30' is not a date"),
        (["--period", "21/09/2026"], 2, "is not a date"),
        (["--period", "2001-01-01"], 6, "--period 2001-01-01: the North Star's weeks in this"),
        (["--period", "2026-09-30"], 6, "is not complete yet; the latest complete week starts"),
        (
            ["--owner", "' or 1=1 --"],
            6,
            "unknown owner \"' or 1=1 --\": the catalog's owners are leadership, lifecycle, "
            "onboarding, platform",
        ),
        (["--owner", " "], 2, "must not be empty"),
    ],
)
def test_period_and_owner_refuse_what_the_snapshot_does_not_hold(
    env, tmp_path, args, code, message
):
    result = CliRunner().invoke(cli, ["digest", "--out", str(tmp_path / "o"), *args])
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert not (tmp_path / "o").exists()


def test_the_period_renders_that_week(env, tmp_path):
    result = CliRunner().invoke(
        cli, ["digest", "--period", "2026-09-15", "--out", str(tmp_path), "--print"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# North Star digest: week of 2026-09-14 (2026-W38)\n")
    assert "moved from 90 to 110 (+22.2%)" in result.stdout
    assert "still in progress" not in result.stdout
    assert (tmp_path / "northstar-digest-week-2026-09-14.md").is_file()


def test_owner_file_names_cannot_be_steered_by_the_owner():
    from northstar.digest import owner_slug

    assert owner_slug("core-product") == "core-product"
    slug = owner_slug("../../etc/x y")
    assert re.fullmatch(r"etc-x-y-[0-9a-f]{8}", slug)
    assert owner_slug("a/b") != owner_slug("a b")


# --- inputs with or against the North Star, unknown roles, a quotient North Star ------------


def test_inputs_are_judged_by_their_own_direction_against_the_north_stars_move():
    with _weekly_inputs_snapshot() as con:
        con.execute(
            """
            insert into dim_metrics values
                ('time_to_aha', 'Days to aha', 'input', 'nsm', 'onboarding', 'days',
                 'lower_is_better', null, 5),
                ('tickets', 'Tickets', 'guardrail', 'nsm', 'support', 'tickets',
                 'lower_is_better', null, 6)
            """
        )
        con.execute(
            """
            insert into fct_metric_values
            select 'time_to_aha', grain, period_start, period_end, segment_name, segment_value,
                10 - row_number() over (order by period_start) * 0.5, null, -0.5, null,
                null, null, 'none', true
            from fct_metric_values where metric_name = 'nsm'
            """
        )
        # the next change from the new role: a metric the digest does not render
        con.execute(
            "insert into dim_metrics values ('quick_ratio', 'Quick ratio', 'diagnostic', "
            "'nsm', 'lifecycle', 'ratio', 'higher_is_better', null, 7)"
        )
        con.execute(
            "insert into fct_metric_values select 'quick_ratio', * exclude (metric_name) "
            "from fct_metric_values where metric_name = 'nsm'"
        )
        digest = build_digest(con, {})
    inputs = {m["metric_name"]: m for m in digest["inputs"]}
    # the North Star rose; every input improved, the falling lower-is-better one too
    assert inputs["time_to_aha"]["alignment"] == "with"
    assert inputs["time_to_aha"]["display"]["alignment"] == "with it, better"
    assert inputs["new_teams"]["display"]["alignment"] == "with it, better"
    # the diagnostic metric is not rendered anywhere, and nothing crashed on it
    assert "quick_ratio" not in json.dumps(digest)
    assert "quick_ratio" not in render_markdown(digest)
    # a guardrail with no status anywhere: said, not "all within"
    assert digest["guardrail_summary"] == (
        "no guardrail has a status at week grain; no guardrail has a status at any grain "
        "in this snapshot."
    )


def _quotient_snapshot() -> duckdb.DuckDBPyConnection:
    """A ratio North Star over two weeks with its decomposition: the numerator drives it,
    plan a's rate more than anything."""
    con = duckdb.connect()
    con.execute(
        """
        create table dim_metrics as select * from (values
            ('rate', 'Messages per active team', 'north_star', null, 'lead', 'messages',
             'higher_is_better', null, 'ratio', 1)
        ) as t(metric_name, label, role, parent_metric, owner, unit, direction, target,
               kind, sort_order)
        """
    )
    con.execute(
        """
        create table fct_metric_values as select * from (values
            ('rate', 'week', date '2026-09-07', date '2026-09-14', 'all', 'all', 2.0,
             null, null, null, null, null, 'none', true),
            ('rate', 'week', date '2026-09-14', date '2026-09-21', 'all', 'all', 3.5,
             2.0, 1.5, 0.75, null, null, 'none', true)
        ) as t(metric_name, grain, period_start, period_end, segment_name, segment_value,
               value, previous_value, change_abs, change_pct, target, gap_to_target,
               status, is_complete_period)
        """
    )
    rows = [
        ("numerator_denominator", None, "numerator", None, 100.0, 120.0, 2.0),
        ("numerator_denominator", None, "denominator", None, 50.0, 52.0, -0.5),
        ("segment", "plan", "rate", "a", 3.0, 4.2, 1.2),
        ("segment", "plan", "mix", "a", 0.5, 0.52, 0.1),
        ("segment", "plan", "rate", "b", 1.0, 1.1, 0.1),
        ("segment", "plan", "mix", "b", 0.5, 0.48, 0.1),
    ]
    con.execute(
        """
        create table fct_north_star_decomposition (
            metric_name varchar, grain varchar, period_start date,
            previous_period_start date, segment_name varchar, segment_value varchar,
            decomposition varchar, breakdown varchar, component varchar,
            component_value varchar, entities bigint, previous_amount double,
            current_amount double, contribution double, value double, previous_value double,
            change_abs double, is_complete_period boolean
        )
        """
    )
    con.executemany(
        "insert into fct_north_star_decomposition values ('rate', 'week', date '2026-09-14', "
        "date '2026-09-07', 'all', 'all', ?, ?, ?, ?, null, ?, ?, ?, 3.5, 2.0, 1.5, true)",
        rows,
    )
    return con


def test_a_quotient_north_star_is_explained_by_numerator_denominator_and_mix_rate():
    with _quotient_snapshot() as con:
        digest = build_digest(con, {})
    assert digest["headline"].endswith(
        "The numerator drove the move (a quotient North Star: split into numerator and "
        "denominator, not breadth x depth): +1.5 = +2.0 from the numerator (100 to 120), "
        "-0.5 from the denominator (50 to 52); by plan: a +1.3 (rate +1.2, mix +0.1), "
        "b +0.2 (rate +0.1, mix +0.1)."
    )
    md = render_markdown(digest)
    assert "| Numerator | 100 | 120 | **+2.0** |" in md
    assert "| a | +1.3 | +1.2 | +0.1 |" in md
