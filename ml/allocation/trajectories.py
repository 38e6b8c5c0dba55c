"""Spend trajectories: every campaign's predicted economics over a spend grid, its profit-maximising spend, and risk.

Values come from the fitted curve at each spend (not interpolation between a few points).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.allocation.config import AllocationConfig
from ml.allocation.engine import build_problem
from ml.allocation.inputs import AllocationInputs
from ml.economics.costs import unit_economics

SPEND_MULTIPLES = np.array([0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0])


def spend_trajectories(inputs: AllocationInputs, config: AllocationConfig) -> pd.DataFrame:
    """Long table: one row per campaign x spend level, with CPA, users, saturation, ROAS, ROI, profit, marginal ROAS."""
    problem = build_problem(inputs, config)
    current = np.maximum(inputs.current, 1.0)
    spend = current[:, None] * SPEND_MULTIPLES[None, :]
    # the optimiser's curves evaluate one spend per campaign: loop over the few grid columns, not campaigns
    users = np.column_stack([problem.curves.value(spend[:, j]) for j in range(len(SPEND_MULTIPLES))])
    cost = config.costs.total_cost(spend, problem.has_agency, problem.creative_production_cost)
    econ = unit_economics(spend, users, problem.value_per_conversion, cost)
    marginal = np.column_stack([problem.curves.marginal(spend[:, j]) for j in range(len(SPEND_MULTIPLES))])
    marginal_roas = marginal * problem.value_per_conversion[:, None]
    ids = inputs.campaigns["campaign_id"].to_numpy()
    price = inputs.campaigns["price_index"].to_numpy(float)[:, None]
    saturation = inputs.curves.saturation(ids, spend / price)
    n = len(SPEND_MULTIPLES)
    return pd.DataFrame(
        {
            "campaign_id": np.repeat(ids, n),
            "spend_multiple": np.tile(SPEND_MULTIPLES, len(ids)),
            "spend": spend.ravel(),
            "users": users.ravel(),
            "cpa": econ["cpa"].ravel(),
            "saturation_level": saturation.ravel(),
            "revenue": econ["revenue"].ravel(),
            "roas": econ["roas"].ravel(),
            "total_cost": cost.ravel(),
            "roi": econ["roi"].ravel(),
            "profit": econ["profit"].ravel(),
            "marginal_roas": marginal_roas.ravel(),
        }
    )


def optimal_spend(inputs: AllocationInputs, config: AllocationConfig) -> pd.DataFrame:
    """Each campaign's unconstrained profit-maximising daily spend, why, and its profit if LTV is 10% off."""
    problem = build_problem(inputs, config)
    value = problem.value_per_conversion
    # Profit peaks where value x marginal conversions = cost per extra media dollar.
    target = problem.cost_multiplier / np.maximum(value, 1e-12)
    best = np.where(value > 0, problem.curves.spend_at_marginal(target), 0.0)

    def profit_at(spend: np.ndarray, value_scale: float) -> np.ndarray:
        revenue = problem.curves.value(spend) * value * value_scale
        return revenue - config.costs.total_cost(spend, problem.has_agency, problem.creative_production_cost)

    profit = profit_at(best, 1.0)
    best = np.where(profit > 0, best, 0.0)
    reasoning = np.where(
        best > 0,
        [f"marginal ROAS falls to the cost of a media dollar ({m:.2f}) at this spend" for m in problem.cost_multiplier],
        "no spend level covers the creative and media costs at the predicted LTV: pause",
    )
    return pd.DataFrame(
        {
            "campaign_id": inputs.campaigns["campaign_id"].to_numpy(),
            "current_budget": inputs.current,
            "optimal_spend": best,
            "profit_at_optimal": profit_at(best, 1.0),
            "profit_if_ltv_10pct_lower": profit_at(best, 0.9),
            "profit_if_ltv_10pct_higher": profit_at(best, 1.1),
            "reasoning": reasoning,
        }
    )
