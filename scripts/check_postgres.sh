#!/usr/bin/env bash
# The whole dbt project on PostgreSQL: `dbt build` (every model, unit test and data test)
# through dbt-postgres on a throwaway server, with the raw events in Postgres tables (the
# documented warehouse-table way), then the same build on DuckDB from the same tables and a
# comparison of every table and view (scripts/check_postgres.py, compare_engines.py).
# docs/engines.md explains what it checks.
#
#   bash scripts/check_postgres.sh               # 45 to 75 s on 2 cores (docs/engines.md)
#   KEEP=1 bash scripts/check_postgres.sh        # keep the work directory (logs, DuckDB file)
#   NO_COMPARE=1 bash scripts/check_postgres.sh  # the Postgres build only
#
# Needs the PostgreSQL server binaries (initdb, pg_ctl: apt-get install postgresql;
# checked with 15). The server is initdb'd into a temporary directory, listens on a free
# loopback port only, and is stopped and deleted on exit, also when a step fails
# (scripts/pg_throwaway.py). Creates .venv (scripts/bootstrap.sh) unless
# NORTHSTAR_NO_BOOTSTRAP is set (scripts/test.sh has done it); writes nothing else in the
# checkout. NORTHSTAR_PG_CHECK_ACCOUNTS changes the data size. Exits non-zero on any
# failure or difference.
set -euo pipefail
cd "$(dirname "$0")/.."
accounts="${NORTHSTAR_PG_CHECK_ACCOUNTS:-30}"

if [ -z "${NORTHSTAR_NO_BOOTSTRAP:-}" ]; then
    bash scripts/bootstrap.sh
fi
[ -x .venv/bin/python ] && export PATH="$PWD/.venv/bin:$PATH"

work=$(mktemp -d "${TMPDIR:-/tmp}/northstar-pg-check.XXXXXX")
finish() {
    local status=$?
    if [ "$status" -ne 0 ]; then
        echo "check_postgres: FAILED (exit $status); logs kept in $work" >&2
    elif [ -n "${KEEP:-}" ]; then
        echo "check_postgres: work directory kept: $work"
    else
        rm -rf "$work"
    fi
    exit "$status"
}
trap finish EXIT

started=$(date +%s%N)
echo "==> generate demo data ($accounts accounts) into $work/raw"
northstar generate --accounts "$accounts" --out "$work/raw" >"$work/generate.log"
# The demo's own clock (`as_of` in its manifest): the build reads raw tables, not the
# files, so it gets the clock as NORTHSTAR_AS_OF (both engines).
as_of=$(python -c 'import sys; from pathlib import Path
from northstar.demo.generator import read_as_of
print(read_as_of(Path(sys.argv[1])) or "")' "$work/raw")
[ -n "$as_of" ] || { echo "check_postgres: no demo clock in $work/raw/_manifest.json" >&2; exit 1; }
echo "    as of $as_of, done in $((($(date +%s%N) - started) / 1000000)) ms"

NORTHSTAR_AS_OF="$as_of" python scripts/check_postgres.py --raw "$work/raw" --work "$work" \
    ${NO_COMPARE:+--no-compare}
echo "check_postgres: OK"
