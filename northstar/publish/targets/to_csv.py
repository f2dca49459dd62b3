"""One CSV file per public table (header row, comma, ISO dates): for spreadsheets."""

from __future__ import annotations

from pathlib import Path

from northstar.publish.tables import quote_literal
from northstar.publish.targets import ExportJob


def write(job: ExportJob) -> list[Path]:
    directory = job.out_dir / "csv"
    directory.mkdir()
    written = []
    for table in job.tables:
        path = directory / f"{table.name}.csv"
        job.source.execute(
            f"copy ({job.select(table)}) to {quote_literal(str(path))} (format csv, header true)"
        )
        job.on_table(table.name)
        written.append(path)
    return written
