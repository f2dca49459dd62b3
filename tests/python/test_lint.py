"""`northstar lint`: the spec lint's warnings, each with why and how to silence it.

The rules themselves are tested on crafted specs in test_spec_validation.py (one dbt parse
each, in its workers) and for plain dbt in test_singular_tests_fail.py; here, one real
`northstar lint` on a crafted spec file: what a user sees, and that warnings never fail.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from metric_checks import PROJECT_DIR
from spec_yaml import raw_spec

from northstar.cli import cli
from northstar.lint import lint_lines, lint_report

pytestmark = pytest.mark.dbt


def test_lint_prints_each_warning_with_why_and_how_to_silence(tmp_path: Path, monkeypatch):
    """The demo spec with new MRR as its North Star (revenue, and read by no input) and
    the unmovable rule silenced: one warning, three lines, exit 0."""
    spec = raw_spec(PROJECT_DIR)
    spec["north_star"].update(
        kind="sum", events=["subscription_started"], property="mrr", unit="usd"
    )
    spec["lint"] = {"ignore": ["unmovable_north_star"]}
    path = tmp_path / "spec.yml"
    path.write_text(yaml.safe_dump({"northstar": spec}))
    monkeypatch.setenv("NORTHSTAR_PROJECT_DIR", str(PROJECT_DIR))
    result = CliRunner().invoke(cli, ["lint", "--spec", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "lint: revenue_north_star: the North Star messages_sent is revenue: it sums mrr, an "
        "amount of money; its unit is usd; it measures what the output new_mrr measures",
        "  why: revenue is a lagging outcome: it moves after the value is delivered (billing "
        "cycles, renewals), so teams cannot steer by it week to week; count the value "
        "customers get, which revenue follows, and keep revenue as an output",
        "  to silence: if it is deliberate, add `lint: {ignore: [revenue_north_star]}` to the "
        "spec (northstar.lint.ignore)",
    ]


def test_lint_json_and_a_clean_spec() -> None:
    """The JSON and the one line of a spec without warnings, from the normalized spec."""
    warning = {
        "rule": "cumulative_north_star",
        "field": "northstar.north_star",
        "message": "m",
        "why": "w",
        "silence": "s",
    }
    spec = {"lint": {"ignore": ["revenue_north_star"], "warnings": [warning]}}
    assert json.loads(json.dumps(lint_report(spec))) == {
        "warnings": [warning],
        "ignored": ["revenue_north_star"],
    }
    clean = {"lint": {"ignore": ["revenue_north_star"], "warnings": []}}
    assert lint_lines(clean) == [
        "lint: no North Star anti-pattern found (silenced: revenue_north_star)"
    ]
    assert lint_lines({}) == ["lint: no North Star anti-pattern found"]
