"""The validation gate on the contract fixture: a clean warehouse passes, and every kind of
expectation fails on a copy of the table it guards, corrupted the way real loads break.

The suites run here are generated from the fixture's own spec (CONTRACT_NORMALIZED_SPEC)
into a temporary directory by the same code that writes expectations/; one test checks
that the committed expectations/ is exactly what the project's spec generates (what CI
diffs).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from contract_warehouse import CONTRACT_NORMALIZED_SPEC, CONTRACT_SPEC, make_contract_warehouse

from northstar import exit_codes
from northstar.cli import cli
from northstar.errors import SettingsError, SuitesError, TablesNotFoundError
from northstar.paths import find_project_dir
from northstar.project_vars import load_vars
from northstar.spec import SPEC_TABLE, load_spec
from northstar.validation import ValidationSettings, validate_warehouse
from northstar.validation.suite_files import differences, write_suites
from northstar.validation.suites import build_suites

AS_OF = "2026-10-01"  # the fixture's incomplete week is the week of 2026-09-28


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clean fixture warehouse, its spec and the suites generated from that spec."""
    root = tmp_path_factory.mktemp("validation")
    make_contract_warehouse(root / "clean.duckdb")
    spec_file = root / "spec.yml"
    spec_file.write_text(CONTRACT_SPEC)
    project = find_project_dir()
    settings = ValidationSettings.from_vars(load_vars(project, spec_file))
    write_suites(root / "suites", build_suites(CONTRACT_NORMALIZED_SPEC, settings))
    return root


