#!/usr/bin/env bash
# The whole dbt project on Spark: `dbt build` (every model, unit test and data test) through
# dbt-spark with `method: session` (a local pyspark, no cluster), on freshly generated demo
# data, then the same build on DuckDB and a table-by-table comparison of the two
# (scripts/compare_engines.py). docs/engines.md explains what it checks.
#
#   bash scripts/check_spark.sh              # 1.5 to 3 minutes on 2 cores, +1 min for the venvs
#   KEEP=1 bash scripts/check_spark.sh       # keep the work directory (logs, both warehouses)
#   NO_COMPARE=1 bash scripts/check_spark.sh # the Spark build only
#
# Needs Java 17 (pyspark starts a JVM) and Python 3.11. Creates .venv-spark from
# requirements-spark.lock when missing or when the lock changed, and .venv (scripts/bootstrap.sh)
# for the generator, the DuckDB build and the comparison. Writes nothing else in the checkout:
# data, dbt target/logs, the Spark warehouse and metastore go to a temporary directory, so the
# project's target/ and warehouse/ are untouched. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
project_dir=$PWD
accounts="${NORTHSTAR_SPARK_CHECK_ACCOUNTS:-30}"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
seconds_since() { # ms timestamp -> "12.3"
    local ms=$(($(now_ms) - $1))
    printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100))
}
started_all=$(now_ms)
declare -a timings=()
step_started=0
step() {
    echo "==> $1"
    step_started=$(now_ms)
}
step_done() {
    local seconds
    seconds=$(seconds_since "$step_started")
    timings+=("$(printf '%-20s %7s s' "$1" "$seconds")")
    echo "    done in $seconds s"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/northstar-spark-check.XXXXXX")
finish() {
    local status=$?
    if [ "$status" -ne 0 ]; then
        echo "check_spark: FAILED (exit $status); logs kept in $work" >&2
    elif [ -n "${KEEP:-}" ]; then
        echo "check_spark: work directory kept: $work"
    else
        rm -rf "$work"
    fi
    exit "$status"
}
trap finish EXIT

# --- toolchains --------------------------------------------------------------------------
if ! command -v java >/dev/null 2>&1; then
    echo "check_spark: java not found; pyspark needs a JRE 17 (apt-get install openjdk-17-jre-headless)" >&2
    exit 1
fi

step "venvs: .venv (bootstrap.sh) and .venv-spark (requirements-spark.lock)"
bash scripts/bootstrap.sh
python_bin="${PYTHON:-python3.11}"
command -v "$python_bin" >/dev/null 2>&1 || python_bin=python3
if ! "$python_bin" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "check_spark: needs Python 3.11 (found $("$python_bin" --version 2>&1)); set PYTHON" >&2
    exit 1
fi
stamp=.venv-spark/.northstar-spark-installed
want=$(sha256sum requirements-spark.lock | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "    installing requirements-spark.lock into .venv-spark (about a minute)"
    [ -x .venv-spark/bin/python ] || "$python_bin" -m venv .venv-spark
    # This machine's pip.conf names local mirror folders that may not exist: drop only
    # pip's warnings about those (as bootstrap.sh does).
    .venv-spark/bin/python -m pip install --quiet --disable-pip-version-check \
        -r requirements-spark.lock \
        2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
    .venv-spark/bin/dbt --version >/dev/null
    echo "$want" > "$stamp"
fi
step_done "venvs"

# --- data ----------------------------------------------------------------------------------
step "generate demo data ($accounts accounts) into $work/raw"
.venv/bin/northstar generate --accounts "$accounts" --out "$work/raw" >"$work/generate.log"
# The demo carries its own clock (`as_of` in its manifest). dbt reads it itself on DuckDB
# only (macro northstar_reference_time), so both engines get it as NORTHSTAR_AS_OF.
as_of=$(.venv/bin/python -c 'import sys; from pathlib import Path
from northstar.demo.generator import read_as_of
print(read_as_of(Path(sys.argv[1])) or "")' "$work/raw")
[ -n "$as_of" ] || { echo "check_spark: no demo clock in $work/raw/_manifest.json" >&2; exit 1; }
echo "    as of $as_of"
step_done "generate data"

export DBT_SEND_ANONYMOUS_USAGE_STATS=false
export NORTHSTAR_RAW_DIR="$work/raw"
export NORTHSTAR_AS_OF="$as_of"

# dbt's own summary lines (a timestamp first), without Spark's JVM log noise.
dbt_summary() { sed 's/\x1b\[[0-9;]*m//g' "$1" | grep -E '^[0-9]{2}:[0-9]{2}:[0-9]{2}  ' || true; }

# --- Spark ---------------------------------------------------------------------------------
spark_dir="$work/spark"
mkdir -p "$spark_dir/profiles"
# The spark target of profiles.example.yml, with the settings a local session needs: UTC
# session time zone (the staging macros assume it, docs/raw-event-contract.md), warehouse,
# metastore and Derby log in the work directory (by default they land in the project), small
# shuffles for small data, Parquet tables (compare_engines.py reads their files).
cat >"$spark_dir/profiles/profiles.yml" <<EOF
northstar:
  target: spark
  outputs:
    spark:
      type: spark
      method: session
      schema: northstar
      host: NA
      threads: 1
      server_side_parameters:
        spark.sql.session.timeZone: UTC
        spark.sql.warehouse.dir: "$spark_dir/spark-warehouse"
        spark.hadoop.javax.jdo.option.ConnectionURL: "jdbc:derby:;databaseName=$spark_dir/metastore_db;create=true"
        spark.sql.sources.default: parquet
        spark.sql.legacy.createHiveTableByDefault: "false"
        spark.sql.shuffle.partitions: "2"
        spark.default.parallelism: "2"
        spark.ui.enabled: "false"
EOF

step "dbt build on Spark (dbt-spark, method: session)"
if ! (
    export DBT_PROFILES_DIR="$spark_dir/profiles"
    export DBT_TARGET_PATH="$spark_dir/target" DBT_LOG_PATH="$spark_dir/logs"
    export SPARK_LOCAL_IP=127.0.0.1
    export PYSPARK_SUBMIT_ARGS="--driver-java-options '-Dderby.system.home=$spark_dir -Duser.timezone=UTC' --conf spark.driver.memory=2g pyspark-shell"
    .venv-spark/bin/dbt build --target spark >"$spark_dir/build.log" 2>&1
); then
    dbt_summary "$spark_dir/build.log" | tail -40
    echo "check_spark: dbt build on Spark failed; full log: $spark_dir/build.log" >&2
    exit 1
fi
dbt_summary "$spark_dir/build.log" | grep -E 'Finished running|Done\. ' | sed 's/^/    /'
step_done "dbt build (spark)"

# --- DuckDB and the comparison -----------------------------------------------------------------
if [ -z "${NO_COMPARE:-}" ]; then
    duck_dir="$work/duckdb"
    mkdir -p "$duck_dir"
    step "dbt build on DuckDB (same data, temporary warehouse)"
    if ! (
        export DBT_PROFILES_DIR="$project_dir"
        export NORTHSTAR_DUCKDB_PATH="$duck_dir/northstar.duckdb"
        export DBT_TARGET_PATH="$duck_dir/target" DBT_LOG_PATH="$duck_dir/logs"
        .venv/bin/dbt build >"$work/duckdb-build.log" 2>&1
    ); then
        dbt_summary "$work/duckdb-build.log" | tail -40
        echo "check_spark: dbt build on DuckDB failed; full log: $work/duckdb-build.log" >&2
        exit 1
    fi
    dbt_summary "$work/duckdb-build.log" | grep -E 'Done\. ' | sed 's/^/    /'
    step_done "dbt build (duckdb)"

    step "compare every table: Spark vs DuckDB"
    .venv/bin/python scripts/compare_engines.py \
        --duckdb "$duck_dir/northstar.duckdb" --spark-warehouse "$spark_dir/spark-warehouse"
    step_done "compare"
fi

echo "==> timings"
printf '    %s\n' "${timings[@]}"
printf '    %-20s %7s s\n' "total" "$(seconds_since "$started_all")"
echo "check_spark: OK"
