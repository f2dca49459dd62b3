"""The snapshot a request reads: the current one, followed without a restart.

Every request reads the `current` pointer (one readlink, no file opened) and serves the
snapshot it names. The read-only DuckDB connection of that snapshot is opened once and
shared (each request takes its own cursor, so threads never share one); when the pointer
moves (a publish, a rollback), the next request opens the new snapshot and the old
connection is closed as soon as the last request still reading it is done. A request
therefore reads one snapshot from start to end, even if a publish lands meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from northstar.errors import NorthstarError, NotFoundError
from northstar.publish import reader
from northstar.publish.store import Snapshot, SnapshotStore


class NoSnapshotError(NorthstarError):
    """Nothing to serve yet (no snapshot published, or `current` points at an incomplete
    one): the server is fine, the data is not there, so HTTP 503 rather than 404."""


@dataclass
class _Opened:
    snapshot: Snapshot
    con: duckdb.DuckDBPyConnection
    readers: int = 0
    retired: bool = False
    closed: bool = field(default=False, repr=False)

    def close_if_idle(self) -> None:
        if self.retired and self.readers == 0 and not self.closed:
            self.con.close()
            self.closed = True


@dataclass(frozen=True)
class Reading:
    """What one request reads: the snapshot and its own cursor on it."""

    snapshot: Snapshot
    con: duckdb.DuckDBPyConnection

    @property
    def run_id(self) -> str:
        return self.snapshot.run_id


class SnapshotSource:
    def __init__(self, snapshots_dir: Path):
        self.store = SnapshotStore(snapshots_dir)
        self._lock = threading.Lock()
        self._opened: _Opened | None = None
        self._retired: list[_Opened] = []  # replaced, still read by a request in flight
        self.opened_count = 0  # how many snapshots were opened (the tests read it)

    def current_run_id(self) -> str | None:
        """The id `current` points at now, without opening anything: what an ETag is
        checked against before any query runs."""
        return self.store.current_run_id()

    def _open_current(self) -> _Opened:
        # Called under the lock. The pointer is read again here (not the id read before
        # the lock): the snapshot opened is the one its manifest says is complete.
        try:
            snapshot = self.store.current()
        except NotFoundError as err:
            raise NoSnapshotError(str(err)) from None
        opened = _Opened(snapshot, reader.connect(snapshot))
        self.opened_count += 1
        return opened

    @contextmanager
    def reading(self) -> Iterator[Reading]:
        with self._lock:
            held = self._opened
            if held is None or held.snapshot.run_id != self.current_run_id():
                fresh = self._open_current()
                if held is not None:
                    self._retire(held)
                self._opened = held = fresh
            held.readers += 1
        try:
            cursor = held.con.cursor()
            try:
                yield Reading(held.snapshot, cursor)
            finally:
                cursor.close()
        finally:
            with self._lock:
                held.readers -= 1
                held.close_if_idle()
                self._retired = [old for old in self._retired if not old.closed]

    def _retire(self, opened: _Opened) -> None:
        opened.retired = True
        opened.close_if_idle()
        if not opened.closed:
            self._retired.append(opened)

    def close(self) -> None:
        """Close the open snapshot (at shutdown; a request still reading finishes first)."""
        with self._lock:
            if self._opened is not None:
                self._retire(self._opened)
                self._opened = None

    @property
    def open_connections(self) -> int:
        """Snapshots held open: 1 between switches (an old one stays open only while a
        request started before the switch is still reading it)."""
        with self._lock:
            live = [self._opened, *self._retired]
            return sum(1 for opened in live if opened is not None and not opened.closed)
