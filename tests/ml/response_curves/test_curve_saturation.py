"""The curve families on spend grids: monotone, concave, saturation in [0, 1], and exact inverses."""

from __future__ import annotations

import numpy as np
import pytest

from ml.response_curves import CurveFamily, ResponseCurves

CURVES = ResponseCurves.build(
    family=["hill", "hill", "exponential", "log"],
    scale=[100.0, 40.0, 80.0, 30.0],
    spend_scale=[1000.0, 300.0, 500.0, 200.0],
    shape=[1.0, 0.6, 1.0, 1.0],
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
    bounded = CURVES.family != CurveFamily.LOG
    np.testing.assert_allclose(level[bounded], (CURVES.value(GRID) / CURVES.scale[:, None])[bounded])
    log_row = np.flatnonzero(CURVES.family == CurveFamily.LOG)[0]
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


def test_a_grid_of_spends_is_each_column_evaluated_alone():
    """(campaigns, points) spends, S-shaped Hill included: the same numbers as one column at a time."""
    curves = ResponseCurves.build(
        ["hill", "hill", "exponential", "log", "hill"], 50.0, 400.0, [1.0, 0.6, 1.0, 1.0, 2.5]
    )
    grid = np.tile(np.linspace(0.0, 3000.0, 25), (len(curves), 1))
    for method in ("value", "marginal", "saturation"):
        by_column = np.column_stack([getattr(curves, method)(grid[:, j]) for j in range(grid.shape[1])])
        np.testing.assert_array_equal(getattr(curves, method)(grid), by_column)
    assert curves.spend_at_saturation(np.full((5, 3), 0.5)).shape == (5, 3)
    assert curves.spend_at_marginal(0.01).shape == (5,)


def test_negative_spend_counts_as_none():
    np.testing.assert_array_equal(CURVES.value(np.full(4, -5.0)), np.zeros(4))


def test_rejects_unknown_family_and_mismatched_lengths():
    with pytest.raises(ValueError, match="unknown"):
        ResponseCurves.build(["sigmoid"], np.ones(1), np.ones(1), np.ones(1))
    with pytest.raises(ValueError, match="broadcast"):
        ResponseCurves.build(["hill"], np.ones(2), np.ones(3), np.ones(1))
