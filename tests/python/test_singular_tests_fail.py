"""The dbt tests on the metric layer can fail: tamper a built warehouse, rerun them.

A test that cannot fail proves nothing. test_metric_recompute's fixture (eight ISO weeks of
eight teams, segments plan/country/platform, a quiet week) is built once with the demo
spec: `dbt run` of fct_metric_values, fct_aha_moments and everything upstream, which is
every table the tests read. The untampered warehouse passes them. Then each case gets a
fresh copy of that warehouse with one table tampered by SQL (or an upstream table tampered
and int_lifecycle_periods rebuilt from it), and `dbt test --select <test>` must fail naming
it. Every case reuses one target directory, so dbt parses the project once.

The validation gate leaves to dbt the rules dbt checks on the very tables it publishes
(docs/validation.md, "Which layer checks what"): a duplicate grain row, a missing period,
a metric unknown to the catalog or with another role. The cases marked "gate" below are
the faults the gate's own tests planted before; here they must fail the dbt test instead.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from metric_checks import PROJECT_DIR, Build, run_dbt
from spec_yaml import raw_spec
from test_metric_recompute import fixture_vars, week_of, write_fixture

pytestmark = pytest.mark.dbt

SEGMENTS_SUM_TO_ALL = "test_fct_metric_values__segments_sum_to_all"
NO_GAPS_IN_SPINE = "test_fct_metric_values__no_gaps_in_spine"
LIFECYCLE_IDENTITY = "test_int_lifecycle_periods__active_equals_new_returning_resurrecting"
COVERS_EVERY_METRIC = "test_fct_metric_values__covers_every_metric"
UNIQUE_METRIC_VALUE = (
    "unique_combination_of_columns_fct_metric_values_"
    "metric_name__grain__period_start__segment_name__segment_value"
)
UNIQUE_CATALOG_ROW = "unique_dim_metrics_metric_name"
SEGMENT_TARGETS_LAND = "test_fct_metric_values__segment_targets_name_a_segment_value"
UNIQUE_AHA_ROW = "unique_fct_aha_moments_entity_id"
NORTH_STAR_LINT = "test_dim_metrics__north_star_lint"
TESTS = [
    NORTH_STAR_LINT,
    SEGMENTS_SUM_TO_ALL,
    NO_GAPS_IN_SPINE,
    LIFECYCLE_IDENTITY,
    COVERS_EVERY_METRIC,
    UNIQUE_METRIC_VALUE,
    UNIQUE_CATALOG_ROW,
    UNIQUE_AHA_ROW,
    SEGMENT_TARGETS_LAND,
]


@dataclass(frozen=True)
class Built:
    workdir: Path
    vars_text: str

    @property
    def warehouse(self) -> Path:
        return self.workdir / "warehouse.duckdb"

    @property
    def pristine(self) -> Path:
        return self.workdir / "pristine.duckdb"

    def fresh(self) -> None:
        """The warehouse dbt reads becomes a fresh copy of the untampered build."""
        shutil.copy(self.pristine, self.warehouse)

    def tamper(self, *statements: str) -> None:
        """A fresh copy of the build, changed by `statements` (each must change at least
        one row, or the case would prove nothing)."""
        self.fresh()
        with duckdb.connect(str(self.warehouse)) as con:
            for statement in statements:
                ((changed,),) = con.execute(statement).fetchall()
                assert changed >= 1, f"the tampering changed nothing: {statement}"

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.sql(sql).fetchall()

    def dbt(self, *args: str) -> Build:
        return run_dbt(list(args), self.workdir, self.vars_text)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    workdir = tmp_path_factory.mktemp("singular")
    write_fixture(workdir / "fixture")
    built = Built(workdir=workdir, vars_text=json.dumps(fixture_vars(workdir / "fixture")))
    run = built.dbt("run", "--select", "+fct_metric_values", "+fct_aha_moments")
    assert run.result.returncode == 0, run.log
    shutil.copy(built.warehouse, built.pristine)
    return built


def singular_results(result: Build) -> list[dict]:
    """The tests' results in run_results.json (without the on-run-start hook's)."""
    return [r for r in result.run_results() if r["unique_id"].startswith("test.")]


def name_of(outcome: dict) -> str:
    """The test's name in its unique_id (a generic test's ends with a hash)."""
    return outcome["unique_id"].split(".")[2]


def assert_fails(result: Build, test: str) -> None:
    """dbt exits non-zero, and the one test it ran failed with rows to show."""
    assert result.result.returncode != 0, result.log
    assert "FAIL" in result.result.stdout and test in result.result.stdout, result.log
    (outcome,) = singular_results(result)
    assert name_of(outcome) == test, outcome["unique_id"]
    assert outcome["status"] == "fail" and outcome["failures"] >= 1, outcome


def test_the_built_fixture_passes_every_singular_test(built: Built) -> None:
    built.fresh()
    result = built.dbt("test", "--select", *TESTS)
    assert result.result.returncode == 0, result.log
    statuses = {name_of(r): r["status"] for r in singular_results(result)}
    assert statuses == dict.fromkeys(TESTS, "pass")


WEEK_2 = f"date '{week_of(2)}'"


def test_segments_sum_to_all_fails_when_a_segment_value_is_off(built: Built) -> None:
    """An additive metric's value in one plan no longer adds up to the total."""
    built.tamper(
        "update marts.fct_metric_values set value = value + 1 "
        "where metric_name = 'messages_sent' and grain = 'week' "
        f"and segment_name = 'plan' and segment_value = 'pro' and period_start = {WEEK_2}"
    )
    assert_fails(built.dbt("test", "--select", SEGMENTS_SUM_TO_ALL), SEGMENTS_SUM_TO_ALL)


