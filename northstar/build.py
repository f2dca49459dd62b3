"""`northstar build`: the pipeline a scheduler runs - dbt build, validation, publish.

One warehouse lock covers the three steps, so two builds started at once never write the
same DuckDB file together: the second waits up to `--wait` seconds and then exits with a
clear message (exit 3). Readers are unaffected: they read the published snapshot, never
the warehouse file dbt is writing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from northstar.dbt_profile import ProfileTarget, check_profile
from northstar.dbt_runner import LOCK_ERROR, DbtError, run_dbt
from northstar.errors import (
    BusyError,
    NorthstarError,
    PipelineError,
)
from northstar.paths import Paths
from northstar.publish.locks import file_lock, warehouse_lock_path
from northstar.publish.publisher import DEFAULT_KEEP, PublishResult, Validator, publish
from northstar.publish.targets import snapshot_storage_version

Progress = Callable[[str], None]
DbtRunner = Callable[..., Any]


@dataclass
class BuildResult:
    target: ProfileTarget
    published: PublishResult | None = None
    seconds: dict[str, float] = field(default_factory=dict)


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
