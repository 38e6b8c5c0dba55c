"""The response-model curves and the optimiser's curves must be the same functions after `optimizer_curves`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.allocation.portfolio.curves import optimizer_curves, posterior_conversions
from ml.models.response import CurveParameters, ResponseCurveSet
from ml.optimize import CurveFamily


def mixed_curves() -> CurveParameters:
    """Every family, Hill shapes from strongly concave to exactly 1, spend scales from tens to thousands."""
    return CurveParameters(
        family=np.array(["hill", "hill", "hill", "exponential", "log", "exponential", "log", "hill"], dtype=object),
        scale=np.array([120.0, 45.0, 300.0, 80.0, 25.0, 5.0, 300.0, 1.5]),
        k=np.array([1500.0, 200.0, 9000.0, 700.0, 50.0, 30.0, 4000.0, 12.0]),
        shape=np.array([0.55, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0, 0.995]),
    )


def test_values_and_marginals_are_identical_on_a_grid():
    fitted = mixed_curves()
    mapped = optimizer_curves(fitted)
    for spend in np.geomspace(0.5, 50_000.0, 60):
        s = np.full(len(fitted), spend)
        np.testing.assert_allclose(mapped.value(s), fitted.value(s), rtol=1e-12, atol=0)
        np.testing.assert_allclose(mapped.marginal(s), fitted.marginal(s), rtol=1e-10, atol=0)


def test_inverse_marginals_agree():
    fitted = mixed_curves()
    mapped = optimizer_curves(fitted)
    spend = np.array([800.0, 150.0, 4000.0, 500.0, 40.0, 12.0, 2500.0, 9.0])
    target = fitted.marginal(spend)
    np.testing.assert_allclose(mapped.spend_at_marginal(target), spend, rtol=1e-6)


def test_family_codes_and_shapes():
    mapped = optimizer_curves(mixed_curves())
    assert list(mapped.family[:5]) == [
        CurveFamily.HILL,
        CurveFamily.HILL,
        CurveFamily.HILL,
        CurveFamily.EXPONENTIAL,
        CurveFamily.LOG,
    ]
    assert np.all(mapped.shape[3:7] == 1.0) and mapped.shape[0] == pytest.approx(0.55)


def test_posterior_conversions_evaluates_each_draw():
    curves = mixed_curves()
    n = len(curves)
    rng = np.random.default_rng(0)
    factors = rng.uniform(0.5, 1.5, size=(n, 5, 3))
    draws = np.stack([curves.scale, curves.k, curves.shape], axis=1)[:, None, :] * factors
    draws[..., 2] = np.minimum(draws[..., 2], 1.0)
    draws[curves.family != "hill", :, 2] = 1.0
    fitted = ResponseCurveSet(
        campaign_ids=np.arange(n).astype(str).astype(object),
        groups=np.full(n, "all"),
        curves=curves,
        draws=draws,
        half_saturation_interval=np.zeros((n, 2)),
        stats=pd.DataFrame(index=range(n)),
    )
    spend = np.linspace(10.0, 3000.0, n)
    values = posterior_conversions(fitted, spend)
    for d in range(5):
        expected = CurveParameters(curves.family, draws[:, d, 0], draws[:, d, 1], draws[:, d, 2]).value(spend)
        np.testing.assert_allclose(values[:, d], expected, rtol=1e-12)