def test_segments_sum_to_all_fails_when_a_rate_denominator_is_off(built: Built) -> None:
    """A rate is not additive, but its denominator is: one country's no longer adds up."""
    built.tamper(
        "update marts.fct_metric_values set denominator = denominator + 1 "
        "where metric_name = 'support_tickets_per_active_team' and grain = 'week' "
        f"and segment_name = 'country' and segment_value = 'US' and period_start = {WEEK_2}"
    )
    assert_fails(built.dbt("test", "--select", SEGMENTS_SUM_TO_ALL), SEGMENTS_SUM_TO_ALL)


def test_a_segment_target_on_no_row_warns_naming_it(built: Built) -> None:
    """The demo spec's plan=business target of messages_sent, in data without business
    teams (a typo, or a plan not launched yet): a warning that names it, not a failure."""
    built.tamper("delete from marts.fct_metric_values where segment_value = 'business'")
    result = built.dbt("test", "--select", SEGMENT_TARGETS_LAND)
    assert result.result.returncode == 0, result.log
    (outcome,) = singular_results(result)
    assert name_of(outcome) == SEGMENT_TARGETS_LAND
    assert outcome["status"] == "warn" and outcome["failures"] == 1, outcome


def test_the_lint_warns_plain_dbt_saying_why_and_how_to_silence(built: Built) -> None:
    """The spec lint for plain dbt (docs/spec.md, "Lint"): the demo spec with an all-time
    label on its North Star gives one warning row, not a failure, and the log says what,
    why and how to silence it. The untampered fixture passes it (the test above)."""
    built.fresh()
    spec = raw_spec(PROJECT_DIR)
    spec["north_star"]["label"] = "Messages sent, all time"
    variables = {**json.loads(built.vars_text), "northstar": spec}
    result = run_dbt(["test", "--select", NORTH_STAR_LINT], built.workdir, json.dumps(variables))
    assert result.result.returncode == 0, result.log
    (outcome,) = singular_results(result)
    assert name_of(outcome) == NORTH_STAR_LINT
    assert outcome["status"] == "warn" and outcome["failures"] == 1, outcome
    assert (
        "northstar lint: cumulative_north_star: the North Star messages_sent looks cumulative: "
        'its label says "all time". Why: a cumulative or all-time count is a vanity metric'
    ) in result.log
    assert "To silence: if it is deliberate, add `lint: {ignore: [cumulative_north_star]}`" in (
        result.log
    )


def test_no_gaps_fails_when_a_period_goes_missing(built: Built) -> None:
    built.tamper(
        "delete from marts.fct_metric_values "
        "where metric_name = 'churn_rate' and grain = 'week' "
        f"and segment_name = 'all' and period_start = {WEEK_2}"
    )
    assert_fails(built.dbt("test", "--select", NO_GAPS_IN_SPINE), NO_GAPS_IN_SPINE)


def test_no_gaps_fails_when_a_period_does_not_end_where_the_next_starts(built: Built) -> None:
    built.tamper(
        "update marts.fct_metric_values set period_end = period_end - 1 "
        "where metric_name = 'churn_rate' and grain = 'week' "
        f"and segment_name = 'all' and period_start = {WEEK_2}"
    )
    assert_fails(built.dbt("test", "--select", NO_GAPS_IN_SPINE), NO_GAPS_IN_SPINE)


LATEST_WEEK = "(select max(period_start) from marts.fct_metric_values where grain = 'week')"
CHURN_WEEK_2 = (
    "metric_name = 'churn_rate' and grain = 'week' and segment_name = 'all' "
    f"and period_start = {WEEK_2}"
)


def test_no_gaps_fails_when_a_series_stops_before_the_latest_period(built: Built) -> None:
    """gate: no gap inside the series, it just ends a week early."""
    built.tamper(
        "delete from marts.fct_metric_values "
        "where metric_name = 'churn_rate' and grain = 'week' "
        f"and segment_name = 'all' and period_start = {LATEST_WEEK}"
    )
    assert_fails(built.dbt("test", "--select", NO_GAPS_IN_SPINE), NO_GAPS_IN_SPINE)


