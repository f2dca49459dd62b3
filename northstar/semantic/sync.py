"""Write the generated semantic YAML, or check that the committed file is what the spec
generates (so a spec change without regenerating fails CI)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from northstar.semantic.plan import SemanticPlan, plan_semantic_layer
from northstar.semantic.render import render_yaml
from northstar.spec import load_spec

GENERATED_FILE = Path("models/marts/semantic/_semantic__metrics.yml")


def generate(project_dir: Path, override: Path | None = None) -> tuple[SemanticPlan, str]:
    """The plan and the file text the spec (plus an optional override file) generates."""
    plan = plan_semantic_layer(load_spec(project_dir, override))
    return plan, render_yaml(plan)


def write(project_dir: Path, override: Path | None = None) -> tuple[SemanticPlan, Path]:
    plan, text = generate(project_dir, override)
    path = project_dir / GENERATED_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return plan, path


@dataclass(frozen=True)
class CheckResult:
    path: Path
    diff: str  # unified diff committed -> generated; empty when they agree

    @property
    def ok(self) -> bool:
        return not self.diff


def check(project_dir: Path, override: Path | None = None) -> CheckResult:
    _, expected = generate(project_dir, override)
    path = project_dir / GENERATED_FILE
    actual = path.read_text() if path.is_file() else ""
    diff = "".join(
        difflib.unified_diff(
            actual.splitlines(keepends=True),
            expected.splitlines(keepends=True),
            fromfile=f"{GENERATED_FILE} (committed)",
            tofile=f"{GENERATED_FILE} (generated from the spec)",
        )
    )
    if not path.is_file():
        diff = f"{GENERATED_FILE} is missing\n" + diff
    return CheckResult(path=path, diff=diff)
