"""The backtest world: delivery under a budget cap, common random numbers, and value estimates from observed revenue."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.backtest import BacktestConfig
from ml.backtest.values import value_per_conversion
from ml.backtest.world import World


def world(**changes) -> World:
    return World(BacktestConfig(**({"days": 10, "n_campaigns": 8, "seed": 11} | changes)))


def test_delivery_never_exceeds_a_budget_and_replays_for_the_same_budgets():
    w = world(drift="none")
    budgets = w.static_budgets()
    offset = np.zeros(w.n, dtype=np.int64)
    first, again = w.deliver(2, budgets, offset), w.deliver(2, budgets, offset)
    assert (first.spend <= budgets + 1e-9).all() and first.spend.sum() > 0.9 * budgets.sum()
    np.testing.assert_array_equal(first.conversions, again.conversions)
    np.testing.assert_array_equal(first.revenue, again.revenue)
    np.testing.assert_array_equal(first.value_offset, first.conversions)
    doubled = w.deliver(2, 2 * budgets, offset)
    assert doubled.conversions.sum() > first.conversions.sum()


def test_expected_revenue_tracks_realised_revenue_without_its_noise():
    """The expected revenue of a day's spend (true curve x mean user value) is zero without spend, grows with it,
    and over the days matches what the delivered users were actually worth to within their value noise."""
    w = world(drift="none")
    budgets = w.static_budgets()
    assert (w.expected_revenue(0, np.zeros(w.n)) == 0).all()
    assert (w.expected_revenue(0, 2 * budgets) > w.expected_revenue(0, budgets))[budgets > 0].all()
    offset = np.zeros(w.n, dtype=np.int64)
    realised = expected = 0.0
    for day in range(w.config.days):
        outcome = w.deliver(day, budgets, offset)
        offset = outcome.value_offset
        realised += outcome.revenue.sum()
        expected += w.expected_revenue(day, outcome.spend).sum()
    assert 0.7 < realised / expected < 1.3


def test_audience_saturation_cuts_the_drifted_campaigns_conversions_from_the_drift_day():
    w = world(drift="audience_saturation")
    budgets = w.static_budgets()
    offset = np.zeros(w.n, dtype=np.int64)
    drifted = w.drifted
    before = w.true_curves(w.config.drift_day - 1)
    after = w.true_curves(w.config.drift_day)
    assert drifted.sum() == 1
    assert after[0][drifted] < 0.6 * before[0][drifted]
    np.testing.assert_allclose(after[1][~drifted] / before[1][~drifted], 1.0, rtol=0.2)  # market moves only
    assert (
        w.deliver(w.config.drift_day, budgets, offset).conversions[drifted]
        < 0.8 * w.deliver(w.config.drift_day - 1, budgets, offset).conversions[drifted]
    )


def test_cpm_shock_hits_one_network_and_not_the_published_feed():
    shocked, calm = world(drift="cpm_shock"), world(drift="none")
    day = shocked.config.drift_day
    network = shocked.campaigns["network"].to_numpy()[shocked.drifted]
    assert len(set(network)) == 1 and shocked.drifted.sum() >= 1
    ratio = shocked.true_curves(day)[1] / calm.true_curves(day)[1]
    np.testing.assert_allclose(ratio[shocked.drifted], 1 / shocked.config.drift_factor)
    np.testing.assert_allclose(ratio[~shocked.drifted], 1.0)
    pd.testing.assert_frame_equal(shocked.observed_market(day + 1), calm.observed_market(day + 1))


def test_value_per_conversion_from_observed_revenue_tracks_the_true_value():
    w = world(n_campaigns=12)
    raw = w.history.raw
    truth = w.truth["expected_value_per_user"].to_numpy()
    for min_age_days in (w.config.value_min_age_days, 0):  # 0: users of any age, most of them far from mature
        estimate = value_per_conversion(
            raw["users"],
            raw["revenue_events"],
            w.campaigns["campaign_id"].to_numpy(),
            pd.Timestamp(w.config.end_of_history),
            min_age_days,
        )
        assert np.median(np.abs(estimate / truth - 1)) < 0.12
        assert abs(np.median(estimate / truth - 1)) < 0.05  # revenue to date is scaled up to a full value
        assert np.corrcoef(estimate, truth)[0, 1] > 0.7
