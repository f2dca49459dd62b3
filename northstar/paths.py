"""Where things live: the dbt project, the warehouse file, the raw data, the snapshots.

Every location can be moved with an environment variable, so a scheduler or a test can
point northstar at another warehouse or data directory without editing files. dbt reads
the same variables (profiles.yml, dbt_project.yml), which keeps the two sides in step.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def find_project_dir() -> Path:
    """The dbt project: $NORTHSTAR_PROJECT_DIR, else the checkout this package lives in."""
    env = os.environ.get("NORTHSTAR_PROJECT_DIR")
    candidates = [Path(env)] if env else []
    candidates += [PACKAGE_DIR.parent, Path.cwd()]
    for candidate in candidates:
        if (candidate / "dbt_project.yml").is_file():
            return candidate.resolve()
    raise FileNotFoundError(
        "no dbt project found: set NORTHSTAR_PROJECT_DIR to the directory holding dbt_project.yml"
    )


def _resolve(project_dir: Path, value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else (project_dir / path)


@dataclass(frozen=True)
class Paths:
    project_dir: Path
    raw_dir: Path
    warehouse: Path
    snapshots_dir: Path
    profiles_dir: Path
    target_dir: Path

    @classmethod
    def discover(cls) -> Paths:
        project = find_project_dir()
        return cls(
            project_dir=project,
            raw_dir=_resolve(project, os.environ.get("NORTHSTAR_RAW_DIR", "data/raw")),
            warehouse=_resolve(
                project, os.environ.get("NORTHSTAR_DUCKDB_PATH", "warehouse/northstar.duckdb")
            ),
            snapshots_dir=_resolve(
                project, os.environ.get("NORTHSTAR_SNAPSHOTS_DIR", "warehouse/snapshots")
            ),
            profiles_dir=_resolve(project, os.environ.get("DBT_PROFILES_DIR", ".")),
            target_dir=_resolve(project, os.environ.get("DBT_TARGET_PATH", "target")),
        )

    def as_dict(self) -> dict[str, str]:
        return {key: str(value) for key, value in asdict(self).items()}

    def dbt_env(self) -> dict[str, str]:
        """Environment for a dbt subprocess: absolute paths, so dbt's cwd does not matter."""
        env = dict(os.environ)
        env.update(
            NORTHSTAR_RAW_DIR=str(self.raw_dir),
            NORTHSTAR_DUCKDB_PATH=str(self.warehouse),
            DBT_PROFILES_DIR=str(self.profiles_dir),
            DBT_TARGET_PATH=str(self.target_dir),
        )
        if not env.get("NORTHSTAR_AS_OF"):
            demo_as_of = demo_data_as_of(self.raw_dir)
            if demo_as_of:
                env["NORTHSTAR_AS_OF"] = demo_as_of
        return env


def demo_data_as_of(raw_dir: Path) -> str | None:
    """The clock of generated demo data: midnight after its last day.

    Demo events end on a fixed date, so "now" would make every period since then look
    empty and turn planted future-dated defects into accepted events. Real data has no
    generator manifest and keeps the real clock (or NORTHSTAR_AS_OF when set).
    """
    try:
        manifest = json.loads((raw_dir / "_manifest.json").read_text())
        if manifest.get("generator") != "northstar.demo":
            return None
        if manifest.get("as_of"):  # written since the feed became appendable; moves on append
            return str(manifest["as_of"])
        params = manifest["params"]
        end = date.fromisoformat(params["start_date"]) + timedelta(days=int(params["days"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return f"{end.isoformat()}T00:00:00"
