"""From a fitted media-mix model to budgets per channel through the project's one exact optimiser (ml/optimize).

A channel's steady-state curve is the outcome per period if it spent s every period: adstock settles at s times
the long-run multiplier (1 / (1 - decay), or the Weibull weights' sum), so the Hill curve's half-saturation in spend
per period is the adstock-scale one over that multiplier -- exactly what the fit's parameterisation reports.
Those curves go to ``optimize_portfolio`` as ``ResponseCurves.hill`` with the same change limit, bounds and
objective as campaign allocations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.models.mmm.result import MmmResult
from ml.optimize import Allocation, PortfolioProblem, optimize_portfolio
from ml.optimize.problem import DEFAULT_MAX_CHANGE_PCT
from ml.response_curves import ResponseCurves

RECENT_PERIODS = 4  # the current budget: mean spend over the last 4 periods (a month of weeks)


def steady_state_curves(
    result: MmmResult, theta: np.ndarray | None = None, effect: np.ndarray | None = None
) -> ResponseCurves:
    """Outcome per period against constant spend per period, one Hill curve per channel (point fit by default)."""
    theta = result.point.theta if theta is None else theta
    effect = result.point.effect if effect is None else effect
    half_saturation, shape, max_effect = result.natural(theta, effect)[-3:]
    return ResponseCurves.hill(np.maximum(max_effect, 1e-12), half_saturation, shape)


def current_spend(result: MmmResult, periods: int = RECENT_PERIODS) -> np.ndarray:
    """Each channel's mean spend per period over the last ``periods`` periods of the data."""
    return result.data.spend[-periods:].mean(axis=0)


@dataclass(frozen=True, eq=False)
class ChannelAllocation:
    """The optimiser's allocation over channels and the outcome interval at the recommendation (bootstrap)."""

    allocation: Allocation
    outcome_lower: np.ndarray
    outcome_upper: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """One row per channel: current and recommended spend per period, expected outcome and its interval."""
        frame = self.allocation.to_frame().rename(
            columns={"campaign_id": "channel", "daily_budget": "recommended", "conversions": "expected_outcome"}
        )
        frame.insert(frame.columns.get_loc("expected_outcome") + 1, "outcome_lower", self.outcome_lower)
        frame.insert(frame.columns.get_loc("outcome_lower") + 1, "outcome_upper", self.outcome_upper)
        return frame


def allocate_channels(
    result: MmmResult,
    total_budget: float | None = None,
    current: np.ndarray | None = None,
    *,
    max_change_pct: float = DEFAULT_MAX_CHANGE_PCT,
    min_spend: object = 0.0,
    max_spend: object = np.inf,
    objective: str = "profit",
    value_per_outcome: float = 1.0,
    **costs: float,
) -> ChannelAllocation:
    """Budgets per channel for one period; ``total_budget`` defaults to the current total (a reallocation).

    ``value_per_outcome`` is the money one unit of outcome is worth (1 when the outcome is sales revenue, a margin
    to optimise profit on it); ``costs`` are the optimiser's ``overhead_pct`` / ``agency_fee_pct`` if given.
    """
    current = current_spend(result) if current is None else np.asarray(current, float)
    total = float(current.sum()) if total_budget is None else float(total_budget)
    problem = PortfolioProblem(
        total_budget=total,
        current_budget=current,
        curves=steady_state_curves(result),
        value_per_conversion=value_per_outcome,
        campaign_id=np.array(result.channels),
        min_spend=min_spend,
        max_spend=max_spend,
        max_change_pct=max_change_pct,
        **costs,
    )
    allocation = optimize_portfolio(problem, objective)  # type: ignore[arg-type]
    draws = np.array(
        [
            steady_state_curves(result, t, e).value(allocation.daily_budget)
            for t, e in zip(result.draws.theta, result.draws.effect, strict=True)
        ]
    )
    tail = (1.0 - result.config.interval) / 2.0
    if len(draws):
        lower, upper = np.quantile(draws, tail, axis=0), np.quantile(draws, 1.0 - tail, axis=0)
    else:
        lower = upper = np.full(len(current), np.nan)
    return ChannelAllocation(allocation, lower, upper)
