#!/usr/bin/env bash
# Fresh machine -> every check CI runs: lint, a dbt build of the demo with all dbt tests,
# the semantic layer, the same build on Spark and on Postgres, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"

# Each step's start, in minutes into the run: CI has a 30-minute budget, and this shows
# where it goes.
step() { printf '==> [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

step "ruff"
ruff check .
ruff format --check .

step "expectation suites: the committed JSON is what the spec generates"
python scripts/generate_suites.py --check

step "started beside the rest: the same project on Spark and on PostgreSQL, each compared table by table with DuckDB (and sqlfluff once the demo is built)"
# In the background until pytest ends: each engine check is mostly one dbt thread waiting on
# its engine (a JVM, a server), so they fill the CPU that the steps below leave idle (alone,
# they kept two cores half busy for six minutes). Each has its own target path and warehouse,
# as does sqlfluff's compile of the project below, so they meet neither the demo nor each
# other. Each writes its own log, printed whole at the end.
# pyspark needs a Java runtime and the Postgres check the server binaries. CI's machines have
# both, and there a missing one fails the run; elsewhere that check is skipped, loudly,
# rather than failing a machine without it.
checks=$(mktemp -d "${TMPDIR:-/tmp}/northstar-engine-checks.XXXXXX")
declare -A check_pids=()
# each check in a session of its own, so that a step failing below stops the whole tree of
# a check still running (a JVM, a server) rather than leaving it behind
stop_checks() {
    local pid
    for pid in "${check_pids[@]}"; do kill -- "-$pid" 2>/dev/null || true; done
}
trap stop_checks EXIT
if command -v java >/dev/null 2>&1 || [ -n "${CI:-}" ]; then
    setsid bash scripts/check_spark.sh >"$checks/spark.log" 2>&1 &
    check_pids[spark]=$!
else
    echo "SKIPPED: the Spark check needs Java 17 (apt-get install openjdk-17-jre-headless)" >&2
fi
if command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null \
    || [ -n "${CI:-}" ]; then
    NORTHSTAR_NO_BOOTSTRAP=1 setsid bash scripts/check_postgres.sh >"$checks/postgres.log" 2>&1 &
    check_pids[postgres]=$!
else
    echo "SKIPPED: the Postgres check needs the PostgreSQL server (apt-get install postgresql)" >&2
fi

step "demo: generate data, dbt build (models, unit + data tests), validate, publish"
northstar demo

# sqlfluff compiles the models against a copy of the demo's warehouse: some models read the
# columns of the tables they select from while they compile (int_entities, the segments'
# columns), and against an empty warehouse dbt fails them, which sqlfluff only warns about,
# leaving them unlinted (checked below). A copy, so pytest and mf meet no lock of its.
cp "${NORTHSTAR_DUCKDB_PATH:-warehouse/northstar.duckdb}" "$checks/sqlfluff.duckdb"
setsid bash -c '
    export NORTHSTAR_DUCKDB_PATH="$1/sqlfluff.duckdb" DBT_TARGET_PATH="$1/sqlfluff-target"
    export DBT_LOG_PATH="$1/sqlfluff-logs"
    exec sqlfluff lint models tests/dbt
' _ "$checks" >"$checks/sqlfluff.log" 2>&1 &
check_pids[sqlfluff]=$!

step "the published snapshot opens in DuckDB 1.x (what many BI drivers bundle)"
bash scripts/check_duckdb1_reader.sh

step "semantic layer: generated from the spec, valid, queryable"
northstar semantic --check
(
    unset DBT_TARGET_PATH
    mf validate-configs
    mf query --metrics messages_sent --group-by metric_time__week --limit 5
    mf query --saved-query nsm_pack --limit 5
)

step "pytest"
# Three workers on two cores, one test file each at a time (module fixtures are built once;
# the files reading the demo build go to one worker together, conftest.py): most tests wait
# on dbt subprocesses, which left a fifth of two workers' CPU idle.
pytest_status=0
pytest -q -n "${NORTHSTAR_TEST_WORKERS:-3}" --dist loadfile --no-loadscope-reorder --durations=15 \
    || pytest_status=$?

step "the checks started beside pytest"
failed=""
for name in sqlfluff spark postgres; do
    [ -n "${check_pids[$name]:-}" ] || continue
    wait "${check_pids[$name]}" || failed="$failed $name"
    echo "--- $name check"
    cat "$checks/$name.log"
done
if grep -q "because dbt raised a fatal exception" "$checks/sqlfluff.log"; then
    echo "sqlfluff skipped a file dbt could not compile (above): it was not linted" >&2
    failed="$failed sqlfluff"
fi
check_pids=()
rm -rf "$checks"
if [ -n "$failed" ]; then
    echo "checks FAILED:$failed" >&2
    exit 1
fi
[ "$pytest_status" -eq 0 ] || exit "$pytest_status"
step "done"
