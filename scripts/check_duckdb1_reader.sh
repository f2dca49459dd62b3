#!/usr/bin/env bash
# The published snapshot opens in DuckDB 1.x, as BI tools that bundle an older DuckDB
# (duckdb-engine, Metabase, the ODBC/JDBC drivers) read it. For each version in
# NORTHSTAR_DUCKDB1_VERSIONS (default: 1.1.3, the last of the 1.1 line, and 1.5.6, the
# newest 1.x), a separate venv .venv-duckdb1/<version>/ holds only that duckdb; it opens
# the snapshot read-only and reads every row of every table (scripts/duckdb1_reader.py).
#
#   bash scripts/check_duckdb1_reader.sh              # the project's current snapshot
#   bash scripts/check_duckdb1_reader.sh SNAPSHOT_DIR  # any snapshot directory or .duckdb
#
# Without an argument it reuses the current snapshot, publishes one from an existing
# warehouse, or builds the demo when there is neither. Fails on any error.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

python_bin="${PYTHON:-python3.11}"
command -v "$python_bin" >/dev/null 2>&1 || python_bin=python3
versions="${NORTHSTAR_DUCKDB1_VERSIONS:-1.1.3 1.5.6}"

for version in $versions; do
    venv=".venv-duckdb1/$version"
    stamp="$venv/.northstar-installed"
    [ -x "$venv/bin/python" ] || "$python_bin" -m venv "$venv"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "duckdb==$version" ]; then
        echo "==> installing duckdb==$version into $venv"
        # Same filter as bootstrap.sh: pip.conf lists mirror folders that may not exist.
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "duckdb==$version" \
            2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
        "$venv/bin/python" -c "import duckdb, sys; sys.exit(duckdb.__version__ != '$version')"
        echo "duckdb==$version" > "$stamp"
    fi
done

if [ $# -ge 1 ]; then
    snapshot="$1"
else
    [ -x .venv/bin/northstar ] || bash scripts/bootstrap.sh
    snapshots_dir=$(.venv/bin/python -c \
        "from northstar.paths import Paths; print(Paths.discover().snapshots_dir)")
    warehouse=$(.venv/bin/python -c \
        "from northstar.paths import Paths; print(Paths.discover().warehouse)")
    if [ ! -f "$snapshots_dir/current/manifest.json" ]; then
        if [ -f "$warehouse" ]; then
            .venv/bin/northstar publish
        else
            .venv/bin/northstar demo
        fi
    fi
    snapshot="$snapshots_dir/current"
fi

status=0
for version in $versions; do
    ".venv-duckdb1/$version/bin/python" scripts/duckdb1_reader.py "$snapshot" || status=1
done
echo "==> DuckDB 1.x reader check: $([ $status -eq 0 ] && echo passed || echo FAILED)" \
    "($versions) in $(($(date +%s) - started))s"
exit $status
