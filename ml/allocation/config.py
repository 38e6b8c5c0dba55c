"""Typed settings of an allocation run, with defaults that run."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ml.allocation.gate import BudgetRules
from ml.economics.costs import CostConfig
from ml.optimize.objective import ObjectiveName

# The gate's rules hold the safety net's defaults (max_change_pct from ml/optimize/problem.py); this config and
# the Dagster run config take them from there rather than repeating the numbers.
_RULES = BudgetRules()


class AllocationConfig(BaseModel):
    """Budget, safety net, exploration and risk limits of one allocation run."""

    total_budget: float | None = Field(
        None, gt=0, description="Daily portfolio budget; default: the total in force at the period's start."
    )
    objective: ObjectiveName = "profit"
    max_change_pct: float = Field(
        _RULES.max_change_pct,
        ge=0,
        description="Safety net: max move of any budget within a period, "
        "against the budget in force at the period's start (any number of runs).",
    )
    min_change: float = Field(
        _RULES.min_change,
        ge=0,
        description="Absolute floor of the period's change limit (a minimum test "
        "budget), so a campaign at budget 0 can be launched or relaunched.",
    )
    period_hours: int = Field(
        _RULES.period_hours, ge=1, description="Length of the period the change limit applies to (1 day)."
    )
    min_budget: float = Field(_RULES.min_budget, ge=0, description="Floor of every campaign's daily budget.")
    exploration_share: float = Field(0.05, ge=0, le=1, description="Max budget share Thompson sampling may move.")
    exploration_cost_share: float | None = Field(
        0.002,
        ge=0,
        description="Max expected daily profit (share of the exploit allocation's, under the posterior "
        "mean over draws) that exploration may give up; None = only the budget-share cap.",
    )
    exploration_horizon_days: float = Field(
        30.0,
        ge=0,
        description="Days the information an exploration step buys is used for: its value (the posterior's "
        "expected value of perfect information, shrunk by one more day of data) over this horizon caps what "
        "exploration may cost (0: only steps the posterior says cost nothing).",
    )
    exploration_cost_draws: int = Field(50, ge=1, description="Posterior draws that price an exploration step.")
    n_simulations: int = Field(400, ge=10, description="Monte-Carlo draws when simulating a proposal.")
    risk_aversion: float = Field(
        0.0,
        ge=0,
        description="How much the decision rule discounts a move's posterior "
        "spread: it takes the share of the move maximising mean gain - risk_aversion x "
        "variance of gain / expected profit (0: expected profit under the posterior).",
    )
    decision_grid: int = Field(16, ge=1, description="Shares of the move the decision rule compares (1/16 steps).")
    seed: int = 0
    costs: CostConfig = Field(default_factory=CostConfig)

    def rules(self) -> BudgetRules:
        """The period limit and bounds the gate holds every change of this run to."""
        return BudgetRules(
            max_change_pct=self.max_change_pct,
            min_change=self.min_change,
            period_hours=self.period_hours,
            min_budget=self.min_budget,
        )
