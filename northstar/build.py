"""`northstar build`: the pipeline a scheduler runs - dbt build, validation, publish.

One warehouse lock covers the three steps, so two builds started at once never write the
same DuckDB file together: the second waits up to `--wait` seconds and then exits with a
clear message (exit 3). Readers are unaffected: they read the published snapshot, never
the warehouse file dbt is writing.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from northstar.dbt_runner import LOCK_ERROR, DbtError, run_dbt
from northstar.paths import Paths
from northstar.publish.errors import (
    BusyError,
    InvalidInputError,
    NorthstarError,
    NotFoundError,
    PipelineError,
)
from northstar.publish.locks import file_lock, warehouse_lock_path
from northstar.publish.publisher import DEFAULT_KEEP, PublishResult, Validator, publish
from northstar.publish.targets import snapshot_storage_version

Progress = Callable[[str], None]
DbtRunner = Callable[..., Any]


@dataclass(frozen=True)
class ProfileTarget:
    """What profiles.yml says about the target dbt will use."""

    profile: str
    target: str | None
    type: str | None
    # The DuckDB file the target writes, resolved as dbt resolves it (see profile_value).
    path: Path | None
    # Why the DuckDB file is not known (publishing from a guess would read the wrong file).
    unresolved: str | None = None


class ProfileValueError(ValueError):
    """A profiles.yml value northstar cannot evaluate; the message says why."""


def profile_value(text: str, env: Mapping[str, str]) -> str:
    """Render a profiles.yml value the way dbt does, for the Jinja profiles use: env_var().

    `env_var(name, default=None)` is dbt's: the variable from `env` (what the dbt
    subprocess sees), else the default, else an error. Anything else a template names
    (`var`, `target`, macros...) is undefined here and raises ProfileValueError, rather
    than northstar guessing a file dbt did not write.
    """
    from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError
    from jinja2.sandbox import SandboxedEnvironment

    def env_var(name: str, default: Any = None) -> Any:
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise ProfileValueError(f"environment variable {name!r} is not set and has no default")

    # A file path, not HTML: nothing to escape.
    jinja = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    jinja.globals = {"env_var": env_var}
    try:
        return jinja.from_string(text).render()
    except TemplateSyntaxError as err:
        raise ProfileValueError(f"not valid Jinja: {err.message}") from err
    except TemplateError as err:
        raise ProfileValueError(str(err)) from err


def _unresolved(file: Path, field: str, raw: Any, reason: str) -> str:
    shown = "(not set)" if raw is None else f"= {raw!r}"
    return (
        f"{file}: {field} {shown} does not tell northstar which DuckDB file dbt builds "
        f"({reason}), and the snapshot is published from that file: give a literal path or "
        "env_var('NAME', 'default') (the only Jinja northstar evaluates), or build with "
        "--no-publish"
    )


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
    if target is not None and not target.strip():
        # dbt would take an empty --target as "the profile's default": never what a
        # scheduler passing an unset $TARGET meant.
        raise InvalidInputError("--target: an empty target name; name one of profiles.yml")
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
    # dbt renders the target name first, then that target's values, with the environment
    # the dbt subprocess gets (dbt_runner: paths.dbt_env()).
    # A --target (or DBT_TARGET) is taken as given, as dbt does.
    env = paths.dbt_env()
    chosen = target or os.environ.get("DBT_TARGET")
    if not chosen:
        raw_target = profiles[name].get("target")
        try:
            chosen = profile_value(str(raw_target), env) if raw_target is not None else "default"
        except ProfileValueError as err:
            why = _unresolved(file, f"{name}.target", raw_target, str(err))
            return ProfileTarget(name, None, None, None, why)  # dbt decides (--no-publish)
    if chosen not in outputs or not isinstance(outputs[chosen], dict):
        raise NorthstarError(
            f"{file}: profile {name!r} has no target {chosen!r}; targets: {', '.join(outputs)}"
        )
    output = outputs[chosen]
    kind = output.get("type")
    if kind != "duckdb":
        return ProfileTarget(name, str(chosen), kind, None)
    field = f"{name}.outputs.{chosen}.path"
    raw_path = output.get("path")
    try:
        rendered = profile_value(str(raw_path), env) if raw_path is not None else ":memory:"
    except ProfileValueError as err:
        return ProfileTarget(
            name, str(chosen), kind, None, _unresolved(file, field, raw_path, str(err))
        )
    if rendered.strip() in ("", ":memory:"):
        why = _unresolved(file, field, raw_path, "dbt-duckdb then builds an in-memory database")
        return ProfileTarget(name, str(chosen), kind, None, why)
    # dbt runs in the project directory (dbt_runner), so a relative path is under it;
    # DuckDB expands a leading ~.
    path = Path(rendered).expanduser()
    path = path if path.is_absolute() else paths.project_dir / path
    return ProfileTarget(name, str(chosen), kind, path)


def held_message(warehouse: Path, holder: str) -> str:
    """One line for DuckDB's "Could not set lock on file": which process, and what to do."""
    found = re.search(r"held in (?P<program>.+?) \(PID (?P<pid>\d+)\)", holder)
    who = f"{found['program']}, PID {found['pid']}" if found else holder.split(". See also")[0]
    return (
        f"the warehouse {warehouse} is open in another process ({who}): dbt cannot write it. "
        "Close it (BI tools should read the published snapshot, not the warehouse) or wait "
        "for it to finish; nothing was built or published"
    )


