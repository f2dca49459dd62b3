"""Shared set-up for the publish/query/digest/alerts/build tests: an isolated environment
under tmp_path, the contract warehouse with a few additions, and fake validators (the
real gate has its own tests in test_validation.py; publish runs it end to end in
test_publish.py, test_publish_through_the_real_validation_gate)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from contract_warehouse import make_contract_warehouse

from northstar.paths import Paths

PROJECT_DIR = Path(__file__).resolve().parents[2]


@dataclass
class FakeResult:
    success: bool = True
    summary: str = "3 suites, 12 expectations: all passed"

    def summary_text(self) -> str:
        return self.summary

    def to_dict(self) -> dict[str, Any]:
        return {"success": self.success, "summary": self.summary}


class FakeValidator:
    """Records each call; returns a passing or failing result."""

    def __init__(self, success: bool = True):
        self.success = success
        self.calls: list[Path] = []

    def __call__(self, paths: Paths) -> FakeResult:
        self.calls.append(paths.warehouse)
        summary = "all passed" if self.success else "FAIL fct_metric_values: rate 1.5 > 1"
        return FakeResult(self.success, summary)


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without anything that points dbt or northstar elsewhere,
    plus `extra`: what a scheduler's plain `dbt` or `northstar` process sees."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("NORTHSTAR_", "DBT_"))
    }
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env.update(extra)
    return env


def isolated_env(tmp_path: Path) -> dict[str, str]:
    return {
        "NORTHSTAR_DUCKDB_PATH": str(tmp_path / "wh.duckdb"),
        "NORTHSTAR_SNAPSHOTS_DIR": str(tmp_path / "snapshots"),
        "NORTHSTAR_RAW_DIR": str(tmp_path / "raw"),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "NORTHSTAR_PROJECT_DIR": str(PROJECT_DIR),
    }


def add_segments_and_guardrail(warehouse: Path) -> None:
    """Additions on our copy only: a `plan` segment (pro/free) for the NSM and an `ok`
    guardrail, so segment queries and 'breaches first' ordering can be tested."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(
            """
            insert into marts.fct_metric_values by name
            select metric_name, role, grain, period_start, period_end,
                'plan' as segment_name, plan as segment_value, value * share as value,
                numerator * share as numerator, denominator,
                previous_value * share as previous_value, change_abs * share as change_abs,
                change_pct, 'none' as status, is_complete_period, definition_version
            from marts.fct_metric_values,
                (values ('pro', 0.25), ('free', 0.75)) as p(plan, share)
            where metric_name = 'messages_sent'
            """
        )
        con.execute(
            """
            insert into marts.dim_metrics (
                metric_name, label, role, parent_metric, owner, description, unit, direction,
                target, warn_threshold, breach_threshold, definition_version, kind,
                is_additive, sort_order
            ) values
                ('error_rate', 'API error rate', 'guardrail', 'messages_sent', 'platform',
                 'Share of 5xx.', 'ratio', 'lower_is_better', null, 0.02, 0.05, '1', 'ratio',
                 false, 4)
            """
        )
        con.execute(
            """
            insert into marts.fct_metric_values by name
            select 'error_rate' as metric_name, 'guardrail' as role, grain, period_start,
                period_end, 'all' as segment_name, 'all' as segment_value, 0.01 as value,
                1 as numerator, 100 as denominator, 0.01 as previous_value, 0 as change_abs,
                0 as change_pct, 'ok' as status, is_complete_period, '1' as definition_version
            from marts.fct_metric_values
            where metric_name = 'messages_sent' and segment_name = 'all'
            """
        )
    finally:
        con.close()


def setup_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Paths:
    """Point every northstar path under tmp_path (for a test's `env` fixture)."""
    for key, value in isolated_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    return Paths.discover()


def make_warehouse(paths: Paths) -> Path:
    """The contract warehouse plus our additions, at the environment's warehouse path."""
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    make_contract_warehouse(paths.warehouse)
    add_segments_and_guardrail(paths.warehouse)
    return paths.warehouse


def publish_ok(paths: Paths, **kwargs: Any):
    from northstar.publish.publisher import publish

    kwargs.setdefault("validator", FakeValidator())
    return publish(paths, **kwargs)


def tree_digest(root: Path) -> dict[str, str]:
    """relative path -> sha256 of every file under root (symlinks as their target)."""
    found = {}
    for directory, _dirs, files in os.walk(root):
        for name in files:
            path = Path(directory) / name
            key = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[key] = "-> " + os.readlink(path)
            else:
                found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        for name in _dirs:
            path = Path(directory) / name
            if path.is_symlink():
                found[path.relative_to(root).as_posix()] = "-> " + os.readlink(path)
    return found
