"""What a validation run found: per expectation, per suite, and for the whole warehouse.

`ValidationResult` is what `validate_warehouse` returns and what `northstar validate`
prints (`summary_text`) or dumps (`to_dict`). The one-line "observed" texts are built here
from GX's result dicts, naming the failing rows by their frame's key columns.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd


@dataclass
class ExpectationOutcome:
    check: str
    expectation_type: str
    description: str
    kwargs: dict[str, Any]
    success: bool
    observed: str
    result: dict[str, Any]
    # For a failure a setting controls: the setting's value that would have passed.
    accept: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "expectation_type": self.expectation_type,
            "description": self.description,
            "kwargs": self.kwargs,
            "success": self.success,
            "observed": self.observed,
            "accept": self.accept,
            "result": self.result,
        }


@dataclass
class SuiteOutcome:
    name: str
    table: str
    frame: str
    rows: int | None
    expectations: list[ExpectationOutcome] = field(default_factory=list)
    error: str | None = None  # why the suite could not run (an empty table)

    @property
    def success(self) -> bool:
        return self.error is None and all(e.success for e in self.expectations)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if not e.success]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "table": self.table,
            "frame": self.frame,
            "rows": self.rows,
            "success": self.success,
            "error": self.error,
            "expectations": [e.to_dict() for e in self.expectations],
        }


AS_OF_SOURCES = {
    "given": "given",
    "build": "the dbt build's reference time",
    "today": "today: the build pinned no reference time",
}


@dataclass
class ValidationResult:
    warehouse: Path
    suites_dir: Path
    as_of: date
    started_at: datetime
    run_seconds: float
    suites: list[SuiteOutcome]
    expectations_defined: int
    guardrails_in_breach: list[dict[str, Any]]
    outputs: dict[str, str]
    # Where as_of came from: given (--as-of), build (the dbt build's pinned clock), today.
    as_of_source: str = "given"

    @property
    def success(self) -> bool:
        return all(suite.success for suite in self.suites)

    def counts(self) -> dict[str, int]:
        run = [e for suite in self.suites for e in suite.expectations]
        passed = sum(e.success for e in run)
        return {
            "suites": len(self.suites),
            "suites_failed": sum(not suite.success for suite in self.suites),
            "expectations": self.expectations_defined,
            "passed": passed,
            "failed": len(run) - passed,
            "not_run": self.expectations_defined - len(run),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "success": self.success,
            "warehouse": str(self.warehouse),
            "suites_dir": str(self.suites_dir),
            "as_of": self.as_of.isoformat(),
            "as_of_source": self.as_of_source,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "run_seconds": round(self.run_seconds, 3),
            "counts": self.counts(),
            "suites": [suite.to_dict() for suite in self.suites],
            "guardrails_in_breach": self.guardrails_in_breach,
            "outputs": self.outputs,
        }

    def summary_text(self) -> str:
        counts = self.counts()
        lines = [
            f"northstar validate: {self.warehouse}",
            f"suites: {self.suites_dir} ({counts['suites']} suites, "
            f"{counts['expectations']} expectations); reference date {self.as_of.isoformat()} "
            f"({AS_OF_SOURCES.get(self.as_of_source, self.as_of_source)})",
            "",
        ]
        for suite in self.suites:
            verdict = "PASS" if suite.success else "FAIL"
            passed = len(suite.expectations) - len(suite.failed)
            lines.append(
                f"{verdict}  {suite.name}  [{suite.table}]  "
                f"{passed} passed, {len(suite.failed)} failed"
                + (f", {suite.rows} rows" if suite.rows is not None else "")
            )
            if suite.error:
                lines.append(f"      {suite.error}")
            for outcome in suite.expectations:
                mark = "pass" if outcome.success else "FAIL"
                lines.append(
                    f"  {mark}  {outcome.check:<30} {outcome.description}  | {outcome.observed}"
                )
                if not outcome.success:
                    lines.append(
                        f"        {outcome.expectation_type}({_kwargs_text(outcome.kwargs)}) "
                        f"on {suite.table}"
                    )
                    if outcome.accept:
                        lines.append(f"        if the data is right: {outcome.accept}")
        lines.append("")
        if self.success:
            lines.append(
                f"VALID: {counts['passed']} of {counts['expectations']} expectations passed "
                f"in {self.run_seconds:.1f} s."
            )
        else:
            lines.append(
                f"INVALID: {counts['failed']} expectation(s) failed"
                + (f", {counts['not_run']} could not run" if counts["not_run"] else "")
                + f", in {counts['suites_failed']} of {counts['suites']} suites "
                f"({self.run_seconds:.1f} s): nothing is published. A failure a setting "
                "controls names the value that would accept it, if the data is right."
            )
        if self.guardrails_in_breach:
            lines.append(
                "Guardrails in breach (the product is unhealthy, the data is valid; "
                "`northstar alerts` exits non-zero for these):"
            )
            for breach in self.guardrails_in_breach:
                lines.append(
                    f"  {breach['metric_name']}: {breach['grain']} of {breach['period_start']} "
                    f"value {breach['value']:g} (breach threshold {breach['breach_threshold']})"
                )
        for name, path in self.outputs.items():
            lines.append(f"{name}: {path}")
        return "\n".join(lines)


def _kwargs_text(kwargs: dict[str, Any]) -> str:
    shown = []
    for key in ("column", "column_list", "column_A", "column_B", "min_value", "max_value"):
        if key in kwargs and kwargs[key] is not None:
            shown.append(f"{key}={kwargs[key]!r}")
    return ", ".join(shown)


def _sample(values: list[Any], limit: int = 5) -> str:
    text = ", ".join(_value_text(v) for v in values[:limit])
    return text + (", ..." if len(values) > limit else "")


def _distinct(values: list[Any]) -> list[Any]:
    seen, kept = set(), []
    for value in values:
        marker = json.dumps(value, sort_keys=True, default=str)
        if marker not in seen:
            seen.add(marker)
            kept.append(value)
    return kept


def _value_text(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return "(" + ", ".join(f"{k}={_value_text(v)}" for k, v in value.items()) + ")"
    return str(value)


def _row_names(data: Any, keys: tuple[str, ...], indexes: list[Any], limit: int = 3) -> str:
    """The first failing rows, named by the frame's key columns."""
    names = []
    for index in indexes[:limit]:
        if index not in data.index:
            continue
        row = data.loc[index]
        names.append(
            "(" + ", ".join(f"{key}={_value_text(row[key])}" for key in keys if key in row) + ")"
        )
    return "; ".join(names) + ("; ..." if len(indexes) > limit else "")


