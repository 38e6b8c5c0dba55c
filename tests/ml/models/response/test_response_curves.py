"""The curve families themselves: monotone, concave, saturation in [0, 1], and exact inverses."""

from __future__ import annotations

import numpy as np
import pytest

from ml.models.response.curves import (
    CurveParameters,
    marginal_response,
    response,
    saturation_level,
    spend_at_marginal,
    spend_at_saturation,
)

CURVES = CurveParameters(
    family=np.array(["hill", "hill", "exponential", "log"], dtype=object),
    scale=np.array([100.0, 40.0, 80.0, 30.0]),
    k=np.array([1000.0, 300.0, 500.0, 200.0]),
    shape=np.array([1.0, 0.6, 1.0, 1.0]),
)
GRID = np.tile(np.linspace(1.0, 6000.0, 400), (len(CURVES), 1))


def test_values_match_the_documented_formulas():
    s = np.array([500.0, 300.0, 500.0, 200.0])
    expected = [100 * 0.5 / 1.5, 40 * 0.5, 80 * (1 - np.exp(-1)), 30 * np.log(2)]
    np.testing.assert_allclose(CURVES.value(s), expected)
    assert np.all(CURVES.value(np.zeros(4)) == 0)


def test_monotone_and_concave_on_a_grid():
    values = CURVES.value(GRID)
    slopes = np.diff(values, axis=1)
    assert np.all(slopes > 0)
    assert np.all(np.diff(slopes, axis=1) < 1e-9)
    marginal = CURVES.marginal(GRID)
    assert np.all(marginal > 0) and np.all(np.diff(marginal, axis=1) < 0)


def test_marginal_is_the_derivative():
    h = 1e-3
    numeric = (CURVES.value(GRID + h) - CURVES.value(GRID - h)) / (2 * h)
    np.testing.assert_allclose(CURVES.marginal(GRID), numeric, rtol=1e-5)


def test_saturation_in_unit_interval_and_increasing():
    level = CURVES.saturation(GRID)
    assert np.all((level >= 0) & (level <= 1))
    assert np.all(np.diff(level, axis=1) > 0)
    # Bounded families: the share of the maximum; log: the share of the initial efficiency lost.
    bounded = CURVES.family != "log"
    np.testing.assert_allclose(level[bounded], (CURVES.value(GRID) / CURVES.scale[:, None])[bounded])
    log_row = np.flatnonzero(CURVES.family == "log")[0]
    np.testing.assert_allclose(level[log_row], 1 - CURVES.marginal(GRID)[log_row] / (30.0 / 200.0))


@pytest.mark.parametrize("level", [0.1, 0.5, 0.8, 0.95])
def test_spend_at_saturation_inverts_saturation(level):
    spend = CURVES.spend_at_saturation(np.full(len(CURVES), level))
    np.testing.assert_allclose(CURVES.saturation(spend), level, rtol=1e-10)


def test_half_saturation_spend_per_family():
    np.testing.assert_allclose(CURVES.half_saturation_spend, [1000.0, 300.0, 500.0 * np.log(2), 200.0])


@pytest.mark.parametrize("target", [0.001, 0.01, 0.05])
def test_spend_at_marginal_inverts_marginal(target):
    spend = CURVES.spend_at_marginal(np.full(len(CURVES), target))
    reachable = spend > 0
    np.testing.assert_allclose(CURVES.marginal(spend)[reachable], target, rtol=1e-6)
    # Where the first dollar already buys less than the target, the answer is zero spend.
    assert np.all(CURVES.marginal(np.zeros(4))[~reachable] <= target)


def test_function_api_broadcasts_mixed_families():
    fam, scale, k, shape = CURVES.family, CURVES.scale, CURVES.k, CURVES.shape
    np.testing.assert_allclose(response(fam, scale, k, shape, GRID), CURVES.value(GRID))
    np.testing.assert_allclose(marginal_response(fam, scale, k, shape, GRID[:, 10]), CURVES.marginal(GRID[:, 10]))
    assert saturation_level(fam, k, shape, GRID).shape == GRID.shape
    assert spend_at_saturation(fam, k, shape, np.full((4, 3), 0.5)).shape == (4, 3)
    assert spend_at_marginal(fam, scale, k, shape, 0.01).shape == (4,)


def test_rejects_unknown_family_and_bad_shapes():
    with pytest.raises(ValueError, match="unknown"):
        CurveParameters(np.array(["sigmoid"]), np.ones(1), np.ones(1), np.ones(1))
    with pytest.raises(ValueError, match="shape"):
        CurveParameters(np.array(["hill"]), np.ones(2), np.ones(1), np.ones(1))
