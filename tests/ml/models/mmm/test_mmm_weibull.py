"""Weibull adstock: the transform's identities, and recovery of a known Weibull carry-over from synthetic data."""

from __future__ import annotations

import numpy as np
import pytest

from ml.models.mmm import MmmConfig, fit_mmm
from ml.models.mmm.allocation import steady_state_curves
from ml.models.mmm.result import WEIBULL_PARAMETERS
from ml.models.mmm.synthetic import synthetic_weibull_media
from ml.models.mmm.transforms import adstocked_response, long_run_multiplier, weibull_adstock, weibull_weights

SEEDS = (0, 1)  # looked at once while writing the option; the benchmark's held-out seeds are 5-9
CONFIG = MmmConfig(adstock="weibull", n_bootstrap=30, seed=0)


def test_weibull_weights_start_at_one_and_never_rise():
    weights = weibull_weights(np.array([0.5, 1.0, 3.0]), np.array([1.0, 2.0, 4.0]), 12)
    assert np.allclose(weights[:, 0], 1.0)
    assert (np.diff(weights, axis=1) <= 0).all()
    # shape > 1 holds the effect longer at first than shape < 1 with the same scale
    late, early = weibull_weights(np.array([3.0, 0.5]), np.array([3.0, 3.0]), 12)
    assert late[1] > early[1] and late[-1] < early[-1]


def test_weibull_adstock_is_the_lag_weighted_sum_of_spend():
    rng = np.random.default_rng(0)
    spend = rng.gamma(2.0, 5.0, size=(40, 2))
    shape, scale = np.array([0.8, 2.0]), np.array([1.5, 3.0])
    out = weibull_adstock(spend, shape, scale, 6)
    weights = weibull_weights(shape, scale, 6)
    t = 25
    for c in range(2):
        assert out[t, c] == pytest.approx(np.sum(weights[c] * spend[t - np.arange(6), c]))
    constant = np.full((30, 2), 7.0)  # a constant spend sits at spend x long-run multiplier from the start
    np.testing.assert_allclose(weibull_adstock(constant, shape, scale, 6), np.tile(7.0 * weights.sum(axis=1), (30, 1)))
    np.testing.assert_allclose(long_run_multiplier("weibull", np.stack([shape, scale]), 6), weights.sum(axis=1))


@pytest.fixture(scope="module")
def weibull_fits():
    """(truth, result) per seed: Weibull-adstock data fitted with the Weibull option."""
    fits = []
    for seed in SEEDS:
        data, truth = synthetic_weibull_media(seed)
        fits.append((data, truth, fit_mmm(data, CONFIG)))
    return fits


def test_weibull_parameters_are_recovered_inside_their_intervals(weibull_fits):
    inside = []
    for data, truth, result in weibull_fits:
        table = result.parameters()
        assert tuple(table["parameter"].unique()) == WEIBULL_PARAMETERS
        true = truth.as_array()
        for c, channel in enumerate(data.channels):
            for i, name in enumerate(WEIBULL_PARAMETERS):
                row = table[(table.channel == channel) & (table.parameter == name)].iloc[0]
                inside.append(row.lower <= true[i, c] <= row.upper)
    assert len(inside) == 30
    assert np.mean(inside) >= 0.7  # 90% intervals from 30 refits; the benchmark measures 5 held-out seeds


def test_weibull_lag_profile_is_recovered(weibull_fits):
    """The fitted carry-over's mean lag (weights as a distribution over lags) is within a week of the truth."""
    lags = np.arange(CONFIG.weibull_max_lag)
    for _, truth, result in weibull_fits:
        est = result.natural(result.point.theta, result.point.effect)
        fitted = weibull_weights(est[0], est[1], CONFIG.weibull_max_lag)
        true = weibull_weights(truth.adstock_shape, truth.adstock_scale, CONFIG.weibull_max_lag)
        mean_lag = lambda w: (w * lags).sum(axis=1) / w.sum(axis=1)  # noqa: E731
        assert np.abs(mean_lag(fitted) - mean_lag(true)).max() < 1.0


def test_steady_state_curve_matches_a_long_constant_spend(weibull_fits):
    """The allocator's curve equals the modelled outcome of spending s every period (Weibull long-run multiplier)."""
    data, _, result = weibull_fits[0]
    spend = np.array([0.5, 1.0, 2.0]) * data.spend.mean(axis=0)
    adstock, half, shape, effect = np.split(result.natural(result.point.theta, result.point.effect), [2, 3, 4])
    simulated = (
        adstocked_response(np.tile(spend, (60, 1)), "weibull", adstock, half[0], shape[0], CONFIG.weibull_max_lag)[-1]
        * effect[0]
    )
    np.testing.assert_allclose(steady_state_curves(result).value(spend), simulated, rtol=1e-9)
