"""The backtest report's reading of seed-to-seed noise: the paired interval of pmi - greedy over seeds."""

from __future__ import annotations

import numpy as np
import pytest

from ml.backtest.report import paired_interval


def test_paired_interval_matches_the_t_interval_by_hand():
    mean, se, low, high = paired_interval([1000.0, -500.0, 2000.0])
    sd = np.sqrt(((1000 - 2500 / 3) ** 2 + (-500 - 2500 / 3) ** 2 + (2000 - 2500 / 3) ** 2) / 2)
    assert mean == pytest.approx(2500 / 3)
    assert se == pytest.approx(sd / np.sqrt(3))
    assert high - mean == pytest.approx(4.302653 * sd / np.sqrt(3), rel=1e-6)  # t(0.975, 2 df)
    assert mean - low == pytest.approx(high - mean)


def test_one_seed_has_no_interval():
    mean, se, low, high = paired_interval([1234.0])
    assert mean == 1234.0 and np.isnan(se) and np.isnan(low) and np.isnan(high)


def test_the_95_interval_covers_the_true_mean_of_heavy_spread_differences_about_95_percent_of_the_time():
    rng = np.random.default_rng(11)
    true_mean = 500.0
    draws = true_mean + rng.normal(0.0, 5000.0, size=(4000, 10))  # ten seeds, spread like the backtest's
    covered = [low <= true_mean <= high for _, _, low, high in map(paired_interval, draws)]
    assert 0.935 <= np.mean(covered) <= 0.965
