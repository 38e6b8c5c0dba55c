"""What-if scenarios per campaign (five named ones), and target efficiency: the least spend meeting a target.

Users at a spend come from the fitted curve; a CPA adjustment scales the users bought (CPA x (1 + a) means
users / (1 + a)), an LTV adjustment scales value per user, and costs follow the full cost accounting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.allocation.config import AllocationConfig
from ml.allocation.engine import build_problem
from ml.allocation.inputs import AllocationInputs
from ml.economics.costs import unit_economics

# name -> (budget multiplier, LTV adjustment, CPA adjustment).
SCENARIOS: dict[str, tuple[float, float, float]] = {
    "baseline": (1.0, 0.0, 0.0),
    "optimistic": (1.5, 0.10, -0.10),
    "pessimistic": (0.8, -0.15, 0.20),
    "over_scaled": (3.0, 0.0, 0.0),
    "conservative": (0.5, 0.0, -0.05),
}


def scenario_table(inputs: AllocationInputs, config: AllocationConfig) -> pd.DataFrame:
    """One row per campaign x scenario: budget, CPA, users, LTV, revenue, cost, profit, ROI."""
    problem = build_problem(inputs, config)
    ids = inputs.campaigns["campaign_id"].to_numpy()
    frames = []
    for name, (budget_mult, ltv_adj, cpa_adj) in SCENARIOS.items():
        budget = inputs.current * budget_mult
        users = problem.curves.value(budget) / (1.0 + cpa_adj)
        ltv = problem.value_per_conversion * (1.0 + ltv_adj)
        cost = config.costs.total_cost(budget, problem.has_agency, problem.creative_production_cost)
        econ = unit_economics(budget, users, ltv, cost)
        frames.append(
            pd.DataFrame(
                {
                    "campaign_id": ids,
                    "scenario": name,
                    "budget_multiplier": budget_mult,
                    "ltv_adjustment": ltv_adj,
                    "cpa_adjustment": cpa_adj,
                    "budget": budget,
                    "cpa": econ["cpa"],
                    "users": users,
                    "ltv": ltv,
                    "revenue": econ["revenue"],
                    "total_cost": cost,
                    "profit": econ["profit"],
                    "roi": econ["roi"],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def target_efficiency_spend(
    inputs: AllocationInputs,
    config: AllocationConfig,
    target_roas: float | None = None,
    target_cpa: float | None = None,
) -> pd.DataFrame:
    """Per campaign, the largest spend whose average ROAS (or CPA) still meets the target.

    Average ROAS falls and average CPA rises with spend on a concave curve, so the feasible spends form an
    interval [0, s*]; s* is found by bisection on all campaigns at once (vectorised).
    """
    if (target_roas is None) == (target_cpa is None):
        raise ValueError("give exactly one of target_roas or target_cpa")
    problem = build_problem(inputs, config)
    value = problem.value_per_conversion

    def meets(spend: np.ndarray) -> np.ndarray:
        users = problem.curves.value(spend)
        if target_roas is not None:
            return users * value >= target_roas * spend
        return spend <= target_cpa * users

    low = np.zeros(problem.n_campaigns)
    high = np.maximum(inputs.current, 1.0) * 64.0
    achievable = meets(np.full(problem.n_campaigns, 1e-6))
    for _ in range(60):
        mid = 0.5 * (low + high)
        ok = meets(mid)
        low, high = np.where(ok, mid, low), np.where(ok, high, mid)
    spend = np.where(achievable, low, 0.0)
    users = problem.curves.value(spend)
    return pd.DataFrame(
        {
            "campaign_id": inputs.campaigns["campaign_id"].to_numpy(),
            "max_spend_meeting_target": spend,
            "users": users,
            "revenue": users * value,
            "achievable": achievable,
        }
    )
