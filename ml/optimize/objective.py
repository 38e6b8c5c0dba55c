"""What the allocator maximises, reduced to per-campaign coefficients the KKT solver understands.

Every supported objective is `gain * conversions(s) - spend_cost * s - fixed` per campaign (fixed paid only
while the campaign spends), which keeps each campaign's problem concave and its optimum closed-form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ml.optimize.problem import PortfolioProblem
from ml.response_curves import ResponseCurves

ObjectiveName = Literal["profit", "revenue", "conversions"]


class ObjectiveWeights(BaseModel):
    """A weighted objective: profit, revenue and conversions weights plus a penalty per media dollar.

    The CAC/ROI weight is expressed as `spend_penalty`, a penalty per dollar of media spend (chosen over a
    penalty per conversion because a per-conversion penalty only rescales the conversions weight). A target
    CAC T becomes `conversions=1, spend_penalty=1/T` (each extra dollar must buy at least 1/T conversions at
    the margin); a target ROAS R becomes `revenue=1, spend_penalty=R`. Any positive profit weight lets money
    stay unspent where it loses money; without profit weight and penalty every allowed dollar is spent.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    profit: float = Field(0.0, ge=0, allow_inf_nan=False)
    revenue: float = Field(0.0, ge=0, allow_inf_nan=False)
    conversions: float = Field(0.0, ge=0, allow_inf_nan=False)
    spend_penalty: float = Field(0.0, ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _something_to_gain(self) -> ObjectiveWeights:
        if self.profit + self.revenue + self.conversions <= 0:
            raise ValueError("at least one of profit, revenue or conversions must have a positive weight")
        return self

    @classmethod
    def of(cls, objective: ObjectiveName | ObjectiveWeights) -> ObjectiveWeights:
        """Named objectives as weights: 'profit', 'revenue' or 'conversions'."""
        if isinstance(objective, ObjectiveWeights):
            return objective
        if objective not in ("profit", "revenue", "conversions"):
            raise ValueError(
                f"objective must be 'profit', 'revenue', 'conversions' or ObjectiveWeights, got {objective!r}"
            )
        return cls(**{objective: 1.0})

    @property
    def label(self) -> str:
        """'profit', 'revenue' or 'conversions' for the named objectives, else the non-zero weights."""
        weights = self.model_dump()
        for name in ("profit", "revenue", "conversions"):
            if weights == {**dict.fromkeys(weights, 0.0), name: 1.0}:
                return name
        return "weighted(" + ", ".join(f"{k}={v:g}" for k, v in weights.items() if v) + ")"


@dataclass(frozen=True, eq=False)
class Utility:
    """Per-campaign objective `gain * conversions(s) - spend_cost * s - fixed * [s > 0]`."""

    gain: np.ndarray
    spend_cost: np.ndarray
    fixed: np.ndarray

    def value(self, curves: ResponseCurves, spend: np.ndarray) -> np.ndarray:
        """Each campaign's contribution to the objective at `spend`."""
        running_cost = np.where(spend > 0, self.fixed, 0.0)
        return self.gain * curves.value(spend) - self.spend_cost * spend - running_cost

    def marginal(self, curves: ResponseCurves, spend: np.ndarray) -> np.ndarray:
        """Objective gained by one more dollar on each campaign (the KKT solver equalises it to lambda)."""
        return self.gain * curves.marginal(spend) - self.spend_cost


def utility(problem: PortfolioProblem, weights: ObjectiveWeights) -> Utility:
    """Coefficients of the weighted objective: value counts for profit and revenue, costs only for profit."""
    value = problem.value_per_conversion
    gain = (weights.profit + weights.revenue) * value + weights.conversions
    spend_cost = weights.profit * problem.cost_multiplier + weights.spend_penalty
    return Utility(
        gain=np.asarray(gain, dtype=float),
        spend_cost=np.asarray(spend_cost, dtype=float),
        fixed=weights.profit * problem.fixed_daily_cost,
    )
