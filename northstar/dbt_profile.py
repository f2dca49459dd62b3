"""Which target `dbt build` uses, and which DuckDB file it writes, asked of dbt's own code.

Validation and publish must read the file dbt wrote, and northstar must know it before dbt
starts. dbt's profile reader and renderer run in this process with the environment the
dbt subprocess gets (Paths.dbt_env), so env_var(), var() and everything else in
profiles.yml resolve exactly as in `dbt build`. Importing dbt's config modules takes about
1.2 s; `dbt debug` or a `dbt run-operation` macro would be a 2-7 s subprocess that also
opens the warehouse.
"""

from __future__ import annotations

import contextvars
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from northstar.errors import InvalidInputError, NorthstarError, NotFoundError
from northstar.paths import Paths


@dataclass(frozen=True)
class ProfileTarget:
    """What profiles.yml says, rendered by dbt, about the target dbt will use."""

    profile: str
    target: str | None
    type: str | None
    # The DuckDB file the target writes: dbt-duckdb's `path`, relative to the project.
    path: Path | None
    # Why the DuckDB file is not known (publishing from a guess would read the wrong file).
    unresolved: str | None = None


def _one_line(err: Exception) -> str:
    """dbt's message without its header and line breaks (northstar errors are one line)."""
    return " ".join(str(getattr(err, "msg", None) or err).split())


def _unresolved(file: Path, field: str, raw: Any, reason: str) -> str:
    shown = "(not set)" if raw is None else f"= {raw!r}"
    return (
        f"{file}: {field} {shown} does not tell northstar which DuckDB file dbt builds "
        f"({reason}), and the snapshot is published from that file: give it a file dbt can "
        "render, or build with --no-publish"
    )


def _read_profiles(file: Path) -> Any:
    import yaml
    from dbt.config.profile import read_profile
    from dbt_common.exceptions import DbtBaseException

    try:
        return read_profile(str(file.parent))
    except (OSError, UnicodeDecodeError) as err:
        raise NorthstarError(
            f"cannot read {file}: {getattr(err, 'strerror', None) or err}"
        ) from err
    except DbtBaseException as err:
        # dbt wraps the YAML error twice in a multi-line message: say where, in one line.
        cause: BaseException | None = err
        while cause is not None and not isinstance(cause, yaml.YAMLError):
            cause = cause.__cause__ or cause.__context__
        mark = getattr(cause, "problem_mark", None)
        if mark is None:  # an empty file, say: dbt's message names the file
            raise NorthstarError(_one_line(err)) from err
        problem = getattr(cause, "problem", None) or "invalid syntax"
        raise NorthstarError(
            f"{file} is not valid YAML (line {mark.line + 1}, column {mark.column + 1}): {problem}"
        ) from err


class _Unrendered(Exception):
    """A profiles.yml value dbt cannot render; the message names the field."""


def _profile_name(paths: Paths) -> str:
    from dbt.config.project import load_raw_project
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.exceptions import DbtBaseException

    try:
        raw = load_raw_project(str(paths.project_dir)).get("profile")
        # dbt renders the name too (before the rest of dbt_project.yml).
        return str(ProfileRenderer({}).render_value(raw)) if raw is not None else "default"
    except DbtBaseException as err:
        raise NorthstarError(f"dbt_project.yml: {_one_line(err)}") from err


def _check_threads(file: Path, field: str, raw: Any, renderer: Any) -> None:
    """dbt takes any number here and fails on one below 1 with a Python traceback."""
    from dbt_common.exceptions import DbtBaseException

    if raw is None:  # dbt's default, 1
        return
    try:
        threads = renderer.render_value(raw)
    except DbtBaseException as err:
        cause = err.__cause__ if isinstance(err.__cause__, DbtBaseException) else err
        raise NorthstarError(f"{file}: {field} = {raw!r}: {_one_line(cause)}") from err
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise NorthstarError(
            f"{file}: {field} is {threads!r}: dbt needs a whole number of models to run "
            "at once, 1 or more (the shipped profile reads it from NORTHSTAR_DBT_THREADS)"
        )


def _render_target(paths: Paths, target: str | None, file: Path) -> ProfileTarget:
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context
    from dbt_common.exceptions import DbtBaseException

    # dbt's env_var() reads the invocation context: the environment dbt will run with.
    set_invocation_context(paths.dbt_env())
    profiles = _read_profiles(file)
    name = _profile_name(paths)
    profiles = profiles if isinstance(profiles, dict) else {}
    if not isinstance(profiles.get(name), dict):
        names = ", ".join(str(k) for k in profiles if k != "config")
        raise NorthstarError(
            f"{file} has no profile {name!r} (the profile dbt_project.yml uses); "
            f"profiles found: {names or 'none'}"
        )
    outputs = profiles[name].get("outputs")
    if not isinstance(outputs, dict) or not outputs:
        raise NorthstarError(f"{file}: profile {name!r} has no outputs (targets)")
    renderer = ProfileRenderer({})  # `northstar build` gives dbt no --vars

    def render(field: str, raw: Any) -> Any:
        # Field by field, as dbt renders each value: an error names the one that failed.
        try:
            return renderer.render_value(raw)
        except DbtBaseException as err:
            # The renderer's wrapper repeats the value; its cause says what is wrong.
            cause = err.__cause__ if isinstance(err.__cause__, DbtBaseException) else err
            why = f"dbt cannot render it: {_one_line(cause)}"
            raise _Unrendered(_unresolved(file, f"{name}.{field}", raw, why)) from err

    found = ProfileTarget(name, None, None, None)
    try:
        # A --target (or DBT_TARGET) is taken as given, as dbt does; the profile's is rendered.
        chosen = target or os.environ.get("DBT_TARGET")
        if not chosen:
            raw_target = profiles[name].get("target")
            chosen = str(render("target", raw_target)) if raw_target is not None else "default"
        if not isinstance(outputs.get(chosen), dict):
            raise NorthstarError(
                f"{file}: profile {name!r} has no target {chosen!r}; targets: {', '.join(outputs)}"
            )
        found = replace(found, target=chosen)
        output = outputs[chosen]
        found = replace(found, type=render(f"outputs.{chosen}.type", output.get("type")))
        _check_threads(file, f"{name}.outputs.{chosen}.threads", output.get("threads"), renderer)
        if found.type != "duckdb":
            return found
        field, raw_path = f"outputs.{chosen}.path", output.get("path")
        # dbt-duckdb's default path is an in-memory database.
        rendered = str(render(field, raw_path) if raw_path is not None else ":memory:")
    except _Unrendered as err:
        return replace(found, unresolved=str(err))
    if rendered.strip() in ("", ":memory:"):
        why = "dbt-duckdb then builds an in-memory database"
        return replace(found, unresolved=_unresolved(file, f"{name}.{field}", raw_path, why))
    # dbt runs in the project directory (dbt_runner), where DuckDB opens a relative path;
    # DuckDB expands a leading ~.
    path = Path(rendered).expanduser()
    return replace(found, path=path if path.is_absolute() else paths.project_dir / path)


def check_profile(paths: Paths, target: str | None) -> ProfileTarget:
    """The profile, target, type and DuckDB file `dbt build` will use, with what is wrong
    explained in one line before dbt starts (dbt's own is a long traceback-like log)."""
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
    # A copy of the context, so the environment set for dbt's renderer stays in this call.
    return contextvars.copy_context().run(_render_target, paths, target, file)
