"""Run dbt as a subprocess of the project's own interpreter.

A subprocess (rather than dbt's in-process runner) keeps dbt's global state, logging and
DuckDB connections out of the CLI's process, so a failed build cannot leave a lock behind.

dbt must never outlive the northstar process that started it: the warehouse lock is
northstar's, and an orphaned dbt would go on writing the warehouse while a new build takes
the lock. So dbt runs in its own process group, is killed with it if northstar is
interrupted, and on Linux gets SIGKILL from the kernel when its parent dies even by
`kill -9` (PR_SET_PDEATHSIG). The lock file descriptor is also passed to dbt, so the lock
is held until dbt itself is gone (docs/cli.md, Two builds at once).

dbt's output is passed through line by line, and its last lines are kept, so a failure
can be told apart: a spec error (configuration, exit 1), a warehouse held by another
process (exit 3, said in one line), anything else (exit 3).
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from northstar.errors import PipelineError
from northstar.paths import Paths

TAIL_LINES = 400
PR_SET_PDEATHSIG = 1
# What the spec macros raise (macros/spec/northstar_spec.sql, northstar_spec_error).
SPEC_ERROR = re.compile(r"northstar spec: (?P<message>.+)")
# DuckDB's message when another process has the database file open.
LOCK_ERROR = re.compile(r"Could not set lock on file \"[^\"]*\": (?P<holder>.+)")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class DbtError(PipelineError):
    """dbt exited non-zero; `output` holds its last lines (without colour codes).

    Kept here, beside the dbt output it reads; `northstar build` turns it into a message
    of its own (a spec error, a held warehouse, a failed build)."""

    def __init__(self, args: Sequence[str], returncode: int, output: Sequence[str] = ()):
        super().__init__(f"dbt {' '.join(args)} failed with exit code {returncode}")
        self.returncode = returncode
        self.output = [ANSI.sub("", line).rstrip("\n") for line in output]

    def _find(self, pattern: re.Pattern[str], group: str) -> str | None:
        for line in self.output:
            found = pattern.search(line)
            if found:
                return found.group(group).strip()
        return None

    @property
    def spec_error(self) -> str | None:
        """`<field>: <problem> (got: <value>)` when the spec macros refused the spec."""
        return self._find(SPEC_ERROR, "message")

    @property
    def lock_holder(self) -> str | None:
        """DuckDB's words on who holds the warehouse file, when that is why dbt failed."""
        return self._find(LOCK_ERROR, "holder")


def dbt_executable() -> str:
    beside = Path(sys.executable).with_name("dbt")
    if beside.exists():
        return str(beside)
    found = shutil.which("dbt")
    if not found:
        raise FileNotFoundError("dbt is not installed here: run scripts/bootstrap.sh")
    return found


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn asking the kernel to SIGKILL the child when its parent dies (Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        # Loaded in the parent: dlopen after fork is not safe.
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl: nobody would kill us
            os._exit(1)

    return preexec


def _kill_group(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def run_dbt(
    args: Sequence[str],
    paths: Paths | None = None,
    *,
    vars_yaml: str | None = None,
    target: str | None = None,
    capture: bool = False,
    hold_fds: Sequence[int] = (),
) -> subprocess.CompletedProcess[str]:
    """Run `dbt <args>` in the project directory; raise DbtError when it fails.

    dbt's output goes to stdout as it comes (kept, not printed, with `capture`).
    `hold_fds` stay open in dbt (the warehouse lock: held until dbt is gone)."""
    paths = paths or Paths.discover()
    command = [dbt_executable(), *args]
    if vars_yaml:
        command += ["--vars", vars_yaml]
    if target is not None:
        command += ["--target", target]
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    kept: list[str] = []
    process = subprocess.Popen(
        command,
        cwd=paths.project_dir,
        env=paths.dbt_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
        preexec_fn=_die_with_parent(),
        pass_fds=tuple(hold_fds),
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            tail.append(line)
            if capture:
                kept.append(line)
            else:
                sys.stdout.write(line)
                sys.stdout.flush()
        returncode = process.wait()
    except BaseException:
        # Interrupted (Ctrl-C, SIGTERM handled as an exception, a closed stdout): dbt
        # must not go on writing the warehouse once the lock is released.
        _kill_group(process)
        raise
    if returncode != 0:
        if capture:
            sys.stderr.write("".join(tail)[-10000:])
        raise DbtError(args, returncode, list(tail))
    return subprocess.CompletedProcess(command, returncode, "".join(kept), "")
