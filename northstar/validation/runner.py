"""Run the committed expectation suites on a warehouse: the gate before anything is published.

`validate_warehouse` is the plain function other code calls (publish, build); the
`northstar validate` command is a thin wrapper over it. It fails when the data is wrong.
A guardrail in breach is the product being unhealthy, not the data being wrong: it is
listed in the result for information and never changes `success`.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from northstar.paths import Paths, demo_data_as_of, find_project_dir
from northstar.spec import load_spec, load_vars
from northstar.validation import frames
from northstar.validation.settings import ValidationSettings
from northstar.validation.suite_files import differences, load_suites
from northstar.validation.warehouse import TablesNotFoundError, Warehouse, WarehouseError

SUITES_DIRNAME = "expectations"
RESULTS_FILE = "validation_result.json"
DATA_DOCS_DIR = "data_docs"
GX_RESULTS_DIR = "gx_results"


class SuitesError(WarehouseError):
    """The suites cannot be run: missing, unreadable, or out of date with the spec."""


@dataclass
class ExpectationOutcome:
    check: str
    expectation_type: str
    description: str
    kwargs: dict[str, Any]
    success: bool
    observed: str
    result: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "expectation_type": self.expectation_type,
            "description": self.description,
            "kwargs": self.kwargs,
            "success": self.success,
            "observed": self.observed,
            "result": self.result,
        }


@dataclass
class SuiteOutcome:
    name: str
    table: str
    frame: str
    rows: int | None
    expectations: list[ExpectationOutcome] = field(default_factory=list)
    error: str | None = None  # why the suite could not run (an empty table)

    @property
    def success(self) -> bool:
        return self.error is None and all(e.success for e in self.expectations)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if not e.success]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "table": self.table,
            "frame": self.frame,
            "rows": self.rows,
            "success": self.success,
            "error": self.error,
            "expectations": [e.to_dict() for e in self.expectations],
        }


@dataclass
class ValidationResult:
    warehouse: Path
    suites_dir: Path
    as_of: date
    started_at: datetime
    run_seconds: float
    suites: list[SuiteOutcome]
    expectations_defined: int
    guardrails_in_breach: list[dict[str, Any]]
    outputs: dict[str, str]

    @property
    def success(self) -> bool:
        return all(suite.success for suite in self.suites)

    def counts(self) -> dict[str, int]:
        run = [e for suite in self.suites for e in suite.expectations]
        passed = sum(e.success for e in run)
        return {
            "suites": len(self.suites),
            "suites_failed": sum(not suite.success for suite in self.suites),
            "expectations": self.expectations_defined,
            "passed": passed,
            "failed": len(run) - passed,
            "not_run": self.expectations_defined - len(run),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "success": self.success,
            "warehouse": str(self.warehouse),
            "suites_dir": str(self.suites_dir),
            "as_of": self.as_of.isoformat(),
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "run_seconds": round(self.run_seconds, 3),
            "counts": self.counts(),
            "suites": [suite.to_dict() for suite in self.suites],
            "guardrails_in_breach": self.guardrails_in_breach,
            "outputs": self.outputs,
        }

    def summary_text(self) -> str:
        counts = self.counts()
        lines = [
            f"northstar validate: {self.warehouse}",
            f"suites: {self.suites_dir} ({counts['suites']} suites, "
            f"{counts['expectations']} expectations); reference date {self.as_of.isoformat()}",
            "",
        ]
        for suite in self.suites:
            verdict = "PASS" if suite.success else "FAIL"
            passed = len(suite.expectations) - len(suite.failed)
            lines.append(
                f"{verdict}  {suite.name}  [{suite.table}]  "
                f"{passed} passed, {len(suite.failed)} failed"
                + (f", {suite.rows} rows" if suite.rows is not None else "")
            )
            if suite.error:
                lines.append(f"      {suite.error}")
            for outcome in suite.expectations:
                mark = "pass" if outcome.success else "FAIL"
                lines.append(
                    f"  {mark}  {outcome.check:<30} {outcome.description}  | {outcome.observed}"
                )
                if not outcome.success:
                    lines.append(
                        f"        {outcome.expectation_type}({_kwargs_text(outcome.kwargs)}) "
                        f"on {suite.table}"
                    )
        lines.append("")
        if self.success:
            lines.append(
                f"VALID: {counts['passed']} of {counts['expectations']} expectations passed "
                f"in {self.run_seconds:.1f} s."
            )
        else:
            lines.append(
                f"INVALID: {counts['failed']} expectation(s) failed"
                + (f", {counts['not_run']} not run" if counts["not_run"] else "")
                + f" in {counts['suites_failed']} of {counts['suites']} suites "
                f"({self.run_seconds:.1f} s). The data is wrong: do not publish it."
            )
        if self.guardrails_in_breach:
            lines.append(
                "Guardrails in breach (the product is unhealthy, the data is valid; "
                "`northstar alerts` exits non-zero for these):"
            )
            for breach in self.guardrails_in_breach:
                lines.append(
                    f"  {breach['metric_name']}: {breach['grain']} of {breach['period_start']} "
                    f"value {breach['value']:g} (breach threshold {breach['breach_threshold']})"
                )
        for name, path in self.outputs.items():
            lines.append(f"{name}: {path}")
        return "\n".join(lines)


def _kwargs_text(kwargs: dict[str, Any]) -> str:
    shown = []
    for key in ("column", "column_list", "column_A", "column_B", "min_value", "max_value"):
        if key in kwargs and kwargs[key] is not None:
            shown.append(f"{key}={kwargs[key]!r}")
    return ", ".join(shown)


def _sample(values: list[Any], limit: int = 5) -> str:
    text = ", ".join(_value_text(v) for v in values[:limit])
    return text + (", ..." if len(values) > limit else "")


def _distinct(values: list[Any]) -> list[Any]:
    seen, kept = set(), []
    for value in values:
        marker = json.dumps(value, sort_keys=True, default=str)
        if marker not in seen:
            seen.add(marker)
            kept.append(value)
    return kept


def _value_text(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return "(" + ", ".join(f"{k}={_value_text(v)}" for k, v in value.items()) + ")"
    return str(value)


def _row_names(data: Any, keys: tuple[str, ...], indexes: list[Any], limit: int = 3) -> str:
    """The first failing rows, named by the frame's key columns."""
    names = []
    for index in indexes[:limit]:
        if index not in data.index:
            continue
        row = data.loc[index]
        names.append(
            "(" + ", ".join(f"{key}={_value_text(row[key])}" for key in keys if key in row) + ")"
        )
    return "; ".join(names) + ("; ..." if len(indexes) > limit else "")


