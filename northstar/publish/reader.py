"""Open the published snapshot for reading (query, metrics, digest, alerts, BI tools)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from northstar.errors import NorthstarError, NotFoundError
from northstar.paths import Paths
from northstar.publish.store import Snapshot, SnapshotStore


def resolve(paths: Paths | None = None, run_id: str | None = None) -> Snapshot:
    """The current snapshot (or the one named `run_id`), resolved once: a reader keeps
    reading this directory even if `current` is switched meanwhile."""
    paths = paths or Paths.discover()
    return SnapshotStore(paths.snapshots_dir).resolve(run_id)


def connect(snapshot: Snapshot | Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection: any number of readers, and never a lock on the warehouse."""
    database = snapshot.database if isinstance(snapshot, Snapshot) else snapshot
    if not database.is_file():
        raise NotFoundError(f"snapshot database {database} is missing")
    try:
        return duckdb.connect(str(database), read_only=True)
    except duckdb.Error as err:
        raise NorthstarError(f"cannot open snapshot database {database}: {err}") from err
