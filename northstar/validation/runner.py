"""Run the committed expectation suites on a warehouse: the gate before anything is published.

`validate_warehouse` is the plain function other code calls (publish, build); the
`northstar validate` command is a thin wrapper over it. It fails when the data is wrong.
A guardrail in breach is the product being unhealthy, not the data being wrong: it is
listed in the result for information and never changes `success`.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from northstar.errors import ColumnsNotFoundError, SpecError, SuitesError, TablesNotFoundError
from northstar.latest import read_latest
from northstar.paths import find_project_dir
from northstar.project_vars import load_vars
from northstar.spec import SPEC_COLUMN, SPEC_TABLE, load_spec, spec_from_json
from northstar.validation import frames
from northstar.validation.result import SuiteOutcome, ValidationResult, outcomes_from_gx
from northstar.validation.settings import ValidationSettings
from northstar.validation.suite_files import differences, load_suites
from northstar.validation.warehouse import Warehouse

SUITES_DIRNAME = "expectations"
RESULTS_FILE = "validation_result.json"
DATA_DOCS_DIR = "data_docs"
GX_RESULTS_DIR = "gx_results"


# Where the dbt build records the reference time it used (macro northstar_reference_time).
REFERENCE_TIME_TABLE = "intermediate.int_reference_time"
# Sources of a pinned reference time; otherwise the build used the wall clock.
PINNED_SOURCES = ("var", "raw_manifest")


def resolve_as_of(as_of: date | datetime | str | None, warehouse: Warehouse | None) -> date:
    """The reference date for freshness: given, else the one the dbt build used.

    The build resolves its clock in one place (dbt's macro northstar_reference_time: var
    northstar__as_of, else the raw manifest's as_of) and records it in
    intermediate.int_reference_time; that date is used when it was pinned. A build on the
    wall clock (or a warehouse without the table) is held to today in UTC: a warehouse
    built days ago is stale now.
    """
    if as_of is None and warehouse is not None:
        as_of = build_reference_time(warehouse)
    if as_of is None:
        return datetime.now(UTC).date()
    if isinstance(as_of, datetime):
        return as_of.astimezone(UTC).date() if as_of.tzinfo else as_of.date()
    if isinstance(as_of, date):
        return as_of
    try:
        parsed = datetime.fromisoformat(str(as_of).strip().replace("Z", "+00:00"))
    except ValueError as err:
        raise ValueError(f"as-of: not an ISO date or timestamp: {as_of!r}") from err
    return resolve_as_of(parsed, None)


def build_reference_time(warehouse: Warehouse) -> datetime | None:
    """The reference time the build pinned (var or raw manifest), else None."""
    if warehouse.missing([REFERENCE_TIME_TABLE]):
        return None
    try:
        frame = warehouse.table(REFERENCE_TIME_TABLE, ["as_of_at", "as_of_source"])
    except ColumnsNotFoundError:
        return None
    pinned = frame[frame["as_of_source"].isin(PINNED_SOURCES) & frame["as_of_at"].notna()]
    if len(pinned) != 1:
        return None
    return pinned["as_of_at"].iloc[0].to_pydatetime()


def _project_dir(project_dir: Path | None) -> Path | None:
    if project_dir is not None:
        return project_dir
    try:
        return find_project_dir()
    except FileNotFoundError:
        return None


def built_spec(warehouse: Path) -> dict[str, Any] | None:
    """The normalized spec the warehouse was built with (int_northstar_spec), else None."""
    with Warehouse(warehouse) as tables:
        if tables.missing([SPEC_TABLE]):
            return None
        try:
            frame = tables.table(SPEC_TABLE, [SPEC_COLUMN])
        except ColumnsNotFoundError:
            return None
    if len(frame) != 1:
        return None
    return spec_from_json(frame[SPEC_COLUMN].iloc[0])


def _suites_to_run(
    suites_dir: Path | None,
    project_dir: Path | None,
    warehouse: Path,
    variables: Mapping[str, Any] | None = None,
) -> tuple[Path, list[dict]]:
    """The committed suites; when they are the project's own, they must match the spec the
    warehouse was built with. A warehouse built before it recorded its spec is checked
    against the project's (one dbt run-operation); a missing one is reported by the caller."""
    check_against_spec = suites_dir is None
    if suites_dir is None:
        if project_dir is None:
            raise SuitesError("no dbt project found to take expectations/ from: pass --suites")
        suites_dir = project_dir / SUITES_DIRNAME
    suites = load_suites(suites_dir) if suites_dir.is_dir() else []
    if not suites:
        raise SuitesError(f"no expectation suites in {suites_dir}: run `northstar sync`")
    if check_against_spec and project_dir is not None and warehouse.is_file():
        from northstar.validation.suites import build_suites

        try:
            spec = built_spec(warehouse) or load_spec(project_dir)
        except SpecError as err:
            raise SuitesError(str(err)) from err
        settings = ValidationSettings.from_vars(load_vars(project_dir, variables=variables))
        expected = build_suites(spec, settings)
        stale = differences(suites_dir, expected)
        if stale:
            raise SuitesError(
                f"{suites_dir} is out of date with the spec the warehouse was built with "
                f"({', '.join(stale)}): run `northstar sync` and commit "
                "the result"
            )
    for suite in suites:
        frame = suite.get("meta", {}).get("northstar", {}).get("frame")
        if frame not in frames.FRAMES:
            raise SuitesError(f"suite {suite.get('name')!r}: unknown frame {frame!r}")
    return suites_dir, suites


def _guardrail_breaches(warehouse: Warehouse) -> list[dict[str, Any]]:
    """Guardrails whose latest complete period (segment 'all') is in breach, per grain."""
    try:
        return _breaches(warehouse)
    except ColumnsNotFoundError:  # a contract column is missing: its suite says so
        return []
    except duckdb.Error:  # a column of the wrong type: its suite says so, the gate goes on
        return []


def _breaches(warehouse: Warehouse) -> list[dict[str, Any]]:
    if warehouse.missing([frames.METRIC_VALUES, frames.DIM_METRICS]):
        return []
    warehouse.require_columns(
        frames.METRIC_VALUES, [*frames.GRAIN_KEYS, "role", "value", "status", "is_complete_period"]
    )
    latest = read_latest(warehouse.connection, table=frames.METRIC_VALUES)
    catalog = warehouse.table(frames.DIM_METRICS, ["metric_name", "breach_threshold"])
    catalog = catalog.set_index("metric_name")["breach_threshold"]
    return [
        {
            "metric_name": row["metric_name"],
            "grain": row["grain"],
            "period_start": str(row["period_start"])[:10],
            # a NULL reads as NaN, as it did when this report was computed in pandas
            "value": float("nan") if row["value"] is None else float(row["value"]),
            "breach_threshold": _json_number(catalog.get(row["metric_name"])),
        }
        for row in latest
        if row["role"] == "guardrail" and row["status"] == "breach"
    ]


def _json_number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number


def validate_warehouse(
    warehouse: Path,
    out_dir: Path | None = None,
    *,
    suites_dir: Path | None = None,
    as_of: date | datetime | str | None = None,
    project_dir: Path | None = None,
    data_docs: bool = True,
    variables: Mapping[str, Any] | None = None,
) -> ValidationResult:
    """Run every suite on `warehouse`; write results JSON and Data Docs to `out_dir` if given.

    `suites_dir` defaults to the project's expectations/, which must then match the spec
    (else SuitesError). `as_of` is the reference date for freshness (default: the clock
    the dbt build used, see resolve_as_of). Raises WarehouseNotFoundError or
    TablesNotFoundError when the warehouse or a table is missing, and only NorthstarErrors
    (northstar.errors) for any other reason it cannot run; an empty table or a missing
    contract column is a failed suite, not an exception.
    """
    try:
        return _validate_warehouse(
            warehouse,
            out_dir,
            suites_dir=suites_dir,
            as_of=as_of,
            project_dir=project_dir,
            data_docs=data_docs,
            variables=variables,
        )
    except ValueError as err:
        # A spec or suite file that cannot be read as one (bad JSON, a spec the suites
        # cannot be built from): the gate cannot run, which is not the data being wrong.
        raise SuitesError(str(err)) from err


def _validate_warehouse(
    warehouse: Path,
    out_dir: Path | None,
    *,
    suites_dir: Path | None,
    as_of: date | datetime | str | None,
    project_dir: Path | None,
    data_docs: bool,
    variables: Mapping[str, Any] | None = None,
) -> ValidationResult:
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    warehouse = Path(warehouse).resolve()
    out_dir = Path(out_dir).resolve() if out_dir is not None else None
    project = _project_dir(project_dir)
    suites_path, suites = _suites_to_run(suites_dir, project, warehouse, variables)

    from northstar.validation.gx import ephemeral_context, gx

    with Warehouse(warehouse) as tables:
        needed = sorted(
            {t for suite in suites for t in frames.FRAMES[_meta(suite)["frame"]].tables}
        )
        missing = tables.missing(needed)
        if missing:
            raise TablesNotFoundError(tables.path, missing)
        pinned = build_reference_time(tables) if as_of is None else None
        reference = resolve_as_of(as_of if as_of is not None else pinned, None)
        as_of_source = "given" if as_of is not None else ("build" if pinned else "today")

        context = ephemeral_context()
        docs_dir = out_dir / DATA_DOCS_DIR if out_dir is not None and data_docs else None
        if docs_dir is not None:
            _add_data_docs_site(context, docs_dir)
        datasource = context.data_sources.add_pandas("northstar_warehouse")
        run = frames.RunContext(as_of=reference)
        run_id = gx.core.run_identifier.RunIdentifier(
            run_name=f"northstar-validate-{started_at:%Y%m%dT%H%M%SZ}", run_time=started_at
        )
        outcomes: list[SuiteOutcome] = []
        native_results: dict[str, dict[str, Any]] = {}
        for suite in suites:
            outcome, native = _validate_suite(context, datasource, tables, suite, run, run_id)
            outcomes.append(outcome)
            if native is not None:
                native_results[suite["name"]] = native
        breaches = _guardrail_breaches(tables)

    outputs: dict[str, str] = {}
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        native_dir = out_dir / GX_RESULTS_DIR
        shutil.rmtree(native_dir, ignore_errors=True)
        native_dir.mkdir()
        for name, native_json in native_results.items():
            (native_dir / f"{name}.json").write_text(json.dumps(native_json, indent=2) + "\n")
        if docs_dir is not None:
            context.build_data_docs(site_names=["northstar"])
            outputs["data_docs"] = str(docs_dir / "index.html")
        outputs["results_json"] = str(out_dir / RESULTS_FILE)
        outputs["gx_results"] = str(native_dir)

    result = ValidationResult(
        warehouse=warehouse,
        suites_dir=suites_path,
        as_of=reference,
        started_at=started_at,
        run_seconds=time.perf_counter() - clock,
        suites=outcomes,
        expectations_defined=sum(len(suite["expectations"]) for suite in suites),
        guardrails_in_breach=breaches,
        outputs=outputs,
        as_of_source=as_of_source,
    )
    if out_dir is not None:
        Path(outputs["results_json"]).write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    return result


def _add_data_docs_site(context: Any, docs_dir: Path) -> None:
    """A filesystem Data Docs site in the output directory, rebuilt from this run only."""
    shutil.rmtree(docs_dir, ignore_errors=True)
    context.add_data_docs_site(
        site_name="northstar",
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )


def _validate_suite(
    context: Any,
    datasource: Any,
    tables: Warehouse,
    suite: dict[str, Any],
    run: frames.RunContext,
    run_id: Any,
) -> tuple[SuiteOutcome, dict[str, Any] | None]:
    """Run the suite's frame query and the suite on its rows; a table or frame that cannot
    be validated (empty, a contract column missing) is a failed suite with a plain reason."""
    from northstar.validation.gx import gx

    meta = _meta(suite)
    frame = frames.FRAMES[meta["frame"]]
    outcome = SuiteOutcome(suite["name"], meta["table"], meta["frame"], rows=None)
    empty = [name for name in frame.reads if tables.row_count(name) == 0]
    if empty:
        outcome.error = (
            f"{', '.join(empty)} {'is' if len(empty) == 1 else 'are'} empty (0 rows): "
            "nothing to validate"
        )
        return outcome, None
    try:
        data = frames.build_frame(tables, meta["frame"], meta.get("params") or {}, run)
    except ColumnsNotFoundError as err:
        outcome.error = f"cannot build the {meta['frame']} frame: {err} (the public contract)"
        return outcome, None
    except duckdb.Error as err:  # a contract column of the wrong type
        first_line = str(err).splitlines()[0]
        outcome.error = f"cannot build the {meta['frame']} frame: {first_line}"
        return outcome, None
    outcome.rows = len(data)
    gx_suite = context.suites.add(gx.ExpectationSuite(**_fresh(suite)))
    asset = datasource.add_dataframe_asset(suite["name"])
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(
            name=suite["name"],
            data=asset.add_batch_definition_whole_dataframe("whole"),
            suite=gx_suite,
        )
    )
    native = definition.run(
        batch_parameters={"dataframe": data},
        result_format={"result_format": "SUMMARY", "partial_unexpected_count": 10},
        run_id=run_id,
    ).to_json_dict()
    outcome.expectations = outcomes_from_gx(suite, native, data, frame.keys)
    return outcome, native


def _meta(suite: dict[str, Any]) -> dict[str, Any]:
    return suite["meta"]["northstar"]


def _fresh(suite: dict[str, Any]) -> dict[str, Any]:
    """A copy GX may mutate (it assigns ids when a suite joins a context)."""
    return json.loads(json.dumps(suite))