def _observed(
    kwargs: dict[str, Any],
    result: dict[str, Any],
    exception: str | None,
    rows: str = "",
) -> str:
    """What the data showed, in one line."""
    if exception:
        return f"error: {exception}"
    if "element_count" in result and "unexpected_count" in result:
        checked = (result["element_count"] or 0) - (result.get("missing_count") or 0)
        bad = result["unexpected_count"] or 0
        if not checked:
            return "no rows to check"
        text = f"{bad} of {checked} rows unexpected"
        sample = _distinct(result.get("partial_unexpected_list") or [])
        text += f", e.g. {_sample(sample)}" if bad and sample else ""
        return text + (f" at {rows}" if bad and rows else "")
    observed = result.get("observed_value")
    expected = kwargs.get("value")
    if expected is None and kwargs.get("min_value") == kwargs.get("max_value"):
        expected = kwargs.get("min_value")
    if expected is not None:
        return f"observed {_value_text(observed)}, expected {_value_text(expected)}"
    return f"observed {_value_text(observed)}"


def outcomes_from_gx(
    suite: dict[str, Any], native: dict[str, Any], data: pd.DataFrame, keys: tuple[str, ...]
) -> list[ExpectationOutcome]:
    """Pair each result with the suite's own expectation, in the suite file's order."""
    by_key: dict[str, dict[str, Any]] = {}
    for item in native["results"]:
        config = item["expectation_config"]
        by_key.setdefault(_key(config), item)
    outcomes = []
    for expectation in suite["expectations"]:
        item = by_key.get(_key(expectation), {})
        exception = (item.get("exception_info") or {}).get("exception_message")
        result = item.get("result") or {}
        outcomes.append(
            ExpectationOutcome(
                check=expectation.get("meta", {}).get("northstar", {}).get("check", "?"),
                expectation_type=expectation["type"],
                description=expectation.get("description") or expectation["type"],
                kwargs=expectation["kwargs"],
                success=bool(item.get("success")) and not exception,
                observed=_observed(
                    expectation["kwargs"],
                    result,
                    exception,
                    _row_names(data, keys, result.get("partial_unexpected_index_list") or []),
                )
                if item
                else "error: no result",
                result=result,
                accept=""
                if bool(item.get("success")) and not exception
                else accepting_setting(expectation, data),
            )
        )
    return outcomes


SETTINGS_KEY = "vars.northstar__validation"


def accepting_setting(expectation: dict[str, Any], data: pd.DataFrame) -> str:
    """`<setting>: <value>` that would have let every row of the frame pass (rounded
    outward), for an expectation whose meta names its setting; '' otherwise."""
    setting = expectation.get("meta", {}).get("northstar", {}).get("setting")
    if not setting or setting.get("column") not in data.columns:
        return ""
    rows = data
    if setting.get("grain") is not None and "grain" in data.columns:
        rows = data[data["grain"] == setting["grain"]]
    values = pd.to_numeric(rows[setting["column"]], errors="coerce").dropna()
    if values.empty:
        return ""
    key, side = f"{SETTINGS_KEY}.{setting['key']}", setting["side"]
    if side == "abs":
        text = f"{key}: {_up(values.abs().max())}"
    elif side == "max":
        text = f"{key}: {_up(values.max())}"
    else:  # a [low, high] band
        low = min(expectation["kwargs"].get("min_value") or 0, _down(values.min()))
        high = max(expectation["kwargs"].get("max_value") or 0, _up(values.max()))
        text = f"{key}: [{low:g}, {high:g}]"
    return text + (f" (or {setting['or']})" if setting.get("or") else "")


def _up(value: float) -> float:
    """Rounded up to two decimals, so the value printed does pass."""
    return math.ceil(float(value) * 100) / 100


def _down(value: float) -> float:
    return math.floor(float(value) * 100) / 100


def _key(expectation: dict[str, Any]) -> str:
    return json.dumps([expectation["type"], expectation.get("description")], sort_keys=True)
