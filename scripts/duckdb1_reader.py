"""Open a published snapshot as a BI tool with an older DuckDB would, and read every table.

Runs under the DuckDB of whatever interpreter starts it (scripts/check_duckdb1_reader.sh
starts it from .venv-duckdb1/<version>/), so it imports nothing but duckdb and the
standard library. Usage:

    python scripts/duckdb1_reader.py SNAPSHOT_DIR_OR_DATABASE

Reads every row of every table (decoding every value, not just counting), prints the row
counts, and compares them with manifest.json when the snapshot has one. Exit 0 when every
table was read and matches; 1 with the error otherwise.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    target = Path(argv[0])
    database = target / "northstar.duckdb" if target.is_dir() else target
    manifest_path = database.parent / "manifest.json"
    expected = {}
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        expected = {name: entry["rows"] for name, entry in manifest.get("tables", {}).items()}

    label = f"duckdb {duckdb.__version__}"
    try:
        con = duckdb.connect(str(database), read_only=True)
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'main' order by table_name"
            ).fetchall()
        ]
        counts = {}
        for name in tables:
            quoted = '"' + name.replace('"', '""') + '"'
            cursor = con.execute(f"select * from {quoted}")  # noqa: S608 (names from the file)
            rows = 0
            while batch := cursor.fetchmany(10_000):
                rows += len(batch)
            counts[name] = rows
        con.close()
    except duckdb.Error as err:
        print(f"{label}: FAILED to read {database}: {err}", file=sys.stderr)
        return 1

    problems = [f"no table {name}" for name in expected if name not in counts]
    problems += [
        f"{name}: {counts[name]} rows, the manifest says {rows}"
        for name, rows in expected.items()
        if name in counts and counts[name] != rows
    ]
    if "northstar_snapshot" not in counts:
        problems.append("no table northstar_snapshot")
    width = max(map(len, counts), default=0)
    print(f"{label}: read {database} ({len(counts)} tables)")
    for name, rows in counts.items():
        print(f"  {name:<{width}}  {rows:>10,} rows")
    for problem in problems:
        print(f"{label}: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
