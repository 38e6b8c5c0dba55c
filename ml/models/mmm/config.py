"""Every setting of the media-mix model in one typed place: carry-over and shape priors, baseline, bootstrap."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ADSTOCKS = ("geometric", "weibull")


class MmmConfig(BaseModel):
    """Priors, baseline terms and bootstrap size; defaults suit weekly data (a period is whatever the rows are).

    Geometric decay is ``decay_max x p`` with a Beta(decay_a, decay_b) prior on p; the steady-state
    half-saturation spend has a log-normal prior centred on the channel's mean spend; the Hill shape a log-normal
    centred on 1, bounded so that both concave and S-shaped (threshold) responses are allowed. Baseline
    coefficients (standardised controls, Fourier terms, trend) get a normal prior of scale ``baseline_prior_scale``
    and each channel's maximum effect per period a half-normal of scale ``effect_prior_scale`` (both in units of
    mean outcome), so that a channel that always spends cannot stand in for the intercept. ``adstock="weibull"``
    replaces the decay by a Weibull lag shape and scale (log-normal priors around 1 and ``weibull_scale_prior``
    periods) over ``weibull_max_lag`` periods.
    """

    adstock: Literal["geometric", "weibull"] = "geometric"
    weibull_max_lag: int = Field(12, ge=2)  # periods of carry-over a Weibull adstock can spread over
    weibull_shape_log_sd: float = Field(0.7, gt=0.0)  # log-normal prior around shape 1
    weibull_scale_prior: float = Field(2.0, gt=0.0)  # log-normal prior's centre, periods
    weibull_scale_log_sd: float = Field(1.0, gt=0.0)
    decay_max: float = Field(0.9, gt=0.0, lt=1.0)
    decay_a: float = Field(1.5, gt=0.0)
    decay_b: float = Field(3.0, gt=0.0)
    half_saturation_log_sd: float = Field(1.0, gt=0.0)
    shape_log_sd: float = Field(0.5, gt=0.0)
    shape_min: float = Field(0.5, gt=0.0)
    shape_max: float = Field(3.0, gt=1.0)
    fourier_order: int = Field(2, ge=0)
    period_days: float = Field(365.25, gt=0.0)
    baseline_prior_scale: float = Field(1.0, gt=0.0)
    effect_prior_scale: float = Field(0.5, gt=0.0)
    n_bootstrap: int = Field(100, ge=0)
    block_length: int | None = Field(None, ge=1)  # None: about T ** (1/3) periods
    interval: float = Field(0.9, gt=0.0, lt=1.0)
    seed: int = 0
    max_iterations: int = Field(400, ge=10)
