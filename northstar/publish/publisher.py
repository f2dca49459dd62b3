"""Publish: validate the warehouse, copy its public tables into a new snapshot, switch.

The order is what makes a crash harmless:

1. the whole snapshot (DuckDB file, Parquet, CSV, validation.json, then manifest.json) is
   written into `<root>/.tmp-<run_id>/` and fsynced;
2. the directory is renamed to `<root>/<run_id>/` (atomic; fsync of the root);
3. `current` is switched to it (atomic symlink replace; fsync of the root);
4. snapshots beyond N are pruned (never the current one, nor the one `rollback`
   returns to: store.SnapshotStore.prune).

A `kill -9` before 3 leaves `current` on the previous snapshot, untouched; a leftover
`.tmp-*` is removed by the next publish. Nothing is ever written inside an existing
snapshot, so a reader holding one open never sees it change.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from northstar.errors import (
    BusyError,
    NorthstarError,
    NotFoundError,
    ValidationFailedError,
    ValidationNotRunError,
)
from northstar.paths import Paths
from northstar.publish import manifest as manifests
from northstar.publish import versions as definition_versions
from northstar.publish.locks import file_lock, warehouse_lock_path
from northstar.publish.store import (
    MANIFEST,
    SnapshotStore,
    check_run_id,
    fsync_tree,
    new_run_id,
)
from northstar.publish.tables import PUBLIC_TABLES, PublicTable, quote_identifier, quote_literal
from northstar.publish.targets import (
    REQUIRED,
    TARGETS,
    ExportJob,
    get_writer,
    snapshot_storage_version,
)

DEFAULT_KEEP = 5
VALIDATION_FILE = "validation.json"

Hook = Callable[[str], None]
Progress = Callable[[str], None]
Validator = Callable[[Paths], Any]


@dataclass(frozen=True)
class PublishResult:
    run_id: str
    path: Path
    previous_run_id: str | None
    manifest: dict[str, Any]
    seconds: float
    pruned: list[str]

    @property
    def size_bytes(self) -> int:
        return sum(entry["bytes"] for entry in self.manifest["files"].values())


def default_validator(paths: Paths, variables: Mapping[str, Any] | None = None) -> Any:
    """The expectation-suite gate (northstar.validation), imported only when publishing.

    Why it cannot run becomes "validation cannot run: ..." with the cause's exit code (a
    missing warehouse or table is NOT_FOUND; suites out of date with the spec or an
    unreadable file is a configuration error); never "data invalid": the data was never
    checked. A warehouse open for writing is the BusyError publish reports for its own lock.
    `variables` are the dbt vars the build was given (`northstar build --vars`): the gate's
    settings come from the project's vars with those replacing them, as in dbt.
    """
    try:
        from northstar.validation import validate_warehouse
    except ImportError as err:
        raise NorthstarError(
            f"the validation gate is not available ({err}); publish with --skip-validation "
            "to publish without it (recorded in the manifest)"
        ) from err
    try:
        return validate_warehouse(
            paths.warehouse,
            None,
            project_dir=paths.project_dir,
            data_docs=False,
            variables=variables,
        )
    except BusyError:
        raise
    except NorthstarError as err:
        raise ValidationNotRunError(err) from err


def _built_spec(warehouse: Path) -> dict[str, Any] | None:
    """The normalized spec the warehouse was built with; None for one that recorded none
    (its definitions are then neither checked nor recorded). Read here, not through the
    validation package, so a publish without the gate imports none of it."""
    from northstar.spec import SPEC_COLUMN, SPEC_TABLE, spec_from_json

    source, catalog = _attach_warehouse(warehouse)
    try:
        schema, table = SPEC_TABLE.split(".")
        found = source.execute(
            "select count(*) from duckdb_columns() where database_name = ? "
            "and schema_name = ? and table_name = ? and column_name = ?",
            [catalog, schema, table, SPEC_COLUMN],
        ).fetchone()[0]
        if not found:
            return None
        rows = source.execute(
            f"select {SPEC_COLUMN} from {quote_identifier(catalog)}.{SPEC_TABLE}"  # noqa: S608
        ).fetchall()
    finally:
        source.close()
    return spec_from_json(rows[0][0]) if len(rows) == 1 else None


def _noop(_: str) -> None:
    return None


def _check_warehouse(warehouse: Path) -> None:
    if not warehouse.is_file():
        raise NotFoundError(
            f"no warehouse at {warehouse}: run `northstar build` (or `northstar demo`) first, "
            "or point NORTHSTAR_DUCKDB_PATH at your DuckDB file"
        )


def _attach_warehouse(warehouse: Path) -> tuple[duckdb.DuckDBPyConnection, str]:
    """An in-memory connection with the warehouse attached read-only.

    The warehouse is attached under its own file stem, DuckDB's default catalog name for
    it, so views that dbt created with fully qualified names still resolve.
    """
    catalog = warehouse.stem
    if catalog in {"memory", "system", "temp", "main"}:
        catalog = f"warehouse_{catalog}"
    source = duckdb.connect(":memory:")
    try:
        source.execute(
            f"attach {quote_literal(str(warehouse))} as {quote_identifier(catalog)} (read_only)"
        )
    except duckdb.IOException as err:
        source.close()
        if "lock" in str(err).lower():
            raise BusyError(
                f"the warehouse {warehouse} is open for writing by another process "
                "(a dbt build?): publish after it finishes"
            ) from err
        raise NorthstarError(f"cannot read the warehouse {warehouse}: {err}") from err
    except duckdb.Error as err:
        source.close()
        raise NorthstarError(f"cannot read the warehouse {warehouse}: {err}") from err
    return source, catalog


def _present_tables(
    source: duckdb.DuckDBPyConnection, catalog: str, warehouse: Path
) -> list[PublicTable]:
    found = {
        (schema, name)
        for schema, name in source.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = ? "
            "union all "
            "select schema_name, view_name from duckdb_views() where database_name = ?",
            [catalog, catalog],
        ).fetchall()
    }
    missing = [t.source for t in PUBLIC_TABLES if t.required and (t.schema, t.name) not in found]
    if missing:
        raise NotFoundError(
            f"the warehouse {warehouse} has no {', '.join(missing)}: "
            "run `northstar build` (dbt build) first"
        )
    return [t for t in PUBLIC_TABLES if (t.schema, t.name) in found]


def _data_as_of(source: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, Any]:
    """How recent the data is: the latest accepted event, and each grain's latest complete
    period in fct_metric_values."""
    cat = quote_identifier(catalog)
    has_events = source.execute(
        "select count(*) from duckdb_columns() where database_name = ? "
        "and schema_name = 'staging' and table_name = 'stg_events' and column_name = 'occurred_at'",
        [catalog],
    ).fetchone()[0]
    latest_event = None
    if has_events:
        latest_event = source.execute(
            f"select max(occurred_at) from {cat}.staging.stg_events"  # noqa: S608
        ).fetchone()[0]
    # The catalog is the warehouse's file stem, quoted: no user input reaches this SQL.
    sql = f"select grain, max(period_start), max(period_end) from {cat}.marts.fct_metric_values"  # noqa: S608
    periods = source.execute(
        sql + " where is_complete_period group by grain order by grain"
    ).fetchall()
    return {
        "latest_event_at": manifests.json_value(latest_event),
        "latest_complete_period": {
            grain: {"period_start": start.isoformat(), "period_end": end.isoformat()}
            for grain, start, end in periods
        },
    }


def _validate(
    paths: Paths, validator: Validator | None, skip: bool, progress: Progress
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Run the gate; return the manifest's `validation` entry and the full result."""
    if skip:
        progress(
            "WARNING: publishing WITHOUT validation (--skip-validation); "
            "the manifest records that this snapshot was not validated"
        )
        return {"status": "skipped", "success": None, "summary": "validation skipped"}, None
    progress("validating the warehouse (expectation suites)")
    started = time.monotonic()
    result = (validator or default_validator)(paths)
    summary = result.summary_text()
    progress(
        f"validation {'passed' if result.success else 'FAILED'} "
        f"in {time.monotonic() - started:.1f}s"
    )
    if not result.success:
        raise ValidationFailedError(
            "validation failed: nothing was published and the current snapshot is unchanged",
            result,
            details=summary,
        )
    return {"status": "passed", "success": True, "summary": summary}, result.to_dict()


