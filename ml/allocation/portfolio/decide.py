"""The estimation-risk decision of `pmi allocate`: how far to move from today's budgets toward the optimiser's split.

The optimiser solves on the point curves. A young campaign's curve is a wide posterior, and a move that pays on
the point curve can lose in expectation over the draws (an S-shaped curve switched on or off, a saturation point
the data barely locate). The warehouse loop and the backtest decide with the expected profit under the posterior
(``ml.allocation.decision``); this applies the same rule to the export's curves, so the three paths decide alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.allocation.portfolio.problem import RunOptions
from ml.economics.costs import CostConfig
from ml.models.response import ResponseCurveSet


def posterior_share(
    settings: pd.DataFrame,
    fitted: ResponseCurveSet,
    options: RunOptions,
    anchor: np.ndarray,
    proposed: np.ndarray,
    budget: float,
) -> float:
    """Share (0..1) of the move from ``anchor`` (today's budgets held to the bounds) to ``proposed`` that maximises
    the posterior's expected profit (``AllocationConfig.risk_aversion`` 0); 1 where the rule does not apply (not the
    profit objective, no draws, or an anchor above the total, where the segment would leave the feasible set)."""
    if options.objective != "profit" or fitted.n_draws == 0 or anchor.sum() > budget * (1 + 1e-12) or budget <= 0:
        return 1.0
    from ml.allocation.config import AllocationConfig  # the warehouse package imports this one's curves
    from ml.allocation.decision import choose_move
    from ml.allocation.inputs import AllocationInputs

    rows = settings[settings["fitted"]]
    campaigns = pd.DataFrame(
        {
            "campaign_id": rows.index.to_numpy(dtype=object),
            "current_budget": rows["current_budget"].to_numpy(float),
            "price_index": 1.0,  # an export has no price index: curves are in nominal dollars
            "has_agency": rows["has_agency"].to_numpy(bool),
            "creative_production_cost": rows["creative_production_cost"].to_numpy(float),
        }
    )
    inputs = AllocationInputs(
        campaigns=campaigns,
        curves=fitted,
        value_per_conversion=rows["value_per_conversion"].to_numpy(float),
        model_versions={},
        as_of=pd.Timestamp.now(tz="UTC"),
    )
    costs = CostConfig(attribution_pct=options.overhead_pct, infrastructure_pct=0.0, team_pct=0.0)
    config = AllocationConfig(total_budget=budget, max_change_pct=options.max_change_pct, min_change=0.0, costs=costs)
    share, _ = choose_move(inputs, config, anchor, proposed)
    return share
