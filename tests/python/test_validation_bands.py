"""The gate's plausibility bands learned from each series' own history (bands: robust):
real-shaped data whose moves exceed the fixed bands passes because its own history does;
planted defects still fail; every failure names the setting and a value that passes.

Each case is a small warehouse with just the two tables the band suites read, validated
with those two suites (built from the contract spec, docs/validation.md)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from contract_warehouse import CONTRACT_NORMALIZED_SPEC

from northstar.validation import validate_warehouse
from northstar.validation.settings import ValidationSettings
from northstar.validation.suite_files import write_suites
from northstar.validation.suites import build_suites

BAND_SUITES = {"fct_metric_values__north_star_change", "fct_event_quality_daily__volume"}
FIRST_MONDAY = date(2025, 1, 6)
WEEKS = 40


def _suites(directory: Path, **settings: object) -> Path:
    chosen = ValidationSettings.from_vars({"northstar__validation": settings})
    suites = [s for s in build_suites(CONTRACT_NORMALIZED_SPEC, chosen) if s["name"] in BAND_SUITES]
    assert {s["name"] for s in suites} == BAND_SUITES
    write_suites(directory, suites)
    return directory


def _warehouse(path: Path, weekly: list[float], daily: list[float]) -> Path:
    """The North Star (messages_sent) by week, and accepted events by day."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts")
        con.execute(
            "create table marts.fct_metric_values (metric_name varchar, grain varchar, "
            "period_start date, segment_name varchar, segment_value varchar, value double, "
            "is_complete_period boolean)"
        )
        con.executemany(
            "insert into marts.fct_metric_values values "
            "('messages_sent', 'week', ?, 'all', 'all', ?, true)",
            [(FIRST_MONDAY + timedelta(weeks=i), v) for i, v in enumerate(weekly)],
        )
        con.execute(
            "create table marts.fct_event_quality_daily (event_date date, accepted_rows bigint)"
        )
        con.executemany(
            "insert into marts.fct_event_quality_daily values (?, ?)",
            [(FIRST_MONDAY + timedelta(days=i), int(v)) for i, v in enumerate(daily) if v > 0],
        )
    finally:
        con.close()
    return path


def _validate(tmp_path: Path, weekly: list[float], daily: list[float], **settings: object):
    name = "-".join(f"{k}{v}" for k, v in settings.items()) or "robust"
    suites = _suites(tmp_path / f"suites-{name}", **settings)
    warehouse = _warehouse(
        tmp_path / f"{name}-{len(list(tmp_path.iterdir()))}.duckdb", weekly, daily
    )
    return validate_warehouse(warehouse, suites_dir=suites, as_of="2025-12-31", data_docs=False)


def _failed(result) -> dict[str, str]:
    return {e.check: e.accept for s in result.suites for e in s.expectations if not e.success}


def _volatile_weeks() -> list[float]:
    """A seasonal product: busy weeks and quiet weeks alternate (+70%, -41%), growing."""
    return [1000 * 1.01**i * (1.7 if i % 2 else 1.0) for i in range(WEEKS)]


def _calm_weeks() -> list[float]:
    """Steady growth with a little noise: changes of 1-3% a week."""
    return [1000 * 1.02**i * (1 + 0.01 * ((i * 7) % 3 - 1)) for i in range(WEEKS)]


def _daily(weekday_shape=(1.0, 1.1, 1.05, 1.0, 0.9, 0.3, 0.25)) -> list[float]:
    """Accepted events per day: a work product's week, with day-to-day noise of +-15%."""
    noise = [1.0, 1.15, 0.9, 1.05, 0.85, 1.1, 0.95, 1.0, 0.88, 1.12, 0.97]
    return [500 * weekday_shape[day % 7] * noise[day % len(noise)] for day in range(WEEKS * 7)]


def test_real_shaped_swings_pass_robust_bands_where_the_fixed_band_fails(tmp_path):
    weekly = _volatile_weeks()
    robust = _validate(tmp_path, weekly, _daily())
    assert robust.success, robust.summary_text()
    fixed = _validate(tmp_path, weekly, _daily(), bands="fixed")
    failed = _failed(fixed)
    assert set(failed) == {"north_star_change_within_band"}
    # the fixed band's failure names its setting and a value that lets the swings pass
    assert failed["north_star_change_within_band"] == (
        "vars.northstar__validation.nsm_max_abs_change_pct: 0.72"  # busy weeks: +71.7%
    )
    assert _validate(tmp_path, weekly, _daily(), bands="fixed", nsm_max_abs_change_pct=0.72).success


def test_a_planted_jump_fails_in_a_calm_series_and_names_a_value_that_passes(tmp_path):
    weekly = _calm_weeks()
    weekly[30] *= 2  # a double load
    result = _validate(tmp_path, weekly, _daily())
    accept = _failed(result)["north_star_change_within_band"]
    found = re.fullmatch(
        r"vars\.northstar__validation\.robust_mads: (?P<value>[\d.]+) "
        r"\(or bands: fixed, with nsm_max_abs_change_pct\)",
        accept,
    )
    assert found, accept
    assert "if the data is right: vars.northstar__validation.robust_mads" in result.summary_text()
    # the value named does accept it (and only just: a hundredth less does not)
    value = float(found["value"])
    assert _validate(tmp_path, weekly, _daily(), robust_mads=value).success
    assert not _validate(tmp_path, weekly, _daily(), robust_mads=value - 0.01).success


def test_a_unit_change_fails_even_a_volatile_series(tmp_path):
    weekly = _volatile_weeks()
    weekly[30:] = [v * 100 for v in weekly[30:]]  # cents instead of dollars from week 30
    assert "north_star_change_within_band" in _failed(_validate(tmp_path, weekly, _daily()))


def test_a_missing_week_of_events_fails_the_volume_band(tmp_path):
    daily = _daily()
    daily[200:207] = [0] * 7  # a week of files that never landed
    result = _validate(tmp_path, _calm_weeks(), daily)
    assert set(_failed(result)) == {"volume_within_band"}
    assert _failed(result)["volume_within_band"].startswith(
        "vars.northstar__validation.robust_mads: "
    )


def test_a_short_history_is_not_judged_and_says_so(tmp_path):
    weekly = [1000, 5000, 900, 4000]  # wild, but four weeks teach nothing
    result = _validate(tmp_path, weekly, _daily()[:28])
    assert result.success
    change = next(
        e
        for s in result.suites
        for e in s.expectations
        if e.check == "north_star_change_within_band"
    )
    assert change.observed == "no rows to check"
    assert (
        "not judged with fewer than 4"
        in next(
            s
            for s in build_suites(CONTRACT_NORMALIZED_SPEC, ValidationSettings())
            if s["name"] == "fct_metric_values__north_star_change"
        )["meta"]["northstar"]["description"]
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"bands": "auto"}, "bands: must be one of robust, fixed"),
        ({"robust_mads": 0}, "robust_mads: Input should be greater than 0"),
        ({"robust_history": 1}, "robust_history: Input should be greater than or equal to 2"),
        (
            {"robust_history": 6, "robust_min_history": 8},
            "robust_min_history (8) must not exceed robust_history (6)",
        ),
    ],
)
def test_bad_band_settings_are_refused_by_name(settings, message):
    from northstar.errors import SettingsError

    with pytest.raises(SettingsError, match=re.escape(message)):
        ValidationSettings.from_vars({"northstar__validation": settings})
