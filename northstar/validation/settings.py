"""Validation settings: the plausibility bands and age limit the suites are generated with.

They live in dbt_project.yml under `vars.northstar__validation`, next to the spec, so a
change to a band shows up as a change to the generated suite JSON in review, like a change
to a metric definition. Every key is optional; the defaults below apply when it is absent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from northstar.errors import SettingsError

VARS_KEY = "northstar__validation"


@dataclass(frozen=True)
class ValidationSettings:
    # Largest plausible |change| of the North Star between consecutive complete periods,
    # as a fraction like the tables' change_pct (0.5 = +/-50%). A bigger move is more often
    # a pipeline fault (a lost day of events, a double load) than a real change.
    nsm_max_abs_change_pct: float = 0.5
    # Grains the North Star band applies to; days are too noisy for one band.
    nsm_change_grains: tuple[str, ...] = ("week",)
    # Complete periods at the start of the data that are never a comparison base: the
    # first period is usually partial (tracking or the start_date cut-off began inside
    # it, or the product launched), so the move out of it says nothing about the load.
    nsm_change_warmup_periods: int = 1
    # Accepted events on a day divided by the median of the same weekday over the previous
    # `volume_history_weeks` weeks must fall in [low, high]. Same weekday, because a
    # work product's Sunday is not a broken Monday.
    volume_band: tuple[float, float] = (0.5, 2.0)
    volume_history_weeks: int = 4
    # The latest period in fct_metric_values must end no more than this many days before
    # the reference time (`northstar validate --as-of`, default now).
    freshness_max_age_days: int = 2

    @classmethod
    def from_vars(cls, variables: dict[str, Any]) -> ValidationSettings:
        raw = variables.get(VARS_KEY) or {}
        if not isinstance(raw, dict):
            raise SettingsError(f"vars.{VARS_KEY} must be a mapping, got {raw!r}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise SettingsError(
                f"vars.{VARS_KEY}: unknown key(s) {', '.join(unknown)}; "
                f"known keys: {', '.join(sorted(known))}"
            )
        defaults = cls()
        try:
            settings = cls(
                nsm_max_abs_change_pct=float(
                    raw.get("nsm_max_abs_change_pct", defaults.nsm_max_abs_change_pct)
                ),
                nsm_change_grains=tuple(
                    str(g) for g in raw.get("nsm_change_grains", defaults.nsm_change_grains)
                ),
                nsm_change_warmup_periods=int(
                    raw.get("nsm_change_warmup_periods", defaults.nsm_change_warmup_periods)
                ),
                volume_band=tuple(float(v) for v in raw.get("volume_band", defaults.volume_band)),
                volume_history_weeks=int(
                    raw.get("volume_history_weeks", defaults.volume_history_weeks)
                ),
                freshness_max_age_days=int(
                    raw.get("freshness_max_age_days", defaults.freshness_max_age_days)
                ),
            )
        except (TypeError, ValueError) as err:
            raise SettingsError(f"vars.{VARS_KEY}: {err}") from err
        settings.check()
        return settings

    def check(self) -> None:
        prefix = f"vars.{VARS_KEY}"
        if self.nsm_max_abs_change_pct <= 0:
            raise SettingsError(f"{prefix}.nsm_max_abs_change_pct must be > 0")
        bad = [g for g in self.nsm_change_grains if g not in ("day", "week", "month")]
        if bad:
            raise SettingsError(f"{prefix}.nsm_change_grains: unknown grain(s) {bad}")
        if self.nsm_change_warmup_periods < 0:
            raise SettingsError(f"{prefix}.nsm_change_warmup_periods must be >= 0")
        if len(self.volume_band) != 2 or not 0 <= self.volume_band[0] < self.volume_band[1]:
            raise SettingsError(f"{prefix}.volume_band must be [low, high] with 0 <= low < high")
        if self.volume_history_weeks < 1:
            raise SettingsError(f"{prefix}.volume_history_weeks must be >= 1")
        if self.freshness_max_age_days < 0:
            raise SettingsError(f"{prefix}.freshness_max_age_days must be >= 0")

    def as_dict(self) -> dict[str, Any]:
        return {key: list(v) if isinstance(v, tuple) else v for key, v in asdict(self).items()}
