"""Export targets: one module per format, looked up by name and imported only when used.

Every target is `write(job: ExportJob) -> list[Path]`: it reads each table of `job.tables`
from `job.source` (a DuckDB connection with the warehouse attached read-only) and writes
only inside `job.out_dir`. All targets use the same `job.select()`, so the three formats
hold the same rows in the same order.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from northstar.errors import InvalidInputError, NorthstarError
from northstar.publish.tables import PublicTable
from northstar.publish.tables import quote_identifier as q

TARGETS: dict[str, str] = {
    "duckdb": "northstar.publish.targets.to_duckdb:write",
    "parquet": "northstar.publish.targets.to_parquet:write",
    "csv": "northstar.publish.targets.to_csv:write",
}
REQUIRED = "duckdb"  # query, digest and alerts read the snapshot's DuckDB file

# The DuckDB file format of the snapshot. DuckDB 2.0 writes storage version 69 by default,
# which DuckDB 1.x refuses ("can only read versions between 64 and 68"), and many BI
# drivers (duckdb-engine, Metabase's, the ODBC/JDBC drivers) still bundle a 1.x. The
# v1.0.0 format (storage version 64) is the oldest our writer offers that every DuckDB from
# 0.10 to 2.x reads, and it holds every type the public tables use. `latest` is the
# writer's own format (smaller and faster only for types the old format lacks).
STORAGE_VERSION_ENV = "NORTHSTAR_SNAPSHOT_STORAGE_VERSION"
DEFAULT_STORAGE_VERSION = "v1.0.0"
_STORAGE_VERSION_PATTERN = re.compile(r"latest|v[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}")


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
    # Validated by snapshot_storage_version(); DuckDB's `STORAGE_VERSION` attach option.
    storage_version: str = DEFAULT_STORAGE_VERSION

    def select(self, table: PublicTable) -> str:
        # Quoted identifiers from PUBLIC_TABLES and the warehouse's own catalog name.
        # `order by all` makes every export of the same warehouse identical row for row.
        catalog = table.catalog or self.source_catalog
        source = f"{q(catalog)}.{q(table.schema)}.{q(table.name)}"
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


def snapshot_storage_version(value: str | None = None) -> str:
    """The snapshot's DuckDB storage version: `value`, else
    $NORTHSTAR_SNAPSHOT_STORAGE_VERSION, else v1.0.0 (blank counts as unset). Checked
    before anything runs, so a typo fails the publish at once (exit 1) rather than after
    the validation gate."""
    if value is None:
        value = os.environ.get(STORAGE_VERSION_ENV, "")
    value = value.strip() or DEFAULT_STORAGE_VERSION
    shown = repr(value if len(value) <= 40 else value[:37] + "...")
    hint = (
        f"set {STORAGE_VERSION_ENV} to a DuckDB release such as {DEFAULT_STORAGE_VERSION} "
        "(the default, read by DuckDB 0.10 to 2.x) or to 'latest' (docs/bi-tools.md)"
    )
    if not _STORAGE_VERSION_PATTERN.fullmatch(value):
        raise NorthstarError(f"{STORAGE_VERSION_ENV}={shown} is not a storage version: {hint}")
    # DuckDB knows which releases it can write; an in-memory attach asks it without a file.
    probe = duckdb.connect(":memory:")
    try:
        probe.execute(f"attach ':memory:' as storage_probe (storage_version '{value}')")
    except duckdb.Error as err:
        raise NorthstarError(
            f"{STORAGE_VERSION_ENV}={shown} is not a version DuckDB {duckdb.__version__} can "
            f"write ({str(err).splitlines()[0][:120]}): {hint}"
        ) from err
    finally:
        probe.close()
    return value
