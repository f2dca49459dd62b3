"""Where things live: the dbt project, the warehouse file, the raw data, the snapshots.

Every location can be moved with an environment variable, so a scheduler or a test can
point northstar at another warehouse or data directory without editing files. dbt reads
the same variables (profiles.yml, dbt_project.yml), which keeps the two sides in step.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# dbt_project.yml's default for $NORTHSTAR_RAW_DIR, relative to the project directory.
DEFAULT_RAW_DIR = "data/raw"


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
            raw_dir=_resolve(project, os.environ.get("NORTHSTAR_RAW_DIR", DEFAULT_RAW_DIR)),
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
        """Environment for a dbt subprocess (run in the project directory).

        Only locations: everything that changes a number (the reference time included,
        macro northstar_reference_time) is resolved by dbt itself, so a scheduler's plain
        `dbt build` writes the same tables. The raw directory is passed only when it is not
        dbt's own default, because dbt records the path it read in `raw_file`.
        """
        env = dict(os.environ)
        env.update(
            NORTHSTAR_DUCKDB_PATH=str(self.warehouse),
            DBT_PROFILES_DIR=str(self.profiles_dir),
            DBT_TARGET_PATH=str(self.target_dir),
        )
        if self.raw_dir != _resolve(self.project_dir, DEFAULT_RAW_DIR):
            env["NORTHSTAR_RAW_DIR"] = str(self.raw_dir)
        return env
