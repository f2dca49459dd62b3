"""The snapshot's DuckDB file: every public table in the `main` schema, so a BI tool reads
`fct_metric_values` without a schema prefix, plus a one-row `northstar_snapshot` table
(run id, publish time, data as of, validation status) for a dashboard's footer.

Written in `job.storage_version` (default v1.0.0), so BI tools that bundle DuckDB 1.x open
it; see northstar.publish.targets.DEFAULT_STORAGE_VERSION."""

from __future__ import annotations

from pathlib import Path

from northstar.publish.store import DATABASE
from northstar.publish.tables import quote_identifier, quote_literal
from northstar.publish.targets import ExportJob

ALIAS = "northstar_snapshot_out"


def write(job: ExportJob) -> list[Path]:
    path = job.out_dir / DATABASE
    job.source.execute(
        f"attach {quote_literal(str(path))} as {ALIAS} "
        f"(storage_version {quote_literal(job.storage_version)})"
    )
    try:
        for table in job.tables:
            job.source.execute(
                f"create table {ALIAS}.main.{quote_identifier(table.name)} as " + job.select(table)
            )
            job.on_table(table.name)
        columns = list(job.info)
        job.source.execute(
            f"create table {ALIAS}.main.northstar_snapshot ("
            + ", ".join(f"{quote_identifier(column)} varchar" for column in columns)
            + ")"
        )
        placeholders = ", ".join("?" for _ in columns)
        job.source.execute(
            f"insert into {ALIAS}.main.northstar_snapshot values ({placeholders})",  # noqa: S608
            [job.info[column] for column in columns],
        )
    finally:
        # Detach checkpoints and closes the file: no WAL is left next to it.
        job.source.execute(f"detach {ALIAS}")
    return [path]
