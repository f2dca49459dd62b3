"""Generate the expectation suites from the North Star spec and the public table contract.

The suites are data, not code: `scripts/generate_suites.py` writes them to `expectations/`
as Great Expectations JSON, they are committed, and `northstar validate` loads and runs
those files. CI regenerates them and fails on any difference, so a changed metric
definition (a new guardrail, a moved threshold, a ratio that became a count) shows up in
review as a changed suite. Nothing here reads the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from northstar.spec import Metric, catalog_metrics, metrics
from northstar.validation import frames
from northstar.validation.gx import Column, ephemeral_context, gx, gxe
from northstar.validation.settings import ValidationSettings

SUITE_FORMAT = 1
GENERATOR = "scripts/generate_suites.py"


def _col(name: str) -> Any:
    return Column(name)


def _is_metric(name: str) -> Any:
    return _col("metric_name") == name


def _is_any_metric(names: list[str]) -> Any:
    return _is_metric(names[0]) if len(names) == 1 else _col("metric_name").is_in(names)


def _tag(
    expectation: Any, check: str, description: str, setting: dict[str, Any] | None = None
) -> Any:
    """Every expectation carries a stable check id and a sentence a reader understands;
    one a setting controls names it (`setting`: the key, the frame column it bounds, and
    which side: max, min or abs), so a failure can say which value would have passed."""
    expectation.meta = {"northstar": {"check": check}}
    if setting is not None:
        expectation.meta["northstar"]["setting"] = setting
    expectation.description = description
    return expectation


@dataclass
class SuiteBuilder:
    name: str
    frame: str
    table: str
    description: str
    params: dict[str, Any]

    def __post_init__(self) -> None:
        if self.frame not in frames.FRAMES:
            raise ValueError(f"unknown frame {self.frame!r}")
        self.expectations: list[Any] = []

    def add(
        self,
        check: str,
        description: str,
        expectation: Any,
        setting: dict[str, Any] | None = None,
    ) -> None:
        # results are matched back to expectations by description: keep them unique
        if any(e.description == description for e in self.expectations):
            raise ValueError(f"suite {self.name}: duplicate expectation {description!r}")
        self.expectations.append(_tag(expectation, check, description, setting))

    def to_json_dict(self) -> dict[str, Any]:
        suite = gx.ExpectationSuite(
            name=self.name,
            expectations=self.expectations,
            meta={
                "northstar": {
                    "suite_format": SUITE_FORMAT,
                    "generated_by": GENERATOR,
                    "frame": self.frame,
                    "table": self.table,
                    "params": self.params,
                    "description": self.description,
                }
            },
        )
        return suite.to_json_dict()


def _fmt(number: float) -> str:
    return f"{number:g}"


def _has_thresholds(metric: Metric) -> bool:
    return metric.warn is not None or metric.breach is not None


def _threshold(value: Any) -> float | None:
    return None if value is None else float(value)


def _dim_metrics_suite(spec_metrics: list[Metric]) -> SuiteBuilder:
    suite = SuiteBuilder(
        "dim_metrics",
        "dim_metrics",
        frames.DIM_METRICS,
        "The metric catalog holds exactly the spec's metrics and the built-in diagnostic "
        "metrics, with the roles, directions and thresholds the spec declares.",
        {},
    )
    # in-set plus a row count rather than expect_column_distinct_values_to_equal_set:
    # with dbt's unique test on metric_name they say the same, and GX's Data Docs renderer
    # fails on a failed distinct-set result (1.24: KeyError 'unexpected_percent')
    suite.add(
        "catalog_matches_spec",
        "each metric's role, direction and warn/breach thresholds are as the spec declares",
        gxe.ExpectColumnValuesToBeInSet(
            column="metric_signature",
            value_set=sorted(
                frames.metric_signature(m.name, m.role, m.direction, m.warn, m.breach)
                for m in spec_metrics
            ),
        ),
    )
    suite.add(
        "catalog_matches_spec",
        f"the catalog has one row per spec or diagnostic metric ({len(spec_metrics)})",
        gxe.ExpectTableRowCountToEqual(value=len(spec_metrics)),
    )
    return suite


def _metric_values_suite(spec_metrics: list[Metric]) -> SuiteBuilder:
    suite = SuiteBuilder(
        "fct_metric_values",
        "fct_metric_values",
        frames.METRIC_VALUES,
        "Rates are shares; counts, sums, numerators and denominators are not negative.",
        {},
    )
    rates = sorted(m.name for m in spec_metrics if m.is_ratio)
    if rates:
        suite.add(
            "rate_within_0_1",
            f"shares ({', '.join(rates)}): value within [0, 1]",
            gxe.ExpectColumnValuesToBeBetween(
                column="value", min_value=0, max_value=1, row_condition=_is_any_metric(rates)
            ),
        )
    counts = sorted(m.name for m in spec_metrics if m.is_additive)
    if counts:
        suite.add(
            "non_negative",
            f"counts and sums ({', '.join(counts)}): value >= 0",
            gxe.ExpectColumnValuesToBeBetween(
                column="value", min_value=0, row_condition=_is_any_metric(counts)
            ),
        )
    counted = sorted(m.name for m in spec_metrics if not m.may_be_negative)
    if counted:
        suite.add(
            "non_negative",
            "numerator >= 0 (every metric but means and percentiles, whose numerator is a "
            "property's sum or absent)",
            gxe.ExpectColumnValuesToBeBetween(
                column="numerator", min_value=0, row_condition=_is_any_metric(counted)
            ),
        )
    suite.add(
        "non_negative",
        "denominator >= 0",
        gxe.ExpectColumnValuesToBeBetween(column="denominator", min_value=0),
    )
    return suite


def _status_suite(spec_metrics: list[Metric]) -> SuiteBuilder:
    thresholds = {
        m.name: {
            "direction": m.direction,
            "warn": _threshold(m.warn),
            "breach": _threshold(m.breach),
            "status_grains": list(m.spec["status_grains"]),
        }
        for m in spec_metrics
        if _has_thresholds(m)
    }
    suite = SuiteBuilder(
        "fct_metric_values__status",
        "metric_status",
        frames.METRIC_VALUES,
        "status follows from value, direction and the spec's thresholds (params.thresholds).",
        {"thresholds": thresholds},
    )
    suite.add(
        "status_matches_thresholds",
        f"status follows from value and the spec's thresholds for {len(thresholds)} "
        "metric(s) (reaching a threshold counts); none without a value, at other grains, "
        "or without thresholds",
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="status", column_B="expected_status", ignore_row_if="neither"
        ),
    )
    return suite


def _north_star_suite(north_star: Metric, settings: ValidationSettings) -> SuiteBuilder:
    robust = settings.bands == "robust"
    mads, band = settings.robust_mads, settings.nsm_max_abs_change_pct
    history, least = settings.robust_history, settings.robust_min_history
    if robust:
        how = (
            f"more than {_fmt(mads)} scaled MADs from the median of its previous {history} "
            f"changes (not judged with fewer than {least}); a move far outside its own "
            "history is more often a broken load than a real change"
        )
    else:
        how = f"more than {band:.0%}; a bigger move is more often a broken load than a real change"
    suite = SuiteBuilder(
        "fct_metric_values__north_star_change",
        "north_star_changes",
        frames.METRIC_VALUES,
        f"The North Star ({north_star.name}) does not move between consecutive complete "
        f"periods (segment 'all') {how}.",
        {
            "metric_name": north_star.name,
            "warmup_periods": settings.nsm_change_warmup_periods,
            "history": history,
            "min_history": least,
        },
    )
    for grain in settings.nsm_change_grains:
        if robust:
            suite.add(
                "north_star_change_within_band",
                f"{north_star.name}, {grain}: change vs the previous complete {grain} within "
                f"{_fmt(mads)} scaled MADs of the median of the previous {history} changes",
                gxe.ExpectColumnValuesToBeBetween(
                    column="change_robust_z",
                    min_value=-mads,
                    max_value=mads,
                    row_condition=_col("grain") == grain,
                ),
                setting={
                    "key": "robust_mads",
                    "column": "change_robust_z",
                    "side": "abs",
                    "grain": grain,
                    "or": "bands: fixed, with nsm_max_abs_change_pct",
                },
            )
            continue
        suite.add(
            "north_star_change_within_band",
            f"{north_star.name}, {grain}: change vs the previous complete {grain} within "
            f"+/-{band:.0%}",
            gxe.ExpectColumnValuesToBeBetween(
                column="change_vs_previous_complete",
                min_value=-band,
                max_value=band,
                row_condition=_col("grain") == grain,
            ),
            setting={
                "key": "nsm_max_abs_change_pct",
                "column": "change_vs_previous_complete",
                "side": "abs",
                "grain": grain,
            },
        )
    return suite


def _freshness_suite(settings: ValidationSettings) -> SuiteBuilder:
    days = settings.freshness_max_age_days
    suite = SuiteBuilder(
        "fct_metric_values__freshness",
        "metric_values_freshness",
        frames.METRIC_VALUES,
        "The data is fresh: the latest period ends no more than "
        f"{days} day(s) before the reference time (for historical data, set "
        "vars.northstar__as_of or pass --as-of).",
        {},
    )
    suite.add(
        "data_fresh",
        f"the latest period of each grain ends at most {days} day(s) before the reference date",
        gxe.ExpectColumnValuesToBeBetween(column="days_since_latest_period_end", max_value=days),
        setting={
            "key": "freshness_max_age_days",
            "column": "days_since_latest_period_end",
            "side": "max",
            "or": "for historical data, vars.northstar__as_of (or --as-of) at its last day",
        },
    )
    return suite


def _aha_suite(spec: dict[str, Any]) -> SuiteBuilder:
    aha = spec["aha"]
    window, threshold = int(aha["window_days"]), int(aha["threshold"])
    suite = SuiteBuilder(
        "fct_aha_moments",
        "fct_aha_moments",
        frames.AHA_MOMENTS,
        f"The aha moment is reached by a {spec['entity']} with at least {threshold} "
        f"qualifying events within {window} days, as the spec says.",
        {},
    )
    suite.add(
        "aha_matches_spec",
        f"entity_type is the spec's entity ({spec['entity']})",
        gxe.ExpectColumnValuesToBeInSet(column="entity_type", value_set=[spec["entity"]]),
    )
    suite.add(
        "aha_matches_spec",
        f"days_to_aha within the aha window [0, {window}]",
        gxe.ExpectColumnValuesToBeBetween(column="days_to_aha", min_value=0, max_value=window),
    )
    suite.add(
        "aha_matches_spec",
        f"an entity that reached aha had >= {threshold} qualifying events in its window",
        gxe.ExpectColumnValuesToBeBetween(
            column="qualifying_events_in_window",
            min_value=threshold,
            row_condition=_col("has_reached_aha") == True,  # noqa: E712 (a Condition, not a bool)
        ),
    )
    suite.add(
        "aha_matches_spec",
        f"an entity that did not reach aha had < {threshold} qualifying events in its window",
        gxe.ExpectColumnValuesToBeBetween(
            column="qualifying_events_in_window",
            max_value=threshold,
            strict_max=True,
            row_condition=_col("has_reached_aha") == False,  # noqa: E712
        ),
    )
    return suite


def _event_volume_suite(settings: ValidationSettings) -> SuiteBuilder:
    low, high = settings.volume_band
    weeks, mads = settings.volume_history_weeks, settings.robust_mads
    history, least = settings.robust_history, settings.robust_min_history
    params = {"history_weeks": weeks, "history": history, "min_history": least}
    if settings.bands == "robust":
        suite = SuiteBuilder(
            "fct_event_quality_daily__volume",
            "event_volume",
            frames.EVENT_QUALITY,
            "Each day's accepted events, as a ratio to the same weekday's recent median, "
            "stay within the spread that ratio has had over the previous weeks.",
            params,
        )
        suite.add(
            "volume_within_band",
            f"ln((accepted rows per day + 1) / (the median of the same weekday over the "
            f"previous {weeks} weeks + 1)) within {_fmt(mads)} robust standard deviations of "
            f"its median over the previous {history} weeks of days (not judged with fewer "
            f"than {least} weeks)",
            gxe.ExpectColumnValuesToBeBetween(
                column="volume_robust_z", min_value=-mads, max_value=mads
            ),
            setting={
                "key": "robust_mads",
                "column": "volume_robust_z",
                "side": "abs",
                "or": "bands: fixed, with volume_band",
            },
        )
        return suite
    suite = SuiteBuilder(
        "fct_event_quality_daily__volume",
        "event_volume",
        frames.EVENT_QUALITY,
        "Each day's accepted events are within a band of the same weekday's recent history.",
        params,
    )
    suite.add(
        "volume_within_band",
        f"accepted rows per day within [{_fmt(low)}, {_fmt(high)}] x the median of the same "
        f"weekday over the previous {weeks} weeks",
        gxe.ExpectColumnValuesToBeBetween(column="volume_ratio", min_value=low, max_value=high),
        setting={"key": "volume_band", "column": "volume_ratio", "side": "band"},
    )
    return suite


def _reconciliation_suite() -> SuiteBuilder:
    suite = SuiteBuilder(
        "fct_event_quality_daily__reconciliation",
        "event_reconciliation",
        frames.EVENT_QUALITY,
        "Every raw row is accounted for: raw rows (quality mart) = rows in stg_events + "
        "stg_events_duplicates + stg_events_rejected.",
        {},
    )
    suite.add(
        "raw_reconciles",
        "raw rows = accepted + duplicates + rejected rows",
        gxe.ExpectColumnValuesToBeBetween(column="unreconciled_rows", min_value=0, max_value=0),
    )
    for kind in ("accepted", "duplicate", "rejected"):
        suite.add(
            "raw_reconciles",
            f"{kind} rows in the quality mart = rows in its staging table",
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A=f"{kind}_rows", column_B=f"{kind}_rows_in_quality_mart"
            ),
        )
    return suite


# The marts a snapshot cannot go without (northstar/publish/tables.py, required=True).
REQUIRED_MARTS = ["dim_metrics", "fct_aha_moments", "fct_metric_values"]


def _dbt_tests_suite() -> SuiteBuilder:
    suite = SuiteBuilder(
        "dbt_tests__published_marts",
        "dbt_tests",
        frames.MART_CHECKS,
        "dbt's data tests on the published marts (uniqueness, the period spine, finite "
        "numbers...) ran and passed on the tables as they are: the gate does not repeat them.",
        {},
    )
    suite.add(
        "dbt_tests_passed",
        "every published mart's latest dbt run ran all its data tests and they passed "
        "(a mart rebuilt by `dbt run` needs `dbt test` before it is published)",
        gxe.ExpectColumnValuesToBeInSet(column="latest_event", value_set=["tested"]),
    )
    suite.add(
        "dbt_tests_passed",
        f"dbt's tests passed on {', '.join(REQUIRED_MARTS)}",
        gxe.ExpectColumnDistinctValuesToContainSet(column="model", value_set=REQUIRED_MARTS),
    )
    return suite


def build_suites(spec: dict[str, Any], settings: ValidationSettings) -> list[dict[str, Any]]:
    """The suites for this spec, as the JSON dicts that get written to expectations/."""
    ephemeral_context()  # GX builds suites only inside a context
    spec_metrics = metrics(spec)
    north_star = spec_metrics[0]
    # the catalog and the values hold the built-in diagnostic metrics too
    every_metric = catalog_metrics(spec)
    builders = [
        _dbt_tests_suite(),
        _dim_metrics_suite(every_metric),
        _metric_values_suite(every_metric),
        _status_suite(every_metric),
        _north_star_suite(north_star, settings),
        _freshness_suite(settings),
        _aha_suite(spec),
        _event_volume_suite(settings),
        _reconciliation_suite(),
    ]
    return [builder.to_json_dict() for builder in builders]
