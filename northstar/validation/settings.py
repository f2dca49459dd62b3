"""Validation settings: the plausibility bands and age limit the suites are generated with.

They live in dbt_project.yml under `vars.northstar__validation`, next to the spec, so a
change to a band shows up as a change to the generated suite JSON in review, like a change
to a metric definition. Every key is optional; the defaults below apply when it is absent.
"""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from northstar.errors import SettingsError

VARS_KEY = "northstar__validation"
GRAINS = ("day", "week", "month")


BAND_KINDS = ("robust", "fixed")


class ValidationSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # How the two plausibility bands (North Star change, daily volume) are set. robust:
    # from each series' own history, median +/- robust_mads scaled MADs of its past moves
    # (docs/validation.md, "Bands from the data's own history"); fixed: the fixed bands
    # below, for data whose history is too short or too unusual to learn from.
    bands: str = "robust"
    robust_mads: float = Field(6.0, gt=0)
    # Past moves the median and MAD are taken over: complete periods for the North Star,
    # weeks of days for the volume.
    robust_history: int = Field(12, ge=2)
    # With fewer past moves than this, a move is not judged (said in the suite's text).
    robust_min_history: int = Field(4, ge=2)
    # The fixed band (bands: fixed): largest plausible |change| of the North Star between
    # consecutive complete periods, as a fraction like the tables' change_pct (0.5 =
    # +/-50%). A bigger move is more often a pipeline fault (a lost day of events, a double
    # load) than a real change.
    nsm_max_abs_change_pct: float = Field(0.5, gt=0)
    # Grains the North Star band applies to; days are too noisy for one band.
    nsm_change_grains: tuple[str, ...] = ("week",)
    # Complete periods at the start of the data that are never a comparison base: the
    # first period is usually partial (tracking or the start_date cut-off began inside
    # it, or the product launched), so the move out of it says nothing about the load.
    nsm_change_warmup_periods: int = Field(1, ge=0)
    # Accepted events on a day divided by the median of the same weekday over the previous
    # `volume_history_weeks` weeks must fall in [low, high]. Same weekday, because a
    # work product's Sunday is not a broken Monday.
    volume_band: tuple[float, float] = (0.5, 2.0)
    volume_history_weeks: int = Field(4, ge=1)
    # The latest period in fct_metric_values must end no more than this many days before
    # the reference time (`northstar validate --as-of`, default now).
    freshness_max_age_days: int = Field(2, ge=0)

    @field_validator("nsm_change_grains")
    @classmethod
    def _known_grains(cls, grains: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [grain for grain in grains if grain not in GRAINS]
        if unknown:
            raise ValueError(f"unknown grain(s) {unknown}; known: {', '.join(GRAINS)}")
        return grains

    @field_validator("bands")
    @classmethod
    def _known_bands(cls, bands: str) -> str:
        if bands not in BAND_KINDS:
            raise ValueError(f"must be one of {', '.join(BAND_KINDS)}")
        return bands

    @field_validator("volume_band")
    @classmethod
    def _ordered_band(cls, band: tuple[float, float]) -> tuple[float, float]:
        if not 0 <= band[0] < band[1]:
            raise ValueError("must be [low, high] with 0 <= low < high")
        return band

    @model_validator(mode="after")
    def _history_holds_its_minimum(self) -> ValidationSettings:
        if self.robust_min_history > self.robust_history:
            raise ValueError(
                f"robust_min_history ({self.robust_min_history}) must not exceed "
                f"robust_history ({self.robust_history})"
            )
        return self

    @classmethod
    def from_vars(cls, variables: dict[str, Any]) -> ValidationSettings:
        raw = variables.get(VARS_KEY) or {}
        if not isinstance(raw, dict):
            raise SettingsError(f"vars.{VARS_KEY} must be a mapping, got {raw!r}")
        try:
            return cls.model_validate(raw)
        except ValidationError as err:
            raise SettingsError(_message(err)) from err

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def _message(err: ValidationError) -> str:
    """One line per bad key, each naming it: `vars.northstar__validation.<key>: <why>`."""
    unknown = [str(e["loc"][0]) for e in err.errors() if e["type"] == "extra_forbidden"]
    lines = []
    if unknown:
        known = ", ".join(sorted(ValidationSettings.model_fields))
        lines.append(f"vars.{VARS_KEY}: unknown key(s) {', '.join(unknown)}; known keys: {known}")
    for error in err.errors():
        if error["type"] == "extra_forbidden":
            continue
        key = ".".join(str(part) for part in error["loc"])
        # pydantic prefixes our own validators' messages with "Value error, "
        why = error["msg"].removeprefix("Value error, ")
        if not key:  # a rule between keys: the message names them, the input is all
            lines.append(f"vars.{VARS_KEY}: {why}")
            continue
        lines.append(f"vars.{VARS_KEY}.{key}: {why} (got {error['input']!r})")
    return "; ".join(lines)
