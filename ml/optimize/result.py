"""The recommendation: per-campaign daily budgets with their expected outcome and why each stopped there.

Arrays rather than per-campaign objects, because portfolios run to a million campaigns; `to_frame()` gives
the tabular view for reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.optimize.constraints import CODE, Reason, SpendBox, reason_members, reason_texts
from ml.optimize.problem import PortfolioProblem
from ml.optimize.solver import ContinuousSolution

_AT_BOUND_RTOL = 1e-9


@dataclass(frozen=True, eq=False)
class Allocation:
    """Recommended daily budgets and expected outcomes per campaign, plus the budget's shadow price.

    `budget_multiplier` is lambda: objective gained per extra dollar of total budget (0 when the budget does
    not bind). `marginal_roas` is value per extra media dollar at the recommendation. Money columns are per
    day; `cost` includes overhead, agency fee and (while spending) the amortised creative cost.
    """

    objective: str
    objective_value: float
    total_budget: float
    budget_multiplier: float
    budget_binding: bool
    campaign_id: np.ndarray | None
    current_budget: np.ndarray
    daily_budget: np.ndarray
    conversions: np.ndarray
    revenue: np.ndarray
    cost: np.ndarray
    profit: np.ndarray
    marginal_roas: np.ndarray
    paused: np.ndarray
    reason_index: np.ndarray
    solver_evaluations: int

    @property
    def reason_code(self) -> np.ndarray:
        """Binding constraint (or driver) per campaign as `Reason` members."""
        return reason_members(self.reason_index)

    @property
    def reason(self) -> np.ndarray:
        """A short human explanation per campaign."""
        return reason_texts(self.reason_index)

    @property
    def total_spend(self) -> float:
        return float(self.daily_budget.sum())

    @property
    def total_profit(self) -> float:
        return float(self.profit.sum())

    @property
    def total_revenue(self) -> float:
        return float(self.revenue.sum())

    @property
    def total_conversions(self) -> float:
        return float(self.conversions.sum())

    def to_frame(self) -> pd.DataFrame:
        """One row per campaign, for reports and dashboards."""
        ids = self.campaign_id if self.campaign_id is not None else np.arange(self.daily_budget.size)
        return pd.DataFrame(
            {
                "campaign_id": ids,
                "current_budget": self.current_budget,
                "daily_budget": self.daily_budget,
                "change_pct": np.divide(
                    self.daily_budget - self.current_budget,
                    self.current_budget,
                    out=np.full(ids.size, np.nan),
                    where=self.current_budget > 0,
                ),
                "conversions": self.conversions,
                "revenue": self.revenue,
                "cost": self.cost,
                "profit": self.profit,
                "marginal_roas": self.marginal_roas,
                "paused": self.paused,
                "reason_code": pd.Categorical.from_codes(self.reason_index, categories=[r.value for r in Reason]),
                "reason": self.reason,
            }
        )


def reason_index(box: SpendBox, spend: np.ndarray, paused: np.ndarray, budget_binding: bool) -> np.ndarray:
    """Which rule stopped each campaign: override, pause, ceiling, floor, zero spend, else budget/optimum."""
    at_ceiling = np.isfinite(box.ceiling) & (spend >= box.ceiling * (1.0 - _AT_BOUND_RTOL))
    at_floor = (box.floor > 0) & (spend <= box.floor * (1.0 + _AT_BOUND_RTOL))
    interior = CODE[Reason.BUDGET] if budget_binding else CODE[Reason.PROFIT_OPTIMUM]
    return np.select(
        [box.override >= 0, paused, at_ceiling, at_floor, spend == 0.0],
        [
            box.override,
            np.int8(CODE[Reason.PAUSED_UNPROFITABLE]),
            box.ceiling_code,
            box.floor_code,
            np.int8(CODE[Reason.NO_SPEND]),
        ],
        default=interior,
    ).astype(np.int8)


def build_allocation(
    problem: PortfolioProblem,
    objective: str,
    objective_value: float,
    box: SpendBox,
    solution: ContinuousSolution,
    paused: np.ndarray,
) -> Allocation:
    """Evaluate the outcome of the recommended spends and attach reason codes."""
    spend = solution.spend
    conversions = problem.curves.value(spend)
    revenue = problem.value_per_conversion * conversions
    cost = spend * problem.cost_multiplier + np.where(spend > 0, problem.fixed_daily_cost, 0.0)
    value = problem.value_per_conversion
    with np.errstate(invalid="ignore"):  # worthless campaigns (value 0) at an infinite Hill slope
        marginal_roas = np.where(value > 0, value * problem.curves.marginal(spend), 0.0)
    return Allocation(
        objective=objective,
        objective_value=objective_value,
        total_budget=problem.total_budget,
        budget_multiplier=solution.multiplier,
        budget_binding=solution.budget_binding,
        campaign_id=problem.campaign_id,
        current_budget=problem.current_budget,
        daily_budget=spend,
        conversions=conversions,
        revenue=revenue,
        cost=cost,
        profit=revenue - cost,
        marginal_roas=marginal_roas,
        paused=paused,
        reason_index=reason_index(box, spend, paused, solution.budget_binding),
        solver_evaluations=solution.evaluations,
    )
