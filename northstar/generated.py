"""The files generated from the spec, kept in step with it: the semantic-layer YAML
(models/marts/semantic/_semantic__metrics.yml) and the expectation suites (expectations/).

Both are committed, so a review sees what a spec change does, and CI fails when they lag
(`northstar sync --check`). `northstar build` compares them with the spec the
warehouse was just built with (no extra dbt call) and regenerates them when they belong to
another spec, before anything is validated or published; with --no-regenerate it refuses
instead, naming `northstar sync`. docs/cli.md, "The generated files".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from northstar.project_vars import load_vars
from northstar.semantic.plan import plan_semantic_layer
from northstar.semantic.render import render_yaml
from northstar.semantic.sync import GENERATED_FILE

SUITES_DIR = Path("expectations")
SYNC_COMMAND = "northstar sync"
# dbt's saved parse state. After the semantic YAML loses a metric, dbt 1.11's partial
# parse can fail naming the metric that no longer exists; a full parse is right.
PARTIAL_PARSE_FILE = "partial_parse.msgpack"


@dataclass(frozen=True)
class GeneratedFiles:
    """What the spec (with the project's vars) generates."""

    semantic_yaml: str
    suites: list[dict[str, Any]]

    @classmethod
    def from_spec(
        cls,
        spec: Mapping[str, Any],
        project_dir: Path,
        variables: Mapping[str, Any] | None = None,
    ) -> GeneratedFiles:
        # Imported here: northstar.validation loads Great Expectations, which a build
        # that publishes loads anyway and one that does not should not wait for.
        from northstar.validation.settings import ValidationSettings
        from northstar.validation.suites import build_suites

        settings = ValidationSettings.from_vars(load_vars(project_dir, variables=variables))
        return cls(
            semantic_yaml=render_yaml(plan_semantic_layer(dict(spec))),
            suites=build_suites(dict(spec), settings),
        )

    def stale(self, project_dir: Path) -> list[str]:
        """The generated files under `project_dir` that differ from these (relative paths)."""
        semantic = project_dir / GENERATED_FILE
        stale = []
        if not semantic.is_file() or semantic.read_text() != self.semantic_yaml:
            stale.append(GENERATED_FILE.as_posix())
        from northstar.validation.suite_files import differences

        suites_dir = project_dir / SUITES_DIR
        if suites_dir.is_dir():
            changed = differences(suites_dir, self.suites)
            stale += [(SUITES_DIR / name).as_posix() for name in changed]
        else:
            stale.append(f"{SUITES_DIR.as_posix()}/ (missing)")
        return stale

    def write(self, project_dir: Path, target_dir: Path | None = None) -> list[Path]:
        """Write every file; drop dbt's saved parse state when the semantic YAML changed."""
        from northstar.validation.suite_files import write_suites

        semantic = project_dir / GENERATED_FILE
        changed = not semantic.is_file() or semantic.read_text() != self.semantic_yaml
        semantic.parent.mkdir(parents=True, exist_ok=True)
        semantic.write_text(self.semantic_yaml)
        written = [semantic, *write_suites(project_dir / SUITES_DIR, self.suites)]
        if changed:
            forget_partial_parse(target_dir or project_dir / "target")
        return written


def forget_partial_parse(target_dir: Path) -> bool:
    """Remove dbt's saved parse state in `target_dir`; True when there was one."""
    saved = target_dir / PARTIAL_PARSE_FILE
    if saved.is_file():
        saved.unlink()
        return True
    return False


def stale_message(stale: list[str], *, with_options: bool = False) -> str:
    """The refusal: which files, and the one command that brings them in step."""
    options = " with this build's --spec / --vars" if with_options else ""
    return (
        f"generated for another spec: {', '.join(stale)}. Run `{SYNC_COMMAND}`{options} (it "
        "writes the semantic YAML and the expectation suites from the spec) and commit the "
        "result, or build without --no-regenerate; nothing was validated or published"
    )
