"""One Parquet file per public table: pandas, Polars, Spark and most BI tools read it."""

from __future__ import annotations

from pathlib import Path

from northstar.publish.tables import quote_literal
from northstar.publish.targets import ExportJob


def write(job: ExportJob) -> list[Path]:
    directory = job.out_dir / "parquet"
    directory.mkdir()
    written = []
    for table in job.tables:
        path = directory / f"{table.name}.parquet"
        job.source.execute(
            f"copy ({job.select(table)}) to {quote_literal(str(path))} "
            "(format parquet, compression zstd)"
        )
        job.on_table(table.name)
        written.append(path)
    return written
