#!/usr/bin/env bash
# Fresh machine -> every check CI runs: lint, a dbt build of the demo with all dbt tests,
# the semantic layer, the same build on Spark and on Postgres, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"

echo "==> ruff"
ruff check .
ruff format --check .

echo "==> expectation suites: the committed JSON is what the spec generates"
python scripts/generate_suites.py --check

echo "==> demo: generate data, dbt build (models, unit + data tests), validate, publish"
northstar demo

echo "==> the published snapshot opens in DuckDB 1.x (what many BI drivers bundle)"
bash scripts/check_duckdb1_reader.sh

echo "==> semantic layer: generated from the spec, valid, queryable"
northstar semantic --check
(
    unset DBT_TARGET_PATH
    mf validate-configs
    mf query --metrics messages_sent --group-by metric_time__week --limit 5
    mf query --saved-query nsm_pack --limit 5
)

echo "==> sqlfluff (dbt templater)"
sqlfluff lint models tests/dbt

echo "==> the same project on Spark (dbt-spark session), compared table by table with DuckDB"
# pyspark needs a Java runtime. CI's machines have one, and there a missing Java fails the
# run; elsewhere the check is skipped, loudly, rather than failing a Python-only machine.
if command -v java >/dev/null 2>&1 || [ -n "${CI:-}" ]; then
    bash scripts/check_spark.sh
else
    echo "SKIPPED: the Spark check needs Java 17 (apt-get install openjdk-17-jre-headless)" >&2
fi

echo "==> the same project on PostgreSQL (a throwaway server), compared with DuckDB"
# The same rule: CI's image has the PostgreSQL server binaries, a missing initdb fails there.
if command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null \
    || [ -n "${CI:-}" ]; then
    NORTHSTAR_NO_BOOTSTRAP=1 bash scripts/check_postgres.sh
else
    echo "SKIPPED: the Postgres check needs the PostgreSQL server (apt-get install postgresql)" >&2
fi

echo "==> pytest"
# Two workers, one test file each at a time (module fixtures are built once); most tests
# wait on dbt subprocesses, so two files overlap well on two cores.
pytest -q -n "${NORTHSTAR_TEST_WORKERS:-2}" --dist loadfile --durations=15
