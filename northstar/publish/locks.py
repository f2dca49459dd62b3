"""Advisory file locks so two builds (or a build and a publish) never interleave.

`fcntl.flock` is released by the kernel when the holder dies, so a `kill -9`d build never
leaves a stale lock behind (a pid file would). The holder writes who it is into the lock
file, so the one that has to wait can say who it is waiting for.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from northstar.errors import BusyError

POLL_SECONDS = 0.2


def _holder(path: Path) -> str:
    try:
        text = path.read_text().strip()
    except OSError:
        return ""
    return f" (held by {text})" if text else ""


@contextmanager
def file_lock(path: Path, *, wait: float = 0.0, what: str = "northstar") -> Iterator[int]:
    """Hold an exclusive lock on `path`; wait up to `wait` seconds, then raise BusyError.

    Yields the locked file descriptor: a child process given it (dbt) keeps the lock held
    until it exits too, even if this process is killed first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    waited = f" after waiting {wait:g}s" if wait > 0 else ""
                    raise BusyError(
                        f"another {what} is running{_holder(path)}{waited}; "
                        "try again later or pass --wait SECONDS"
                    ) from None
                time.sleep(POLL_SECONDS)
        started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {started}\n".encode(), 0)
        try:
            yield fd
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def warehouse_lock_path(warehouse: Path) -> Path:
    """One lock per warehouse file: dbt build, validation and the copy into a snapshot."""
    return warehouse.with_name(warehouse.name + ".lock")