def test_no_gaps_fails_when_the_last_period_is_a_day_too_long(built: Built) -> None:
    """gate: no next period to start where it ends, so only the spine can tell."""
    built.tamper(
        "update marts.fct_metric_values set period_end = period_end + 1 "
        "where metric_name = 'churn_rate' and grain = 'week' "
        f"and segment_name = 'all' and period_start = {LATEST_WEEK}"
    )
    assert_fails(built.dbt("test", "--select", NO_GAPS_IN_SPINE), NO_GAPS_IN_SPINE)


def test_unique_grain_fails_on_a_duplicate_metric_value_row(built: Built) -> None:
    """gate: the same metric, grain, period and segment twice."""
    built.tamper(
        f"insert into marts.fct_metric_values select * from marts.fct_metric_values "
        f"where {CHURN_WEEK_2}"
    )
    assert_fails(built.dbt("test", "--select", UNIQUE_METRIC_VALUE), UNIQUE_METRIC_VALUE)


def test_unique_fails_on_a_duplicate_catalog_row(built: Built) -> None:
    """gate: a metric twice in dim_metrics."""
    built.tamper(
        "insert into marts.dim_metrics select * from marts.dim_metrics "
        "where metric_name = 'churn_rate'"
    )
    assert_fails(built.dbt("test", "--select", UNIQUE_CATALOG_ROW), UNIQUE_CATALOG_ROW)


def test_unique_fails_on_a_duplicate_aha_row(built: Built) -> None:
    """gate: an entity twice in fct_aha_moments."""
    built.tamper(
        "insert into marts.fct_aha_moments select * from marts.fct_aha_moments "
        "where entity_id = (select min(entity_id) from marts.fct_aha_moments)"
    )
    assert_fails(built.dbt("test", "--select", UNIQUE_AHA_ROW), UNIQUE_AHA_ROW)


def test_covers_every_metric_fails_on_a_metric_unknown_to_the_catalog(built: Built) -> None:
    """gate: values of a metric dim_metrics does not have."""
    built.tamper(
        "insert into marts.fct_metric_values "
        "select * replace ('bogus_metric' as metric_name) from marts.fct_metric_values "
        f"where {CHURN_WEEK_2}"
    )
    assert_fails(built.dbt("test", "--select", COVERS_EVERY_METRIC), COVERS_EVERY_METRIC)


def test_covers_every_metric_fails_on_a_value_row_with_another_role(built: Built) -> None:
    """gate: a guardrail's values carrying the role input."""
    built.tamper(
        "update marts.fct_metric_values set role = 'input' where metric_name = 'churn_rate'"
    )
    assert_fails(built.dbt("test", "--select", COVERS_EVERY_METRIC), COVERS_EVERY_METRIC)


IDENTITY_HOLDS = (
    "select bool_and(active_entities = new_entities + returning_entities "
    "+ resurrecting_entities) from intermediate.int_lifecycle_periods"
)


def test_lifecycle_identity_fails_on_counts_that_agree_with_each_other(built: Built) -> None:
    """One more active and one more returning team in a week: the table's own columns still
    satisfy active = new + returning + resurrecting (the old expression test passed this),
    but the teams active in that week, counted from the daily activity, do not."""
    built.tamper(
        "update intermediate.int_lifecycle_periods set "
        "active_entities = active_entities + 1, returning_entities = returning_entities + 1 "
        f"where grain = 'week' and segment_name = 'all' and period_start = {WEEK_2}"
    )
    assert built.query(IDENTITY_HOLDS) == [(True,)]
    assert_fails(built.dbt("test", "--select", LIFECYCLE_IDENTITY), LIFECYCLE_IDENTITY)


def test_lifecycle_identity_fails_when_an_inactive_team_gets_a_state(built: Built) -> None:
    """The bug the old expression test could not see: an entity-period marked active (and
    so given a state) without any activity event. A5 only has its creation events in week
    2; int_lifecycle_periods is rebuilt from the tampered int_entity_periods."""
    built.tamper(
        "update intermediate.int_entity_periods "
        "set is_active = true, lifecycle_state = 'resurrecting' "
        f"where entity_id = 'A5' and grain = 'week' and period_start = {WEEK_2} "
        "and activity_event_count = 0"
    )
    rebuild = built.dbt("run", "--select", "int_lifecycle_periods")
    assert rebuild.result.returncode == 0, rebuild.log
    assert built.query(IDENTITY_HOLDS) == [(True,)]
    assert_fails(built.dbt("test", "--select", LIFECYCLE_IDENTITY), LIFECYCLE_IDENTITY)
