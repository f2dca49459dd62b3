#!/usr/bin/env bash
# Fresh machine -> every check CI runs: lint, a dbt build of the demo with all dbt tests, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"

echo "==> ruff"
ruff check .
ruff format --check .

echo "==> demo data + dbt build (models, unit tests, data tests)"
northstar demo

echo "==> semantic layer: generated from the spec, valid, queryable"
northstar semantic --check
(unset DBT_TARGET_PATH; mf validate-configs && mf query --metrics messages_sent --group-by metric_time__week --limit 5)

echo "==> sqlfluff (dbt templater)"
sqlfluff lint models macros tests/dbt

echo "==> pytest"
pytest -q
