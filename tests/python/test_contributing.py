"""docs/contributing.md's file lists hold: the code that decides anything by a metric or
measure kind's name is in the files it lists, and a new kind added as its worked example
touches only the normalizer.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from spec_tables import measure_kinds, metric_kinds

PROJECT_DIR = Path(__file__).resolve().parents[2]
GUIDE = PROJECT_DIR / "docs" / "contributing.md"
NORMALIZER = Path("macros/spec/northstar_spec_metric.sql")
DBT = str(Path(sys.executable).with_name("dbt"))
SCANNED = ("macros", "models", "northstar", "scripts")


def listed_files(section: str) -> set[str]:
    """Every repository path in backticks in one `## ` section of the guide."""
    text = GUIDE.read_text()
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return {p for p in re.findall(r"`([\w./-]+\.(?:sql|py|yml|md|json))`", body) if "/" in p}


def kinds() -> list[str]:
    """The metric and measure kinds the normalizer accepts (the keys of its kind tables)."""
    return sorted(set(metric_kinds() + measure_kinds()))


def decision_pattern(kind_names: list[str]) -> re.Pattern[str]:
    """A comparison of a `kind` with a name: `kind == 'x'`, `kind in [...]`,
    `selectattr('kind', 'equalto', 'x')`."""
    return re.compile(r"kind\b[^\n]{0,120}?['\"](" + "|".join(kind_names) + r")['\"]")


def deciding_files(kind_names: list[str]) -> dict[str, list[str]]:
    """path -> the kinds it compares a `kind` with by name."""
    pattern = decision_pattern(kind_names)
    found = {}
    for top in SCANNED:
        for path in sorted((PROJECT_DIR / top).rglob("*")):
            if path.suffix in (".sql", ".py"):
                hits = sorted({m.group(1) for m in pattern.finditer(path.read_text())})
                if hits:
                    found[path.relative_to(PROJECT_DIR).as_posix()] = hits
    return found


def test_the_listed_files_exist():
    for section in ("Add a metric kind", "Add a measure kind"):
        files = listed_files(section)
        assert len(files) >= 6, section
        missing = [f for f in files if not (PROJECT_DIR / f).is_file()]
        assert missing == [], f"{section}: {missing}"


def test_only_the_listed_files_decide_by_a_kind_name():
    names = kinds()
    assert {"count", "ratio", "percentile", "churn", "active_entities"} <= set(names)
    listed = listed_files("Add a metric kind") | listed_files("Add a measure kind")
    deciding = deciding_files(names)
    assert str(NORMALIZER) in deciding  # the scan sees the code it is about
    unlisted = {path: hits for path, hits in deciding.items() if path not in listed}
    assert unlisted == {}, "decides by a kind's name but is not in docs/contributing.md"


def test_the_scan_sees_a_new_decision(tmp_path):
    """The check above can fail: a module comparing a kind by name is found."""
    text = 'if metric.kind == "percentile":\n    pass\n'
    assert [m.group(1) for m in decision_pattern(kinds()).finditer(text)] == ["percentile"]


# --- the worked example: a kind added in the normalizer alone -----------------------------

# the worked example of docs/contributing.md, events per active entity: one row of the
# normalizer's kind table
NEW_KIND = """        'per_active_entity': {'measures': {
            'numerator': {'kind': 'count', 'from': ['events']},
            'denominator': {'kind': 'active_entities'},
        }},
"""
EXTRA_OUTPUTS = [
    {
        "name": "messages_per_active_team_new_kind",
        "owner": "tests",
        "kind": "per_active_entity",
        "events": ["message_sent"],
    },
    {
        "name": "messages_per_active_team_as_ratio",
        "owner": "tests",
        "kind": "ratio",
        "numerator": {"kind": "count", "events": ["message_sent"]},
        "denominator": {"kind": "active_entities"},
    },
]


def add_the_kind(project: Path) -> None:
    """A copy of the project whose normalizer, and nothing else, knows the new kind."""
    for entry in PROJECT_DIR.iterdir():
        if entry.name in ("macros", "target", "logs", "warehouse") or entry.name.startswith("."):
            continue
        (project / entry.name).symlink_to(entry)
    shutil.copytree(PROJECT_DIR / "macros", project / "macros")
    normalizer = project / NORMALIZER
    text = normalizer.read_text()
    anchor = "        'churn': {'share': true},\n"
    assert text.count(anchor) == 1
    normalizer.write_text(text.replace(anchor, anchor + NEW_KIND))
    assert metric_kinds(normalizer) == [*metric_kinds(), "per_active_entity"]
    changed = filecmp.dircmp(PROJECT_DIR / "macros", project / "macros")
    assert changed.subdirs["spec"].diff_files == [NORMALIZER.name]


@pytest.mark.dbt
def test_a_kind_added_in_the_normalizer_alone_builds_and_is_right(tmp_path):
    from northstar.semantic.plan import plan_semantic_layer
    from northstar.spec import load_spec

    project = tmp_path / "project"
    project.mkdir()
    add_the_kind(project)
    variables = yaml.safe_load((PROJECT_DIR / "examples" / "specs" / "slack.yml").read_text())
    variables["northstar"]["outputs"] = variables["northstar"]["outputs"][:3] + EXTRA_OUTPUTS
    env = dict(
        os.environ,
        NORTHSTAR_DUCKDB_PATH=str(tmp_path / "warehouse.duckdb"),
        DBT_TARGET_PATH=str(tmp_path / "target"),
        DBT_LOG_PATH=str(tmp_path / "logs"),
        DBT_PROFILES_DIR=str(project),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    build = subprocess.run(
        [DBT, "build", "--vars", yaml.safe_dump(variables)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stdout[-6000:]
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            """
            select new.grain, new.period_start, new.segment_name, new.segment_value,
                new.numerator, new.denominator, new.value,
                twin.numerator, twin.denominator, twin.value
            from marts.fct_metric_values as new
            inner join marts.fct_metric_values as twin
                using (grain, period_start, segment_name, segment_value)
            where new.metric_name = 'messages_per_active_team_new_kind'
                and twin.metric_name = 'messages_per_active_team_as_ratio'
            """
        ).fetchall()
    assert len(rows) > 50
    assert any(row[6] is not None and row[6] > 0 for row in rows)
    assert [row[4:7] for row in rows] == [row[7:10] for row in rows]
    # the semantic layer maps it from its measures, with no mapping written for it
    spec = load_spec(project, variables={"northstar": variables["northstar"]})
    included = {p.metric.name for p in plan_semantic_layer(spec).included}
    assert "messages_per_active_team_new_kind" in included