def _observed(
    kwargs: dict[str, Any],
    result: dict[str, Any],
    exception: str | None,
    rows: str = "",
) -> str:
    """What the data showed, in one line."""
    if exception:
        return f"error: {exception}"
    if "element_count" in result and "unexpected_count" in result:
        checked = (result["element_count"] or 0) - (result.get("missing_count") or 0)
        bad = result["unexpected_count"] or 0
        if not checked:
            return "no rows to check"
        text = f"{bad} of {checked} rows unexpected"
        sample = _distinct(result.get("partial_unexpected_list") or [])
        text += f", e.g. {_sample(sample)}" if bad and sample else ""
        return text + (f" at {rows}" if bad and rows else "")
    observed = result.get("observed_value")
    expected = kwargs.get("value")
    if expected is None and kwargs.get("min_value") == kwargs.get("max_value"):
        expected = kwargs.get("min_value")
    if expected is not None:
        return f"observed {_value_text(observed)}, expected {_value_text(expected)}"
    return f"observed {_value_text(observed)}"


def resolve_as_of(as_of: date | datetime | str | None, project_dir: Path | None) -> date:
    """The reference date for freshness, resolved the way the dbt build resolves its clock.

    Given, else a literal `northstar__as_of` in dbt_project.yml, else $NORTHSTAR_AS_OF,
    else the generated demo data's own clock (paths.demo_data_as_of), else today in UTC.
    """
    if as_of is None and project_dir is not None:
        configured = str(load_vars(project_dir).get("northstar__as_of") or "")
        if configured and "{{" not in configured:  # a template defers to the env var
            as_of = configured
    if as_of is None:
        as_of = os.environ.get("NORTHSTAR_AS_OF") or None
    if as_of is None:
        try:
            as_of = demo_data_as_of(Paths.discover().raw_dir)
        except FileNotFoundError:
            as_of = None
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


