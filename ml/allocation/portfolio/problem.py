"""Per-campaign economics and rules of one `pmi allocate` run, and the optimiser problem built from them.

Everything a recommendation depends on besides the curves lives in one frame (one row per campaign), so the
report can explain each row from the same numbers the optimiser saw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.allocation.portfolio.history import CampaignHistory
from ml.economics.costs import CostConfig
from ml.io.errors import BadInputError
from ml.optimize import PortfolioProblem
from ml.optimize.problem import DEFAULT_MAX_CHANGE_PCT
from ml.response_curves import ResponseCurves

COSTS = CostConfig()  # agency fee and creative amortisation; overhead comes from --overhead-pct


@dataclass(frozen=True)
class RunOptions:
    """The command-line settings that shape the problem (all validated by the CLI)."""

    total_budget: float
    objective: str = "profit"
    max_change_pct: float = DEFAULT_MAX_CHANGE_PCT
    overhead_pct: float = COSTS.overhead_pct
    exploration: str = "none"
    seed: int = 0
    posterior_decision: bool = True  # move toward the optimum only as far as the posterior's expected profit says


def value_per_conversion(history: CampaignHistory) -> tuple[np.ndarray, np.ndarray]:
    """Revenue per conversion per campaign, and where that had to be the portfolio's pooled value instead.

    A campaign without conversions has no value of its own; the portfolio's revenue per conversion (over
    campaigns that converted) is the least surprising stand-in and is named in the row's reason.
    """
    totals = history.totals()
    converted = totals["conversions"].to_numpy() > 0
    if not converted.any():
        raise BadInputError(
            f"{history.path}: column conversions: no conversions anywhere in the history; "
            f"there is nothing to fit response curves on"
        )
    pooled = totals["revenue"].to_numpy()[converted].sum() / totals["conversions"].to_numpy()[converted].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        own = totals["revenue"].to_numpy() / totals["conversions"].to_numpy()
    return np.where(converted, own, pooled), ~converted


def campaign_settings(
    history: CampaignHistory,
    current: pd.Series,
    constraints: pd.DataFrame | None,
    options: RunOptions,
    fitted: np.ndarray,
) -> pd.DataFrame:
    """One row per campaign: current budget, value, costs and rules (constraint files win over defaults)."""
    ids = history.campaign_ids
    rules = constraints if constraints is not None else pd.DataFrame(index=pd.Index(ids, name="campaign_id"))
    rules = rules.reindex(ids)

    def rule(name: str, default: float | np.ndarray) -> np.ndarray:
        column = rules[name].to_numpy(float) if name in rules else np.full(len(ids), np.nan)
        return np.where(np.isnan(column), default, column)

    value, pooled = value_per_conversion(history)
    attributes = history.attributes.reindex(ids)
    frame = pd.DataFrame(
        {
            "current_budget": current.reindex(ids).to_numpy(float),
            "value_per_conversion": value,
            "value_pooled": pooled,
            "has_agency": rule("has_agency", attributes["has_agency"].to_numpy(float)) > 0,
            "creative_production_cost": rule(
                "creative_production_cost", attributes["creative_production_cost"].to_numpy(float)
            ),
            "min_spend": rule("min_budget", 0.0),
            "max_spend": rule("max_budget", np.inf),
            "max_change_pct": rule("max_change_pct", options.max_change_pct),
            "min_roas": rule("min_roas", 0.0),
            "max_cpa": rule("max_cpa", np.inf),
            "locked": rule("locked", 0.0) > 0,
            "fitted": fitted,
        },
        index=pd.Index(ids, name="campaign_id"),
    )
    return frame


def held_budgets(settings: pd.DataFrame) -> np.ndarray:
    """Budgets of campaigns without a curve: current, moved into min/max only as far as the change limit allows."""
    current, pct = settings["current_budget"].to_numpy(), settings["max_change_pct"].to_numpy()
    budget = np.clip(current, settings["min_spend"].to_numpy(), settings["max_spend"].to_numpy())
    with np.errstate(invalid="ignore"):
        low = np.where(np.isinf(pct), 0.0, current * np.maximum(1.0 - pct, 0.0))
        high = np.where(np.isinf(pct), np.inf, current * (1.0 + pct))
    return np.where(settings["locked"].to_numpy(), current, np.clip(budget, low, high))


def build_problem(
    settings: pd.DataFrame, curves: ResponseCurves, total_budget: float, overhead_pct: float
) -> PortfolioProblem:
    """The optimiser problem over the fitted campaigns (rows of `settings` where `fitted`, in order)."""
    rows = settings[settings["fitted"]]
    return PortfolioProblem(
        total_budget=total_budget,
        current_budget=rows["current_budget"].to_numpy(float),
        curves=curves,
        value_per_conversion=rows["value_per_conversion"].to_numpy(float),
        campaign_id=rows.index.to_numpy(dtype=object),
        has_agency=rows["has_agency"].to_numpy(bool),
        creative_production_cost=rows["creative_production_cost"].to_numpy(float),
        min_spend=rows["min_spend"].to_numpy(float),
        max_spend=rows["max_spend"].to_numpy(float),
        max_change_pct=rows["max_change_pct"].to_numpy(float),
        min_roas=rows["min_roas"].to_numpy(float),
        max_cpa=rows["max_cpa"].to_numpy(float),
        locked=rows["locked"].to_numpy(bool),
        overhead_pct=overhead_pct,
        agency_fee_pct=COSTS.agency_fee_pct,
        amortisation_days=COSTS.creative_amortisation_days,
    )


def daily_cost(settings: pd.DataFrame, spend: np.ndarray, overhead_pct: float) -> np.ndarray:
    """Total daily cost of a media spend: overhead, agency fee, and amortised creative while the campaign runs."""
    multiplier = 1.0 + overhead_pct + COSTS.agency_fee_pct * settings["has_agency"].to_numpy(float)
    creative = settings["creative_production_cost"].to_numpy(float) / COSTS.creative_amortisation_days
    return spend * multiplier + np.where(spend > 0, creative, 0.0)
