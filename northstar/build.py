"""`northstar build`: the pipeline a scheduler runs - dbt build, validation, publish.

One warehouse lock covers the three steps, so two builds started at once never write the
same DuckDB file together: the second waits up to `--wait` seconds and then exits with a
clear message (exit 3). Readers are unaffected: they read the published snapshot, never
the warehouse file dbt is writing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from northstar.dbt_runner import DbtError, run_dbt
from northstar.paths import Paths
from northstar.publish.errors import NorthstarError, NotFoundError, PipelineError
from northstar.publish.locks import file_lock, warehouse_lock_path
from northstar.publish.publisher import DEFAULT_KEEP, PublishResult, Validator, publish

Progress = Callable[[str], None]
DbtRunner = Callable[..., Any]


@dataclass(frozen=True)
class ProfileTarget:
    """What profiles.yml says about the target dbt will use."""

    profile: str
    target: str | None
    type: str | None
    path: Path | None  # a DuckDB file named literally in the profile (no Jinja)


@dataclass
class BuildResult:
    target: ProfileTarget
    published: PublishResult | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def _profile_name(project_dir: Path) -> str:
    with (project_dir / "dbt_project.yml").open() as handle:
        return str(yaml.safe_load(handle).get("profile") or "default")


def check_profile(paths: Paths, target: str | None) -> ProfileTarget:
    """Read profiles.yml the way dbt will, and explain any problem before dbt starts
    (dbt's own message for a broken profile is a long traceback-like log)."""
    directory = paths.profiles_dir
    file = directory / "profiles.yml"
    if not directory.is_dir():
        raise NotFoundError(f"profiles directory {directory} does not exist (--profiles-dir)")
    if not file.is_file():
        raise NotFoundError(
            f"no profiles.yml in {directory}: dbt needs one there "
            "(copy profiles.example.yml, or pass --profiles-dir DIR)"
        )
    try:
        text = file.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise NorthstarError(
            f"cannot read {file}: {getattr(err, 'strerror', None) or err}"
        ) from err
    try:
        profiles = yaml.safe_load(text)
    except yaml.YAMLError as err:
        # One line: where, and what the parser expected (PyYAML's own text spans lines).
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise NorthstarError(f"{file} is not valid YAML{where}: {problem}") from err
    name = _profile_name(paths.project_dir)
    if not isinstance(profiles, dict) or not isinstance(profiles.get(name), dict):
        found = (
            ", ".join(k for k in (profiles or {}) if k != "config")
            if isinstance(profiles, dict)
            else ""
        )
        raise NorthstarError(
            f"{file} has no profile {name!r} (the profile dbt_project.yml uses); "
            f"profiles found: {found or 'none'}"
        )
    outputs = profiles[name].get("outputs")
    if not isinstance(outputs, dict) or not outputs:
        raise NorthstarError(f"{file}: profile {name!r} has no outputs (targets)")
    chosen = target or os.environ.get("DBT_TARGET") or profiles[name].get("target")
    if chosen is None or "{{" in str(chosen):
        return ProfileTarget(name, None, None, None)  # decided by Jinja at dbt run time
    if chosen not in outputs or not isinstance(outputs[chosen], dict):
        raise NorthstarError(
            f"{file}: profile {name!r} has no target {chosen!r}; targets: {', '.join(outputs)}"
        )
    output = outputs[chosen]
    raw_path = output.get("path")
    literal = isinstance(raw_path, str) and "{{" not in raw_path and raw_path != ":memory:"
    path = None
    if output.get("type") == "duckdb" and literal:
        path = Path(raw_path)
        path = path if path.is_absolute() else paths.project_dir / path
    return ProfileTarget(name, str(chosen), output.get("type"), path)


def run_build(
    paths: Paths | None = None,
    *,
    target: str | None = None,
    profiles_dir: Path | None = None,
    skip_validation: bool = False,
    publish_snapshot: bool = True,
    keep: int = DEFAULT_KEEP,
    exports: list[str] | None = None,
    wait: float = 0.0,
    dbt_args: Sequence[str] = (),
    validator: Validator | None = None,
    dbt: DbtRunner | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """dbt build -> validation -> publish, under the warehouse lock.

    Raises PipelineError (dbt failed, or another build holds the lock),
    ValidationFailedError (nothing published), NotFoundError / NorthstarError for
    configuration problems found before dbt starts.
    """
    paths = paths or Paths.discover()
    if profiles_dir is not None:
        paths = replace(paths, profiles_dir=profiles_dir.resolve())
    say = progress or (lambda _message: None)
    profile = check_profile(paths, target)
    if profile.path is not None:
        # The profile names its DuckDB file: publish from that file, not the default one.
        paths = replace(paths, warehouse=profile.path.resolve())
    if profile.type not in (None, "duckdb") and publish_snapshot:
        raise NorthstarError(
            f"target {profile.target!r} is a {profile.type} warehouse: snapshots are published "
            "from a DuckDB warehouse; run with --no-publish to build (and test) only"
        )
    result = BuildResult(target=profile)
    with file_lock(warehouse_lock_path(paths.warehouse), wait=wait, what="build"):
        say(
            f"==> [1/2] dbt build (profile {profile.profile}, target {profile.target or 'default'})"
        )
        started = time.monotonic()
        try:
            (dbt or run_dbt)(["build", *dbt_args], paths, target=target)
        except DbtError as err:
            raise PipelineError(
                f"dbt build failed (dbt exit code {err.returncode}; its output is above). "
                "Nothing was validated or published; the current snapshot is unchanged."
            ) from err
        except FileNotFoundError as err:
            raise PipelineError(str(err)) from err
        result.seconds["dbt_build"] = time.monotonic() - started
        say(f"dbt build done in {result.seconds['dbt_build']:.1f}s")

        if not publish_snapshot:
            say("==> [2/2] skipped: --no-publish (nothing validated or published)")
            return result
        say("==> [2/2] validate and publish")
        started = time.monotonic()
        result.published = publish(
            paths,
            validator=validator,
            skip_validation=skip_validation,
            keep=keep,
            exports=exports,
            wait=wait,
            lock_warehouse=False,
            progress=say,
        )
        result.seconds["validate_publish"] = time.monotonic() - started
    return result