def publish(
    paths: Paths | None = None,
    *,
    validator: Validator | None = None,
    skip_validation: bool = False,
    keep: int = DEFAULT_KEEP,
    exports: list[str] | None = None,
    wait: float = 0.0,
    lock_warehouse: bool = True,
    hook: Hook | None = None,
    progress: Progress | None = None,
    now: Callable[[], datetime] | None = None,
    storage_version: str | None = None,
    accept_restatement: bool = False,
    restatement_tolerance: float | None = None,
) -> PublishResult:
    """Validate the warehouse and publish it as the new current snapshot.

    `lock_warehouse=False` is for a caller that already holds the warehouse lock
    (`northstar build`). `hook(step)` is called between steps (tests kill the process there).
    `storage_version` is the DuckDB file format of the snapshot (default:
    $NORTHSTAR_SNAPSHOT_STORAGE_VERSION, else one DuckDB 1.x readers open).
    `accept_restatement` acknowledges every restatement of a bumped metric beyond
    `restatement_tolerance` (default: $NORTHSTAR_RESTATEMENT_TOLERANCE, else 1%); see
    northstar/publish/versions.py.
    """
    paths = paths or Paths.discover()
    if keep < 1:
        raise NorthstarError(f"--keep must be at least 1 (got {keep})")
    storage_version = snapshot_storage_version(storage_version)
    limit = definition_versions.tolerance(restatement_tolerance)
    _check_warehouse(paths.warehouse)
    if lock_warehouse:
        with file_lock(warehouse_lock_path(paths.warehouse), wait=wait, what="build or publish"):
            return publish(
                paths,
                validator=validator,
                skip_validation=skip_validation,
                keep=keep,
                exports=exports,
                wait=wait,
                lock_warehouse=False,
                hook=hook,
                progress=progress,
                now=now,
                storage_version=storage_version,
                accept_restatement=accept_restatement,
                restatement_tolerance=limit,
            )
    hook = hook or _noop
    progress = progress or _noop
    clock = now or (lambda: datetime.now(UTC))
    names = [name for name in TARGETS if name in (exports or list(TARGETS)) or name == REQUIRED]
    started = time.monotonic()

    store = SnapshotStore(paths.snapshots_dir)
    # Before the gate, so a definition changed without a bump fails at once; again under
    # the lock below, against the snapshot that is current then.
    spec = _built_spec(paths.warehouse)
    definition_versions.plan(spec, store)
    validation, details = _validate(paths, validator, skip_validation, progress)
    hook("validated")

    store.root.mkdir(parents=True, exist_ok=True)
    with file_lock(store.lock_path, wait=wait, what="publish or rollback"):
        for leftover in store.clean_leftovers():
            progress(f"removed {leftover} left by an interrupted publish")
        # Only a snapshot that is really there is recorded as the way back (a dangling
        # `current` is not): `rollback` follows this, and publish prints it.
        previous = store.current_run_id()
        if previous is not None and previous not in {snap.run_id for snap in store.list()}:
            previous = None
        versions_plan = definition_versions.plan(spec, store)
        published_at = clock()
        run_id = new_run_id(published_at)
        temp = store.temp_dir(run_id)
        temp.mkdir()
        try:
            source, catalog = _attach_warehouse(paths.warehouse)
            try:
                tables = _present_tables(source, catalog, paths.warehouse)
                as_of = _data_as_of(source, catalog)
                has_previous = definition_versions.attach_previous(source, versions_plan)
                restated = (
                    definition_versions.restatements(source, catalog, versions_plan)
                    if has_previous
                    else []
                )
                # Refused: the error carries the diff. Accepted: the build output shows it.
                definition_versions.gate(
                    restated, versions_plan, limit=limit, accept_flag=accept_restatement
                )
                for entry in restated:
                    for line in definition_versions.describe(entry):
                        progress(line)
                    progress(f"  accepted: {entry['accepted_by']}")
                tables = [
                    *tables,
                    definition_versions.build_history(
                        source, catalog, versions_plan, has_previous, run_id
                    ),
                ]
                progress(f"writing snapshot {run_id} ({', '.join(names)})")
                info = {
                    "run_id": run_id,
                    "published_at": published_at.isoformat(),
                    "latest_event_at": as_of["latest_event_at"],
                    "validation_status": validation["status"],
                    "northstar_version": manifests.versions()["northstar"],
                }
                files: list[Path] = []
                for name in names:
                    step_started = time.monotonic()
                    job = ExportJob(
                        source=source,
                        source_catalog=catalog,
                        tables=tables,
                        out_dir=temp,
                        on_table=lambda table, name=name: hook(f"table:{name}:{table}"),
                        info=info,
                        storage_version=storage_version,
                    )
                    files += get_writer(name)(job)
                    elapsed = time.monotonic() - step_started
                    progress(f"wrote {name}: {len(tables)} tables in {elapsed:.1f}s")
                    hook(f"written:{name}")
                table_info = manifests.table_entries(source, catalog, tables)
                metrics = manifests.metric_definitions(source, catalog)
            finally:
                source.close()

            if details is not None:
                (temp / VALIDATION_FILE).write_text(
                    json.dumps(details, indent=2, sort_keys=True, default=str) + "\n"
                )
                files.append(temp / VALIDATION_FILE)
                validation = {**validation, "details_file": VALIDATION_FILE}
            manifest = {
                "manifest_version": manifests.MANIFEST_VERSION,
                "run_id": run_id,
                "published_at": published_at.isoformat(),
                "previous_run_id": previous,
                "data_as_of": as_of,
                "validation": validation,
                "validation_skipped": skip_validation,
                "source": {
                    "warehouse": str(paths.warehouse),
                    "dbt": manifests.dbt_run_info(paths.target_dir),
                },
                "versions": manifests.versions(),
                "exports": names,
                # Which DuckDB releases can open northstar.duckdb (docs/bi-tools.md).
                "duckdb_storage_version": storage_version,
                "tables": table_info,
                "files": manifests.file_entries(temp, files),
                "metrics": metrics,
                # The record the next publish compares definitions with, and what this
                # one restated (docs/definition-versions.md).
                "definitions": versions_plan.definitions,
                "restatements": restated,
            }
            manifests.write_manifest(temp / MANIFEST, manifest)
            fsync_tree(temp)
            hook("manifest")

        except BaseException:
            # An error (not a kill) cleans up at once; a kill leaves it to the next publish.
            shutil.rmtree(temp, ignore_errors=True)
            raise

        final = store.commit(temp, run_id)
        hook("committed")
        store.switch(run_id)
        hook("switched")
        pruned = store.prune(keep)
        hook("pruned")
    return PublishResult(
        run_id=run_id,
        path=final,
        previous_run_id=previous,
        manifest=manifest,
        seconds=time.monotonic() - started,
        pruned=pruned,
    )