def warehouse_copy(fixture_dir: Path, tmp_path: Path, *statements: str) -> Path:
    """A copy of the clean warehouse with `statements` applied to it."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(fixture_dir / "clean.duckdb", path)
    con = duckdb.connect(str(path))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()
    return path


def run_validate(fixture_dir: Path, warehouse: Path, out: Path, *extra: str):
    return CliRunner().invoke(
        cli,
        [
            "validate",
            "--warehouse",
            str(warehouse),
            "--suites",
            str(fixture_dir / "suites"),
            "--out",
            str(out),
            "--as-of",
            AS_OF,
            *extra,
        ],
    )


def failed_checks(out: Path) -> set[tuple[str, str]]:
    """(check, table) of every failed expectation, from the results JSON."""
    result = json.loads((out / "validation_result.json").read_text())
    return {
        (expectation["check"], suite["table"])
        for suite in result["suites"]
        for expectation in suite["expectations"]
        if not expectation["success"]
    }


def test_clean_warehouse_passes(fixture_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    outcome = run_validate(fixture_dir, fixture_dir / "clean.duckdb", out)
    assert outcome.exit_code == exit_codes.OK, outcome.output
    assert "VALID:" in outcome.output
    result = json.loads((out / "validation_result.json").read_text())
    assert result["success"] is True
    assert result["counts"]["failed"] == 0
    assert result["counts"]["passed"] == result["counts"]["expectations"] > 15
    # every suite ran on rows: a suite that checked nothing would pass vacuously
    assert all(suite["rows"] for suite in result["suites"])
    index = out / "data_docs" / "index.html"
    assert index.is_file()
    pages = list((out / "data_docs" / "validations").rglob("*.html"))
    assert len(pages) == len(result["suites"])
    assert "Expectation Validation Result" in pages[0].read_text()


def test_a_guardrail_in_breach_is_reported_but_is_not_a_validation_failure(
    fixture_dir: Path, tmp_path: Path
) -> None:
    # the fixture's churn_rate is in breach in its latest complete week (0.4 >= 0.35)
    outcome = run_validate(fixture_dir, fixture_dir / "clean.duckdb", tmp_path / "out")
    assert outcome.exit_code == exit_codes.OK
    assert "Guardrails in breach" in outcome.output
    assert "churn_rate: week of 2026-09-21 value 0.4 (breach threshold 0.35)" in outcome.output


MV = "marts.fct_metric_values"
DIM = "marts.dim_metrics"
AHA = "marts.fct_aha_moments"
QUALITY = "marts.fct_event_quality_daily"
CHECKS = "marts._northstar_mart_checks"

# id -> (statements corrupting a copy, the (check, table) that must fail, other
# (check, table) pairs the same corruption may also fail). Faults that dbt's tests catch
# on the same table (a duplicate grain row, a missing period, a metric unknown to the
# catalog, NULL/NaN/infinity in a number) are not the gate's: test_singular_tests_fail.py
# and test_metric_numbers.py prove those dbt tests fail on them.
CORRUPTIONS = {
    "a rate of 1.5": (
        [
            f"update {MV} set value = 1.5, numerator = 15 "
            "where metric_name = 'activation_rate' and period_start = '2026-09-14'"
        ],
        ("rate_within_0_1", MV),
        set(),
    ),
    "a negative count": (
        [
            f"update {MV} set value = -30, numerator = -30 "
            "where metric_name = 'messages_sent' and period_start = '2026-09-28'"
        ],
        ("non_negative", MV),
        set(),
    ),
    "a negative denominator": (
        [
            f"update {MV} set denominator = -10 "
            "where metric_name = 'activation_rate' and period_start = '2026-09-07'"
        ],
        ("non_negative", MV),
        set(),
    ),
    "a stale latest period": (
        [f"delete from {MV} where period_start >= '2026-09-21'"],
        ("data_fresh", MV),
        set(),
    ),
    "a status that contradicts its thresholds": (
        [
            f"update {MV} set status = 'ok' "
            "where metric_name = 'churn_rate' and period_start = '2026-09-14'"
        ],
        ("status_matches_thresholds", MV),
        set(),
    ),
    "a value on the breach threshold that is not a breach": (
        [
            f"update {MV} set value = 0.35, status = 'warn' "
            "where metric_name = 'churn_rate' and period_start = '2026-09-21'"
        ],
        ("status_matches_thresholds", MV),
        set(),
    ),
    "a catalog role that is not the spec's": (
        [f"update {DIM} set role = 'output' where metric_name = 'activation_rate'"],
        ("catalog_matches_spec", DIM),
        set(),
    ),
    "a catalog threshold that is not the spec's": (
        [f"update {DIM} set warn_threshold = 0.25 where metric_name = 'churn_rate'"],
        ("catalog_matches_spec", DIM),
        set(),
    ),
    "a spec metric missing from the catalog and the values": (
        [
            f"delete from {DIM} where metric_name = 'activation_rate'",
            f"delete from {MV} where metric_name = 'activation_rate'",
        ],
        ("catalog_matches_spec", DIM),
        set(),
    ),
    "raw rows off by one in the quality mart": (
        [f"update {QUALITY} set raw_rows = raw_rows + 1 where event_date = '2026-09-15'"],
        ("raw_reconciles", QUALITY),
        set(),
    ),
    "a rejected row lost from staging": (
        ["delete from staging.stg_events_rejected"],
        ("raw_reconciles", QUALITY),
        set(),
    ),
    "a North Star jump outside the band": (
        [
            f"update {MV} set value = 400, numerator = 400 "
            "where metric_name = 'messages_sent' and period_start = '2026-09-21'"
        ],
        ("north_star_change_within_band", MV),
        set(),
    ),
    "a day with ten times its usual volume": (
        [
            f"update {QUALITY} set raw_rows = raw_rows + 180, accepted_rows = accepted_rows + 180 "
            "where event_date = '2026-09-22'",
            "insert into staging.stg_events select e.* replace (e.event_id || '-x' || n.i as "
            "event_id) from staging.stg_events as e, range(9) as n(i) "
            "where e.event_date = '2026-09-22'",
        ],
        ("volume_within_band", QUALITY),
        set(),
    ),
    "a day missing from the quality mart and from staging": (
        [
            f"delete from {QUALITY} where event_date = '2026-09-23'",
            "delete from staging.stg_events where event_date = '2026-09-23'",
        ],
        ("volume_within_band", QUALITY),
        set(),
    ),
    "an aha reached after its window": (
        [f"update {AHA} set days_to_aha = 20 where entity_id = 'a1'"],
        ("aha_matches_spec", AHA),
        set(),
    ),
    "an aha flag below the threshold": (
        [f"update {AHA} set qualifying_events_in_window = 99 where entity_id = 'a1'"],
        ("aha_matches_spec", AHA),
        set(),
    ),
    # dbt's tests are not repeated by the gate: it checks that they ran and passed
    "a mart rebuilt by dbt run, its tests not run since": (
        [
            f"insert into {CHECKS} values ('fct_metric_values', 'built', 'a-dbt-run', "
            "timestamp '2026-10-02 00:00:00', 1)"
        ],
        ("dbt_tests_passed", CHECKS),
        set(),
    ),
    "a mart whose dbt tests failed": (
        [
            f"insert into {CHECKS} values ('dim_metrics', 'failed', 'a-dbt-test', "
            "timestamp '2026-10-02 00:00:00', 2)"
        ],
        ("dbt_tests_passed", CHECKS),
        set(),
    ),
    "a required mart no dbt run recorded": (
        [f"delete from {CHECKS} where model = 'fct_aha_moments'"],
        ("dbt_tests_passed", CHECKS),
        set(),
    ),
}


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_a_corrupted_table_fails_and_the_output_names_the_expectation_and_the_table(
    case: str, fixture_dir: Path, tmp_path: Path
) -> None:
    statements, (check, table), collateral = CORRUPTIONS[case]
    warehouse = warehouse_copy(fixture_dir, tmp_path, *statements)
    out = tmp_path / "out"
    outcome = run_validate(fixture_dir, warehouse, out)
    assert outcome.exit_code == exit_codes.DATA_INVALID, outcome.output
    # the summary line names the check, the next one the GX expectation and the table
    assert re.search(
        rf"FAIL  {check} .*\n\s+expect_\w+\(.*\) on {re.escape(table)}\n", outcome.output
    ), outcome.output
    assert "INVALID:" in outcome.output
    failed = failed_checks(out)
    assert (check, table) in failed
    assert failed <= {(check, table), *collateral}, failed


def test_json_output_carries_the_failures(fixture_dir: Path, tmp_path: Path) -> None:
    statements, _, _ = CORRUPTIONS["a rate of 1.5"]
    warehouse = warehouse_copy(fixture_dir, tmp_path, *statements)
    outcome = run_validate(fixture_dir, warehouse, tmp_path / "out", "--json")
    assert outcome.exit_code == exit_codes.DATA_INVALID
    result = json.loads(outcome.output)
    assert result["success"] is False
    assert result["counts"]["failed"] == 1
    [failure] = [e for suite in result["suites"] for e in suite["expectations"] if not e["success"]]
    assert failure["check"] == "rate_within_0_1"
    assert failure["result"]["partial_unexpected_list"] == [1.5]
    assert "period_start=2026-09-14" in failure["observed"]


def test_missing_warehouse_is_a_plain_not_found(fixture_dir: Path, tmp_path: Path) -> None:
    outcome = run_validate(fixture_dir, tmp_path / "nope.duckdb", tmp_path / "out")
    assert outcome.exit_code == exit_codes.NOT_FOUND
    assert "warehouse not found" in outcome.output
    assert "Traceback" not in outcome.output


def test_missing_table_is_a_plain_not_found(fixture_dir: Path, tmp_path: Path) -> None:
    warehouse = warehouse_copy(fixture_dir, tmp_path, f"drop table {AHA}")
    outcome = run_validate(fixture_dir, warehouse, tmp_path / "out")
    assert outcome.exit_code == exit_codes.NOT_FOUND
    assert outcome.output.strip() == (
        f"error: table not found in {warehouse}: {AHA} (has the dbt build run to the end?)"
    )


def test_empty_table_says_so_and_fails(fixture_dir: Path, tmp_path: Path) -> None:
    warehouse = warehouse_copy(fixture_dir, tmp_path, f"delete from {AHA}")
    out = tmp_path / "out"
    outcome = run_validate(fixture_dir, warehouse, out)
    assert outcome.exit_code == exit_codes.DATA_INVALID
    assert f"{AHA} is empty (0 rows): nothing to validate" in outcome.output
    assert "Traceback" not in outcome.output
    result = json.loads((out / "validation_result.json").read_text())
    [empty] = [suite for suite in result["suites"] if suite["error"]]
    assert empty["table"] == AHA
    assert result["counts"]["not_run"] == len(
        json.loads((fixture_dir / "suites" / "fct_aha_moments.json").read_text())["expectations"]
    )


def test_a_missing_contract_column_fails_plainly(fixture_dir: Path, tmp_path: Path) -> None:
    warehouse = warehouse_copy(fixture_dir, tmp_path, f"alter table {MV} drop column status")
    out = tmp_path / "out"
    outcome = run_validate(fixture_dir, warehouse, out)
    assert outcome.exit_code == exit_codes.DATA_INVALID, outcome.output
    assert "Traceback" not in outcome.output
    assert (
        f"cannot build the metric_status frame: {MV} has no column status (the public "
        "contract)" in outcome.output
    )


def test_a_contract_column_of_the_wrong_type_fails_plainly(
    fixture_dir: Path, tmp_path: Path
) -> None:
    warehouse = warehouse_copy(
        fixture_dir, tmp_path, f"alter table {MV} alter column value type varchar"
    )
    outcome = run_validate(fixture_dir, warehouse, tmp_path / "out")
    assert outcome.exit_code == exit_codes.DATA_INVALID, outcome.output
    assert "Traceback" not in outcome.output
    assert "cannot build the metric_status frame: " in outcome.output


@pytest.mark.parametrize(
    "value", ["yesterday", "2026-13-01", "01/10/2026", "", "2026-10-01; drop table x"]
)
def test_a_bad_as_of_is_a_usage_error(fixture_dir: Path, tmp_path: Path, value: str) -> None:
    out = tmp_path / "out"
    outcome = CliRunner().invoke(
        cli,
        [
            "validate",
            "--warehouse",
            str(fixture_dir / "clean.duckdb"),
            "--suites",
            str(fixture_dir / "suites"),
            "--out",
            str(out),
            "--as-of",
            value,
        ],
    )
    assert outcome.exit_code == exit_codes.USAGE, outcome.output
    assert isinstance(outcome.exception, SystemExit)
    assert "Traceback" not in outcome.output
    assert outcome.stdout == ""
    assert outcome.stderr == (
        f"error: --as-of: {value!r} is not a date; use YYYY-MM-DD (or an ISO timestamp), "
        "e.g. 2026-10-01\n"
    )
    assert not out.exists()  # refused before anything ran


WRITER = (
    "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
    "print('locked', flush=True); time.sleep(120)"
)


@pytest.fixture
def held_open_for_writing(fixture_dir: Path, tmp_path: Path):
    """A copy of the clean warehouse that another process holds open for writing, as a
    running dbt build does: DuckDB then refuses even a read-only connection."""
    warehouse = warehouse_copy(fixture_dir, tmp_path)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(warehouse)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout.readline().strip() == "locked"
        yield warehouse
    finally:
        writer.kill()
        writer.wait()


def test_validate_on_a_warehouse_open_for_writing_is_exit_3(
    fixture_dir: Path, tmp_path: Path, held_open_for_writing: Path
) -> None:
    warehouse = held_open_for_writing
    outcome = run_validate(fixture_dir, warehouse, tmp_path / "out")
    assert outcome.exit_code == exit_codes.PIPELINE_FAILED, outcome.output
    assert "Traceback" not in outcome.output
    assert outcome.stdout == ""
    assert outcome.stderr.startswith(
        f"error: the warehouse {warehouse} is open for writing by another process (a dbt "
        "build?): try again after it finishes"
    )
    assert outcome.stderr.count("\n") == 1  # one line


def test_publish_on_a_warehouse_open_for_writing_is_exit_3_through_the_real_gate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, held_open_for_writing: Path
) -> None:
    """`northstar publish` with the real validation gate (not a fake validator): the gate
    is what opens the warehouse first, so it must report the writer as publish does."""
    from snapshot_helpers import isolated_env

    for key, value in isolated_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    warehouse = held_open_for_writing
    monkeypatch.setenv("NORTHSTAR_DUCKDB_PATH", str(warehouse))
    outcome = CliRunner().invoke(cli, ["publish"])
    assert outcome.exit_code == exit_codes.PIPELINE_FAILED, outcome.output
    assert "Traceback" not in outcome.output
    errors = [line for line in outcome.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, outcome.stderr
    assert errors[0].startswith(
        f"error: the warehouse {warehouse} is open for writing by another process"
    )
    snapshots = tmp_path / "snapshots"
    assert not snapshots.exists() or [p.name for p in snapshots.iterdir()] == [".lock"]


def test_a_feed_without_duplicates_or_rejects_is_valid(fixture_dir: Path, tmp_path: Path) -> None:
    # empty staging side tables are a clean feed, not an empty table
    warehouse = warehouse_copy(
        fixture_dir,
        tmp_path,
        "delete from staging.stg_events_duplicates",
        "delete from staging.stg_events_rejected",
        f"update {QUALITY} set raw_rows = accepted_rows, duplicate_rows = 0, rejected_rows = 0",
    )
    outcome = run_validate(fixture_dir, warehouse, tmp_path / "out")
    assert outcome.exit_code == exit_codes.OK, outcome.output


def test_validate_warehouse_is_a_plain_function(fixture_dir: Path, tmp_path: Path) -> None:
    result = validate_warehouse(
        fixture_dir / "clean.duckdb", None, suites_dir=fixture_dir / "suites", as_of=AS_OF
    )
    assert result.success is True
    assert "VALID:" in result.summary_text()
    data = json.loads(json.dumps(result.to_dict()))
    assert data["success"] is True
    assert data["as_of"] == AS_OF
    assert set(data["counts"]) == {
        "suites",
        "suites_failed",
        "expectations",
        "passed",
        "failed",
        "not_run",
    }
    assert data["run_seconds"] > 0
    assert data["outputs"] == {}  # no out_dir: nothing written


@pytest.fixture(scope="module")
def project_spec() -> dict:
    """The project's spec, normalized by dbt (one run-operation for the module)."""
    return load_spec(find_project_dir())


