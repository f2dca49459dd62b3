"""Export targets: one module per format, looked up by name and imported only when used.

Every target is `write(job: ExportJob) -> list[Path]`: it reads each table of `job.tables`
from `job.source` (a DuckDB connection with the warehouse attached read-only) and writes
only inside `job.out_dir`. All targets use the same `job.select()`, so the three formats
hold the same rows in the same order.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from northstar.publish.errors import InvalidInputError
from northstar.publish.tables import PublicTable
from northstar.publish.tables import quote_identifier as q

TARGETS: dict[str, str] = {
    "duckdb": "northstar.publish.targets.to_duckdb:write",
    "parquet": "northstar.publish.targets.to_parquet:write",
    "csv": "northstar.publish.targets.to_csv:write",
}
REQUIRED = "duckdb"  # query, digest and alerts read the snapshot's DuckDB file


@dataclass(frozen=True)
class ExportJob:
    source: duckdb.DuckDBPyConnection
    source_catalog: str
    tables: list[PublicTable]
    out_dir: Path
    on_table: Callable[[str], None]
    # Facts about this snapshot (run id, data as of, ...) for the DuckDB file's
    # `northstar_snapshot` table, so a dashboard can show them without reading JSON.
    info: dict[str, str | None]

    def select(self, table: PublicTable) -> str:
        # Quoted identifiers from PUBLIC_TABLES and the warehouse's own catalog name.
        # `order by all` makes every export of the same warehouse identical row for row.
        source = f"{q(self.source_catalog)}.{q(table.schema)}.{q(table.name)}"
        return f"select * from {source} order by all"  # noqa: S608


Writer = Callable[[ExportJob], list[Path]]


def parse_exports(text: str) -> list[str]:
    """`duckdb,parquet,csv` -> names in registry order; duckdb is always included.

    Names are matched exactly (lowercase), as every other choice on the command line is;
    spaces around a name are allowed. An empty list or an empty name is refused: it is
    more likely an unset variable than a wish for the duckdb file alone."""
    from northstar.query.catalog import shown

    if not text.strip():
        raise InvalidInputError(
            f"--export: no export format given; choose from {', '.join(TARGETS)}"
        )
    names = [part.strip() for part in text.split(",")]
    if "" in names:
        raise InvalidInputError(
            f"--export: empty export format in {shown(text)}; choose from {', '.join(TARGETS)}"
        )
    unknown = [name for name in names if name not in TARGETS]
    if unknown:
        raise InvalidInputError(
            f"unknown export format {shown(unknown[0])}: choose from {', '.join(TARGETS)}"
        )
    return [name for name in TARGETS if name in names or name == REQUIRED]


def get_writer(name: str) -> Writer:
    module_name, attribute = TARGETS[name].split(":")
    return getattr(importlib.import_module(module_name), attribute)
