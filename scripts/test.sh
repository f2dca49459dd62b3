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

step "demo: generate data, dbt build (models, unit + data tests), validate, publish"
northstar demo

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

step "sqlfluff (dbt templater), and the same project on Spark and on PostgreSQL, each compared table by table with DuckDB"
# Side by side: each engine check is mostly one dbt thread waiting on its engine (a JVM, a
# server), so the three overlap well on two cores; the engine checks use their own target
# paths and warehouses, so sqlfluff's compile of the demo project meets neither. Each writes
# its own log, printed whole when it ends.
# pyspark needs a Java runtime and the Postgres check the server binaries. CI's machines have
# both, and there a missing one fails the run; elsewhere that check is skipped, loudly,
# rather than failing a machine without it.
checks=$(mktemp -d "${TMPDIR:-/tmp}/northstar-engine-checks.XXXXXX")
declare -A check_pids=()
sqlfluff lint models tests/dbt >"$checks/sqlfluff.log" 2>&1 &
check_pids[sqlfluff]=$!
if command -v java >/dev/null 2>&1 || [ -n "${CI:-}" ]; then
    bash scripts/check_spark.sh >"$checks/spark.log" 2>&1 &
    check_pids[spark]=$!
else
    echo "SKIPPED: the Spark check needs Java 17 (apt-get install openjdk-17-jre-headless)" >&2
fi
if command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null \
    || [ -n "${CI:-}" ]; then
    NORTHSTAR_NO_BOOTSTRAP=1 bash scripts/check_postgres.sh >"$checks/postgres.log" 2>&1 &
    check_pids[postgres]=$!
else
    echo "SKIPPED: the Postgres check needs the PostgreSQL server (apt-get install postgresql)" >&2
fi
failed=""
for name in sqlfluff spark postgres; do
    [ -n "${check_pids[$name]:-}" ] || continue
    wait "${check_pids[$name]}" || failed="$failed $name"
    echo "--- $name check"
    cat "$checks/$name.log"
done
rm -rf "$checks"
if [ -n "$failed" ]; then
    echo "checks FAILED:$failed" >&2
    exit 1
fi

step "pytest"
# Two workers, one test file each at a time (module fixtures are built once); most tests
# wait on dbt subprocesses, so two files overlap well on two cores.
pytest -q -n "${NORTHSTAR_TEST_WORKERS:-2}" --dist loadfile --durations=15
step "done"