def copy_project(destination: Path) -> Path:
    """dbt_project.yml and expectations/ copied, the macros linked: enough for dbt to
    normalize the spec."""
    project = find_project_dir()
    shutil.copy(project / "dbt_project.yml", destination / "dbt_project.yml")
    shutil.copytree(project / "expectations", destination / "expectations")
    (destination / "macros").symlink_to(project / "macros")
    return destination


def warehouse_with_spec(path: Path, spec: dict) -> Path:
    """A warehouse holding only the normalized spec of its build (int_northstar_spec)."""
    with duckdb.connect(str(path)) as con:
        con.execute(f"create schema {SPEC_TABLE.split('.')[0]}")
        con.execute(f"create table {SPEC_TABLE} as select ? as spec_json", [json.dumps(spec)])
    return path


def test_the_committed_suites_are_what_the_spec_generates(project_spec: dict) -> None:
    # the same comparison CI makes with `git diff --exit-code expectations/`
    project = find_project_dir()
    settings = ValidationSettings.from_vars(load_vars(project))
    generated = build_suites(project_spec, settings)
    assert differences(project / "expectations", generated) == []


def test_suites_are_checked_against_the_spec_the_warehouse_was_built_with(
    tmp_path: Path, project_spec: dict
) -> None:
    """No dbt call: the spec comes from int_northstar_spec, not from dbt_project.yml (whose
    churn_rate threshold is changed here, so reading it would refuse the suites)."""
    project = copy_project(tmp_path)
    text = (project / "dbt_project.yml").read_text()
    (project / "dbt_project.yml").write_text(text.replace("warn: 0.2\n", "warn: 0.25\n", 1))
    # built with the spec the suites were generated from: the check passes (and then the
    # warehouse lacks the tables the suites read)
    fresh = warehouse_with_spec(tmp_path / "fresh.duckdb", project_spec)
    with pytest.raises(TablesNotFoundError):
        validate_warehouse(fresh, None, project_dir=project)
    # built with another threshold: refused
    changed = json.loads(json.dumps(project_spec))
    churn = next(m for m in changed["metrics"] if m["name"] == "churn_rate")
    assert churn["warn"] == 0.2
    churn["warn"] = 0.25
    stale = warehouse_with_spec(tmp_path / "changed.duckdb", changed)
    with pytest.raises(SuitesError, match=r"out of date with the spec .*dim_metrics\.json"):
        validate_warehouse(stale, None, project_dir=project)