def rollback(
    paths: Paths | None = None, run_id: str | None = None, *, wait: float = 0.0
) -> tuple[str | None, str]:
    """Make `run_id` current; by default the current snapshot's previous one (the snapshot
    that was current when it was published), so repeated rollbacks undo publishes one by
    one. Returns (previous current, new current)."""
    if run_id is not None:
        check_run_id(run_id)  # a malformed id is refused before anything is touched
    paths = paths or Paths.discover()
    store = SnapshotStore(paths.snapshots_dir)
    with file_lock(store.lock_path, wait=wait, what="publish or rollback"):
        snapshots = store.list()
        if not snapshots:
            raise NotFoundError(f"no snapshots in {store.root}: nothing to roll back to")
        current = store.current_run_id()
        if run_id is None:
            ids = {snap.run_id: snap for snap in snapshots}
            if current not in ids:
                raise NotFoundError(
                    f"the current snapshot {current!r} is missing: name the snapshot to switch "
                    "to (`northstar snapshots` lists them)"
                )
            previous = store.previous_of(ids[current])
            if previous is None:
                raise NotFoundError(
                    f"{current} is the oldest snapshot: there is nothing earlier to roll back to"
                )
            if previous not in ids:
                raise NotFoundError(
                    f"the snapshot before {current}, {previous}, is no longer there: name the "
                    "snapshot to switch to (`northstar snapshots` lists them)"
                )
            run_id = previous
        else:
            store.get(run_id)
        store.switch(run_id)
    return current, run_id


def verify(snapshot_dir: Path) -> list[str]:
    """Problems with a snapshot on disk (empty list: every file matches its checksum)."""
    try:
        manifest = json.loads((snapshot_dir / MANIFEST).read_text())
    except (OSError, ValueError) as err:
        return [f"manifest unreadable: {err}"]
    problems = []
    for relative, entry in manifest.get("files", {}).items():
        path = snapshot_dir / relative
        if not path.is_file():
            problems.append(f"{relative}: missing")
        elif manifests.sha256(path) != entry["sha256"]:
            problems.append(f"{relative}: checksum differs")
    return problems
