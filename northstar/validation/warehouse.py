"""Read-only access to the warehouse tables the suites validate.

Great Expectations' SQL datasource returns empty results on DuckDB through duckdb-engine
(DESIGN.md), so the gate runs each frame's query with the duckdb package, reads the rows
into pandas and validates the DataFrame. The connection is read-only: validating never
takes the write lock a running `dbt build` needs, and never changes the file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from northstar.errors import (
    ColumnsNotFoundError,
    WarehouseLockedError,
    WarehouseNotFoundError,
    WarehouseUnreadableError,
)

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def split_table(name: str) -> tuple[str, str]:
    """'marts.dim_metrics' -> ('marts', 'dim_metrics'), refusing anything but plain names."""
    schema, _, table = name.partition(".")
    if not (_IDENTIFIER.match(schema) and _IDENTIFIER.match(table)):
        raise ValueError(f"not a schema.table name: {name!r}")
    return schema, table


class Warehouse:
    """A read-only DuckDB connection that reads each table once per validation run."""

    def __init__(self, path: Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise WarehouseNotFoundError(
                f"warehouse not found: {self.path} (build it first, e.g. `northstar demo`, "
                "or point NORTHSTAR_DUCKDB_PATH / --warehouse at it)"
            )
        try:
            self._con = duckdb.connect(str(self.path), read_only=True)
        except duckdb.Error as err:
            first_line = str(err).splitlines()[0]
            if isinstance(err, duckdb.IOException) and "lock" in first_line.lower():
                raise WarehouseLockedError(
                    f"the warehouse {self.path} is open for writing by another process "
                    f"(a dbt build?): try again after it finishes ({first_line})"
                ) from err
            raise WarehouseUnreadableError(
                f"cannot open {self.path} read-only (is a dbt build writing it?): {first_line}"
            ) from err
        self._frames: dict[str, pd.DataFrame] = {}

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The read-only connection, for readers the published snapshot shares
        (northstar.latest)."""
        return self._con

    def require_columns(self, name: str, columns: list[str]) -> None:
        """ColumnsNotFoundError naming those of `columns` the table lacks, reading no rows."""
        present = set(self._relation(name).columns)
        missing = [column for column in columns if column not in present]
        if missing:
            raise ColumnsNotFoundError(name, missing)

    def missing(self, tables: list[str]) -> list[str]:
        present = {
            f"{schema}.{table}"
            for schema, table in self._con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        return [name for name in tables if name not in present]

    def row_count(self, name: str) -> int:
        if name in self._frames:
            return len(self._frames[name])
        ((count,),) = self._relation(name).aggregate("count(*)").fetchall()
        return int(count)

    def table(self, name: str, columns: list[str] | None = None) -> pd.DataFrame:
        """The table as a DataFrame, read once per run (the guardrail report, the clock).

        With `columns`, a copy of just those, or ColumnsNotFoundError naming the missing.
        """
        if name not in self._frames:
            self._frames[name] = self._relation(name).df()
        frame = self._frames[name]
        if columns is None:
            return frame
        missing = [column for column in columns if column not in frame.columns]
        if missing:
            raise ColumnsNotFoundError(name, missing)
        return frame[columns].copy()

    def query(self, sql: str, params: dict[str, Any]) -> pd.DataFrame:
        """The rows of a read-only query, with `$name` parameters bound from `params`."""
        return self._con.execute(sql, params).df()

    def _relation(self, name: str) -> duckdb.DuckDBPyRelation:
        schema, table = split_table(name)
        return self._con.table(f"{schema}.{table}")