def test_a_warehouse_without_its_spec_is_checked_against_the_project_spec(tmp_path: Path) -> None:
    """A warehouse built before int_northstar_spec existed: dbt normalizes the project's."""
    project = copy_project(tmp_path)
    text = (project / "dbt_project.yml").read_text()
    assert "warn: 0.2\n" in text
    (project / "dbt_project.yml").write_text(text.replace("warn: 0.2\n", "warn: 0.25\n", 1))
    duckdb.connect(str(tmp_path / "old.duckdb")).close()
    with pytest.raises(SuitesError, match="out of date with the spec"):
        validate_warehouse(tmp_path / "old.duckdb", None, project_dir=project)


def test_generate_suites_check_prints_a_diff_of_each_stale_file(tmp_path: Path) -> None:
    """`scripts/generate_suites.py --check` (what CI runs) names the stale files and
    shows what changed in each, as a unified diff a reviewer can read (or apply)."""
    project = find_project_dir()
    copy_project(tmp_path)
    script = [sys.executable, str(project / "scripts" / "generate_suites.py")]
    check = [*script, "--check", "--project-dir", str(tmp_path)]
    text = (tmp_path / "dbt_project.yml").read_text()
    (tmp_path / "dbt_project.yml").write_text(text.replace("warn: 0.2\n", "warn: 0.25\n", 1))
    (tmp_path / "expectations" / "fct_aha_moments.json").unlink()  # a suite not committed
    (tmp_path / "expectations" / "old_suite.json").write_text('{"name": "old_suite"}\n')
    stale = subprocess.run(check, capture_output=True, text=True, check=False)
    assert stale.returncode == 1
    assert "Traceback" not in stale.stderr
    assert stale.stderr.startswith(
        "out of date: dim_metrics.json, fct_aha_moments.json, "
        "fct_metric_values__status.json, old_suite.json; run scripts/generate_suites.py"
    )
    diff = stale.stdout
    # the changed threshold, in the status suite's params and in the catalog check
    assert "--- a/expectations/fct_metric_values__status.json\n" in diff
    assert "+++ b/expectations/fct_metric_values__status.json\n" in diff
    assert '\n-            "warn": 0.2\n+            "warn": 0.25\n' in diff
    assert '\n-          "churn_rate:guardrail:lower_is_better:warn=0.2:breach=0.35"' in diff
    assert '\n+          "churn_rate:guardrail:lower_is_better:warn=0.25:breach=0.35"' in diff
    # a suite to add and a file to remove are diffs against /dev/null
    assert "--- /dev/null\n+++ b/expectations/fct_aha_moments.json\n" in diff
    assert "--- a/expectations/old_suite.json\n+++ /dev/null\n" in diff
    assert '\n-{"name": "old_suite"}\n' in diff
    # only the stale files are shown, and nothing was written
    assert "fct_metric_values__freshness.json" not in diff
    assert not (tmp_path / "expectations" / "fct_aha_moments.json").exists()
    if shutil.which("patch") is None:
        return
    # the diff is a patch: applied, the suites are up to date
    patch = subprocess.run(
        ["patch", "-p1", "--quiet"], input=diff, cwd=tmp_path, text=True, check=False
    )
    assert patch.returncode == 0
    after = subprocess.run(check, capture_output=True, text=True, check=False)
    assert after.returncode == 0, after.stdout + after.stderr
    assert after.stdout.strip() == f"{tmp_path / 'expectations'}: 9 suites up to date"


