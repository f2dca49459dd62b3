"""The snapshot directory: versioned snapshots and the `current` pointer.

Layout (root = $NORTHSTAR_SNAPSHOTS_DIR, default warehouse/snapshots):

    <root>/<run_id>/northstar.duckdb     the public tables, main schema
    <root>/<run_id>/parquet/<table>.parquet
    <root>/<run_id>/csv/<table>.csv
    <root>/<run_id>/manifest.json        written last: a directory without it is not a snapshot
    <root>/current -> <run_id>           relative symlink, the one pointer readers follow
    <root>/.tmp-<run_id>/                a snapshot being written (never read)
    <root>/.lock                         held while publishing, rolling back or pruning

Why a symlink rather than a CURRENT file: a BI tool can be pointed once at
`<root>/current/northstar.duckdb` and needs no northstar code to find the newest snapshot.
The switch is `symlink(tmp)` + `rename(tmp, current)`: rename(2) replaces the old link
atomically, so a reader sees the old target or the new one, never a missing or half-made
pointer. Readers resolve the link once and then read files inside that one directory.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from northstar.errors import InvalidInputError, NotFoundError

MANIFEST = "manifest.json"
DATABASE = "northstar.duckdb"
CURRENT = "current"
LOCK = ".lock"
TMP_PREFIX = ".tmp-"
TRASH_PREFIX = ".trash-"
LINK_PREFIX = ".current-"

# Generated ids look like 20261005T120301Z-3fa2c1. User-typed ids must at least look like a
# plain directory name (no separators, no dot-dot) before they are compared to the listing.
RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def new_run_id(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def check_run_id(run_id: str) -> str:
    if not RUN_ID_PATTERN.fullmatch(run_id or ""):
        shown = run_id if len(run_id) <= 80 else run_id[:77] + "..."
        raise InvalidInputError(
            f"not a snapshot id: {shown!r} (ids look like 20261005T120301Z-3fa2c1; "
            "see `northstar snapshots`)"
        )
    return run_id


def fsync_path(path: Path) -> None:
    """Flush a file or a directory entry to disk (directories: so a rename survives a crash)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(path: Path) -> None:
    for directory, _dirs, files in os.walk(path):
        for name in files:
            fsync_path(Path(directory) / name)
        fsync_path(Path(directory))


@dataclass(frozen=True)
class Snapshot:
    run_id: str
    path: Path
    manifest: dict[str, Any] = field(repr=False)
    is_current: bool = False

    @property
    def database(self) -> Path:
        return self.path / DATABASE

    @property
    def published_at(self) -> str:
        return str(self.manifest.get("published_at", ""))

    def size_bytes(self) -> int:
        return sum(entry.get("bytes", 0) for entry in self.manifest.get("files", {}).values())


