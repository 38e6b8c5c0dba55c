"""Fit a media-mix model: outcome = baseline (trend, seasonality, controls) + sum_c effect_c x Hill(adstock(spend_c)).

Implementation chosen by measurement (README "Media-mix models"): a numpy/scipy penalised fit (MAP with the priors
of ``MmmConfig`` as penalties) and a block bootstrap for intervals, not PyMC-Marketing's sampler.
"""

from __future__ import annotations

import numpy as np

from ml.models.mmm.bootstrap import bootstrap
from ml.models.mmm.config import MmmConfig
from ml.models.mmm.data import MediaData, MmmInputError
from ml.models.mmm.design import BaselineDesign
from ml.models.mmm.fit import ScaledProblem, default_starts, fit_baseline, fit_map, fitted_values
from ml.models.mmm.lift import LiftTests
from ml.models.mmm.result import MmmResult

MIN_PERIODS_PER_PARAMETER = 4


def scaled_problem(
    data: MediaData, design: BaselineDesign, lift: LiftTests, y_scale: float, spend_scale: np.ndarray
) -> ScaledProblem:
    """The fit's arrays in relative units (mean outcome 1, each channel's mean spend 1)."""
    return ScaledProblem(
        y=data.outcome / y_scale,
        spend=data.spend / spend_scale,
        baseline=design.matrix(data.dates, data.controls),
        lift_channel=lift.channel,
        lift_periods=lift.periods,
        lift=lift.lift / y_scale,
        lift_se=lift.lift_se / y_scale,
    )


def _check_size(data: MediaData) -> None:
    needed = MIN_PERIODS_PER_PARAMETER * 4 * len(data.channels)
    if len(data) < needed:
        raise MmmInputError(
            f"{len(data)} periods for {len(data.channels)} channels: a media-mix model needs at least "
            f"{needed} ({MIN_PERIODS_PER_PARAMETER} per channel parameter)"
        )


def fit_mmm(data: MediaData, config: MmmConfig | None = None, lift: LiftTests | None = None) -> MmmResult:
    """Point fit (multi-start MAP, noise level iterated once) and bootstrap draws."""
    config = config or MmmConfig()
    _check_size(data)
    lift = lift if lift is not None else LiftTests.none(len(data))
    y_scale = float(data.outcome.mean()) or 1.0
    spend_scale = data.spend.mean(axis=0)
    design = BaselineDesign.learn(
        data.dates, data.controls, data.control_names, config.fourier_order, config.period_days
    )
    problem = scaled_problem(data, design, lift, y_scale, spend_scale)
    _, sigma = fit_baseline(problem, config)
    point = fit_map(problem, sigma, config, default_starts(problem.n_channels, config))
    base, media = fitted_values(problem, point, config)
    sigma = max(float(np.sqrt(np.mean((problem.y - base - media.sum(axis=1)) ** 2))), 1e-9)
    point = fit_map(problem, sigma, config, [point.theta])
    base, media = fitted_values(problem, point, config)
    draws = bootstrap(problem, point, base + media.sum(axis=1), sigma, config)
    return MmmResult(
        config=config,
        data=data,
        design=design,
        y_scale=y_scale,
        spend_scale=spend_scale,
        sigma=sigma,
        point=point,
        draws=draws,
    )


class BaselineOnlyModel:
    """The same baseline without media: the comparison that says what media terms add out of sample."""

    def __init__(self, data: MediaData, config: MmmConfig | None = None) -> None:
        config = config or MmmConfig()
        self.y_scale = float(data.outcome.mean()) or 1.0
        self.design = BaselineDesign.learn(
            data.dates, data.controls, data.control_names, config.fourier_order, config.period_days
        )
        problem = scaled_problem(data, self.design, LiftTests.none(len(data)), self.y_scale, data.spend.mean(axis=0))
        self.coef, _ = fit_baseline(problem, config)

    def predict(self, data: MediaData) -> np.ndarray:
        """Expected outcome per period of any data (same columns)."""
        return self.design.matrix(data.dates, data.controls) @ self.coef * self.y_scale
