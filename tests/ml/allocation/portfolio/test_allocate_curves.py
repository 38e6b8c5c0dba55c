"""Posterior draws of fitted curves: each draw's conversions, and Thompson samples the optimiser takes as they are."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.allocation.portfolio.curves import posterior_conversions
from ml.models.response import ResponseCurveSet
from ml.optimize import PortfolioProblem
from ml.response_curves import CurveFamily, ResponseCurves


def mixed_curves() -> ResponseCurves:
    """Every family, Hill shapes from strongly concave to exactly 1, spend scales from tens to thousands."""
    return ResponseCurves.build(
        family=["hill", "hill", "hill", "exponential", "log", "exponential", "log", "hill"],
        scale=[120.0, 45.0, 300.0, 80.0, 25.0, 5.0, 300.0, 1.5],
        spend_scale=[1500.0, 200.0, 9000.0, 700.0, 50.0, 30.0, 4000.0, 12.0],
        shape=[0.55, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0, 0.995],
    )


def fitted_with_draws(curves: ResponseCurves, n_draws: int = 5) -> ResponseCurveSet:
    n = len(curves)
    factors = np.random.default_rng(0).uniform(0.5, 1.5, size=(n, n_draws, 3))
    draws = np.stack([curves.scale, curves.spend_scale, curves.shape], axis=1)[:, None, :] * factors
    draws[..., 2] = np.minimum(draws[..., 2], 1.0)
    draws[curves.family != CurveFamily.HILL, :, 2] = 1.0
    return ResponseCurveSet(
        campaign_ids=np.arange(n).astype(str).astype(object),
        groups=np.full(n, "all"),
        curves=curves,
        draws=draws,
        half_saturation_interval=np.zeros((n, 2)),
        stats=pd.DataFrame(index=range(n)),
    )


def test_posterior_conversions_evaluates_each_draw():
    curves = mixed_curves()
    fitted = fitted_with_draws(curves)
    spend = np.linspace(10.0, 3000.0, len(curves))
    values = posterior_conversions(fitted, spend)
    for d in range(fitted.n_draws):
        draws = fitted.draws[:, d]
        expected = ResponseCurves.build(curves.family, draws[:, 0], draws[:, 1], draws[:, 2]).value(spend)
        np.testing.assert_allclose(values[:, d], expected, rtol=1e-12)


def test_a_thompson_sample_is_one_stored_draw_per_campaign_and_a_valid_problem():
    fitted = fitted_with_draws(mixed_curves())
    sample = fitted.sample_curves(np.random.default_rng(3))
    params = np.column_stack([sample.scale, sample.spend_scale, sample.shape])
    for i in range(len(fitted)):
        assert any(np.array_equal(params[i], draw) for draw in fitted.draws[i])
    assert list(sample.family) == list(fitted.curves.family)
    n = len(sample)
    PortfolioProblem(
        total_budget=1000.0, current_budget=np.full(n, 100.0), curves=sample, value_per_conversion=np.ones(n)
    )
