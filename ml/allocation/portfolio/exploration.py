"""Thompson-sampling exploration: nudge the proposal toward the allocation that is optimal under one posterior draw.

Each campaign's curve is drawn from its posterior (independently, seeded), the same problem is solved on the
drawn curves, and the proposal moves toward that solution - as far as moving at most `EXPLORATION_SHARE`
of the total budget allows. Campaigns whose curves are uncertain get drawn optimistic now and then, so the
portfolio keeps learning their curves instead of locking in today's point estimates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.models.response import ResponseCurveSet
from ml.optimize import PortfolioProblem, optimize_portfolio, spend_box

EXPLORATION_SHARE = 0.05
THOMPSON_DRAWS = 1  # one joint draw is plain Thompson sampling; more draws average toward the point estimate


@dataclass(frozen=True)
class Exploration:
    """The explored budgets, the shift from the proposal per campaign, and the blend weight used."""

    spend: np.ndarray
    shift: np.ndarray
    weight: float

    @property
    def moved(self) -> float:
        """Money moved by exploration: the larger of the total increases and the total decreases."""
        return money_moved(self.shift)


def money_moved(shift: np.ndarray) -> float:
    """Budget moved between campaigns by a change of budgets (increases and decreases need not balance)."""
    return float(max(shift[shift > 0].sum(), -shift[shift < 0].sum(), 0.0))


def thompson_exploration(
    problem: PortfolioProblem,
    proposal: np.ndarray,
    fitted: ResponseCurveSet,
    objective: str,
    rng: np.random.Generator,
    cap: float,
    draws: int = THOMPSON_DRAWS,
) -> Exploration:
    """Blend the proposal toward the Thompson solution(s), moving at most `cap` dollars, within every rule.

    The blend is clipped to the proposal's own spend box (limits, locks and the min_roas/max_cpa caps of the
    point curves), so exploration never breaks a constraint and never raises the total spend above the budget.
    """
    solutions = [
        optimize_portfolio(problem.replace(curves=fitted.sample_curves(rng)), objective).daily_budget
        for _ in range(draws)
    ]
    step = np.mean(solutions, axis=0) - proposal
    moved = money_moved(step)
    weight = 1.0 if moved <= cap else cap / moved
    box = spend_box(problem)
    spend = np.clip(proposal + weight * step, box.floor, box.ceiling)
    return Exploration(spend=spend, shift=spend - proposal, weight=weight)
