"""The simulator against its own ground truth: saturation, user value, and the live loop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.simulation import SimulationConfig
from ml.simulation.delivery import DayContext, simulate_hours
from ml.simulation.portfolio import draw_portfolio, expected_daily_conversions
from ml.simulation.users import draw_users_and_events


def neutral_context(n_campaigns: int, budgets: np.ndarray) -> DayContext:
    """A world with no market, weekday, fatigue or trend effects, so only spend moves the outcome."""
    days = budgets.shape[1]
    ones = np.ones((n_campaigns, days))
    return DayContext(
        daily_budget=budgets,
        days_since_launch=np.zeros((n_campaigns, days), dtype=np.int64),
        market={
            k: ones
            for k in ("cpm_index", "competition_index", "seasonality_index", "economic_index", "sentiment_index")
        },
        day_of_week=np.full(days, 2),  # Wednesday: factor close to 1
        years_since_start=np.zeros(days),
    )


def test_marginal_cpa_rises_with_spend():
    """Doubling spend buys fewer extra conversions each time: measured in simulated outcomes, not in the formula."""
    config = SimulationConfig(n_campaigns=8, seed=5)
    truth = draw_portfolio(config).truth.assign(fatigue_max=0.0)
    rng = np.random.default_rng(0)
    levels = np.array([0.25, 0.5, 1.0, 2.0, 4.0])
    conversions, spend = [], []
    for level in levels:
        budgets = np.repeat((truth["half_saturation_spend"].to_numpy() * level)[:, None], 60, axis=1)
        cells = simulate_hours(config, truth, neutral_context(len(truth), budgets), np.arange(24), rng)
        conversions.append(cells["conversions"].sum(axis=(1, 2)))
        spend.append(cells["spend"].sum(axis=(1, 2)))
    conversions, spend = np.array(conversions), np.array(spend)
    marginal_cpa = np.diff(spend, axis=0) / np.diff(conversions, axis=0)
    assert (np.diff(marginal_cpa, axis=0) > 0).all(), marginal_cpa
    # and the simulated volume matches the true Hill curve at every level (DOW factor aside)
    for i, level in enumerate(levels):
        expected = 60 * 0.97 * expected_daily_conversions(truth, truth["half_saturation_spend"] * level)
        np.testing.assert_allclose(conversions[i], expected, rtol=0.08)


@pytest.mark.parametrize("seed", [1, 2])
def test_payer_share_and_value_match_truth(seed):
    """Payer share and mean 180-day value per user agree with the configured truth within sampling error."""
    config = SimulationConfig(n_campaigns=4, seed=seed)
    truth = draw_portfolio(config).truth
    rng = np.random.default_rng(seed)
    n_per_campaign = 60_000
    users = draw_users_and_events(
        truth, np.arange(4), np.zeros(4, dtype=np.int64), np.full(4, n_per_campaign), config.revenue_horizon_days, rng
    )
    value = np.bincount(users.event_user, weights=users.event_revenue / 100.0, minlength=len(users.user_seq))
    frame = pd.DataFrame({"campaign": users.user_campaign, "payer": users.is_payer, "value": value})
    stats = frame.groupby("campaign").agg(payer=("payer", "mean"), value=("value", "mean"), sd=("value", "std"))
    share = truth["payer_share"].to_numpy()
    share_se = np.sqrt(share * (1 - share) / n_per_campaign)
    assert (np.abs(stats["payer"].to_numpy() - share) < 4 * share_se).all()
    value_se = stats["sd"].to_numpy() / np.sqrt(n_per_campaign)
    assert (np.abs(stats["value"].to_numpy() - truth["expected_value_per_user"].to_numpy()) < 4 * value_se).all()
    # payers always have revenue, non-payers never
    assert ((value > 0) == users.is_payer).all()


def test_value_curve_accrues_over_time():
    """Early revenue is a fraction of the 180-day value: day-7 < day-30 < day-180 on average."""
    config = SimulationConfig(n_campaigns=2, seed=9)
    truth = draw_portfolio(config).truth
    users = draw_users_and_events(
        truth, np.arange(2), np.zeros(2, dtype=np.int64), np.full(2, 20_000), 180, np.random.default_rng(1)
    )
    age_days = (users.event_s - users.install_s[users.event_user]) / 86_400
    totals = [users.event_revenue[age_days < d].sum() for d in (1, 7, 30, 90, 180)]
    assert all(a < b for a, b in zip(totals, totals[1:], strict=False))
    assert totals[0] > 0.05 * totals[-1]  # a day-0 burst exists
