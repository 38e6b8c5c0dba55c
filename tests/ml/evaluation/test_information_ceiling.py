"""The information ceiling: its prior is the generator's, its posterior learns from the history, its split is legal."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.evaluation.information_ceiling import ceiling_split, log_k_prior_draws, posterior_on_grid
from ml.evaluation.oracle import solve_exact, violations
from ml.evaluation.unowned import Scenario, draw_scenario


def _true_log_k(data) -> np.ndarray:
    return np.log(data.truth.k / data.hidden.current)


def test_prior_draws_are_the_generators_own():
    """Each campaign's true log(k / today) is one draw of the same law: its rank among the prior draws is uniform."""
    data = draw_scenario(Scenario("mixed", 21, 200, seed=11, spread=0.8))
    draws = log_k_prior_draws(data, np.random.default_rng(0), draws=4000)
    rank = (draws < _true_log_k(data)[:, None]).mean(axis=1)
    assert 0.7 <= np.mean((rank > 0.1) & (rank < 0.9)) <= 0.9  # 80% nominal, 200 campaigns
    assert abs(np.mean(rank) - 0.5) < 0.07


def test_posterior_learns_from_a_long_history_and_covers_the_truth():
    """180 days of spend moves: the posterior is nearer the truth than the prior (a log curve's k stays loosely
    pinned: its curvature changes slowly), and its 90% interval covers the truth about as often as it says."""
    data = draw_scenario(Scenario("log", 180, 40, seed=12, spread=0.8))
    k, _, weights = posterior_on_grid(data, np.random.default_rng(0))
    log_k, truth = np.log(k / data.hidden.current[:, None]), _true_log_k(data)
    prior = log_k_prior_draws(data, np.random.default_rng(1), draws=4000)
    posterior_error = np.abs((weights * log_k).sum(axis=1) - truth)
    prior_error = np.abs(prior.mean(axis=1) - truth)
    assert np.median(posterior_error) < 0.7 * np.median(prior_error)
    cdf = np.cumsum(weights, axis=1)
    low = log_k[np.arange(len(k)), np.argmax(cdf >= 0.05, axis=1)]
    high = log_k[np.arange(len(k)), np.argmax(cdf >= 0.95, axis=1)]
    assert np.mean((truth >= low) & (truth <= high)) >= 0.8


def test_ceiling_split_keeps_the_constraints_and_nears_the_oracle_on_a_long_history():
    data = draw_scenario(Scenario("exponential", 180, 30, seed=13, spread=0.8))
    bounds = data.today_bounds()
    split = ceiling_split(data, bounds)
    assert violations(split, bounds, "ceiling") == []
    today = data.true_profit(bounds.current).sum()
    oracle = data.true_profit(solve_exact(data.true_profit, bounds)).sum()
    assert (data.true_profit(split).sum() - today) / (oracle - today) > 0.9


def test_profit_with_the_truths_conversions_is_the_true_profit():
    data = draw_scenario(Scenario("threshold", 21, 30, seed=14, spread=0.35))
    spend = pd.DataFrame(np.outer(data.hidden.current, [0.5, 1.0, 1.7])).to_numpy()
    np.testing.assert_allclose(data.profit(spend, data.truth.value), data.true_profit(spend))
