"""`northstar build`: the pipeline a scheduler runs - dbt build, validation, publish.

One warehouse lock covers the three steps, so two builds started at once never write the
same DuckDB file together: the second waits up to `--wait` seconds and then exits with a
clear message (exit 3). Readers are unaffected: they read the published snapshot, never
the warehouse file dbt is writing.

Between dbt and the gate, the files generated from the spec (semantic YAML, expectation
suites) are compared with the spec the warehouse was just built with and regenerated when
they belong to another one (northstar/generated.py), so a `--spec` or an edited spec is
one step. A dbt parse that fails on dbt's saved parse state is retried once from scratch.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
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
from northstar.generated import GeneratedFiles, forget_partial_parse, stale_message
from northstar.paths import Paths
from northstar.project_vars import vars_argument
from northstar.publish.locks import file_lock, warehouse_lock_path
from northstar.publish.publisher import (
    DEFAULT_KEEP,
    PublishResult,
    Validator,
    default_validator,
    publish,
)
from northstar.publish.targets import snapshot_storage_version

Progress = Callable[[str], None]
DbtRunner = Callable[..., Any]


@dataclass
class BuildResult:
    target: ProfileTarget
    published: PublishResult | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    regenerated: list[str] = field(default_factory=list)  # generated files rewritten


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


def warm_validation() -> threading.Thread:
    """Import the validation gate in the background: Great Expectations alone takes about
    3 s of CPU to import, which a build would otherwise pay after dbt, on its critical path.
    dbt runs in a subprocess meanwhile, mostly on one core (its threads share a GIL), so the
    import overlaps it; the gate's own import then finds the modules loaded (or waits for
    this one to finish, under Python's import lock)."""

    def load() -> None:
        # a broken install fails the gate's own import later, with its message in order
        with contextlib.suppress(Exception):
            import northstar.validation.gx  # noqa: F401

    thread = threading.Thread(target=load, name="northstar-warm-validation", daemon=True)
    thread.start()
    return thread


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
    variables: Mapping[str, Any] | None = None,
    regenerate: bool = True,
    validator: Validator | None = None,
    dbt: DbtRunner | None = None,
    progress: Progress | None = None,
    accept_restatement: bool = False,
    restatement_tolerance: float | None = None,
) -> BuildResult:
    """dbt build -> validation -> publish, under the warehouse lock.

    `variables` go to dbt as `--vars` and to the gate's settings. `regenerate`: rewrite
    the generated files when they belong to another spec (else refuse, naming the command).

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
        warming = None
        if dbt is None:
            # Also without publishing: the generated-files check after dbt builds the
            # suites, which needs the same import.
            warming = warm_validation()
        started = time.monotonic()
        vars_args = vars_argument(variables) if variables else []

        def run(args: list[str]) -> None:
            if dbt is None:
                # dbt keeps the lock held until it exits, even if this process dies first.
                run_dbt([*args, *vars_args], paths, target=target, hold_fds=(lock_fd,))
            else:
                dbt([*args, *vars_args], paths, target=target)

        try:
            _build_with_fresh_parse(run, ["build", *dbt_args], paths, say)
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
        if warming is not None:
            # Two threads importing one package can meet a module the other has only half
            # initialised (seen when dbt returned at once); the gate starts after the warm-up.
            warming.join()
        result.regenerated = _sync_generated(
            paths, profile, variables, regenerate=regenerate, run=run, say=say
        )

        if not publish_snapshot:
            say("==> [2/2] skipped: --no-publish (nothing validated or published)")
            return result
        say("==> [2/2] validate and publish")
        started = time.monotonic()
        if validator is None and variables:
            validator = functools.partial(default_validator, variables=variables)
        result.published = publish(
            paths,
            validator=validator,
            skip_validation=skip_validation,
            keep=keep,
            exports=exports,
            wait=wait,
            lock_warehouse=False,
            progress=say,
            accept_restatement=accept_restatement,
            restatement_tolerance=restatement_tolerance,
        )
        result.seconds["validate_publish"] = time.monotonic() - started
    return result


# dbt's message when a YAML file cannot be parsed into the manifest; after a generated
# file lost a metric, dbt 1.11's partial parse reports it for a metric no file declares.
PARSING_ERROR = "Parsing Error"


def _build_with_fresh_parse(
    run: Callable[[list[str]], None], args: list[str], paths: Paths, say: Progress
) -> None:
    """`dbt build`; when it fails to parse and dbt had saved parse state, once more from a
    full parse, so stale parse state can never break a build (a real parse error fails
    the second time too, with dbt's own message)."""
    try:
        run(args)
    except DbtError as err:
        parse_failed = any(PARSING_ERROR in line for line in err.output)
        if not parse_failed or not forget_partial_parse(paths.target_dir):
            raise
        say("dbt could not parse with its saved parse state; parsing the project again in full")
        run(args)


def _sync_generated(
    paths: Paths,
    profile: ProfileTarget,
    variables: Mapping[str, Any] | None,
    *,
    regenerate: bool,
    run: Callable[[list[str]], None],
    say: Progress,
) -> list[str]:
    """Bring the generated files in step with the spec the warehouse was built with (and
    print the spec lint's warnings).

    On DuckDB the built spec is read from the warehouse (no dbt call); on other engines it
    is asked of dbt (`load_spec`, the same vars). After a rewrite, `dbt parse` refreshes
    the semantic manifest MetricFlow reads, so nothing downstream sees the old spec's
    metrics."""
    from northstar.lint import lint_warning_lines
    from northstar.spec import SPEC_TABLE, load_spec
    from northstar.validation.runner import built_spec

    if profile.type in (None, "duckdb"):
        spec = built_spec(paths.warehouse) if paths.warehouse.is_file() else None
        if spec is None:
            # Only a build that skipped the model leaves no record; the gate says more.
            say(f"no {SPEC_TABLE} in the warehouse: the generated files were not checked")
            return []
    else:
        spec = load_spec(paths.project_dir, variables=variables)
    # The spec lint warns and goes on (docs/spec.md, "Lint"): said here, where the built
    # spec is in hand.
    for line in lint_warning_lines(spec):
        say(line)
    files = GeneratedFiles.from_spec(spec, paths.project_dir, variables)
    stale = files.stale(paths.project_dir)
    if not stale:
        return []
    if not regenerate:
        raise NorthstarError(stale_message(stale, with_options=bool(variables)))
    files.write(paths.project_dir, paths.target_dir)
    say(f"regenerated from this build's spec: {', '.join(stale)}")
    run(["parse"])
    return stale
