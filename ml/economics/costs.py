"""Full cost accounting of a campaign-day (docs/contract.md §2), with every rate in one typed place."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel, Field


class CostConfig(BaseModel):
    """Rates that turn media spend into total cost; defaults follow docs/contract.md §2."""

    attribution_pct: float = Field(0.02, ge=0, description="Attribution platform fee per media dollar.")
    infrastructure_pct: float = Field(0.01, ge=0, description="Data/infrastructure cost per media dollar.")
    team_pct: float = Field(0.02, ge=0, description="Team cost per media dollar.")
    agency_fee_pct: float = Field(0.15, ge=0, description="Agency fee per media dollar where has_agency.")
    creative_amortisation_days: float = Field(30.0, gt=0, description="Days a creative's production cost spreads over.")

    @property
    def overhead_pct(self) -> float:
        """Variable overhead every campaign pays per media dollar (5% by default)."""
        return self.attribution_pct + self.infrastructure_pct + self.team_pct

    def cost_multiplier(self, has_agency: ArrayLike) -> np.ndarray:
        """Total variable cost per media dollar."""
        return 1.0 + self.overhead_pct + self.agency_fee_pct * np.asarray(has_agency, dtype=float)

    def daily_creative_cost(self, creative_production_cost: ArrayLike) -> np.ndarray:
        """Creative production amortised per day (paid only on days the campaign spends)."""
        return np.asarray(creative_production_cost, dtype=float) / self.creative_amortisation_days

    def breakdown(self, spend: ArrayLike, has_agency: ArrayLike, creative_production_cost: ArrayLike) -> dict:
        """Every cost line for a daily spend (broadcasting), and their total."""
        spend = np.asarray(spend, dtype=float)
        agency = np.asarray(has_agency, dtype=float)
        creative = np.asarray(creative_production_cost, dtype=float)
        if spend.ndim == 2:
            agency, creative = agency[:, None], creative[:, None]
        on = spend > 0
        lines = {
            "ad_spend": spend,
            "attribution_cost": spend * self.attribution_pct,
            "agency_fee": spend * self.agency_fee_pct * agency,
            "creative_cost": np.where(on, creative / self.creative_amortisation_days, 0.0),
            "infrastructure_cost": spend * self.infrastructure_pct,
            "team_cost": spend * self.team_pct,
        }
        lines["total_cost"] = sum(lines.values())
        return lines

    def total_cost(self, spend: ArrayLike, has_agency: ArrayLike, creative_production_cost: ArrayLike) -> np.ndarray:
        return self.breakdown(spend, has_agency, creative_production_cost)["total_cost"]


def unit_economics(
    spend: ArrayLike, conversions: ArrayLike, value_per_conversion: ArrayLike, total_cost: ArrayLike
) -> dict[str, np.ndarray]:
    """The chain LTV -> CPA -> ROAS -> ROI -> profit; ratios are NaN where their denominator is 0."""
    spend, conversions, total_cost = (np.asarray(x, dtype=float) for x in (spend, conversions, total_cost))
    value = np.asarray(value_per_conversion, dtype=float)
    if conversions.ndim == 2 and value.ndim == 1:
        value = value[:, None]
    revenue = conversions * value
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "revenue": revenue,
            "cpa": np.where(conversions > 0, spend / conversions, np.nan),
            "roas": np.where(spend > 0, revenue / spend, np.nan),
            "roi": np.where(total_cost > 0, (revenue - total_cost) / total_cost, np.nan),
            "profit": revenue - total_cost,
        }