def _project_dir(project_dir: Path | None) -> Path | None:
    if project_dir is not None:
        return project_dir
    try:
        return find_project_dir()
    except FileNotFoundError:
        return None


def _suites_to_run(suites_dir: Path | None, project_dir: Path | None) -> tuple[Path, list[dict]]:
    """The committed suites; when they are the project's own, they must match its spec."""
    check_against_spec = suites_dir is None
    if suites_dir is None:
        if project_dir is None:
            raise SuitesError("no dbt project found to take expectations/ from: pass --suites")
        suites_dir = project_dir / SUITES_DIRNAME
    suites = load_suites(suites_dir) if suites_dir.is_dir() else []
    if not suites:
        raise SuitesError(
            f"no expectation suites in {suites_dir}: run `python scripts/generate_suites.py`"
        )
    if check_against_spec and project_dir is not None:
        from northstar.validation.suites import build_suites

        variables = load_vars(project_dir)
        expected = build_suites(load_spec(project_dir), ValidationSettings.from_vars(variables))
        stale = differences(suites_dir, expected)
        if stale:
            raise SuitesError(
                f"{suites_dir} is out of date with the spec in dbt_project.yml "
                f"({', '.join(stale)}): run `python scripts/generate_suites.py` and commit "
                "the result"
            )
    for suite in suites:
        frame = suite.get("meta", {}).get("northstar", {}).get("frame")
        if frame not in frames.FRAMES:
            raise SuitesError(f"suite {suite.get('name')!r}: unknown frame {frame!r}")
    return suites_dir, suites