def check_warehouse_free(warehouse: Path) -> None:
    """Raise BusyError when another process has the warehouse file open.

    DuckDB allows one writer or many readers: a BI tool or a leftover dbt holding the file
    makes `dbt build` fail after ~150 lines of traceback. Opening it for writing first
    (and closing at once) says so in one line before dbt starts."""
    if not warehouse.is_file():
        return
    import duckdb

    try:
        duckdb.connect(str(warehouse)).close()
    except duckdb.IOException as err:
        holder = LOCK_ERROR.search(str(err))
        if holder:
            raise BusyError(held_message(warehouse, holder.group("holder"))) from err
    except duckdb.Error:
        pass  # not a lock: dbt reports what is wrong with the file in its own words


def dbt_build_args(*, full_refresh: bool = False, skip_unit_tests: bool = False) -> list[str]:
    """The `dbt build` flags for the CLI's build options."""
    args = ["--full-refresh"] if full_refresh else []
    if skip_unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    return args


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
    if profile.path is not None and profile.path.resolve() != paths.warehouse.resolve():
        # Publish from the DuckDB file dbt writes, which is not the default one.
        paths = replace(paths, warehouse=profile.path.resolve())
    if profile.type not in (None, "duckdb") and publish_snapshot:
        raise NorthstarError(
            f"target {profile.target!r} is a {profile.type} warehouse: snapshots are published "
            "from a DuckDB warehouse; run with --no-publish to build (and test) only"
        )
    if profile.unresolved is not None and publish_snapshot:
        raise NorthstarError(profile.unresolved)
    if publish_snapshot:
        # A typo in the snapshot's file format fails now, not after a long dbt build.
        snapshot_storage_version()
    result = BuildResult(target=profile)
    with file_lock(warehouse_lock_path(paths.warehouse), wait=wait, what="build") as lock_fd:
        if profile.type == "duckdb" and profile.path is not None:
            check_warehouse_free(paths.warehouse)
        say(
            f"==> [1/2] dbt build (profile {profile.profile}, target {profile.target or 'default'})"
        )
        started = time.monotonic()
        try:
            if dbt is None:
                # dbt keeps the lock held until it exits, even if this process dies first.
                run_dbt(["build", *dbt_args], paths, target=target, hold_fds=(lock_fd,))
            else:
                dbt(["build", *dbt_args], paths, target=target)
        except DbtError as err:
            if err.spec_error:
                raise NorthstarError(
                    f"the North Star spec (vars.northstar) is invalid: {err.spec_error}; "
                    "nothing was built or published"
                ) from err
            if err.lock_holder:
                raise BusyError(held_message(paths.warehouse, err.lock_holder)) from err
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
