"""Spend trajectories and what-if scenarios per channel for a channel-level home, as the campaign path has them.

The campaign path (``ml/allocation/trajectories.py``, ``scenarios.py``) evaluates each campaign's fitted response
curve over a grid of spend multiples; here the curve is the channel's steady-state media-mix curve
(``ml/models/mmm/allocation.py``: the outcome per period if the channel spent s every period), on the same grid and
the same scenarios, through the same ``unit_economics`` chain. A channel-level home has no campaign cost model (no
agency fees, creative costs or overhead per channel), so a channel's cost is its media spend, and the outcome is
valued at ``value_per_outcome`` per unit (1 when the outcome is sales revenue). The 90% interval of the outcome comes
from the bootstrap curves, as the allocation's does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.allocation.scenarios import SCENARIOS
from ml.allocation.trajectories import SPEND_MULTIPLES
from ml.economics.costs import unit_economics
from ml.models.mmm.allocation import steady_state_curves
from ml.models.mmm.result import MmmResult


def _grid_values(result: MmmResult, spend: np.ndarray, theta: np.ndarray | None, effect: np.ndarray | None):
    """Outcome and marginal outcome per period at each (channel, grid column) spend of one set of curves."""
    curves = steady_state_curves(result, theta, effect)
    # the curves evaluate one spend per channel: loop over the few grid columns, not the channels
    outcome = np.column_stack([curves.value(spend[:, j]) for j in range(spend.shape[1])])
    marginal = np.column_stack([curves.marginal(spend[:, j]) for j in range(spend.shape[1])])
    return outcome, marginal


def _interval(result: MmmResult, spend: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The outcome's bootstrap interval at each spend (NaN without bootstrap draws)."""
    draws = [_grid_values(result, spend, t, e)[0] for t, e in zip(result.draws.theta, result.draws.effect, strict=True)]
    if not draws:
        return np.full(spend.shape, np.nan), np.full(spend.shape, np.nan)
    tail = (1.0 - result.config.interval) / 2.0
    return np.quantile(draws, tail, axis=0), np.quantile(draws, 1.0 - tail, axis=0)


def channel_trajectories(result: MmmResult, current: np.ndarray, value_per_outcome: float = 1.0) -> pd.DataFrame:
    """Long table: one row per channel x spend multiple of ``current`` (spend per period), with the steady-state
    outcome and its interval, outcome per unit of spend (CPA's counterpart), ROAS, ROI, profit and marginal ROAS."""
    current = np.asarray(current, float)
    spend = current[:, None] * SPEND_MULTIPLES[None, :]
    outcome, marginal = _grid_values(result, spend, None, None)
    lower, upper = _interval(result, spend)
    econ = unit_economics(spend, outcome, np.full(len(current), value_per_outcome), spend)
    n = len(SPEND_MULTIPLES)
    return pd.DataFrame(
        {
            "channel": np.repeat(np.array(result.channels), n),
            "spend_multiple": np.tile(SPEND_MULTIPLES, len(current)),
            "spend": spend.ravel(),
            "outcome": outcome.ravel(),
            "outcome_lower": lower.ravel(),
            "outcome_upper": upper.ravel(),
            "cost_per_outcome": econ["cpa"].ravel(),
            "revenue": econ["revenue"].ravel(),
            "roas": econ["roas"].ravel(),
            "roi": econ["roi"].ravel(),
            "profit": econ["profit"].ravel(),
            "marginal_roas": (marginal * value_per_outcome).ravel(),
        }
    )


def channel_scenarios(result: MmmResult, current: np.ndarray, value_per_outcome: float = 1.0) -> pd.DataFrame:
    """One row per channel x scenario of the campaign path (``SCENARIOS``: budget multiple, value adjustment, cost
    per outcome adjustment -- cost per outcome x (1 + a) means outcome / (1 + a)), priced like the trajectories."""
    current = np.asarray(current, float)
    names = list(SCENARIOS)
    budget_mult, value_adj, cost_adj = (np.array(column, float) for column in zip(*SCENARIOS.values(), strict=True))
    spend = current[:, None] * budget_mult[None, :]
    outcome = _grid_values(result, spend, None, None)[0] / (1.0 + cost_adj[None, :])
    value = np.broadcast_to(value_per_outcome * (1.0 + value_adj)[None, :], spend.shape)  # per channel x scenario
    econ = unit_economics(spend, outcome, value, spend)
    k = len(names)
    return pd.DataFrame(
        {
            "channel": np.repeat(np.array(result.channels), k),
            "scenario": np.tile(names, len(current)),
            "budget_multiplier": np.tile(budget_mult, len(current)),
            "value_adjustment": np.tile(value_adj, len(current)),
            "cost_per_outcome_adjustment": np.tile(cost_adj, len(current)),
            "spend": spend.ravel(),
            "outcome": outcome.ravel(),
            "cost_per_outcome": econ["cpa"].ravel(),
            "revenue": econ["revenue"].ravel(),
            "roas": econ["roas"].ravel(),
            "roi": econ["roi"].ravel(),
            "profit": econ["profit"].ravel(),
        }
    )
