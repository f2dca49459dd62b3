#!/usr/bin/env bash
# Fresh machine -> built North Star metrics on embedded DuckDB with generated demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/northstar demo "$@"
