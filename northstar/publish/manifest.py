"""The snapshot manifest: what is in the snapshot, where it came from, and whether it passed
validation. Written last, so its presence marks a complete snapshot."""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import date, datetime
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb

from northstar.publish.tables import PublicTable, quote_identifier

MANIFEST_VERSION = 1
# The packages whose versions decide what a snapshot holds: the build (dbt), the engine,
# the validation gate (Great Expectations) and the semantic layer (MetricFlow).
PACKAGES = (
    "northstar",
    "dbt-core",
    "dbt-duckdb",
    "duckdb",
    "great-expectations",
    "metricflow",
    "dbt-metricflow",
)


def json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def versions() -> dict[str, str | None]:
    """Python's and each of PACKAGES' installed version; null for one that is not
    installed (or whose metadata cannot be read): versions describe a snapshot, they
    never stop one from being published."""
    found: dict[str, str | None] = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except Exception:  # PackageNotFoundError, or a broken install
            found[package] = None
    return found


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_entries(root: Path, files: list[Path]) -> dict[str, dict[str, Any]]:
    return {
        path.relative_to(root).as_posix(): {"bytes": path.stat().st_size, "sha256": sha256(path)}
        for path in sorted(files)
    }


def table_entries(
    source: duckdb.DuckDBPyConnection, catalog: str, tables: list[PublicTable]
) -> dict[str, dict[str, Any]]:
    entries = {}
    for table in tables:
        name = f"{quote_identifier(table.catalog or catalog)}.{quote_identifier(table.schema)}." + (
            quote_identifier(table.name)
        )
        # Identifiers from PUBLIC_TABLES, quoted; no user input reaches this SQL.
        rows = source.execute(f"select count(*) from {name}").fetchone()[0]  # noqa: S608
        columns = source.execute(f"describe {name}").fetchall()
        entries[table.name] = {
            "source": table.source,
            "rows": rows,
            "columns": [{"name": column[0], "type": column[1]} for column in columns],
        }
    return entries


def metric_definitions(source: duckdb.DuckDBPyConnection, catalog: str) -> list[dict[str, Any]]:
    cursor = source.execute(
        f"select * from {quote_identifier(catalog)}.marts.dim_metrics order by all"  # noqa: S608
    )
    names = [column[0] for column in cursor.description]
    rows = [dict(zip(names, map(json_value, row), strict=True)) for row in cursor.fetchall()]
    return sorted(rows, key=lambda row: (row.get("sort_order") or 0, row["metric_name"]))


def dbt_run_info(target_dir: Path) -> dict[str, Any] | None:
    """The dbt invocation that built the warehouse, when its run_results.json is at hand."""
    try:
        results = json.loads((target_dir / "run_results.json").read_text())
        meta = results["metadata"]
        return {
            "invocation_id": meta.get("invocation_id"),
            "generated_at": meta.get("generated_at"),
            "dbt_version": meta.get("dbt_version"),
        }
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n")
