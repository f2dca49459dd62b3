"""The spec lint, as the normalized spec carries it (macros/spec/northstar_spec_lint.sql).

The rules run in dbt's spec macros, so plain dbt sees the same warnings (the warn-severity
test test_dim_metrics__north_star_lint logs each); Python only reads and prints them. They
are warnings: `northstar lint`, `sync` and `build` print them and go on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class LintWarning:
    rule: str
    field: str
    message: str
    why: str
    silence: str

    def lines(self) -> list[str]:
        return [
            f"lint: {self.rule}: {self.message}",
            f"  why: {self.why}",
            f"  to silence: {self.silence}",
        ]


def lint_warnings(spec: Mapping[str, Any]) -> list[LintWarning]:
    """The warnings `lint.ignore` leaves, in rule order; none for a spec normalized before
    the lint existed."""
    found = (spec.get("lint") or {}).get("warnings") or []
    return [
        LintWarning(**{key: entry[key] for key in LintWarning.__dataclass_fields__})
        for entry in found
    ]


def silenced(spec: Mapping[str, Any]) -> list[str]:
    return list((spec.get("lint") or {}).get("ignore") or [])


def lint_report(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The lint as JSON: {warnings: [...], ignored: [rules]}."""
    return {"warnings": [asdict(w) for w in lint_warnings(spec)], "ignored": silenced(spec)}


def lint_lines(spec: Mapping[str, Any]) -> list[str]:
    """Every warning with its why and how to silence it; one line when there is none."""
    lines = [line for warning in lint_warnings(spec) for line in warning.lines()]
    if not lines:
        ignored = silenced(spec)
        note = f" (silenced: {', '.join(ignored)})" if ignored else ""
        lines = [f"lint: no North Star anti-pattern found{note}"]
    return lines


def lint_warning_lines(spec: Mapping[str, Any]) -> list[str]:
    """The warnings' lines only (nothing when there is none): for commands that read the
    spec for something else and mention the lint in passing."""
    return [line for warning in lint_warnings(spec) for line in warning.lines()]
