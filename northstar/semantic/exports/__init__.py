"""Exports of the one spec for semantic layers people run: one module per target.

Each target module has `render(plan) -> Export`: the files to write and the metrics it
could not carry. The plan is the MetricFlow one (northstar/semantic/plan.py): every target
here aggregates table rows per query the way MetricFlow does, so what MetricFlow cannot
compute faithfully no target can, for the same reason; a target may keep out more (its own
reasons). Modules are imported only when their target is asked for.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from northstar.errors import InvalidInputError
from northstar.semantic.exports.common import Export
from northstar.semantic.exports.targets import TARGETS

__all__ = ["TARGETS", "Export", "export", "write_export"]


def export(target: str, project_dir: Path, override: Path | None = None) -> Export:
    """The export of the project's spec (plus an optional override file) for `target`."""
    from northstar.semantic.plan import plan_semantic_layer
    from northstar.spec import load_spec

    module = _module(target)
    return module.render(plan_semantic_layer(load_spec(project_dir, override)))


def write_export(export_: Export, out_dir: Path) -> list[Path]:
    """Write the export's files under `out_dir` (created); their paths."""
    written = []
    for name, text in export_.files.items():
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written


def _module(target: str):
    if target not in TARGETS:
        raise InvalidInputError(
            f"unknown export target {target!r}: choose one of {', '.join(sorted(TARGETS))}"
        )
    return importlib.import_module(TARGETS[target])
