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

echo "==> sqlfluff (dbt templater)"
sqlfluff lint models macros tests/dbt

echo "==> pytest"
pytest -q