def _guardrail_breaches(warehouse: Warehouse) -> list[dict[str, Any]]:
    """Guardrails whose latest complete period (segment 'all') is in breach, per grain."""
    values = warehouse.table(frames.METRIC_VALUES)
    rows = values[
        (values["role"] == "guardrail")
        & (values["segment_name"] == "all")
        & (values["is_complete_period"].fillna(False).astype(bool))
    ]
    if rows.empty:
        return []
    latest = rows.loc[rows.groupby(["metric_name", "grain"])["period_start"].idxmax()]
    catalog = warehouse.table(frames.DIM_METRICS).set_index("metric_name")["breach_threshold"]
    return [
        {
            "metric_name": row.metric_name,
            "grain": row.grain,
            "period_start": str(row.period_start)[:10],
            "value": float(row.value),
            "breach_threshold": _json_number(catalog.get(row.metric_name)),
        }
        for row in latest[latest["status"] == "breach"]
        .sort_values(["metric_name", "grain"])
        .itertuples()
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
) -> ValidationResult:
    """Run every suite on `warehouse`; write results JSON and Data Docs to `out_dir` if given.

    `suites_dir` defaults to the project's expectations/, which must then match the spec
    (else SuitesError). `as_of` is the reference date for freshness (default: the build's
    `northstar__as_of` var, else today in UTC). Raises WarehouseNotFoundError or
    TablesNotFoundError when the warehouse or a table is missing; an empty table is a
    failed suite, not an exception.
    """
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    warehouse = Path(warehouse).resolve()
    out_dir = Path(out_dir).resolve() if out_dir is not None else None
    project = _project_dir(project_dir)
    reference = resolve_as_of(as_of, project)
    suites_path, suites = _suites_to_run(suites_dir, project)

    from northstar.validation.gx import ephemeral_context, gx

    with Warehouse(Path(warehouse)) as tables:
        needed = sorted(
            {t for suite in suites for t in frames.FRAMES[_meta(suite)["frame"]].tables}
        )
        missing = tables.missing(needed)
        if missing:
            raise TablesNotFoundError(tables.path, missing)

        context = ephemeral_context()
        docs_dir = Path(out_dir) / DATA_DOCS_DIR if out_dir is not None and data_docs else None
        if docs_dir is not None:
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
        datasource = context.data_sources.add_pandas("northstar_warehouse")
        run = frames.RunContext(as_of=reference)
        run_id = gx.core.run_identifier.RunIdentifier(
            run_name=f"northstar-validate-{started_at:%Y%m%dT%H%M%SZ}", run_time=started_at
        )
        outcomes: list[SuiteOutcome] = []
        native_results: dict[str, dict[str, Any]] = {}
        for suite in suites:
            meta = _meta(suite)
            frame = frames.FRAMES[meta["frame"]]
            outcome = SuiteOutcome(suite["name"], meta["table"], meta["frame"], rows=None)
            outcomes.append(outcome)
            empty = [name for name in frame.reads if tables.row_count(name) == 0]
            if empty:
                outcome.error = (
                    f"{', '.join(empty)} {'is' if len(empty) == 1 else 'are'} empty (0 rows): "
                    "nothing to validate"
                )
                continue
            data = frame.build(tables, meta.get("params") or {}, run)
            outcome.rows = len(data)
            gx_suite = context.suites.add(gx.ExpectationSuite(**_fresh(suite)))
            batch = datasource.add_dataframe_asset(
                suite["name"]
            ).add_batch_definition_whole_dataframe("whole")
            definition = context.validation_definitions.add(
                gx.ValidationDefinition(name=suite["name"], data=batch, suite=gx_suite)
            )
            native = definition.run(
                batch_parameters={"dataframe": data},
                result_format={"result_format": "SUMMARY", "partial_unexpected_count": 10},
                run_id=run_id,
            )
            native_json = native.to_json_dict()
            native_results[suite["name"]] = native_json
            outcome.expectations = _outcomes(suite, native_json, data, frame.keys)
        breaches = _guardrail_breaches(tables) if not tables.missing([frames.DIM_METRICS]) else []

    outputs: dict[str, str] = {}
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        native_dir = out / GX_RESULTS_DIR
        shutil.rmtree(native_dir, ignore_errors=True)
        native_dir.mkdir()
        for name, native_json in native_results.items():
            (native_dir / f"{name}.json").write_text(json.dumps(native_json, indent=2) + "\n")
        if docs_dir is not None:
            context.build_data_docs(site_names=["northstar"])
            outputs["data_docs"] = str(docs_dir / "index.html")
        outputs["results_json"] = str(out / RESULTS_FILE)
        outputs["gx_results"] = str(native_dir)

    result = ValidationResult(
        warehouse=Path(warehouse),
        suites_dir=suites_path,
        as_of=reference,
        started_at=started_at,
        run_seconds=time.perf_counter() - clock,
        suites=outcomes,
        expectations_defined=sum(len(suite["expectations"]) for suite in suites),
        guardrails_in_breach=breaches,
        outputs=outputs,
    )
    if out_dir is not None:
        Path(outputs["results_json"]).write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    return result


def _meta(suite: dict[str, Any]) -> dict[str, Any]:
    return suite["meta"]["northstar"]


def _fresh(suite: dict[str, Any]) -> dict[str, Any]:
    """A copy GX may mutate (it assigns ids when a suite joins a context)."""
    return json.loads(json.dumps(suite))


def _outcomes(
    suite: dict[str, Any], native: dict[str, Any], data: pd.DataFrame, keys: tuple[str, ...]
) -> list[ExpectationOutcome]:
    """Pair each result with the suite's own expectation, in the suite file's order."""
    by_key: dict[str, dict[str, Any]] = {}
    for item in native["results"]:
        config = item["expectation_config"]
        by_key.setdefault(_key(config), item)
    outcomes = []
    for expectation in suite["expectations"]:
        item = by_key.get(_key(expectation), {})
        exception = (item.get("exception_info") or {}).get("exception_message")
        result = item.get("result") or {}
        outcomes.append(
            ExpectationOutcome(
                check=expectation.get("meta", {}).get("northstar", {}).get("check", "?"),
                expectation_type=expectation["type"],
                description=expectation.get("description") or expectation["type"],
                kwargs=expectation["kwargs"],
                success=bool(item.get("success")) and not exception,
                observed=_observed(
                    expectation["kwargs"],
                    result,
                    exception,
                    _row_names(data, keys, result.get("partial_unexpected_index_list") or []),
                )
                if item
                else "error: no result",
                result=result,
            )
        )
    return outcomes


def _key(expectation: dict[str, Any]) -> str:
    return json.dumps([expectation["type"], expectation.get("description")], sort_keys=True)
