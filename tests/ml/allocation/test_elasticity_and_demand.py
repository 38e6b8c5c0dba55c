"""The competition elasticity comes from the pricing model's CPM fit (not the simulator's 0.8), and production
scales its curves by the demand of the day it allocates (weekday, season), as the backtest does."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ml.allocation.demand import day_covariates, demand_factor
from ml.models.response.panel import DEFAULT_COMPETITION_ELASTICITY, daily_panel, estimate_competition_elasticity
from ml.simulation import SimulationConfig
from ml.simulation.backfill import simulate_backfill


@pytest.fixture(scope="module")
def frames():
    return simulate_backfill(SimulationConfig(n_campaigns=12, days=120, seed=3, end_date=dt.date(2026, 6, 1)))


def test_the_panel_deflates_with_the_pricing_models_estimate_and_records_it(frames):
    raw = frames.raw
    panel = daily_panel(raw["campaign_hourly"], raw["campaigns"], raw["market_daily"])
    estimate = panel.attrs["competition_elasticity"]
    assert estimate == pytest.approx(0.8, abs=0.05)  # the simulator's truth, found by the CPM fit
    assert estimate != DEFAULT_COMPETITION_ELASTICITY
    keyed = panel.merge(raw["campaigns"][["campaign_id", "network", "geo"]], on="campaign_id")
    market = raw["market_daily"].assign(date=pd.to_datetime(raw["market_daily"]["date"]))
    keyed = keyed.merge(market, on=["date", "network", "geo"])
    np.testing.assert_allclose(keyed["price_index"], keyed["cpm_index"] * keyed["competition_index"] ** estimate)
    # without impressions (or a market feed) there is nothing to estimate on: the constant is the fallback
    assert estimate_competition_elasticity(keyed.drop(columns="impressions")) == DEFAULT_COMPETITION_ELASTICITY
    no_market = daily_panel(raw["campaign_hourly"])
    assert (no_market["price_index"] == 1.0).all()


def test_fitted_curves_keep_the_elasticity_they_were_deflated_with(frames):
    from ml.models.response import ResponseFitConfig, fit_response_curves

    raw = frames.raw
    panel = daily_panel(raw["campaign_hourly"], raw["campaigns"], raw["market_daily"], competition_elasticity=0.55)
    curves = fit_response_curves(panel, raw["campaigns"], ResponseFitConfig(n_draws=20))
    assert curves.hyperparameters["competition_elasticity"] == 0.55

    from ml.allocation.inputs import competition_elasticity

    assert competition_elasticity(None, curves) == 0.55  # the allocation re-prices with the same elasticity


def test_the_days_demand_scales_the_curves():
    campaigns = pd.DataFrame({"campaign_id": ["a", "b"], "network": ["n", "n"], "geo": ["g", "h"]})
    market = pd.DataFrame(
        {
            "network": ["n", "n"],
            "geo": ["g", "h"],
            "cpm_index": [1.0, 1.2],
            "competition_index": [1.0, 1.0],
            "seasonality_index": [1.3, 1.0],
            "economic_index": [1.0, 1.0],
            "sentiment_index": [1.0, 1.0],
        }
    )
    saturday = day_covariates(campaigns, market, weekday=5)
    assert saturday["weekday_5"].tolist() == [1.0, 1.0] and saturday["price_index"].tolist() == [1.0, 1.2]
    means = pd.DataFrame({"weekday_5": [1 / 7, 1 / 7], "log_seasonality_index": [0.0, 0.0]})
    factor = demand_factor({"weekday_5": -0.2, "log_seasonality_index": 1.0}, means, saturday)
    np.testing.assert_allclose(factor, np.exp(-0.2 * 6 / 7 + np.log([1.3, 1.0])))
    assert demand_factor({}, means, saturday).tolist() == [1.0, 1.0]


def test_production_predictions_and_the_allocation_use_the_days_demand():
    """The production path ignored the demand effects (up to +35%) the backtest used: now both scale the curves."""
    from test_allocation_engine import synthetic_inputs

    from ml.allocation.config import AllocationConfig
    from ml.allocation.engine import build_problem, propose
    from ml.allocation.run import recommendations

    inputs = synthetic_inputs(seed=4)
    config = AllocationConfig(exploration_share=0.0, max_change_pct=float("inf"))
    budget = inputs.campaigns["current_budget"].to_numpy()
    flat = build_problem(inputs, config).curves.value(budget)
    inputs.demand = np.full(len(budget), 1.35)
    np.testing.assert_allclose(build_problem(inputs, config).curves.value(budget), 1.35 * flat)
    proposal = propose(inputs, config)
    recs = recommendations(inputs, config, proposal, proposal.proposed_budget)
    expected = 1.35 * build_problem(inputs.__class__(**{**inputs.__dict__, "demand": None}), config).curves.value(
        proposal.proposed_budget
    )
    np.testing.assert_allclose(recs["expected_conversions"], expected)