class SnapshotStore:
    def __init__(self, root: Path):
        self.root = root

    @property
    def lock_path(self) -> Path:
        return self.root / LOCK

    @property
    def current_link(self) -> Path:
        return self.root / CURRENT

    def _load(self, run_id: str, current: str | None) -> Snapshot | None:
        path = self.root / run_id
        try:
            manifest = json.loads((path / MANIFEST).read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(manifest, dict) or manifest.get("run_id") != run_id:
            return None
        return Snapshot(run_id, path, manifest, is_current=run_id == current)

    def current_run_id(self) -> str | None:
        try:
            target = os.readlink(self.current_link)
        except (FileNotFoundError, OSError):
            return None
        return target if RUN_ID_PATTERN.fullmatch(target) else None

    def list(self) -> list[Snapshot]:
        """Complete snapshots, oldest first."""
        if not self.root.is_dir():
            return []
        current = self.current_run_id()
        found = []
        for entry in self.root.iterdir():
            if entry.is_symlink() or not entry.is_dir() or not RUN_ID_PATTERN.fullmatch(entry.name):
                continue
            snapshot = self._load(entry.name, current)
            if snapshot is not None:
                found.append(snapshot)
        return sorted(found, key=lambda snap: (snap.published_at, snap.run_id))

    def get(self, run_id: str) -> Snapshot:
        check_run_id(run_id)
        for snapshot in self.list():
            if snapshot.run_id == run_id:
                return snapshot
        raise NotFoundError(f"no snapshot {run_id!r} in {self.root} (see `northstar snapshots`)")

    def current(self) -> Snapshot:
        run_id = self.current_run_id()
        if run_id is None:
            raise NotFoundError(
                f"no snapshot published yet in {self.root}: "
                "run `northstar build` (or `northstar publish` after a dbt build)"
            )
        snapshot = self._load(run_id, run_id)
        if snapshot is None:
            raise NotFoundError(
                f"the current snapshot {run_id!r} in {self.root} is missing or incomplete: "
                "run `northstar rollback` to switch to an earlier one"
            )
        return snapshot

    def resolve(self, run_id: str | None = None) -> Snapshot:
        """The snapshot a reader should open: the named one, else the current one."""
        # `is not None`: an empty id (an unset $RUN_ID) is refused, not read as "current".
        return self.get(run_id) if run_id is not None else self.current()

    # --- writers: call only while holding the store lock -----------------------------

    def temp_dir(self, run_id: str) -> Path:
        return self.root / f"{TMP_PREFIX}{run_id}"

    def clean_leftovers(self) -> list[str]:
        """Remove what a crashed publish left behind (safe: the caller holds the lock)."""
        removed = []
        if not self.root.is_dir():
            return removed
        for entry in self.root.iterdir():
            if entry.name.startswith((TMP_PREFIX, TRASH_PREFIX)) and entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry.name)
            elif entry.name.startswith(LINK_PREFIX) and entry.is_symlink():
                entry.unlink()
                removed.append(entry.name)
        return removed

    def commit(self, temp: Path, run_id: str) -> Path:
        """Move a fully written, fsynced snapshot into place (not yet current)."""
        final = self.root / run_id
        os.rename(temp, final)
        fsync_path(self.root)
        return final

    def switch(self, run_id: str) -> None:
        """Point `current` at `run_id` atomically."""
        link = self.root / f"{LINK_PREFIX}{os.getpid()}-{secrets.token_hex(3)}"
        os.symlink(run_id, link)
        os.replace(link, self.current_link)
        fsync_path(self.root)

    def previous_of(self, snapshot: Snapshot) -> str | None:
        """The snapshot that was current when `snapshot` was published (its manifest's
        `previous_run_id`): where `rollback` goes from it."""
        previous = snapshot.manifest.get("previous_run_id")
        return (
            previous if isinstance(previous, str) and RUN_ID_PATTERN.fullmatch(previous) else None
        )

    def lineage(self, snapshots: list[Snapshot] | None = None) -> list[Snapshot]:
        """The way back from the current snapshot, current first: each one's previous,
        as long as it is still there. This is the path repeated rollbacks walk."""
        by_id = {snap.run_id: snap for snap in (self.list() if snapshots is None else snapshots)}
        chain: list[Snapshot] = []
        run_id = self.current_run_id()
        while run_id in by_id and by_id[run_id] not in chain:
            chain.append(by_id[run_id])
            run_id = self.previous_of(by_id[run_id])
        return chain

    def rollback_target(self) -> str | None:
        """The snapshot `rollback` (no RUN_ID) switches to, if it is still there."""
        chain = self.lineage()
        return chain[1].run_id if len(chain) > 1 else None

    def prune(self, keep: int) -> list[str]:
        """Delete all snapshots but `keep`; the current one and the one `rollback` returns
        to are kept whatever `keep` says, then the rest of the way back, then the newest.

        Why the way back before the newest: after `rollback` to an older A and a publish,
        A is what the next rollback returns to; the snapshot rolled away from is newer
        but is not on the way back (docs/cli.md, Retention)."""
        snapshots = self.list()
        chain = self.lineage(snapshots)
        kept = [snap.run_id for snap in chain[:2]]
        for snap in [*chain[2:], *reversed(snapshots)]:
            if len(kept) >= keep:
                break
            if snap.run_id not in kept:
                kept.append(snap.run_id)
        removed = []
        for snap in snapshots:
            if snap.is_current or snap.run_id in kept:
                continue
            # Rename first, so a listing never shows a half-deleted snapshot.
            trash = self.root / f"{TRASH_PREFIX}{snap.run_id}"
            os.rename(snap.path, trash)
            shutil.rmtree(trash, ignore_errors=True)
            removed.append(snap.run_id)
        if removed:
            fsync_path(self.root)
        return removed
