"""A real copy of the dbt project, for tests whose builds rewrite the project's own files
(another spec regenerates the semantic YAML and the expectation suites)."""

from __future__ import annotations

import shutil
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
ENTRIES = ["dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests", "expectations"]


def copy_project(root: Path) -> Path:
    """`root`/project: the project's files copied (never linked), caches left out."""
    project = root / "project"
    project.mkdir()
    for entry in ENTRIES:
        source = PROJECT_DIR / entry
        if source.is_dir():
            shutil.copytree(source, project / entry, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, project / entry)
    return project