def test_unknown_validation_setting_names_the_key() -> None:
    with pytest.raises(SettingsError, match="unknown key"):
        ValidationSettings.from_vars({"northstar__validation": {"volume_bnad": [0, 3]}})
    with pytest.raises(SettingsError, match="volume_band"):
        ValidationSettings.from_vars({"northstar__validation": {"volume_band": [2, 1]}})
    with pytest.raises(SettingsError, match="must be a mapping"):
        ValidationSettings.from_vars({"northstar__validation": [1, 2]})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"nsm_max_abs_change_pct": 0}, "nsm_max_abs_change_pct: Input should be greater than 0"),
        ({"nsm_max_abs_change_pct": "big"}, "nsm_max_abs_change_pct: Input should be a valid"),
        ({"nsm_change_grains": ["hour"]}, "nsm_change_grains: unknown grain(s) ['hour']"),
        (
            {"nsm_change_warmup_periods": -1},
            "nsm_change_warmup_periods: Input should be greater than or equal to 0",
        ),
        ({"volume_band": [2, 1]}, "volume_band: must be [low, high] with 0 <= low < high"),
        ({"volume_band": [-1, 1]}, "volume_band: must be [low, high] with 0 <= low < high"),
        ({"volume_band": [0.5, 1, 2]}, "volume_band: Tuple should have at most 2 items"),
        ({"volume_history_weeks": 0}, "volume_history_weeks: Input should be greater than"),
        ({"freshness_max_age_days": -1}, "freshness_max_age_days: Input should be greater than"),
        ({"freshness_max_age_days": 1.5}, "freshness_max_age_days: Input should be a valid int"),
    ],
)
def test_a_bad_validation_setting_names_the_key_and_the_rule(raw: dict, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        ValidationSettings.from_vars({"northstar__validation": raw})
    assert str(caught.value).startswith(f"vars.northstar__validation.{message}"), caught.value


def test_validation_settings_default_and_coerce_like_yaml() -> None:
    assert ValidationSettings.from_vars({}) == ValidationSettings()
    settings = ValidationSettings.from_vars(
        {"northstar__validation": {"volume_band": ["0.25", 3], "nsm_change_grains": ["day"]}}
    )
    assert settings.volume_band == (0.25, 3.0)
    assert settings.nsm_change_grains == ("day",)
    assert settings.as_dict()["volume_band"] == [0.25, 3.0]


def test_expected_status_follows_direction_thresholds_and_status_grains(tmp_path: Path) -> None:
    from datetime import date

    from northstar.validation import frames
    from northstar.validation.warehouse import Warehouse

    rows = [
        # metric, grain, value, expected status
        ("mean_nps", "week", 8.0, "ok"),
        ("mean_nps", "week", 7.0, "warn"),  # higher is better: reaching warn is warn
        ("mean_nps", "week", 6.5, "warn"),
        ("mean_nps", "week", 6.0, "breach"),
        ("mean_nps", "week", None, "none"),
        ("mean_nps", "day", 1.0, "none"),  # not a status grain
        ("only_warn", "week", 0.5, "warn"),
        ("only_warn", "week", 0.1, "ok"),
        ("no_thresholds", "week", 99.0, "none"),
    ]
    path = tmp_path / "status.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(
        "create table marts.fct_metric_values (metric_name varchar, grain varchar, "
        "period_start date, segment_name varchar, segment_value varchar, value double, "
        "status varchar)"
    )
    for index, (metric, grain, value, _) in enumerate(rows):
        con.execute(
            "insert into marts.fct_metric_values values (?, ?, date '2026-01-05' + ?, "
            "'all', 'all', ?, 'none')",
            [metric, grain, 7 * index, value],
        )
    con.close()
    thresholds = {
        "mean_nps": {
            "direction": "higher_is_better",
            "warn": 7.0,
            "breach": 6.0,
            "status_grains": ["week"],
        },
        "only_warn": {
            "direction": "lower_is_better",
            "warn": 0.4,
            "breach": None,
            "status_grains": ["week"],
        },
    }
    with Warehouse(path) as warehouse:
        frame = frames.build_frame(
            warehouse,
            "metric_status",
            {"thresholds": thresholds},
            frames.RunContext(as_of=date(2026, 10, 1)),
        )
    assert list(frame.sort_values("period_start")["expected_status"]) == [r[3] for r in rows]


def test_a_warehouse_no_dbt_run_recorded_is_not_found(fixture_dir: Path, tmp_path: Path) -> None:
    """Built by hand or by a northstar from before the record: the gate cannot tell that
    dbt's tests passed, and says which table it looked for."""
    warehouse = warehouse_copy(fixture_dir, tmp_path, f"drop table {CHECKS}")
    outcome = run_validate(fixture_dir, warehouse, tmp_path / "out")
    assert outcome.exit_code == exit_codes.NOT_FOUND, outcome.output
    assert CHECKS in outcome.output and "dbt build" in outcome.output
