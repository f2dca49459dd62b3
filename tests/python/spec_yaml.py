"""The spec as a user writes it (dbt_project.yml vars.northstar), for tests only.

The package never reads it raw (tests/python/test_spec_reader.py); tests do, to build
broken or extended specs from the demo's, and for the oracles that must not share the
normalizer (macros/spec/) they check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def project_vars(project_dir: Path) -> dict[str, Any]:
    return yaml.safe_load((project_dir / "dbt_project.yml").read_text())["vars"]


def raw_spec(project_dir: Path) -> dict[str, Any]:
    return project_vars(project_dir)["northstar"]
