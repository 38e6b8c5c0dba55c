"""The decision rule: how far to move from the budgets in force toward the proposal, by expected profit under the
posterior rather than on the point curves.

A point curve is one guess; the posterior says how sure it is. Along the segment from the feasible anchor (today's
budgets held to the period's limits and the total) to the proposal, the rule takes the point whose posterior mean
gain over the anchor, less ``risk_aversion`` x its variance, is highest. The gain grows with the move and the
variance with its square, so with risk aversion the chosen share shrinks as the draws disagree more; without
(the default) it is the expected-profit choice. Every point of the segment is feasible (both ends are).
"""

from __future__ import annotations

import numpy as np

from ml.allocation.config import AllocationConfig
from ml.allocation.inputs import AllocationInputs
from ml.models.response import ResponseCurveSet
from ml.response_curves import ResponseCurves


def conversion_draws(
    curves: ResponseCurveSet, campaign_ids: np.ndarray, price_index: np.ndarray, demand: np.ndarray | None, budget
) -> np.ndarray:
    """Expected daily conversions of each campaign at ``budget`` under every stored posterior draw: shape
    (campaigns, draws), re-priced by ``price_index`` and scaled by the day's ``demand`` as the optimiser's curves are.
    Vectorised: one flat array of campaigns x draws."""
    idx = curves.index_of(np.asarray(campaign_ids, dtype=object))
    draws = curves.draws[idx]  # (campaigns, draws, 3)
    price = np.asarray(price_index, float)[:, None]
    scale = np.ones((len(idx), 1)) if demand is None else np.asarray(demand, float)[:, None]
    shape2 = draws.shape[:2]
    family = np.repeat(curves.curves.family[idx], shape2[1])
    spend = np.repeat(np.asarray(budget, float), shape2[1])
    flat = [(draws[..., 0] * scale).ravel(), (draws[..., 1] * price).ravel(), draws[..., 2].ravel()]
    return ResponseCurves.build(family, *flat).value(spend).reshape(shape2)


def predictive_noise(
    curves: ResponseCurveSet, campaign_ids: np.ndarray, price_index: np.ndarray, demand: np.ndarray | None, budget
) -> tuple[np.ndarray, np.ndarray]:
    """What the model says about its own prediction error at ``budget``, for the drift rule
    (``ml/monitoring/drift.py``): the posterior sd of log expected conversions (the curve's uncertainty at that
    spend) and the fit's over-dispersion of daily counts (``dispersion``; 1 = Poisson where the fit has none)."""
    draws = conversion_draws(curves, campaign_ids, price_index, demand, budget)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_sd = np.nan_to_num(np.log(np.maximum(draws, 1e-12)).std(axis=1), nan=0.0)
    idx = curves.index_of(np.asarray(campaign_ids, dtype=object))
    stats = curves.stats
    dispersion = stats["dispersion"].to_numpy(float)[idx] if "dispersion" in stats else np.ones(len(idx))
    return log_sd, np.where(np.isfinite(dispersion), np.maximum(dispersion, 1.0), 1.0)


def posterior_profit(inputs: AllocationInputs, config: AllocationConfig, budget: np.ndarray) -> np.ndarray:
    """Portfolio daily profit of one budget split under every stored posterior draw: shape (draws,).

    Vectorised over campaigns and draws; curves are re-priced and demand-adjusted exactly as the optimiser's
    (``AllocationInputs.nominal_curves``).
    """
    from ml.allocation.engine import build_problem  # the engine imports this module

    problem = build_problem(inputs, config)
    conversions = conversion_draws(
        inputs.curves,
        inputs.campaigns["campaign_id"].to_numpy(),
        inputs.campaigns["price_index"].to_numpy(float),
        inputs.demand,
        budget,
    )
    revenue = conversions * problem.value_per_conversion[:, None]
    cost = budget * problem.cost_multiplier + np.where(budget > 0, problem.fixed_daily_cost, 0.0)
    return revenue.sum(axis=0) - cost.sum()


def move_weights(config: AllocationConfig) -> np.ndarray:
    """The shares of the move the rule compares: 0 (the anchor) to 1 (the proposal) in ``decision_grid`` steps."""
    return np.linspace(0.0, 1.0, config.decision_grid + 1)


def choose_move(
    inputs: AllocationInputs, config: AllocationConfig, anchor: np.ndarray, proposed: np.ndarray
) -> tuple[float, np.ndarray]:
    """The share of the move from ``anchor`` to ``proposed`` with the best risk-adjusted posterior gain, and the
    score of every share compared: posterior mean gain over the anchor minus ``risk_aversion`` x its variance
    over the anchor's expected profit (so ``risk_aversion`` is unit-free)."""
    base = posterior_profit(inputs, config, anchor)
    scale = max(abs(float(base.mean())), 1e-9)
    weights = move_weights(config)
    scores = np.empty(len(weights))
    for i, w in enumerate(weights):  # a few grid points; each is vectorised over campaigns and draws
        gain = posterior_profit(inputs, config, anchor + w * (proposed - anchor)) - base
        scores[i] = gain.mean() - config.risk_aversion * gain.var() / scale
    best = int(np.argmax(scores))  # ties go to the smaller move
    return float(weights[best]), scores
